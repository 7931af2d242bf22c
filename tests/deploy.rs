//! `install --only deploy` against a real Kubernetes control plane (kine,
//! kube-apiserver, controller-manager, scheduler, KWOK as the kubelet of a
//! 4 vCPU / 8 GiB node; tests/support/control_plane.rs), a local server for
//! the seed files, DIGIT's in-cluster answers behind the API server's service
//! proxy, and a fake DIGIT behind the "ingress" for health and smoke.
#![allow(clippy::disallowed_methods)]

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::bin;
use support::cluster::fake_digit;
use support::control_plane::{ControlPlane, DeployWorld as World, NodeSpec, Options, deploy_world};

fn dev() -> digit_quickstart::profile::Profile {
    digit_quickstart::profile::parse(digit_quickstart::profile::EMBEDDED[0].2, "dev").unwrap()
}

fn world_with(opts: Options) -> World {
    deploy_world(opts)
}

fn world() -> World {
    world_with(Options::default())
}

fn run(w: &World, args: &[&str]) -> std::process::Output {
    bin(&w.data)
        .env("DIGIT_QUICKSTART_INGRESS_URL", &w.digit)
        .env("DIGIT_QUICKSTART_POLL_MS", "100")
        .args(args)
        .arg("--profile")
        .arg(&w.profile)
        .arg("--kubeconfig")
        .arg(&w.kubeconfig)
        .output()
        .unwrap()
}

fn install(w: &World, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["install", "--only", "deploy", "--yes"];
    args.extend(extra);
    run(w, &args)
}

