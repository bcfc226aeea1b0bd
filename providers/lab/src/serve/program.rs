//! What a WinRS command line runs in the lab: cmdeploy's bootstrap (the runner and payload on
//! stdin), one console statement given with `-EncodedCommand`, or nothing the lab knows.
//!
//! The command line is joined as Windows joins it (`Command` then each `Arguments`, space
//! separated), which covers winrm-rs (path plus four arguments), pywinrm (one string) and pypsrp
//! (executable plus argument list). Over 8191 characters it fails as cmd.exe does.

use base64::Engine as _;
use serde_json::Value;

use super::codepage::ConsoleIo;
use cmdeploy_providers::powershell::runner::PAYLOAD_MARKER;
use cmdeploy_providers::powershell::ScriptOutput;

/// cmd.exe's limit on a command line, in characters.
pub const MAX_COMMAND_LINE: usize = 8191;

/// What a command does.
#[derive(Debug, Clone, PartialEq)]
pub enum Program {
    /// Finished as soon as it starts (errors of the command line itself).
    Immediate(Outcome),
    /// cmdeploy's bootstrap: waits for stdin to end, then runs the stdin document, reading and
    /// writing as its console encodings say.
    Bootstrap(ConsoleIo),
    /// One console statement (`Get-CMBoundaryGroup | ConvertTo-Json`).
    Statement(String),
}

/// Joins `command` and `arguments` into one command line.
pub fn join(command: &str, arguments: &[String]) -> String {
    let mut line = command.trim().to_string();
    for a in arguments {
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(a);
    }
    line
}

/// Decides what a command line runs.
pub fn classify(command: &str, arguments: &[String]) -> Program {
    let line = join(command, arguments);
    if line.chars().count() > MAX_COMMAND_LINE {
        return Program::Immediate(Outcome::failed_plain("The command line is too long.\r\n"));
    }
    let tokens: Vec<&str> = line.split_whitespace().collect();
    let Some(first) = tokens.first() else {
        return Program::Immediate(Outcome::failed_plain(
            "The syntax of the command is incorrect.\r\n",
        ));
    };
    let exe = first.trim_matches('"');
    let base = exe
        .rsplit(['\\', '/'])
        .next()
        .unwrap_or(exe)
        .to_ascii_lowercase();
    let base = base.strip_suffix(".exe").unwrap_or(&base);
    if base != "powershell" && base != "pwsh" {
        return Program::Immediate(Outcome::failed_plain(&format!(
            "'{exe}' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n"
        )));
    }
    let Some(encoded) = encoded_command(&tokens[1..]) else {
        return Program::Immediate(Outcome::failed_plain(
            "The lab runs PowerShell only with -EncodedCommand.\r\n",
        ));
    };
    match decode_script(encoded) {
        Some(script) if is_bootstrap(&script) => Program::Bootstrap(ConsoleIo::of_bootstrap(&script)),
        Some(script) => Program::Statement(script),
        None => Program::Immediate(Outcome::failed_plain(
            "Cannot process the command because the value specified with -EncodedCommand is not properly encoded. The value must be Base64 encoded.\r\n",
        )),
    }
}

/// Whether a script is a cmdeploy bootstrap: it reads all of stdin, splits it at the payload
/// marker and runs the first part as a script block. Which encodings it sets is read separately
/// ([`ConsoleIo::of_bootstrap`]): the lab does not assume the product's current bootstrap.
pub fn is_bootstrap(script: &str) -> bool {
    let s: String = script
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    s.contains("[console]::in.readtoend()")
        && s.contains(&PAYLOAD_MARKER.to_ascii_lowercase())
        && s.contains("[scriptblock]::create(")
}

/// The value after `-EncodedCommand` (or any abbreviation PowerShell accepts: `-e`, `-ec`,
/// `-en`, `-enc` … `-encodedcommand`, with `-` or `/`, any case).
pub fn encoded_command<'a>(tokens: &[&'a str]) -> Option<&'a str> {
    let i = tokens.iter().position(|t| {
        let Some(name) = t.strip_prefix('-').or_else(|| t.strip_prefix('/')) else {
            return false;
        };
        let name = name.to_ascii_lowercase();
        name == "ec" || (!name.is_empty() && "encodedcommand".starts_with(&name))
    })?;
    tokens.get(i + 1).map(|t| t.trim_matches('"'))
}

