//! `doctor`: writes the diagnostics archive (secrets redacted).

use clap::Args;

use super::Settings;
use crate::error::{Exit, Report};
use crate::host::Host;
use crate::ui::Printer;

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Directory to write digit-quickstart-doctor-<timestamp>.tar.gz into
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub dir: std::path::PathBuf,

    /// The cluster to read (default: k3s's)
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<std::path::PathBuf>,
}

pub fn run(s: &Settings, args: &DoctorArgs, host: &Host, printer: &mut Printer) -> Result<Exit, Report> {
    let profile = crate::profile::load(&s.profile, &super::check::user_files())?;
    let facts = super::check::host_facts(s, &profile, true, host, printer)?;
    let data_fs = super::check::user_files();
    let runtime = super::runtime()?;
    let req = crate::doctor::Request {
        host,
        data_fs: &data_fs,
        profile: &profile,
        layout: &s.layout,
        kubeconfig: args.kubeconfig.clone().unwrap_or_else(|| {
            host.fs
                .real_path(std::path::Path::new(crate::k3s::kubeconfig::K3S_KUBECONFIG))
        }),
        facts_json: serde_json::to_string_pretty(&facts).unwrap_or_default(),
        out_dir: args.dir.clone(),
        stamp: crate::logging::stamp(host.clock.now()),
    };
    let path = runtime.block_on(crate::doctor::collect(&req))?;
    printer.out(&format!("{}", path.display()));
    printer.note("secrets are redacted; attach this file to your issue");
    Ok(Exit::Success)
}
