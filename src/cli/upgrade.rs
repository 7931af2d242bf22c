//! `upgrade`: move an install to a newer version of its profile (given with
//! the global `--profile`), in this order: the plan diff, a confirmation,
//! the new images pulled (nothing else has changed yet), a backup, then
//! `install` with the new profile (host checks, k3s replaced and restarted
//! when its version changed, images imported, changed objects applied in
//! waves with Flyway init containers as usual, health and smoke), and the
//! objects the new profile no longer has deleted. `--rollback` returns to
//! the version before: its profile, lock and manifests, and the backup's
//! data (migrations only go forward).

use std::path::PathBuf;

use clap::Args;

use super::Settings;
use super::install::InstallArgs;
use crate::error::{Exit, Report};
use crate::host::{Fs as _, Host};
use crate::ui::Printer;
use crate::upgrade::{self, ATTEMPT, CURRENT, PREVIOUS, UpgradeError};

#[derive(Debug, Args)]
pub struct UpgradeArgs {
    /// Go back to the version before the last upgrade (app, data, lock)
    #[arg(long)]
    pub rollback: bool,

    #[command(flatten)]
    pub install: InstallArgs,
}

fn io(action: &'static str, path: PathBuf) -> impl FnOnce(std::io::Error) -> Report {
    move |source| Report::new(crate::error::IoError { action, path, source }, Exit::Failed)
}

fn rollback_hint() -> String {
    "roll back with: sudo digit-quickstart upgrade --rollback".into()
}

pub fn run(s: &Settings, args: &UpgradeArgs, host: &Host, printer: &mut Printer) -> Result<Exit, Report> {
    if args.rollback {
        return rollback(s, args, host, printer);
    }
    let fs = super::check::user_files();
    let current = upgrade::load(&fs, &s.layout, CURRENT).ok_or_else(|| {
        Report::new(
            UpgradeError::NoRecord {
                path: upgrade::record_path(&s.layout, CURRENT),
            },
            Exit::Usage,
        )
    })?;
    let old = crate::profile::parse(&current.profile_text, &current.origin)?;
    let new = crate::profile::load(&s.profile, &fs)?;
    if old.name != new.name {
        return Err(Report::new(
            UpgradeError::OtherProfile {
                old: old.name.clone(),
                new: new.name.clone(),
            },
            Exit::Usage,
        ));
    }
    let diff = upgrade::diff(&old, &new);
    if diff.is_empty() {
        printer.out(&format!(
            "profile {} is installed at DIGIT {} on k3s {}: nothing to upgrade",
            new.name, new.digit.release, new.k3s.version
        ));
        return Ok(Exit::Success);
    }
    upgrade::check_k3s_step(&old.k3s.version, &new.k3s.version).map_err(|e| Report::new(e, Exit::Usage))?;
    printer.out(&format!(
        "Upgrade {} (DIGIT {} on k3s {}):\n{}",
        new.name,
        old.digit.release,
        old.k3s.version,
        upgrade::render(&diff).trim_end()
    ));
    let prompter = crate::ui::Prompter {
        yes: s.yes,
        stdin_tty: s.term.stdin,
        stderr_tty: s.term.stderr,
    };
    if !prompter.confirm("Pull the new images, back up the sandbox, then upgrade?")? {
        printer.note("Nothing was changed.");
        return Ok(Exit::Success);
    }

    // 1. The new images, before anything else changes.
    let deploy_only = args.install.only == Some(super::install::Stage::Deploy);
    if !deploy_only {
        printer.note("pulling the new profile's images (nothing else changes yet)");
        let pull = super::pull::PullArgs {
            images: Vec::new(),
            platform: "linux/amd64".into(),
            locked: false,
            verify: false,
            jobs: args.install.jobs,
            registry_mirror: args.install.registry_mirror.clone(),
            insecure_registry: Vec::new(),
            registry_auth_file: args.install.registry_auth_file.clone(),
            export: None,
            import: false,
        };
        let pulled = super::pull::run(s, &pull, host, printer);
        if let Err(e) | Ok(Err(e)) = pulled.map(|code| {
            if code == Exit::Success {
                Ok(())
            } else {
                Err(Report::msg("the pull did not complete", code))
            }
        }) {
            // The lock is the old version's again: nothing has changed.
            if let Some(lock) = &current.lock {
                let path = s.layout.lock_file(&old.name);
                fs.write_atomic(&path, lock.as_bytes(), 0o644)
                    .map_err(io("put the lock file back", path))?;
            }
            return Err(e.with_hint(format!(
                "nothing was changed: DIGIT {} keeps running on k3s {}",
                old.digit.release, old.k3s.version
            )));
        }
    }

    // 2. A backup of the running version's data, named so it is easy to find.
    let name = format!("before-upgrade-{}", crate::logging::stamp(host.clock.now()));
    let backup_args = super::backup::BackupArgs {
        name: Some(name.clone()),
        to: None,
        kubeconfig: args.install.cluster.kubeconfig.clone(),
    };
    let old_settings = settings_for(s, &s.layout, &current)?;
    super::backup::backup(&old_settings, &backup_args, host, printer).map_err(|e| {
        e.with_hint(format!(
            "nothing was changed: DIGIT {} keeps running on k3s {}",
            old.digit.release, old.k3s.version
        ))
    })?;
    let mut previous = current.clone();
    previous.backup = Some(name);
    upgrade::save(&fs, &s.layout, PREVIOUS, &previous).map_err(io(
        "record the version before the upgrade",
        upgrade::record_path(&s.layout, PREVIOUS),
    ))?;

    // 3. The upgrade itself: install with the new profile (what it aims
    // for is recorded first, so a rollback knows what to take away).
    let (text, origin) = crate::profile::source_text(&s.profile, &fs)?;
    let mut attempt = upgrade::record_of(&fs, &s.layout, &new, &text, &crate::logging::stamp(host.clock.now()));
    attempt.origin = origin;
    upgrade::save(&fs, &s.layout, ATTEMPT, &attempt)
        .map_err(io("record the upgrade", upgrade::record_path(&s.layout, ATTEMPT)))?;
    let code = super::install::run(s, &args.install, host, printer).map_err(|e| e.with_hint(rollback_hint()))?;
    if code != Exit::Success {
        printer.warn(&format!("the upgraded version is not healthy; {}", rollback_hint()));
        return Ok(code);
    }
    // 4. What the new profile no longer has.
    if !diff.objects_removed.is_empty() {
        prune(s, args, host, &old, &diff.objects_removed)?;
    }
    printer.note(&format!(
        "upgraded {} to DIGIT {} on k3s {}; the version before is kept for `upgrade --rollback`",
        new.name, new.digit.release, new.k3s.version
    ));
    Ok(Exit::Success)
}

