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
