//! `pull`: fetch the profile's images (or the named ones) into the store.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::Settings;
use super::check::user_files;
use crate::error::{Exit, Report};
use crate::host::Host;
use crate::images::engine::{PullOptions, Puller, lock_for};
use crate::images::lock::LockFile;
use crate::images::store::Store;
use crate::profile::quantity::human_bytes;
use crate::profile::{self, ImageRef};
use crate::ui::pull::{Mode, PullProgress};
use crate::ui::{Output, Printer};

#[derive(Debug, Args)]
pub struct PullArgs {
    /// Images to pull instead of the profile's (like `docker pull`)
    #[arg(value_name = "IMAGE")]
    pub images: Vec<String>,

    /// Platform to choose from multi-arch images
    #[arg(long, default_value = "linux/amd64", value_name = "OS/ARCH[/VARIANT]")]
    pub platform: String,

    /// Refuse if any tag now resolves to another digest than the lock file says
    #[arg(long)]
    pub locked: bool,

    /// Re-hash every blob in the store first, deleting (and so re-fetching) bad ones
    #[arg(long)]
    pub verify: bool,

    /// Blobs downloaded at the same time
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,

    /// Pull docker.io images from this mirror (same repository paths), e.g. http://trainer:5000
    #[arg(long, value_name = "URL")]
    pub registry_mirror: Option<String>,

    /// Speak plain HTTP to this registry host (repeatable)
    #[arg(long, value_name = "HOST")]
    pub insecure_registry: Vec<String>,

    /// Credentials in Docker's config.json format (default: $DOCKER_CONFIG/config.json or ~/.docker/config.json)
    #[arg(long, value_name = "FILE")]
    pub registry_auth_file: Option<PathBuf>,

    /// Also write one OCI archive per image into DIR, for k3s to import
    #[arg(long, value_name = "DIR")]
    pub export: Option<PathBuf>,

    /// Then import the profile's images into k3s's containerd, as install does
    /// (streamed from the store, each digest checked against the lock)
    #[arg(long, conflicts_with = "images")]
    pub import: bool,
}

