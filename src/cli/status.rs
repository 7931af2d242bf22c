//! `status`: k3s, the node, every component, and the checks; exit 1 when
//! anything is unhealthy.

use clap::Args;

use super::Settings;
use crate::error::{Exit, Report};
use crate::host::Host;
use crate::ui::{Output, Printer};

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The cluster to read (default: k3s's)
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<std::path::PathBuf>,
}

pub fn run(s: &Settings, args: &StatusArgs, host: &Host, printer: &mut Printer) -> Result<Exit, Report> {
    let profile = crate::profile::load(&s.profile, &super::check::user_files())?;
    let runtime = super::runtime()?;
    let http = crate::host::net::http_client(crate::status::HTTP_TIMEOUT)
        .map_err(|e| Report::msg(format!("could not set up HTTP: {e}"), Exit::Failed))?;
    let data_fs = super::check::user_files();
    let req = crate::status::Request {
        host,
        data_fs: &data_fs,
        profile: &profile,
        layout: &s.layout,
        kubeconfig: args.kubeconfig.clone().unwrap_or_else(|| {
            host.fs
                .real_path(std::path::Path::new(crate::k3s::kubeconfig::K3S_KUBECONFIG))
        }),
        k3s: args.kubeconfig.is_none(),
        http,
        ingress_url: host.env.var(crate::env_vars::INGRESS_URL),
        port_forward: crate::deploy::saved_target(&data_fs, &s.layout).ingress
            == crate::deploy::manifests::target::Ingress::None,
    };
    let status = runtime.block_on(crate::status::gather(&req));
    match s.output {
        Output::Json => printer.json(&status),
        Output::Human => printer.out(crate::ui::render::status_text(&status, printer.color_out).trim_end()),
    }
    Ok(if status.healthy {
        Exit::Success
    } else {
        Exit::CheckFailed
    })
}
