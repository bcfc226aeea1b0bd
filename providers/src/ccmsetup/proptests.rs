//! Property tests: parse/check never panic; render round-trips.

use proptest::prelude::*;

use super::catalog::{PARAMETERS, PROPERTIES};
use super::{check, parse, CommandLine, Context, Parameter, Program, Property};

/// Strings rich in the characters the tokeniser cares about.
fn tricky() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("/".to_string()),
            Just(":".to_string()),
            Just("=".to_string()),
            Just("\"".to_string()),
            Just("\"\"".to_string()),
            Just(" ".to_string()),
            Just(";".to_string()),
            Just("'".to_string()),
            Just("$(".to_string()),
            Just("ccmsetup.exe".to_string()),
            Just("ccmsetup.msi".to_string()),
            Just("CCMSETUPCMD=".to_string()),
            Just("Install=INSTALL=ALL".to_string()),
            Just("https://".to_string()),
            Just("é".to_string()),
            Just("\t".to_string()),
            "[A-Za-z0-9]{0,6}",
            any::<String>(),
        ],
        0..24,
    )
    .prop_map(|v| v.concat())
}

fn value() -> impl Strategy<Value = String> {
    // Any text except control characters that are not whitespace; may contain quotes,
    // spaces, `;`, `:`, `=` and non-ASCII.
    "[ -~\t\u{e9}\u{4e2d}]{0,12}"
}

fn parameter() -> impl Strategy<Value = Parameter> {
    let name = prop_oneof![
        proptest::sample::select(
            PARAMETERS
                .iter()
                .map(|s| s.name.to_string())
                .collect::<Vec<_>>()
        ),
        "[a-z][A-Za-z0-9_-]{0,8}",
    ];
    // Names that match the catalog case-insensitively are canonicalised by `parse`, so use
    // the canonical spelling (round trip holds for canonical command lines).
    (name, proptest::option::of(value())).prop_map(|(n, v)| {
        let n = super::catalog::parameter(&n).map_or(n, |s| s.name.to_string());
        Parameter::new(n, v)
    })
}

fn property() -> impl Strategy<Value = Property> {
    let name = prop_oneof![
        proptest::sample::select(
            PROPERTIES
                .iter()
                .map(|s| s.name.to_string())
                .collect::<Vec<_>>()
        ),
        "[A-Z][A-Z0-9_]{0,8}",
    ]
    .prop_filter("structural names", |n| n != "CCMSETUPCMD" && n != "INSTALL");
    (name, value()).prop_map(|(n, v)| Property::new(n, v))
}

fn program() -> impl Strategy<Value = Program> {
    prop_oneof![
        Just(Program::Bare),
        Just(Program::Tcf),
        "[A-Za-z]:\\\\[A-Za-z ]{0,6}\\\\".prop_map(|p| Program::Exe {
            path: format!("{p}ccmsetup.exe")
        }),
        Just(Program::Exe {
            path: "CCMSetup.exe".into()
        }),
        Just(Program::Msi { path: None }),
        Just(Program::Msi {
            path: Some("ccmsetup.msi".into())
        }),
    ]
}

fn command_line() -> impl Strategy<Value = CommandLine> {
    (
        program(),
        proptest::collection::vec(parameter(), 0..5),
        proptest::collection::vec(property(), 0..5),
    )
        .prop_map(|(program, parameters, properties)| CommandLine {
            program,
            parameters,
            properties,
        })
}

proptest! {
    // No regression files: this crate keeps test data out of the tree; known regressions are
    // pinned as unit tests (`tests::quoted_names_round_trip`).
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn parse_and_check_never_panic(text in tricky()) {
        let parsed = parse(&text);
        for ctx in [None, Some(Context::Push), Some(Context::Gpo), Some(Context::Internet),
                    Some(Context::Workgroup), Some(Context::Intune), Some(Context::Manual)] {
            let (_, findings) = check(&text, ctx);
            for f in findings {
                if let Some(s) = f.span {
                    prop_assert!(s.start <= s.end && s.end <= text.len());
                    prop_assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.end));
                }
            }
        }
        let _ = parsed.command_line.render();
    }

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        let _ = check(&text, Some(Context::Push));
        let _ = parse(&text).command_line.render();
    }

    #[test]
    fn render_round_trips(cmd in command_line()) {
        let text = cmd.render();
        let parsed = parse(&text);
        prop_assert!(!parsed.has_syntax_error(), "{text}: {:?}", parsed.findings);
        prop_assert_eq!(parsed.command_line, cmd, "{}", text);
    }

    #[test]
    fn reparse_is_stable(text in tricky()) {
        let first = parse(&text);
        if !first.has_syntax_error() {
            let again = parse(&first.command_line.render()).command_line;
            prop_assert_eq!(again, first.command_line);
        }
    }
}
