//! `install`: k3s, then the DIGIT deploy (seed, health, smoke, banner);
//! `--only k3s` or `--only deploy` runs one stage.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::Settings;
use crate::error::{Exit, Report};
use crate::host::Host;
use crate::k3s::lifecycle::{self, Progress, Request};
use crate::k3s::render::{K3sSettings, PROXY_VARS, node_name};
use crate::ui::{Printer, Prompter};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Stage {
    K3s,
    /// Deploy DIGIT into an existing cluster (k3s's, or --kubeconfig)
    Deploy,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Run only this stage
    #[arg(long, value_enum)]
    pub only: Option<Stage>,

    /// Take the k3s binary and air-gap images from this directory (still verified)
    #[arg(long, value_name = "DIR")]
    pub k3s_artifacts: Option<PathBuf>,

    /// Let k3s pull docker.io images from this mirror (written to registries.yaml)
    #[arg(long, value_name = "URL")]
    pub registry_mirror: Option<String>,

    /// Docker Hub credentials for k3s, in Docker's config.json format
    #[arg(long, value_name = "FILE")]
    pub registry_auth_file: Option<PathBuf>,

    /// Go on although these host checks fail (comma-separated ids)
    #[arg(long, value_name = "NAME[,NAME]", value_delimiter = ',')]
    pub ignore_check: Vec<String>,

    /// With --only deploy: the cluster to deploy into (default: k3s's)
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// Seconds to wait for each component before diagnosing it (default: per component)
    #[arg(long, value_name = "SECS", hide = true)]
    pub wait_timeout: Option<u64>,
}

pub fn run(s: &Settings, args: &InstallArgs, host: &Host, printer: &mut Printer) -> Result<Exit, Report> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Report::msg(format!("could not start the async runtime: {e}"), Exit::Failed))?;
    let http = crate::host::net::http_client(Duration::from_secs(60))
        .map_err(|e| Report::msg(format!("could not set up HTTPS: {e}"), Exit::Failed))?;
    if args.only == Some(Stage::Deploy) {
        let profile = crate::profile::load(&s.profile, &super::check::user_files())?;
        let prompter = prompter(s);
        if !prompter.confirm(&format!(
            "Deploy DIGIT {} ({} components) into namespace {}?",
            profile.digit.release,
            profile.components.len(),
            profile.namespace
        ))? {
            printer.note("Nothing was changed.");
            return Ok(Exit::Success);
        }
        let kubeconfig = args.kubeconfig.clone().unwrap_or_else(|| {
            host.fs
                .real_path(std::path::Path::new(crate::k3s::kubeconfig::K3S_KUBECONFIG))
        });
        return deploy(s, args, host, printer, &runtime, http, &profile, kubeconfig, None, None);
    }
    let (profile, facts, pre) = super::check::evaluate(s, &args.ignore_check, true, host, printer)?;
    if pre.failed() {
        let failed: Vec<&str> = pre
            .checks
            .iter()
            .filter(|c| c.status == crate::preflight::Status::Fail)
            .map(|c| c.id.as_str())
            .collect();
        return Err(
            Report::msg(format!("host checks failed: {}", failed.join(", ")), Exit::CheckFailed)
                .with_hint("`digit-quickstart check` explains each one; --ignore-check NAME goes on regardless"),
        );
    }
    let question = if args.only == Some(Stage::K3s) {
        format!("Install k3s {} as a systemd service on this host?", profile.k3s.version)
    } else {
        format!(
            "Install k3s {} as a systemd service and deploy DIGIT {} ({} components) on this host?",
            profile.k3s.version,
            profile.digit.release,
            profile.components.len()
        )
    };
    if !prompter(s).confirm(&question)? {
        printer.note("Nothing was changed.");
        return Ok(Exit::Success);
    }
    let auth = super::check::registry_auth(host, args.registry_auth_file.as_deref())?;
    let settings = K3sSettings {
        node_name: node_name(&facts.hostname),
        disable: profile.k3s.disable.clone(),
        mirror: args.registry_mirror.clone(),
        docker_hub: auth.for_registry("docker.io").cloned(),
        proxy_env: PROXY_VARS
            .iter()
            .filter_map(|k| host.env.var(k).map(|v| ((*k).to_owned(), v)))
            .collect(),
    };
    let req = Request {
        profile: &profile,
        layout: &s.layout,
        arch: &facts.arch,
        settings,
        artifacts_from: args.k3s_artifacts.clone(),
        http: http.clone(),
        poll: Duration::from_secs(2),
        timeout: None,
    };
    let display = crate::ui::k3s::K3sProgress::new(printer.animate, printer.quiet);
    let progress = |p: Progress| display.event(&p);
    let result = runtime.block_on(lifecycle::install(host, &req, &progress));
    display.finish();
    let outcome = result?;
    if args.only == Some(Stage::K3s) {
        if s.output == crate::ui::Output::Json {
            printer.json(&outcome);
            return Ok(Exit::Success);
        }
        if outcome.unchanged {
            printer.out(&format!("k3s {} unchanged", outcome.version));
        } else {
            printer.out(&format!("k3s {} is installed and ready", outcome.version));
        }
        printer.out(&format!("export KUBECONFIG={}", outcome.kubeconfig.display()));
        return Ok(Exit::Success);
    }
    printer.note(&format!(
        "k3s {} {}",
        outcome.version,
        if outcome.unchanged {
            "unchanged"
        } else {
            "installed and ready"
        }
    ));
    let root_kubeconfig = host
        .fs
        .real_path(std::path::Path::new(crate::k3s::kubeconfig::K3S_KUBECONFIG));
    deploy(
        s,
        args,
        host,
        printer,
        &runtime,
        http,
        &profile,
        root_kubeconfig,
        Some(outcome.kubeconfig.clone()),
        Some(facts.memory.total),
    )
}

