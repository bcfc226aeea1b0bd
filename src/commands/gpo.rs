//! `cmdeploy gpo inspect PATH`: read a GPO's machine Registry.pol (the file, or a GPO backup
//! folder), list the ConfigMgr client-deployment, site-assignment and WSUS values it sets
//! (configmgr.md §3.1–§3.3) and lint them; exit 1 when a finding is an error.

use cmdeploy_providers::gpo::inspect::{inspect, machine_pol_path};
use cmdeploy_providers::gpo::registry_pol::read;

use crate::cli::GpoCommand;
use crate::output::Output;
use crate::Failure;

/// Runs a gpo subcommand.
pub fn run(cmd: GpoCommand, out: Output) -> Result<i32, Failure> {
    let GpoCommand::Inspect { path } = cmd;
    let file = machine_pol_path(&path).ok_or_else(|| {
        Failure::Message(format!(
            "{}: no machine Registry.pol (looked for the file, DomainSysvol/GPO/Machine/registry.pol, Machine/registry.pol and registry.pol)",
            path.display()
        ))
    })?;
    let bytes =
        std::fs::read(&file).map_err(|e| Failure::Message(format!("{}: {e}", file.display())))?;
    let pol = read(&bytes).map_err(|e| Failure::Message(format!("{}: {e}", file.display())))?;
    let report = inspect(&pol);
    println!(
        "{} ({} records, {} ConfigMgr-relevant)",
        file.display(),
        pol.records.len(),
        report.settings.len()
    );
    let mut policy = "";
    for s in &report.settings {
        if s.policy != policy {
            policy = s.policy;
            println!("{}", out.paint("\x1b[1m", policy));
        }
        let shown = match &s.value {
            Some(v) => format!("{v} ({})", v.reg_type()),
            None => "deleted (**del., the part is Disabled)".to_string(),
        };
        println!("  HKLM\\{}\\{} = {shown}", s.key, s.value_name);
    }
    if report.settings.is_empty() {
        println!("  no ConfigMgr client-deployment, site-assignment or WSUS values");
    }
    for l in &report.lints {
        eprintln!(
            "{}",
            super::ccmsetup::render(&l.finding, &l.value_name, &l.text, &out)
        );
    }
    let errors = report.lints.iter().filter(|l| l.finding.is_error()).count();
    let warnings = report.lints.len() - errors;
    if errors == 0 {
        println!("{} {warnings} warning(s).", out.paint("\x1b[32;1m", "OK:"));
        Ok(0)
    } else {
        eprintln!("{errors} error(s), {warnings} warning(s)");
        Ok(1)
    }
}
