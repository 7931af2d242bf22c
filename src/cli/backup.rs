//! `backup`, `backups` and `restore`: save a sandbox (database, uploaded
//! files, secrets) and get it back, here or on another VM of the same
//! profile and release.

use std::cell::RefCell;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::Settings;
use crate::backup::{self, BackupError};
use crate::error::{Exit, Report};
use crate::host::Host;
use crate::ui::{Output, Printer, Prompter};

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Name it (a named snapshot, e.g. `lesson-3`); default: the time
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Write the archive here instead of the data dir's backups folder
    #[arg(long, value_name = "FILE")]
    pub to: Option<PathBuf>,

    /// The cluster (default: k3s's)
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A backup's name (see `backups`) or an archive's path
    #[arg(value_name = "NAME|FILE")]
    pub backup: String,

    /// The cluster (default: k3s's)
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// Seconds to wait for the services to stop
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub timeout: u64,
}

fn failed(e: BackupError) -> Report {
    let exit = match e {
        BackupError::BadName { .. } | BackupError::NotFound { .. } | BackupError::Exists { .. } => Exit::Usage,
        BackupError::NotABackup { .. }
        | BackupError::BadMember { .. }
        | BackupError::Mismatch { .. }
        | BackupError::OtherProfile { .. }
        | BackupError::OtherRelease { .. } => Exit::Usage,
        _ => Exit::Failed,
    };
    Report::new(e, exit)
}

pub fn backup(s: &Settings, args: &BackupArgs, host: &Host, printer: &mut Printer) -> Result<Exit, Report> {
    let profile = crate::profile::load(&s.profile, &super::check::user_files())?;
    let created = crate::logging::stamp(host.clock.now());
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| format!("{}-{created}", profile.name));
    backup::check_name(&name).map_err(failed)?;
    let dir = s.layout.backups();
    let out = args.to.clone().unwrap_or_else(|| backup::archive_path(&dir, &name));
    if out.exists() {
        return Err(failed(BackupError::Exists { name, path: out }));
    }
    std::fs::create_dir_all(&dir).map_err(|e| failed(BackupError::io("create", &dir, e)))?;
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| failed(BackupError::io("create", parent, e)))?;
    }
    let kubeconfig = super::kubeconfig_or_k3s(host, args.kubeconfig.as_deref());
    let runtime = super::runtime()?;
    let started = std::time::Instant::now();
    let printer = RefCell::new(printer);
    let say = |t: &str| printer.borrow_mut().note(t);
    let (manifest, size) = runtime.block_on(async {
        let client = crate::k3s::lifecycle::kube_client(&kubeconfig, None).await?;
        let cx = backup::run::Context {
            client,
            profile: &profile,
            layout: &s.layout,
            host_fs: host.fs.as_ref(),
            say: &say,
            poll: super::poll_interval(host, Duration::from_secs(2)),
            timeout: Duration::from_secs(300),
        };
        backup::run::backup(&cx, &name, &created, &out).await.map_err(failed)
    })?;
    let printer = printer.into_inner();
    let took = started.elapsed().as_secs_f64();
    match s.output {
        Output::Json => printer.json(&serde_json::json!({
            "name": manifest.name, "path": out, "size": size, "seconds": took,
            "profile": manifest.profile, "digit_release": manifest.digit_release,
            "members": manifest.members.len(),
        })),
        Output::Human => printer.out(&format!(
            "backup `{}` written: {} ({}, {} members, {took:.1} s)\nrestore it with: digit-quickstart restore {}",
            manifest.name,
            out.display(),
            crate::profile::quantity::human_bytes(size),
            manifest.members.len(),
            if args.to.is_some() {
                out.display().to_string()
            } else {
                manifest.name.clone()
            },
        )),
    }
    Ok(Exit::Success)
}