fn prompter(s: &Settings) -> Prompter {
    Prompter {
        yes: s.yes,
        stdin_tty: s.term.stdin,
        stderr_tty: s.term.stderr,
    }
}

#[allow(clippy::too_many_arguments)]
fn deploy(
    s: &Settings,
    args: &InstallArgs,
    host: &Host,
    printer: &mut Printer,
    runtime: &tokio::runtime::Runtime,
    http: reqwest::Client,
    profile: &crate::profile::Profile,
    kubeconfig: PathBuf,
    user_kubeconfig: Option<PathBuf>,
    node_memory: Option<u64>,
) -> Result<Exit, Report> {
    let data_fs = super::check::user_files();
    let poll = host
        .env
        .var("DIGIT_QUICKSTART_POLL_MS")
        .and_then(|v| v.parse().ok())
        .map_or(Duration::from_secs(3), Duration::from_millis);
    let req = crate::deploy::stage::Request {
        profile,
        data_fs: &data_fs,
        layout: &s.layout,
        kubeconfig,
        http,
        poll,
        timeout: args.wait_timeout.map(Duration::from_secs),
        ingress_url: host.env.var("DIGIT_QUICKSTART_INGRESS_URL"),
        node_memory,
    };
    let display = crate::ui::deploy::DeployProgress::new(printer.animate, printer.quiet);
    let progress = |p: crate::deploy::run::Progress| display.event(&p);
    let result = runtime.block_on(crate::deploy::stage::run(&req, &progress));
    display.finish();
    let outcome = result?;
    let exit = if outcome.healthy() {
        Exit::Success
    } else {
        Exit::CheckFailed
    };
    if s.output == crate::ui::Output::Json {
        printer.json(&outcome);
    } else {
        let text = crate::ui::render::banner(&outcome, user_kubeconfig.as_deref(), printer.color_out);
        printer.out(text.trim_end());
    }
    Ok(exit)
}
