//! `install`: for now the k3s stage alone (`install --only k3s`); the full
//! install joins the other stages when they land.

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
}

pub fn run(s: &Settings, args: &InstallArgs, host: &Host, printer: &mut Printer) -> Result<Exit, Report> {
    if args.only != Some(Stage::K3s) {
        return Err(Report::msg(
            "`install` is not available yet in this build for the whole stack (it arrives with the end-to-end install)",
            Exit::NotAvailable,
        )
        .with_hint("`digit-quickstart install --only k3s` installs k3s; `pull` fetches the images"));
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
    let prompter = Prompter {
        yes: s.yes,
        stdin_tty: s.term.stdin,
        stderr_tty: s.term.stderr,
    };
    if !prompter.confirm(&format!(
        "Install k3s {} as a systemd service on this host?",
        profile.k3s.version
    ))? {
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
    let http = crate::host::net::http_client(Duration::from_secs(60))
        .map_err(|e| Report::msg(format!("could not set up HTTPS: {e}"), Exit::Failed))?;
    let req = Request {
        profile: &profile,
        layout: &s.layout,
        arch: &facts.arch,
        settings,
        artifacts_from: args.k3s_artifacts.clone(),
        http,
        poll: Duration::from_secs(2),
        timeout: None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Report::msg(format!("could not start the async runtime: {e}"), Exit::Failed))?;
    let display = crate::ui::k3s::K3sProgress::new(printer.animate, printer.quiet);
    let progress = |p: Progress| display.event(&p);
    let result = runtime.block_on(lifecycle::install(host, &req, &progress));
    display.finish();
    let outcome = result?;
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
    Ok(Exit::Success)
}
