//! `install --kubeconfig` onto a cluster that is not the quickstart's own,
//! on the real control plane: the cluster check (version skew, capacity,
//! largest pod, classes, permissions by SelfSubjectAccessReview) and a
//! deploy spread over three nodes of different sizes.
#![allow(clippy::disallowed_methods)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use support::bin;
use support::control_plane::{DeployWorld as World, NodeSpec, Options, deploy_world};

fn dev() -> digit_quickstart::profile::Profile {
    digit_quickstart::profile::parse(digit_quickstart::profile::EMBEDDED[0].2, "dev").unwrap()
}

fn world_with(opts: Options) -> World {
    deploy_world(opts)
}

/// The product against the world's cluster; `ingress` puts the fake DIGIT
/// behind the "ingress" (else checks go by port-forward).
fn run(w: &World, kubeconfig: &Path, ingress: bool, args: &[&str]) -> std::process::Output {
    let mut cmd = bin(&w.data);
    if ingress {
        cmd.env("DIGIT_QUICKSTART_INGRESS_URL", &w.digit);
    }
    cmd.env("DIGIT_QUICKSTART_POLL_MS", "100")
        .args(args)
        .arg("--profile")
        .arg(&w.profile)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .output()
        .unwrap()
}

fn text(out: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The table line of check `id`: `  FAIL  id  summary`.
fn line<'a>(table: &'a str, id: &str) -> &'a str {
    table
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(id))
        .unwrap_or_else(|| panic!("no line for {id}:\n{table}"))
}

