//! `cmdeploy resolve`: where a client at an address or in an AD site lands, from the manifests
//! or, with `--estate`, from what the site holds.

use std::path::Path;

use cmdeploy_providers::configmgr::{resolve, resolve_estate};

use crate::cli::ResolveArgs;
use crate::output::Output;
use crate::session::Session;
use crate::Failure;

/// Runs `resolve`: 0 when covered by a boundary and one site at most, 2 with a warning, 1 when
/// the manifests are invalid or the site cannot be read.
pub async fn run(dir: &Path, args: &ResolveArgs, out: Output) -> Result<i32, Failure> {
    // The manifests' boundaries include those declared from data sources (AD subnets).
    let s = Session::open_read(dir).await?;
    out.diagnostics(&s.warnings);
    s.report_unread(out);
    let model = if args.estate {
        estate_model(&s).await?
    } else {
        resolve::Model::from_resources(&s.ctx.resources)
    };
    let answer = resolve::resolve(&model, &args.target);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&answer).unwrap_or_default()
        );
    } else {
        print!("{}", resolve::render(&answer));
    }
    Ok(if !s.unread.is_empty() {
        1
    } else if answer.warnings.is_empty() {
        0
    } else {
        2
    })
}

/// The site's model, read through the connection of the first `site` resource (boundaries,
/// groups and relationships are hierarchy-wide).
async fn estate_model(s: &Session) -> Result<resolve::Model, Failure> {
    let resources = &s.ctx.resources;
    let site = resources.of_kind("site").next().ok_or_else(|| {
        Failure::Message("resolve --estate needs a `site` resource to read the site through".into())
    })?;
    let connection = resources
        .connections
        .get(&site.address)
        .ok_or_else(|| Failure::Message(format!("{} has no connection", site.address)))?;
    let code = site
        .str_attr("code")
        .unwrap_or(&site.address.name)
        .to_uppercase();
    resolve_estate::read_model(&s.ctx, connection, &code)
        .await
        .map_err(|e| Failure::Message(format!("reading the site through {}: {e}", connection.key)))
}
