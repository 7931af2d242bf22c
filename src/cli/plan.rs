//! `plan`: print what `install` would do, changing nothing.

use std::path::PathBuf;

use clap::Args;

use super::Settings;
use crate::error::{Exit, Report};
use crate::host::Host;
use crate::ui::{Output, Printer};

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Judge the host as install would with these failing checks ignored
    #[arg(long, value_name = "NAME[,NAME]", value_delimiter = ',')]
    pub ignore_check: Vec<String>,

    /// Skip the DNS and HTTPS reachability probes
    #[arg(long)]
    pub offline: bool,
}

pub fn run(s: &Settings, args: &PlanArgs, host: &Host, printer: &mut Printer) -> Result<Exit, Report> {
    let (profile, facts, pre) = super::check::evaluate(s, &args.ignore_check, args.offline, host, printer)?;
    let home = invoking_home(host);
    let plan = crate::plan::build(&profile, &facts, &pre, &s.layout, &home);
    match s.output {
        Output::Json => printer.json(&plan),
        Output::Human => {
            let text = crate::ui::render::plan_text(&plan, printer.color_out);
            printer.out(text.trim_end());
        }
    }
    Ok(Exit::Success)
}

/// Home of the user who ran sudo (their kubeconfig goes there), else $HOME.
fn invoking_home(host: &Host) -> PathBuf {
    if let Some(user) = host
        .env
        .var(crate::env_vars::SUDO_USER)
        .filter(|u| !u.is_empty() && u != "root")
    {
        let passwd = host
            .fs
            .read_to_string(std::path::Path::new("/etc/passwd"))
            .unwrap_or_default();
        if let Some(home) = passwd.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() >= 6 && f[0] == user).then(|| PathBuf::from(f[5]))
        }) {
            return home;
        }
        return PathBuf::from("/home").join(user);
    }
    host.env
        .var(crate::env_vars::HOME)
        .map_or_else(|| PathBuf::from("/root"), PathBuf::from)
}
