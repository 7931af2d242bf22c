//! `reset`: delete what the profile deployed (its namespace, so every PVC
//! and the seeded data with it) but keep k3s, the image store, the imported
//! images and the generated secrets; `--redeploy` deploys again from what is
//! local, with no network.

use std::time::Duration;

use clap::Args;

use super::Settings;
use crate::error::{Exit, Report};
use crate::host::Host;
use crate::ui::{Printer, Prompter};

#[derive(Debug, Args)]
pub struct ResetArgs {
    /// Deploy again afterwards, from the local store and cache only
    #[arg(long)]
    pub redeploy: bool,

    /// The cluster (default: k3s's)
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<std::path::PathBuf>,

    /// Seconds to wait for the namespace to be gone
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub timeout: u64,
}

pub fn run(s: &Settings, args: &ResetArgs, host: &Host, printer: &mut Printer) -> Result<Exit, Report> {
    let profile = crate::profile::load(&s.profile, &super::check::user_files())?;
    let prompter = Prompter {
        yes: s.yes,
        stdin_tty: s.term.stdin,
        stderr_tty: s.term.stderr,
    };
    if !prompter.confirm(&format!(
        "Delete namespace {} (every DIGIT component, its volumes and data), keeping k3s and the images?",
        profile.namespace
    ))? {
        printer.note("Nothing was changed.");
        return Ok(Exit::Success);
    }
    let kubeconfig = super::kubeconfig_or_k3s(host, args.kubeconfig.as_deref());
    let runtime = super::runtime()?;
    let poll = super::poll_interval(host, Duration::from_secs(2));
    let ns = profile.namespace.clone();
    let limit = Duration::from_secs(args.timeout);
    runtime.block_on(async {
        let client = crate::k3s::lifecycle::kube_client(&kubeconfig, None).await?;
        crate::deploy::remove::remove(&client, &ns, limit, poll).await
    })?;
    // The app is gone: the next install must deploy again.
    let data_fs = super::check::user_files();
    super::forget_deploy(s, &data_fs, &profile.name)?;
    printer.note(&format!(
        "namespace {ns} deleted; k3s, the image store and the secrets are kept"
    ));
    drop(runtime);
    if !args.redeploy {
        return Ok(Exit::Success);
    }
    super::install::redeploy(s, host, printer, &profile, kubeconfig)
}
