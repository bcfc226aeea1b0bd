//! Code pages of a WinRS shell and of the PowerShell process in it (windows-runtime.md §2).
//!
//! * The shell's console code page is `WINRS_CODEPAGE` when the Create request carries it in
//!   its `s:Header` OptionSet ([MS-WSMV] 3.1.4.5.2, 4.7.1 example), else the server's OEM code
//!   page: "the winrs response uses whatever codepage is the default on the server"
//!   (WinRb/WinRM#125). winrm-rs 1.1.2 writes its OptionSet after `</s:Header>`
//!   (`src/soap/envelope.rs` `create_shell_request`), where it is not read.
//! * `[Console]::In` decodes stdin with the console input code page unless the script sets
//!   `[Console]::InputEncoding` before its first read; output written through the console
//!   writers is encoded in the console output code page, while bytes written to
//!   `[Console]::OpenStandardOutput()` pass unchanged (microsoft/referencesource
//!   `mscorlib/system/console.cs`). Characters the code page lacks become `?` (pywinrm#288).
//!
//! [`ConsoleIo::of_bootstrap`] reads which of these a bootstrap does, in the forms
//! windows-runtime.md §2 gives.

use oem_cp::code_table::{
    DECODING_TABLE_CP437, DECODING_TABLE_CP850, ENCODING_TABLE_CP437, ENCODING_TABLE_CP850,
};

/// A console code page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodePage {
    /// 65001.
    Utf8,
    /// An OEM single-byte code page (437 or 850).
    Oem(u16),
}

impl CodePage {
    /// An OEM code page the lab has tables for.
    pub fn oem(number: u16) -> Option<CodePage> {
        matches!(number, 437 | 850).then_some(CodePage::Oem(number))
    }

    /// The code page of a new shell: `WINRS_CODEPAGE` from the Create header when it names one
    /// the lab knows (65001, 437, 850), else the server's OEM code page `oem`.
    pub fn for_shell(header_codepage: Option<&str>, oem: u16) -> CodePage {
        match header_codepage.and_then(|v| v.trim().parse::<u16>().ok()) {
            Some(65001) => CodePage::Utf8,
            Some(n) => CodePage::oem(n).unwrap_or(CodePage::Oem(oem)),
            None => CodePage::Oem(oem),
        }
    }

    /// Text from bytes in this code page (UTF-8: invalid sequences become U+FFFD).
    pub fn decode(self, bytes: &[u8]) -> String {
        match self {
            CodePage::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
            CodePage::Oem(850) => {
                oem_cp::decode_string_complete_table(bytes, &DECODING_TABLE_CP850)
            }
            CodePage::Oem(_) => oem_cp::decode_string_complete_table(bytes, &DECODING_TABLE_CP437),
        }
    }

    /// Bytes of `text` in this code page; characters it lacks become `?`.
    pub fn encode(self, text: &str) -> Vec<u8> {
        match self {
            CodePage::Utf8 => text.as_bytes().to_vec(),
            CodePage::Oem(850) => oem_cp::encode_string_lossy(text, &ENCODING_TABLE_CP850),
            CodePage::Oem(_) => oem_cp::encode_string_lossy(text, &ENCODING_TABLE_CP437),
        }
    }

    /// Re-encodes UTF-8 `bytes` (what the lab produced) into this code page.
    pub fn recode(self, bytes: Vec<u8>) -> Vec<u8> {
        match self {
            CodePage::Utf8 => bytes,
            cp => cp.encode(&String::from_utf8_lossy(&bytes)),
        }
    }
}

/// How a bootstrap reads stdin and writes stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConsoleIo {
    /// It sets `[Console]::InputEncoding` to UTF-8 before the first `[Console]::In` read.
    pub utf8_stdin: bool,
    /// It writes its output as UTF-8 bytes to `[Console]::OpenStandardOutput()`.
    pub utf8_stdout: bool,
}

