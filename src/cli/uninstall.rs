//! `uninstall`: remove k3s and everything this tool put on the host.

use clap::Args;

use super::Settings;
use crate::error::{Exit, Report};
use crate::host::Host;
use crate::k3s::{kubeconfig, uninstall};
use crate::ui::{Output, Printer, Prompter};

#[derive(Debug, Args)]
pub struct UninstallArgs {
    /// Also delete the image store, lock files and every other file in the data dir
    #[arg(long)]
    pub purge: bool,
}

pub fn run(s: &Settings, args: &UninstallArgs, host: &Host, printer: &mut Printer) -> Result<Exit, Report> {
    let keep = if args.purge {
        "including the image store (--purge)".to_owned()
    } else {
        format!("keeping the image store in {}", s.layout.store().display())
    };
    let prompter = Prompter {
        yes: s.yes,
        stdin_tty: s.term.stdin,
        stderr_tty: s.term.stderr,
    };
    if !prompter.confirm(&format!(
        "Remove k3s, every DIGIT workload and their data from this host, {keep}?"
    ))? {
        printer.note("Nothing was changed.");
        return Ok(Exit::Success);
    }
    let user = kubeconfig::invoking_user(host.fs.as_ref(), host.env.as_ref());
    let opts = uninstall::Options {
        layout: &s.layout,
        purge: args.purge,
        user_kubeconfig: Some(kubeconfig::path_for(&user)),
    };
    let report = uninstall::uninstall(host.fs.as_ref(), host.cmd.as_ref(), &opts);
    match s.output {
        Output::Json => printer.json(&report),
        Output::Human => {
            for line in &report.done {
                printer.out(&format!("  done  {line}"));
            }
            for line in &report.left {
                printer.out(&format!("  LEFT  {line}"));
            }
        }
    }
    if report.left.is_empty() {
        printer.note("k3s is uninstalled; nothing was left behind.");
        Ok(Exit::Success)
    } else {
        Err(Report::msg(
            format!("uninstall left {} things behind (listed above)", report.left.len()),
            Exit::Failed,
        )
        .with_hint("a reboot releases busy mounts; then run `digit-quickstart uninstall --yes` again"))
    }
}
