//! `images push --to` against Debian's real docker-registry with htpasswd:
//! digests unchanged, a re-push transfers nothing, a blob shared between
//! repositories is mounted, skopeo pulls by digest the store's exact bytes.
#![allow(clippy::disallowed_methods)]

mod support;

use std::path::PathBuf;
use std::process::Command;

use base64::Engine as _;
use serde_json::Value;
use support::{Format, Proxy, Pusher, Registry, bin, layer};

struct World {
    _dir: tempfile::TempDir,
    data: PathBuf,
    profile: PathBuf,
    _source: Registry,
    target: Registry,
    proxy: Proxy,
    lock: Value,
}

fn world() -> World {
    let source = Registry::start();
    let p = Pusher::new(&source);
    let base = layer(11, 400_000);
    p.image(
        "app/api",
        Some("1.0"),
        &[base.clone(), layer(12, 2000)],
        Format::Oci,
        "amd64",
    );
    p.image(
        "app/worker",
        Some("2.0"),
        &[base, layer(13, 3000)],
        Format::Docker,
        "amd64",
    );
    let amd = p.image("app/multi", None, &[layer(14, 1000)], Format::Oci, "amd64");
    let arm = p.image("app/multi", None, &[layer(15, 1000)], Format::Oci, "arm64");
    p.index(
        "app/multi",
        "3.0",
        &[(amd.0, amd.1, amd.2, "amd64"), (arm.0, arm.1, arm.2, "arm64")],
        Format::Oci,
    );
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let h = &source.host;
    let images: Vec<String> = ["app/api:1.0", "app/worker:2.0", "app/multi:3.0"]
        .iter()
        .map(|i| format!("{h}/{i}"))
        .collect();
    let profile = support::images_profile(dir.path(), &images);
    let out = bin(&data)
        .args(["pull", "--insecure-registry", h, "--profile"])
        .arg(&profile)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let lock: Value = serde_json::from_slice(&std::fs::read(data.join("dev.lock")).unwrap()).unwrap();

    let target = Registry::start_with(Some(("alice", "s3cret")));
    let proxy = Proxy::start(&target.host);
    // Docker's own config, where `docker login` would have put it.
    let auth = base64::engine::general_purpose::STANDARD.encode("alice:s3cret");
    std::fs::create_dir_all(data.join(".docker")).unwrap();
    std::fs::write(
        data.join(".docker/config.json"),
        serde_json::json!({"auths": {proxy.host.clone(): {"auth": auth}}}).to_string(),
    )
    .unwrap();
    World {
        _dir: dir,
        data,
        profile,
        _source: source,
        target,
        proxy,
        lock,
    }
}

fn push(w: &World, extra: &[&str]) -> std::process::Output {
    bin(&w.data)
        .args(["images", "push", "--plain-http", "--output", "json", "--to"])
        .arg(format!("{}/mirror", w.proxy.host))
        .args(extra)
        .arg("--profile")
        .arg(&w.profile)
        .output()
        .unwrap()
}

fn writes(p: &Proxy) -> Vec<String> {
    p.seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| matches!(s.method.as_str(), "POST" | "PATCH" | "PUT"))
        .map(|s| format!("{} {}", s.method, s.path))
        .collect()
}

