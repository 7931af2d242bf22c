//! `upgrade` and `upgrade --rollback` in the whole-install world (real
//! registry and containerd, the k3s stand-in, the real control plane whose
//! exec reaches a real PostgreSQL for the backup the upgrade takes): one
//! image changed, one added and the k3s patch bumped; an image that cannot
//! be pulled; a wave that cannot roll out, then the rollback.
#![allow(clippy::disallowed_methods)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use support::control_plane::Options;
use support::postgres::{Postgres, seed_digit_like, sums};
use support::world::{World, environment, install, text, world_with};
use support::{Format, Pusher, layer};

/// A profile text with one image changed (egov-otp's app), one component
/// (and image) added, and k3s at the next patch pinned to `binary`/`airgap`.
fn next_profile(w: &World, binary: &[u8], airgap: &[u8], otp_tag: &str, extra: &str) -> PathBuf {
    let hex = digit_quickstart::k3s::artifacts::sha256_hex;
    let text = std::fs::read_to_string(&w.profile).unwrap();
    let pin = |name: &str| {
        text.lines()
            .find(|l| l.contains(&format!("{{name: {name},")))
            .and_then(|l| l.split("sha256: ").nth(1))
            .and_then(|r| r.split(',').next())
            .unwrap()
            .to_owned()
    };
    let t = text
        .replacen(&pin("k3s"), &hex(binary), 1)
        .replacen(&pin("k3s-airgap-images-amd64.tar.zst"), &hex(airgap), 1)
        .replace(
            "docker.io/egovio/egov-otp:v2.9.2-4a60f20",
            &format!("docker.io/egovio/egov-otp:{otp_tag}"),
        )
        .replace("version: v1.36.4+k3s1", "version: v1.36.5+k3s1");
    let docs = "  - name: digit-docs\n    description: \"docs\"\n    kind: ui\n    images:\n      - {ref: docker.io/egovio/digit-docs:v1, role: app, compressed: 10Mi, unpacked: 30Mi}\n    resources:\n      requests: {cpu: 10m, memory: 32Mi}\n      limits: {memory: 32Mi}\n    ports: [80]\n";
    let path = w.dir.path().join(format!("next-{otp_tag}.yaml"));
    std::fs::write(&path, format!("{t}{docs}{extra}")).unwrap();
    path
}

fn media(w: &World, name: &str, binary: &[u8], airgap: &[u8]) -> PathBuf {
    let dir = w.dir.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("k3s"), binary).unwrap();
    std::fs::write(dir.join("k3s-airgap-images-amd64.tar.zst"), airgap).unwrap();
    dir
}

