//! Shell completions and the man page are generated from the CLI definition.

mod common;

use common::Project;

#[test]
fn completions_for_every_shell_name_the_subcommands() {
    let p = Project::example("contoso");
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = p.run(&["completions", shell]).code(0);
        for word in ["cmdeploy", "drift", "plan", "detailed-exitcode", "import"] {
            assert!(
                out.stdout.contains(word),
                "{shell} completions lack {word}:\n{}",
                out.stdout
            );
        }
    }
    p.run(&["completions", "tcsh"]).code(1);
}

#[test]
fn man_page_is_roff() {
    let p = Project::example("contoso");
    let out = p.run(&["man"]).code(0);
    assert!(out.stdout.contains(".TH cmdeploy"), "{}", out.stdout);
    for word in ["validate", "drift", "completions", "import"] {
        assert!(out.stdout.contains(word), "man page lacks {word}");
    }
}

/// The command paths of the clap tree (words after `cmdeploy`), `help` left out.
fn command_paths() -> Vec<Vec<String>> {
    use clap::CommandFactory;
    fn walk(cmd: &clap::Command, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(path.clone());
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            path.push(sub.get_name().to_string());
            walk(sub, path, out);
            path.pop();
        }
    }
    let mut out = Vec::new();
    walk(&cmdeploy::cli::Cli::command(), &mut Vec::new(), &mut out);
    out
}

#[test]
fn every_subcommand_has_a_man_page_with_exit_status_and_environment() {
    let p = Project::example("contoso");
    let paths = command_paths();
    assert!(paths.len() > 20, "{paths:?}");
    for path in &paths {
        let key = path.join(" ");
        assert!(
            cmdeploy::man::exit_status(&key).is_some(),
            "`cmdeploy {key}` has no documented exit status in src/man.rs"
        );
        let mut args = vec!["man"];
        args.extend(path.iter().map(String::as_str));
        let out = p.run(&args).code(0);
        let title = std::iter::once("cmdeploy")
            .chain(path.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join("-");
        assert!(
            out.stdout.contains(&format!("\n.TH {title} 1 ")),
            "{key}: {}",
            out.stdout
        );
        for section in [".SH \"EXIT STATUS\"", ".SH ENVIRONMENT", ".SH SYNOPSIS"] {
            assert!(
                out.stdout.contains(section),
                "{key} lacks {section}:\n{}",
                out.stdout
            );
        }
        assert!(out.stdout.contains("NO_COLOR"), "{key}");
    }
    // The codes pipelines branch on are on the pages.
    let drift = p.run(&["man", "drift"]).code(0).stdout;
    assert!(drift.contains("Some objects could not be read."), "{drift}");
    let plan = p.run(&["man", "plan"]).code(0).stdout;
    assert!(
        plan.contains(r"\-\-detailed\-exitcode: no changes"),
        "{plan}"
    );
    assert!(plan.contains("CMDEPLOY_FINGERPRINT_KEY"), "{plan}");
    p.run(&["man", "nosuch"]).code(1);
}

#[test]
fn man_out_writes_every_page() {
    let p = Project::example("contoso");
    let dir = p.path().join("man");
    p.run(&["man", "--out", dir.to_str().unwrap()]).code(0);
    let mut written: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(written.len(), command_paths().len(), "{written:?}");
    for name in [
        "cmdeploy.1",
        "cmdeploy-plan.1",
        "cmdeploy-state-show.1",
        "cmdeploy-lab-serve.1",
    ] {
        assert!(
            written.iter().any(|w| w == name),
            "{name} missing: {written:?}"
        );
    }
}
