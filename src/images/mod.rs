//! Images: which ones the profile needs, and the engine that pulls them into
//! a content-addressed store, locks their digests and exports them for k3s.

pub mod auth;
pub mod engine;
pub mod export;
pub mod lock;
pub mod progress;
pub mod ratelimit;
pub mod store;

use std::collections::BTreeMap;

use crate::layout::Layout;
use crate::plan::{Phase, Step};
use crate::profile::{ImageRole, Profile};

/// One image and the components that use it.
#[derive(Clone, Debug)]
pub struct Needed<'a> {
    pub image: &'a crate::profile::Image,
    pub components: Vec<&'a str>,
}

pub fn needed(profile: &Profile) -> Vec<Needed<'_>> {
    let mut order: Vec<&str> = Vec::new();
    let mut by_ref: BTreeMap<&str, Needed<'_>> = BTreeMap::new();
    for c in &profile.components {
        for image in &c.images {
            let key = image.reference.as_str();
            by_ref
                .entry(key)
                .or_insert_with(|| {
                    order.push(key);
                    Needed {
                        image,
                        components: Vec::new(),
                    }
                })
                .components
                .push(&c.name);
        }
    }
    order.into_iter().filter_map(|k| by_ref.remove(k)).collect()
}

fn role(r: ImageRole) -> &'static str {
    match r {
        ImageRole::App => "app",
        ImageRole::Migration => "migration",
        ImageRole::Init => "init",
    }
}

pub fn phase(profile: &Profile, layout: &Layout) -> Phase {
    let needed = needed(profile);
    let compressed: u64 = needed.iter().map(|n| n.image.compressed.0).sum();
    let mut steps: Vec<Step> = needed
        .iter()
        .map(|n| Step::PullImage {
            reference: n.image.reference.to_string(),
            role: role(n.image.role).to_owned(),
            compressed: n.image.compressed.0,
            unpacked: n.image.unpacked.0,
            components: n.components.iter().map(|s| (*s).to_owned()).collect(),
        })
        .collect();
    steps.push(Step::WriteFile {
        path: layout.lock_file(&profile.name),
        mode: "0644".into(),
        what: "lock file: every image's digest and layers".into(),
    });
    steps.push(Step::ImportImages {
        count: needed.len(),
        into: "k3s containerd (namespace k8s.io)".into(),
    });
    Phase {
        id: "images",
        title: format!(
            "Pull {} images (about {}, estimated) into {}",
            needed.len(),
            crate::profile::quantity::human_bytes(compressed),
            layout.store().display()
        ),
        steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_used_by_two_components_is_pulled_once_and_names_both() {
        let yaml = crate::profile::EMBEDDED[0].2.replace(
            "docker.io/egovio/egov-otp:v2.9.2-4a60f20, role: app",
            "docker.io/egovio/egov-persister:v2.9.2-4a60f20, role: app",
        );
        let p = crate::profile::parse(&yaml, "t").unwrap();
        let n = needed(&p);
        let persister: Vec<_> = n
            .iter()
            .filter(|n| n.image.reference.as_str().contains("/egov-persister:"))
            .collect();
        assert_eq!(persister.len(), 1);
        assert_eq!(persister[0].components, vec!["egov-persister", "egov-otp"]);
        assert_eq!(n.len(), p.images().len());
    }
}