#[test]
fn push_keeps_digests_mounts_shared_blobs_and_a_re_push_transfers_nothing() {
    let w = world();
    let out = push(&w, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let first: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(first["manifests_pushed"], 3, "{first}");
    // api: config + 2 layers; worker: config + its own layer, the shared
    // base mounted from api; multi: config + 1 amd64 layer.
    assert_eq!(first["blobs_uploaded"], 7, "{first}");
    assert_eq!(first["blobs_mounted"], 1, "{first}");
    assert!(!writes(&w.proxy).is_empty());

    // Every image, pulled back by digest with skopeo: the manifest bytes
    // hash to the locked platform manifest and every blob is the store's.
    for (source, locked) in w.lock["images"].as_object().unwrap() {
        let repo = source.split_once('/').unwrap().1.split(':').next().unwrap();
        let digest = locked["manifest"]["digest"].as_str().unwrap();
        assert!(
            first["pushed"][source].as_str().unwrap().ends_with(&format!(
                "/mirror/{repo}:{}@{digest}",
                source.rsplit(':').next().unwrap()
            )),
            "{first}"
        );
        let oci = w.data.join(format!("copy-{}", repo.replace('/', "-")));
        let out = Command::new("skopeo")
            .args([
                "copy",
                "--preserve-digests",
                "--src-tls-verify=false",
                "--src-creds",
                "alice:s3cret",
            ])
            .arg(format!("docker://{}/mirror/{repo}@{digest}", w.target.host))
            .arg(format!("oci:{}:x", oci.display()))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{source}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let index: Value = serde_json::from_slice(&std::fs::read(oci.join("index.json")).unwrap()).unwrap();
        assert_eq!(index["manifests"][0]["digest"], digest, "{source}");
        for d in std::iter::once(&locked["manifest"])
            .chain(std::iter::once(&locked["config"]))
            .chain(locked["layers"].as_array().unwrap())
        {
            let hex = d["digest"].as_str().unwrap().trim_start_matches("sha256:");
            assert_eq!(
                std::fs::read(oci.join("blobs/sha256").join(hex)).unwrap(),
                std::fs::read(w.data.join("store/blobs/sha256").join(hex)).unwrap(),
                "{source} {hex}"
            );
        }
    }

    // Again: every manifest is there, nothing is written.
    w.proxy.clear();
    let out = push(&w, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let again: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(again["manifests_present"], 3, "{again}");
    assert_eq!(again["bytes_uploaded"], 0, "{again}");
    assert_eq!(writes(&w.proxy), Vec::<String>::new(), "a re-push sends nothing");
    assert_eq!(again["pushed"], first["pushed"]);
}

#[test]
fn without_credentials_or_a_lock_push_says_what_to_do_and_writes_nothing() {
    let w = world();
    std::fs::remove_file(w.data.join(".docker/config.json")).unwrap();
    let out = push(&w, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("refused"), "{stderr}");
    assert!(stderr.contains("docker login"), "{stderr}");

    std::fs::remove_file(w.data.join("dev.lock")).unwrap();
    let out = push(&w, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("run `digit-quickstart pull` first"), "{stderr}");
}

#[test]
fn install_into_a_cluster_with_registry_deploys_the_pushed_digests_with_a_pull_secret() {
    use support::world::{command, text, world};
    let w = world();
    let target = Registry::start_with(Some(("bob", "pa55word")));
    let auth = base64::engine::general_purpose::STANDARD.encode("bob:pa55word");
    let docker = w.root.join("root/.docker");
    std::fs::create_dir_all(&docker).unwrap();
    std::fs::write(
        docker.join("config.json"),
        serde_json::json!({"auths": {target.host.clone(): {"auth": auth}}}).to_string(),
    )
    .unwrap();
    let kubeconfig = w.stubs.join("kubeconfig");
    let registry = format!("{}/digit", target.host);
    let out = command(&w, &["--kubeconfig"])
        .arg(&kubeconfig)
        .args(["--registry", &registry, "--registry-plain-http"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains(&format!("images on {registry}")), "{stderr}");

    let lock: Value = serde_json::from_slice(&std::fs::read(w.data.join("dev.lock")).unwrap()).unwrap();
    let cp = w.cp();
    let mut seen = 0;
    for d in cp.list("/apis/apps/v1/namespaces/egov/deployments") {
        let spec = &d["spec"]["template"]["spec"];
        assert_eq!(
            spec["imagePullSecrets"][0]["name"], "registry-credentials",
            "{}",
            d["metadata"]["name"]
        );
        let containers = spec["containers"]
            .as_array()
            .unwrap()
            .iter()
            .chain(spec["initContainers"].as_array().into_iter().flatten());
        for c in containers {
            let image = c["image"].as_str().unwrap();
            let (name, digest) = image.split_once('@').unwrap();
            assert!(name.starts_with(&format!("{registry}/")), "{image}");
            let source = format!("docker.io/{}", name.trim_start_matches(&format!("{registry}/")));
            assert_eq!(lock["images"][&source]["manifest"]["digest"], digest, "{image}");
            seen += 1;
        }
    }
    assert!(seen >= 20, "{seen} containers");
    let secret = cp.get("/api/v1/namespaces/egov/secrets/registry-credentials").unwrap();
    assert_eq!(secret["type"], "kubernetes.io/dockerconfigjson");
    let config = base64::engine::general_purpose::STANDARD
        .decode(secret["data"][".dockerconfigjson"].as_str().unwrap())
        .unwrap();
    let config: Value = serde_json::from_slice(&config).unwrap();
    assert_eq!(config["auths"][&target.host]["auth"], auth);
    let saved: Value = serde_json::from_slice(&std::fs::read(w.data.join("target.json")).unwrap()).unwrap();
    assert_eq!(saved["registry"], registry.as_str());
    assert_eq!(saved["pull_secret"], true);
}
