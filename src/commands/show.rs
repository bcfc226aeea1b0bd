//! `cmdeploy show PLANFILE`: a plan saved with `plan --out`, printed as `plan` printed it (text)
//! or as its JSON, without reading the estate or state.

use cmdeploy::plan_text::render_human;
use cmdeploy_engine::plan::{Plan, FORMAT_VERSION};

use crate::cli::ShowArgs;
use crate::output::Output;
use crate::Failure;

/// Prints the saved plan.
///
/// # Errors
/// The file cannot be read, is not a plan, or is of another plan format version.
pub fn run(args: &ShowArgs, out: Output) -> Result<i32, Failure> {
    let file = args.plan_file.display();
    let text = cmdeploy_engine::input::read_text(&args.plan_file, MAX_PLAN_BYTES)
        .map_err(|e| Failure::Message(format!("cannot read the saved plan {file}: {e}")))?;
    let plan: Plan = serde_json::from_str(&text).map_err(|e| {
        Failure::Message(format!(
            "{file} is not a cmdeploy plan (write one with `cmdeploy plan --out {file}`): {e}"
        ))
    })?;
    if plan.format_version != FORMAT_VERSION {
        return Err(Failure::Message(format!(
            "{file} is a plan of format version {}; this cmdeploy reads {FORMAT_VERSION}",
            plan.format_version
        )));
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&plan).unwrap_or_default()
        );
        return Ok(0);
    }
    let project = plan.project.as_deref().unwrap_or("(unnamed)");
    let lineage = if plan.state_lineage.is_empty() {
        "a new state".to_string()
    } else {
        format!(
            "state {} serial {}",
            plan.state_lineage.chars().take(8).collect::<String>(),
            plan.state_serial
        )
    };
    println!(
        "Saved plan {file}: project {project}, made against {lineage}, manifests {}.\n",
        plan.manifest_hash.chars().take(12).collect::<String>()
    );
    print!("{}", render_human(&plan, out.color));
    println!("\nApply exactly this plan with: cmdeploy apply {file}");
    Ok(0)
}

/// Saved plans larger than this are refused (a plan of 10,000 resources is a few MiB).
const MAX_PLAN_BYTES: u64 = 256 * 1024 * 1024;
