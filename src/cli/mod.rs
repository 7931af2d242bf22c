//! Command-line surface: clap types, settings resolution and dispatch.

mod backup;
mod bundle;
mod check;
mod cluster;
mod doctor;
mod export;
mod golden;
mod images;
pub(crate) mod install;
mod join;
mod plan;
mod proxy;
mod pull;
mod reset;
mod serve;
mod status;
mod uninstall;
mod upgrade;

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::env_vars;
use crate::error::Exit;
use crate::host::Host;
use crate::layout::{DEFAULT_DATA_DIR, Layout};
use crate::profile::ProfileSource;
use crate::ui::{ColorChoice, Output, Printer, Terminal};

const EXIT_CODES: &str = "Exit codes:
  0  success (warnings allowed)
  1  a host check failed, or a health or smoke check failed
  2  usage or input error (bad flag, invalid profile)
  3  command not available in this build yet
  4  an operation failed (I/O, network, unexpected state)
  130  interrupted (Ctrl-C or SIGTERM) at a safe point; run it again to resume";

/// Take a fresh Linux VM to a working DIGIT dev/test deployment on k3s.
#[derive(Debug, Parser)]
#[command(name = "digit-quickstart", disable_version_flag = true, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(flatten)]
    global: GlobalArgs,

    /// Print the version and the embedded profiles' DIGIT and k3s versions
    #[arg(short = 'V', long)]
    version: bool,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Args)]
struct GlobalArgs {
    /// Profile to use: an embedded name (`dev`) or a YAML file path
    #[arg(long, global = true, value_name = "NAME|PATH", env = env_vars::PROFILE, default_value = "dev")]
    profile: String,

    /// Where digit-quickstart keeps its state, image store and reports
    #[arg(long, global = true, value_name = "DIR", env = env_vars::DATA_DIR, default_value = DEFAULT_DATA_DIR)]
    data_dir: PathBuf,

    /// Result format on stdout
    #[arg(long, global = true, value_enum, default_value_t = Output::Human)]
    output: Output,

    /// Answer yes to confirmations (needed when stdin is not a terminal)
    #[arg(short = 'y', long, global = true)]
    yes: bool,

    /// Print only results and errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,

    /// More detail on stderr (-vv for debug logs)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    /// When to use colour (NO_COLOR is honoured under `auto`)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,

