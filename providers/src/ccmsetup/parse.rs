//! Parser: text → [`CommandLine`] with spans. Never panics.

use std::ops::Range;

use super::catalog;
use super::codes;
use super::lex::{chars_of, lex, Token};
use super::model::{CommandLine, Finding, Parameter, Program, Property};

/// Result of [`parse`]: the model plus what the tokeniser noticed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedCommandLine {
    /// The command line as far as it could be understood.
    pub command_line: CommandLine,
    /// Span of the program token (`CCMSetup.exe`, `ccmsetup.msi`, `Install=INSTALL=ALL`).
    pub program_span: Option<Range<usize>>,
    /// Syntax findings: unterminated quotes, stray tokens, malformed tokens, parameters
    /// after properties (`order`), bare property names.
    pub findings: Vec<Finding>,
    /// Length of the parsed text in characters (for the GPO and Intune length limits).
    pub text_chars: usize,
}

impl ParsedCommandLine {
    /// Whether the tokeniser hit an error that makes the model unfaithful to the text
    /// (unterminated quote, stray token, malformed token).
    pub fn has_syntax_error(&self) -> bool {
        self.findings.iter().any(|f| {
            f.is_error()
                && matches!(
                    f.code,
                    codes::SYNTAX | codes::STRAY_TOKEN | codes::UNTERMINATED_QUOTE
                )
        })
    }
}

/// Parse a CCMSetup command line, push installation property string, GPO `SetupParameters`
/// value, `ccmsetup.msi CCMSETUPCMD="..."` line or tcf `Install=INSTALL=ALL ...` line.
///
/// Parameter names are matched case-insensitively and canonicalised to their documented
/// casing; property names are upper-cased; the written form is kept in `written` when it
/// differs. Never panics; problems are reported in [`ParsedCommandLine::findings`].
pub fn parse(text: &str) -> ParsedCommandLine {
    let chars = chars_of(text);
    let tokens = lex(&chars, text.len());
    let mut p = Parser {
        cmd: CommandLine::default(),
        findings: Vec::new(),
        saw_ccmsetupcmd: false,
    };
    let mut program_span = None;
    let mut rest: &[Token] = &tokens;
    if let Some(first) = tokens.first() {
        let t = first.text();
        let has_eq = first.find_unquoted('=', 0).is_some();
        let program = if t.eq_ignore_ascii_case("Install=INSTALL=ALL") {
            Some(Program::Tcf)
        } else if has_eq {
            None
        } else if is_program(&t, "ccmsetup.exe") {
            Some(Program::Exe { path: t })
        } else if is_program(&t, "ccmsetup.msi") {
            Some(Program::Msi { path: Some(t) })
        } else {
            None
        };
        if let Some(program) = program {
            if first.unterminated {
                p.findings.push(unterminated(first));
            }
            p.cmd.program = program;
            program_span = Some(first.span.clone());
            rest = &tokens[1..];
        }
    }
    p.level(rest, false);
    ParsedCommandLine {
        command_line: p.cmd,
        program_span,
        findings: p.findings,
        text_chars: text.chars().count(),
    }
}

/// Whether `t` names `file` (`ccmsetup.exe`), alone or at the end of a path.
fn is_program(t: &str, file: &str) -> bool {
    if t.starts_with('/') || t.len() < file.len() || !t.is_char_boundary(t.len() - file.len()) {
        return false;
    }
    let (head, tail) = t.split_at(t.len() - file.len());
    tail.eq_ignore_ascii_case(file)
        && (head.is_empty() || head.ends_with('\\') || head.ends_with('/') || head.ends_with(':'))
}

fn unterminated(tok: &Token) -> Finding {
    Finding::error(codes::UNTERMINATED_QUOTE, "a double quote is never closed")
        .with_help("close the quoted value with `\"`")
        .with_span(tok.span.clone())
}

struct Parser {
    cmd: CommandLine,
    findings: Vec<Finding>,
    saw_ccmsetupcmd: bool,
}

