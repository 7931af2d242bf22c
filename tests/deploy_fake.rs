//! What the real control plane (tests/deploy.rs) cannot produce, against the
//! stateful fake Kubernetes API: a container that starts and crashes again
//! with log lines (KWOK runs no containers, so there is no log and no
//! restart). The pod and its log are real-shaped fixtures.
#![allow(clippy::disallowed_methods)]

mod support;

use std::path::{Path, PathBuf};

use support::bin;
use support::cluster::{FakeCluster, fake_digit, node_list, with_local_seeds};

/// The dev profile with its seed files served locally (test content, re-pinned).
fn profile_with_local_seeds(dir: &Path) -> PathBuf {
    let path = dir.join("dev.yaml");
    std::fs::write(&path, with_local_seeds(digit_quickstart::profile::EMBEDDED[0].2)).unwrap();
    path
}

fn dev() -> digit_quickstart::profile::Profile {
    digit_quickstart::profile::parse(digit_quickstart::profile::EMBEDDED[0].2, "dev").unwrap()
}

struct World {
    _dir: tempfile::TempDir,
    data: PathBuf,
    profile: PathBuf,
    cluster: FakeCluster,
    kubeconfig: PathBuf,
    digit: String,
}

const ADMIN_PROXY: &str = "POST /api/v1/namespaces/egov/services/egov-user:8080/proxy/user/users/_createnovalidate";

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let profile = profile_with_local_seeds(dir.path());
    let cluster = FakeCluster::start();
    let kubeconfig = cluster.kubeconfig(dir.path());
    cluster.script("GET /api/v1/nodes", vec![(200, node_list())]);
    cluster.answer_cluster_check();
    cluster.script(
        ADMIN_PROXY,
        vec![
            (200, r#"{"responseInfo":null,"user":[{"id":1,"userName":"ADMIN","tenantId":"pg"}]}"#.into()),
            (400, r#"{"ResponseInfo":null,"Errors":[{"code":"DuplicateUserName","message":"User with this user name already exists","description":null,"params":null}]}"#.into()),
        ],
    );
    let digit = fake_digit(&dev(), data.join("secrets/dev.env"));
    World {
        _dir: dir,
        data,
        profile,
        cluster,
        kubeconfig,
        digit,
    }
}

fn install(w: &World, extra: &[&str]) -> std::process::Output {
    bin(&w.data)
        .env("DIGIT_QUICKSTART_INGRESS_URL", &w.digit)
        .env("DIGIT_QUICKSTART_POLL_MS", "20")
        .args(["install", "--only", "deploy", "--yes", "--profile"])
        .arg(&w.profile)
        .arg("--kubeconfig")
        .arg(&w.kubeconfig)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn a_crash_looping_service_times_out_with_its_cause_logs_and_a_hint() {
    let w = world();
    let mut dep: serde_json::Value = serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "egov-user", "namespace": "egov", "generation": 1},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": "egov-user"}},
                 "template": {"spec": {"containers": [{"name": "egov-user", "image": "x"}]}}},
        "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "unavailableReplicas": 1,
                   "conditions": [{"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable", "message": "Deployment does not have minimum availability."}]}
    });
    dep["status"]["availableReplicas"] = serde_json::json!(0);
    w.cluster.script(
        "GET /apis/apps/v1/namespaces/egov/deployments/egov-user",
        vec![(200, dep.to_string())],
    );
    let pod = std::fs::read_to_string(format!(
        "{}/tests/fixtures/k8s/diagnose/crashloop.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    w.cluster.script(
        "GET /api/v1/namespaces/egov/pods",
        vec![(
            200,
            format!(r#"{{"kind":"PodList","apiVersion":"v1","metadata":{{}},"items":[{pod}]}}"#),
        )],
    );
    w.cluster.script(
        "GET /api/v1/namespaces/egov/pods/egov-user-7d9f8c6b5-x2k9p/log",
        vec![(200, "2026-11-22 03:11:39 ERROR o.s.boot.SpringApplication - Application run failed\norg.egov.tracer.model.CustomException: TENANT_NOT_FOUND: pg : Tenant Id not found\n".into())],
    );
    let out = install(&w, &["--wait-timeout", "1"]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("error: egov-user is not ready after 1 s"), "{stderr}");
    assert!(stderr.contains("cause: container egov-user in egov-user-7d9f8c6b5-x2k9p keeps crashing (4 restarts)"));
    assert!(stderr.contains("  | org.egov.tracer.model.CustomException: TENANT_NOT_FOUND: pg : Tenant Id not found"));
    assert!(stderr.contains("hint: its last log lines are below"));
    let reqs = w.cluster.requests();
    let log = reqs.iter().find(|r| r.path.ends_with("/log")).unwrap();
    assert!(
        log.query.contains("previous=true") && log.query.contains("tailLines=20"),
        "{}",
        log.query
    );
    // Nothing after egov-user's wave was applied.
    assert!(
        !reqs
            .iter()
            .any(|r| r.method == "PATCH" && r.path.ends_with("/deployments/pgr-services"))
    );
}
