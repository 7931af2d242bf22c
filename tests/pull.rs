//! The image engine against Debian's real docker-registry.
#![allow(clippy::disallowed_methods)]

mod support;

use std::path::Path;

use serde_json::Value;
use support::{Fault, Format, Proxy, Pusher, Registry, bin, layer, partials, store_has};

fn lock(data: &Path, profile: &str) -> Value {
    serde_json::from_slice(&std::fs::read(data.join(format!("{profile}.lock"))).unwrap()).unwrap()
}

fn profile(dir: &Path, images: &[&str]) -> std::path::PathBuf {
    support::images_profile(dir, images)
}

#[test]
fn oci_docker_and_multi_arch_images_are_pulled_with_only_the_amd64_blobs() {
    let reg = Registry::start();
    let p = Pusher::new(&reg);
    let base = layer(1, 300_000);
    p.image(
        "test/oci",
        Some("1.0"),
        &[base.clone(), layer(2, 1000)],
        Format::Oci,
        "amd64",
    );
    p.image(
        "test/docker",
        Some("1.0"),
        &[base.clone(), layer(3, 1000)],
        Format::Docker,
        "amd64",
    );
    let amd = p.image("test/multi", None, &[layer(4, 1000)], Format::Oci, "amd64");
    let arm_only = layer(5, 1000);
    let arm = p.image(
        "test/multi",
        None,
        std::slice::from_ref(&arm_only),
        Format::Oci,
        "arm64",
    );
    let index = p.index(
        "test/multi",
        "1.0",
        &[
            (amd.0.clone(), amd.1, amd.2.clone(), "amd64"),
            (arm.0, arm.1, arm.2, "arm64"),
        ],
        Format::Oci,
    );
    let amd_l = layer(6, 1000);
    let amd2 = p.image("test/list", None, std::slice::from_ref(&amd_l), Format::Docker, "amd64");
    let arm2 = p.image("test/list", None, &[layer(7, 1000)], Format::Docker, "arm64");
    p.index(
        "test/list",
        "1.0",
        &[
            (amd2.0.clone(), amd2.1, amd2.2.clone(), "amd64"),
            (arm2.0, arm2.1, arm2.2, "arm64"),
        ],
        Format::Docker,
    );

    let dir = tempfile::tempdir().unwrap();
    let h = &reg.host;
    let out = bin(dir.path())
        .args(["pull", "--insecure-registry", h])
        .args([
            format!("{h}/test/oci:1.0"),
            format!("{h}/test/docker:1.0"),
            format!("{h}/test/multi:1.0"),
            format!("{h}/test/list:1.0"),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("Pulled 4 images:"), "{stdout}");
    assert!(store_has(dir.path(), &index), "the index bytes are kept");
    assert!(store_has(dir.path(), &amd.0) && store_has(dir.path(), &amd2.0));
    assert!(store_has(dir.path(), &support::sha256(&amd_l)));
    assert!(
        !store_has(dir.path(), &support::sha256(&arm_only)),
        "no arm64 blob is fetched"
    );
    let index_json: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("store/index.json")).unwrap()).unwrap();
    let names: Vec<&str> = index_json["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["annotations"]["org.opencontainers.image.ref.name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 4);
    assert!(partials(dir.path()).is_empty());

    // Another platform on request.
    let out = bin(dir.path())
        .args(["pull", "--platform", "linux/arm64", "--insecure-registry", h])
        .arg(format!("{h}/test/multi:1.0"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(store_has(dir.path(), &support::sha256(&arm_only)));
    let out = bin(dir.path())
        .args(["pull", "--platform", "linux/s390x", "--insecure-registry", h])
        .arg(format!("{h}/test/multi:1.0"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("has no linux/s390x image (it has: linux/amd64, linux/arm64)")
    );
}

#[test]
fn a_shared_layer_is_fetched_once_and_a_warm_re_pull_makes_no_blob_request() {
    let reg = Registry::start();
    let proxy = Proxy::start(&reg.host);
    let p = Pusher::new(&reg);
    let base = layer(10, 200_000);
    for (i, repo) in ["a", "b", "c"].iter().enumerate() {
        p.image(
            &format!("dedup/{repo}"),
            Some("1"),
            &[base.clone(), layer(20 + i as u64, 5000)],
            Format::Oci,
            "amd64",
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let h = &proxy.host;
    let refs: Vec<String> = ["a", "b", "c"].iter().map(|r| format!("{h}/dedup/{r}:1")).collect();
    let out = bin(dir.path())
        .args(["pull", "--jobs", "8", "--insecure-registry", h])
        .args(&refs)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let base_digest = support::sha256(&base);
    let blob_gets = proxy.blob_requests();
    assert_eq!(
        blob_gets.iter().filter(|s| s.path.ends_with(&base_digest)).count(),
        1,
        "{blob_gets:#?}"
    );
    assert_eq!(
        blob_gets.len(),
        1 + 3 + 3,
        "base once, three unique layers, three configs"
    );

    proxy.clear();
    let out = bin(dir.path())
        .args(["pull", "--insecure-registry", h])
        .args(&refs)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        proxy.blob_requests().is_empty(),
        "warm re-pull fetched blobs: {:#?}",
        proxy.blob_requests()
    );
    let manifest_gets = proxy
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.method == "GET" && s.path.contains("/manifests/"))
        .count();
    assert_eq!(
        manifest_gets, 0,
        "manifests come from the store; tags are resolved with HEAD"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 B fetched in 0 blobs"));
}

#[test]
fn a_cut_blob_resumes_with_a_range_request() {
    let reg = Registry::start();
    let proxy = Proxy::start(&reg.host);
    let p = Pusher::new(&reg);
    let big = layer(30, 400_000);
    p.image("cut/a", Some("1"), std::slice::from_ref(&big), Format::Oci, "amd64");
    let digest = support::sha256(&big);
    proxy.fault(Fault::Cut {
        digest: digest.clone(),
        after: 150_000,
    });
    let dir = tempfile::tempdir().unwrap();
    let out = bin(dir.path())
        .args(["pull", "--insecure-registry", &proxy.host])
        .arg(format!("{}/cut/a:1", proxy.host))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(store_has(dir.path(), &digest));
    let gets: Vec<_> = proxy
        .blob_requests()
        .into_iter()
        .filter(|s| s.path.ends_with(&digest))
        .collect();
    assert_eq!(gets.len(), 2, "{gets:#?}");
    assert_eq!(
        gets[1].range.as_deref(),
        Some("bytes=150000-"),
        "the second request resumes where the cut was"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("retry 1 for"),
        "the retry is reported"
    );
}

#[test]
fn a_corrupted_blob_is_retried_once_then_refused_and_never_stored() {
    let reg = Registry::start();
    let proxy = Proxy::start(&reg.host);
    let p = Pusher::new(&reg);
    let l = layer(40, 50_000);
    p.image("bad/a", Some("1"), std::slice::from_ref(&l), Format::Oci, "amd64");
    let digest = support::sha256(&l);
    let dir = tempfile::tempdir().unwrap();
    let image = format!("{}/bad/a:1", proxy.host);

    // Corrupted once: the retry gets good bytes.
    proxy.fault(Fault::Corrupt { digest: digest.clone() });
    let out = bin(dir.path())
        .args(["pull", "--insecure-registry", &proxy.host])
        .arg(&image)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(store_has(dir.path(), &digest));

    // Corrupted twice: refused, naming image, layer, expected and actual.
    let dir = tempfile::tempdir().unwrap();
    proxy.fault(Fault::Corrupt { digest: digest.clone() });
    proxy.fault(Fault::Corrupt { digest: digest.clone() });
    let out = bin(dir.path())
        .args(["pull", "--insecure-registry", &proxy.host])
        .arg(&image)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "error: layer {digest} of {image} failed verification twice: expected {digest}, got sha256:"
        )),
        "{err}"
    );
    assert!(
        !store_has(dir.path(), &digest),
        "nothing unverified is visible in the store"
    );
    assert!(partials(dir.path()).is_empty(), "the bad partial file is deleted");
}

