//! The files of an artifact: what each kind renders ([`Artifact`]), and the shared read, write
//! and delete of those files under the project directory.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use std::sync::Arc;

use cmdeploy_engine::diagnostics::{Diagnostic, SourceFile};
use cmdeploy_engine::provider::{
    Applied, Context, Decoded, Observed, OpAction, Operation, ReadOutcome, ReadRequest, ReadResult,
    RemoteError,
};
use cmdeploy_engine::resource::ConnectionRef;
use cmdeploy_engine::spanned::Spanned;

/// The host name remote-style errors of artifacts carry: the machine cmdeploy runs on.
const LOCAL: &str = "local";

/// Where the content of one owned file comes from.
#[derive(Debug, Clone)]
pub enum FileSource {
    /// Rendered text (written with CRLF line ends for `.cmd`, `.bat`, `.ps1` and `.txt`).
    Text(String),
    /// A copy of a file, its path relative to the project directory.
    Copy(PathBuf),
}

/// What a kind renders: the artifact folder and its owned files, by relative name
/// (`/`-separated, e.g. `Client/x64/client.msi`).
#[derive(Debug, Clone)]
pub struct Artifact {
    /// The folder, as written in the manifest (relative to the project directory, or absolute).
    pub path: Spanned<String>,
    /// Owned files.
    pub files: BTreeMap<String, FileSource>,
}

