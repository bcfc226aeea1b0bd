//! `cmdeploy lab reset | show | ad-subnet | console | serve`.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use cmdeploy_lab::cost::CostModel;
use cmdeploy_lab::serve::faults::FaultInjection;
use cmdeploy_lab::serve::{serve, ServeOptions, ServiceConfig};
use cmdeploy_lab::Lab;

use crate::cli::{AdSubnetCommand, LabCommand};
use crate::output::Output;
use crate::session::Session;
use crate::Failure;

/// Runs a lab subcommand.
pub async fn run(dir: &Path, cmd: LabCommand, out: Output) -> Result<i32, Failure> {
    let s = Session::open(dir)?;
    let lab = Lab::open(&s.project.dir, &s.project.work_dir());
    let msg = |e: cmdeploy_lab::LabError| Failure::Message(e.to_string());
    match cmd {
        LabCommand::Generate(args) => return super::generate::run(&args),
        LabCommand::Reset => {
            let estate = lab.reset().map_err(msg)?;
            println!(
                "Lab reset from lab.toml: {} sites, {} boundaries, {} boundary groups, {} GPOs, {} hosts.",
                estate.sites.len(),
                estate.boundaries.len(),
                estate.boundary_groups.len(),
                estate.gpos.len(),
                estate.hosts.len()
            );
        }
        LabCommand::AdSubnet(change) => {
            use cmdeploy_lab::ad_replication as ad;
            let done = lab
                .with_estate(|e| match change {
                    AdSubnetCommand::Add {
                        name,
                        site,
                        location,
                        description,
                    } => ad::add_subnet(
                        e,
                        ad::AdSubnet {
                            name,
                            site,
                            location,
                            description,
                        },
                    ),
                    AdSubnetCommand::SetSite { name, site } => ad::set_subnet_site(e, &name, &site),
                    AdSubnetCommand::Remove { name } => ad::remove_subnet(e, &name),
                })
                .map_err(msg)?;
            match done {
                Ok(line) => println!("{line}"),
                Err(e) => {
                    eprintln!("{} {e}", out.paint("\x1b[31;1m", "error:"));
                    return Ok(1);
                }
            }
        }
        LabCommand::Show { json } => {
            let estate = cmdeploy_lab::show::without_credentials(lab.snapshot().map_err(msg)?);
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&estate).unwrap_or_default()
                );
            } else {
                print!("{}", cmdeploy_lab::show::summary(&estate));
            }
        }
        LabCommand::Console {
            connection,
            statement,
        } => {
            let (spec, _) = s
                .project
                .config
                .connections
                .get(&connection)
                .ok_or_else(|| Failure::Message(format!("unknown connection `{connection}`")))?;
            let host = spec
                .get("host")
                .and_then(Value::as_str)
                .unwrap_or(&connection)
                .to_string();
            match lab.console(&host, &statement) {
                Ok(v) => {
                    let items: Vec<Value> = match v {
                        Value::Array(a) => a,
                        other => vec![other],
                    }
                    .into_iter()
                    .filter(|v| !v.is_null())
                    .collect();
                    if !items.is_empty() {
                        let shown = if items.len() == 1 {
                            items[0].clone()
                        } else {
                            Value::Array(items)
                        };
                        println!(
                            "{}",
                            serde_json::to_string_pretty(&shown).unwrap_or_default()
                        );
                    }
                }
                Err(e) => {
                    eprintln!("{} {host}: {e}", out.paint("\x1b[31;1m", "error:"));
                    return Ok(1);
                }
            }
        }
        LabCommand::Serve {
            listen,
            https,
            latency_ms,
            script_startup_ms,
            cmdlet_ms,
            fail_rate,
            drop_rate,
            default_host,
            ccmsetup_seconds,
            allow_basic,
            allow_unencrypted,
            max_shells_per_user,
            max_concurrent_operations_per_user,
            idle_timeout_ms,
            max_envelope_kb,
            oem_codepage,
            cbt_hardening,
            keytab,
            client_ca,
        } => {
            if let Some(seconds) = ccmsetup_seconds {
                if !(seconds.is_finite() && seconds >= 0.0) {
                    return Err(Failure::Message(format!(
                        "--ccmsetup-seconds {seconds}: give a number of seconds, 0 or more"
                    )));
                }
                lab.with_estate(|e| e.ccmsetup_seconds = seconds)
                    .map_err(|e| Failure::Message(e.to_string()))?;
            }
            let opts = ServeOptions {
                service: ServiceConfig {
                    basic: allow_basic,
                    allow_unencrypted,
                    max_envelope_kb,
                    max_shells_per_user,
                    max_concurrent_operations_per_user,
                    idle_timeout: Duration::from_millis(idle_timeout_ms),
                    oem_codepage,
                    cbt_strict: cbt_hardening == "strict",
                },
                listen,
                https,
                faults: FaultInjection {
                    latency: Duration::from_millis(latency_ms),
                    fail_rate,
                    drop_rate,
                },
                cost: CostModel::from_millis(script_startup_ms, cmdlet_ms),
                default_host,
                keytab,
                client_ca,
            };
            let ctrl_c = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            serve(lab, opts, ctrl_c, |listening| {
                let mut stdout = std::io::stdout().lock();
                let _ = writeln!(stdout, "listening on {}", listening.url);
                if let Some(ca) = &listening.ca_file {
                    let _ = writeln!(stdout, "ca file: {}", ca.display());
                }
                let _ = stdout.flush();
            })
            .await
            .map_err(|e| Failure::Message(e.to_string()))?;
        }
    }
    Ok(0)
}
