//! The whole-install test world: the real docker-registry (through a
//! counting proxy) as the mirror, Debian's containerd as k3s's image store,
//! a systemctl stand-in on PATH that "starts k3s" by writing its kubeconfig,
//! the real control plane (or the fake API) as the cluster, local seed files
//! and a fake DIGIT behind the ingress. Shared by tests/install.rs and the
//! re-run benchmark.
#![allow(dead_code, clippy::disallowed_methods)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::cluster::{FakeCluster, fake_digit, node_list, with_local_seeds};
use super::control_plane::ControlPlane;
use super::k8s::fixture;
use super::{Containerd, Format, Proxy, Pusher, Registry, layer};

pub const SYSTEMCTL: &str = r#"#!/bin/sh
# systemctl stand-in: records each call; enable/restart "start k3s" by writing
# its kubeconfig (pointing at the test's cluster) below the test root.
echo "$*" >> "$STUB_DIR/systemctl.log"
case "$1" in
  is-active) if [ -f "$STUB_DIR/active" ]; then echo active; else echo inactive; exit 3; fi ;;
  is-enabled) if [ -f "$STUB_DIR/active" ]; then echo enabled; else echo disabled; exit 1; fi ;;
  enable|restart)
    mkdir -p "$STUB_ROOT/etc/rancher/k3s"
    cp "$STUB_DIR/kubeconfig" "$STUB_ROOT/etc/rancher/k3s/k3s.yaml"
    touch "$STUB_DIR/active" ;;
esac
exit 0
"#;

pub struct World {
    /// The binary under test (a benchmark may give the release build).
    pub bin: PathBuf,
    pub dir: tempfile::TempDir,
    pub root: PathBuf,
    pub data: PathBuf,
    pub stubs: PathBuf,
    pub profile: PathBuf,
    pub api: Api,
    pub _registry: Registry,
    pub proxy: Proxy,
    pub containerd: Containerd,
    pub digit: String,
}

/// The cluster the k3s stand-in "starts".
pub enum Api {
    Real(Box<ControlPlane>),
    Fake(FakeCluster),
}

impl World {
    pub fn cp(&self) -> &ControlPlane {
        match &self.api {
            Api::Real(cp) => cp,
            Api::Fake(_) => panic!("this test runs on the fake API"),
        }
    }

    pub fn fake(&self) -> &FakeCluster {
        match &self.api {
            Api::Fake(f) => f,
            Api::Real(_) => panic!("this test runs on the real control plane"),
        }
    }
}

pub fn world() -> World {
    world_on(true)
}

/// With the stateful fake API instead of the real control plane.
pub fn world_with_fake_api() -> World {
    world_on(false)
}

pub fn world_on(real: bool) -> World {
    world_full(real, super::control_plane::Options::default())
}

/// The real control plane started with `opts` (exec into pods, say).
pub fn world_with(opts: super::control_plane::Options) -> World {
    world_full(true, opts)
}

