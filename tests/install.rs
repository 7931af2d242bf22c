//! The whole `install`, the real binary, against the stage seams: the real
//! docker-registry (through a counting proxy) as the mirror, Debian's real
//! containerd as k3s's image store (`ctr`), a systemctl stand-in on PATH
//! that "starts k3s" by writing its kubeconfig, a real Kubernetes control
//! plane (kube-apiserver, controller-manager, scheduler, kine, KWOK) as the
//! cluster k3s would have started, local seed files and a fake DIGIT behind
//! the ingress. Only the doctor's pod-log redaction uses the fake API (KWOK
//! runs no containers, so there is no log to read).
#![allow(clippy::disallowed_methods)]

mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::Containerd;
use support::cluster::point_seeds_nowhere;
use support::world::{World, command, environment, install, journal_steps, text, world, world_with_fake_api};

#[test]
fn one_command_installs_everything_and_a_second_run_changes_nothing() {
    let w = world();
    let out = install(&w, &["--report", w.dir.path().join("copy.json").to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    // The phase list, in order, each ending with a tick.
    let order: Vec<&str> = stderr.lines().filter(|l| l.starts_with("==> ")).collect();
    assert_eq!(
        order,
        [
            "==> k3s and images (in parallel)",
            "==> import images into k3s",
            "==> deploy, seed and check DIGIT"
        ]
    );
    assert_eq!(stderr.matches("✓ ").count(), 3, "{stderr}");
    assert!(stdout.contains("DIGIT is up:"), "{stdout}");
    assert!(stdout.contains(&format!("Report    {}", w.data.join("report.json").display())));
    assert!(stdout.contains("Log       "), "{stdout}");

    // Every image reached containerd with its locked digest.
    let lock: serde_json::Value = serde_json::from_slice(&std::fs::read(w.data.join("dev.lock")).unwrap()).unwrap();
    let listed = String::from_utf8_lossy(&w.containerd.ctr(&["images", "ls"]).stdout).to_string();
    for (reference, image) in lock["images"].as_object().unwrap() {
        let digest = image["digest"].as_str().unwrap();
        assert!(
            listed
                .lines()
                .any(|l| l.starts_with(reference.as_str()) && l.contains(digest)),
            "{reference} {digest} not in:\n{listed}"
        );
    }
    assert_eq!(journal_steps(&w.data), ["deploy", "images", "import", "k3s"]);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(w.data.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["result"], "healthy");
    assert_eq!(
        report["images"].as_object().unwrap().len(),
        lock["images"].as_object().unwrap().len()
    );
    assert_eq!(report["phases"].as_array().unwrap().len(), 3);
    assert!(report["preflight"]["checks"].as_array().unwrap().len() > 10);
    assert!(
        std::fs::read(w.dir.path().join("copy.json")).unwrap() == std::fs::read(w.data.join("report.json")).unwrap()
    );
    // The debug log names commands and never a secret.
    let logs: Vec<_> = std::fs::read_dir(w.data.join("logs")).unwrap().flatten().collect();
    let log = std::fs::read_to_string(logs[0].path()).unwrap();
    let secrets = std::fs::read_to_string(w.data.join("secrets/dev.env")).unwrap();
    for line in secrets.lines().filter(|l| !l.starts_with('#')) {
        let value = line.split_once('=').unwrap().1;
        if value.len() >= 8 {
            assert!(!log.contains(value), "{line} leaked into the log");
        }
    }

    // Second run: verified, skipped, no registry traffic, nothing re-applied.
    let registry_before = w.proxy.seen.lock().unwrap().len();
    let objects_before = w.cp().versions("egov");
    let started = Instant::now();
    let out = install(&w, &[]);
    let took = started.elapsed();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    // Reported, not asserted (no timed tests): `cargo test -- --nocapture` shows it.
    #[allow(clippy::print_stderr)]
    {
        eprintln!("second install took {took:?}");
    }
    assert!(stderr.contains("skipped 4 completed steps"), "{stderr}");
    assert_eq!(
        w.proxy.seen.lock().unwrap().len(),
        registry_before,
        "no registry request on a re-run"
    );
    assert_eq!(w.cp().versions("egov"), objects_before, "no object changed");
    assert!(stdout.contains("DIGIT is up:"));
}

#[test]
fn a_failure_at_each_stage_is_resumed_by_the_next_run() {
    let w = world();
    // Import: containerd unreachable. k3s and images are done and kept.
    let out = command(&w, &[])
        .env("DIGIT_QUICKSTART_CTR", "ctr --address /nonexistent.sock")
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("✗ import images into k3s"), "{stderr}");
    assert!(stderr.contains("hint: the debug log of this run is"), "{stderr}");
    assert_eq!(journal_steps(&w.data), ["images", "k3s"]);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(w.data.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["result"], "failed");

    // Deploy: a ResourceQuota in the namespace admits only the first wave's
    // pods, so the second wave's ReplicaSets cannot create theirs.
    quota(&w);
    let registry_before = w.proxy.seen.lock().unwrap().len();
    let out = install(&w, &["--wait-timeout", "5"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("✓ import images into k3s"), "{stderr}");
    assert!(stderr.contains("is not ready after 5 s"), "{stderr}");
    assert!(
        stderr.contains("cannot create a pod: Error creating: pods "),
        "{stderr}"
    );
    assert!(
        stderr.contains("exceeded quota: small"),
        "the API server's reason: {stderr}"
    );
    assert!(
        stderr.contains("hint: a ResourceQuota in the namespace refuses the pod: raise or remove it (`kubectl describe quota -n egov`)"),
        "{stderr}"
    );
    assert_eq!(w.proxy.seen.lock().unwrap().len(), registry_before, "images were kept");
    assert_eq!(journal_steps(&w.data), ["images", "import", "k3s"]);

    // Fixed: the next run skips what holds and finishes the deploy.
    assert_eq!(w.cp().delete("/api/v1/namespaces/egov/resourcequotas/small"), 200);
    let out = install(&w, &[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains("skipped 3 completed steps"), "{stderr}");
    assert_eq!(journal_steps(&w.data), ["deploy", "images", "import", "k3s"]);
}

/// A quota that admits the first wave's four pods and the bucket Job's pod.
fn quota(w: &World) {
    let cp = w.cp();
    cp.create(
        "/api/v1/namespaces",
        &serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "egov"}}),
    );
    cp.create(
        "/api/v1/namespaces/egov/resourcequotas",
        &serde_json::json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "small"},
            "spec": {"hard": {"pods": "5"}}}),
    );
}

fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigkill_mid_pull_and_sigint_mid_deploy_leave_a_state_the_next_run_completes() {
    let w = world();
    // Slow the registry so the kill lands mid-pull.
    for _ in 0..3 {
        w.proxy.faults.lock().unwrap().push(support::Fault::TooMany {
            path_contains: "/blobs/".into(),
            retry_after: 1,
        });
    }
    let mut child = command(&w, &[]).spawn().unwrap();
    wait_for("the pull to start", Duration::from_secs(30), || {
        w.proxy
            .seen
            .lock()
            .unwrap()
            .iter()
            .any(|s| s.path.contains("/manifests/"))
    });
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!journal_steps_or_empty(&w.data).contains(&"images".to_owned()));

    // A quota holds the second wave so SIGINT lands during the deploy's wait.
    quota(&w);
    let child = command(&w, &[]).spawn().unwrap();
    let pid = child.id();
    wait_for(
        "the deploy to wait on the second wave",
        Duration::from_secs(120),
        || {
            w.cp()
                .get("/apis/apps/v1/namespaces/egov/deployments/egov-otp")
                .is_some()
        },
    );
    Command::new("kill").args(["-INT", &pid.to_string()]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted: stopped at a safe point"), "{stderr}");
    assert_eq!(journal_steps(&w.data), ["images", "import", "k3s"]);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(w.data.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["result"], "interrupted");

    assert_eq!(w.cp().delete("/api/v1/namespaces/egov/resourcequotas/small"), 200);
    let out = install(&w, &[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
}

fn journal_steps_or_empty(data: &Path) -> Vec<String> {
    if data.join("journal.json").exists() {
        journal_steps(data)
    } else {
        Vec::new()
    }
}

/// Another command in the same environment as `install`.
fn run(w: &World, args: &[&str]) -> Output {
    let mut cmd = environment(w, env!("CARGO_BIN_EXE_digit-quickstart"));
    cmd.arg("--root")
        .arg(&w.root)
        .arg("--data-dir")
        .arg(&w.data)
        .arg("--profile")
        .arg(&w.profile)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn status_reports_each_component_and_reset_redeploy_needs_no_network() {
    let w = world();
    assert_eq!(install(&w, &[]).status.code(), Some(0));

    let out = run(&w, &["status"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("ok   k3s service active, enabled"), "{stdout}");
    assert!(stdout.contains("ok   node digit-vm Ready"), "{stdout}");
    assert!(
        stdout.contains("egov-user                1/1    0         Running"),
        "{stdout}"
    );
    assert!(stdout.contains("ok   smoke login"), "{stdout}");
    assert!(stdout.contains("DIGIT is healthy"));
    let json = run(&w, &["status", "--output", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["healthy"], true);
    assert_eq!(v["components"].as_array().unwrap().len(), 22);

    // One component gone: named, and the exit code says so.
    assert_eq!(
        w.cp().delete("/apis/apps/v1/namespaces/egov/deployments/egov-user"),
        200
    );
    wait_for("egov-user to be deleted", Duration::from_secs(30), || {
        w.cp()
            .get("/apis/apps/v1/namespaces/egov/deployments/egov-user")
            .is_none()
    });
    let out = run(&w, &["status"]);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL egov-user                0/0    0         not deployed"),
        "{stdout}"
    );
    assert!(stdout.contains("DIGIT is not healthy"));
    let namespace_uid = w.cp().get("/api/v1/namespaces/egov").unwrap()["metadata"]["uid"].clone();

    // reset --redeploy with every remote source unreachable: seed files come
    // from the verified cache, images are already in containerd.
    point_seeds_nowhere(&w.profile);
    let registry_before = w.proxy.seen.lock().unwrap().len();
    let out = run(&w, &["reset", "--redeploy", "--yes"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains("namespace egov deleted"), "{stderr}");
    assert!(stdout.contains("DIGIT is up:"), "{stdout}");
    // A new namespace, with egov-user back and rolled out.
    let ns = w.cp().get("/api/v1/namespaces/egov").unwrap();
    assert_ne!(ns["metadata"]["uid"], namespace_uid);
    let d = w
        .cp()
        .get("/apis/apps/v1/namespaces/egov/deployments/egov-user")
        .unwrap();
    assert_eq!(d["status"]["availableReplicas"], 1);
    assert_eq!(w.proxy.seen.lock().unwrap().len(), registry_before);
    // Reset alone leaves the journal without the deploy.
    let out = run(&w, &["reset", "--yes"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(journal_steps(&w.data), ["images", "import", "k3s"]);
}

#[test]
fn doctor_collects_everything_with_every_secret_redacted() {
    let w = world_with_fake_api();
    assert_eq!(install(&w, &[]).status.code(), Some(0));
    let secrets = std::fs::read_to_string(w.data.join("secrets/dev.env")).unwrap();
    let values: Vec<String> = secrets
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split_once('=').unwrap().1.to_owned())
        .filter(|v| v.len() >= 8)
        .collect();
    // A pod whose log prints the database password and a token.
    let pod = std::fs::read_to_string(format!(
        "{}/tests/fixtures/k8s/diagnose/crashloop.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    w.fake().script(
        "GET /api/v1/pods",
        vec![(
            200,
            format!(r#"{{"kind":"PodList","apiVersion":"v1","metadata":{{}},"items":[{pod}]}}"#),
        )],
    );
    let db = secrets.lines().find_map(|l| l.strip_prefix("db/password=")).unwrap();
    w.fake().script(
        "GET /api/v1/namespaces/egov/pods/egov-user-7d9f8c6b5-x2k9p/log",
        vec![(
            200,
            format!("connecting with password {db}\n    token: eyJhbGciOiJSUzI1NiJ9.payload.sig\nstarted\n"),
        )],
    );
    let out_dir = w.dir.path().join("doctor");
    std::fs::create_dir_all(&out_dir).unwrap();
    let out = run(&w, &["doctor", "--dir", out_dir.to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let path = PathBuf::from(stdout.trim());
    assert!(
        path.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("digit-quickstart-doctor-")
    );
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap()));
    let mut members = HashMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry
            .path()
            .unwrap()
            .to_string_lossy()
            .split_once('/')
            .unwrap()
            .1
            .to_owned();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut entry, &mut text).unwrap();
        members.insert(name, text);
    }
    for want in [
        "host-facts.json",
        "preflight.json",
        "journal.json",
        "report.json",
        "dev.lock",
        "k3s-journal.txt",
        "containerd.log",
        "nodes.json",
        "pods.json",
        "events.json",
        "pod-logs/egov_egov-user-7d9f8c6b5-x2k9p_egov-user.log",
        "INDEX.txt",
    ] {
        assert!(members.contains_key(want), "{want} missing from {:?}", members.keys());
    }
    assert!(members.keys().any(|k| k.starts_with("logs/install-")));
    assert!(
        !members
            .keys()
            .any(|k| k.contains("secrets") || k.contains("kubeconfig") || k.contains("k3s.yaml"))
    );
    let log = &members["pod-logs/egov_egov-user-7d9f8c6b5-x2k9p_egov-user.log"];
    assert!(log.contains("connecting with password [REDACTED]"), "{log}");
    assert!(log.contains("token: [REDACTED]") && !log.contains("eyJhbGci"), "{log}");
    for (name, text) in &members {
        for v in &values {
            assert!(!text.contains(v.as_str()), "a secret value is in {name}");
        }
    }
}

/// The lines install itself prints (pull lines interleave with k3s's in a
/// parallel phase, so only the install's own lines are compared).
fn transcript(stderr: &str, w: &World) -> String {
    let keep = [
        "==> ", "✓ ", "✗ ", "applied ", "wave ", "  ok ", "  seed ", "ok  ", "profile ", "skipped ",
    ];
    let re_secs = |l: &str| {
        let mut out = String::new();
        let mut rest = l;
        // "(12.3s)" / "(4s)" -> "([T]s)"
        while let Some(i) = rest.find('(') {
            out.push_str(&rest[..=i]);
            rest = &rest[i + 1..];
            let digits = rest
                .find("s)")
                .filter(|&e| rest[..e].chars().all(|c| c.is_ascii_digit() || c == '.'));
            if let Some(e) = digits.filter(|&e| e > 0) {
                out.push_str("[T]");
                rest = &rest[e..];
            }
        }
        out.push_str(rest);
        out
    };
    let lines: Vec<String> = stderr
        .lines()
        .filter(|l| keep.iter().any(|k| l.starts_with(k)))
        .map(|l| re_secs(l).replace(&w.dir.path().display().to_string(), "[TMP]"))
        .collect();
    // Within a wave, components become ready in whatever order the real
    // control plane reports them: compare each run of "ok ... ready" sorted.
    let mut out: Vec<String> = Vec::new();
    let mut run: Vec<String> = Vec::new();
    for l in lines {
        if l.starts_with("  ok ") {
            run.push(l);
        } else {
            run.sort();
            out.append(&mut run);
            out.push(l);
        }
    }
    run.sort();
    out.append(&mut run);
    out.join("\n")
}

/// Every value replaced by its JSON type: the report's shape.
fn shape(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(a) => Value::Array(a.first().map(shape).into_iter().collect()),
        Value::String(_) => "string".into(),
        Value::Number(_) => "number".into(),
        Value::Bool(_) => "bool".into(),
        Value::Null => "null".into(),
    }
}

#[test]
fn the_transcript_json_events_and_report_schema_are_stable() {
    let w = world();
    let out = install(&w, &[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    insta::assert_snapshot!("install_transcript", transcript(&stderr, &w));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(w.data.join("report.json")).unwrap()).unwrap();
    insta::assert_json_snapshot!("report_schema", shape(&report));

    // JSON events on stdout: the phases, then one result.
    let out = install(&w, &["--output", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let phases: Vec<String> = events
        .iter()
        .filter(|e| e["event"] == "phase")
        .map(|e| {
            format!(
                "{} {} skipped={}",
                e["id"].as_str().unwrap(),
                e["state"].as_str().unwrap(),
                e["skipped"]
            )
        })
        .collect();
    insta::assert_snapshot!("install_json_phases", phases.join("\n"));
    let last = events.last().unwrap();
    assert_eq!(last["event"], "result");
    assert_eq!(last["skipped_steps"], 4);
    assert!(
        last["outcome"]["password"].is_null(),
        "the password is never serialised"
    );
}

#[test]
fn on_a_terminal_the_phase_list_and_bars_show_and_ctrl_c_leaves_the_cursor_visible() {
    use std::io::{Read, Write};
    use std::sync::{Arc, Mutex};
    let w = world();
    // Slow the registry so Ctrl-C lands while the bars are drawn.
    for _ in 0..4 {
        w.proxy.faults.lock().unwrap().push(support::Fault::TooMany {
            path_contains: "/blobs/".into(),
            retry_after: 1,
        });
    }
    let cmd = command(&w, &[]);
    let mut line = vec![env!("CARGO_BIN_EXE_digit-quickstart").to_owned()];
    line.extend(cmd.get_args().map(|a| format!("'{}'", a.to_string_lossy())));
    let mut script = environment(&w, "script");
    script.args(["-qec", &line.join(" "), "/dev/null"]);
    let mut child = script
        .env("TERM", "xterm")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut stdout = child.stdout.take().unwrap();
    let sink = seen.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    wait_for("the bars", Duration::from_secs(60), || {
        String::from_utf8_lossy(&seen.lock().unwrap()).contains("layers")
    });
    child.stdin.as_mut().unwrap().write_all(b"\x03").unwrap();
    let status = child.wait().unwrap();
    reader.join().unwrap();
    let screen = String::from_utf8_lossy(&seen.lock().unwrap()).to_string();
    assert_eq!(status.code(), Some(130), "{screen}");
    assert!(screen.contains("==> k3s and images (in parallel)"), "{screen}");
    assert!(screen.contains("eta "), "the overall bar was drawn: {screen}");
    assert!(screen.contains("interrupted: stopped at a safe point"), "{screen}");
    let hidden = screen.rfind("\x1b[?25l");
    let shown = screen.rfind("\x1b[?25h");
    assert!(hidden.is_none() || shown > hidden, "the cursor is left hidden");
}

/// A trainer's machine after one install: the k3s artifacts in the cache as
/// a connected `install` leaves them.
fn trainer() -> World {
    let w = world();
    assert_eq!(install(&w, &[]).status.code(), Some(0));
    let version = digit_quickstart::profile::parse(&std::fs::read_to_string(&w.profile).unwrap(), "p")
        .unwrap()
        .k3s
        .version;
    let cache = w.data.join("cache/k3s").join(version);
    std::fs::create_dir_all(&cache).unwrap();
    for f in ["k3s", "k3s-airgap-images-amd64.tar.zst"] {
        std::fs::copy(w.dir.path().join("media").join(f), cache.join(f)).unwrap();
    }
    w
}

/// Unpacks a bundle, lets `edit` change the members, packs it again.
fn repack(from: &Path, to: &Path, edit: impl Fn(&str, &mut Vec<u8>)) {
    let mut archive = tar::Archive::new(zstd::Decoder::new(std::fs::File::open(from).unwrap()).unwrap());
    let enc = zstd::Encoder::new(std::fs::File::create(to).unwrap(), 1).unwrap();
    let mut out = tar::Builder::new(enc);
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
        edit(&name, &mut bytes);
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        out.append_data(&mut header, &name, bytes.as_slice()).unwrap();
    }
    out.into_inner().unwrap().finish().unwrap();
}

#[test]
fn a_bundle_installs_a_fresh_machine_with_no_network_and_tampering_is_refused() {
    let t = trainer();
    // The profile the bundle carries points at nothing: any download in the
    // student's install would fail (docker.io is unreachable here as well).
    point_seeds_nowhere(&t.profile);
    let bundle = t.dir.path().join("class.tar.zst");
    let out = run(&t, &["bundle", "create", "-o", bundle.to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.starts_with(&bundle.display().to_string()), "{stdout}");
    let out = run(&t, &["bundle", "verify", bundle.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    assert!(text(&out).0.contains("members match the manifest"));

    // Any changed member is named and refused, and nothing is installed.
    let student = world();
    for (what, victim) in [
        ("a blob", "blobs/sha256/"),
        ("the lock", ".lock"),
        ("a seed file", "seed/"),
    ] {
        let bad = t.dir.path().join("bad.tar.zst");
        let hit = std::sync::atomic::AtomicBool::new(false);
        repack(&bundle, &bad, |name, bytes| {
            if name.contains(victim) && !hit.swap(true, std::sync::atomic::Ordering::SeqCst) {
                bytes.push(b'!');
            }
        });
        let out = run(&student, &["bundle", "verify", bad.to_str().unwrap()]);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(4), "{what}: {stderr}");
        assert!(stderr.contains("does not match the manifest"), "{what}: {stderr}");
        let out = command(&student, &[]).arg("--bundle").arg(&bad).output();
        let out = out.unwrap();
        assert_ne!(out.status.code(), Some(0), "{what}");
        assert!(
            !student.data.join("store/blobs").exists(),
            "{what}: nothing may be installed"
        );
        assert!(!student.data.join("bundle-staging").exists());
    }

    // A fresh machine: every remote source is unreachable; only the bundle.
    // strace records every connect() of the install and its children.
    let trace = student.dir.path().join("connect.trace");
    let mut cmd = environment(&student, "strace");
    cmd.args(["-f", "-qq", "-e", "trace=connect", "-o"])
        .arg(&trace)
        .arg(env!("CARGO_BIN_EXE_digit-quickstart"));
    let out = cmd
        .arg("--root")
        .arg(&student.root)
        .arg("--data-dir")
        .arg(&student.data)
        .args(["install", "--yes", "--bundle"])
        .arg(&bundle)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains("bundle verified"), "{stderr}");
    assert!(student.proxy.seen.lock().unwrap().is_empty(), "no registry request");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(student.data.join("report.json")).unwrap()).unwrap();
    assert!(
        report["source"].as_str().unwrap().starts_with("bundle "),
        "{}",
        report["source"]
    );
    assert_eq!(report["result"], "healthy");
    // No socket to anything but the loopback test servers (and Unix sockets).
    let calls = std::fs::read_to_string(&trace).unwrap();
    let inet: Vec<&str> = calls
        .lines()
        .filter(|l| l.contains("connect(") && l.contains("AF_INET"))
        .collect();
    assert!(!inet.is_empty(), "the trace saw the loopback servers: {calls}");
    for l in &inet {
        assert!(
            l.contains("inet_addr(\"127.0.0.1\")") || l.contains("\"::1\""),
            "a connection off the machine: {l}"
        );
    }
}

fn curl(args: &[&str]) -> Output {
    Command::new("curl")
        .args(["-sS", "--path-as-is"])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn serve_is_a_read_only_registry_that_skopeo_and_containerd_pull_from() {
    use std::io::BufRead;
    let t = trainer();
    let mut child = Command::new(env!("CARGO_BIN_EXE_digit-quickstart"))
        .arg("--data-dir")
        .arg(&t.data)
        .arg("--profile")
        .arg(&t.profile)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let addr = first.trim().rsplit("http://").next().unwrap().to_owned();
    let lock: serde_json::Value = serde_json::from_slice(&std::fs::read(t.data.join("dev.lock")).unwrap()).unwrap();
    let user = &lock["images"]["docker.io/egovio/egov-user:master-d69ce29"];

    // skopeo copies an image out of it with the digest unchanged.
    let oci = t.dir.path().join("copied");
    let out = Command::new("skopeo")
        .args(["copy", "--preserve-digests", "--src-tls-verify=false"])
        .arg(format!("docker://{addr}/egovio/egov-user:master-d69ce29"))
        .arg(format!("oci:{}:x", oci.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(oci.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"][0]["digest"], user["digest"]);

    // containerd pulls one over plain HTTP; its digest is the locked one.
    let ctr = Containerd::start();
    let r = format!("{addr}/library/redis:7.2.4");
    let out = ctr.ctr(&["images", "pull", "--plain-http", &r]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let listed = String::from_utf8_lossy(&ctr.ctr(&["images", "ls"]).stdout).to_string();
    let redis = lock["images"]["docker.io/library/redis:7.2.4"]["digest"]
        .as_str()
        .unwrap();
    assert!(
        listed.lines().any(|l| l.starts_with(&r) && l.contains(redis)),
        "{listed}"
    );

    // A range, and eight clients at once.
    let layer = user["layers"][0]["digest"].as_str().unwrap();
    let url = format!("http://{addr}/v2/egovio/egov-user/blobs/{layer}");
    let out = curl(&[
        "-r",
        "0-9",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{size_download}",
        &url,
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "206 10");
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || curl(&[&url]).stdout)
        })
        .collect();
    for h in handles {
        let body = h.join().unwrap();
        assert_eq!(support::sha256(&body), layer);
    }
    // Seed files and k3s artifacts are served by their pinned names.
    let seed = std::fs::read_dir(t.data.join("cache/seed"))
        .unwrap()
        .flatten()
        .next()
        .unwrap();
    let name = seed.file_name().to_string_lossy().into_owned();
    let out = curl(&[&format!("http://{addr}/seed/{name}")]);
    assert_eq!(out.stdout, std::fs::read(seed.path()).unwrap());

    // Read-only, and nothing outside what it knows.
    for (path, want) in [
        ("/v2/x/blobs/sha256:../../../../etc/passwd".to_owned(), "400"),
        ("/seed/../../../etc/passwd".to_owned(), "404"),
        ("/../../../../etc/passwd".to_owned(), "404"),
        ("/k3s/../secrets/dev.env".to_owned(), "404"),
    ] {
        let out = curl(&["-o", "/dev/null", "-w", "%{http_code}", &format!("http://{addr}{path}")]);
        assert_eq!(String::from_utf8_lossy(&out.stdout), want, "{path}");
    }
    let out = curl(&["-X", "PUT", "-o", "/dev/null", "-w", "%{http_code}", &url]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "405");
    child.kill().unwrap();
    let _ = child.wait();
}

#[test]
fn a_student_installs_from_the_trainers_serve_mirror_with_every_byte_verified() {
    use std::io::BufRead;
    let t = trainer();
    let mut server = Command::new(env!("CARGO_BIN_EXE_digit-quickstart"))
        .arg("--data-dir")
        .arg(&t.data)
        .arg("--profile")
        .arg(&t.profile)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let mirror = format!("http://{}", first.trim().rsplit("http://").next().unwrap());

    let student = world();
    // Its own profile's seed URLs point nowhere: --mirror must replace them.
    point_seeds_nowhere(&student.profile);
    let mut cmd = environment(&student, env!("CARGO_BIN_EXE_digit-quickstart"));
    let out = cmd
        .arg("--root")
        .arg(&student.root)
        .arg("--data-dir")
        .arg(&student.data)
        .args(["install", "--yes", "--profile"])
        .arg(&student.profile)
        .args(["--mirror", &mirror])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    server.kill().unwrap();
    let _ = server.wait();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        student.proxy.seen.lock().unwrap().is_empty(),
        "nothing from the student's own registry"
    );
    // k3s points Docker Hub at the mirror too.
    let registries = std::fs::read_to_string(student.root.join("etc/rancher/k3s/registries.yaml")).unwrap();
    assert!(registries.contains(&mirror), "{registries}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(student.data.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["source"], format!("mirror {mirror}"));
}

#[test]
fn prepare_golden_leaves_k3s_and_the_images_ready_and_installs_the_first_boot_unit() {
    let w = world();
    let out = run(
        &w,
        &[
            "--yes",
            "prepare-golden",
            "--k3s-artifacts",
            w.dir.path().join("media").to_str().unwrap(),
            "--registry-mirror",
            &format!("http://{}", w.proxy.host),
        ],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("ready to clone"), "{stdout}");
    assert!(stdout.contains("DIGIT was not deployed"), "{stdout}");
    assert_eq!(journal_steps(&w.data), ["images", "import", "k3s"]);
    assert!(w.cp().get("/api/v1/namespaces/egov").is_none(), "nothing deployed");
    for f in [
        "etc/systemd/system/digit-quickstart-firstboot.service",
        "etc/digit-quickstart/golden.json",
        "usr/local/bin/digit-quickstart",
    ] {
        assert!(w.root.join(f).exists(), "{f}");
    }
    let link = std::fs::read_link(
        w.root
            .join("etc/systemd/system/multi-user.target.wants/digit-quickstart-firstboot.service"),
    )
    .unwrap();
    assert_eq!(
        link,
        Path::new("/etc/systemd/system/digit-quickstart-firstboot.service")
    );
    let calls = std::fs::read_to_string(w.stubs.join("systemctl.log")).unwrap();
    assert!(calls.lines().last().unwrap().starts_with("stop k3s.service"), "{calls}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(w.data.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["result"], "images-ready");
}

#[test]
fn a_failure_in_the_k3s_or_pull_stage_is_resumed_by_the_next_run() {
    let w = world();
    let bad = w.dir.path().join("bad-media");
    std::fs::create_dir_all(&bad).unwrap();
    for f in ["k3s", "k3s-airgap-images-amd64.tar.zst"] {
        std::fs::copy(w.dir.path().join("media").join(f), bad.join(f)).unwrap();
    }
    std::fs::write(bad.join("k3s"), b"tampered k3s").unwrap();
    let mirror = format!("http://{}", w.proxy.host);
    let base = ["--yes", "install", "--registry-mirror", &mirror, "--k3s-artifacts"];
    let mut args: Vec<&str> = base.to_vec();
    let bad_s = bad.display().to_string();
    args.push(&bad_s);
    let out = run(&w, &args);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("does not match its pin"), "{stderr}");
    assert!(stderr.contains("✗ k3s and images"), "{stderr}");
    assert!(!w.stubs.join("active").exists(), "k3s was not started");

    // The pull: Docker Hub's quota answer with a long Retry-After stops it.
    for _ in 0..200 {
        w.proxy.faults.lock().unwrap().push(support::Fault::TooMany {
            path_contains: "/manifests/".into(),
            retry_after: 3600,
        });
    }
    let good = w.dir.path().join("media").display().to_string();
    let mut args: Vec<&str> = base.to_vec();
    args.push(&good);
    let _ = std::fs::remove_file(w.data.join("dev.lock"));
    let _ = std::fs::remove_dir_all(w.data.join("store"));
    let out = run(&w, &args);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.to_lowercase().contains("limit"), "{stderr}");
    w.proxy.faults.lock().unwrap().clear();

    let out = run(&w, &args);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(journal_steps(&w.data), ["deploy", "images", "import", "k3s"]);
}

#[test]
fn sigint_mid_pull_and_sigkill_mid_deploy_also_leave_a_state_the_next_run_completes() {
    let w = world();
    for _ in 0..3 {
        w.proxy.faults.lock().unwrap().push(support::Fault::TooMany {
            path_contains: "/blobs/".into(),
            retry_after: 1,
        });
    }
    let child = command(&w, &[]).spawn().unwrap();
    let pid = child.id();
    wait_for("the pull to start", Duration::from_secs(30), || {
        w.proxy
            .seen
            .lock()
            .unwrap()
            .iter()
            .any(|s| s.path.contains("/manifests/"))
    });
    Command::new("kill").args(["-INT", &pid.to_string()]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("✗ k3s and images"), "{stderr}");
    assert!(!journal_steps_or_empty(&w.data).contains(&"images".to_owned()));

    quota(&w);
    let mut child = command(&w, &[]).spawn().unwrap();
    wait_for(
        "the deploy to wait on the second wave",
        Duration::from_secs(120),
        || {
            w.cp()
                .get("/apis/apps/v1/namespaces/egov/deployments/egov-otp")
                .is_some()
        },
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(journal_steps(&w.data), ["images", "import", "k3s"]);

    assert_eq!(w.cp().delete("/api/v1/namespaces/egov/resourcequotas/small"), 200);
    let out = install(&w, &[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains("skipped 3 completed steps"), "{stderr}");
}

#[test]
fn drop_store_frees_the_store_after_a_checked_import_and_re_runs_need_no_pull() {
    let w = world();
    let out = install(&w, &["--drop-store"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains("image store dropped ("), "{stderr}");
    let blobs = w.data.join("store/blobs/sha256");
    assert!(!blobs.exists(), "the store's blobs are gone");
    assert!(w.data.join("store/dropped.json").exists());
    assert!(w.data.join("dev.lock").exists(), "the lock file stays");

    // A re-run: containerd still has every locked digest, nothing is pulled.
    let registry_before = w.proxy.seen.lock().unwrap().len();
    let out = install(&w, &["--drop-store"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("skipped 4 completed steps"), "{stderr}");
    assert_eq!(
        w.proxy.seen.lock().unwrap().len(),
        registry_before,
        "no registry request"
    );

    // containerd loses an image: the import says what happened and what to do.
    let gone = "docker.io/egovio/egov-otp:v2.9.2-4a60f20";
    let rm = w.containerd.ctr(&["images", "rm", gone]);
    assert!(rm.status.success(), "{}", String::from_utf8_lossy(&rm.stderr));
    let out = install(&w, &[]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "containerd lacks {gone} and the image store does not have it either"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: the image store was dropped (install --drop-store)"),
        "{stderr}"
    );
}
