//! One module per subcommand; each returns the process exit code.

mod apply;
mod apply_outcome;
mod ccmsetup;
mod docs;
mod drift;
mod generate;
mod gpo;
mod graph;
mod import;
mod lab;
mod plan;
mod resolve;
mod show;
mod state;
mod state_mv;
mod state_show;

use crate::cli::{Cli, Command, LabCommand};
use crate::output::Output;
use crate::session::Session;
use crate::Failure;

/// Runs the command.
pub async fn run(cli: Cli, out: Output) -> Result<i32, Failure> {
    match cli.command {
        Command::Validate { format, strict } => validate(&cli.dir, format, strict, out),
        Command::Ccmsetup(cmd) => ccmsetup::run(cmd, out),
        Command::Gpo(cmd) => gpo::run(cmd, out),
        Command::Plan(args) => plan::run(&cli.dir, args, out).await,
        Command::Apply(args) => apply::run(&cli.dir, args, out).await,
        Command::Drift(args) => drift::run(&cli.dir, args, out).await,
        Command::Graph(args) => graph::run(&cli.dir, args),
        Command::Import(args) => import::run(&cli.dir, args, out).await,
        Command::State(cmd) => state::run(&cli.dir, cmd, out),
        Command::Schema(args) => {
            let schema = match args.file {
                crate::cli::SchemaFile::Manifest => {
                    let registry = crate::session::registry();
                    cmdeploy_engine::manifest::schema::project_schema(&registry)
                }
                crate::cli::SchemaFile::DriftAck => cmdeploy_engine::drift::ack::schema(),
            };
            println!(
                "{}",
                serde_json::to_string_pretty(&schema).unwrap_or_default()
            );
            Ok(0)
        }
        Command::Lab(LabCommand::Generate(args)) => generate::run(&args),
        Command::Lab(cmd) => lab::run(&cli.dir, cmd, out).await,
        Command::Completions(args) => docs::completions(args.shell),
        Command::Show(args) => show::run(&args, out),
        Command::Resolve(args) => resolve::run(&cli.dir, &args, out).await,
        Command::Man(args) => docs::man(&args),
    }
}

fn validate(
    dir: &std::path::Path,
    format: crate::cli::DiagnosticFormat,
    strict: bool,
    out: Output,
) -> Result<i32, Failure> {
    let json = matches!(format, crate::cli::DiagnosticFormat::Json);
    match Session::open(dir) {
        Ok(s) => {
            // A secret that plan could not read is a mistake of the manifests too: an unset
            // variable or a missing file, at its reference. The values are dropped at once.
            let (_, unreadable) = s.read_secrets();
            if unreadable.has_errors() {
                let mut all = s.warnings.clone();
                all.extend(unreadable.iter().cloned());
                if json {
                    println!("{}", crate::output::diagnostics_json(&all, false));
                    return Ok(1);
                }
                return Err(Failure::Diagnostics(all));
            }
            let failed = strict && !s.warnings.is_empty();
            if json {
                println!("{}", crate::output::diagnostics_json(&s.warnings, !failed));
            } else {
                out.diagnostics(&s.warnings);
                if failed {
                    eprintln!("--strict: the warnings above fail validation.");
                } else {
                    println!(
                        "{} {} resources in {} files.",
                        out.paint("\x1b[32;1m", "Valid:"),
                        s.project.resources.len(),
                        s.project.files.len()
                    );
                }
            }
            Ok(i32::from(failed))
        }
        Err(Failure::Diagnostics(d)) if json => {
            println!("{}", crate::output::diagnostics_json(&d, false));
            Ok(1)
        }
        Err(e) => Err(e),
    }
}
