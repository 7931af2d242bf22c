//! Putting k3s on the host, idempotently: each file is written only when
//! its content or mode differs, and the service is reloaded, started or
//! restarted only as far as the changes require. Everything goes through
//! the `Fs` and `Runner` seams, so `--root` and tests use a scratch tree.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::render::{self, K3sSettings};
use super::{AIRGAP_DIR, BINARY, CONFIG, REGISTRIES, SYMLINKS, UNIT, UNIT_ENV};
use crate::error::IoError;
use crate::host::facts::OUR_UNIT_MARKER;
use crate::host::{Cmd, CmdError, Fs, Runner};

/// Where the verified artifacts are (in the data-dir cache).
pub struct Inputs<'a> {
    pub binary: &'a Path,
    pub airgap: &'a Path,
    pub airgap_name: &'a str,
    pub settings: &'a K3sSettings,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Created,
    Updated,
    Unchanged,
    Removed,
    /// Left alone, with the reason.
    Skipped(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileChange {
    pub path: PathBuf,
    pub action: Action,
}

impl FileChange {
    pub fn changed(&self) -> bool {
        matches!(self.action, Action::Created | Action::Updated | Action::Removed)
    }
}

/// Directories searched for an existing kubectl/crictl/ctr before linking ours.
const COMMAND_DIRS: &[&str] = &[
    "/usr/local/bin",
    "/usr/local/sbin",
    "/usr/bin",
    "/usr/sbin",
    "/bin",
    "/sbin",
    "/snap/bin",
];

pub fn place_files(fs: &dyn Fs, inputs: &Inputs) -> Result<Vec<FileChange>, IoError> {
    let s = inputs.settings;
    let mut out = vec![ensure_copy(fs, inputs.binary, Path::new(BINARY), 0o755)?];
    for name in SYMLINKS {
        out.push(ensure_symlink(fs, name)?);
    }
    let airgap = Path::new(AIRGAP_DIR).join(inputs.airgap_name);
    out.push(ensure_copy(fs, inputs.airgap, &airgap, 0o644)?);
    out.push(ensure_content(
        fs,
        Path::new(CONFIG),
        render::config_yaml(s).as_bytes(),
        0o600,
    )?);
    match render::registries_yaml(s) {
        Some(text) => out.push(ensure_content(fs, Path::new(REGISTRIES), text.as_bytes(), 0o600)?),
        None => {
            // Remove ours when mirror and credentials are gone; never someone else's.
            let ours = fs
                .read_to_string(Path::new(REGISTRIES))
                .is_ok_and(|t| t.starts_with(OUR_UNIT_MARKER));
            if ours {
                fs.remove_file(Path::new(REGISTRIES))
                    .map_err(|source| io("remove", REGISTRIES, source))?;
                out.push(FileChange {
                    path: REGISTRIES.into(),
                    action: Action::Removed,
                });
            }
        }
    }
    out.push(ensure_content(
        fs,
        Path::new(UNIT_ENV),
        render::unit_env(s).as_bytes(),
        0o600,
    )?);
    out.push(ensure_content(
        fs,
        Path::new(UNIT),
        render::unit(BINARY, UNIT_ENV).as_bytes(),
        0o644,
    )?);
    Ok(out)
}

fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> IoError {
    IoError {
        action,
        path: path.into(),
        source,
    }
}

fn ensure_parent(fs: &dyn Fs, path: &Path) -> Result<(), IoError> {
    match path.parent() {
        Some(dir) => fs.create_dir_all(dir).map_err(|e| io("create", dir, e)),
        None => Ok(()),
    }
}

pub(crate) fn ensure_content(fs: &dyn Fs, path: &Path, bytes: &[u8], mode: u32) -> Result<FileChange, IoError> {
    let existed = fs.exists(path);
    let same = existed
        && fs
            .sha256(path)
            .is_ok_and(|h| h == crate::k3s::artifacts::sha256_hex(bytes))
        && fs.mode(path).is_ok_and(|m| m == mode);
    if same {
        return Ok(FileChange {
            path: path.into(),
            action: Action::Unchanged,
        });
    }
    ensure_parent(fs, path)?;
    fs.write_atomic(path, bytes, mode).map_err(|e| io("write", path, e))?;
    Ok(FileChange {
        path: path.into(),
        action: if existed { Action::Updated } else { Action::Created },
    })
}

pub(crate) fn ensure_copy(fs: &dyn Fs, from: &Path, to: &Path, mode: u32) -> Result<FileChange, IoError> {
    let want = fs.sha256(from).map_err(|e| io("read", from, e))?;
    let existed = fs.exists(to);
    if existed && fs.sha256(to).is_ok_and(|h| h == want) && fs.mode(to).is_ok_and(|m| m == mode) {
        return Ok(FileChange {
            path: to.into(),
            action: Action::Unchanged,
        });
    }
    ensure_parent(fs, to)?;
    fs.copy_atomic(from, to, mode).map_err(|e| io("install", to, e))?;
    Ok(FileChange {
        path: to.into(),
        action: if existed { Action::Updated } else { Action::Created },
    })
}

/// `/usr/local/bin/<name>` → k3s, only where no such command exists yet.
pub(crate) fn ensure_symlink(fs: &dyn Fs, name: &str) -> Result<FileChange, IoError> {
    let link = Path::new("/usr/local/bin").join(name);
    if fs.read_link(&link).is_ok_and(|t| t == Path::new(BINARY)) {
        return Ok(FileChange {
            path: link,
            action: Action::Unchanged,
        });
    }
    if let Some(existing) = COMMAND_DIRS
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| fs.exists(p) || fs.read_link(p).is_ok())
    {
        return Ok(FileChange {
            path: link,
            action: Action::Skipped(format!("{} already exists; k3s's is `k3s {name}`", existing.display())),
        });
    }
    ensure_parent(fs, &link)?;
    fs.symlink(Path::new(BINARY), &link).map_err(|e| io("link", &link, e))?;
    Ok(FileChange {
        path: link,
        action: Action::Created,
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceStep {
    DaemonReload,
    EnableNow,
    Restart,
}

/// What systemd must do after `changes`, given the service's state: nothing
/// when nothing changed and it runs; one restart at most.
pub fn service_steps(changes: &[FileChange], active: bool, enabled: bool) -> Vec<ServiceStep> {
    let unit_changed = changes
        .iter()
        .any(|c| c.changed() && (c.path == Path::new(UNIT) || c.path == Path::new(UNIT_ENV)));
    let any_changed = changes.iter().any(FileChange::changed);
    let mut steps = Vec::new();
    if unit_changed {
        steps.push(ServiceStep::DaemonReload);
    }
    if !active || !enabled {
        steps.push(ServiceStep::EnableNow);
    }
    // `enable --now` starts a stopped service with the new files; a running
    // one needs a restart to read them.
    if active && any_changed {
        steps.push(ServiceStep::Restart);
    }
    steps
}

/// Asks systemd whether k3s is active and enabled.
pub fn service_state(runner: &dyn Runner) -> (bool, bool) {
    let ask = |verb: &str, want: &str| {
        runner
            .output(
                &Cmd::new("systemctl", &format!("ask systemd whether k3s is {want}"))
                    .arg(verb)
                    .arg("k3s.service"),
            )
            .is_ok_and(|o| o.stdout.trim() == want)
    };
    (ask("is-active", "active"), ask("is-enabled", "enabled"))
}

pub fn run_service_steps(runner: &dyn Runner, steps: &[ServiceStep]) -> Result<(), CmdError> {
    for step in steps {
        let cmd = match step {
            ServiceStep::DaemonReload => Cmd::new("systemctl", "reload systemd's unit files").arg("daemon-reload"),
            ServiceStep::EnableNow => Cmd::new("systemctl", "enable and start k3s")
                .arg("enable")
                .arg("--now")
                .arg("k3s.service"),
            ServiceStep::Restart => Cmd::new("systemctl", "restart k3s with the new settings")
                .arg("restart")
                .arg("k3s.service"),
        };
        runner.run(&cmd)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
