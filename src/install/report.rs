//! `report.json`: one file per run that a trainer can collect from 30 VMs
//! and compare: versions, host, preflight, image digests, phase times,
//! endpoints, every check, and the result.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::health::smoke::CheckResult;
use crate::host::facts::HostFacts;
use crate::preflight::Preflight;
use crate::profile::Profile;

#[derive(Debug, Serialize)]
pub struct RunReport {
    pub schema: u32,
    pub tool: Tool,
    pub profile: ProfileInfo,
    pub started_at: String,
    pub finished_at: String,
    /// `healthy`, `unhealthy` (deployed, a check failed), `failed`, `interrupted`.
    pub result: String,
    pub error: Option<String>,
    pub host: Option<HostFacts>,
    pub preflight: Option<Preflight>,
    /// Where images and files came from: `docker-hub`, a mirror URL, a bundle.
    pub source: String,
    pub images: BTreeMap<String, String>,
    pub phases: Vec<PhaseRecord>,
    pub endpoints: Option<Endpoints>,
    pub checks: Vec<CheckResult>,
    pub log_file: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Serialize)]
pub struct ProfileInfo {
    pub name: String,
    pub origin: String,
    pub digit: String,
    pub k3s: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct PhaseRecord {
    pub id: String,
    /// `done`, `skipped` (verified still true), `failed`, `interrupted`.
    pub state: String,
    pub seconds: f64,
}

#[derive(Debug, Serialize)]
pub struct Endpoints {
    pub url: String,
    pub login_url: String,
    pub username: String,
    pub kubeconfig: Option<String>,
}

impl RunReport {
    pub fn new(profile: &Profile, started_at: String, source: String) -> Self {
        Self {
            schema: 1,
            tool: Tool {
                name: "digit-quickstart",
                version: env!("CARGO_PKG_VERSION"),
            },
            profile: ProfileInfo {
                name: profile.name.clone(),
                origin: profile.origin.clone(),
                digit: profile.digit.release.clone(),
                k3s: profile.k3s.version.clone(),
            },
            started_at,
            finished_at: String::new(),
            result: "failed".into(),
            error: None,
            host: None,
            preflight: None,
            source,
            images: BTreeMap::new(),
            phases: Vec::new(),
            endpoints: None,
            checks: Vec::new(),
            log_file: None,
        }
    }
}
