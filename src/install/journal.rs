//! The step journal: what each completed install step verified (hashes,
//! digests, manifest hashes), written atomically after every step so an
//! interrupted or killed run leaves a consistent file the next run trusts
//! only as far as a cheap re-check confirms.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::host::Fs;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Journal {
    pub schema: u32,
    pub profile: String,
    pub steps: BTreeMap<String, Entry>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Unix seconds when it completed.
    pub done_at: u64,
    pub seconds: f64,
    /// What the step checked, for the next run's re-check and for people.
    pub verified: serde_json::Value,
}

impl Journal {
    /// The journal for `profile`, or an empty one (a missing, unreadable or
    /// other-profile journal means "nothing is known to be done").
    pub fn load(fs: &dyn Fs, path: &Path, profile: &str) -> Self {
        let fresh = Self {
            schema: 1,
            profile: profile.to_owned(),
            steps: BTreeMap::new(),
        };
        match fs
            .read_to_string(path)
            .ok()
            .and_then(|t| serde_json::from_str::<Self>(&t).ok())
        {
            Some(j) if j.schema == 1 && j.profile == profile => j,
            _ => fresh,
        }
    }

    pub fn get(&self, step: &str) -> Option<&Entry> {
        self.steps.get(step)
    }

    /// Records a step and writes the whole file atomically (temp + rename).
    pub fn record(&mut self, fs: &dyn Fs, path: &Path, step: &str, entry: Entry) -> std::io::Result<()> {
        self.steps.insert(step.to_owned(), entry);
        self.save(fs, path)
    }

    /// Forgets a step (and everything after it is re-checked anyway).
    pub fn forget(&mut self, fs: &dyn Fs, path: &Path, step: &str) -> std::io::Result<()> {
        if self.steps.remove(step).is_some() {
            self.save(fs, path)?;
        }
        Ok(())
    }

    pub fn save(&self, fs: &dyn Fs, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            fs.create_dir_all(dir)?;
        }
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        fs.write_atomic(path, text.as_bytes(), 0o644)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::RealFs;

    #[test]
    fn records_survive_a_reload_and_another_profile_starts_empty() {
        let dir = tempfile::tempdir().unwrap();
        let fs = RealFs::new("/");
        let path = dir.path().join("journal.json");
        let mut j = Journal::load(&fs, &path, "dev");
        assert!(j.steps.is_empty());
        let entry = Entry {
            done_at: 1_763_780_000,
            seconds: 1.5,
            verified: serde_json::json!({"digests": 36}),
        };
        j.record(&fs, &path, "images", entry.clone()).unwrap();
        assert_eq!(Journal::load(&fs, &path, "dev").get("images"), Some(&entry));
        assert!(Journal::load(&fs, &path, "other").steps.is_empty());
        j.forget(&fs, &path, "images").unwrap();
        assert!(Journal::load(&fs, &path, "dev").get("images").is_none());
        // A torn or corrupt file is "nothing done", never an error.
        std::fs::write(&path, "{\"schema\":1,\"prof").unwrap();
        assert!(Journal::load(&fs, &path, "dev").steps.is_empty());
    }
}
