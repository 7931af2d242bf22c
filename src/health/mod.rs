//! Health: what "working" means for each component, and the smoke tests.

pub mod smoke;

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
    for what in [
        "login: POST /user/oauth/token as the ADMIN user",
        "mdms-search: tenant.tenants for the state tenant",
        "idgen-generate: one ID from egov-idgen",
        "localization-search: rainmaker-common messages",
    ] {
        steps.push(Step::SmokeTest { what: what.into() });
    }
    Phase {
        id: "health",
        title: "Check health and run smoke tests".into(),
        steps,
    }
}
