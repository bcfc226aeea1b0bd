//! The test harness: a temporary copy of an example project and a fluent way to run the CLI in it.

#![allow(dead_code)]

pub mod serve;

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

/// A temporary copy of an example project.
pub struct Project {
    dir: tempfile::TempDir,
}

/// The output of one CLI run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Asserts the exit code, showing the output when it differs.
    pub fn code(self, want: i32) -> Run {
        assert_eq!(
            self.code, want,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Both streams.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `cmdeploy -C <dir> args...` (colour off) with extra environment variables.
pub fn run_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::cargo_bin("cmdeploy").unwrap();
    cmd.arg("-C").arg(dir).args(args).env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    Run::from(cmd.output().unwrap())
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() == ".cmdeploy" {
                continue;
            }
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

impl Project {
    /// Copies `examples/<name>`.
    pub fn example(name: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&repo().join("examples").join(name), dir.path());
        Project { dir }
    }

    /// Copies `examples/<name>` with `[state]` switched to the PostgreSQL backend of
    /// `CMDEPLOY_TEST_PG_URL` (read through an env reference) under a fresh state name.
    pub fn example_postgres(name: &str) -> Project {
        pg_url();
        let p = Project::example(name);
        let state = format!("cli-{name}-{:016x}", rand_u64());
        p.edit(
            "cmdeploy.toml",
            "backend = \"local\"",
            &format!(
                "backend = \"postgres\"\nurl = {{ env = \"CMDEPLOY_TEST_PG_URL\" }}\nname = \"{state}\""
            ),
        );
        p
    }

    /// The project directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `cmdeploy -C <dir> args...`.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    /// Runs with extra environment variables.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        run_in(self.path(), args, env)
    }

    /// Reads a project file.
    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel)).unwrap()
    }

    /// Writes a project file.
    pub fn write(&self, rel: &str, text: &str) {
        std::fs::write(self.path().join(rel), text).unwrap();
    }

    /// Replaces text in a project file (the text must be there).
    pub fn edit(&self, rel: &str, from: &str, to: &str) {
        let text = self.read(rel);
        assert!(text.contains(from), "{rel} does not contain {from:?}");
        self.write(rel, &text.replacen(from, to, 1));
    }

    /// Cuts a project file at `marker` (removing the marker and everything after it).
    pub fn truncate_at(&self, rel: &str, marker: &str) {
        let text = self.read(rel);
        let i = text
            .find(marker)
            .unwrap_or_else(|| panic!("{rel} does not contain {marker:?}"));
        self.write(rel, &text[..i]);
    }

    /// Removes the table `header` (e.g. `[client_group.kiosks]`) and its sub-tables from a file.
    pub fn remove_table(&self, rel: &str, header: &str) {
        let text = self.read(rel);
        let start = text
            .find(header)
            .unwrap_or_else(|| panic!("{rel} has no {header}"));
        let prefix = format!("{}.", header.trim_end_matches(']'));
        let mut end = text.len();
        let mut offset = start + header.len();
        for line in text[offset..].split_inclusive('\n') {
            if line.starts_with('[') && !line.starts_with(&prefix) {
                end = offset;
                break;
            }
            offset += line.len();
        }
        self.write(rel, &format!("{}{}", &text[..start], &text[end..]));
    }

    /// Every file under `.cmdeploy`, with its content.
    pub fn work_files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![self.path().join(".cmdeploy")];
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in entries.flatten() {
                if e.file_type().unwrap().is_dir() {
                    stack.push(e.path());
                } else {
                    out.push((e.path(), std::fs::read(e.path()).unwrap()));
                }
            }
        }
        out
    }

    /// Runs one statement at the lab console of `connection` (it must succeed) and parses what it
    /// printed as JSON (end the statement with `| ConvertTo-Json`).
    pub fn console_json(&self, connection: &str, statement: &str) -> serde_json::Value {
        let out = self
            .run(&["lab", "console", "--connection", connection, statement])
            .code(0);
        serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("`{statement}` printed no JSON ({e}): {}", out.stdout))
    }
}

/// The password of a `postgres://user:password@host/...` URL, which output must never show.
pub fn url_password(url: &str) -> Option<String> {
    let creds = url.split_once("://")?.1.split_once('@')?.0;
    creds.split_once(':').map(|(_, p)| p.to_string())
}

/// The test PostgreSQL server's URL. Panics (the test fails, never skips) when it is not set.
pub fn pg_url() -> String {
    std::env::var("CMDEPLOY_TEST_PG_URL").unwrap_or_else(|_| {
        panic!(
            "CMDEPLOY_TEST_PG_URL is not set: the PostgreSQL state tests need a server. \
             Run `bash tests/run.sh` (it starts one), or set CMDEPLOY_TEST_PG_URL=postgres://..."
        )
    })
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}
