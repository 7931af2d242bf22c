//! Where digit-quickstart keeps its own state, below the data dir.

use std::path::{Path, PathBuf};

pub const DEFAULT_DATA_DIR: &str = "/var/lib/digit-quickstart";
/// k3s's own state; images and volumes land here.
pub const RANCHER_DIR: &str = "/var/lib/rancher";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub data_dir: PathBuf,
}

impl Layout {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
        }
    }
    fn at(&self, rel: &str) -> PathBuf {
        self.data_dir.join(rel)
    }
    /// Content-addressed OCI image layout (`blobs/sha256/<digest>`).
    pub fn store(&self) -> PathBuf {
        self.at("store")
    }
    pub fn k3s_cache(&self, version: &str) -> PathBuf {
        self.at("cache/k3s").join(version)
    }
    /// Seed files, named by their pinned sha256 so a new pin never reuses an old file.
    pub fn seed_cache(&self) -> PathBuf {
        self.at("cache/seed")
    }
    pub fn lock_file(&self, profile: &str) -> PathBuf {
        self.at(&format!("{profile}.lock"))
    }
    pub fn preflight(&self) -> PathBuf {
        self.at("preflight.json")
    }
    pub fn journal(&self) -> PathBuf {
        self.at("journal.json")
    }
    pub fn report(&self) -> PathBuf {
        self.at("report.json")
    }
    /// The cluster the deploy went to and its classes and registry (`install`).
    pub fn target(&self) -> PathBuf {
        self.at("target.json")
    }
    pub fn secrets(&self) -> PathBuf {
        self.at("secrets")
    }
    /// `backup` archives (`<name>.tar`, 0600) and their staging folders.
    pub fn backups(&self) -> PathBuf {
        self.at("backups")
    }
    pub fn logs(&self) -> PathBuf {
        self.at("logs")
    }
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
}