/// A kubeconfig with the admin as current context and a second context
/// whose token belongs to a ServiceAccount bound to a narrow ClusterRole.
fn two_contexts(w: &World) -> PathBuf {
    let cp = &w.cp;
    cp.create(
        "/api/v1/namespaces",
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "limited"}}),
    );
    cp.create(
        "/api/v1/namespaces/limited/serviceaccounts",
        &json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "deployer"}}),
    );
    cp.create(
        "/apis/rbac.authorization.k8s.io/v1/clusterroles",
        &json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "config-only"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps", "secrets", "services", "namespaces"],
                       "verbs": ["get", "list", "create", "patch", "delete"]}]}),
    );
    cp.create(
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        &json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "deployer"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "config-only"},
            "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": "limited"}]}),
    );
    let (code, token) = cp.send(
        "POST",
        "/api/v1/namespaces/limited/serviceaccounts/deployer/token",
        "application/json",
        &json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 3600}}),
    );
    assert_eq!(code, 201, "{token}");
    let token = token["status"]["token"].as_str().unwrap();
    let original = std::fs::read_to_string(&w.kubeconfig).unwrap();
    let ca = original
        .split("certificate-authority-data: ")
        .nth(1)
        .and_then(|s| s.split(['}', '\n']).next())
        .unwrap()
        .trim();
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster: {{server: \"{}\", certificate-authority-data: {ca}}}\n\
         contexts:\n- name: admin\n  context: {{cluster: test, user: admin}}\n- name: limited\n  context: {{cluster: test, user: deployer}}\n\
         current-context: admin\nusers:\n- name: admin\n  user: {{token: {}}}\n- name: deployer\n  user: {{token: {token}}}\n",
        cp.url, cp.token
    );
    let path = w.dir.path().join("two-contexts");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn three_nodes_of_different_sizes_pass_the_check_and_the_deploy_spreads_by_requests() {
    let w = world_with(Options {
        nodes: vec![
            NodeSpec::new("small", "1", "2Gi"),
            NodeSpec::new("medium", "4", "6Gi"),
            NodeSpec::new("large", "8", "16Gi"),
        ],
        ..Options::default()
    });

    // A context whose user may only touch config: the permissions line
    // names what the deploy needs and it lacks, and nothing else.
    let both = two_contexts(&w);
    let out = run(&w, &both, true, &["check", "--context", "limited"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let perms = line(&stdout, "permissions");
    assert!(perms.contains("FAIL"), "{perms}");
    for missing in [
        "create deployments.apps",
        "create jobs.batch",
        "create roles.rbac.authorization.k8s.io",
    ] {
        assert!(perms.contains(missing), "{missing}: {perms}");
    }
    assert!(!perms.contains("create configmaps"), "{perms}");
    // The same file's current (admin) context passes every line.
    let out = run(&w, &both, true, &["check"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    for id in digit_quickstart::preflight::cluster::IDS {
        assert!(line(&stdout, id).trim_start().starts_with("pass"), "{id}: {stdout}");
    }
    assert!(line(&stdout, "storage-class").contains("stay on the node"), "{stdout}");
    // The limited context changed nothing.
    assert!(w.cp.get("/api/v1/namespaces/egov").is_none());

    let out = run(&w, &w.kubeconfig, true, &["install", "--yes"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains("Cluster check for profile dev"), "{stderr}");
    assert!(stdout.contains("DIGIT is up"), "{stdout}");

    // Where the scheduler put each pod: every node used, none over its
    // allocatable by requests, the largest pod not on the smallest node.
    let pods = w.cp.list("/api/v1/namespaces/egov/pods");
    let mut per_node: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut node_of: BTreeMap<String, String> = BTreeMap::new();
    for p in pods.iter().filter(|p| p["status"]["phase"] == "Running") {
        let node = p["spec"]["nodeName"].as_str().unwrap().to_owned();
        let mem: u64 = p["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                digit_quickstart::profile::quantity::Bytes::parse(
                    c["resources"]["requests"]["memory"].as_str().unwrap_or("0"),
                )
                .unwrap()
                .0
            })
            .sum();
        per_node.entry(node.clone()).or_default().1 += mem;
        if let Some(app) = p["metadata"]["labels"]["app.kubernetes.io/name"].as_str() {
            node_of.insert(app.to_owned(), node);
        }
    }
    assert_eq!(
        per_node.keys().cloned().collect::<BTreeSet<_>>(),
        BTreeSet::from(["large".to_owned(), "medium".to_owned(), "small".to_owned()]),
        "{node_of:?}"
    );
    for (node, limit) in [("small", 2u64 << 30), ("medium", 6 << 30), ("large", 16 << 30)] {
        assert!(per_node[node].1 <= limit, "{node}: {:?}", per_node[node]);
    }
    let p = dev();
    let largest = p
        .components
        .iter()
        .max_by_key(|c| c.resources.requests.memory.0)
        .unwrap();
    assert_ne!(
        node_of.get(&largest.name).map(String::as_str),
        Some("small"),
        "{node_of:?}"
    );

    // status names each component's node.
    let out = run(&w, &w.kubeconfig, true, &["status"]);
    let (stdout, _) = text(&out);
    for c in ["postgres", "egov-user", "gateway"] {
        let row = stdout
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(c))
            .unwrap_or_else(|| panic!("{c}: {stdout}"));
        assert!(row.trim_end().ends_with(node_of[c].as_str()), "{row}");
    }
    for n in ["small", "medium", "large"] {
        assert!(stdout.contains(&format!("node {n} Ready")), "{stdout}");
    }

    // The backbone stays with its data: postgres's volume is pinned to the
    // node it first ran on, and a new pod goes back there.
    let pvc =
        w.cp.get("/api/v1/namespaces/egov/persistentvolumeclaims/postgres-data")
            .unwrap();
    let pv =
        w.cp.get(&format!(
            "/api/v1/persistentvolumes/{}",
            pvc["spec"]["volumeName"].as_str().unwrap()
        ))
        .unwrap();
    let pinned = pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(node_of["postgres"], pinned);
    let old: Vec<String> =
        w.cp.list("/api/v1/namespaces/egov/pods")
            .iter()
            .filter(|p| p["metadata"]["labels"]["app.kubernetes.io/name"] == "postgres")
            .map(|p| p["metadata"]["name"].as_str().unwrap().to_owned())
            .collect();
    for name in &old {
        w.cp.delete(&format!("/api/v1/namespaces/egov/pods/{name}"));
    }
    let start = std::time::Instant::now();
    loop {
        let fresh: Vec<Value> =
            w.cp.list("/api/v1/namespaces/egov/pods")
                .into_iter()
                .filter(|p| {
                    p["metadata"]["labels"]["app.kubernetes.io/name"] == "postgres"
                        && !old.contains(&p["metadata"]["name"].as_str().unwrap_or("").to_owned())
                        && p["spec"]["nodeName"].is_string()
                })
                .collect();
        if let Some(p) = fresh.first() {
            assert_eq!(p["spec"]["nodeName"], pinned.as_str());
            break;
        }
        assert!(start.elapsed().as_secs() < 60, "no new postgres pod");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn a_cluster_too_small_too_old_and_without_classes_fails_its_check_and_nothing_is_created() {
    let mut old = NodeSpec::new("old", "1", "256Mi");
    old.kubelet = "v1.31.9".to_owned();
    let w = world_with(Options {
        nodes: vec![old],
        k3s_addons: false,
        ..Options::default()
    });
    let out = run(&w, &w.kubeconfig, true, &["check"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let version = line(&stdout, "cluster-version");
    assert!(
        version.contains("FAIL") && version.contains("old (v1.31.9)"),
        "{version}"
    );
    let capacity = line(&stdout, "cluster-capacity");
    assert!(
        capacity.contains("FAIL") && capacity.contains("memory short by"),
        "{capacity}"
    );
    assert!(line(&stdout, "cluster-largest-pod").contains("FAIL"), "{stdout}");
    assert!(
        line(&stdout, "storage-class").contains("no default StorageClass"),
        "{stdout}"
    );
    assert!(
        line(&stdout, "ingress-class").trim_start().starts_with("warn"),
        "{stdout}"
    );
    assert!(
        line(&stdout, "permissions").trim_start().starts_with("pass"),
        "{stdout}"
    );
    assert!(stdout.contains("NOT READY"), "{stdout}");

    // The JSON form carries the same verdicts.
    let out = run(&w, &w.kubeconfig, true, &["check", "--output", "json"]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let failed: BTreeSet<&str> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        failed,
        BTreeSet::from([
            "cluster-version",
            "cluster-capacity",
            "cluster-largest-pod",
            "storage-class"
        ])
    );

    let out = run(&w, &w.kubeconfig, true, &["install", "--yes"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("cluster checks failed: cluster-version, cluster-capacity, cluster-largest-pod, storage-class"),
        "{stderr}"
    );
    assert!(w.cp.get("/api/v1/namespaces/egov").is_none(), "nothing was created");
    assert!(!w.data.join("secrets").exists(), "no secrets generated");

    // An unknown id is a usage error, not silently ignored.
    let out = run(&w, &w.kubeconfig, true, &["install", "--yes", "--ignore-check", "swap"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out).1);
}

#[test]
fn without_an_ingress_class_the_deploy_has_no_ingress_and_is_checked_by_port_forward() {
    let w = world_with(Options::default());
    assert_eq!(w.cp.delete("/apis/networking.k8s.io/v1/ingressclasses/traefik"), 200);
    let out = run(&w, &w.kubeconfig, false, &["install", "--yes"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(line(&stderr, "ingress-class").contains("no IngressClass"), "{stderr}");
    assert!(stdout.contains("DIGIT is up"), "{stdout}");
    assert!(stdout.contains("digit-quickstart proxy"), "{stdout}");
    assert!(
        w.cp.list("/apis/networking.k8s.io/v1/namespaces/egov/ingresses")
            .is_empty()
    );
    // status checks the same way, from the saved target.
    let out = run(&w, &w.kubeconfig, false, &["status"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("DIGIT is healthy") && stdout.contains("smoke login"),
        "{stdout}"
    );
    let target: Value = serde_json::from_slice(&std::fs::read(w.data.join("target.json")).unwrap()).unwrap();
    assert_eq!(target["ingress"]["mode"], "none", "{target}");
    assert_eq!(target["storage_class"], "local-path", "{target}");
}