#[test]
fn the_profile_lock_file_records_digests_and_locked_refuses_drift() {
    let reg = Registry::start();
    let p = Pusher::new(&reg);
    let h = &reg.host;
    let first = p.image("lock/app", Some("1"), &[layer(50, 1000)], Format::Oci, "amd64");
    let dir = tempfile::tempdir().unwrap();
    let prof = profile(dir.path(), &[&format!("{h}/lock/app:1")]);
    let out = bin(dir.path())
        .args(["pull", "--insecure-registry", h, "--profile"])
        .arg(&prof)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let l = lock(dir.path(), "dev");
    let entry = &l["images"][format!("{h}/lock/app:1")];
    assert_eq!(entry["digest"], first.0);
    assert_eq!(entry["manifest"]["digest"], first.0);
    assert_eq!(entry["layers"][0]["digest"], support::sha256(&layer(50, 1000)));
    assert_eq!(l["platform"], "linux/amd64");

    let out = bin(dir.path())
        .args(["pull", "--locked", "--insecure-registry", h, "--profile"])
        .arg(&prof)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "unchanged tags pass --locked");

    let second = p.image("lock/app", Some("1"), &[layer(51, 1000)], Format::Oci, "amd64");
    let out = bin(dir.path())
        .args(["pull", "--locked", "--insecure-registry", h, "--profile"])
        .arg(&prof)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{h}/lock/app:1 drifted: the lock file says {}, the registry now says {}",
            first.0, second.0
        )),
        "{err}"
    );
    assert_eq!(
        lock(dir.path(), "dev")["images"][format!("{h}/lock/app:1")]["digest"],
        first.0,
        "a refused pull leaves the lock alone"
    );
}