fn world_full(real: bool, opts: super::control_plane::Options) -> World {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let data = dir.path().join("data");
    let stubs = dir.path().join("stubs");
    let media = dir.path().join("media");
    for d in [&root.join("etc/rancher/k3s"), &stubs, &media, &root.join("root")] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(root.join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
    let systemctl = stubs.join("systemctl");
    std::fs::write(&systemctl, SYSTEMCTL).unwrap();
    std::fs::set_permissions(&systemctl, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (binary, airgap) = (b"k3s stand-in binary".to_vec(), b"k3s air-gap images".to_vec());
    std::fs::write(media.join("k3s"), &binary).unwrap();
    std::fs::write(media.join("k3s-airgap-images-amd64.tar.zst"), &airgap).unwrap();

    // A tiny image on the real registry for every image of the profile.
    let registry = Registry::start();
    let pusher = Pusher::new(&registry);
    let dev_text = super::k8s::dev_profile_pinned_to(&binary, &airgap);
    let dev = digit_quickstart::profile::parse(&dev_text, "dev").unwrap();
    let base = layer(7, 4096);
    for (i, image) in dev.images().iter().enumerate() {
        let r = image.reference.as_str().trim_start_matches("docker.io/").to_owned();
        let (repo, tag) = r.rsplit_once(':').unwrap();
        pusher.image(
            repo,
            Some(tag),
            &[base.clone(), layer(100 + i as u64, 512)],
            Format::Oci,
            "amd64",
        );
    }
    let proxy = Proxy::start(&registry.host);

    let profile = dir.path().join("dev.yaml");
    std::fs::write(&profile, with_local_seeds(&dev_text)).unwrap();

    let api = if real {
        let cp = ControlPlane::start_with(opts);
        cp.write_kubeconfig(&stubs.join("kubeconfig"));
        Api::Real(Box::new(cp))
    } else {
        Api::Fake(fake_api(dir.path(), &stubs))
    };
    let containerd = Containerd::start();
    let digit = fake_digit(&dev, data.join("secrets/dev.env"));
    World {
        bin: PathBuf::from(env!("CARGO_BIN_EXE_digit-quickstart")),
        dir,
        root,
        data,
        stubs,
        profile,
        api,
        _registry: registry,
        proxy,
        containerd,
        digit,
    }
}

/// The k3s-came-up answers of the stateful fake API.
pub fn fake_api(dir: &Path, stubs: &Path) -> FakeCluster {
    let cluster = FakeCluster::start();
    for (path, file) in [
        ("/api/v1/nodes/digit-vm", "node-ready.json"),
        (
            "/apis/apps/v1/namespaces/kube-system/deployments/coredns",
            "coredns-available.json",
        ),
        (
            "/apis/storage.k8s.io/v1/storageclasses/local-path",
            "storageclass-local-path.json",
        ),
        (
            "/apis/apps/v1/namespaces/kube-system/deployments/traefik",
            "traefik-available.json",
        ),
    ] {
        cluster.script(&format!("GET {path}"), vec![(200, fixture(file))]);
    }
    cluster.script("GET /readyz", vec![(200, "ok".into())]);
    cluster.script("GET /api/v1/nodes", vec![(200, node_list())]);
    cluster.script(
        "POST /api/v1/namespaces/egov/services/egov-user:8080/proxy/user/users/_createnovalidate",
        vec![
            (200, r#"{"user":[{"userName":"ADMIN"}]}"#.into()),
            (
                400,
                r#"{"Errors":[{"code":"DuplicateUserName","message":"exists"}]}"#.into(),
            ),
        ],
    );
    cluster.script(
        "POST /api/v1/namespaces/egov/services/egov-workflow-v2:8080/proxy/egov-workflow-v2/egov-wf/businessservice/_create",
        vec![(200, r#"{"ResponseInfo":null,"BusinessServices":[]}"#.into())],
    );
    std::fs::copy(cluster.kubeconfig(dir), stubs.join("kubeconfig")).unwrap();
    cluster
}

/// `program` with the test world's environment and nothing else.
pub fn environment(w: &World, program: &str) -> Command {
    let mut cmd = Command::new(program);
    let path = format!("{}:{}", w.stubs.display(), std::env::var("PATH").unwrap_or_default());
    cmd.env_clear()
        .env("PATH", path)
        .env("HOME", w.root.join("root"))
        .env("STUB_DIR", &w.stubs)
        .env("STUB_ROOT", &w.root)
        .env(
            "DIGIT_QUICKSTART_HOST_FACTS",
            format!("{}/tests/fixtures/host-ready.json", env!("CARGO_MANIFEST_DIR")),
        )
        .env("DIGIT_QUICKSTART_INGRESS_URL", &w.digit)
        .env("DIGIT_QUICKSTART_POLL_MS", "20")
        .env("DIGIT_QUICKSTART_RETRY_BASE_MS", "5")
        .env(
            "DIGIT_QUICKSTART_CTR",
            format!("ctr --address {}", w.containerd.socket.display()),
        );
    cmd
}

/// `install` in the test world, from its mirror and artifacts.
pub fn command(w: &World, extra: &[&str]) -> Command {
    let mut cmd = environment(w, &w.bin.display().to_string());
    cmd.arg("--root")
        .arg(&w.root)
        .arg("--data-dir")
        .arg(&w.data)
        .args(["install", "--yes", "--profile"])
        .arg(&w.profile)
        .arg("--k3s-artifacts")
        .arg(w.dir.path().join("media"))
        .arg("--registry-mirror")
        .arg(format!("http://{}", w.proxy.host))
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

pub fn install(w: &World, extra: &[&str]) -> Output {
    command(w, extra).output().unwrap()
}

pub fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn journal_steps(data: &Path) -> Vec<String> {
    let j: serde_json::Value = serde_json::from_slice(&std::fs::read(data.join("journal.json")).unwrap()).unwrap();
    j["steps"].as_object().unwrap().keys().cloned().collect()
}
