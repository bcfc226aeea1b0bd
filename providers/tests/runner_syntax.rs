//! The runner template, rendered, parses without error nodes under a tree-sitter PowerShell
//! grammar (tree-sitter-powershell from crates.io), and so does the bootstrap.

use cmdeploy_providers::powershell::runner::{runner, BOOTSTRAP};

fn errors(script: &str) -> Vec<String> {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .expect("the PowerShell grammar loads");
    let tree = parser
        .parse(script, None)
        .expect("the parser returns a tree");
    let mut out = Vec::new();
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        if node.is_error() || node.is_missing() {
            let p = node.start_position();
            let line = script.lines().nth(p.row).unwrap_or("");
            out.push(format!(
                "line {}:{} {}: {line}",
                p.row + 1,
                p.column + 1,
                node.kind()
            ));
        }
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
    out
}

#[test]
fn the_runner_has_no_syntax_errors() {
    let e = errors(runner());
    assert!(
        e.is_empty(),
        "syntax errors in the runner:\n{}",
        e.join("\n")
    );
}

#[test]
fn the_bootstrap_has_no_syntax_errors() {
    let e = errors(BOOTSTRAP);
    assert!(
        e.is_empty(),
        "syntax errors in the bootstrap:\n{}",
        e.join("\n")
    );
}

#[test]
fn the_grammar_does_catch_broken_scripts() {
    assert!(!errors("if ($x) { 'unterminated }").is_empty());
    assert!(!errors("@{ a = }").is_empty());
}