impl ConsoleIo {
    /// Reads a bootstrap (statements separated by `;`, compared without spaces and case).
    pub fn of_bootstrap(script: &str) -> ConsoleIo {
        let statements: Vec<String> = script
            .split(';')
            .map(|s| {
                s.chars()
                    .filter(|c| !c.is_whitespace())
                    .collect::<String>()
                    .to_ascii_lowercase()
            })
            .collect();
        let first_read = statements
            .iter()
            .position(|s| s.contains("[console]::in."))
            .unwrap_or(statements.len());
        let utf8_stdin = statements[..first_read].iter().any(|s| {
            s.starts_with("[console]::inputencoding=")
                && [
                    "new-objecttext.utf8encoding",
                    "new-objectsystem.text.utf8encoding",
                    "[text.encoding]::utf8",
                    "[system.text.encoding]::utf8",
                    "[text.utf8encoding]::new(",
                    "[system.text.utf8encoding]::new(",
                ]
                .iter()
                .any(|form| s["[console]::inputencoding=".len()..].starts_with(form))
        });
        let raw_stream = statements
            .iter()
            .any(|s| s.contains("=[console]::openstandardoutput()"));
        let utf8_bytes = statements.iter().any(|s| {
            s.contains("=[text.encoding]::utf8.getbytes(")
                || s.contains("=[system.text.encoding]::utf8.getbytes(")
        });
        ConsoleIo {
            utf8_stdin,
            utf8_stdout: raw_stream && utf8_bytes,
        }
    }

    /// The text the script reads from stdin `bytes` in a shell of code page `cp`. With a UTF-8
    /// input encoding a byte-order mark stays as U+FEFF (`UTF8Encoding($false)` has no preamble
    /// to strip, referencesource `streamreader.cs`).
    pub fn stdin_text(self, cp: CodePage, bytes: &[u8]) -> String {
        if self.utf8_stdin {
            CodePage::Utf8.decode(bytes)
        } else {
            cp.decode(bytes)
        }
    }

    /// The stdout bytes of the script's output `text`.
    pub fn stdout_bytes(self, cp: CodePage, text: &[u8]) -> Vec<u8> {
        if self.utf8_stdout {
            text.to_vec()
        } else {
            cp.recode(text.to_vec())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shell_without_a_header_codepage_speaks_cp437() {
        let cp = CodePage::for_shell(None, 437);
        assert_eq!(cp.encode("é日"), vec![0x82, b'?']);
        assert_eq!(cp.decode("ü".as_bytes()), "├╝");
        assert_eq!(CodePage::for_shell(Some("65001"), 437), CodePage::Utf8);
        assert_eq!(CodePage::for_shell(Some("850"), 437), CodePage::Oem(850));
    }

    #[test]
    fn a_bootstrap_that_sets_utf8_first_reads_and_writes_utf8() {
        let old = "$d=[Console]::In.ReadToEnd();$i=$d.IndexOf('#M#');. ([scriptblock]::Create($d))";
        assert_eq!(ConsoleIo::of_bootstrap(old), ConsoleIo::default());
        let late = "$d=[Console]::In.ReadToEnd();[Console]::InputEncoding=New-Object Text.UTF8Encoding $false";
        assert!(
            !ConsoleIo::of_bootstrap(late).utf8_stdin,
            "set after the first read"
        );
        let good = "[Console]::InputEncoding=New-Object Text.UTF8Encoding $false;$d=[Console]::In.ReadToEnd();$o=1;$b=[Text.Encoding]::UTF8.GetBytes($o);$s=[Console]::OpenStandardOutput();$s.Write($b,0,$b.Length)";
        let io = ConsoleIo::of_bootstrap(good);
        assert!(io.utf8_stdin && io.utf8_stdout);
        assert_eq!(
            io.stdin_text(CodePage::Oem(437), "\u{feff}€".as_bytes()),
            "\u{feff}€"
        );
    }
}
