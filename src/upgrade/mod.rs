//! `upgrade`: from the profile an install last completed with to a newer
//! one (new DIGIT tags, a new k3s patch or the next minor), with a plan diff
//! first and a way back. What was installed is recorded in the data dir
//! (the profile's own text and its lock file), and one previous record is
//! kept with the name of the backup taken before the upgrade, so
//! `upgrade --rollback` knows what to go back to.

mod diff;

pub use diff::{Diff, diff, render};

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::layout::Layout;

/// What an install completed with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub profile: String,
    /// The profile's YAML as it was read (embedded or a file).
    pub profile_text: String,
    pub origin: String,
    pub digit_release: String,
    pub k3s: String,
    /// The lock file's text, when the images were pulled here.
    pub lock: Option<String>,
    /// The backup `upgrade` took before leaving this version.
    #[serde(default)]
    pub backup: Option<String>,
    pub at: String,
}

pub fn dir(layout: &Layout) -> PathBuf {
    layout.data_dir().join("installed")
}

fn path(layout: &Layout, which: &str) -> PathBuf {
    dir(layout).join(format!("{which}.json"))
}

pub const CURRENT: &str = "current";
pub const PREVIOUS: &str = "previous";
/// What the last upgrade aimed for.
pub const ATTEMPT: &str = "attempt";

pub fn load(fs: &dyn crate::host::Fs, layout: &Layout, which: &str) -> Option<Record> {
    let text = fs.read_to_string(&path(layout, which)).ok()?;
    serde_json::from_str(&text).ok()
}

pub fn save(fs: &dyn crate::host::Fs, layout: &Layout, which: &str, r: &Record) -> std::io::Result<()> {
    fs.create_dir_all(&dir(layout))?;
    let text = serde_json::to_string_pretty(r).expect("a record serialises");
    fs.write_atomic(&path(layout, which), text.as_bytes(), 0o600)
}

pub fn forget(fs: &dyn crate::host::Fs, layout: &Layout, which: &str) -> std::io::Result<()> {
    let p = path(layout, which);
    if fs.exists(&p) { fs.remove_file(&p) } else { Ok(()) }
}

/// The record of what `profile_text` (from `origin`) installed now.
pub fn record_of(
    fs: &dyn crate::host::Fs,
    layout: &Layout,
    profile: &crate::profile::Profile,
    profile_text: &str,
    at: &str,
) -> Record {
    Record {
        profile: profile.name.clone(),
        profile_text: profile_text.to_owned(),
        origin: profile.origin.clone(),
        digit_release: profile.digit.release.clone(),
        k3s: profile.k3s.version.clone(),
        lock: fs.read_to_string(&layout.lock_file(&profile.name)).ok(),
        backup: None,
        at: at.to_owned(),
    }
}

/// `v1.36.4+k3s1` -> (1, 36, 4).
pub fn k3s_triple(v: &str) -> Option<(u32, u32, u32)> {
    let core = v.strip_prefix('v')?.split(['+', '-']).next()?;
    let mut it = core.split('.').map(|p| p.parse::<u32>().ok());
    Some((it.next()??, it.next()??, it.next()??))
}

#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    #[error("nothing was installed with digit-quickstart here yet (no {})", path.display())]
    NoRecord { path: PathBuf },
    #[error("profile `{new}` is not the installed profile `{old}`")]
    OtherProfile { old: String, new: String },
    #[error("k3s {from} -> {to} skips a Kubernetes minor")]
    MinorJump { from: String, to: String },
    #[error("k3s {from} -> {to} goes back")]
    Downgrade { from: String, to: String },
    #[error("k3s version `{0}` is not of the form v1.MINOR.PATCH+k3sN")]
    BadVersion(String),
    #[error("there is no previous version to roll back to (no {})", path.display())]
    NoPrevious { path: PathBuf },
}

impl crate::error::Diagnostic for UpgradeError {
    fn hints(&self) -> Vec<String> {
        match self {
            Self::NoRecord { .. } => vec!["run `digit-quickstart install` first; upgrade starts from what it completed".into()],
            Self::OtherProfile { .. } => vec![
                "upgrade moves one profile to its newer version; a different profile is a different install (`reset`, then `install --profile …`)".into(),
            ],
            Self::MinorJump { .. } => vec![
                "Kubernetes upgrades one minor at a time: upgrade to a profile pinning the minor in between first".into(),
            ],
            Self::Downgrade { .. } => vec![
                "Kubernetes does not support going back; `upgrade --rollback` returns the app and its data, k3s stays".into(),
            ],
            Self::NoPrevious { .. } => vec!["`upgrade --rollback` works after an `upgrade`; `backups` lists what can be restored".into()],
            Self::BadVersion(_) => Vec::new(),
        }
    }
}

/// One minor at a time, never back.
pub fn check_k3s_step(from: &str, to: &str) -> Result<(), UpgradeError> {
    let a = k3s_triple(from).ok_or_else(|| UpgradeError::BadVersion(from.to_owned()))?;
    let b = k3s_triple(to).ok_or_else(|| UpgradeError::BadVersion(to.to_owned()))?;
    let (from, to) = (from.to_owned(), to.to_owned());
    if (b.0, b.1, b.2) < (a.0, a.1, a.2) {
        return Err(UpgradeError::Downgrade { from, to });
    }
    if b.0 != a.0 || b.1 > a.1 + 1 {
        return Err(UpgradeError::MinorJump { from, to });
    }
    Ok(())
}

/// Where the profile text of a rollback is written so the usual commands
/// can load it as a file.
pub fn rollback_profile_path(layout: &Layout) -> PathBuf {
    dir(layout).join("rollback-profile.yaml")
}

pub fn exists(layout: &Layout, which: &str) -> bool {
    Path::new(&path(layout, which)).exists()
}

pub fn record_path(layout: &Layout, which: &str) -> PathBuf {
    path(layout, which)
}

/// Deletes the objects `ids` (`Kind/name`) of `profile`'s rendering: what a
/// new version no longer has, or what a rolled-back version added.
pub async fn prune(
    client: &kube::Client,
    profile: &crate::profile::Profile,
    ids: &[String],
) -> Result<(), crate::error::Report> {
    use kube::api::{Api, DeleteParams, DynamicObject};
    let none = std::collections::BTreeMap::new();
    let rendered = crate::deploy::manifests::render(&crate::deploy::manifests::Inputs {
        profile,
        secrets: None,
        digests: &none,
        files: &none,
        public_url: None,
        target: &crate::deploy::manifests::target::Target::default(),
        pull_auth: None,
    });
    let all = rendered
        .base
        .iter()
        .chain(rendered.components.values().flatten())
        .chain(rendered.jobs.values());
    for m in all.filter(|m| ids.contains(&m.id())) {
        let api: Api<DynamicObject> = match &m.namespace {
            Some(ns) => Api::namespaced_with(client.clone(), ns, &m.api),
            None => Api::all_with(client.clone(), &m.api),
        };
        match api.delete(&m.name, &DeleteParams::background()).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => {
                return Err(crate::error::Report::msg(
                    format!("could not delete {}: {}", m.id(), crate::deploy::cluster::one_line(&e)),
                    crate::error::Exit::Failed,
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