#[test]
fn basic_auth_comes_from_an_auth_file_and_missing_credentials_are_explained() {
    let reg = Registry::start_with(Some(("ci", "s3cret")));
    let p = Pusher::new(&reg);
    p.image("private/app", Some("1"), &[layer(60, 1000)], Format::Oci, "amd64");
    let dir = tempfile::tempdir().unwrap();
    let image = format!("{}/private/app:1", reg.host);
    let out = bin(dir.path())
        .args(["pull", "--insecure-registry", &reg.host])
        .arg(&image)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("error: could not resolve {image}")) && err.contains("hint: check the credentials"),
        "{err}"
    );

    let auth = dir.path().join("auth.json");
    std::fs::write(
        &auth,
        format!(
            r#"{{"auths": {{"{}": {{"username": "ci", "password": "s3cret"}}}}}}"#,
            reg.host
        ),
    )
    .unwrap();
    let out = bin(dir.path())
        .args(["pull", "--insecure-registry", &reg.host, "--registry-auth-file"])
        .arg(&auth)
        .arg(&image)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("s3cret"));
}

#[test]
fn a_registry_that_is_down_is_a_clear_error() {
    let port = support::free_port();
    let dir = tempfile::tempdir().unwrap();
    let host = format!("127.0.0.1:{port}");
    let out = bin(dir.path())
        .args(["pull", "--insecure-registry", &host])
        .arg(format!("{host}/x/y:1"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("\nerror: could not resolve {host}/x/y:1\n")),
        "{err}"
    );
    assert!(
        err.contains("caused by: client error (Connect)"),
        "the cause chain is shown: {err}"
    );
    assert!(
        err.contains("hint: check the network and that the registry is up"),
        "{err}"
    );
}

