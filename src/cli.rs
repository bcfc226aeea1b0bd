//! Command-line arguments (clap), as the user typed them.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Infrastructure as code for Configuration Manager client deployment.
#[derive(Debug, Parser)]
#[command(name = "cmdeploy", version, about, long_about = None)]
pub struct Cli {
    /// Project directory (holds cmdeploy.toml).
    #[arg(short = 'C', long = "dir", global = true, default_value = ".")]
    pub dir: PathBuf,
    /// Never colour output (colour is used only on a terminal anyway).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Log more: -v for info (each Script run), -vv for debug (winrm-rs too). Without it,
    /// CMDEPLOY_LOG sets the filter (info, debug, trace or EnvFilter directives); the default
    /// is warnings only.
    #[arg(short = 'v', long = "verbose", global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Append the logs to this file (plain text, with timestamps) instead of stderr, which keeps
    /// warnings only.
    #[arg(long, global = true, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the manifests: exit 0 when valid, 1 with every diagnostic.
    Validate {
        /// `text` (miette diagnostics) or `json` (machine-readable list).
        #[arg(long, value_enum, default_value_t = DiagnosticFormat::Text)]
        format: DiagnosticFormat,
        /// Treat warnings as errors: exit 1 when any diagnostic is reported (for CI gates).
        #[arg(long)]
        strict: bool,
    },
    /// The CCMSetup command-line model.
    #[command(subcommand)]
    Ccmsetup(CcmsetupCommand),
    /// Group Policy files.
    #[command(subcommand)]
    Gpo(GpoCommand),
    /// Show what apply would change.
    Plan(PlanArgs),
    /// Change the estate to match the manifests.
    Apply(ApplyArgs),
    /// Report what changed behind cmdeploy's back: exit 0 in sync, 2 drift, 3 reads failed.
    Drift(DriftArgs),
    /// Print the dependency graph.
    Graph(GraphArgs),
    /// Adopt existing objects: write TOML for what a connection holds unmanaged, and bind it in state.
    Import(ImportArgs),
    /// Inspect or repair state.
    #[command(subcommand)]
    State(StateCommand),
    /// Print a JSON Schema: of the manifests (default) or of drift.ack.toml.
    Schema(SchemaArgs),
    /// The embedded lab: a simulated estate to try manifests against.
    #[command(subcommand)]
    Lab(LabCommand),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(CompletionsArgs),
    /// Show a plan saved with `plan --out`, as text or JSON, without reading the estate.
    Show(ShowArgs),
    /// Where a client lands: the boundaries, boundary groups and site an address, an AD site
    /// or a host resolves to, and the site systems per role now and after each fallback time
    /// (exit 0; 2 with a warning: no boundary covers it, or groups assign it to different
    /// sites). From the manifests, or from the site with `--estate`.
    Resolve(ResolveArgs),
    /// Print a man page (roff): `cmdeploy man` for cmdeploy(1), `cmdeploy man state mv` for
    /// cmdeploy-state-mv(1); `--out DIR` writes every page.
    Man(ManArgs),
}

/// `resolve` arguments.
#[derive(Debug, clap::Args)]
pub struct ResolveArgs {
    /// An IPv4 or IPv6 address (`10.2.0.15`), a host of the manifests (a client target such as
    /// `kiosk01`, an imaging host; needs `--estate`, which reads its IP addresses, subnets and
    /// AD site from its device record), or an AD site name (`HQ`).
    pub target: String,
    /// Print the answer as JSON.
    #[arg(long)]
    pub json: bool,
    /// Read the boundaries, groups and relationships from the site (through the first `site`
    /// resource's connection) instead of the manifests.
    #[arg(long)]
    pub estate: bool,
}

/// `show` arguments.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// A plan file written by `cmdeploy plan --out FILE`.
    pub plan_file: PathBuf,
    /// Print the plan's JSON (the format of `plan --json`).
    #[arg(long)]
    pub json: bool,
}

/// `man` arguments.
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// The command whose page to print, e.g. `plan` or `state mv` (default: cmdeploy itself).
    pub command: Vec<String>,
    /// Write every page (cmdeploy.1, cmdeploy-plan.1, ...) into this directory instead.
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    pub out: Option<PathBuf>,
}

