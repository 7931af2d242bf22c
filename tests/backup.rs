//! `backup`, `backups` and `restore` against a real control plane whose
//! "kubelet" (KWOK) runs `kubectl exec` commands on this machine, pointed at
//! a real PostgreSQL: the product's own pg_dump / pg_restore / psql commands
//! run for real, through the API server's exec, against DIGIT-like tables.
//! MinIO's volume is the local-path folder below `--root`.
#![allow(clippy::disallowed_methods)]

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::bin;
use support::cluster::{fake_digit, with_local_seeds};
use support::control_plane::{ControlPlane, Options};
use support::postgres::Postgres;

fn dev() -> digit_quickstart::profile::Profile {
    digit_quickstart::profile::parse(digit_quickstart::profile::EMBEDDED[0].2, "dev").unwrap()
}

struct World {
    dir: tempfile::TempDir,
    data: PathBuf,
    root: PathBuf,
    profile: PathBuf,
    cp: ControlPlane,
    kubeconfig: PathBuf,
    digit: String,
    pg: Postgres,
}

fn world() -> World {
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let root = dir.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    let profile = dir.path().join("dev.yaml");
    std::fs::write(&profile, with_local_seeds(digit_quickstart::profile::EMBEDDED[0].2)).unwrap();
    let cp = ControlPlane::start_with(Options {
        exec_env: Some(pg.env()),
        ..Options::default()
    });
    let kubeconfig = cp.write_kubeconfig(&dir.path().join("kubeconfig"));
    let digit = fake_digit(&dev(), data.join("secrets/dev.env"));
    World {
        dir,
        data,
        root,
        profile,
        cp,
        kubeconfig,
        digit,
        pg,
    }
}

fn run(w: &World, args: &[&str]) -> std::process::Output {
    bin(&w.data)
        .env("DIGIT_QUICKSTART_INGRESS_URL", &w.digit)
        .env("DIGIT_QUICKSTART_POLL_MS", "100")
        .args(args)
        .arg("--profile")
        .arg(&w.profile)
        .arg("--root")
        .arg(&w.root)
        .output()
        .unwrap()
}

fn with_cluster<'a>(w: &'a World, args: &[&'a str]) -> std::process::Output {
    let mut all: Vec<&str> = args.to_vec();
    let kc = w.kubeconfig.to_str().unwrap();
    all.extend(["--kubeconfig", kc]);
    run(w, &all)
}

