//! The rendered manifests against Kubernetes' own schemas, with
//! `kubernetes-validate --strict` for the pinned k3s minor.
#![allow(clippy::disallowed_methods)]

mod support;

use std::io::Write;
use std::process::{Command, Stdio};

use support::bin;

/// "v1.36.4+k3s1" -> "1.36"
fn k3s_minor() -> String {
    let dev = digit_quickstart::profile::parse(digit_quickstart::profile::EMBEDDED[0].2, "dev").unwrap();
    let v = dev.k3s.version.trim_start_matches('v');
    let mut parts = v.split('.');
    format!("{}.{}", parts.next().unwrap(), parts.next().unwrap())
}

fn validate(yaml: &str) -> std::process::Output {
    let mut child = Command::new("kubernetes-validate")
        .args(["--strict", "--kubernetes-version", &k3s_minor(), "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubernetes-validate is installed by .ci/run (pip install kubernetes-validate)");
    child.stdin.take().unwrap().write_all(yaml.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn every_rendered_manifest_validates_strictly_against_the_pinned_kubernetes() {
    let data = tempfile::tempdir().unwrap();
    let out = bin(data.path()).args(["plan", "--manifests"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let yaml = String::from_utf8(out.stdout).unwrap();
    let documents = yaml.matches("\n---\n").count() + 1;
    assert!(documents > 60, "{documents} documents");
    let result = validate(&yaml);
    let report = String::from_utf8_lossy(&result.stdout).to_string() + &String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(0), "{report}");
    assert_eq!(
        report.matches("INFO - passed for resource").count(),
        documents,
        "{report}"
    );
    // Nothing generated reaches the plan.
    assert!(
        yaml.contains("password: <generated at install, stored in the data dir>"),
        "secrets render as the placeholder"
    );
}

#[test]
fn the_validator_rejects_what_the_renderer_must_never_produce() {
    // The peer can fail: an unknown field and a wrong type are caught.
    let bad = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replicas: one\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec: {containers: [{name: x, imagee: y}]}\n";
    let result = validate(bad);
    assert_ne!(result.status.code(), Some(0));
}