/// `schema` arguments.
#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// Which file's schema.
    #[arg(value_enum, default_value_t = SchemaFile::Manifest)]
    pub file: SchemaFile,
}

/// The files `cmdeploy schema` describes.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SchemaFile {
    /// The project's manifests (cmdeploy.toml and the resource files):
    /// schemas/cmdeploy.schema.json.
    Manifest,
    /// drift.ack.toml: schemas/drift-ack.schema.json.
    DriftAck,
}

/// `completions` arguments.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// How diagnostics are printed.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DiagnosticFormat {
    /// For people: file, line, carets, help.
    Text,
    /// For programs.
    Json,
}

/// `ccmsetup` subcommands.
#[derive(Debug, Subcommand)]
pub enum CcmsetupCommand {
    /// Lint a CCMSetup command line: exit 0 without errors (warnings allowed), 1 with one.
    Check {
        /// Where the line is used: push, gpo, manual, workgroup, internet or intune.
        #[arg(long)]
        context: Option<String>,
        /// The command line, e.g. "CCMSetup.exe /mp:mp1 SMSSITECODE=ABC".
        line: String,
    },
}

/// `gpo` subcommands.
#[derive(Debug, Subcommand)]
pub enum GpoCommand {
    /// List the ConfigMgr policies a Registry.pol sets and lint them: exit 1 on an error.
    Inspect {
        /// A Registry.pol file, or a GPO backup folder (DomainSysvol/GPO/Machine/registry.pol).
        path: std::path::PathBuf,
    },
}

/// `plan` arguments.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Save the plan to apply it later exactly.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print the plan as JSON.
    #[arg(long)]
    pub json: bool,
    /// Exit 0 when there are no changes, 2 when there are, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// One line per kind (N to add, N to change, N to destroy) instead of every resource's
    /// changes, as plans of more than 50 changes print anyway.
    #[arg(long)]
    pub compact: bool,
    /// Only these resources and what they depend on: kind.name, kind.name["key"] or a whole kind.
    #[arg(long = "target", value_name = "ADDR|KIND")]
    pub targets: Vec<String>,
    /// Parallel remote reads.
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,
}

/// `apply` arguments.
#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// A plan saved with `plan --out`.
    pub plan_file: Option<PathBuf>,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// Only these resources and what they depend on: kind.name, kind.name["key"] or a whole kind.
    #[arg(long = "target", value_name = "ADDR|KIND")]
    pub targets: Vec<String>,
    /// Operations in flight at once.
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,
    /// Seconds to wait for the state lock.
    #[arg(long, default_value_t = 0)]
    pub lock_timeout: u64,
    /// Print the outcome and the per-host recap as JSON on standard output (the plan and the
    /// progress lines go to standard error).
    #[arg(long)]
    pub json: bool,
}

/// Drift report formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DriftFormat {
    /// For people.
    Text,
    /// For programs (the report's JSON).
    Json,
    /// For a pull-request comment or a CI job summary.
    Markdown,
    /// JUnit XML, for the test results tab of a CI system.
    Junit,
}

/// `drift` arguments.
#[derive(Debug, clap::Args)]
pub struct DriftArgs {
    /// Output format (of standard output).
    #[arg(long, value_enum, default_value_t = DriftFormat::Text)]
    pub format: DriftFormat,
    /// Also write the JUnit XML report to FILE (same refresh, same exit code).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write the markdown report to FILE (same refresh, same exit code).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Print the JSON report on standard output (as `--format json`), e.g. beside `--junit FILE`.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Parallel remote reads.
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,
}

/// Graph formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GraphFormat {
    /// Graphviz DOT.
    Dot,
    /// JSON nodes and edges.
    Json,
    /// An SVG picture (laid out without Graphviz).
    Svg,
}

/// `graph` arguments.
#[derive(Debug, clap::Args)]
pub struct GraphArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
}

/// `import` arguments.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The `[connection.NAME]` to read from: a site server that a `[site]` uses (boundary,
    /// boundary_group, account, client_push).
    #[arg(long)]
    pub connection: String,
    /// Kinds to import, comma-separated (default: every kind importable through the connection).
    /// Objects the chosen ones refer to (a group's boundaries) are imported with them.
    #[arg(long, value_delimiter = ',')]
    pub kinds: Vec<String>,
    /// The manifest file to write, in the project directory.
    #[arg(long, default_value = "imported.toml")]
    pub out: PathBuf,
    /// Replace the file when it exists (the objects it declares are imported again).
    #[arg(long)]
    pub force: bool,
    /// Seconds to wait for the state lock.
    #[arg(long, default_value_t = 0)]
    pub lock_timeout: u64,
}

