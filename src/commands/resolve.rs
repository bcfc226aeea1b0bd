//! `cmdeploy resolve`: where a client at an address, in an AD site, or a host of the manifests
//! lands, from the manifests or, with `--estate`, from what the site holds.

use std::path::Path;

use cmdeploy_engine::diagnostics::{Diagnostic, Diagnostics};
use cmdeploy_providers::configmgr::{resolve, resolve_estate, resolve_host};

use crate::cli::ResolveArgs;
use crate::output::Output;
use crate::session::Session;
use crate::Failure;

/// Runs `resolve`: 0 when covered by a boundary and one site at most, 2 with a warning, 1 when
/// the manifests are invalid, the site cannot be read, or a host cannot be placed (no
/// `--estate`, or no device record).
pub async fn run(dir: &Path, args: &ResolveArgs, out: Output) -> Result<i32, Failure> {
    // The manifests' boundaries include those declared from data sources (AD subnets).
    let s = Session::open_read(dir).await?;
    out.diagnostics(&s.warnings);
    s.report_unread(out);
    let target = args.target.trim();
    let declared = match resolve_host::device_name(target) {
        Some(_) => resolve_host::declared_by(&s.ctx.resources, target),
        None => Vec::new(),
    };
    let answer = if args.estate {
        let device = resolve_host::device_name(target);
        let (model, records) = estate_model(&s, device.as_deref()).await?;
        match resolve_host::locate(target, declared.clone(), &records) {
            Some((host, at)) => {
                let mut answer = resolve::resolve_location(&model, target, &at);
                answer.host = Some(host);
                answer
            }
            None if !declared.is_empty() => {
                return Err(Failure::Message(format!(
                    "{target} ({}) has no device record at the site: it has not been discovered and no client of it has registered (Get-CMDevice -Name {} -Resource returned nothing); resolve one of its addresses or its AD site instead",
                    declared.join(", "),
                    device.unwrap_or_default()
                )))
            }
            None => resolve::resolve(&model, target),
        }
    } else {
        if !declared.is_empty() {
            return Err(Failure::Diagnostics(needs_estate(&s, target, &declared)));
        }
        resolve::resolve(&resolve::Model::from_resources(&s.ctx.resources), target)
    };
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

/// The error for a host of the manifests resolved without `--estate`, at the table that
/// declares it: the manifests hold no address for it (not a manifest rule, so not a `validate`
/// code).
fn needs_estate(s: &Session, target: &str, declared: &[String]) -> Diagnostics {
    let resources = &s.ctx.resources;
    let d = Diagnostic::error(
        "cmdeploy::resolve::host_without_address",
        format!(
            "{} declares host {target}, but the manifests hold no address or AD site for it",
            declared.join(", ")
        ),
    )
    .with_help(resolve_host::needs_estate_help(target));
    let loc = resources
        .by_address
        .values()
        .find(|r| declared.first() == Some(&r.address.to_string()))
        .map(|r| r.loc.clone());
    let mut out = Diagnostics::new();
    out.push(match loc {
        Some(l) => d.at(l),
        None => d,
    });
    out
}

/// The site's model, read through the connection of the first `site` resource (boundaries,
/// groups and relationships are hierarchy-wide), with the discovery records of `device`.
async fn estate_model(
    s: &Session,
    device: Option<&str>,
) -> Result<(resolve::Model, Vec<serde_json::Value>), Failure> {
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
    resolve_estate::read_model(&s.ctx, connection, &code, device)
        .await
        .map_err(|e| Failure::Message(format!("reading the site through {}: {e}", connection.key)))
}
