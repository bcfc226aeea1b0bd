//! `cmdeploy resolve`: where a client at an address or in an AD site lands, from the manifests.

use std::path::Path;

use cmdeploy_providers::configmgr::resolve;

use crate::cli::ResolveArgs;
use crate::output::Output;
use crate::session::Session;
use crate::Failure;

/// Runs `resolve`: 0 when covered by a boundary and one site at most, 2 with a warning.
pub fn run(dir: &Path, args: &ResolveArgs, out: Output) -> Result<i32, Failure> {
    let s = Session::open(dir)?;
    out.diagnostics(&s.warnings);
    let model = resolve::Model::from_resources(&s.ctx.resources);
    let answer = resolve::resolve(&model, &args.target);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&answer).unwrap_or_default()
        );
    } else {
        print!("{}", resolve::render(&answer));
    }
    Ok(if answer.warnings.is_empty() { 0 } else { 2 })
}