fn upgrade(w: &World, profile: &Path, media: &Path, extra: &[&str]) -> Output {
    environment(w, &w.bin.display().to_string())
        .arg("--root")
        .arg(&w.root)
        .arg("--data-dir")
        .arg(&w.data)
        .args(["upgrade", "--yes", "--profile"])
        .arg(profile)
        .arg("--k3s-artifacts")
        .arg(media)
        .arg("--registry-mirror")
        .arg(format!("http://{}", w.proxy.host))
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn image_of(w: &World, deployment: &str) -> Option<String> {
    let d = w
        .cp()
        .get(&format!("/apis/apps/v1/namespaces/egov/deployments/{deployment}"))?;
    d["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .map(str::to_owned)
}

fn backups(w: &World) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(w.data.join("backups"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".tar"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn minio_volume(w: &World) {
    let pvc = w
        .cp()
        .get("/api/v1/namespaces/egov/persistentvolumeclaims/minio-data")
        .unwrap();
    let pv = w
        .cp()
        .get(&format!(
            "/api/v1/persistentvolumes/{}",
            pvc["spec"]["volumeName"].as_str().unwrap()
        ))
        .unwrap();
    let dir = w
        .root
        .join(pv["spec"]["hostPath"]["path"].as_str().unwrap().trim_start_matches('/'));
    std::fs::create_dir_all(dir.join("egov-rainmaker")).unwrap();
    std::fs::write(dir.join("egov-rainmaker/xl.meta"), b"object").unwrap();
}

#[test]
fn an_upgrade_plans_pulls_backs_up_and_replaces_k3s_and_the_changed_services_then_rolls_back() {
    let pg = Postgres::start();
    let w = world_with(Options {
        exec_env: Some(pg.env()),
        ..Options::default()
    });
    let out = install(&w, &[]);
    let (o, e) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{o}\n{e}");
    minio_volume(&w);
    seed_digit_like(&pg);
    let pusher = Pusher::new(&w._registry);
    for (repo, tag, seed) in [
        ("egovio/egov-otp", "v2.9.3-5b71f31", 900),
        ("egovio/digit-docs", "v1", 901),
        ("egovio/egov-otp", "v2.9.4-6c82a42", 902),
        ("egovio/heavy", "v1", 903),
    ] {
        pusher.image(
            repo,
            Some(tag),
            &[layer(7, 4096), layer(seed, 512)],
            Format::Oci,
            "amd64",
        );
    }
    let (bin2, air2) = (
        b"k3s stand-in binary, next patch".to_vec(),
        b"k3s air-gap images, next patch".to_vec(),
    );
    let media2 = media(&w, "media2", &bin2, &air2);
    let next = next_profile(&w, &bin2, &air2, "v2.9.3-5b71f31", "");
    let restarts = |w: &World| {
        std::fs::read_to_string(w.stubs.join("systemctl.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with("restart"))
            .count()
    };
    let restarts_before = restarts(&w);

    // The upgrade: the plan diff first, then everything in order.
    let out = upgrade(&w, &next, &media2, &[]);
    let (o, e) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{o}\n{e}");
    assert!(o.contains("k3s     v1.36.4+k3s1 -> v1.36.5+k3s1 (patch"), "{o}");
    assert!(
        o.contains("  ~ docker.io/egovio/egov-otp: v2.9.2-4a60f20 -> v2.9.3-5b71f31"),
        "{o}"
    );
    assert!(o.contains("  + docker.io/egovio/digit-docs:v1"), "{o}");
    assert!(o.contains("  + Deployment/digit-docs"), "{o}");
    assert!(o.contains("  ~ Deployment/egov-otp"), "{o}");
    assert!(o.contains("DIGIT is up"), "{o}");
    let order = ["pulling the new profile's images", "dumping the database", "==> k3s"];
    let at: Vec<usize> = order
        .iter()
        .map(|m| e.find(m).unwrap_or_else(|| panic!("{m}: {e}")))
        .collect();
    assert!(at.windows(2).all(|p| p[0] < p[1]), "pull, then backup, then k3s: {e}");
    assert_eq!(
        std::fs::read(w.root.join("usr/local/bin/k3s")).unwrap(),
        bin2,
        "k3s replaced by the verified binary"
    );
    assert!(restarts(&w) > restarts_before, "k3s restarted");
    assert!(
        image_of(&w, "egov-otp").unwrap().contains("egov-otp"),
        "{:?}",
        image_of(&w, "egov-otp")
    );
    assert!(image_of(&w, "digit-docs").is_some());
    let taken = backups(&w);
    assert_eq!(taken.len(), 1, "{taken:?}");
    assert!(taken[0].starts_with("before-upgrade-"));
    let current: serde_json::Value =
        serde_json::from_slice(&std::fs::read(w.data.join("installed/current.json")).unwrap()).unwrap();
    assert_eq!(current["k3s"], "v1.36.5+k3s1");
    let upgraded_otp = image_of(&w, "egov-otp").unwrap();

    // The same profile again: nothing to do.
    let out = upgrade(&w, &next, &media2, &[]);
    let (o, e) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{o}\n{e}");
    assert!(o.contains("nothing to upgrade"), "{o}");

    // An image that cannot be pulled: stops before anything changes.
    let broken = next_profile(
        &w,
        &bin2,
        &air2,
        "v2.9.3-5b71f31",
        "  - name: missing\n    description: \"not on the registry\"\n    kind: ui\n    images:\n      - {ref: docker.io/egovio/missing:v9, role: app, compressed: 10Mi, unpacked: 30Mi}\n    resources:\n      requests: {cpu: 10m, memory: 32Mi}\n      limits: {memory: 32Mi}\n    ports: [80]\n",
    );
    let out = upgrade(&w, &broken, &media2, &[]);
    let (o, e) = text(&out);
    assert_ne!(out.status.code(), Some(0), "{o}\n{e}");
    assert!(e.contains("nothing was changed"), "{e}");
    assert_eq!(backups(&w).len(), 1, "no backup before a failed pull");
    assert_eq!(image_of(&w, "egov-otp").unwrap(), upgraded_otp);
    assert!(image_of(&w, "missing").is_none());

    // A wave that cannot roll out (a service too big for the node): the
    // upgrade stops and names the rollback; the data changed meanwhile.
    let before_third = sums(&pg);
    let heavy = next_profile(
        &w,
        &bin2,
        &air2,
        "v2.9.4-6c82a42",
        "  - name: heavy\n    description: \"too big\"\n    kind: ui\n    images:\n      - {ref: docker.io/egovio/heavy:v1, role: app, compressed: 10Mi, unpacked: 30Mi}\n    resources:\n      requests: {cpu: \"3\", memory: 32Mi}\n      limits: {memory: 32Mi}\n    ports: [80]\n    depends_on: [digit-ui]\n",
    );
    let out = upgrade(
        &w,
        &heavy,
        &media2,
        &["--wait-timeout", "10", "--ignore-check", "sizing"],
    );
    let (o, e) = text(&out);
    assert_ne!(out.status.code(), Some(0), "{o}\n{e}");
    assert!(
        e.contains("digit-quickstart upgrade --rollback") || o.contains("digit-quickstart upgrade --rollback"),
        "{o}\n{e}"
    );
    assert!(image_of(&w, "heavy").is_some());
    assert_ne!(
        image_of(&w, "egov-otp").unwrap(),
        upgraded_otp,
        "the earlier waves were upgraded"
    );
    pg.sql("UPDATE eg_pgr_service_v2 SET applicationstatus = 'MIGRATED'; CREATE TABLE flyway_next (v int)");
    assert_ne!(sums(&pg), before_third);

    let out = environment(&w, &w.bin.display().to_string())
        .arg("--root")
        .arg(&w.root)
        .arg("--data-dir")
        .arg(&w.data)
        .args(["upgrade", "--rollback", "--yes"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (o, e) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{o}\n{e}");
    assert!(o.contains("DIGIT is up"), "{o}");
    assert!(e.contains("rolled back to DIGIT"), "{e}");
    assert_eq!(sums(&pg), before_third, "the data is the backup's");
    assert!(image_of(&w, "heavy").is_none(), "what the failed version added is gone");
    assert_eq!(
        image_of(&w, "egov-otp").unwrap(),
        upgraded_otp,
        "the service is the version before"
    );
    assert!(!w.data.join("installed/previous.json").exists());
}
