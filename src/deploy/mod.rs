//! Deploying the profile: dependency waves and what each wave applies.

use crate::layout::Layout;
use crate::plan::{Phase, Step};
use crate::profile::Profile;

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
