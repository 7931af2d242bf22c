//! More nodes: `join-command` on the server and an agent leaving, on the
//! real control plane (Node authorizer + NodeRestriction), with the node
//! identity a k3s agent's kubelet has (`system:node:<name>`, group
//! `system:nodes`, a client certificate from the cluster CA).
#![allow(clippy::disallowed_methods)]

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::control_plane::{ControlPlane, NodeSpec, Options};

const TOKEN: &str = "K10aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa::server:join-s3cret";

fn write(path: &Path, text: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn stubs(dir: &Path) -> PathBuf {
    let stubs = dir.join("stubs");
    std::fs::create_dir_all(&stubs).unwrap();
    let systemctl = stubs.join("systemctl");
    std::fs::write(&systemctl, support::world::SYSTEMCTL).unwrap();
    std::fs::set_permissions(&systemctl, std::fs::Permissions::from_mode(0o755)).unwrap();
    stubs
}

fn product(dir: &Path, root: &Path, args: &[&str]) -> (i32, String, String) {
    let stubs = stubs(dir);
    let out = Command::new(env!("CARGO_BIN_EXE_digit-quickstart"))
        .env_clear()
        .env(
            "PATH",
            format!("{}:{}", stubs.display(), std::env::var("PATH").unwrap_or_default()),
        )
        .env("HOME", root.join("root"))
        .env("STUB_DIR", &stubs)
        .env("STUB_ROOT", root)
        .env("DIGIT_QUICKSTART_POLL_MS", "100")
        .arg("--root")
        .arg(root)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn pods_by_node(cp: &ControlPlane) -> Vec<(String, String)> {
    cp.list("/api/v1/namespaces/t/pods")
        .iter()
        .filter(|p| p["status"]["phase"] == "Running" && p["metadata"]["deletionTimestamp"].is_null())
        .map(|p| {
            (
                p["metadata"]["name"].as_str().unwrap().to_owned(),
                p["spec"]["nodeName"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < Duration::from_secs(90), "timed out: {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn join_command_prints_no_secret_and_an_agent_leaves_drained_and_deleted_with_its_own_credentials() {
    let cp = ControlPlane::start_with(Options {
        nodes: vec![NodeSpec::new("digit-vm", "4", "8Gi"), NodeSpec::new("vm-2", "4", "8Gi")],
        ..Options::default()
    });
    let dir = tempfile::tempdir().unwrap();

    // The server: k3s's kubeconfig and token where k3s keeps them.
    let server = dir.path().join("server");
    write(
        &server.join("etc/rancher/k3s/k3s.yaml"),
        &std::fs::read(&cp.kubeconfig).unwrap(),
    );
    write(
        &server.join("var/lib/rancher/k3s/server/token"),
        format!("{TOKEN}\n").as_bytes(),
    );
    let (code, out, err) = product(dir.path(), &server, &["join-command"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("digit-quickstart join --server https://10.0.0.10:6443 --token-file /root/k3s-token"),
        "{out}"
    );
    assert!(out.contains("/var/lib/rancher/k3s/server/token"), "{out}");
    assert!(!out.contains("join-s3cret"), "the token is a secret: {out}");
    let (code, out, _) = product(
        dir.path(),
        &server,
        &["join-command", "--show-token", "--output", "json"],
    );
    assert_eq!(code, 0);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["token"], TOKEN);
    assert!(
        cp.get("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/digit-quickstart:node-self-removal")
            .is_some()
    );

    // A workload over both nodes.
    cp.create(
        "/api/v1/namespaces",
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "t"}}),
    );
    cp.create(
        "/apis/apps/v1/namespaces/t/deployments",
        &json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 6, "selector": {"matchLabels": {"app": "web"}},
              "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "x", "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}}}),
    );
    wait_for("6 pods running", || pods_by_node(&cp).len() == 6);
    assert!(
        pods_by_node(&cp).iter().any(|(_, n)| n == "vm-2"),
        "{:?}",
        pods_by_node(&cp)
    );

    // The agent: the files `join` writes, and the kubelet's node identity.
    let agent = dir.path().join("agent");
    write(
        &agent.join("etc/systemd/system/k3s-agent.service"),
        digit_quickstart::k3s::agent::unit("/usr/local/bin/k3s").as_bytes(),
    );
    let settings = digit_quickstart::k3s::render::K3sSettings {
        node_name: "vm-2".into(),
        ..Default::default()
    };
    let join = digit_quickstart::k3s::agent::Join {
        server: "https://10.0.0.10:6443".into(),
        token: TOKEN.into(),
    };
    write(
        &agent.join("etc/rancher/k3s/config.yaml"),
        digit_quickstart::k3s::agent::config_yaml(&settings, &join).as_bytes(),
    );
    write(&agent.join("etc/rancher/k3s/agent-token"), TOKEN.as_bytes());
    write(&agent.join("usr/local/bin/k3s"), b"k3s");
    let (cert, key) = cp.node_kubeconfig("vm-2", &agent.join("var/lib/rancher/k3s/agent/kubelet.kubeconfig"));

    // The node identity may not delete another node (NodeRestriction).
    let other = Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-X",
            "DELETE",
            "--cacert",
        ])
        .arg(cp.dir.path().join("ca.crt"))
        .arg("--cert")
        .arg(&cert)
        .arg("--key")
        .arg(&key)
        .arg(format!("{}/api/v1/nodes/digit-vm", cp.url))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&other.stdout), "403");
    let (code, out, err) = product(dir.path(), &agent, &["uninstall", "--yes"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(err.contains("cordoned node vm-2"), "{err}");
    assert!(err.contains("deleted node vm-2 from the cluster"), "{err}");
    assert!(err.contains("nothing was left behind"), "{err}");
    assert!(cp.get("/api/v1/nodes/vm-2").is_none(), "the Node is gone");
    assert!(cp.get("/api/v1/nodes/digit-vm").is_some(), "the server's node stays");
    wait_for("every pod on the server's node", || {
        let p = pods_by_node(&cp);
        p.len() == 6 && p.iter().all(|(_, n)| n == "digit-vm")
    });
    for gone in [
        "etc/systemd/system/k3s-agent.service",
        "etc/rancher/k3s",
        "usr/local/bin/k3s",
        "var/lib/rancher/k3s",
    ] {
        assert!(!agent.join(gone).exists(), "{gone} is left");
    }
    let log = std::fs::read_to_string(dir.path().join("stubs/systemctl.log")).unwrap();
    assert!(log.contains("disable --now k3s-agent.service"), "{log}");
}