fn text(out: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn installed(w: &World) {
    let out = with_cluster(w, &["install", "--only", "deploy", "--yes"]);
    let (o, e) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{o}\n{e}\n{}", w.cp.logs(20));
}

/// MinIO's volume folder on the "host" (below --root).
fn minio_dir(w: &World) -> PathBuf {
    let pvc =
        w.cp.get("/api/v1/namespaces/egov/persistentvolumeclaims/minio-data")
            .unwrap();
    let pv_name = pvc["spec"]["volumeName"].as_str().unwrap().to_owned();
    let pv = w.cp.get(&format!("/api/v1/persistentvolumes/{pv_name}")).unwrap();
    let path = pv["spec"]["hostPath"]["path"].as_str().unwrap();
    let dir = w.root.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
                out.push((rel, std::fs::read(e.path()).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn replicas(w: &World) -> Vec<(String, i64)> {
    w.cp.list("/apis/apps/v1/namespaces/egov/deployments")
        .iter()
        .map(|d| {
            (
                d["metadata"]["name"].as_str().unwrap().to_owned(),
                d["spec"]["replicas"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn secret_value(file: &Path, key: &str) -> String {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_owned))
        .unwrap()
}

#[test]
fn a_named_backup_restores_database_files_and_secrets_onto_a_fresh_install() {
    use std::os::unix::fs::PermissionsExt;
    let w = world();
    installed(&w);
    support::postgres::seed_digit_like(&w.pg);
    let before = support::postgres::sums(&w.pg);
    assert_eq!(before.len(), 3, "{before:?}");
    let minio = minio_dir(&w);
    std::fs::create_dir_all(minio.join("egov-rainmaker/pg/citya/complaint-1.jpg")).unwrap();
    std::fs::write(
        minio.join("egov-rainmaker/pg/citya/complaint-1.jpg/xl.meta"),
        b"XL2 \x01\x00photo",
    )
    .unwrap();
    std::fs::create_dir_all(minio.join(".minio.sys/buckets/egov-rainmaker")).unwrap();
    std::fs::write(
        minio.join(".minio.sys/buckets/egov-rainmaker/.metadata.bin"),
        vec![7u8; 4096],
    )
    .unwrap();
    let files_before = files(&minio);
    let secrets_file = w.data.join("secrets/dev.env");
    let secrets_before = std::fs::read(&secrets_file).unwrap();

    let out = with_cluster(&w, &["backup", "--name", "lesson-3"]);
    let (o, e) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{o}\n{e}\n{}", w.pg.log());
    assert!(o.contains("backup `lesson-3` written"), "{o}");
    assert!(o.contains("digit-quickstart restore lesson-3"), "{o}");
    let archive = w.data.join("backups/lesson-3.tar");
    assert_eq!(std::fs::metadata(&archive).unwrap().permissions().mode() & 0o777, 0o600);
    // The password is in the archive's secrets member, never on a line the
    // user or a log sees.
    let db_password = secret_value(&secrets_file, "db/password");
    assert!(!o.contains(&db_password) && !e.contains(&db_password));
    let listed = run(&w, &["backups", "--output", "json"]);
    let list: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(list[0]["name"], "lesson-3", "{list}");
    assert_eq!(list[0]["profile"], "dev");
    assert_eq!(
        list[0]["size"].as_u64(),
        Some(std::fs::metadata(&archive).unwrap().len())
    );
    let again = with_cluster(&w, &["backup", "--name", "lesson-3"]);
    assert_eq!(again.status.code(), Some(2), "an existing name is never overwritten");

    // The class happens: data changes, a table is added, files change, and
    // the VM is reinstalled with new secrets (another VM, as a trainer's).
    w.pg.sql(
        "DELETE FROM eg_user WHERE id % 3 = 0; UPDATE eg_pgr_service_v2 SET applicationstatus = 'RESOLVED';
         CREATE TABLE scratch (x int); INSERT INTO scratch VALUES (1);",
    );
    std::fs::write(
        minio.join("egov-rainmaker/pg/citya/complaint-1.jpg/xl.meta"),
        b"changed",
    )
    .unwrap();
    std::fs::create_dir_all(minio.join("egov-rainmaker/later")).unwrap();
    std::fs::write(minio.join("egov-rainmaker/later/xl.meta"), b"later").unwrap();
    std::fs::remove_file(&secrets_file).unwrap();
    let fresh = with_cluster(&w, &["reset", "--yes", "--redeploy"]);
    let (o, e) = text(&fresh);
    assert_eq!(fresh.status.code(), Some(0), "{o}\n{e}");
    assert_ne!(
        std::fs::read(&secrets_file).unwrap(),
        secrets_before,
        "a fresh install has new secrets"
    );
    let minio = minio_dir(&w);
    std::fs::write(minio.join("stray"), b"fresh volume").unwrap();
    assert_ne!(support::postgres::sums(&w.pg), before);

    let out = with_cluster(&w, &["restore", "lesson-3", "--yes"]);
    let (o, e) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{o}\n{e}\n{}", w.pg.log());
    assert!(e.contains("restored backup `lesson-3`"), "{e}");
    assert!(o.contains("DIGIT is up:"), "restore ends with health and smoke: {o}");

    // Every table's rows equal the original's; the later table is gone.
    assert_eq!(support::postgres::sums(&w.pg), before);
    assert_eq!(files(&minio), files_before);
    assert_eq!(std::fs::read(&secrets_file).unwrap(), secrets_before);
    // The database user's password is the restored secret's (checked by
    // the server over TCP), and the cluster's Secret carries it.
    let login = w.pg.psql_output("egov", "egov", "SELECT 1", Some(&db_password));
    assert!(login.status.success(), "{}", String::from_utf8_lossy(&login.stderr));
    let secret = w.cp.get("/api/v1/namespaces/egov/secrets/db").unwrap();
    let b64 = secret["data"]["password"].as_str().unwrap();
    use base64::Engine;
    let in_cluster = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
    assert_eq!(in_cluster, db_password.as_bytes());
    // Every service is back at its profile's replica count.
    for (name, n) in replicas(&w) {
        assert!(n >= 1, "{name} left at {n} replicas");
    }
}

#[test]
fn a_tampered_archive_or_another_profiles_backup_is_refused_with_nothing_changed() {
    let w = world();
    installed(&w);
    support::postgres::seed_digit_like(&w.pg);
    // The folder local-path makes when MinIO's pod starts.
    minio_dir(&w);
    let out = with_cluster(&w, &["backup", "--name", "good"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let archive = w.data.join("backups/good.tar");
    let bytes = std::fs::read(&archive).unwrap();
    let secrets_file = w.data.join("secrets/dev.env");

    // Change data so a restore would be visible.
    w.pg.sql("UPDATE eg_pgr_service_v2 SET applicationstatus = 'CLOSED'");
    let now = support::postgres::sums(&w.pg);
    let secrets_now = std::fs::read(&secrets_file).unwrap();
    let replicas_now = replicas(&w);

    // One byte of the dump flipped (pg_dump's header starts with PGDMP).
    let at = bytes.windows(5).position(|x| x == b"PGDMP").unwrap() + 200;
    let mut tampered = bytes.clone();
    tampered[at] ^= 0xff;
    let bad = w.dir.path().join("tampered.tar");
    std::fs::write(&bad, &tampered).unwrap();
    let out = with_cluster(&w, &["restore", bad.to_str().unwrap(), "--yes"]);
    let (o, e) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{o}\n{e}");
    assert!(
        e.contains("database.pgdump") && e.contains("does not match its manifest"),
        "{e}"
    );
    assert!(e.contains("nothing was restored"), "{e}");

    // The same archive claiming another profile.
    let other = w.dir.path().join("other.tar");
    let mut m = digit_quickstart::backup::archive::manifest(&archive).unwrap();
    let unpacked = w.dir.path().join("unpacked");
    digit_quickstart::backup::archive::unpack_verified(&archive, &unpacked).unwrap();
    let staged: Vec<_> = m
        .members
        .iter()
        .map(|x| digit_quickstart::backup::archive::Staged {
            name: x.path.clone(),
            path: unpacked.join(&x.path),
        })
        .collect();
    m.profile = "classroom".into();
    digit_quickstart::backup::archive::write(&other, &m, &staged).unwrap();
    let out = with_cluster(&w, &["restore", other.to_str().unwrap(), "--yes"]);
    let (o, e) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{o}\n{e}");
    assert!(e.contains("made for profile `classroom`"), "{e}");

    assert_eq!(support::postgres::sums(&w.pg), now, "the database is untouched");
    assert_eq!(std::fs::read(&secrets_file).unwrap(), secrets_now);
    assert_eq!(replicas(&w), replicas_now, "no service was stopped");
    let left: Vec<_> = std::fs::read_dir(w.data.join("backups"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, vec!["good.tar".to_owned()], "no unpacked folder is left behind");
}