    /// Treat DIR as `/` for every host file (tests and dry runs)
    #[arg(long, global = true, hide = true, value_name = "DIR", env = env_vars::ROOT)]
    root: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check whether this host can run the profile (CPU, memory, disk, ports, route, sizing...)
    Check(check::CheckArgs),
    /// Show every step `install` would take on this host, changing nothing
    Plan(plan::PlanArgs),
    /// Pull the profile's images (or the named ones) into the local store
    Pull(pull::PullArgs),
    /// Work with the locked images: `images push --to REGISTRY`
    #[command(subcommand)]
    Images(images::ImagesCommand),
    /// On the server: what a new VM runs to join this cluster as a k3s agent
    #[command(name = "join-command")]
    JoinCmd(join::JoinCommandArgs),
    /// On a new VM: install the same verified k3s as an agent and join the server
    Join(join::JoinArgs),
    /// Write the quickstart's settings as an environment for eGov's DIGIT-DevOps Helm deployer
    Export(export::ExportArgs),
    /// Serve DIGIT on a local port by port-forward (clusters without an Ingress)
    Proxy(proxy::ProxyArgs),
    /// Install k3s, pull and import the images, deploy and seed DIGIT, check it (resumable)
    Install(Box<install::InstallArgs>),
    /// Show the state of k3s and every DIGIT component, with health and smoke checks
    Status(status::StatusArgs),
    /// Remove the deployed app, keeping k3s and the image store (--redeploy: deploy again offline)
    Reset(reset::ResetArgs),
    /// Save the sandbox: database dump, uploaded files, secrets, profile and lock, in one archive
    Backup(backup::BackupArgs),
    /// List the backups in the data dir (name, time, profile, size)
    Backups,
    /// Put a backup back (verified first), restart in waves, run health and smoke
    Restore(backup::RestoreArgs),
    /// Move the install to a newer profile: plan diff, new images, backup, k3s and app upgraded (--rollback: back)
    Upgrade(Box<upgrade::UpgradeArgs>),
    /// Remove k3s and everything digit-quickstart installed (asks unless --yes)
    Uninstall(uninstall::UninstallArgs),
    /// Collect a diagnostics archive (secrets redacted)
    Doctor(doctor::DoctorArgs),
    /// Build or verify an offline bundle
    Bundle(bundle::BundleArgs),
    /// Serve images, k3s artifacts and seed files to other machines (classroom mirror)
    Serve(serve::ServeArgs),
    /// Ready this VM to be cloned: k3s and images in place, clones renew their identity on first boot
    PrepareGolden(golden::PrepareGoldenArgs),
    /// Run by the first-boot unit on a clone (renews machine-id, hostname, k3s node password)
    #[command(hide = true)]
    GoldenFirstboot,
    /// Print shell completions
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Global options after resolution.
pub struct Settings {
    pub profile: ProfileSource,
    pub layout: Layout,
    pub output: Output,
    pub yes: bool,
    pub verbose: u8,
    pub term: Terminal,
    /// This run's debug log, when the command keeps one.
    pub log_file: Option<std::path::PathBuf>,
}

/// Parses `args`, runs the command, renders any error; returns the exit code.
pub fn run(args: Vec<OsString>, host: &Host, term: Terminal, out: &mut dyn Write, err: &mut dyn Write) -> Exit {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            let is_help = matches!(
                e.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            );
            let text = if term.stderr {
                e.render().ansi().to_string()
            } else {
                e.render().to_string()
            };
            if is_help && e.kind() == ErrorKind::DisplayHelp {
                let _ = write!(out, "{text}");
                return Exit::Success;
            }
            let _ = write!(err, "{text}");
            return Exit::Usage;
        }
    };
    let Cli {
        global,
        version,
        command,
    } = cli;
    let GlobalArgs {
        profile,
        data_dir,
        output,
        yes,
        quiet,
        verbose,
        color,
        root,
    } = global;
    let rooted;
    let host = match root {
        Some(dir) => {
            rooted = Host {
                fs: Box::new(crate::host::RealFs::new(dir)),
                ..Host::real()
            };
            &rooted
        }
        None => host,
    };
    let color_out = crate::ui::resolve_color(color, host.env.as_ref(), term.stdout);
    let color_err = crate::ui::resolve_color(color, host.env.as_ref(), term.stderr);
    // Commands that change the host keep a debug log in the data dir.
    let log_file = match &command {
        Some(Command::Install(_) | Command::Reset(_) | Command::PrepareGolden(_) | Command::Upgrade(_)) => {
            let dir = Layout::new(&data_dir).logs();
            let name = match &command {
                Some(Command::Reset(_)) => "reset",
                Some(Command::Upgrade(_)) => "upgrade",
                _ => "install",
            };
            let path = dir.join(format!("{name}-{}.log", crate::logging::stamp(host.clock.now())));
            std::fs::create_dir_all(&dir)
                .and_then(|()| std::fs::File::create(&path))
                .ok()
                .map(|f| (path, f))
        }
        _ => None,
    };
    let (log_path, log_handle) = match log_file {
        Some((p, f)) => (Some(p), Some(f)),
        None => (None, None),
    };
    crate::logging::init(verbose, log_handle);
    let mut printer = Printer::new(out, err, output, color_out, color_err, quiet, term.stderr);
    let settings = Settings {
        profile: ProfileSource::from_arg(&profile),
        layout: Layout::new(data_dir),
        output,
        yes,
        verbose,
        term,
        log_file: log_path,
    };

    if version {
        let profiles: Vec<_> = crate::profile::EMBEDDED
            .iter()
            .map(|(name, file, text)| {
                crate::profile::parse(text, &format!("embedded:{file}")).map_err(|e| format!("{name}: {e}"))
            })
            .collect();
        printer.out(crate::ui::render::version_text(&profiles).trim_end());
        return Exit::Success;
    }
    let Some(command) = command else {
        printer.diag(Cli::command().render_help().to_string().trim_end());
        return Exit::Usage;
    };
    let result = match command {
        Command::Check(args) => check::run(&settings, &args, host, &mut printer),
        Command::Plan(args) => plan::run(&settings, &args, host, &mut printer),
        Command::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "digit-quickstart", &mut buf);
            printer.out(String::from_utf8_lossy(&buf).trim_end());
            Ok(Exit::Success)
        }
        Command::Pull(args) => pull::run(&settings, &args, host, &mut printer),
        Command::JoinCmd(args) => join::join_command(&settings, &args, host, &mut printer),
        Command::Join(args) => join::join(&settings, &args, host, &mut printer),
        Command::Export(args) => export::run(&settings, &args, &mut printer),
        Command::Images(cmd) => images::run(&settings, &cmd, host, &mut printer),
        Command::Proxy(args) => proxy::run(&settings, &args, &mut printer),
        Command::Install(args) => install::run(&settings, &args, host, &mut printer),
        Command::Status(args) => status::run(&settings, &args, host, &mut printer),
        Command::Reset(args) => reset::run(&settings, &args, host, &mut printer),
        Command::Backup(args) => backup::backup(&settings, &args, host, &mut printer),
        Command::Backups => backup::list(&settings, host, &mut printer),
        Command::Restore(args) => backup::restore(&settings, &args, host, &mut printer),
        Command::Upgrade(args) => upgrade::run(&settings, &args, host, &mut printer),
        Command::Uninstall(args) => uninstall::run(&settings, &args, host, &mut printer),
        Command::Doctor(args) => doctor::run(&settings, &args, host, &mut printer),
        Command::Bundle(args) => bundle::run(&settings, &args, host, &mut printer),
        Command::Serve(args) => serve::run(&settings, &args, host, &mut printer),
        Command::PrepareGolden(args) => golden::prepare(&settings, &args, host, &mut printer),
        Command::GoldenFirstboot => golden::first_boot(&settings, host, &mut printer),
    };
    match result {
        Ok(code) => code,
        Err(mut report) => {
            tracing::debug!(error = ?report.chain(), "command failed");
            if let Some(log) = &settings.log_file {
                report = report.with_hint(format!("the debug log of this run is {}", log.display()));
            }
            printer.error(&report);
            report.exit
        }
    }
}

