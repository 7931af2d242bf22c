//! `images push --to REGISTRY`: the locked images to the user's registry.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::Settings;
use super::check::user_files;
use crate::error::{Exit, Report};
use crate::host::Host;
use crate::images::lock::LockFile;
use crate::images::push::{PushOptions, PushSummary};
use crate::images::store::Store;
use crate::profile::quantity::human_bytes;
use crate::ui::{Output, Printer};

#[derive(Debug, Subcommand)]
pub enum ImagesCommand {
    /// Copy every locked image from the local store to a registry, digests unchanged
    Push(PushArgs),
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// The registry, with an optional path prefix: `host[:port][/prefix]`
    #[arg(long, value_name = "REGISTRY")]
    pub to: String,

    /// Speak plain HTTP to it (a registry on a trusted LAN)
    #[arg(long)]
    pub plain_http: bool,

    /// Credentials in Docker's config.json format (default: $DOCKER_CONFIG/config.json or ~/.docker/config.json)
    #[arg(long, value_name = "FILE")]
    pub registry_auth_file: Option<PathBuf>,

    /// Blobs uploaded at the same time
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=32))]
    pub jobs: u16,
}

pub fn run(s: &Settings, cmd: &ImagesCommand, host: &Host, printer: &mut Printer) -> Result<Exit, Report> {
    match cmd {
        ImagesCommand::Push(args) => {
            let summary = push(
                s,
                &args.to,
                args.plain_http,
                args.registry_auth_file.as_deref(),
                args.jobs,
                host,
                printer,
            )?;
            if s.output == Output::Json {
                printer.json(&summary);
            } else {
                printer.out(&summary_line(&summary));
            }
            Ok(Exit::Success)
        }
    }
}

pub fn summary_line(s: &PushSummary) -> String {
    format!(
        "{} images on {}: {} manifests pushed, {} already there; blobs: {} uploaded ({}), {} mounted, {} already there",
        s.images,
        s.registry,
        s.manifests_pushed,
        s.manifests_present,
        s.blobs_uploaded,
        human_bytes(s.bytes_uploaded),
        s.blobs_mounted,
        s.blobs_present
    )
}

/// Shared with `install --registry`.
pub(super) fn push(
    s: &Settings,
    registry: &str,
    plain_http: bool,
    auth_file: Option<&std::path::Path>,
    jobs: u16,
    host: &Host,
    printer: &mut Printer,
) -> Result<PushSummary, Report> {
    let profile = crate::profile::load(&s.profile, &user_files())?;
    let lock_path = s.layout.lock_file(&profile.name);
    let lock = LockFile::read(&lock_path).ok().flatten().ok_or_else(|| {
        Report::msg(
            format!(
                "no lock file at {}: nothing has been pulled for profile {}",
                lock_path.display(),
                profile.name
            ),
            Exit::Usage,
        )
        .with_hint("run `digit-quickstart pull` first: push copies the locked images from the local store")
    })?;
    let auth = super::check::registry_auth(host, auth_file)?;
    let images: Vec<String> = profile
        .images()
        .iter()
        .map(|i| i.reference.as_str().to_owned())
        .collect();
    let (registry, plain_http) = match registry.strip_prefix("http://") {
        Some(r) => (r, true),
        None => (registry.trim_start_matches("https://"), plain_http),
    };
    let opts = PushOptions {
        registry: registry.trim_end_matches('/').to_owned(),
        plain_http,
        auth,
        jobs: usize::from(jobs),
    };
    let runtime = super::runtime()?;
    let store = Store::new(s.layout.store());
    let quiet = printer.quiet || s.output == Output::Json;
    let lines = std::sync::Mutex::new(Vec::new());
    let progress = |line: &str| {
        if !quiet {
            lines
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(line.to_owned());
        }
    };
    let result = runtime.block_on(crate::images::push::push(&store, &lock, &images, &opts, &progress));
    for line in lines.into_inner().unwrap_or_default() {
        printer.note(&line);
    }
    result.map_err(|e| Report::new(e, Exit::Failed))
}
