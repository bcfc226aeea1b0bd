//! The one [`Kind`] implementation of every artifact: a kind is its table type
//! ([`ArtifactSpec`]), which renders an [`Artifact`] and its command line; reading, writing and
//! deleting the files are shared ([`super::files`]).

use std::marker::PhantomData;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::{json, Map};

use cmdeploy_engine::diagnostics::{Diagnostic, SourceFile};
use cmdeploy_engine::provider::{
    Applied, Context, DecodeInput, Decoded, Kind, Observed, Operation, ReadRequest, ReadResult,
    RemoteError,
};
use cmdeploy_engine::resource::Resource;

use super::files::{self, Artifact};
use crate::kit;

/// Where a table being rendered is: for diagnostics, relative paths and headers.
pub struct RenderInput {
    /// The file of the table.
    pub file: Arc<SourceFile>,
    /// Byte range of the table.
    pub span: Range<usize>,
    /// The project directory (copied sources are relative to it).
    pub project_dir: PathBuf,
    /// The resource's address (`logon_script.netlogon`), for the "managed by" header.
    pub address: String,
    /// Spans of the `properties` and `ccmsetup` values, where CCMSetup findings point.
    pub values: crate::ccmsetup_spans::ValueSpans,
}

impl RenderInput {
    /// Where a finding about `cmd` points: the value it concerns, else the table.
    pub fn locate(
        &self,
        cmd: &crate::ccmsetup::CommandLine,
    ) -> impl Fn(&crate::ccmsetup::Finding) -> Range<usize> + '_ {
        let rendered = cmd.render();
        move |f| {
            self.values
                .locate(&rendered, f)
                .unwrap_or(self.span.clone())
        }
    }
}

/// What a table renders to.
pub struct Rendered {
    /// The folder and its files.
    pub artifact: Artifact,
    /// The CCMSetup command line the files carry (an attribute, so the plan shows it).
    pub command_line: String,
    /// Warnings found while rendering.
    pub warnings: Vec<Diagnostic>,
}

/// An artifact kind's table.
pub trait ArtifactSpec: DeserializeOwned + schemars::JsonSchema + Send + Sync + 'static {
    /// The kind's name (the TOML top-level key).
    const KIND: &'static str;
    /// One line for `cmdeploy schema` and the docs.
    const DESCRIPTION: &'static str;
    /// What the administrator still does by hand, shown in the plan on create and update.
    const MANUAL_STEP: Option<&'static str>;

    /// Renders the files.
    ///
    /// # Errors
    /// The rule violations, as diagnostics at the table or the value.
    fn render(self, at: &RenderInput) -> Result<Rendered, Vec<Diagnostic>>;
}

/// The [`Kind`] of the artifact whose table is `S`.
pub struct ArtifactKind<S>(PhantomData<fn() -> S>);

impl<S> ArtifactKind<S> {
    /// The kind.
    pub fn new() -> Self {
        ArtifactKind(PhantomData)
    }
}

impl<S> Default for ArtifactKind<S> {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait::async_trait]
impl<S: ArtifactSpec> Kind for ArtifactKind<S> {
    fn name(&self) -> &'static str {
        S::KIND
    }

    fn description(&self) -> &'static str {
        S::DESCRIPTION
    }

    fn schema(&self, generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        generator.subschema_for::<S>()
    }

    fn decode(&self, input: DecodeInput<'_>) -> Result<Decoded, Vec<Diagnostic>> {
        let at = RenderInput {
            file: input.file.clone(),
            span: input.span.clone(),
            project_dir: input.project_dir.to_path_buf(),
            address: input.address.to_string(),
            values: crate::ccmsetup_spans::ValueSpans::of(
                &input.table,
                &["properties", "ccmsetup"],
            ),
        };
        let spec: S = kit::decode_typed(input, S::KIND)?;
        let rendered = spec.render(&at)?;
        let mut extra = Map::new();
        extra.insert("command_line".into(), json!(rendered.command_line));
        let mut d = rendered
            .artifact
            .decoded(&at.file, &at.project_dir, S::KIND, extra)?;
        d.warnings = rendered.warnings;
        Ok(d)
    }

    async fn read(&self, ctx: &Context, requests: Vec<ReadRequest>) -> Vec<ReadResult> {
        files::read(ctx, requests).await
    }

    async fn apply(&self, ctx: &Context, op: Operation) -> Result<Applied, RemoteError> {
        files::apply(ctx, op).await
    }

    fn plan_notes(&self, desired: Option<&Resource>, _observed: Option<&Observed>) -> Vec<String> {
        match (desired, S::MANUAL_STEP) {
            (Some(_), Some(step)) => vec![step.to_string()],
            _ => Vec::new(),
        }
    }
}