/// The async runtime every command that talks to the network or a cluster
/// uses: two workers (the CI machine and small VMs have two cores).
/// `--kubeconfig`, or k3s's own (below --root).
pub(crate) fn kubeconfig_or_k3s(host: &Host, arg: Option<&std::path::Path>) -> PathBuf {
    arg.map(std::path::Path::to_path_buf).unwrap_or_else(|| {
        host.fs
            .real_path(std::path::Path::new(crate::k3s::kubeconfig::K3S_KUBECONFIG))
    })
}

/// How often to poll the cluster: `default`, or the tests' override.
pub(crate) fn poll_interval(host: &Host, default: std::time::Duration) -> std::time::Duration {
    host.env
        .var(env_vars::POLL_MS)
        .and_then(|v| v.parse().ok())
        .map_or(default, std::time::Duration::from_millis)
}

/// The app is gone or replaced: the next install must deploy again.
pub(crate) fn forget_deploy(
    s: &Settings,
    data_fs: &dyn crate::host::Fs,
    profile: &str,
) -> Result<(), crate::error::Report> {
    let path = s.layout.journal();
    let mut journal = crate::install::journal::Journal::load(data_fs, &path, profile);
    journal.forget(data_fs, &path, "deploy").map_err(|source| {
        crate::error::Report::new(
            crate::error::IoError {
                action: "update the step journal",
                path: path.clone(),
                source,
            },
            crate::error::Exit::Failed,
        )
    })
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, crate::error::Report> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| crate::error::Report::msg(format!("could not start the async runtime: {e}"), Exit::Failed))
}
