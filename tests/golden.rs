//! Golden images: the clone's first boot renews exactly its identity, on a
//! prepared tree via --root; the unit passes systemd-analyze.
#![allow(clippy::disallowed_methods)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn snapshot(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            if meta.is_dir() {
                stack.push(p);
            } else if meta.file_type().is_symlink() {
                out.insert(rel, std::fs::read_link(&p).unwrap().display().to_string().into_bytes());
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn put(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[test]
fn a_clone_renews_machine_id_hostname_and_node_password_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let template_id = "0123456789abcdef0123456789abcdef";
    put(root, "etc/machine-id", &format!("{template_id}\n"));
    put(root, "var/lib/dbus/machine-id", &format!("{template_id}\n"));
    put(root, "etc/hostname", "digit-vm\n");
    put(
        root,
        "etc/hosts",
        "127.0.0.1\tlocalhost\n127.0.1.1\tdigit-vm\n# digit-vm stays in comments\n",
    );
    put(root, "etc/rancher/node/password", "5f1c0a7d\n");
    put(
        root,
        "var/lib/rancher/k3s/server/cred/node-passwd",
        "5f1c0a7d,digit-vm,digit-vm,\n",
    );
    put(root, "etc/rancher/k3s/config.yaml", "node-name: digit-vm\n");
    put(root, "var/lib/rancher/k3s/server/db/state.db", "sqlite");
    let fs = digit_quickstart::host::RealFs::new(root);
    let t = digit_quickstart::golden::prepare(&fs, "/usr/local/bin/digit-quickstart").unwrap();
    assert_eq!((t.hostname.as_str(), t.machine_id.as_str()), ("digit-vm", template_id));
    let before = snapshot(root);

    // The clone boots: the unit runs the binary's first-boot command.
    let out = Command::new(env!("CARGO_BIN_EXE_digit-quickstart"))
        .arg("--root")
        .arg(root)
        .args(["golden-firstboot", "--output", "json"])
        .env("PATH", "/nonexistent") // `hostname` is not run against the test machine
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["machine_id"], true);
    assert_eq!(report["node_password"], true);
    let after = snapshot(root);

    let id = String::from_utf8(after["etc/machine-id"].clone()).unwrap();
    let id = id.trim();
    assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) && id != template_id);
    assert_eq!(String::from_utf8_lossy(&after["var/lib/dbus/machine-id"]).trim(), id);
    let host = format!("digit-vm-{}", &id[..6]);
    assert_eq!(report["hostname"], host.as_str());
    assert_eq!(String::from_utf8_lossy(&after["etc/hostname"]).trim(), host);
    let hosts = String::from_utf8_lossy(&after["etc/hosts"]).to_string();
    assert!(hosts.contains(&format!("127.0.1.1\t{host}")), "{hosts}");
    assert!(hosts.contains("# digit-vm stays in comments"));
    for gone in [
        "etc/rancher/node/password",
        "var/lib/rancher/k3s/server/cred/node-passwd",
        "etc/digit-quickstart/golden.json",
    ] {
        assert!(!after.contains_key(gone), "{gone} should be gone");
    }
    // Nothing else changed: k3s's config (node name pinned), its datastore, the unit.
    let changed: Vec<&String> = before.keys().filter(|k| after.get(*k) != before.get(*k)).collect();
    let expected = [
        "etc/digit-quickstart/golden.json",
        "etc/hostname",
        "etc/hosts",
        "etc/machine-id",
        "etc/rancher/node/password",
        "var/lib/dbus/machine-id",
        "var/lib/rancher/k3s/server/cred/node-passwd",
    ];
    let mut changed: Vec<&str> = changed.iter().map(|s| s.as_str()).collect();
    changed.sort_unstable();
    assert_eq!(changed, expected);

    // A second boot changes nothing.
    let again = Command::new(env!("CARGO_BIN_EXE_digit-quickstart"))
        .arg("--root")
        .arg(root)
        .arg("golden-firstboot")
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(snapshot(root), after);
}

#[test]
fn the_first_boot_unit_passes_systemd_analyze_verify() {
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("digit-quickstart-firstboot.service");
    std::fs::write(
        &unit,
        digit_quickstart::golden::unit_text(env!("CARGO_BIN_EXE_digit-quickstart")),
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !text.contains("digit-quickstart-firstboot"),
        "{text}"
    );
    let text = std::fs::read_to_string(&unit).unwrap();
    assert!(text.contains("Before=k3s.service"));
}
