//! What an upgrade changes, computed from the two profiles: images by
//! repository, k3s and DIGIT versions, every rendered Kubernetes object
//! (both rendered the same way, with placeholders for secrets and tags for
//! digests, so only the profiles' differences show), and seed steps.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::deploy::manifests::{Inputs, render as render_manifests};
use crate::profile::Profile;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Diff {
    pub digit: Option<(String, String)>,
    pub k3s: Option<(String, String)>,
    pub images_added: Vec<String>,
    pub images_removed: Vec<String>,
    /// (repository, old tag, new tag)
    pub images_changed: Vec<(String, String, String)>,
    pub objects_added: Vec<String>,
    pub objects_removed: Vec<String>,
    pub objects_changed: Vec<String>,
    pub seeds_added: Vec<String>,
    pub seeds_removed: Vec<String>,
    pub seeds_changed: Vec<String>,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// `docker.io/egovio/egov-user:tag` -> (`docker.io/egovio/egov-user`, `tag`).
fn split(reference: &str) -> (String, String) {
    let slash = reference.rfind('/').map_or(0, |i| i + 1);
    match reference[slash..].rfind(':') {
        Some(i) => (reference[..slash + i].to_owned(), reference[slash + i + 1..].to_owned()),
        None => (reference.to_owned(), String::new()),
    }
}

fn objects(p: &Profile) -> BTreeMap<String, serde_json::Value> {
    let none = BTreeMap::new();
    let rendered = render_manifests(&Inputs {
        profile: p,
        secrets: None,
        digests: &none,
        files: &none,
        public_url: None,
        target: &crate::deploy::manifests::target::Target::default(),
        pull_auth: None,
    });
    rendered
        .base
        .iter()
        .chain(rendered.components.values().flatten())
        .chain(rendered.jobs.values())
        .map(|m| (m.id(), m.object.clone()))
        .collect()
}

pub fn diff(old: &Profile, new: &Profile) -> Diff {
    let mut d = Diff::default();
    if old.digit.release != new.digit.release {
        d.digit = Some((old.digit.release.clone(), new.digit.release.clone()));
    }
    if old.k3s.version != new.k3s.version {
        d.k3s = Some((old.k3s.version.clone(), new.k3s.version.clone()));
    }
    let repos = |p: &Profile| -> BTreeMap<String, Vec<String>> {
        let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for i in p.images() {
            let (repo, tag) = split(i.reference.as_str());
            m.entry(repo).or_default().push(tag);
        }
        m
    };
    let (a, b) = (repos(old), repos(new));
    for (repo, tags) in &b {
        match a.get(repo) {
            None => d.images_added.extend(tags.iter().map(|t| format!("{repo}:{t}"))),
            Some(old_tags) => {
                let gone: Vec<&String> = old_tags.iter().filter(|t| !tags.contains(t)).collect();
                let new_tags: Vec<&String> = tags.iter().filter(|t| !old_tags.contains(t)).collect();
                for (i, t) in new_tags.iter().enumerate() {
                    match gone.get(i) {
                        Some(g) => d.images_changed.push((repo.clone(), (*g).clone(), (*t).clone())),
                        None => d.images_added.push(format!("{repo}:{t}")),
                    }
                }
                for g in gone.iter().skip(new_tags.len()) {
                    d.images_removed.push(format!("{repo}:{g}"));
                }
            }
        }
    }
    for (repo, tags) in &a {
        if !b.contains_key(repo) {
            d.images_removed.extend(tags.iter().map(|t| format!("{repo}:{t}")));
        }
    }
    let (oa, ob) = (objects(old), objects(new));
    for (id, obj) in &ob {
        match oa.get(id) {
            None => d.objects_added.push(id.clone()),
            Some(o) if o != obj => d.objects_changed.push(id.clone()),
            Some(_) => {}
        }
    }
    d.objects_removed = oa.keys().filter(|k| !ob.contains_key(*k)).cloned().collect();
    let seeds = |p: &Profile| -> BTreeMap<String, String> {
        p.seeds
            .iter()
            .map(|s| (s.name.clone(), serde_json::to_string(s).unwrap_or_default()))
            .collect()
    };
    let (sa, sb) = (seeds(old), seeds(new));
    for (name, s) in &sb {
        match sa.get(name) {
            None => d.seeds_added.push(name.clone()),
            Some(o) if o != s => d.seeds_changed.push(name.clone()),
            Some(_) => {}
        }
    }
    d.seeds_removed = sa.keys().filter(|k| !sb.contains_key(*k)).cloned().collect();
    d
}

/// The plan diff as the user reads it.
pub fn render(d: &Diff) -> String {
    if d.is_empty() {
        return "no change\n".into();
    }
    let mut out = String::new();
    if let Some((a, b)) = &d.digit {
        out.push_str(&format!("DIGIT   {a} -> {b}\n"));
    }
    match &d.k3s {
        Some((a, b)) => {
            let step = match (super::k3s_triple(a), super::k3s_triple(b)) {
                (Some(x), Some(y)) if x.1 != y.1 => "next minor",
                _ => "patch",
            };
            out.push_str(&format!(
                "k3s     {a} -> {b} ({step}: binary and air-gap images replaced, verified; k3s restarted; node waited for)\n"
            ));
        }
        None => out.push_str("k3s     unchanged\n"),
    }
    out.push_str(&format!(
        "images  {} added, {} changed, {} removed\n",
        d.images_added.len(),
        d.images_changed.len(),
        d.images_removed.len()
    ));
    for i in &d.images_added {
        out.push_str(&format!("  + {i}\n"));
    }
    for (r, a, b) in &d.images_changed {
        out.push_str(&format!("  ~ {r}: {a} -> {b}\n"));
    }
    for i in &d.images_removed {
        out.push_str(&format!("  - {i}\n"));
    }
    out.push_str(&format!(
        "objects {} added, {} changed, {} removed\n",
        d.objects_added.len(),
        d.objects_changed.len(),
        d.objects_removed.len()
    ));
    for o in &d.objects_added {
        out.push_str(&format!("  + {o}\n"));
    }
    for o in &d.objects_changed {
        out.push_str(&format!("  ~ {o}\n"));
    }
    for o in &d.objects_removed {
        out.push_str(&format!("  - {o}\n"));
    }
    out.push_str(&format!(
        "seeds   {} added, {} changed, {} removed\n",
        d.seeds_added.len(),
        d.seeds_changed.len(),
        d.seeds_removed.len()
    ));
    for s in &d.seeds_added {
        out.push_str(&format!("  + {s}\n"));
    }
    for s in &d.seeds_changed {
        out.push_str(&format!("  ~ {s}\n"));
    }
    for s in &d.seeds_removed {
        out.push_str(&format!("  - {s}\n"));
    }
    out
}