#[test]
fn json_output_is_one_event_per_state_change() {
    let reg = Registry::start();
    let p = Pusher::new(&reg);
    p.image("json/a", Some("1"), &[layer(70, 10_000)], Format::Oci, "amd64");
    let dir = tempfile::tempdir().unwrap();
    let out = bin(dir.path())
        .args(["pull", "--output", "json", "--insecure-registry", &reg.host])
        .arg(format!("{}/json/a:1", reg.host))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let events: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "resolving",
            "resolved",
            "downloading",
            "blob-done",
            "blob-done",
            "image-done",
            "finished",
            "summary"
        ]
    );
    assert_eq!(events[6]["fetched_blobs"], 2);
    assert_eq!(events[3]["images"][0], format!("{}/json/a:1", reg.host));
}

/// The exported archive is imported by Debian's real containerd and keeps
/// the digest the lock file recorded.
#[test]
fn an_exported_archive_imports_into_containerd_with_the_locked_digest() {
    let reg = Registry::start();
    let p = Pusher::new(&reg);
    let h = &reg.host;
    let amd = p.image("exp/multi", None, &[layer(80, 20_000)], Format::Docker, "amd64");
    let arm = p.image("exp/multi", None, &[layer(81, 20_000)], Format::Docker, "arm64");
    let index = p.index(
        "exp/multi",
        "1.0",
        &[
            (amd.0.clone(), amd.1, amd.2.clone(), "amd64"),
            (arm.0, arm.1, arm.2, "arm64"),
        ],
        Format::Docker,
    );
    let dir = tempfile::tempdir().unwrap();
    let prof = profile(dir.path(), &[&format!("{h}/exp/multi:1.0")]);
    let export = dir.path().join("export");
    let out = bin(dir.path())
        .args(["pull", "--insecure-registry", h, "--export"])
        .arg(&export)
        .arg("--profile")
        .arg(&prof)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let image = format!("{h}/exp/multi:1.0");
    assert_eq!(lock(dir.path(), "dev")["images"][&image]["digest"], index);
    let archive = export.join(digit_quickstart::images::export::archive_name(&image));

    let ctr = support::Containerd::start();
    let out = ctr.ctr(&["images", "import", archive.to_str().unwrap()]);
    assert!(out.status.success(), "import: {}", String::from_utf8_lossy(&out.stderr));
    let out = ctr.ctr(&["images", "ls"]);
    let listing = String::from_utf8_lossy(&out.stdout);
    let line = listing
        .lines()
        .find(|l| l.starts_with(&image))
        .unwrap_or_else(|| panic!("{image} not imported: {listing}"));
    assert!(line.contains(&index), "containerd keeps the registry digest: {line}");
}

#[test]
fn verify_finds_a_corrupted_blob_in_the_store_and_pull_repairs_it() {
    let reg = Registry::start();
    let p = Pusher::new(&reg);
    let l = layer(90, 30_000);
    p.image("verify/a", Some("1"), std::slice::from_ref(&l), Format::Oci, "amd64");
    let dir = tempfile::tempdir().unwrap();
    let image = format!("{}/verify/a:1", reg.host);
    let out = bin(dir.path())
        .args(["pull", "--insecure-registry", &reg.host])
        .arg(&image)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let digest = support::sha256(&l);
    let path = dir
        .path()
        .join("store/blobs/sha256")
        .join(digest.trim_start_matches("sha256:"));
    std::fs::write(&path, b"bit rot").unwrap();

    let out = bin(dir.path())
        .args(["pull", "--verify", "--insecure-registry", &reg.host])
        .arg(&image)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("warning: blob {digest} is corrupt")), "{err}");
    assert!(err.contains(" blobs: 1 bad"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), l, "the blob was fetched again");
    assert!(String::from_utf8_lossy(&out.stdout).contains("fetched in 1 blobs"));
}