pub fn list(s: &Settings, host: &Host, printer: &mut Printer) -> Result<Exit, Report> {
    let _ = host;
    let found = backup::list(&s.layout.backups());
    match s.output {
        Output::Json => printer.json(&found),
        Output::Human if found.is_empty() => printer.note(&format!(
            "no backups in {} (`digit-quickstart backup --name NAME` makes one)",
            s.layout.backups().display()
        )),
        Output::Human => {
            let mut text = format!(
                "{:<28} {:<17} {:<8} {:<8} {:>10}\n",
                "NAME", "CREATED", "PROFILE", "DIGIT", "SIZE"
            );
            for b in &found {
                text.push_str(&format!(
                    "{:<28} {:<17} {:<8} {:<8} {:>10}\n",
                    b.name,
                    b.created,
                    b.profile,
                    b.digit_release,
                    crate::profile::quantity::human_bytes(b.size)
                ));
            }
            printer.out(text.trim_end());
        }
    }
    Ok(Exit::Success)
}

pub fn restore(s: &Settings, args: &RestoreArgs, host: &Host, printer: &mut Printer) -> Result<Exit, Report> {
    let profile = crate::profile::load(&s.profile, &super::check::user_files())?;
    let dir = s.layout.backups();
    let archive = backup::resolve(&dir, &args.backup).map_err(failed)?;
    // Every member checked (and unpacked to a private folder) before
    // anything changes; a mismatch removes the folder and stops here.
    std::fs::create_dir_all(&dir).map_err(|e| failed(BackupError::io("create", &dir, e)))?;
    let unpacked = dir.join(format!(".restore-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&unpacked);
    printer.note(&format!("verifying {}", archive.display()));
    let manifest = backup::archive::unpack_verified(&archive, &unpacked).map_err(failed)?;
    let result = (|| -> Result<Option<(PathBuf, crate::host::RealFs, std::time::Instant)>, Report> {
        backup::check_fits(&archive, &manifest, &profile).map_err(failed)?;
        let prompter = Prompter {
            yes: s.yes,
            stdin_tty: s.term.stdin,
            stderr_tty: s.term.stderr,
        };
        if !prompter.confirm(&format!(
            "Replace namespace {}'s database, files and secrets with backup `{}` ({})?",
            profile.namespace, manifest.name, manifest.created
        ))? {
            printer.note("Nothing was changed.");
            return Ok(None);
        }
        let kubeconfig = super::kubeconfig_or_k3s(host, args.kubeconfig.as_deref());
        let runtime = super::runtime()?;
        let data_fs = super::check::user_files();
        let started = std::time::Instant::now();
        {
            let cell = RefCell::new(&mut *printer);
            let say = |t: &str| cell.borrow_mut().note(t);
            runtime.block_on(async {
                let client = crate::k3s::lifecycle::kube_client(&kubeconfig, None).await?;
                let cx = backup::run::Context {
                    client,
                    profile: &profile,
                    layout: &s.layout,
                    host_fs: host.fs.as_ref(),
                    say: &say,
                    poll: super::poll_interval(host, Duration::from_secs(2)),
                    timeout: Duration::from_secs(args.timeout),
                };
                backup::run::restore_data(&cx, &unpacked, &data_fs)
                    .await
                    .map_err(failed)
            })?;
        }
        drop(runtime);
        Ok(Some((kubeconfig, data_fs, started)))
    })();
    let _ = std::fs::remove_dir_all(&unpacked);
    let Some((kubeconfig, data_fs, started)) = result? else {
        return Ok(Exit::Success);
    };
    // The services start again in waves with the restored secrets; health
    // and smoke run as after an install.
    super::forget_deploy(s, &data_fs, &profile.name)?;
    let code = super::install::redeploy(s, host, printer, &profile, kubeconfig)?;
    printer.note(&format!(
        "restored backup `{}` ({}) in {:.1} s",
        manifest.name,
        manifest.created,
        started.elapsed().as_secs_f64()
    ));
    Ok(code)
}
