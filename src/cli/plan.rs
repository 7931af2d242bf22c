//! `plan`: print what `install` would do, changing nothing.

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
    let home = crate::k3s::kubeconfig::invoking_user(host.fs.as_ref(), host.env.as_ref()).home;
    let store = crate::images::StoreView::read(host.fs.as_ref(), &s.layout, &profile.name);
    let plan = crate::plan::build(&profile, &facts, &pre, &s.layout, &home, &store);
    match s.output {
        Output::Json => printer.json(&plan),
        Output::Human => {
            let text = crate::ui::render::plan_text(&plan, printer.color_out);
            printer.out(text.trim_end());
        }
    }
    Ok(Exit::Success)
}
