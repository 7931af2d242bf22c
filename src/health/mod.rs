//! Health: what "working" means for each component, and the smoke tests.

use crate::plan::{Phase, Step};
use crate::profile::{Health, Profile};

/// Human description of a component's health probe.
pub fn target(h: &Health) -> String {
    match h {
        Health::Http { path, port } => format!("HTTP GET :{port}{path} answers 200"),
        Health::Tcp { port } => format!("TCP :{port} accepts connections"),
        Health::Exec { command } => format!("`{}` succeeds", command.join(" ")),
    }
}

pub fn phase(profile: &Profile) -> Phase {
    let mut steps: Vec<Step> = profile
        .components
        .iter()
        .filter_map(|c| {
            c.health.as_ref().map(|h| Step::HealthCheck {
                component: c.name.clone(),
                target: target(h),
            })
        })
        .collect();
    steps.push(Step::SmokeTest {
        what: "log in as ADMIN through the gateway and search MDMS".into(),
    });
    Phase {
        id: "health",
        title: "Check health and run smoke tests".into(),
        steps,
    }
}