#[test]
fn token_auth_like_docker_hub_is_negotiated_anonymously() {
    let mut reg = Registry::start();
    let p = Pusher::new(&reg);
    let l = layer(100, 20_000);
    p.image("library/app", Some("1"), std::slice::from_ref(&l), Format::Oci, "amd64");
    let tokens = support::TokenServer::start();
    reg.require_tokens(&tokens);
    let dir = tempfile::tempdir().unwrap();
    let out = bin(dir.path())
        .args(["pull", "--insecure-registry", &reg.host])
        .arg(format!("{}/library/app:1", reg.host))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(store_has(dir.path(), &support::sha256(&l)));
    let issued = tokens.issued.lock().unwrap().clone();
    assert!(issued.iter().any(|s| s == "repository:library/app:pull"), "{issued:?}");

    // The quota probe answers the same Bearer challenge and reads the headers
    // (this registry sends none: no limit).
    let before = tokens.issued.lock().unwrap().len();
    let url = format!("http://{}/v2/library/app/manifests/1", reg.host);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = digit_quickstart::host::net::http_client(std::time::Duration::from_secs(5)).unwrap();
    let limits = runtime
        .block_on(digit_quickstart::images::ratelimit::probe(&client, &url, None))
        .unwrap();
    assert_eq!(limits.status, 200, "{limits:?}");
    assert_eq!(
        (limits.limit, limits.remaining, limits.retry_after_secs),
        (None, None, None)
    );
    assert_eq!(
        tokens.issued.lock().unwrap().len(),
        before + 1,
        "one token was fetched for the HEAD"
    );
}