/// Base64, then UTF-16LE, as `powershell.exe -EncodedCommand` decodes; `None` when invalid.
pub fn decode_script(encoded: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    if bytes.len() % 2 != 0 {
        return None;
    }
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]))
        .collect();
    String::from_utf16(&units).ok()
}

/// Encodes a script for `-EncodedCommand` (base64 of UTF-16LE).
pub fn encode_script(script: &str) -> String {
    let bytes: Vec<u8> = script.encode_utf16().flat_map(u16::to_le_bytes).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The bootstrap's output: the runner's JSON document and CRLF.
pub fn script_output(output: &ScriptOutput) -> Outcome {
    match serde_json::to_string(output) {
        Ok(json) => Outcome::ok(format!("{json}\r\n")),
        Err(e) => Outcome::failed_clixml(&format!("cannot serialize the result: {e}")),
    }
}

/// A console statement's output, as `ConvertTo-Json` prints it: nulls dropped, a single item
/// unwrapped, an array kept, nothing at all for no items; pretty-printed with CRLF line ends.
pub fn statement_output(value: Value) -> Outcome {
    let items: Vec<Value> = match value {
        Value::Array(a) => a,
        other => vec![other],
    }
    .into_iter()
    .filter(|v| !v.is_null())
    .collect();
    let shown = match items.len() {
        0 => return Outcome::ok(String::new()),
        1 => items.into_iter().next().unwrap_or(Value::Null),
        _ => Value::Array(items),
    };
    let text = serde_json::to_string_pretty(&shown).unwrap_or_default();
    Outcome::ok(format!("{}\r\n", text.replace('\n', "\r\n")))
}

/// A PowerShell error as stderr carries it over WinRS: a CLIXML document, one `S="Error"` string
/// per line, CR and LF written as `_x000D__x000A_`.
pub fn clixml_error(message: &str) -> String {
    let mut out = String::from(
        "#< CLIXML\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">",
    );
    for line in message.lines() {
        out.push_str("<S S=\"Error\">");
        out.push_str(&clixml_escape(line));
        out.push_str("_x000D__x000A_</S>");
    }
    out.push_str("</Objs>");
    out
}

/// CLIXML string escaping: XML entities, `_x005F_` for an underscore that would read as an
/// escape, and `_xHHHH_` for control characters.
fn clixml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '_' if chars.get(i + 1) == Some(&'x') => out.push_str("_x005F_"),
            c if (c as u32) < 0x20 => out.push_str(&format!("_x{:04X}_", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// A finished command's output.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    /// stdout bytes (console text, CRLF).
    pub stdout: Vec<u8>,
    /// stderr bytes (CLIXML for PowerShell errors).
    pub stderr: Vec<u8>,
    /// The process exit code.
    pub exit_code: i32,
}

impl Outcome {
    /// Success with `stdout`.
    pub fn ok(stdout: String) -> Outcome {
        Outcome {
            stdout: stdout.into_bytes(),
            ..Outcome::default()
        }
    }

    /// Failure (exit 1) with plain-text stderr, as cmd.exe writes it.
    pub fn failed_plain(stderr: &str) -> Outcome {
        Outcome {
            stdout: Vec::new(),
            stderr: stderr.as_bytes().to_vec(),
            exit_code: 1,
        }
    }

    /// The same output in code page `cp` (the lab writes UTF-8).
    pub fn recoded(self, cp: super::codepage::CodePage) -> Outcome {
        Outcome {
            stdout: cp.recode(self.stdout),
            stderr: cp.recode(self.stderr),
            exit_code: self.exit_code,
        }
    }

    /// Failure (exit 1) with a PowerShell error (CLIXML) on stderr.
    pub fn failed_clixml(message: &str) -> Outcome {
        Outcome {
            stdout: Vec::new(),
            stderr: clixml_error(message).into_bytes(),
            exit_code: 1,
        }
    }
}
