//! The generated k3s unit passes systemd's own checker.
#![allow(clippy::disallowed_methods)] // runs systemd-analyze as a user would

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

fn verify(unit_text: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k3s.service");
    std::fs::write(&path, unit_text).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .expect("systemd-analyze (package systemd)");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A stub at a real path: verify insists that ExecStart exists.
fn stub() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("k3s");
    std::fs::write(&bin, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = bin.display().to_string();
    (dir, path)
}

#[test]
fn the_rendered_unit_passes_systemd_analyze_verify_without_warnings() {
    let (_dir, bin) = stub();
    let unit = digit_quickstart::k3s::render::unit(&bin, "/etc/systemd/system/k3s.service.env");
    let (code, stderr) = verify(&unit);
    assert_eq!((code, stderr.as_str()), (0, ""), "{unit}");
}

#[test]
fn the_checker_does_catch_a_broken_unit() {
    let (_dir, bin) = stub();
    let unit = digit_quickstart::k3s::render::unit(&bin, "/x.env").replace("Type=notify", "Type=notfy");
    let (_, stderr) = verify(&unit);
    assert!(stderr.contains("Failed to parse service type"), "{stderr}");
    let relative = digit_quickstart::k3s::render::unit("k3s", "/x.env");
    let (code, _) = verify(&relative);
    assert_ne!(code, 0, "a relative ExecStart is rejected");
}

#[test]
fn the_agent_unit_passes_systemd_analyze_verify_without_warnings() {
    let (_dir, bin) = stub();
    let unit = digit_quickstart::k3s::agent::unit(&bin);
    assert!(unit.contains(&format!("ExecStart={bin} agent\n")), "{unit}");
    let (code, stderr) = verify(&unit);
    assert_eq!((code, stderr.as_str()), (0, ""), "{unit}");
}
