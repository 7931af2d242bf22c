//! Images: which ones the profile needs, and the engine that pulls them into
//! a content-addressed store, locks their digests and exports them for k3s.

pub mod auth;
pub mod engine;
pub mod export;
pub mod lock;
pub mod probe;
pub mod progress;
pub mod push;
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

/// What an earlier `pull` left: the lock file and the blobs in the store.
#[derive(Clone, Debug, Default)]
pub struct StoreView {
    pub lock: Option<lock::LockFile>,
    pub blobs: std::collections::HashSet<String>,
}

impl StoreView {
    /// Reads the lock file and the store's blob names through the Fs seam.
    pub fn read(fs: &dyn crate::host::Fs, layout: &Layout, profile: &str) -> Self {
        let lock = lock::LockFile::read(&fs.real_path(&layout.lock_file(profile)))
            .ok()
            .flatten();
        let blobs = fs
            .read_dir(&layout.store().join("blobs/sha256"))
            .unwrap_or_default()
            .into_iter()
            .map(|hex| format!("sha256:{hex}"))
            .collect();
        Self { lock, blobs }
    }
}

pub fn phase(profile: &Profile, layout: &Layout, view: &StoreView) -> Phase {
    let needed = needed(profile);
    let mut counted = std::collections::HashSet::new();
    let (mut to_fetch, mut cached, mut measured_any) = (0u64, 0usize, false);
    let mut steps: Vec<Step> = needed
        .iter()
        .map(|n| {
            let locked = view
                .lock
                .as_ref()
                .and_then(|l| l.images.get(n.image.reference.as_str()));
            let (compressed, measured, in_store) = match locked {
                Some(l) => {
                    measured_any = true;
                    let blobs: Vec<&lock::Descriptor> = std::iter::once(&l.config).chain(l.layers.iter()).collect();
                    let missing: u64 = blobs
                        .iter()
                        .filter(|d| !view.blobs.contains(&d.digest) && counted.insert(d.digest.clone()))
                        .map(|d| d.size)
                        .sum();
                    let in_store =
                        blobs.iter().all(|d| view.blobs.contains(&d.digest)) && view.blobs.contains(&l.manifest.digest);
                    to_fetch += missing;
                    (l.blob_bytes(), true, in_store)
                }
                None => {
                    to_fetch += n.image.compressed.0;
                    (n.image.compressed.0, false, false)
                }
            };
            cached += usize::from(in_store);
            Step::PullImage {
                reference: n.image.reference.to_string(),
                role: role(n.image.role).to_owned(),
                compressed,
                unpacked: n.image.unpacked.0,
                components: n.components.iter().map(|s| (*s).to_owned()).collect(),
                measured,
                in_store,
            }
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
    let bytes = crate::profile::quantity::human_bytes(to_fetch);
    let title = if measured_any {
        format!(
            "Pull {} images into {}: {bytes} to download, {cached} already in the store",
            needed.len(),
            layout.store().display()
        )
    } else {
        format!(
            "Pull {} images (about {bytes}, estimated) into {}",
            needed.len(),
            layout.store().display()
        )
    };
    Phase {
        id: "images",
        title,
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

    #[test]
    fn after_a_pull_the_plan_uses_measured_sizes_and_counts_shared_blobs_once() {
        use lock::{Descriptor, LockFile, LockedImage};
        let yaml = "schema: 1\nname: t\ndescription: d\ndigit: {release: v}\nk3s:\n  version: v\n  url_template: x/{version}/{artifact}\n  overhead: {cpu: 1, memory: 1Gi}\n  artifacts: {}\nhost:\n  arch: [amd64]\n  cpus: {min: 1, recommended: 1}\n  memory: {min: 1Gi, recommended: 1Gi}\n  ports: []\n  eviction: {memory_available: 1Mi, disk_free_percent: 10}\n  data_dir_reserve: 1Mi\n  os: []\nnamespace: n\ncomponents:\n  - name: a\n    images: [{ref: docker.io/x/a:1, compressed: 9Gi, unpacked: 9Gi}]\n    resources: {requests: {cpu: 1m, memory: 1Mi}, limits: {memory: 2Mi}}\n  - name: b\n    images: [{ref: docker.io/x/b:1, compressed: 9Gi, unpacked: 9Gi}]\n    resources: {requests: {cpu: 1m, memory: 1Mi}, limits: {memory: 2Mi}}\nstate_tenant: pg\ncity_tenants: []\nadmin: {username: A, via: a, tenants: [pg], roles: []}\n";
        let p = crate::profile::parse(yaml, "t").unwrap();
        let d = |n: u8, size| Descriptor {
            digest: format!("sha256:{}", format!("{n:x}").repeat(64)[..64].to_owned()),
            size,
            media_type: "m".into(),
        };
        let image = |layer: Descriptor| LockedImage {
            digest: d(1, 1).digest,
            media_type: "m".into(),
            size: 1,
            manifest: d(1, 1),
            config: d(2, 10),
            layers: vec![d(3, 1000), layer],
        };
        let mut lock = LockFile::default();
        lock.images.insert("docker.io/x/a:1".into(), image(d(4, 500)));
        lock.images.insert("docker.io/x/b:1".into(), image(d(5, 700)));
        // a is fully in the store; b's own layer is missing.
        let blobs = [d(1, 1), d(2, 10), d(3, 1000), d(4, 500)]
            .into_iter()
            .map(|x| x.digest)
            .collect();
        let view = StoreView {
            lock: Some(lock),
            blobs,
        };
        let ph = phase(&p, &Layout::new("/d"), &view);
        assert_eq!(
            ph.title,
            "Pull 2 images into /d/store: 700 B to download, 1 already in the store"
        );
        match &ph.steps[0] {
            Step::PullImage {
                compressed,
                measured,
                in_store,
                ..
            } => assert_eq!((*compressed, *measured, *in_store), (1510, true, true)),
            other => panic!("{other:?}"),
        }
    }
}
