//! `bundle create` and `bundle verify`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};

use super::Settings;
use crate::error::{Exit, Report};
use crate::host::Host;
use crate::profile::quantity::human_bytes;
use crate::ui::Printer;

#[derive(Debug, Args)]
pub struct BundleArgs {
    #[command(subcommand)]
    pub command: BundleCommand,
}

#[derive(Debug, Subcommand)]
pub enum BundleCommand {
    /// Build one offline bundle from the local store and caches (fetching only what is missing)
    Create {
        /// Where to write it (default: ./digit-quickstart-<profile>-<digit release>.tar.zst)
        #[arg(short = 'o', long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Architecture of the k3s artifacts to include
        #[arg(long, default_value = "amd64")]
        arch: String,
    },
    /// Check every member of a bundle against its manifest, installing nothing
    Verify {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

fn profile_text(s: &Settings) -> Result<String, Report> {
    match &s.profile {
        crate::profile::ProfileSource::Embedded(name) => crate::profile::EMBEDDED
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, _, t)| (*t).to_owned())
            .ok_or_else(|| Report::msg(format!("no embedded profile named `{name}`"), Exit::Usage)),
        crate::profile::ProfileSource::File(p) => std::fs::read_to_string(p).map_err(|source| {
            Report::new(
                crate::error::IoError {
                    action: "read",
                    path: p.clone(),
                    source,
                },
                Exit::Usage,
            )
        }),
    }
}

/// Byte progress as plain lines (at most every 5 s) on stderr.
fn ticker(quiet: bool, total: u64, verb: &'static str) -> impl Fn(u64) {
    let state = std::sync::Mutex::new((0u64, Instant::now()));
    move |n| {
        let mut s = state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        s.0 += n;
        if !quiet && s.1.elapsed() >= Duration::from_secs(5) {
            s.1 = Instant::now();
            let pct = (s.0 * 100).checked_div(total).unwrap_or(0);
            let _ = std::io::Write::write_fmt(
                &mut std::io::stderr(),
                format_args!("{verb} {} of {} ({pct}%)\n", human_bytes(s.0), human_bytes(total)),
            );
        }
    }
}

pub fn run(s: &Settings, args: &BundleArgs, host: &Host, printer: &mut Printer) -> Result<Exit, Report> {
    match &args.command {
        BundleCommand::Verify { file } => {
            let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
            let t = Instant::now();
            let m = crate::bundle::verify(file, None, &ticker(printer.quiet, size, "verified"))
                .map_err(|e| Report::new(e, Exit::Failed))?;
            printer.out(&format!(
                "{}: all {} members match the manifest (profile {}, {}); checked in {:.1}s",
                file.display(),
                m.members.len(),
                m.profile,
                m.created_by,
                t.elapsed().as_secs_f64()
            ));
            Ok(Exit::Success)
        }
        BundleCommand::Create { out, arch } => create(s, host, printer, out.clone(), arch),
    }
}

fn create(s: &Settings, host: &Host, printer: &mut Printer, out: Option<PathBuf>, arch: &str) -> Result<Exit, Report> {
    let profile = crate::profile::load(&s.profile, &super::check::user_files())?;
    let text = profile_text(s)?;
    let runtime = super::runtime()?;
    let http = crate::host::net::http_client(Duration::from_secs(60))
        .map_err(|e| Report::msg(format!("could not set up HTTPS: {e}"), Exit::Failed))?;
    // What is not local yet is fetched once (each verified); the rest is reused.
    runtime.block_on(async {
        crate::deploy::stage::fetch_seed_files(&http, &s.layout, &profile).await?;
        if let Some(a) = profile.k3s_artifacts(arch) {
            for art in [&a.binary, &a.airgap_images] {
                let spec = crate::k3s::artifacts::ArtifactSpec {
                    name: art.name.clone(),
                    url: crate::k3s::artifact_url(&profile, &art.name),
                    sha256: art.sha256.clone(),
                };
                crate::k3s::artifacts::fetch(
                    &http,
                    &spec,
                    &s.layout.k3s_cache(&profile.k3s.version),
                    3,
                    Duration::from_secs(1),
                    &|_| {},
                )
                .await
                .map_err(|e| Report::new(e, Exit::Failed))?;
            }
        }
        Ok::<(), Report>(())
    })?;
    let files = match crate::bundle::contents(&profile, &text, &s.layout, arch) {
        Ok((files, _)) => files,
        Err(crate::bundle::BundleError::Missing(what)) => {
            return Err(
                Report::msg(format!("{what}: the image store is not complete"), Exit::Failed)
                    .with_hint("run `digit-quickstart pull` first (it fetches only what is missing)"),
            );
        }
        Err(e) => return Err(Report::new(e, Exit::Failed)),
    };
    let _ = host;
    let out = out.unwrap_or_else(|| {
        PathBuf::from(format!(
            "digit-quickstart-{}-{}.tar.zst",
            profile.name, profile.digit.release
        ))
    });
    let total: u64 = files
        .iter()
        .filter_map(|(_, p)| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let t = Instant::now();
    let manifest = crate::bundle::create(&out, &profile, &text, &files, &ticker(printer.quiet, total, "bundled"))
        .map_err(|e| Report::new(e, Exit::Failed))?;
    let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    printer.out(&format!(
        "{}  {} ({} members, {} of content) in {:.1}s",
        out.display(),
        human_bytes(size),
        manifest.members.len(),
        human_bytes(total),
        t.elapsed().as_secs_f64()
    ));
    Ok(Exit::Success)
}
