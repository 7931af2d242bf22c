//! `export --helm DIR`: the quickstart's settings as an environment for
//! eGov's DIGIT-DevOps Helm deployer (see src/export).

use std::path::PathBuf;

use clap::Args;

use super::Settings;
use crate::error::{Exit, IoError, Report};
use crate::ui::{Output, Printer};

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write the environment file, its secrets template, the release chart and a README here
    #[arg(long, value_name = "DIR")]
    pub helm: PathBuf,

    /// The domain DIGIT will be served at in production (default: a placeholder to fill in)
    #[arg(long, value_name = "HOST")]
    pub domain: Option<String>,
}

pub fn run(s: &Settings, args: &ExportArgs, printer: &mut Printer) -> Result<Exit, Report> {
    let profile = crate::profile::load(&s.profile, &super::check::user_files())?;
    // The digests this machine verified, when it has pulled.
    let digests = crate::deploy::locked_digests(&s.layout, &profile);
    let export = crate::export::helm(&profile, &digests, args.domain.as_deref());
    let files = crate::export::write(&args.helm, &export).map_err(|source| {
        Report::new(
            IoError {
                action: "write the Helm export into",
                path: args.helm.clone(),
                source,
            },
            Exit::Failed,
        )
    })?;
    if s.output == Output::Json {
        printer.json(&serde_json::json!({"files": files, "digests": !digests.is_empty()}));
        return Ok(Exit::Success);
    }
    let mut text = format!(
        "Wrote a DIGIT-DevOps environment for profile {} (DIGIT {}){}:\n",
        profile.name,
        profile.digit.release,
        if digests.is_empty() {
            " with tags only (no lock file yet: `pull` records digests)"
        } else {
            " with each image's verified digest"
        }
    );
    for f in &files {
        text.push_str(&format!("  {}\n", f.display()));
    }
    text.push_str(&format!(
        "Next: {} says where each file goes in a DIGIT-DevOps checkout and which secrets to supply.",
        args.helm.join(crate::export::README_FILE).display()
    ));
    printer.out(&text);
    Ok(Exit::Success)
}