/// `state` subcommands.
#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// List the addresses in state.
    List,
    /// Show one entry: its attributes, id, dependencies and connection (secrets as
    /// `(sensitive)`); an unknown address names the nearest one in state.
    Show {
        /// Address.
        address: String,
        /// Print the entry as JSON, as state holds it.
        #[arg(long)]
        json: bool,
    },
    /// Rename an address in state (the object is untouched): refused when FROM is not in
    /// state, TO is, or their kinds differ. Written atomically under the state lock.
    Mv {
        /// The address the object is known by, e.g. `boundary.hq_lan` (a resource without a
        /// key moves each of its instances).
        from: String,
        /// The new address, of the same kind.
        to: String,
        /// Say what would move, and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Seconds to wait for the state lock.
        #[arg(long, default_value_t = 0)]
        lock_timeout: u64,
    },
    /// Stop managing an object (it stays in the estate).
    Rm {
        /// Address.
        address: String,
    },
    /// Show who holds the state lock (user@host, since when, which command, process id).
    Lock,
    /// Break the state lock: end the holder's database session (postgres) or clear a stale lock.
    Unlock,
}

/// `lab ad-subnet` subcommands.
#[derive(Debug, Subcommand)]
pub enum AdSubnetCommand {
    /// Add a subnet (New-ADReplicationSubnet): `lab ad-subnet add 10.5.0.0/24 --site Branch4`.
    Add {
        /// The prefix, e.g. 10.5.0.0/24.
        name: String,
        /// The AD site it belongs to (an existing site).
        #[arg(long)]
        site: String,
        /// Location text.
        #[arg(long, default_value = "")]
        location: String,
        /// Description.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Move a subnet to another site (Set-ADReplicationSubnet -Site).
    SetSite {
        /// The prefix.
        name: String,
        /// The new site.
        site: String,
    },
    /// Remove a subnet (Remove-ADReplicationSubnet).
    Remove {
        /// The prefix.
        name: String,
    },
}

/// `lab` subcommands.
#[derive(Debug, Subcommand)]
pub enum LabCommand {
    /// Re-seed the lab from lab.toml.
    Reset,
    /// Show the lab's estate.
    Show {
        /// Print the estate as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change the lab's Active Directory replication subnets, as an administrator in Active
    /// Directory Sites and Services would (what `[data.ad_subnets.NAME]` reads).
    #[command(subcommand)]
    AdSubnet(AdSubnetCommand),
    /// Run one ConfigMgr or GroupPolicy cmdlet statement, as an administrator at the console.
    Console {
        /// The connection whose host runs the statement (e.g. cm01).
        #[arg(long)]
        connection: String,
        /// The statement, in PowerShell syntax.
        statement: String,
    },
    /// Serve the lab as a WinRM (WS-Management) endpoint on loopback, until Ctrl-C.
    ///
    /// Prints `listening on http(s)://ADDR/wsman` (and `ca file: PATH` with --https). It answers
    /// as a WinRM service configured as Windows ships it: clients log in with Negotiate (NTLM)
    /// as a lab domain user (e.g. CONTOSO\cmadmin), or with Kerberos given --keytab, with message
    /// encryption over HTTP; Basic is refused unless --allow-basic (and, over HTTP,
    /// --allow-unencrypted).
    Serve {
        /// Loopback address to listen on (port 0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:5985")]
        listen: SocketAddr,
        /// Serve HTTPS with a generated CA (written to .cmdeploy/lab/serve-ca.pem).
        #[arg(long)]
        https: bool,
        /// Milliseconds to wait before answering each Command and each completing Receive.
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
        /// Milliseconds each Script costs before its first call, as a site's WinRM shell,
        /// powershell.exe start and ConfigurationManager module import do (an estimate: seconds).
        #[arg(long, default_value_t = 0)]
        script_startup_ms: u64,
        /// Milliseconds each cmdlet a Script runs costs (an estimate: 200-1300 ms on a site).
        #[arg(long, default_value_t = 0)]
        cmdlet_ms: u64,
        /// Fraction (0-1) of requests answered with HTTP 500 and a w:InternalError fault.
        #[arg(long, default_value_t = 0.0)]
        fail_rate: f64,
        /// Fraction (0-1) of requests whose connection is closed without a response.
        #[arg(long, default_value_t = 0.0)]
        drop_rate: f64,
        /// Host a shell acts as when its Create names none (default: the first site's server).
        #[arg(long)]
        default_host: Option<String>,
        /// Seconds the ccmsetup service takes to install after the bootstrap exits (overrides
        /// `ccmsetup_seconds` in lab.toml for the running lab).
        #[arg(long)]
        ccmsetup_seconds: Option<f64>,
        /// Accept Basic authentication, as `winrm set winrm/config/service/auth
        /// @{Basic="true"}` does (Windows ships with Basic off).
        #[arg(long)]
        allow_basic: bool,
        /// Accept unencrypted requests over HTTP, as `winrm set winrm/config/service
        /// @{AllowUnencrypted="true"}` does (Windows ships with it off; Basic over HTTP needs it).
        #[arg(long)]
        allow_unencrypted: bool,
        /// MaxShellsPerUser: shells one user may have open (2012 R2+ dumps show 2147483647;
        /// the schema and some hosts say 30).
        #[arg(long, default_value_t = 2_147_483_647)]
        max_shells_per_user: usize,
        /// MaxConcurrentOperationsPerUser: requests of one user processed at once (a waiting
        /// Receive counts); one more gets the w:QuotaLimit fault 2150859174 (2012+: 1500;
        /// 2008 R2: 15).
        #[arg(long, default_value_t = 1500)]
        max_concurrent_operations_per_user: usize,
        /// IdleTimeout in milliseconds: a shell without requests for this long is deleted
        /// (Windows' minimum 60000; 2012+ default 7200000).
        #[arg(long, default_value_t = 7_200_000)]
        idle_timeout_ms: u64,
        /// MaxEnvelopeSizekb: larger requests are answered HTTP 413 (Windows' default 500).
        #[arg(long, default_value_t = 500)]
        max_envelope_kb: usize,
        /// The OEM code page of a shell whose Create sets no WINRS_CODEPAGE (437 or 850).
        #[arg(long, default_value_t = 437)]
        oem_codepage: u16,
        /// CbtHardeningLevel: `relaxed` (Windows' default: an NTLM channel binding is checked
        /// if sent) or `strict` (required over HTTPS).
        #[arg(long, default_value = "relaxed", value_parser = ["relaxed", "strict"])]
        cbt_hardening: String,
        /// A keytab with the HTTP/<host> keys of the lab's hosts (what `kadmin ktadd` writes):
        /// the service then accepts Kerberos (`Authorization: Kerberos`, or a Kerberos token
        /// under Negotiate) as a domain member does, with message encryption over HTTP and the
        /// channel binding checked over HTTPS. The realm's KDC is only needed by clients.
        #[arg(long, value_name = "FILE")]
        keytab: Option<std::path::PathBuf>,
        /// With --https: accept certificate authentication, as `winrm set
        /// winrm/config/service/auth @{Certificate="true"}` with a client-certificate mapping
        /// does: a client certificate issued by this CA (PEM), with the Client Authentication
        /// usage and a lab user's UPN in its Subject Alternative Name, logs on as that user.
        #[arg(long, value_name = "FILE", requires = "https")]
        client_ca: Option<std::path::PathBuf>,
    },
    /// Write a synthetic project (manifests and lab seed) for scale tests.
    Generate(GenerateArgs),
}

/// `lab generate` arguments.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// IP-subnet boundaries.
    #[arg(long, default_value_t = 10)]
    pub boundaries: usize,
    /// Boundary groups (boundaries are spread over them round-robin).
    #[arg(long, default_value_t = 2)]
    pub groups: usize,
    /// Workgroup client hosts (one client_group over hosts.csv).
    #[arg(long, default_value_t = 10)]
    pub hosts: usize,
    /// Also seed the lab with every object the manifests declare, as an apply would have left
    /// them: the first apply then only sets the account's password and adopts the rest into
    /// state, so a converged estate of any size is quick to reach.
    #[arg(long)]
    pub converged: bool,
    /// Directory to write (created; must be empty or a generated project).
    pub out_dir: PathBuf,
}
