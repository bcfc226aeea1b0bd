//! One diagnostic type for every manifest problem, rendered by miette with file, line and carets.
//!
//! Validation collects all diagnostics and reports them together; nothing stops at the first.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{LabeledSpan, SourceCode};

mod snippet;

pub use snippet::{line_index, line_starts, Snippet};

/// A manifest file kept in memory so diagnostics can quote it.
#[derive(Debug)]
pub struct SourceFile {
    /// Path as shown to the user (relative to the working directory when possible).
    pub display: String,
    /// Full path on disk.
    pub path: PathBuf,
    /// Text of the file.
    pub text: Arc<String>,
    /// Byte offsets of the line starts, computed on first use.
    starts: std::sync::OnceLock<Vec<usize>>,
}

impl SourceFile {
    /// Wraps a file's text.
    pub fn new(path: &Path, text: String) -> Arc<SourceFile> {
        let display = std::env::current_dir()
            .ok()
            .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
            .unwrap_or_else(|| path.to_path_buf())
            .display()
            .to_string();
        Arc::new(SourceFile {
            display,
            path: path.to_path_buf(),
            text: Arc::new(text),
            starts: std::sync::OnceLock::new(),
        })
    }

    /// 1-based line number of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        line_index(self.line_starts(), offset.min(self.text.len())) + 1
    }

    /// Byte offsets of the starts of the file's lines (computed once).
    pub fn line_starts(&self) -> &[usize] {
        self.starts.get_or_init(|| line_starts(&self.text))
    }

    /// 1-based column (in characters) of a byte offset.
    pub fn column_of(&self, offset: usize) -> usize {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let start = self.line_starts()[line_index(self.line_starts(), offset)];
        self.text[start..offset].chars().count() + 1
    }
}

/// A place in a manifest: a file and a byte range in it.
#[derive(Debug, Clone)]
pub struct Loc {
    /// The file.
    pub file: Arc<SourceFile>,
    /// Byte range into `file.text`.
    pub span: Range<usize>,
}

impl Loc {
    /// `path:line` of the start of the span.
    pub fn short(&self) -> String {
        format!(
            "{}:{}",
            self.file.display,
            self.file.line_of(self.span.start)
        )
    }
}

/// How bad a diagnostic is. Errors fail `validate`; warnings are shown and do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Shown, does not fail.
    Warning,
    /// Fails validation (exit 1).
    Error,
}

/// A problem found in the manifests, with a stable code such as `cmdeploy::reference::unknown`.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// Stable machine-readable code, `cmdeploy::<area>::<problem>`.
    pub code: String,
    /// Error or warning.
    pub severity: Severity,
    /// One-line statement of the problem.
    pub message: String,
    /// What to do about it, and which documented rule it is.
    pub help: Option<String>,
    /// Where it is; `None` for problems without a place (a missing file, say).
    pub loc: Option<Loc>,
    /// Text shown at the caret.
    pub label: Option<String>,
    source: Option<Snippet>,
}

impl Diagnostic {
    /// A new error diagnostic.
    pub fn error(code: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            code: code.into(),
            severity: Severity::Error,
            message: message.into(),
            help: None,
            loc: None,
            label: None,
            source: None,
        }
    }

    /// A new warning diagnostic.
    pub fn warning(code: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    /// Adds help text.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Places the diagnostic in a file.
    pub fn at(mut self, loc: Loc) -> Self {
        self.source = Some(Snippet::cut(
            &loc.file.display,
            &loc.file.text,
            loc.file.line_starts(),
            loc.span.clone(),
        ));
        self.loc = Some(loc);
        self
    }

    /// Places the diagnostic at `span` of `file`.
    pub fn at_span(self, file: &Arc<SourceFile>, span: Range<usize>) -> Self {
        self.at(Loc {
            file: file.clone(),
            span,
        })
    }

    /// Sets the text shown at the caret.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let snippet = self.source.as_ref()?;
        Some(Box::new(std::iter::once(LabeledSpan::new(
            self.label.clone(),
            snippet.label.start,
            snippet.label.end - snippet.label.start,
        ))))
    }
}

/// An ordered collection of diagnostics.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one diagnostic.
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    /// Adds many.
    pub fn extend(&mut self, ds: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(ds);
    }

    /// True when any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    /// Number of errors.
    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    /// All diagnostics, sorted by file and position for stable output.
    pub fn sorted(&self) -> Vec<&Diagnostic> {
        let mut v: Vec<&Diagnostic> = self.items.iter().collect();
        v.sort_by_key(|d| {
            (
                d.loc.as_ref().map(|l| l.file.display.clone()),
                d.loc.as_ref().map(|l| l.span.start),
            )
        });
        v
    }

    /// Iterates in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    /// Number of diagnostics.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Closest candidate to `word` for a "did you mean" hint (Jaro–Winkler ≥ 0.8).
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::jaro_winkler(&word.to_lowercase(), &c.to_lowercase()),
                c,
            )
        })
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
