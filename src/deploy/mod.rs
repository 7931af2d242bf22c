//! Deploying the profile: dependency waves and what each wave applies.

pub mod manifests;
pub mod secrets;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::host::Fs;
use crate::layout::Layout;
use crate::plan::{Phase, Step};
use crate::profile::{Profile, SeedAction, Sha256Pin};

/// Image reference -> digest, from the image engine's lock file when there is one.
pub fn locked_digests(layout: &Layout, profile: &Profile) -> BTreeMap<String, String> {
    crate::images::lock::LockFile::read(&layout.lock_file(&profile.name))
        .ok()
        .flatten()
        .map(|l| l.images.into_iter().map(|(r, i)| (r, i.digest)).collect())
        .unwrap_or_default()
}

/// Where a seed file is cached: named by its pin.
pub fn seed_cache_path(layout: &Layout, pin: &Sha256Pin, url: &str) -> Option<PathBuf> {
    match pin {
        Sha256Pin::Pinned(h) => Some(
            layout
                .seed_cache()
                .join(format!("{h}-{}", manifests::seed_file_name(url))),
        ),
        Sha256Pin::Unpinned => None,
    }
}

/// Seed files already in the cache whose content still matches the pin.
pub fn cached_seed_files(fs: &dyn Fs, layout: &Layout, profile: &Profile) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for seed in &profile.seeds {
        if let SeedAction::File(f) = &seed.action
            && let Some(path) = seed_cache_path(layout, &f.sha256, &f.url)
            && let Sha256Pin::Pinned(want) = &f.sha256
            && fs.sha256(&path).is_ok_and(|got| &got == want)
            && let Ok(text) = fs.read_to_string(&path)
        {
            out.insert(seed.name.clone(), text);
        }
    }
    out
}

pub fn phase(profile: &Profile, layout: &Layout) -> Phase {
    let waves = profile.waves();
    let mut steps = vec![
        Step::CreateDir {
            path: layout.secrets(),
            mode: "0700".into(),
        },
        Step::WriteFile {
            path: layout.secrets().join(format!("{}.env", profile.name)),
            mode: "0600".into(),
            what: "generated passwords and keys (database, MinIO, encryption, ADMIN)".into(),
        },
        Step::Apply {
            wave: 0,
            components: vec![format!("namespace {}, config maps, secrets", profile.namespace)],
        },
    ];
    steps.extend(waves.iter().enumerate().map(|(i, wave)| Step::Apply {
        wave: i + 1,
        components: wave.iter().map(|c| c.name.clone()).collect(),
    }));
    steps.push(Step::Seed {
        what: "tenants, MDMS masters, localisation and the ADMIN user".into(),
    });
    Phase {
        id: "deploy",
        title: format!(
            "Deploy {} components in {} waves",
            profile.components.len(),
            waves.len()
        ),
        steps,
    }
}