impl Parser {
    /// Parse one level of tokens (top level, or the inside of `CCMSETUPCMD`).
    fn level(&mut self, tokens: &[Token], nested: bool) {
        let mut seen_property = false;
        let mut last_empty_param: Option<String> = None;
        for tok in tokens {
            if tok.unterminated {
                self.findings.push(unterminated(tok));
            }
            let pending = last_empty_param.take();
            let Some(first) = tok.chars.first() else {
                self.findings.push(
                    Finding::error(codes::STRAY_TOKEN, "empty quoted token")
                        .with_span(tok.span.clone()),
                );
                continue;
            };
            if first.c == '/' && !first.quoted {
                let colon = tok.find_unquoted(':', 1);
                let name: String = tok.chars[1..colon.unwrap_or(tok.chars.len())]
                    .iter()
                    .map(|c| c.c)
                    .collect();
                if name.is_empty() {
                    self.findings.push(
                        Finding::error(codes::SYNTAX, "`/` with no parameter name")
                            .with_span(tok.span.clone()),
                    );
                    continue;
                }
                let value: Option<String> =
                    colon.map(|c| tok.chars[c + 1..].iter().map(|c| c.c).collect());
                let (canonical, written) = match catalog::parameter(&name) {
                    Some(spec) if spec.name != name => (spec.name.to_string(), Some(name)),
                    Some(spec) => (spec.name.to_string(), None),
                    None => (name, None),
                };
                if seen_property {
                    self.findings.push(
                        Finding::error(
                            codes::ORDER,
                            format!("parameter `/{canonical}` comes after a client.msi property"),
                        )
                        .with_help("put every `/` parameter before the first NAME=value property")
                        .with_span(tok.span.clone()),
                    );
                }
                if value.as_deref() == Some("") {
                    last_empty_param = Some(canonical.clone());
                }
                self.cmd.parameters.push(Parameter {
                    name: canonical,
                    value,
                    span: tok.span.clone(),
                    written,
                });
                continue;
            }
            if let Some(eq) = tok.find_unquoted('=', 0) {
                let name: String = tok.chars[..eq].iter().map(|c| c.c).collect();
                if eq == 0 || name.trim().is_empty() {
                    self.findings.push(
                        Finding::error(codes::SYNTAX, "`=` with no property name")
                            .with_span(tok.span.clone()),
                    );
                    continue;
                }
                let upper = name.to_ascii_uppercase();
                if upper == "CCMSETUPCMD" {
                    self.nested(tok, eq, nested);
                    continue;
                }
                seen_property = true;
                let value: String = tok.chars[eq + 1..].iter().map(|c| c.c).collect();
                let written = (upper != name).then_some(name);
                self.cmd.properties.push(Property {
                    name: upper,
                    value,
                    span: tok.span.clone(),
                    written,
                });
                continue;
            }
            let text = tok.text();
            if let Some(spec) = catalog::property(&text).filter(|_| !first.quoted) {
                seen_property = true;
                self.findings.push(
                    Finding::warning(
                        codes::BARE_PROPERTY,
                        format!("property `{}` has no `=value`", spec.name),
                    )
                    .with_help(format!("write `{}=1`", spec.name))
                    .with_span(tok.span.clone()),
                );
                let written = (spec.name != text).then_some(text);
                self.cmd.properties.push(Property {
                    name: spec.name.to_string(),
                    value: String::new(),
                    span: tok.span.clone(),
                    written,
                });
                continue;
            }
            let mut f = Finding::error(
                codes::STRAY_TOKEN,
                format!("`{text}` is neither a /parameter nor a NAME=value property"),
            )
            .with_span(tok.span.clone());
            if let Some(param) = pending {
                f = f.with_help(format!(
                    "a space separates `/{param}:` from its value; write `/{param}:{text}`"
                ));
            }
            self.findings.push(f);
        }
    }

    /// `CCMSETUPCMD="..."`: the nested ccmsetup.exe command line of `ccmsetup.msi`.
    fn nested(&mut self, tok: &Token, eq: usize, nested: bool) {
        let allowed = !nested
            && !self.saw_ccmsetupcmd
            && match self.cmd.program {
                Program::Msi { .. } => true,
                Program::Bare => {
                    if self.cmd.parameters.is_empty() && self.cmd.properties.is_empty() {
                        self.cmd.program = Program::Msi { path: None };
                        true
                    } else {
                        false
                    }
                }
                Program::Exe { .. } | Program::Tcf => false,
            };
        if !allowed {
            self.findings.push(
                Finding::error(
                    codes::SYNTAX,
                    "CCMSETUPCMD is a ccmsetup.msi property and may appear once, at the top level",
                )
                .with_help("with ccmsetup.exe, give the parameters and properties directly")
                .with_span(tok.span.clone()),
            );
            return;
        }
        self.saw_ccmsetupcmd = true;
        let inner: Vec<(char, usize)> = tok.chars[eq + 1..].iter().map(|c| (c.c, c.at)).collect();
        let end = inner
            .last()
            .map(|(c, at)| at + c.len_utf8())
            .unwrap_or(tok.span.end);
        let tokens = lex(&inner, end);
        self.level(&tokens, true);
    }
}
