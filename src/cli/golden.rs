//! `prepare-golden` and the hidden `golden-firstboot` the clone's unit runs.

use clap::Args;

use super::Settings;
use super::install::{InstallArgs, Stage};
use crate::error::{Exit, Report};
use crate::host::{Cmd, Host};
use crate::ui::Printer;

#[derive(Debug, Args)]
pub struct PrepareGoldenArgs {
    /// Also deploy DIGIT on the template (clones then start with it running)
    #[arg(long)]
    pub with_digit: bool,

    /// Install from this bundle (verified first)
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<std::path::PathBuf>,

    /// Take images, k3s and seed files from a `serve` mirror
    #[arg(long, value_name = "URL", conflicts_with = "bundle")]
    pub mirror: Option<String>,

    /// Let k3s and the pull use this registry mirror for docker.io
    #[arg(long, value_name = "URL", conflicts_with_all = ["bundle", "mirror"])]
    pub registry_mirror: Option<String>,

    /// Take the k3s binary and air-gap images from this directory (still verified)
    #[arg(long, value_name = "DIR", conflicts_with = "bundle")]
    pub k3s_artifacts: Option<std::path::PathBuf>,
}

fn io(path: &str) -> impl FnOnce(std::io::Error) -> Report + '_ {
    move |source| {
        Report::new(
            crate::error::IoError {
                action: "write",
                path: path.into(),
                source,
            },
            Exit::Failed,
        )
    }
}

pub fn prepare(s: &Settings, args: &PrepareGoldenArgs, host: &Host, printer: &mut Printer) -> Result<Exit, Report> {
    let install = InstallArgs {
        only: None::<Stage>,
        k3s_artifacts: args.k3s_artifacts.clone(),
        registry_mirror: args.registry_mirror.clone(),
        registry_auth_file: None,
        ignore_check: Vec::new(),
        cluster: super::cluster::ClusterArgs::default(),
        registry: None,
        registry_plain_http: false,
        target: None,
        wait_timeout: None,
        report: None,
        jobs: 8,
        mirror: args.mirror.clone(),
        bundle: args.bundle.clone(),
        source: None,
        no_deploy: !args.with_digit,
        drop_store: false,
    };
    let exit = super::install::run(s, &install, host, printer)?;
    if exit != Exit::Success {
        return Ok(exit);
    }
    // Our own binary where the unit expects it.
    let binary = std::path::Path::new("/usr/local/bin/digit-quickstart");
    if let Ok(me) = std::env::current_exe()
        && host.fs.real_path(binary) != me
    {
        host.fs
            .copy_atomic_from_outside(&me, binary, 0o755)
            .map_err(io("/usr/local/bin/digit-quickstart"))?;
    }
    let t =
        crate::golden::prepare(host.fs.as_ref(), &binary.display().to_string()).map_err(io(crate::golden::MARKER))?;
    // A clean disk for the clone: k3s stopped, its state flushed.
    let _ = host.cmd.output(
        &Cmd::new("systemctl", "stop k3s before cloning")
            .arg("stop")
            .arg("k3s.service"),
    );
    printer.out(&format!(
        "ready to clone: shut this VM down and clone it. On first boot each clone gets its own machine-id, \
         a hostname of its own (this one is {}), and a new k3s node password, before k3s starts.",
        t.hostname
    ));
    Ok(Exit::Success)
}

pub fn first_boot(_s: &Settings, host: &Host, printer: &mut Printer) -> Result<Exit, Report> {
    let random = |n: usize| {
        let mut bytes = vec![0u8; n.div_ceil(2)];
        let _ = getrandom::fill(&mut bytes);
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()[..n].to_owned()
    };
    let r = crate::golden::first_boot(host.fs.as_ref(), &random).map_err(io(crate::golden::MARKER))?;
    if let Some(name) = &r.hostname {
        // /etc/hostname was read at boot already: set the running name too.
        let _ = host
            .cmd
            .output(&Cmd::new("hostname", "set the new hostname").arg(name.clone()));
    }
    printer.json(&r);
    Ok(Exit::Success)
}
