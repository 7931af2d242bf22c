//! The test control plane itself: it matches the profile's Kubernetes minor,
//! reports the real version, and gives a working cluster (scheduling by
//! requests, claims bound by the local-path stand-in, teardown that leaves
//! no process or port behind).
#![allow(clippy::disallowed_methods)]

mod support;

use std::path::Path;

use support::control_plane::{ControlPlane, NodeSpec, Options};

fn tools_file(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tools/control-plane")
            .join(name),
    )
    .unwrap()
}

fn version_of(var: &str) -> String {
    tools_file("versions.env")
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{var}=")))
        .unwrap_or_else(|| panic!("{var} in tools/control-plane/versions.env"))
        .to_owned()
}

/// "v1.36.4+k3s1" or "v1.36.4" -> "1.36"
fn minor(version: &str) -> String {
    let mut parts = version.trim_start_matches('v').split('.');
    format!("{}.{}", parts.next().unwrap(), parts.next().unwrap())
}

#[test]
fn the_peer_the_k8s_openapi_feature_and_the_k3s_pin_are_one_kubernetes_minor() {
    let dev = digit_quickstart::profile::parse(digit_quickstart::profile::EMBEDDED[0].2, "dev").unwrap();
    let k3s = minor(&dev.k3s.version);
    let kube = version_of("KUBERNETES_VERSION");
    assert_eq!(
        minor(&kube),
        k3s,
        "tools/control-plane/versions.env vs profiles/dev.yaml"
    );
    let cargo = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let feature = format!("\"v{}\"", k3s.replace('.', "_"));
    let line = cargo.lines().find(|l| l.starts_with("k8s-openapi")).unwrap();
    assert!(
        line.contains(&feature),
        "Cargo.toml k8s-openapi needs feature {feature}: {line}"
    );
    // The modules build what versions.env names (regen.sh keeps them in step).
    assert!(
        tools_file("kube/go.mod").contains(&format!("k8s.io/kubernetes {kube}")),
        "tools/control-plane/kube/go.mod is not at {kube}: run tools/control-plane/regen.sh"
    );
    let staging = format!("k8s.io/api => k8s.io/api v0.{}", kube.trim_start_matches("v1."));
    assert!(tools_file("kube/go.mod").contains(&staging), "{staging}");
    let kine = version_of("KINE_VERSION");
    assert!(tools_file("kine/go.mod").contains(&format!("github.com/k3s-io/kine {kine}")));
}

#[test]
fn the_api_server_reports_the_pinned_version_and_schedules_by_requests() {
    let cp = ControlPlane::start_with(Options {
        nodes: vec![NodeSpec::new("small", "1", "1Gi"), NodeSpec::new("large", "4", "8Gi")],
        k3s_addons: true,
        ..Options::default()
    });
    let v = cp.get("/version").unwrap();
    assert_eq!(v["gitVersion"], version_of("KUBERNETES_VERSION"), "{v}");
    assert_eq!(
        v["minor"],
        minor(&version_of("KUBERNETES_VERSION")).split('.').nth(1).unwrap()
    );

    // A pod asking for 2 GiB fits only the large node; one asking for 16 GiB
    // fits nowhere and the scheduler says why.
    cp.create(
        "/api/v1/namespaces",
        &serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "t"}}),
    );
    for (name, memory) in [("fits", "2Gi"), ("too-big", "16Gi")] {
        cp.create(
            "/api/v1/namespaces/t/pods",
            &serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                "spec": {"containers": [{"name": "c", "image": "x", "resources": {"requests": {"memory": memory}}}]}}),
        );
    }
    let start = std::time::Instant::now();
    loop {
        let fits = cp.get("/api/v1/namespaces/t/pods/fits").unwrap();
        let events = cp.events("t");
        if fits["status"]["phase"] == "Running" && events.iter().any(|e| e.starts_with("FailedScheduling")) {
            assert_eq!(fits["spec"]["nodeName"], "large");
            let failed = events.iter().find(|e| e.starts_with("FailedScheduling")).unwrap();
            assert!(failed.contains("Insufficient memory"), "{failed}");
            break;
        }
        assert!(start.elapsed().as_secs() < 60, "{fits}\n{events:?}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn a_claim_on_local_path_is_bound_once_its_pod_is_placed_and_teardown_leaves_nothing() {
    let cp = ControlPlane::start();
    cp.create(
        "/api/v1/namespaces",
        &serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "t"}}),
    );
    cp.create(
        "/api/v1/namespaces/t/persistentvolumeclaims",
        &serde_json::json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "2Gi"}}}}),
    );
    // The default class is WaitForFirstConsumer: no volume before a pod.
    std::thread::sleep(std::time::Duration::from_millis(800));
    let pvc = cp.get("/api/v1/namespaces/t/persistentvolumeclaims/data").unwrap();
    assert_eq!(pvc["spec"]["storageClassName"], "local-path");
    assert_eq!(pvc["status"]["phase"], "Pending");
    cp.create(
        "/api/v1/namespaces/t/pods",
        &serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "db"},
            "spec": {"containers": [{"name": "c", "image": "x", "volumeMounts": [{"name": "d", "mountPath": "/d"}]}],
                     "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]}}),
    );
    let start = std::time::Instant::now();
    loop {
        let pvc = cp.get("/api/v1/namespaces/t/persistentvolumeclaims/data").unwrap();
        let pod = cp.get("/api/v1/namespaces/t/pods/db").unwrap();
        if pvc["status"]["phase"] == "Bound" && pod["status"]["phase"] == "Running" {
            assert_eq!(pvc["status"]["capacity"]["storage"], "2Gi");
            break;
        }
        assert!(start.elapsed().as_secs() < 60, "{pvc}\n{pod}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn teardown_after_a_failing_test_leaves_no_process_and_no_port_behind() {
    let seen = std::sync::Mutex::new(None);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let cp = ControlPlane::start_with(Options {
            k3s_addons: false,
            ..Options::default()
        });
        let port: u16 = cp.url.rsplit(':').next().unwrap().parse().unwrap();
        let logs = std::fs::read_dir(cp.dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "log"))
            .count();
        *seen.lock().unwrap() = Some((port, cp.dir.path().to_owned(), logs));
        panic!("a test fails while the control plane runs");
    }));
    assert!(outcome.is_err());
    let (port, dir, logs) = seen.lock().unwrap().take().unwrap();
    assert_eq!(
        logs, 5,
        "kine, kube-apiserver, kube-controller-manager, kube-scheduler, kwok"
    );
    assert!(
        std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
        "the API server's port is free again"
    );
    assert!(!dir.exists());
    // No process of ours is left (their command lines named the dir).
    let left: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(&*dir.to_string_lossy()))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
