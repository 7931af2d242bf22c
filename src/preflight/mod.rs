//! Host preflight: pure checks over `HostFacts` and the profile. Each check
//! has a stable id (for `--ignore-check` and JSON), a status, a one-line
//! summary and, when something is wrong, a hint that says what to do.

mod checks;
pub mod cluster;
pub mod sizing;

use serde::Serialize;

use crate::host::facts::HostFacts;
use crate::profile::Profile;

pub use sizing::Sizing;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Info,
    Warn,
    Fail,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckResult {
    pub id: String,
    pub status: Status,
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// A failure turned into a warning by `--ignore-check`.
    pub ignored: bool,
}

impl CheckResult {
    fn new(id: impl Into<String>, status: Status, summary: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            status,
            summary: summary.into(),
            hint: None,
            ignored: false,
        }
    }

    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Preflight {
    pub checks: Vec<CheckResult>,
    pub sizing: Sizing,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub pass: usize,
    pub info: usize,
    pub warn: usize,
    pub fail: usize,
}

impl Preflight {
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|c| c.status == Status::Fail)
    }

    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for check in &self.checks {
            match check.status {
                Status::Pass => c.pass += 1,
                Status::Info => c.info += 1,
                Status::Warn => c.warn += 1,
                Status::Fail => c.fail += 1,
            }
        }
        c
    }

    pub fn get(&self, id: &str) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.id == id)
    }
}

/// Every check id this profile can produce, for validating `--ignore-check`.
pub fn check_ids(profile: &Profile) -> Vec<String> {
    let mut ids: Vec<String> = checks::FIXED_IDS.iter().map(|s| (*s).to_owned()).collect();
    ids.extend(profile.host.ports.iter().map(|p| format!("port-{p}")));
    ids.extend(checks::TRAILING_IDS.iter().map(|s| (*s).to_owned()));
    ids
}

/// Runs every check; `ignore` lists check ids whose failure becomes a warning.
pub fn evaluate(facts: &HostFacts, profile: &Profile, ignore: &[String]) -> Preflight {
    let sizing = sizing::size(profile, facts);
    let mut results = checks::all(facts, profile, &sizing);
    for r in &mut results {
        if r.status == Status::Fail && ignore.iter().any(|i| i == &r.id) {
            r.status = Status::Warn;
            r.ignored = true;
        }
    }
    Preflight {
        checks: results,
        sizing,
    }
}

#[cfg(test)]
mod tests;
