//! `install --only deploy` against a fake Kubernetes API (stateful: applies
//! are stored, reads answer with real-shaped status), a local server for the
//! seed files and a fake DIGIT behind the "ingress" for health and smoke.
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

fn secret(data: &Path, key: &str) -> String {
    std::fs::read_to_string(data.join("secrets/dev.env"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_owned))
        .unwrap()
}

fn position(reqs: &[support::cluster::Request], method: &str, path_end: &str) -> usize {
    reqs.iter()
        .position(|r| r.method == method && r.path.ends_with(path_end))
        .unwrap_or_else(|| panic!("no {method} …{path_end}"))
}

#[test]
fn a_deploy_applies_in_waves_seeds_after_its_owner_checks_health_and_prints_the_banner() {
    use std::os::unix::fs::PermissionsExt;
    let w = world();
    let out = install(&w, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");

    let password = secret(&w.data, "digit-admin/password");
    assert!(stdout.contains("DIGIT is up:"), "{stdout}");
    assert!(stdout.contains(&format!("Open      {}/digit-ui/employee/user/login", w.digit)));
    assert!(stdout.contains("User      ADMIN"));
    assert!(stdout.contains(&format!("Password  {password}  (shown once)")));
    assert_eq!(stdout.matches(&password).count(), 1);
    let mode = std::fs::metadata(w.data.join("secrets/dev.env"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // Other secrets never reach the output.
    let db = secret(&w.data, "db/password");
    assert!(!stdout.contains(&db) && !stderr.contains(&db));

    let reqs = w.cluster.requests();
    let applies: Vec<_> = reqs.iter().filter(|r| r.method == "PATCH").collect();
    assert!(
        applies
            .iter()
            .all(|r| r.query.contains("fieldManager=digit-quickstart") && r.query.contains("force=true"))
    );
    assert!(applies[0].path.ends_with("/namespaces/egov"), "{}", applies[0].path);
    let deployments = applies.iter().filter(|r| r.path.contains("/deployments/")).count();
    assert_eq!(deployments, dev().components.len());
    let jobs = applies.iter().filter(|r| r.path.contains("/jobs/")).count();
    assert_eq!(jobs, 8);
    // Waves: postgres before mdms-v2; mdms-v2's seeds before egov-user; the
    // gateway only after egov-user is up; every Service before any Deployment.
    let deploy = |c: &str| position(&reqs, "PATCH", &format!("/deployments/{c}"));
    assert!(deploy("postgres") < deploy("mdms-v2"));
    assert!(position(&reqs, "PATCH", "/jobs/seed-mdms-security") < deploy("egov-user"));
    assert!(position(&reqs, "GET", "/deployments/egov-user") < deploy("gateway"));
    assert!(position(&reqs, "PATCH", "/services/pgr-services") < deploy("postgres"));
    // The seed file reached its ConfigMap; the ADMIN went through egov-user's API.
    let cm = w
        .cluster
        .object("/api/v1/namespaces/egov/configmaps/seed-mdms-tenant")
        .unwrap();
    assert_eq!(
        cm["data"]["tenant-seed.sql"],
        "-- test content for tenant-seed.sql\nSELECT 1;\n"
    );
    let admin = reqs
        .iter()
        .find(|r| format!("{} {}", r.method, r.path) == ADMIN_PROXY)
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(&admin.body).unwrap();
    assert_eq!(body["User"]["password"], password.as_str());
    assert_eq!(body["User"]["tenantId"], "pg");
    assert!(
        body["User"]["roles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["code"] == "SUPERUSER")
    );
    assert!(position(&reqs, "POST", "_createnovalidate") > position(&reqs, "GET", "/deployments/egov-user"));
}

#[test]
fn a_second_deploy_keeps_secrets_and_finished_jobs_and_does_not_show_the_password_again() {
    let w = world();
    assert_eq!(install(&w, &[]).status.code(), Some(0));
    let password = secret(&w.data, "digit-admin/password");
    let before = w.cluster.requests().len();
    let out = install(&w, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(secret(&w.data, "digit-admin/password"), password);
    assert!(
        stdout.contains("Password  unchanged since the first install"),
        "{stdout}"
    );
    assert!(!stdout.contains(&password));
    // Same manifests, everything ready: nothing is applied at all.
    let again = &w.cluster.requests()[before..];
    assert!(!again.iter().any(|r| r.method != "GET"), "{again:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("skipped 1 completed steps"));

    // Without the journal it re-applies: Jobs that succeeded from the same
    // template are kept, and the existing ADMIN (DuplicateUserName) is fine.
    std::fs::remove_file(w.data.join("journal.json")).unwrap();
    let before = w.cluster.requests().len();
    let out = install(&w, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let again = &w.cluster.requests()[before..];
    assert!(
        again
            .iter()
            .any(|r| r.method == "PATCH" && r.path.contains("/deployments/"))
    );
    assert!(!again.iter().any(|r| r.method == "DELETE"));
    assert!(!again.iter().any(|r| r.method == "PATCH" && r.path.contains("/jobs/")));
    assert!(again.iter().any(|r| r.path.ends_with("_createnovalidate")));
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

#[test]
fn a_failing_smoke_check_exits_1_after_printing_which_one() {
    let w = world();
    let wrong = fake_digit(&dev(), w.data.join("no-such-file"));
    let out = bin(&w.data)
        .env("DIGIT_QUICKSTART_INGRESS_URL", &wrong)
        .env("DIGIT_QUICKSTART_POLL_MS", "20")
        .args(["install", "--only", "deploy", "--yes", "--profile"])
        .arg(&w.profile)
        .arg("--kubeconfig")
        .arg(&w.kubeconfig)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("DIGIT is deployed but not healthy"), "{stdout}");
    assert!(stdout.contains("FAIL smoke login: ADMIN login refused: HTTP 401 Invalid login credentials"));
    assert!(stdout.contains("FAIL smoke mdms-search: skipped: no login token"));
}

#[test]
fn a_seed_file_that_does_not_match_its_pin_stops_before_anything_is_applied() {
    let w = world();
    let text = std::fs::read_to_string(&w.profile).unwrap();
    let line = text.lines().find(|l| l.contains("tenant-seed.sql")).unwrap();
    let pin = line.split("sha256: ").nth(1).unwrap()[..64].to_owned();
    std::fs::write(&w.profile, text.replace(&pin, &"0".repeat(64))).unwrap();
    let out = install(&w, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("tenant-seed.sql does not match its pin"), "{stderr}");
    assert!(stderr.contains(&format!("expected sha256 {}", "0".repeat(64))));
    assert!(w.cluster.requests().is_empty(), "nothing may reach the cluster");
}