/// Settings that load the profile of `record` (written to a file in the
/// data dir, so every command reads it the usual way).
fn settings_for(s: &Settings, layout: &crate::layout::Layout, record: &upgrade::Record) -> Result<Settings, Report> {
    let fs = super::check::user_files();
    let path = upgrade::rollback_profile_path(layout);
    fs.create_dir_all(&upgrade::dir(layout))
        .map_err(io("create", upgrade::dir(layout)))?;
    fs.write_atomic(&path, record.profile_text.as_bytes(), 0o600)
        .map_err(io("write the previous profile", path.clone()))?;
    Ok(Settings {
        profile: crate::profile::ProfileSource::File(path),
        layout: s.layout.clone(),
        output: s.output,
        yes: s.yes,
        verbose: s.verbose,
        term: s.term,
        log_file: s.log_file.clone(),
    })
}

fn prune(
    s: &Settings,
    args: &UpgradeArgs,
    host: &Host,
    old: &crate::profile::Profile,
    ids: &[String],
) -> Result<(), Report> {
    let kubeconfig = super::kubeconfig_or_k3s(host, args.install.cluster.kubeconfig.as_deref());
    let _ = s;
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let client = crate::k3s::lifecycle::kube_client(&kubeconfig, None).await?;
        upgrade::prune(&client, old, ids).await
    })
}

fn rollback(s: &Settings, args: &UpgradeArgs, host: &Host, printer: &mut Printer) -> Result<Exit, Report> {
    let fs = super::check::user_files();
    let previous = upgrade::load(&fs, &s.layout, PREVIOUS).ok_or_else(|| {
        Report::new(
            UpgradeError::NoPrevious {
                path: upgrade::record_path(&s.layout, PREVIOUS),
            },
            Exit::Usage,
        )
    })?;
    let before = crate::profile::parse(&previous.profile_text, &previous.origin)?;
    // What the last upgrade aimed for (recorded before it changed anything).
    let now =
        upgrade::load(&fs, &s.layout, ATTEMPT).and_then(|r| crate::profile::parse(&r.profile_text, &r.origin).ok());
    printer.note(&format!(
        "rolling back to DIGIT {} (profile recorded {}){}",
        before.digit.release,
        previous.at,
        previous
            .backup
            .as_ref()
            .map(|b| format!(", data from backup `{b}`"))
            .unwrap_or_default()
    ));
    if let Some(lock) = &previous.lock {
        let path = s.layout.lock_file(&before.name);
        fs.write_atomic(&path, lock.as_bytes(), 0o644)
            .map_err(io("put the previous lock file back", path))?;
    }
    let old_settings = settings_for(s, &s.layout, &previous)?;
    let code = match &previous.backup {
        Some(name) => super::backup::restore(
            &old_settings,
            &super::backup::RestoreArgs {
                backup: name.clone(),
                kubeconfig: args.install.cluster.kubeconfig.clone(),
                timeout: 300,
            },
            host,
            printer,
        )?,
        None => {
            let kubeconfig = super::kubeconfig_or_k3s(host, args.install.cluster.kubeconfig.as_deref());
            super::install::redeploy(&old_settings, host, printer, &before, kubeconfig)?
        }
    };
    if let Some(now) = &now {
        let extra = upgrade::diff(&before, now).objects_added;
        if !extra.is_empty() {
            prune(s, args, host, now, &extra)?;
        }
        if now.k3s.version != before.k3s.version {
            printer.note(&format!(
                "k3s stays at {}: Kubernetes does not go back, and DIGIT {} runs on it",
                now.k3s.version, before.digit.release
            ));
        }
    }
    if code == Exit::Success {
        let mut restored = previous.clone();
        restored.backup = None;
        upgrade::save(&fs, &s.layout, CURRENT, &restored)
            .map_err(io("record the version", upgrade::record_path(&s.layout, CURRENT)))?;
        for which in [PREVIOUS, ATTEMPT] {
            upgrade::forget(&fs, &s.layout, which).map_err(io(
                "forget the upgrade's records",
                upgrade::record_path(&s.layout, which),
            ))?;
        }
        printer.note(&format!("rolled back to DIGIT {}", before.digit.release));
    }
    Ok(code)
}