fn text(out: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn secret(data: &Path, key: &str) -> String {
    std::fs::read_to_string(data.join("secrets/dev.env"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_owned))
        .unwrap()
}

/// The kine revision at which the first event with this reason about a
/// `kind` object named `name` (a prefix for pods) was recorded: a total
/// order of what the controllers and the "kubelet" saw.
fn event_revision(cp: &ControlPlane, reason: &str, kind: &str, name: &str) -> u64 {
    cp.list("/api/v1/namespaces/egov/events")
        .iter()
        .filter(|e| {
            let o = &e["involvedObject"];
            let n = o["name"].as_str().unwrap_or("");
            e["reason"] == reason && o["kind"] == kind && (n == name || (kind == "Pod" && n.starts_with(name)))
        })
        .filter_map(|e| e["metadata"]["resourceVersion"].as_str()?.parse().ok())
        .min()
        .unwrap_or_else(|| panic!("no {reason} event about {kind} {name}"))
}

fn replica_sets(cp: &ControlPlane) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for rs in cp.list("/apis/apps/v1/namespaces/egov/replicasets") {
        let owner = rs["metadata"]["ownerReferences"][0]["name"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        *out.entry(owner).or_default() += 1;
    }
    out
}

#[test]
fn a_deploy_rolls_out_every_wave_on_a_real_api_server_and_seeds_after_each_owner() {
    use std::os::unix::fs::PermissionsExt;
    let w = world();
    let out = install(&w, &[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");

    let password = secret(&w.data, "digit-admin/password");
    assert!(stdout.contains("DIGIT is up:"), "{stdout}");
    assert!(stdout.contains("User      ADMIN"));
    assert!(stdout.contains(&format!("Password  {password}  (shown once)")));
    assert_eq!(stdout.matches(&password).count(), 1);
    let mode = std::fs::metadata(w.data.join("secrets/dev.env"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let db = secret(&w.data, "db/password");
    assert!(!stdout.contains(&db) && !stderr.contains(&db));

    // Every component rolled out for real: the controller made a ReplicaSet,
    // the scheduler placed the pod, KWOK reported it Ready.
    let dev = dev();
    for c in &dev.components {
        let d =
            w.cp.get(&format!("/apis/apps/v1/namespaces/egov/deployments/{}", c.name))
                .unwrap_or_else(|| panic!("no Deployment {}", c.name));
        assert_eq!(d["status"]["availableReplicas"], 1, "{}: {}", c.name, d["status"]);
        assert_eq!(
            d["metadata"]["labels"]["app.kubernetes.io/managed-by"],
            "digit-quickstart"
        );
    }
    let pods = w.cp.list("/api/v1/namespaces/egov/pods");
    assert!(pods.iter().all(|p| p["spec"]["nodeName"] == "digit-vm"));
    // Every seed Job completed.
    let jobs = w.cp.list("/apis/batch/v1/namespaces/egov/jobs");
    assert_eq!(jobs.len(), 9, "{jobs:?}");
    for j in &jobs {
        assert_eq!(j["status"]["succeeded"], 1, "{}", j["metadata"]["name"]);
    }
    // Volumes were claimed from local-path and bound.
    for pvc in w.cp.list("/api/v1/namespaces/egov/persistentvolumeclaims") {
        assert_eq!(pvc["status"]["phase"], "Bound", "{pvc}");
        assert_eq!(pvc["spec"]["storageClassName"], "local-path");
    }
    // The seed file reached its ConfigMap.
    let cm = w.cp.get("/api/v1/namespaces/egov/configmaps/seed-mdms-tenant").unwrap();
    assert_eq!(
        cm["data"]["tenant-seed.sql"],
        "-- test content for tenant-seed.sql\nSELECT 1;\n"
    );

    // Order, as the controllers recorded it: postgres before mdms-v2; the
    // security seed before egov-user; the gateway only once egov-user's pod
    // was Ready.
    let cp = &w.cp;
    let scaled = |c: &str| event_revision(cp, "ScalingReplicaSet", "Deployment", c);
    assert!(scaled("postgres") < scaled("mdms-v2"));
    assert!(event_revision(cp, "Completed", "Job", "seed-mdms-security") < scaled("egov-user"));
    let egov_user_started = event_revision(cp, "Started", "Pod", "egov-user-");
    assert!(egov_user_started < scaled("gateway"));

    // The ADMIN went through the API server's service proxy to egov-user's pod.
    let egov_user_ip = pods
        .iter()
        .find(|p| p["metadata"]["labels"]["app.kubernetes.io/name"] == "egov-user")
        .and_then(|p| p["status"]["podIP"].as_str())
        .unwrap()
        .to_owned();
    let proxied = w.cp.in_cluster.requests();
    let (target, admin) = proxied
        .iter()
        .find(|(_, r)| r.path == "/user/users/_createnovalidate")
        .expect("ADMIN created through the service proxy");
    assert_eq!(target, &format!("{egov_user_ip}:8080"));
    let body: Value = serde_json::from_str(&admin.body).unwrap();
    assert_eq!(body["User"]["password"], password.as_str());
    assert_eq!(body["User"]["tenantId"], "pg");
    let roles: Vec<&str> = body["User"]["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["SUPERUSER", "EMPLOYEE", "GRO", "DGRO"]);
    // The system user HRMS needs, right after ADMIN and before egov-hrms.
    let internal = proxied
        .iter()
        .filter(|(_, r)| r.path == "/user/users/_createnovalidate")
        .map(|(_, r)| serde_json::from_str::<Value>(&r.body).unwrap())
        .find(|b| b["User"]["userName"] == "INTERNAL_USER")
        .expect("INTERNAL_USER created");
    assert_eq!(internal["User"]["type"], "SYSTEM");
    assert_eq!(internal["User"]["roles"][0]["code"], "INTERNAL_MICROSERVICE_ROLE");
    assert_eq!(
        internal["User"]["password"],
        secret(&w.data, "system-user-internal-user/password").as_str()
    );
    assert!(event_revision(cp, "ScalingReplicaSet", "Deployment", "egov-hrms") > egov_user_started);
    // The PGR workflow: the pinned file posted to workflow-v2's pod.
    let wf_ip = pods
        .iter()
        .find(|p| p["metadata"]["labels"]["app.kubernetes.io/name"] == "egov-workflow-v2")
        .and_then(|p| p["status"]["podIP"].as_str())
        .unwrap()
        .to_owned();
    let (target, wf) = proxied
        .iter()
        .find(|(_, r)| r.path == "/egov-workflow-v2/egov-wf/businessservice/_create")
        .expect("the PGR business service was posted");
    assert_eq!(target, &format!("{wf_ip}:8080"));
    assert_eq!(wf.body, "-- test content for pgr-workflow-config.json\nSELECT 1;\n");
    // Heap where the images' start.sh reads it; the hrms Flyway gets its schema.
    let hrms = w.cp.get("/apis/apps/v1/namespaces/egov/deployments/egov-hrms").unwrap();
    let spec = &hrms["spec"]["template"]["spec"];
    let env = spec["containers"][0]["env"].to_string();
    assert!(
        env.contains(r#"{"name":"JAVA_OPTS","value":"-Xms32m -Xmx136m -XX:+ExitOnOutOfMemoryError"}"#),
        "{env}"
    );
    assert!(
        spec["initContainers"][0]["env"]
            .to_string()
            .contains(r#"{"name":"SCHEMA_NAME","value":"public"}"#)
    );
}

#[test]
fn a_re_run_changes_no_object_and_a_profile_change_rolls_only_what_changed() {
    let w = world();
    let out = install(&w, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let before = w.cp.versions("egov");
    let jobs_before: Vec<Value> = w.cp.list("/apis/batch/v1/namespaces/egov/jobs");
    let rs_before = replica_sets(&w.cp);

    // Without the journal every object is applied again: server-side apply
    // of the same content changes nothing, and no Job is recreated.
    std::fs::remove_file(w.data.join("journal.json")).unwrap();
    let out = install(&w, &[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Password  unchanged since the first install"),
        "{stdout}"
    );
    let after = w.cp.versions("egov");
    let changed: Vec<&String> = before.keys().filter(|k| before.get(*k) != after.get(*k)).collect();
    assert!(changed.is_empty(), "objects changed by a no-op re-run: {changed:?}");
    let uid = |jobs: &[Value], name: &str| {
        jobs.iter()
            .find(|j| j["metadata"]["name"] == name)
            .map(|j| j["metadata"]["uid"].clone())
            .unwrap()
    };
    let jobs_after = w.cp.list("/apis/batch/v1/namespaces/egov/jobs");
    for j in &jobs_before {
        let name = j["metadata"]["name"].as_str().unwrap();
        assert_eq!(uid(&jobs_before, name), uid(&jobs_after, name), "{name} was recreated");
    }

    // A changed profile: one service's env and one seed Job's command.
    let text_before = std::fs::read_to_string(&w.profile).unwrap();
    let changed_profile = text_before
        .replacen(
            "env: {SMS_PROVIDER_CLASS: Console, SMS_ENABLED: \"true\"}",
            "env: {SMS_PROVIDER_CLASS: Console, SMS_ENABLED: \"false\"}",
            1,
        )
        .replacen(
            "DEL, messages, computedMessages]",
            "DEL, messages, computedMessages, extra]",
            1,
        );
    assert_ne!(changed_profile, text_before);
    std::fs::write(&w.profile, changed_profile).unwrap();
    let out = install(&w, &[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let rs_after = replica_sets(&w.cp);
    for (owner, n) in &rs_after {
        let want = rs_before[owner] + usize::from(owner == "egov-notification-sms");
        assert_eq!(*n, want, "ReplicaSets of {owner}: {rs_before:?} -> {rs_after:?}");
    }
    // The changed Job (immutable template) was replaced and ran again.
    let jobs = w.cp.list("/apis/batch/v1/namespaces/egov/jobs");
    let bust = "seed-localization-cache-bust";
    assert_ne!(uid(&jobs_before, bust), uid(&jobs, bust));
    let job = jobs.iter().find(|j| j["metadata"]["name"] == bust).unwrap();
    assert_eq!(job["status"]["succeeded"], 1);
    assert!(job.to_string().contains("extra"));
    for j in &jobs_before {
        let name = j["metadata"]["name"].as_str().unwrap();
        if name != bust {
            assert_eq!(uid(&jobs_before, name), uid(&jobs, name), "{name} was recreated");
        }
    }
}

/// `plan --manifests` as documents.
fn rendered(w: &World) -> Vec<Value> {
    let out = bin(&w.data).args(["plan", "--manifests"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let yaml = String::from_utf8(out.stdout).unwrap();
    yaml.split("\n---\n")
        .filter(|d| !d.trim().is_empty())
        .map(|d| serde_saphyr::from_str::<Value>(d).unwrap())
        .collect()
}

fn resource_path(obj: &Value) -> String {
    let api = obj["apiVersion"].as_str().unwrap();
    let kind = obj["kind"].as_str().unwrap();
    let plural = match kind {
        "Ingress" => "ingresses".to_owned(),
        "NetworkPolicy" => "networkpolicies".to_owned(),
        k => format!("{}s", k.to_ascii_lowercase()),
    };
    let prefix = if api.contains('/') {
        format!("/apis/{api}")
    } else {
        format!("/api/{api}")
    };
    let name = obj["metadata"]["name"].as_str().unwrap();
    match obj["metadata"]["namespace"].as_str() {
        Some(ns) => format!("{prefix}/namespaces/{ns}/{plural}/{name}"),
        None => format!("{prefix}/{plural}/{name}"),
    }
}

#[test]
fn every_rendered_object_passes_server_side_apply_dry_run_on_the_pinned_minor() {
    let w = world_with(Options {
        k3s_addons: false,
        ..Options::default()
    });
    let docs = rendered(&w);
    assert!(docs.len() > 60, "{} documents", docs.len());
    // The namespace for real (a dry run cannot hold objects inside it).
    let ns = docs.iter().find(|d| d["kind"] == "Namespace").unwrap();
    let (status, body) = w.cp.send(
        "PATCH",
        &format!("{}?fieldManager=digit-quickstart", resource_path(ns)),
        "application/apply-patch+yaml",
        ns,
    );
    assert!(status == 200 || status == 201, "{status} {body}");
    let mut failures = Vec::new();
    for d in &docs {
        let path = format!(
            "{}?fieldManager=digit-quickstart&dryRun=All&fieldValidation=Strict",
            resource_path(d)
        );
        let (status, body) = w.cp.send("PATCH", &path, "application/apply-patch+yaml", d);
        if !(status == 200 || status == 201) {
            failures.push(format!(
                "{} {}: {status} {}",
                d["kind"], d["metadata"]["name"], body["message"]
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // The peer can refuse: an unknown field under strict validation.
    let mut bad = docs.iter().find(|d| d["kind"] == "Deployment").unwrap().clone();
    bad["spec"]["template"]["spec"]["containers"][0]["imagee"] = Value::from("x");
    let path = format!(
        "{}?fieldManager=t&dryRun=All&fieldValidation=Strict",
        resource_path(&bad)
    );
    let (status, body) = w.cp.send("PATCH", &path, "application/apply-patch+yaml", &bad);
    // (kube-apiserver 1.36 answers an undeclared field in an apply patch with 500.)
    assert!(status >= 400, "{status} {body}");
    assert!(body["message"].as_str().unwrap().contains("imagee"), "{body}");
}

#[test]
fn status_reads_real_objects_and_reset_waits_until_the_namespace_and_its_volumes_are_gone() {
    let w = world();
    assert_eq!(install(&w, &[]).status.code(), Some(0));

    let out = run(&w, &["status"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("postgres"), "{stdout}");
    let out = run(&w, &["status", "--output", "json"]);
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    let components = status["components"].as_array().unwrap();
    assert_eq!(components.len(), dev().components.len(), "{status}");
    assert!(
        components.iter().all(|c| c["ready"] == 1 && c["total"] == 1),
        "{status}"
    );
    assert_eq!(status["healthy"], true);
    assert_eq!(status["service"], Value::Null, "not this tool's k3s: {status}");

    // A volume is bound before the reset.
    let pvs = w.cp.list("/api/v1/persistentvolumes");
    assert_eq!(pvs.len(), 3, "{pvs:?}");

    let out = run(&w, &["reset", "--yes"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(w.cp.get("/api/v1/namespaces/egov").is_none(), "namespace still there");
    assert!(w.cp.list("/api/v1/namespaces/egov/pods").is_empty());
    // The claims went with the namespace; local-path deletes released volumes.
    let start = Instant::now();
    while !w.cp.list("/api/v1/persistentvolumes").is_empty() {
        assert!(start.elapsed() < Duration::from_secs(30), "volumes left after reset");
        std::thread::sleep(Duration::from_millis(200));
    }
    // status now says nothing is deployed (exit 1).
    let out = run(&w, &["status"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out).0);

    // --redeploy with every remote seed source unreachable: from the cache.
    support::cluster::point_seeds_nowhere(&w.profile);
    let out = run(&w, &["reset", "--yes", "--redeploy"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let d =
        w.cp.get("/apis/apps/v1/namespaces/egov/deployments/pgr-services")
            .unwrap();
    assert_eq!(d["status"]["availableReplicas"], 1);
}

#[test]
fn uninstall_with_a_kubeconfig_removes_only_what_the_deploy_made() {
    let w = world();
    assert_eq!(install(&w, &[]).status.code(), Some(0));
    let out = run(&w, &["uninstall", "--yes"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(w.cp.get("/api/v1/namespaces/egov").is_none());
    assert!(
        w.cp.list("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings")
            .iter()
            .all(|o| o["metadata"]["labels"]["app.kubernetes.io/managed-by"] != "digit-quickstart")
    );
    // The cluster itself is untouched.
    assert!(
        w.cp.get("/apis/apps/v1/namespaces/kube-system/deployments/coredns")
            .is_some()
    );
    assert!(w.cp.get("/apis/storage.k8s.io/v1/storageclasses/local-path").is_some());
}

#[test]
fn doctor_collects_the_real_objects_and_events() {
    let w = world();
    assert_eq!(install(&w, &[]).status.code(), Some(0));
    let out = run(&w, &["doctor", "--dir", w.dir.path().to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let archive = PathBuf::from(stdout.trim());
    assert!(archive.starts_with(w.dir.path()), "{stdout}");
    let listing = std::process::Command::new("tar")
        .arg("-tzf")
        .arg(&archive)
        .output()
        .unwrap();
    let names = String::from_utf8_lossy(&listing.stdout).to_string();
    assert!(names.contains("events"), "{names}");
    let extract = w.dir.path().join("x");
    std::fs::create_dir_all(&extract).unwrap();
    let ok = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(&extract)
        .status()
        .unwrap();
    assert!(ok.success());
    let mut all = String::new();
    for e in walk(&extract) {
        all.push_str(&std::fs::read_to_string(e).unwrap_or_default());
    }
    assert!(all.contains("ScalingReplicaSet"), "real events are in the archive");
    assert!(all.contains("pgr-services"));
    assert!(!all.contains(&secret(&w.data, "db/password")), "secrets are redacted");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

#[test]
fn a_node_too_small_for_the_profile_is_diagnosed_from_the_schedulers_own_event() {
    let w = world_with(Options {
        nodes: vec![NodeSpec::new("digit-vm", "2", "1Gi")],
        k3s_addons: true,
        ..Options::default()
    });
    // The cluster check sees it first; past it, the deploy still explains.
    let out = install(&w, &["--wait-timeout", "15"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out).1);
    assert!(
        text(&out).1.contains("cluster checks failed: cluster-capacity\n"),
        "{}",
        text(&out).1
    );
    assert!(w.cp.get("/api/v1/namespaces/egov").is_none(), "nothing applied");
    let out = install(&w, &["--wait-timeout", "15", "--ignore-check", "cluster-capacity"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}\n{stderr}");
    assert!(stderr.contains("is not ready after"), "{stderr}");
    assert!(
        stderr.contains("Insufficient memory"),
        "the scheduler's reason is shown: {stderr}"
    );
    assert!(stderr.contains("hint:"), "{stderr}");
    assert!(
        w.cp.events("egov").iter().any(|e| e.starts_with("FailedScheduling")),
        "the scheduler said so itself"
    );
}

#[test]
fn a_cluster_without_the_local_path_storage_class_is_diagnosed_at_the_first_claim() {
    let w = world_with(Options {
        k3s_addons: false,
        ..Options::default()
    });
    let out = install(&w, &["--wait-timeout", "15", "--ignore-check", "storage-class"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}\n{stderr}");
    assert!(stderr.contains("postgres is not ready"), "{stderr}");
    assert!(
        stderr.contains("waits for volume claim postgres-data: storageclass.storage.k8s.io \"local-path\" not found"),
        "the volume controller's own words: {stderr}"
    );
    assert!(
        stderr.contains("hint: the claim names a StorageClass this cluster does not have"),
        "{stderr}"
    );
}

#[test]
fn a_deployment_whose_selector_changed_is_replaced_not_left_failing() {
    let w = world();
    // Someone (an older release of this tool) made egov-otp with another selector.
    let d = serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "egov-otp", "namespace": "egov", "labels": {"app.kubernetes.io/managed-by": "digit-quickstart"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "egov-otp"}},
            "template": {"metadata": {"labels": {"app": "egov-otp"}}, "spec": {"containers": [{"name": "egov-otp", "image": "x"}]}}}});
    w.cp.create(
        "/api/v1/namespaces",
        &serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "egov"}}),
    );
    let old = w.cp.create("/apis/apps/v1/namespaces/egov/deployments", &d);
    let out = install(&w, &[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("replaced Deployment/egov-otp: a field of it cannot change in place"),
        "the replacement is reported: {stderr}"
    );
    let now = w.cp.get("/apis/apps/v1/namespaces/egov/deployments/egov-otp").unwrap();
    assert_ne!(now["metadata"]["uid"], old["metadata"]["uid"]);
    assert_eq!(
        now["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"],
        "egov-otp"
    );
    assert_eq!(now["status"]["availableReplicas"], 1);
}

#[test]
fn a_deployment_this_tool_did_not_make_is_never_replaced() {
    let w = world();
    let d = serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "egov-otp", "namespace": "egov"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "theirs"}},
            "template": {"metadata": {"labels": {"app": "theirs"}}, "spec": {"containers": [{"name": "x", "image": "x"}]}}}});
    w.cp.create(
        "/api/v1/namespaces",
        &serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "egov"}}),
    );
    let old = w.cp.create("/apis/apps/v1/namespaces/egov/deployments", &d);
    let out = install(&w, &[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}\n{stderr}");
    assert!(stderr.contains("Deployment/egov-otp"), "{stderr}");
    assert!(
        stderr.contains("field is immutable"),
        "the API server's reason: {stderr}"
    );
    assert!(stderr.contains("hint:"), "{stderr}");
    let now = w.cp.get("/apis/apps/v1/namespaces/egov/deployments/egov-otp").unwrap();
    assert_eq!(now["metadata"]["uid"], old["metadata"]["uid"]);
}

#[test]
fn a_seed_file_that_does_not_match_its_pin_stops_before_anything_reaches_the_cluster() {
    let w = world_with(Options {
        k3s_addons: false,
        ..Options::default()
    });
    let text_p = std::fs::read_to_string(&w.profile).unwrap();
    let line = text_p.lines().find(|l| l.contains("tenant-seed.sql")).unwrap();
    let pin = line.split("sha256: ").nth(1).unwrap()[..64].to_owned();
    std::fs::write(&w.profile, text_p.replace(&pin, &"0".repeat(64))).unwrap();
    let out = install(&w, &["--ignore-check", "storage-class"]);
    let stderr = text(&out).1;
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("tenant-seed.sql does not match its pin"), "{stderr}");
    assert!(stderr.contains(&format!("expected sha256 {}", "0".repeat(64))));
    assert!(
        w.cp.get("/api/v1/namespaces/egov").is_none(),
        "nothing may reach the cluster"
    );
}

#[test]
fn a_failing_smoke_check_exits_1_after_printing_which_one() {
    let w = world();
    let wrong = fake_digit(&dev(), w.data.join("no-such-file"));
    let out = bin(&w.data)
        .env("DIGIT_QUICKSTART_INGRESS_URL", &wrong)
        .env("DIGIT_QUICKSTART_POLL_MS", "100")
        .args(["install", "--only", "deploy", "--yes", "--profile"])
        .arg(&w.profile)
        .arg("--kubeconfig")
        .arg(&w.kubeconfig)
        .output()
        .unwrap();
    let stdout = text(&out).0;
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("DIGIT is deployed but not healthy"), "{stdout}");
    assert!(stdout.contains("FAIL smoke login: ADMIN login refused: HTTP 401 Invalid login credentials"));
}
