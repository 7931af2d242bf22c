//! The binary as users run it: exit codes, stdout/stderr split, JSON,
#![allow(clippy::disallowed_methods)] // one test drives the binary through `script` for a real pty
//! non-terminal behaviour, and snapshots of what people read.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

const READY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/host-ready.json");

/// The binary with a hermetic environment: no colour forcing, no sudo, fixed HOME.
fn bin() -> Command {
    let mut cmd = Command::cargo_bin("digit-quickstart").unwrap();
    for var in [
        "NO_COLOR",
        "FORCE_COLOR",
        "CLICOLOR_FORCE",
        "SUDO_USER",
        "DIGIT_QUICKSTART_PROFILE",
        "DIGIT_QUICKSTART_DATA_DIR",
        "DIGIT_QUICKSTART_HOST_FACTS",
        "DIGIT_QUICKSTART_ROOT",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("HOME", "/home/evaluator").env("COLUMNS", "100");
    cmd
}

/// Writes a variant of the ready host's facts.
fn facts_with(dir: &Path, change: impl FnOnce(&mut Value)) -> PathBuf {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(READY).unwrap()).unwrap();
    change(&mut v);
    let path = dir.join("facts.json");
    std::fs::write(&path, serde_json::to_string(&v).unwrap()).unwrap();
    path
}

