//! The plan: every step `install` takes on this host, computed from the
//! profile, the host facts and the preflight before anything changes.
//! `plan` prints it; `install` will execute it and journal each step.

use std::path::PathBuf;

use serde::Serialize;

use crate::host::facts::HostFacts;
use crate::layout::Layout;
use crate::preflight::{Counts, Preflight, Status};
use crate::profile::Profile;

#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub profile: PlanProfile,
    pub host: PlanHost,
    pub preflight: PlanPreflight,
    pub phases: Vec<Phase>,
    /// Things the user should know before installing (e.g. unpinned artifacts).
    pub warnings: Vec<String>,
    /// Where images, k3s and seed files come from (pinned URLs, a mirror, a bundle).
    pub source: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct PlanProfile {
    pub name: String,
    pub origin: String,
    pub digit_release: String,
    pub k3s_version: String,
    pub namespace: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct PlanHost {
    pub hostname: String,
    pub arch: String,
    pub os: String,
    pub data_dir: PathBuf,
}

#[derive(Clone, Debug, Serialize)]
pub struct PlanPreflight {
    pub counts: Counts,
    pub failed: Vec<String>,
    pub sizing: String,
    pub fits: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Phase {
    pub id: &'static str,
    pub title: String,
    pub steps: Vec<Step>,
}

/// One thing install does. Sizes are bytes.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "step", rename_all = "kebab-case")]
pub enum Step {
    Check {
        what: String,
    },
    CreateDir {
        path: PathBuf,
        mode: String,
    },
    Download {
        url: String,
        dest: PathBuf,
        size: u64,
        sha256: String,
    },
    WriteFile {
        path: PathBuf,
        mode: String,
        what: String,
    },
    Symlink {
        path: PathBuf,
        target: PathBuf,
        only_if_missing: bool,
    },
    Service {
        unit: String,
        action: String,
    },
    Wait {
        condition: String,
        timeout_secs: u64,
    },
    PullImage {
        reference: String,
        role: String,
        compressed: u64,
        unpacked: u64,
        components: Vec<String>,
        /// Sizes come from the lock file (else the profile's estimate).
        measured: bool,
        /// Every blob is already in the store: nothing to download.
        in_store: bool,
    },
    ImportImages {
        count: usize,
        into: String,
    },
    Apply {
        wave: usize,
        components: Vec<String>,
    },
    Seed {
        what: String,
    },
    HealthCheck {
        component: String,
        target: String,
    },
    SmokeTest {
        what: String,
    },
    Report {
        path: PathBuf,
    },
}

impl Step {
    /// A short verb and the rest of the line, for the human listing.
    pub fn describe(&self) -> (&'static str, String) {
        use crate::profile::quantity::human_bytes as hb;
        match self {
            Step::Check { what } => ("check", what.clone()),
            Step::CreateDir { path, mode } => ("mkdir", format!("{} ({mode})", path.display())),
            Step::Download {
                url,
                dest,
                size,
                sha256,
            } => (
                "download",
                format!("{url}\n    -> {} ({}, sha256 {sha256})", dest.display(), hb(*size)),
            ),
            Step::WriteFile { path, mode, what } => ("write", format!("{} ({mode}) {what}", path.display())),
            Step::Symlink {
                path,
                target,
                only_if_missing,
            } => (
                "link",
                format!(
                    "{} -> {}{}",
                    path.display(),
                    target.display(),
                    if *only_if_missing {
                        " (only where no such command exists)"
                    } else {
                        ""
                    }
                ),
            ),
            Step::Service { unit, action } => ("service", format!("{action} {unit}")),
            Step::Wait {
                condition,
                timeout_secs,
            } => ("wait", format!("{condition} (up to {timeout_secs}s)")),
            Step::PullImage {
                reference,
                compressed,
                components,
                measured,
                in_store,
                ..
            } => {
                let size = match (in_store, measured) {
                    (true, _) => "already in the store".to_owned(),
                    (false, true) => hb(*compressed),
                    (false, false) => format!("about {}", hb(*compressed)),
                };
                ("pull", format!("{reference} ({size}) for {}", components.join(", ")))
            }
            Step::ImportImages { count, into } => (
                "import",
                format!("{count} images into {into}, digests checked against the lock file"),
            ),
            Step::Apply { wave, components } => ("apply", format!("wave {wave}: {}", components.join(", "))),
            Step::Seed { what } => ("seed", what.clone()),
            Step::HealthCheck { component, target } => ("health", format!("{component}: {target}")),
            Step::SmokeTest { what } => ("smoke", what.clone()),
            Step::Report { path } => ("report", path.display().to_string()),
        }
    }
}

/// Builds the plan; pure, so `plan` and tests share it.
pub fn build(
    profile: &Profile,
    facts: &HostFacts,
    preflight: &Preflight,
    layout: &Layout,
    home: &std::path::Path,
    store: &crate::images::StoreView,
) -> Plan {
    let counts = preflight.counts();
    let mut warnings = Vec::new();
    if let Some(a) = profile.k3s_artifacts(&facts.arch)
        && (a.binary.sha256 == crate::profile::Sha256Pin::Unpinned
            || a.airgap_images.sha256 == crate::profile::Sha256Pin::Unpinned)
    {
        warnings.push(format!(
            "k3s {} artifacts are unpinned in profile {}: install will refuse to run them until their sha256 is pinned",
            profile.k3s.version, profile.name
        ));
    }
    if profile.k3s_artifacts(&facts.arch).is_none() {
        warnings.push(format!(
            "profile {} has no k3s artifacts for {}",
            profile.name, facts.arch
        ));
    }
    if preflight.failed() {
        let failed: Vec<&str> = preflight
            .checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .map(|c| c.id.as_str())
            .collect();
        warnings.push(format!(
            "preflight failed ({}): install would stop after the checks",
            failed.join(", ")
        ));
    }
    Plan {
        source: "Docker Hub and the profile's pinned URLs".to_owned(),
        profile: PlanProfile {
            name: profile.name.clone(),
            origin: profile.origin.clone(),
            digit_release: profile.digit.release.clone(),
            k3s_version: profile.k3s.version.clone(),
            namespace: profile.namespace.clone(),
        },
        host: PlanHost {
            hostname: facts.hostname.clone(),
            arch: facts.arch.clone(),
            os: facts.os.pretty_name.clone(),
            data_dir: layout.data_dir.clone(),
        },
        preflight: PlanPreflight {
            counts,
            failed: preflight
                .checks
                .iter()
                .filter(|c| c.status == Status::Fail)
                .map(|c| c.id.clone())
                .collect(),
            sizing: preflight.sizing.summary.clone(),
            fits: preflight.sizing.fits,
        },
        phases: vec![
            Phase {
                id: "preflight",
                title: "Check the host".to_owned(),
                steps: vec![
                    Step::Check {
                        what: format!("{} host checks, stop on failure", preflight.checks.len()),
                    },
                    Step::WriteFile {
                        path: layout.preflight(),
                        mode: "0644".into(),
                        what: "preflight results".into(),
                    },
                ],
            },
            crate::k3s::phase(profile, layout, &facts.arch, home),
            crate::images::phase(profile, layout, store),
            crate::deploy::phase(profile, layout),
            crate::health::phase(profile),
            crate::journal::phase(layout),
        ],
        warnings,
    }
}
