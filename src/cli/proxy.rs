//! `proxy`: DIGIT on a local port by port-forward, for clusters without an
//! Ingress (the banner of such an install points here).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use super::Settings;
use crate::error::{Exit, Report};
use crate::ui::Printer;

#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// The cluster DIGIT runs in (default: k3s's)
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// The kubeconfig's context (default: its current context)
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,

    /// Address to listen on
    #[arg(long, default_value_t = SocketAddr::from(([127, 0, 0, 1], crate::deploy::stage::PROXY_PORT)))]
    pub listen: SocketAddr,
}

pub fn run(s: &Settings, args: &ProxyArgs, printer: &mut Printer) -> Result<Exit, Report> {
    let profile = crate::profile::load(&s.profile, &super::check::user_files())?;
    let kubeconfig = args
        .kubeconfig
        .clone()
        .unwrap_or_else(|| PathBuf::from(crate::k3s::kubeconfig::K3S_KUBECONFIG));
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let client = crate::k3s::lifecycle::kube_client(&kubeconfig, args.context.as_deref()).await?;
        let (addr, task) =
            crate::deploy::tunnel::start(args.listen, client, crate::deploy::tunnel::Routes::of(&profile))
                .await
                .map_err(|e| {
                    Report::msg(format!("could not listen on {}: {e}", args.listen), Exit::Failed)
                        .with_hint("another program has the port: choose one with --listen 127.0.0.1:PORT")
                })?;
        printer.out(&format!(
            "DIGIT at http://{addr}/digit-ui/employee/user/login (Ctrl-C stops)"
        ));
        tokio::select! {
            _ = task => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        Ok::<_, Report>(())
    })?;
    Ok(Exit::Success)
}