impl Artifact {
    /// The decoded resource: attributes `path` and `files` (name → SHA-256), plus `extra`
    /// attributes; the sources in `meta` for apply; the local connection; `path` forces
    /// replacement (the old files are removed, the new ones written).
    ///
    /// # Errors
    /// A `cmdeploy::<kind>::source` diagnostic at `path` when a copied file cannot be read.
    pub fn decoded(
        self,
        file: &Arc<SourceFile>,
        project_dir: &Path,
        kind: &str,
        extra: Map<String, Value>,
    ) -> Result<Decoded, Vec<Diagnostic>> {
        let mut hashes = Map::new();
        let mut sources = Map::new();
        let mut errors = Vec::new();
        for (name, source) in &self.files {
            match source {
                FileSource::Text(text) => {
                    hashes.insert(name.clone(), json!(sha256(&text_bytes(name, text))));
                    sources.insert(name.clone(), json!({ "text": text }));
                }
                FileSource::Copy(from) => match std::fs::read(project_dir.join(from)) {
                    Ok(bytes) => {
                        hashes.insert(name.clone(), json!(sha256(&bytes)));
                        sources.insert(name.clone(), json!({ "copy": from }));
                    }
                    Err(e) => errors.push(
                        Diagnostic::error(
                            format!("cmdeploy::{kind}::source"),
                            format!("cannot read `{}`: {e}", from.display()),
                        )
                        .at_span(file, self.path.span.clone()),
                    ),
                },
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut attrs = extra;
        attrs.insert("path".into(), json!(self.path.value));
        attrs.insert("files".into(), Value::Object(hashes));
        let mut d = Decoded::new(attrs, ConnectionRef::Local, self.path.value.clone());
        d.meta.insert("sources".into(), Value::Object(sources));
        d.force_new.insert("path".into());
        d.attr_spans.insert("path".into(), self.path.span.clone());
        Ok(d)
    }
}

/// SHA-256 of bytes, lower-case hex.
pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The bytes written for rendered text: CRLF line ends for Windows scripts and text files.
fn text_bytes(name: &str, text: &str) -> Vec<u8> {
    let lower = name.to_ascii_lowercase();
    if [".cmd", ".bat", ".ps1", ".txt"]
        .iter()
        .any(|e| lower.ends_with(e))
    {
        text.replace("\r\n", "\n")
            .replace('\n', "\r\n")
            .into_bytes()
    } else {
        text.as_bytes().to_vec()
    }
}

fn attrs_of(r: &ReadRequest) -> Map<String, Value> {
    r.prior
        .as_ref()
        .map(|p| Map::clone(&p.attributes))
        .or_else(|| r.desired.as_ref().map(|d| Map::clone(&d.attrs)))
        .unwrap_or_default()
}

/// An artifact's id: its folder and the files it owns there (`C:\x\out [a.cmd, b.txt]`), so two
/// artifacts sharing a folder have distinct ids, as state requires of one object per id.
fn artifact_id(dir: &Path, attrs: &Map<String, Value>) -> String {
    format!("{} [{}]", dir.display(), owned_names(attrs).join(", "))
}

fn owned_names(attrs: &Map<String, Value>) -> Vec<String> {
    attrs
        .get("files")
        .and_then(Value::as_object)
        .map(|f| f.keys().cloned().collect())
        .unwrap_or_default()
}

fn folder(ctx: &Context, attrs: &Map<String, Value>) -> PathBuf {
    ctx.project_dir.join(
        attrs
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or_default(),
    )
}

/// Reads artifacts: each owned file's SHA-256 where it exists. Absent when none exists. The
/// folder read is the one of the last apply when there was one (so a moved `path` is a replace).
pub async fn read(ctx: &Context, requests: Vec<ReadRequest>) -> Vec<ReadResult> {
    requests
        .into_iter()
        .map(|r| {
            let attrs = attrs_of(&r);
            let dir = folder(ctx, &attrs);
            let mut found = Map::new();
            let mut failure = None;
            for name in owned_names(&attrs) {
                match std::fs::read(dir.join(&name)) {
                    Ok(bytes) => {
                        found.insert(name, json!(sha256(&bytes)));
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => failure = Some(local_error(&dir.join(&name), "read", &e)),
                }
            }
            let outcome = match failure {
                Some(e) => ReadOutcome::Failed(e),
                None if found.is_empty() => ReadOutcome::Absent,
                None => {
                    let mut observed = Map::new();
                    if let Some(p) = attrs.get("path") {
                        observed.insert("path".into(), p.clone());
                    }
                    for (k, v) in &attrs {
                        if k != "path" && k != "files" {
                            // Attributes derived from the files (e.g. the command line) are what
                            // the files say when every file is as written.
                            observed.insert(k.clone(), v.clone());
                        }
                    }
                    observed.insert("files".into(), Value::Object(found));
                    ReadOutcome::Present(Observed {
                        id: artifact_id(&dir, &attrs),
                        attrs: observed,
                        notes: Vec::new(),
                        private: Default::default(),
                    })
                }
            };
            ReadResult {
                address: r.address,
                outcome,
            }
        })
        .collect()
}

/// Applies an artifact: writes the owned files that differ, removes files it owned before and no
/// longer does; on delete, removes its files and then empty folders.
///
/// # Errors
/// An I/O failure naming the file, or a copied source that changed since the plan.
pub async fn apply(ctx: &Context, op: Operation) -> Result<Applied, RemoteError> {
    let prior = op
        .prior
        .as_ref()
        .map(|p| p.attributes.clone())
        .unwrap_or_default();
    let Some(desired) = op
        .desired
        .as_ref()
        .filter(|_| op.action != OpAction::Delete)
    else {
        let dir = folder(ctx, &prior);
        remove(&dir, &owned_names(&prior))?;
        return Ok(Applied {
            id: String::new(),
            attrs: Map::new(),
        });
    };
    let dir = folder(ctx, &desired.attrs);
    let want = desired
        .attrs
        .get("files")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let sources = desired
        .meta
        .get("sources")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (name, hash) in &want {
        let target = dir.join(name);
        if std::fs::read(&target).is_ok_and(|b| json!(sha256(&b)) == *hash) {
            continue;
        }
        let bytes = content(ctx, name, sources.get(name))?;
        if json!(sha256(&bytes)) != *hash {
            return Err(RemoteError::new(
                LOCAL,
                format!(
                    "{name}: its source changed since the plan was made; run plan again ({})",
                    op.address
                ),
            ));
        }
        write_atomic(&target, &bytes)?;
    }
    let gone: Vec<String> = owned_names(&prior)
        .into_iter()
        .filter(|n| !want.contains_key(n))
        .collect();
    remove(&folder(ctx, &prior), &gone)?;
    let mut attrs = Map::clone(&desired.attrs);
    attrs.insert("files".into(), Value::Object(want));
    Ok(Applied {
        id: artifact_id(&dir, &attrs),
        attrs,
    })
}

fn content(ctx: &Context, name: &str, source: Option<&Value>) -> Result<Vec<u8>, RemoteError> {
    match source {
        Some(v) if v.get("text").is_some() => Ok(text_bytes(
            name,
            v.get("text").and_then(Value::as_str).unwrap_or_default(),
        )),
        Some(v) if v.get("copy").is_some() => {
            let from = ctx
                .project_dir
                .join(v.get("copy").and_then(Value::as_str).unwrap_or_default());
            std::fs::read(&from).map_err(|e| local_error(&from, "read", &e))
        }
        _ => Err(RemoteError::new(
            LOCAL,
            format!("{name}: no content recorded; run plan again"),
        )),
    }
}

/// Writes through a temporary file in the same folder and a rename, so a reader never sees half
/// a file.
fn write_atomic(target: &Path, bytes: &[u8]) -> Result<(), RemoteError> {
    let parent = target.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| local_error(parent, "create", &e))?;
    let mut tmp =
        tempfile::NamedTempFile::new_in(parent).map_err(|e| local_error(parent, "write in", &e))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| local_error(target, "write", &e))?;
    tmp.persist(target)
        .map_err(|e| local_error(target, "replace", &e.error))?;
    Ok(())
}

/// Removes owned files, then the folders that became empty (up to and including `dir`).
fn remove(dir: &Path, names: &[String]) -> Result<(), RemoteError> {
    for name in names {
        let file = dir.join(name);
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(local_error(&file, "remove", &e)),
        }
        let mut parent = file.parent();
        while let Some(p) = parent.filter(|p| p.starts_with(dir)) {
            if std::fs::remove_dir(p).is_err() {
                break; // not empty (or already gone): stop climbing
            }
            parent = p.parent();
        }
    }
    Ok(())
}

fn local_error(path: &Path, what: &str, e: &std::io::Error) -> RemoteError {
    RemoteError {
        host: LOCAL.into(),
        operation: None,
        message: format!("cannot {what} {}: {e}", path.display()),
        category: Some("file system".into()),
        unreachable: None,
    }
}

/// Relative names of every file under `root` (`/`-separated, sorted), for copying a folder.
///
/// # Errors
/// The I/O error of the first unreadable folder.
pub fn list_tree(root: &Path) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for entry in std::fs::read_dir(root.join(&rel))? {
            let entry = entry?;
            let name = rel.join(entry.file_name());
            if entry.file_type()?.is_dir() {
                stack.push(name);
            } else {
                out.push(
                    name.components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect::<Vec<_>>()
                        .join("/"),
                );
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The sources of an artifact, by relative name, as `BTreeMap` for [`Artifact::files`].
pub type Files = BTreeMap<String, FileSource>;
