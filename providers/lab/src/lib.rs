//! # cmdeploy-lab — the simulated estate cmdeploy's Scripts run against
//!
//! A model of an enterprise (domains, sites and their systems, boundaries and groups, GPOs,
//! hosts), seeded from a project's `lab.toml` and persisted under `.cmdeploy/lab/`, that executes
//! the runner's payload with ConfigMgr's documented rules and Windows' real behaviour, never
//! kinder. It is the embedded default transport, so a manifest can be tried with nothing else
//! installed, and the stand-in for Windows in every test and benchmark.
//!
//! This crate sits beside the providers, never below them: it depends on `cmdeploy-engine` and
//! `cmdeploy-providers` (the call payload, the runner, the CCMSetup model, Registry.pol, the
//! NTLM and Kerberos primitives its endpoint accepts), and only the CLI, the tests and the
//! benchmarks depend on it.
//!
//! * [`Lab`] — a lab on disk: seed, estate, locks, audit log, and running one stdin document;
//! * [`transport`] — the `lab` transport, registered by the CLI beside `winrm`;
//! * [`harness`] — the registry and context extensions tests and benchmarks run with;
//! * [`exec`] — executing a payload as a host (site server, domain controller, client), with
//!   `runner_model` (what the lab knows of the reviewed runner), `args` (PowerShell's parameter
//!   binding errors) and `ps_value` (values as Windows PowerShell 5.1 prints them);
//! * the estate: [`model`] (the enterprise), `settings_model` (a site's settings), `gpo_model`
//!   (GPOs and their Registry.pol files), `host_index` (hosts by name), `seed` (`lab.toml` into
//!   an estate), [`generate`] (synthetic estates for scale);
//! * ConfigurationManager cmdlets: `cm_site`, `cm_boundary`, `cm_relationship`, `cm_settings`,
//!   `cm_sup`, `cm_conflict`, `cm_device`, `cm_resource`, `cm_package`, `cm_deployment`,
//!   `cm_publishing`, `collection`;
//! * GroupPolicy cmdlets: `gp`, `gp_pol`, `gp_report`;
//! * hosts: `host` (CCMSetup installs, client probes), `ccmsetup_service` (the asynchronous
//!   CCMSetup service), `ccmsetup_wait` (Scripts that wait for it), `prereq` (client push prerequisites), `double_hop` (no network
//!   credentials for a second hop);
//! * [`cost`] — what a real site pays per Script and per cmdlet;
//! * [`serve`] — `cmdeploy lab serve`: the lab behind a WS-Management endpoint (NTLM, Kerberos,
//!   Basic, certificates; HTTP and HTTPS); `console` — `cmdeploy lab console`; [`show`] —
//!   `cmdeploy lab show`.
#![deny(missing_docs)]

pub mod ad_model;
pub mod ad_replication;
pub(crate) mod args;
pub(crate) mod ccmsetup_service;
pub(crate) mod ccmsetup_wait;
pub(crate) mod client_steps;
pub(crate) mod cm_boundary;
pub(crate) mod cm_conflict;
pub(crate) mod cm_deployment;
pub(crate) mod cm_device;
pub(crate) mod cm_package;
pub(crate) mod cm_publishing;
pub(crate) mod cm_relationship;
pub(crate) mod cm_resource;
pub(crate) mod cm_settings;
pub(crate) mod cm_site;
pub(crate) mod cm_sup;
pub(crate) mod collection;
pub(crate) mod console;
pub mod cost;
pub(crate) mod device_state;
pub(crate) mod double_hop;
mod error;
pub mod exec;
pub mod generate;
pub(crate) mod gp;
pub(crate) mod gp_pol;
pub(crate) mod gp_report;
pub(crate) mod gpo_model;
pub mod harness;
pub(crate) mod host;
pub(crate) mod host_index;
pub(crate) mod journal;
mod lab;
pub mod model;
pub(crate) mod prereq;
pub(crate) mod ps_value;
pub(crate) mod relationship_model;
pub(crate) mod runner_model;
pub(crate) mod seed;
pub mod serve;
pub(crate) mod settings_model;
pub mod show;
pub mod transport;

pub use error::LabError;
pub use lab::{Lab, SEED_FILE};
