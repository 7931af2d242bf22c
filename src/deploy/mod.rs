//! Deploying the profile: dependency waves and what each wave applies.

pub mod cluster;
pub mod diagnose;
pub mod manifests;
pub mod remove;
pub mod run;
pub mod secrets;
pub mod stage;
pub mod tunnel;

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

/// What the last install deployed to (none yet: k3s's own cluster).
pub fn saved_target(fs: &dyn Fs, layout: &Layout) -> manifests::target::Target {
    fs.read_to_string(&layout.target())
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

pub fn save_target(fs: &dyn Fs, layout: &Layout, t: &manifests::target::Target) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(t).map_err(std::io::Error::other)?;
    fs.write_atomic(&layout.target(), text.as_bytes(), 0o644)
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
        if let Some(f) = seed.file()
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
    let files = profile.seeds.iter().filter(|s| s.file().is_some()).count();
    let mut steps = vec![
        Step::CreateDir {
            path: layout.secrets(),
            mode: "0700".into(),
        },
        Step::WriteFile {
            path: secrets::path(&layout.secrets(), &profile.name),
            mode: "0600".into(),
            what: "generated passwords and keys (database, MinIO, encryption, ADMIN), kept for re-runs".into(),
        },
        Step::CreateDir {
            path: layout.seed_cache(),
            mode: "0755".into(),
        },
        Step::Seed {
            what: format!("download {files} seed files pinned by URL and sha256 (verified before use)"),
        },
        Step::Apply {
            wave: 0,
            components: vec![format!(
                "namespace {}, config, secrets, gateway RBAC, every Service, seed ConfigMaps, ingress on port 80",
                profile.namespace
            )],
        },
    ];
    let stateful: Vec<&str> = profile
        .components
        .iter()
        .filter(|c| !c.volumes.is_empty())
        .map(|c| c.name.as_str())
        .collect();
    if !stateful.is_empty() {
        // local-path volumes are folders on one node: with agents joined,
        // the scheduler keeps these pods where their data is.
        steps.push(Step::Check {
            what: format!(
                "volumes of {} are folders on the node their pod first runs on (local-path); those pods stay on that node, the other services spread over every node",
                stateful.join(", ")
            ),
        });
    }
    for (i, wave) in waves.iter().enumerate() {
        steps.push(Step::Apply {
            wave: i + 1,
            components: wave.iter().map(|c| c.name.clone()).collect(),
        });
        for c in wave {
            for seed in profile.seeds_after(&c.name) {
                if let Some(what) = seed_words(seed) {
                    steps.push(Step::Seed { what });
                }
            }
            if profile.admin.via == c.name {
                steps.push(Step::Seed {
                    what: format!(
                        "user {} on {} through {}'s API (password generated)",
                        profile.admin.username,
                        profile.admin.tenants.join(", "),
                        c.name
                    ),
                });
                for u in &profile.system_users {
                    steps.push(Step::Seed {
                        what: format!(
                            "{} user {} ({}) on {} through {}'s API (password generated, not shown)",
                            u.user_type,
                            u.username,
                            u.roles.join(", "),
                            profile.state_tenant,
                            c.name
                        ),
                    });
                }
            }
        }
    }
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

fn seed_words(seed: &crate::profile::SeedStep) -> Option<String> {
    let about = if seed.description.is_empty() {
        String::new()
    } else {
        format!(": {}", seed.description)
    };
    match &seed.action {
        SeedAction::File(f) if f.kind == crate::profile::SeedFileKind::Sql => {
            Some(format!("{} ({}){about}", seed.name, manifests::seed_file_name(&f.url)))
        }
        SeedAction::File(_) => None,
        SeedAction::Job(_) => Some(format!("{} (job){about}", seed.name)),
        SeedAction::Api { component, path, .. } => Some(format!("{} (POST {component}{path}){about}", seed.name)),
    }
}