#[test]
fn a_short_retry_after_is_waited_out_and_a_long_one_stops_with_an_explanation() {
    let reg = Registry::start();
    let proxy = Proxy::start(&reg.host);
    let p = Pusher::new(&reg);
    p.image("quota/app", Some("1"), &[layer(110, 5000)], Format::Oci, "amd64");
    let image = format!("{}/quota/app:1", proxy.host);

    // oci-client's HEAD, its GET fallback and our quota HEAD all see 429.
    for _ in 0..3 {
        proxy.fault(Fault::TooMany {
            path_contains: "/manifests/".into(),
            retry_after: 1,
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let out = bin(dir.path())
        .args(["pull", "--insecure-registry", &proxy.host])
        .arg(&image)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "Retry-After was honoured"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{} asked to wait 1s (HTTP 429): 0 of 100 pulls left per 6 h",
            proxy.host
        )),
        "{err}"
    );

    // A wait of an hour is not sat through: stop and say why and what to do.
    for _ in 0..3 {
        proxy.fault(Fault::TooMany {
            path_contains: "/manifests/".into(),
            retry_after: 3600,
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let out = bin(dir.path())
        .args(["pull", "--insecure-registry", &proxy.host])
        .arg(&image)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refused with HTTP 429 Too Many Requests: its pull quota for this address is used up (0 of 100 pulls left per 6 h; it asks to wait 1 h)"),
        "{err}"
    );
    assert!(err.contains("a classroom behind one NAT shares one quota"), "{err}");
    assert!(err.contains("--registry-mirror"), "{err}");
}

#[test]
fn docker_hub_references_are_pulled_through_a_mirror_under_their_own_names() {
    let reg = Registry::start();
    let proxy = Proxy::start(&reg.host);
    let p = Pusher::new(&reg);
    let l = layer(120, 8000);
    p.image(
        "egovio/egov-user",
        Some("v1"),
        std::slice::from_ref(&l),
        Format::Oci,
        "amd64",
    );
    let dir = tempfile::tempdir().unwrap();
    let out = bin(dir.path())
        .args([
            "pull",
            "--registry-mirror",
            &format!("http://{}", proxy.host),
            "docker.io/egovio/egov-user:v1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(store_has(dir.path(), &support::sha256(&l)));
    let seen = proxy.seen.lock().unwrap().clone();
    // Same repository path on the mirror; `ns` names the upstream, as containerd does.
    assert!(
        seen.iter()
            .any(|s| s.path == "/v2/egovio/egov-user/manifests/v1?ns=docker.io"),
        "{seen:#?}"
    );
    let index: Value = serde_json::from_slice(&std::fs::read(dir.path().join("store/index.json")).unwrap()).unwrap();
    assert_eq!(
        index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
        "docker.io/egovio/egov-user:v1"
    );
}

#[test]
fn a_digest_pinned_reference_is_never_re_resolved() {
    let reg = Registry::start();
    let proxy = Proxy::start(&reg.host);
    let p = Pusher::new(&reg);
    let (digest, ..) = p.image("pin/app", Some("1"), &[layer(130, 4000)], Format::Oci, "amd64");
    let dir = tempfile::tempdir().unwrap();
    let image = format!("{}/pin/app:1@{digest}", proxy.host);
    let out = bin(dir.path())
        .args(["pull", "--insecure-registry", &proxy.host])
        .arg(&image)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let seen = proxy.seen.lock().unwrap().clone();
    assert!(
        !seen.iter().any(|s| s.path.ends_with("/manifests/1")),
        "the tag was looked up: {seen:#?}"
    );
    assert!(
        seen.iter()
            .any(|s| s.method == "GET" && s.path.ends_with(&format!("/manifests/{digest}")))
    );
}

#[test]
fn a_partial_file_left_by_a_killed_pull_is_resumed_not_restarted() {
    let reg = Registry::start();
    let proxy = Proxy::start(&reg.host);
    let p = Pusher::new(&reg);
    let big = layer(140, 300_000);
    p.image(
        "killed/app",
        Some("1"),
        std::slice::from_ref(&big),
        Format::Oci,
        "amd64",
    );
    let digest = support::sha256(&big);
    let dir = tempfile::tempdir().unwrap();
    let partial = support::seed_partial(dir.path(), &big, 100_000);
    let out = bin(dir.path())
        .args(["pull", "--insecure-registry", &proxy.host])
        .arg(format!("{}/killed/app:1", proxy.host))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let gets: Vec<_> = proxy
        .blob_requests()
        .into_iter()
        .filter(|s| s.path.ends_with(&digest))
        .collect();
    assert_eq!(gets.len(), 1);
    assert_eq!(gets[0].range.as_deref(), Some("bytes=100000-"));
    assert_eq!(
        std::fs::read(
            dir.path()
                .join("store/blobs/sha256")
                .join(digest.trim_start_matches("sha256:"))
        )
        .unwrap(),
        big
    );
    assert!(!partial.exists());
}

/// Regression: on a terminal the bars draw from indicatif's ticker thread;
/// the pull must still finish (it deadlocked when main held the stderr lock).
#[test]
fn on_a_terminal_the_progress_bars_draw_and_the_pull_finishes() {
    let reg = Registry::start();
    let p = Pusher::new(&reg);
    let base = layer(150, 2_000_000);
    for i in 0..3u64 {
        p.image(
            &format!("tty/s{i}"),
            Some("1"),
            &[base.clone(), layer(151 + i, 1_000_000)],
            Format::Oci,
            "amd64",
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let refs: Vec<String> = (0..3).map(|i| format!("{}/tty/s{i}:1", reg.host)).collect();
    let inner = format!(
        "DIGIT_QUICKSTART_RETRY_BASE_MS=5 {} pull --jobs 1 --data-dir {} --insecure-registry {} {}",
        env!("CARGO_BIN_EXE_digit-quickstart"),
        dir.path().display(),
        reg.host,
        refs.join(" ")
    );
    let out = std::process::Command::new("timeout")
        .args(["60", "script", "-qec", &inner, "/dev/null"])
        .env("TERM", "xterm")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "timed out or failed on a pty: {text}");
    assert!(text.contains("Pulled 3 images:"), "{text}");
    assert!(text.contains("done  "), "per-image lines were drawn: {text}");
}

#[test]
fn when_the_registry_ignores_range_the_blob_is_fetched_again_from_the_start() {
    let reg = Registry::start();
    let proxy = Proxy::start(&reg.host);
    let p = Pusher::new(&reg);
    let big = layer(160, 300_000);
    p.image(
        "norange/app",
        Some("1"),
        std::slice::from_ref(&big),
        Format::Oci,
        "amd64",
    );
    let digest = support::sha256(&big);
    let dir = tempfile::tempdir().unwrap();
    support::seed_partial(dir.path(), &big, 100_000);
    proxy.fault(Fault::StripRange { digest: digest.clone() });
    let out = bin(dir.path())
        .args(["pull", "--insecure-registry", &proxy.host])
        .arg(format!("{}/norange/app:1", proxy.host))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stored = std::fs::read(
        dir.path()
            .join("store/blobs/sha256")
            .join(digest.trim_start_matches("sha256:")),
    )
    .unwrap();
    assert_eq!(
        stored.len(),
        big.len(),
        "the full answer replaced the partial file instead of being appended"
    );
    assert_eq!(stored, big);
    assert!(
        proxy.faults.lock().unwrap().is_empty(),
        "the resume request was made and answered in full"
    );
}

#[test]
fn an_unwritable_store_is_named_with_what_to_do() {
    let out = support::bin(std::path::Path::new("/proc/digit-quickstart-test"))
        .args(["pull", "127.0.0.1:1/x/y:1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error: could not write to the image store at `/proc/digit-quickstart-test/store`"),
        "{err}"
    );
    assert!(
        err.contains("hint: check that --data-dir points at a writable directory"),
        "{err}"
    );
}

/// After a pull, `plan` shows measured sizes and what is already stored.
#[test]
fn after_a_pull_plan_reports_the_images_already_in_the_store() {
    let reg = Registry::start();
    let p = Pusher::new(&reg);
    let h = &reg.host;
    p.image("plan/a", Some("1"), &[layer(170, 3000)], Format::Oci, "amd64");
    p.image("plan/b", Some("1"), &[layer(171, 3000)], Format::Oci, "amd64");
    let dir = tempfile::tempdir().unwrap();
    let prof = profile(dir.path(), &[&format!("{h}/plan/a:1"), &format!("{h}/plan/b:1")]);
    let out = bin(dir.path())
        .args(["pull", "--insecure-registry", h, "--profile"])
        .arg(&prof)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    // Lose one image's layer: the plan must notice.
    let lock = lock(dir.path(), "dev");
    let b_layer = lock["images"][format!("{h}/plan/b:1")]["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    std::fs::remove_file(
        dir.path()
            .join("store/blobs/sha256")
            .join(b_layer.trim_start_matches("sha256:")),
    )
    .unwrap();
    let facts = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/host-ready.json");
    let out = bin(dir.path())
        .env("DIGIT_QUICKSTART_HOST_FACTS", facts)
        .args(["plan", "--profile"])
        .arg(&prof)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("1 already in the store"), "{text}");
    assert!(text.contains(&format!("{h}/plan/a:1 (already in the store)")), "{text}");
    let b_size = lock["images"][format!("{h}/plan/b:1")]["layers"][0]["size"]
        .as_u64()
        .unwrap();
    let want = digit_quickstart::profile::quantity::human_bytes(b_size);
    assert!(text.contains(&format!("{want} to download")), "{text}");

    // check's disk sizing now uses the measured, deduplicated bytes.
    let out = bin(dir.path())
        .env("DIGIT_QUICKSTART_HOST_FACTS", facts)
        .args(["check", "--output", "json", "--profile"])
        .arg(&prof)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["sizing"]["images"]["measured"], true);
    assert_eq!(doc["sizing"]["images"]["to_download"], b_size);
    assert_eq!(doc["host"]["measured_images"]["missing"], b_size);
}
