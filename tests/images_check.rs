//! `check`'s `images` check against Debian's real docker-registry as the
//! mirror: one manifest HEAD per image, a missing tag and (with a lock file)
//! a missing digest named one per image, before anything is installed.
//! `check` runs for real on this machine here (no host-facts file), so only
//! the `images` line is asserted.
#![allow(clippy::disallowed_methods)]

mod support;

use std::process::Command;

use serde_json::Value;
use support::{Format, Pusher, Registry, bin, layer};

fn dev() -> digit_quickstart::profile::Profile {
    digit_quickstart::profile::parse(digit_quickstart::profile::EMBEDDED[0].2, "dev").unwrap()
}

/// `check --output json` through the mirror; the `images` check.
fn images_check(data: &std::path::Path, mirror: &str, extra: &[&str]) -> Value {
    let out = bin(data)
        .args(["check", "--output", "json", "--registry-mirror", mirror])
        .args(extra)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "images")
        .cloned()
        .unwrap_or_else(|| panic!("no images check in {doc}"))
}

fn repo_tag(reference: &str) -> (String, String) {
    let r = reference.trim_start_matches("docker.io/");
    let (repo, tag) = r.rsplit_once(':').unwrap();
    (repo.to_owned(), tag.to_owned())
}

#[test]
fn a_missing_tag_and_later_a_missing_locked_digest_are_named_before_anything_is_installed() {
    let registry = Registry::start();
    let pusher = Pusher::new(&registry);
    let mirror = format!("http://{}", registry.host);
    let data = tempfile::tempdir().unwrap();
    let dev = dev();
    let base = layer(3, 2048);
    let absent = "docker.io/egovio/egov-otp:v2.9.2-4a60f20";
    let mut pushed = Vec::new();
    for (i, image) in dev.images().iter().enumerate() {
        let reference = image.reference.as_str();
        if reference == absent {
            continue;
        }
        let (repo, tag) = repo_tag(reference);
        pusher.image(
            &repo,
            Some(&tag),
            &[base.clone(), layer(50 + i as u64, 256)],
            Format::Oci,
            "amd64",
        );
        pushed.push(reference.to_owned());
    }

    let c = images_check(data.path(), &mirror, &[]);
    assert_eq!(c["status"], "fail", "{c}");
    let summary = c["summary"].as_str().unwrap();
    let total = dev.images().len();
    assert!(
        summary.starts_with(&format!("1 of {total} image tags do not exist on {}", registry.host)),
        "{summary}"
    );
    assert!(
        summary.contains(&format!("{absent} (tag v2.9.2-4a60f20 not found)")),
        "{summary}"
    );
    assert!(
        !summary.contains("egov-user"),
        "only the missing image is named: {summary}"
    );
    assert!(c["hint"].as_str().unwrap().contains("pin tags that exist"));

    // Offline: not asked at all.
    let c = images_check(data.path(), &mirror, &["--offline"]);
    assert_eq!(c["status"], "info", "{c}");

    // Everything there, pulled and locked: now the locked digests are asked.
    let (repo, tag) = repo_tag(absent);
    pusher.image(
        &repo,
        Some(&tag),
        &[base.clone(), layer(999, 256)],
        Format::Oci,
        "amd64",
    );
    let out = bin(data.path())
        .args(["pull", "--registry-mirror", &mirror])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let c = images_check(data.path(), &mirror, &[]);
    assert_eq!(c["status"], "pass", "{c}");
    assert!(c["summary"].as_str().unwrap().contains("by locked digest"), "{c}");

    // The registry loses one locked manifest (deleted by digest).
    let lock: Value = serde_json::from_slice(&std::fs::read(data.path().join("dev.lock")).unwrap()).unwrap();
    let gone = "docker.io/egovio/egov-user:master-d69ce29";
    let digest = lock["images"][gone]["digest"].as_str().unwrap().to_owned();
    let (repo, _) = repo_tag(gone);
    let status = Command::new("curl")
        .args(["-fsS", "-X", "DELETE"])
        .arg(format!("{mirror}/v2/{repo}/manifests/{digest}"))
        .status()
        .unwrap();
    assert!(status.success());
    let c = images_check(data.path(), &mirror, &[]);
    assert_eq!(c["status"], "fail", "{c}");
    let summary = c["summary"].as_str().unwrap();
    assert!(
        summary.starts_with(&format!("1 of {total} image locked digests do not exist")),
        "{summary}"
    );
    assert!(
        summary.contains(&format!("{gone} (digest {digest} not found)")),
        "{summary}"
    );
}

#[test]
fn an_unreachable_mirror_is_a_warning_not_a_failure() {
    let data = tempfile::tempdir().unwrap();
    // A port nothing listens on.
    let port = support::free_port();
    let c = images_check(data.path(), &format!("http://127.0.0.1:{port}"), &[]);
    assert_eq!(c["status"], "warn", "{c}");
    assert!(
        c["summary"]
            .as_str()
            .unwrap()
            .starts_with(&format!("could not ask 127.0.0.1:{port}")),
        "{c}"
    );
}