pub fn run(s: &Settings, args: &PullArgs, host: &Host, printer: &mut Printer) -> Result<Exit, Report> {
    let profile = profile::load(&s.profile, &user_files())?;
    let platform = args
        .platform
        .parse()
        .map_err(|e: String| Report::msg(format!("--platform: {e}"), Exit::Usage))?;
    let from_profile = args.images.is_empty();
    let images: Vec<ImageRef> = if from_profile {
        profile.images().into_iter().map(|i| i.reference.clone()).collect()
    } else {
        args.images
            .iter()
            .map(|t| ImageRef::normalize(t))
            .collect::<Result<_, _>>()
            .map_err(|e| Report::msg(e, Exit::Usage))?
    };
    let lock_path = s.layout.lock_file(&profile.name);
    let locked = if args.locked {
        match LockFile::read(&lock_path).map_err(|e| Report::new(e, Exit::Usage))? {
            Some(l) => Some(l),
            None => {
                return Err(Report::msg(
                    format!("--locked: there is no lock file at {}", lock_path.display()),
                    Exit::Usage,
                )
                .with_hint("run `digit-quickstart pull` once without --locked to write it"));
            }
        }
    } else {
        None
    };
    let opts = pull_options(
        host,
        platform,
        usize::from(args.jobs),
        locked,
        args.registry_mirror.as_deref(),
        args.insecure_registry.clone(),
        args.registry_auth_file.as_deref(),
    )?;
    let mode = match (s.output, printer.quiet, printer.animate) {
        (Output::Json, _, _) => Mode::Json,
        (_, true, _) => Mode::Quiet,
        (_, _, true) => Mode::Bars,
        _ => Mode::Lines,
    };
    let store = Store::new(s.layout.store());
    let runtime = super::runtime()?;

    if args.verify {
        let (checked, bad) = runtime.block_on(store.verify()).map_err(|e| {
            Report::msg(
                format!("could not verify the store at {}: {e}", store.root().display()),
                Exit::Failed,
            )
        })?;
        for b in &bad {
            printer.warn(&format!(
                "blob {} is corrupt (content is {}): removing it so it is fetched again",
                b.digest, b.actual
            ));
            runtime
                .block_on(store.remove(&b.digest))
                .map_err(|e| Report::msg(format!("could not remove {}: {e}", b.digest), Exit::Failed))?;
        }
        printer.note(&format!("verified {checked} blobs: {} bad", bad.len()));
    }

    let puller = Arc::new(Puller::new(
        opts.clone(),
        store.clone(),
        Arc::new(PullProgress::new(mode)),
    ));
    let (resolved, summary) = runtime
        .block_on(puller.pull(&images))
        .map_err(|e| Report::new(e, Exit::Failed))?;
    if from_profile {
        lock_for(&profile.name, &opts.platform, &resolved)
            .write(&lock_path)
            .map_err(|e| Report::new(e, Exit::Failed))?;
    }
    if let Some(dir) = &args.export {
        let paths = crate::images::export::export(&store, &resolved, dir).map_err(|e| Report::new(e, Exit::Failed))?;
        printer.note(&format!("exported {} OCI archives to {}", paths.len(), dir.display()));
    }
    if args.import {
        let lock = LockFile::read(&lock_path)
            .map_err(|e| Report::new(e, Exit::Failed))?
            .ok_or_else(|| Report::msg(format!("no lock file at {}", lock_path.display()), Exit::Failed))?;
        let started = std::time::Instant::now();
        let done = crate::install::import::import(
            &super::install::ctr_command(host),
            host.cmd.as_ref(),
            &store,
            &lock,
            &images,
            &|m| tracing::info!("{m}"),
        )
        .map_err(|e| Report::new(e, Exit::Failed))?;
        printer.note(&format!(
            "imported {} images into containerd in {:.1}s ({} already there); all {} digests match the lock file",
            done.imported,
            started.elapsed().as_secs_f64(),
            done.already,
            done.digests.len()
        ));
    }
    match s.output {
        Output::Json => printer.out(&serde_json::json!({ "event": "summary", "summary": summary, "lock_file": from_profile.then_some(&lock_path) }).to_string()),
        Output::Human => printer.out(&format!(
            "Pulled {} images: {} fetched in {} blobs, {} already in the store ({} blobs); {} unique in {:.1}s{}",
            summary.images,
            human_bytes(summary.fetched_bytes),
            summary.fetched_blobs,
            human_bytes(summary.unique_bytes - summary.fetched_bytes),
            summary.reused_blobs,
            human_bytes(summary.unique_bytes),
            summary.seconds,
            if from_profile { format!("; lock file {}", lock_path.display()) } else { String::new() }
        )),
    }
    Ok(Exit::Success)
}

/// What `pull` and `install` share: mirror (plain HTTP when `http://`),
/// credentials, retries.
pub(crate) fn pull_options(
    host: &Host,
    platform: crate::images::engine::Platform,
    jobs: usize,
    locked: Option<LockFile>,
    registry_mirror: Option<&str>,
    mut insecure: Vec<String>,
    auth_file: Option<&std::path::Path>,
) -> Result<PullOptions, Report> {
    let mirror = match registry_mirror {
        None => None,
        Some(url) => {
            let parsed = reqwest::Url::parse(url)
                .map_err(|e| Report::msg(format!("--registry-mirror `{url}` is not a URL: {e}"), Exit::Usage))?;
            let host = parsed
                .host_str()
                .ok_or_else(|| Report::msg(format!("--registry-mirror `{url}` has no host"), Exit::Usage))?;
            let host = match parsed.port() {
                Some(p) => format!("{host}:{p}"),
                None => host.to_owned(),
            };
            if parsed.scheme() == "http" {
                insecure.push(host.clone());
            }
            Some(host)
        }
    };
    let auth = super::check::registry_auth(host, auth_file)?;
    let retry_ms = host
        .env
        .var(crate::env_vars::RETRY_BASE_MS)
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    Ok(PullOptions {
        platform,
        jobs,
        locked,
        mirror,
        insecure,
        auth,
        retry_base: Duration::from_millis(retry_ms),
        attempts: 5,
        boot_id: host.sys.boot_id(),
    })
}
