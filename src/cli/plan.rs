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

    /// Print the Kubernetes objects install applies, as YAML (secrets redacted)
    #[arg(long)]
    pub manifests: bool,

    /// Plan an install from this `serve` mirror
    #[arg(long, value_name = "URL")]
    pub mirror: Option<String>,

    /// Plan an install from this offline bundle
    #[arg(long, value_name = "FILE", conflicts_with = "mirror")]
    pub bundle: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub registry: super::check::RegistryArgs,
}

pub fn run(s: &Settings, args: &PlanArgs, host: &Host, printer: &mut Printer) -> Result<Exit, Report> {
    if args.manifests {
        return manifests(s, host, printer);
    }
    // The images are checked where the install would fetch them: a
    // `serve` mirror speaks the registry protocol too; a bundle has them.
    let mut registry = args.registry.options(host)?;
    if let Some(url) = &args.mirror {
        let serve = super::check::RegistryArgs {
            registry_mirror: Some(url.clone()),
            ..Default::default()
        };
        registry = serve.options(host)?;
    }
    let probe = args.bundle.is_none().then_some(&registry);
    let (mut profile, facts, pre) = super::check::evaluate(s, &args.ignore_check, args.offline, probe, host, printer)?;
    if let Some(url) = &args.mirror {
        super::install::use_mirror(&mut profile, url);
    }
    let home = crate::k3s::kubeconfig::invoking_user(host.fs.as_ref(), host.env.as_ref()).home;
    let store = crate::images::StoreView::read(host.fs.as_ref(), &s.layout, &profile.name);
    let mut plan = crate::plan::build(&profile, &facts, &pre, &s.layout, &home, &store);
    if let Some(url) = &args.mirror {
        plan.source = format!("the digit-quickstart mirror {url} (images, k3s, seed files; every byte verified)");
    }
    if let Some(b) = &args.bundle {
        plan.source = format!(
            "the bundle {} (every member verified before use; no network)",
            b.display()
        );
    }
    match s.output {
        Output::Json => printer.json(&plan),
        Output::Human => {
            let text = crate::ui::render::plan_text(&plan, printer.color_out);
            printer.out(text.trim_end());
        }
    }
    Ok(Exit::Success)
}

/// The objects alone: no host facts needed, so it works anywhere.
fn manifests(s: &Settings, host: &Host, printer: &mut Printer) -> Result<Exit, Report> {
    use crate::deploy::manifests::{Inputs, render, to_yaml};
    let profile = crate::profile::load(&s.profile, &super::check::user_files())?;
    let digests = crate::deploy::locked_digests(&s.layout, &profile);
    let files = crate::deploy::cached_seed_files(host.fs.as_ref(), &s.layout, &profile);
    let rendered = render(&Inputs {
        profile: &profile,
        secrets: None,
        digests: &digests,
        files: &files,
        public_url: None,
        target: &crate::deploy::saved_target(&super::check::user_files(), &s.layout),
        pull_auth: None,
    });
    let ordered = rendered.ordered(&profile);
    match s.output {
        Output::Json => {
            let objects: Vec<&serde_json::Value> = ordered.iter().map(|m| &m.object).collect();
            printer.json(&objects);
        }
        Output::Human => printer.out(to_yaml(&ordered).trim_end()),
    }
    Ok(Exit::Success)
}