fn small_vm(v: &mut Value) {
    v["cpus"] = 1.into();
    v["memory"]["total"] = (4u64 << 30).into();
    v["memory"]["available"] = (3u64 << 30).into();
    v["init"]["systemd"] = false.into();
    v["init"]["pid1"] = "bash".into();
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}
fn stderr(out: &std::process::Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

#[test]
fn check_on_a_ready_host_exits_0_and_saves_json_to_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = bin()
        .env("DIGIT_QUICKSTART_HOST_FACTS", READY)
        .args(["check", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::assert_snapshot!("check_ready", stdout(&out));
    let saved: Value = serde_json::from_slice(&std::fs::read(data.join("preflight.json")).unwrap()).unwrap();
    assert_eq!(saved["result"], "pass");
    assert!(stderr(&out).contains(&format!("Results saved to {}", data.join("preflight.json").display())));
}

#[test]
fn check_on_a_small_vm_exits_1_and_names_each_failure() {
    let dir = tempfile::tempdir().unwrap();
    let facts = facts_with(dir.path(), small_vm);
    let out = bin()
        .env("DIGIT_QUICKSTART_HOST_FACTS", &facts)
        .args(["check", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("check_small_vm", stdout(&out));
}

#[test]
fn ignore_check_lets_a_named_failure_through_and_rejects_unknown_names() {
    let dir = tempfile::tempdir().unwrap();
    let facts = facts_with(dir.path(), |v| v["init"]["systemd"] = false.into());
    let run = |ignore: &str| {
        bin()
            .env("DIGIT_QUICKSTART_HOST_FACTS", &facts)
            .args(["check", "--data-dir"])
            .arg(dir.path())
            .args(["--ignore-check", ignore])
            .output()
            .unwrap()
    };
    assert_eq!(run("swap").status.code(), Some(1));
    let out = run("systemd,swap");
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("failure ignored by --ignore-check"));
    let out = run("sytemd");
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.starts_with("error: --ignore-check: unknown check `sytemd`\n"),
        "{err}"
    );
    assert!(err.contains("hint: check names: root, arch, os, systemd,"), "{err}");
}

#[test]
fn check_json_goes_to_stdout_with_one_result_per_check() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .env("DIGIT_QUICKSTART_HOST_FACTS", READY)
        .args(["check", "--output", "json", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("stdout is exactly one JSON document");
    let ids: Vec<&str> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    let profile = digit_quickstart::profile::parse(digit_quickstart::profile::EMBEDDED[0].2, "dev").unwrap();
    assert_eq!(ids, digit_quickstart::preflight::check_ids(&profile));
    assert_eq!(doc["profile"]["name"], "dev");
    assert_eq!(doc["sizing"]["fits"], true);
    assert_eq!(doc["counts"]["fail"], 0);
}

/// The one check that looks at the real machine it runs on (CI included).
#[test]
fn a_real_check_of_this_machine_produces_well_formed_results() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["check", "--output", "json", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    assert!(code == 0 || code == 1, "exit {code}: {}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["schema"], 1);
    assert_eq!(doc["result"], if code == 0 { "pass" } else { "fail" });
    let host = &doc["host"];
    assert!(host["cpus"].as_u64().unwrap() >= 1);
    assert!(host["memory"]["total"].as_u64().unwrap() > 1 << 28);
    assert!(!host["hostname"].as_str().unwrap().is_empty());
    assert_eq!(host["disks"].as_array().unwrap().len(), 2);
    assert_eq!(host["ports"].as_array().unwrap().len(), 4);
    for check in doc["checks"].as_array().unwrap() {
        let status = check["status"].as_str().unwrap();
        assert!(["pass", "info", "warn", "fail"].contains(&status), "{check}");
        assert!(!check["summary"].as_str().unwrap().is_empty());
        if status == "fail" {
            assert!(check["hint"].is_string(), "a failure carries a fix: {check}");
        }
    }
    let counts = &doc["counts"];
    let total: u64 = ["pass", "info", "warn", "fail"]
        .iter()
        .map(|k| counts[k].as_u64().unwrap())
        .sum();
    assert_eq!(total as usize, doc["checks"].as_array().unwrap().len());
    let saved: Value = serde_json::from_slice(&std::fs::read(dir.path().join("preflight.json")).unwrap()).unwrap();
    assert_eq!(saved, doc, "the saved results are what was printed");
}

#[test]
fn an_unwritable_data_dir_warns_but_still_reports() {
    let out = bin()
        .env("DIGIT_QUICKSTART_HOST_FACTS", READY)
        .args(["check", "--data-dir", "/dev/null/sub"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("warning: results not saved: could not create `/dev/null/sub`"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("Result: ready to install"));
}

#[test]
fn plan_lists_every_phase_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("never-created");
    let out = bin()
        .env("DIGIT_QUICKSTART_HOST_FACTS", READY)
        .args(["plan", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!data.exists(), "plan must not create the data dir");
    let text = stdout(&out).replace(&data.display().to_string(), "[DATA]");
    insta::assert_snapshot!("plan_ready", text);
}

#[test]
fn plan_names_a_mirror_or_a_bundle_as_the_source_and_downloads_from_the_mirror() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .env("DIGIT_QUICKSTART_HOST_FACTS", READY)
        .args(["plan", "--mirror", "http://trainer:5050", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("Source: the digit-quickstart mirror http://trainer:5050"),
        "{text}"
    );
    assert!(
        text.contains("download  http://trainer:5050/k3s/v1.36.4%2Bk3s1/k3s\n"),
        "{text}"
    );
    let out = bin()
        .env("DIGIT_QUICKSTART_HOST_FACTS", READY)
        .args(["plan", "--bundle", "/media/usb/dev.tar.zst", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        stdout(&out)
            .contains("Source: the bundle /media/usb/dev.tar.zst (every member verified before use; no network)")
    );
    let out = bin()
        .args(["plan", "--mirror", "http://a", "--bundle", "b"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a mirror and a bundle together are refused");
}

#[test]
fn plan_json_has_phases_in_install_order_and_every_image_once() {
    let out = bin()
        .env("DIGIT_QUICKSTART_HOST_FACTS", READY)
        .args(["plan", "--output", "json", "--data-dir", "/nonexistent/dq"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let phases: Vec<&str> = plan["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(phases, ["preflight", "k3s", "images", "deploy", "health", "report"]);
    let pulls: Vec<&str> = plan["phases"][2]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["step"] == "pull-image")
        .map(|s| s["reference"].as_str().unwrap())
        .collect();
    let mut unique = pulls.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), pulls.len());
    assert!(pulls.contains(&"docker.io/egovio/egov-user-db:master-d69ce29"));
    assert_eq!(plan["warnings"], serde_json::json!([]), "the dev profile pins k3s");
    assert_eq!(
        plan["phases"][1]["steps"][0]["sha256"],
        "835873f37245fc615f547a2fe2af9402a347875f13fa64a1f136de644955ea3f"
    );
}

#[test]
fn an_invalid_profile_file_exits_2_naming_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("my.yaml");
    let text = digit_quickstart::profile::EMBEDDED[0]
        .2
        .replacen("limits: {memory: 96Mi}", "limits: {memory: 96MB}", 1);
    std::fs::write(&path, &text).unwrap();
    let out = bin()
        .env("DIGIT_QUICKSTART_HOST_FACTS", READY)
        .args(["plan", "--profile"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = stderr(&out).replace(&dir.path().display().to_string(), "[DIR]");
    insta::assert_snapshot!("invalid_profile_error", err);
    let out = bin()
        .args(["check", "--output", "json", "--profile"])
        .arg(&path)
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(json["exit_code"], 2);
    let line = text.lines().position(|l| l.contains("96MB")).unwrap() + 1;
    assert!(
        json["error"].as_str().unwrap().contains(&format!("my.yaml:{line}:")),
        "{json}"
    );
    // install says so first: nothing about the host or the network before it.
    for command in [
        &["install", "--yes"][..],
        &["install", "--only", "k3s", "--yes"],
        &["check"],
    ] {
        let out = bin().args(command).arg("--profile").arg(&path).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = stderr(&out);
        assert!(err.starts_with("error: "), "{command:?}: {err}");
        assert!(!err.contains("Inspecting"), "{command:?}: {err}");
    }
}

#[test]
fn usage_errors_exit_2_and_help_documents_exit_codes() {
    assert_eq!(bin().arg("--frobnicate").output().unwrap().status.code(), Some(2));
    assert_eq!(
        bin().args(["check", "--output", "xml"]).output().unwrap().status.code(),
        Some(2)
    );
    let bare = bin().output().unwrap();
    assert_eq!(bare.status.code(), Some(2));
    assert!(stderr(&bare).contains("Usage: digit-quickstart"));
    let help = bin().arg("--help").output().unwrap();
    assert_eq!(help.status.code(), Some(0));
    insta::assert_snapshot!("help", stdout(&help));
}

#[test]
fn version_names_the_embedded_profiles_versions() {
    let out = bin().arg("--version").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        format!(
            "digit-quickstart {}\nprofile dev: DIGIT v2.9.2, k3s v1.36.4+k3s1\n",
            env!("CARGO_PKG_VERSION")
        )
    );
}

#[test]
fn without_a_terminal_there_is_no_colour_unless_asked() {
    let run = |args: &[&str], env: Option<(&str, &str)>| {
        let mut c = bin();
        c.env("DIGIT_QUICKSTART_HOST_FACTS", READY)
            .args(["check", "--data-dir", "/nonexistent/x"])
            .args(args);
        if let Some((k, v)) = env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        (stdout(&out), stderr(&out))
    };
    let (out, err) = run(&[], None);
    assert!(
        !out.contains('\u{1b}') && !err.contains('\u{1b}'),
        "no escapes when not a terminal"
    );
    // Real gathering (offline: no network probe) shows one plain progress line.
    let real = bin()
        .args(["check", "--offline", "--data-dir", "/nonexistent/x"])
        .output()
        .unwrap();
    let err = stderr(&real);
    assert!(
        err.starts_with("Inspecting the host...\n"),
        "a plain progress line, no spinner: {err:?}"
    );
    assert!(!err.contains('\r') && !err.contains('\u{1b}'));
    let (out, _) = run(&["--color", "always"], None);
    assert!(out.contains("\u{1b}["));
    let (out, _) = run(&[], Some(("FORCE_COLOR", "1")));
    assert!(out.contains("\u{1b}["));
    let (out, _) = run(&["--color", "auto"], Some(("NO_COLOR", "1")));
    assert!(!out.contains('\u{1b}'));
    let (_, err) = run(&["--quiet"], None);
    assert!(!err.contains("Inspecting"), "quiet hides progress: {err}");
}

#[test]
fn completions_are_printed_for_a_shell() {
    let out = bin().args(["completions", "bash"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(
        text.contains("complete -F _digit__quickstart") && text.contains("--ignore-check"),
        "{}",
        &text[..200.min(text.len())]
    );
}

/// On a real terminal (a pty from util-linux `script`), `auto` colours the
/// report; the same run through a pipe does not.
#[test]
fn on_a_terminal_auto_colour_is_on_and_no_color_turns_it_off() {
    let bin = env!("CARGO_BIN_EXE_digit-quickstart");
    let run = |env: &str| {
        let inner = format!("{env} DIGIT_QUICKSTART_HOST_FACTS={READY} {bin} check --data-dir /nonexistent/x");
        let out = std::process::Command::new("script")
            .args(["-qec", &inner, "/dev/null"])
            .env_remove("NO_COLOR")
            .env_remove("FORCE_COLOR")
            .env("TERM", "xterm")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
        String::from_utf8(out.stdout).unwrap()
    };
    let tty = run("");
    assert!(tty.contains("\u{1b}[32mpass"), "green pass on a terminal: {tty:?}");
    assert!(tty.contains("Host check for profile dev"));
    assert!(!run("NO_COLOR=1").contains('\u{1b}'));
}

/// `--root` reads every host file below a directory: a prepared tree makes
/// `check` see a different machine, with no fact overrides.
#[test]
fn root_makes_check_read_a_prepared_tree() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let put = |rel: &str, text: &str| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    put(
        "etc/os-release",
        "ID=ubuntu\nVERSION_ID=\"24.04\"\nPRETTY_NAME=\"Ubuntu 24.04 LTS\"\n",
    );
    put("proc/1/comm", "systemd\n");
    std::fs::create_dir_all(root.join("run/systemd/system")).unwrap();
    put("usr/local/bin/k3s", "");
    put(
        "etc/systemd/system/k3s.service",
        "# Managed by digit-quickstart: rewritten on every install.\n",
    );
    let data = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["check", "--offline", "--output", "json", "--root"])
        .arg(root)
        .arg("--data-dir")
        .arg(data.path())
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["host"]["os"]["pretty_name"], "Ubuntu 24.04 LTS");
    assert_eq!(doc["host"]["init"]["systemd"], true);
    assert_eq!(doc["host"]["existing"][0]["ours"], true, "{}", doc["host"]["existing"]);
    // The data dir is a path the user names: used as given, not re-rooted.
    assert!(data.path().join("preflight.json").exists());
    assert!(!root.join(data.path().strip_prefix("/").unwrap()).exists());
}

/// Without a terminal, uninstall never asks: it refuses, changes nothing and
/// says to pass --yes.
#[test]
fn uninstall_without_yes_and_without_a_terminal_refuses_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("etc/rancher/k3s")).unwrap();
    let out = bin().args(["uninstall", "--root"]).arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("standard input is not a terminal") && err.contains("hint: pass --yes"),
        "{err}"
    );
    assert!(dir.path().join("etc/rancher/k3s").exists());
}

mod install_k3s {
    use super::*;

    fn scratch_is_untouched(root: &Path) {
        for p in [
            "usr/local/bin/k3s",
            "etc/systemd/system/k3s.service",
            "etc/rancher/k3s/config.yaml",
        ] {
            assert!(!root.join(p).exists(), "{p} was written");
        }
    }

    #[test]
    fn failing_host_checks_stop_it_before_anything_changes() {
        let dir = tempfile::tempdir().unwrap();
        let facts = facts_with(dir.path(), |v| v["init"]["systemd"] = false.into());
        let root = dir.path().join("root");
        let out = bin()
            .env("DIGIT_QUICKSTART_HOST_FACTS", &facts)
            .args(["install", "--only", "k3s", "--yes", "--root"])
            .arg(&root)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        assert!(err.contains("error: host checks failed: systemd"), "{err}");
        scratch_is_untouched(&root);
    }

    #[test]
    fn without_yes_and_without_a_terminal_it_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let out = bin()
            .env("DIGIT_QUICKSTART_HOST_FACTS", READY)
            .args(["install", "--only", "k3s", "--root"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains("hint: pass --yes"));
        scratch_is_untouched(dir.path());
    }

    #[test]
    fn an_unpinned_k3s_is_refused_before_anything_changes() {
        let dir = tempfile::tempdir().unwrap();
        let unpinned = digit_quickstart::profile::EMBEDDED[0].2.replacen(
            "835873f37245fc615f547a2fe2af9402a347875f13fa64a1f136de644955ea3f",
            "unpinned",
            1,
        );
        let profile = dir.path().join("unpinned.yaml");
        std::fs::write(&profile, unpinned).unwrap();
        let root = dir.path().join("root");
        let out = bin()
            .env("DIGIT_QUICKSTART_HOST_FACTS", READY)
            .args(["install", "--only", "k3s", "--yes", "--profile"])
            .arg(&profile)
            .arg("--root")
            .arg(&root)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(4));
        let err = stderr(&out);
        assert!(
            err.contains("error: k3s has no pinned sha256 in the profile, and nothing unverified is installed"),
            "{err}"
        );
        assert!(err.contains("hint: pin it in the profile's k3s.artifacts"), "{err}");
        scratch_is_untouched(&root);
    }
}

#[test]
fn export_helm_writes_the_digit_devops_files_with_secrets_0600_and_the_locked_digests() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // A lock with one digest, as `pull` writes it.
    let digest = format!("sha256:{}", "c".repeat(64));
    std::fs::create_dir_all(&data).unwrap();
    let d =
        serde_json::json!({"digest": digest, "size": 1, "media_type": "application/vnd.oci.image.manifest.v1+json"});
    let lock = serde_json::json!({"schema": 1, "profile": "dev", "platform": "linux/amd64", "images": {"docker.io/egovio/egov-user:master-d69ce29": {
        "digest": digest, "media_type": "application/vnd.oci.image.manifest.v1+json", "size": 1,
        "manifest": d, "config": d, "layers": []}}});
    std::fs::write(data.join("dev.lock"), lock.to_string()).unwrap();
    let out_dir = dir.path().join("helm");
    let out = bin()
        .arg("--data-dir")
        .arg(&data)
        .args(["export", "--domain", "digit.example.org", "--helm"])
        .arg(&out_dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in [
        "digit-quickstart.yaml",
        "digit-quickstart-secrets.yaml",
        "dependancy_chart-digit-quickstart.yaml",
        "README.md",
    ] {
        assert!(out_dir.join(f).is_file(), "{f}: {stdout}");
    }
    let mode = std::fs::metadata(out_dir.join("digit-quickstart-secrets.yaml"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let env = std::fs::read_to_string(out_dir.join("digit-quickstart.yaml")).unwrap();
    let parsed: Value = serde_saphyr::from_str(&env).unwrap();
    assert_eq!(parsed["global"]["domain"], "digit.example.org");
    if stdout.contains("with each image's verified digest") {
        assert!(env.contains(&digest), "the locked digest is carried: {env}");
    } else {
        panic!("the lock was not read: {stdout}");
    }
}
