//! `<profile>.lock`: what every image tag resolved to, so a later pull (or a
//! classroom of VMs) gets exactly the same bytes, and drift is caught.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockFile {
    pub schema: u32,
    pub profile: String,
    /// `os/arch[/variant]` the platform manifests were chosen for.
    pub platform: String,
    pub images: BTreeMap<String, LockedImage>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedImage {
    /// What the reference resolves to: the index digest for multi-arch
    /// images, else the manifest digest.
    pub digest: String,
    pub media_type: String,
    pub size: u64,
    /// The chosen platform manifest (same as `digest` for single-arch images).
    pub manifest: Descriptor,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Descriptor {
    pub digest: String,
    pub size: u64,
    pub media_type: String,
}

impl LockedImage {
    /// Total bytes of the config and layers.
    pub fn blob_bytes(&self) -> u64 {
        self.config.size + self.layers.iter().map(|l| l.size).sum::<u64>()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("could not read lock file `{}`", path.display())]
    Read {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("lock file `{}` is not valid: {message}", path.display())]
    Invalid { path: std::path::PathBuf, message: String },
    #[error("could not write lock file `{}`", path.display())]
    Write {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl crate::error::Diagnostic for LockError {
    fn hints(&self) -> Vec<String> {
        match self {
            Self::Invalid { .. } => vec!["delete it and run `digit-quickstart pull` to write a new one".to_owned()],
            _ => Vec::new(),
        }
    }
}

impl LockFile {
    /// Reads the lock file; `Ok(None)` when there is none yet.
    pub fn read(path: &Path) -> Result<Option<Self>, LockError> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| LockError::Invalid {
                path: path.to_path_buf(),
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(LockError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    pub fn write(&self, path: &Path) -> Result<(), LockError> {
        let err = |source| LockError::Write {
            path: path.to_path_buf(),
            source,
        };
        let mut text = serde_json::to_string_pretty(self).map_err(|e| err(std::io::Error::other(e)))?;
        text.push('\n');
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let tmp = path.with_extension("lock.tmp");
        std::fs::write(&tmp, text).map_err(err)?;
        std::fs::rename(&tmp, path).map_err(err)
    }
}
