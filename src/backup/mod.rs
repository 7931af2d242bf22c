//! Backups of a DIGIT sandbox: the database (pg_dump's custom format, taken
//! by an exec into the Postgres pod and streamed to the host), the MinIO
//! volume's files, the generated secrets (without them the restored data's
//! encrypted fields and users' passwords are unreadable), the profile and
//! the lock file, in one archive whose manifest pins every member.

pub mod archive;
pub mod cluster;
pub mod run;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The archive's first member.
pub const MANIFEST: &str = "manifest.json";
pub const SCHEMA: u32 = 1;

/// Member names.
pub const DATABASE: &str = "database.pgdump";
pub const SECRETS: &str = "secrets.yaml";
pub const PROFILE: &str = "profile.yaml";
pub const LOCK: &str = "images.lock";
/// MinIO's data folder, file by file, below this prefix.
pub const BUCKET_PREFIX: &str = "minio/";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema: u32,
    pub name: String,
    /// UTC, `YYYYMMDDTHHMMSSZ`.
    pub created: String,
    pub profile: String,
    pub digit_release: String,
    pub k3s: String,
    pub namespace: String,
    /// The digit-quickstart version that wrote it.
    pub tool: String,
    pub members: Vec<Member>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

impl Manifest {
    pub fn total(&self) -> u64 {
        self.members.iter().map(|m| m.size).sum()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("could not {action} `{}`", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is not a digit-quickstart backup (no manifest.json first)", archive.display())]
    NotABackup { archive: PathBuf },
    #[error("backup `{}`: member `{member}` is refused: {why}", archive.display())]
    BadMember {
        archive: PathBuf,
        member: String,
        why: String,
    },
    #[error("backup `{}`: member `{member}` does not match its manifest: expected {expected}, found {actual}", archive.display())]
    Mismatch {
        archive: PathBuf,
        member: String,
        expected: String,
        actual: String,
    },
    #[error("backup `{}` was made for profile `{theirs}`, this install runs profile `{ours}`", archive.display())]
    OtherProfile {
        archive: PathBuf,
        theirs: String,
        ours: String,
    },
    #[error("backup `{}` was made with DIGIT {theirs}, profile `{profile}` deploys DIGIT {ours}", archive.display())]
    OtherRelease {
        archive: PathBuf,
        profile: String,
        theirs: String,
        ours: String,
    },
    #[error("no backup named `{name}` in `{}`", dir.display())]
    NotFound { name: String, dir: PathBuf },
    #[error("invalid backup name `{name}`: use letters, digits, `-`, `_` and `.`, not starting with `.`")]
    BadName { name: String },
    #[error("a backup named `{name}` exists already: `{}`", path.display())]
    Exists { name: String, path: PathBuf },
    #[error("{what} in pod {pod} failed: {message}")]
    Exec { what: String, pod: String, message: String },
    #[error("no running {component} pod in namespace {namespace}")]
    NoPod { component: String, namespace: String },
    #[error("{what}: {message}")]
    Cluster { what: String, message: String },
    #[error("MinIO's volume `{path}` is not on this machine")]
    VolumeElsewhere { path: String },
}

impl BackupError {
    pub fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            action,
            path: path.to_owned(),
            source,
        }
    }
}

impl crate::error::Diagnostic for BackupError {
    fn hints(&self) -> Vec<String> {
        match self {
            Self::Mismatch { .. } | Self::BadMember { .. } => vec![
                "the archive changed or was damaged after `backup` wrote it; nothing was restored. Copy it again from where you keep it".into(),
            ],
            Self::NotABackup { .. } => vec!["`digit-quickstart backups` lists the backups on this machine".into()],
            Self::OtherProfile { theirs, .. } => vec![format!(
                "restore it with the profile it was made for: `digit-quickstart --profile {theirs} restore …` on an install of that profile"
            )],
            Self::OtherRelease { .. } => vec![
                "a database from another DIGIT release does not fit these images' migrations: restore it on an install of that release".into(),
            ],
            Self::NotFound { .. } => vec!["`digit-quickstart backups` lists them; a file path works too".into()],
            Self::Exists { .. } => vec!["choose another --name, or delete the old archive first".into()],
            Self::NoPod { .. } => vec!["`digit-quickstart status` shows what runs; `install` brings it back".into()],
            Self::VolumeElsewhere { .. } => vec![
                "backup and restore of MinIO's files need the quickstart's own k3s (its volumes live on this host)".into(),
            ],
            Self::Exec { .. } | Self::Cluster { .. } => {
                vec!["`digit-quickstart status` shows the pods; `doctor` collects their logs".into()]
            }
            Self::Io { source, .. } if source.kind() == std::io::ErrorKind::PermissionDenied => {
                vec!["run as root (sudo)".into()]
            }
            _ => Vec::new(),
        }
    }
}

/// Names become file names: keep them to a safe alphabet.
pub fn check_name(name: &str) -> Result<(), BackupError> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(BackupError::BadName { name: name.to_owned() })
    }
}

/// Where `backup --name NAME` writes.
pub fn archive_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.tar"))
}

/// `restore ARG`: a path when it has a slash or ends in `.tar`, else a name
/// in the backups folder.
pub fn resolve(dir: &Path, arg: &str) -> Result<PathBuf, BackupError> {
    if arg.contains('/') || arg.ends_with(".tar") {
        return Ok(PathBuf::from(arg));
    }
    check_name(arg)?;
    let path = archive_path(dir, arg);
    if path.exists() {
        Ok(path)
    } else {
        Err(BackupError::NotFound {
            name: arg.to_owned(),
            dir: dir.to_owned(),
        })
    }
}

/// One line of `backups`.
#[derive(Clone, Debug, Serialize)]
pub struct Listed {
    pub name: String,
    pub created: String,
    pub profile: String,
    pub digit_release: String,
    pub size: u64,
    pub path: PathBuf,
}

/// Every archive in the backups folder whose manifest reads, newest first.
pub fn list(dir: &Path) -> Vec<Listed> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.extension().is_none_or(|x| x != "tar") {
            continue;
        }
        if let Ok(m) = archive::manifest(&path) {
            out.push(Listed {
                name: m.name,
                created: m.created,
                profile: m.profile,
                digit_release: m.digit_release,
                size: e.metadata().map(|m| m.len()).unwrap_or(0),
                path,
            });
        }
    }
    out.sort_by(|a, b| b.created.cmp(&a.created).then(a.name.cmp(&b.name)));
    out
}

/// Refuses a backup made for another profile or DIGIT release.
pub fn check_fits(archive: &Path, m: &Manifest, profile: &crate::profile::Profile) -> Result<(), BackupError> {
    if m.profile != profile.name {
        return Err(BackupError::OtherProfile {
            archive: archive.to_owned(),
            theirs: m.profile.clone(),
            ours: profile.name.clone(),
        });
    }
    if m.digit_release != profile.digit.release {
        return Err(BackupError::OtherRelease {
            archive: archive.to_owned(),
            profile: profile.name.clone(),
            theirs: m.digit_release.clone(),
            ours: profile.digit.release.clone(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
