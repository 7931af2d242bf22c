//! Placement on a scratch root with the real filesystem; systemd decisions
//! as a table; systemctl calls recorded.

use std::os::unix::fs::MetadataExt;
use std::sync::Mutex;

use super::*;
use crate::host::{CmdOutput, RealFs};
use crate::images::auth::Credentials;

struct Scratch {
    dir: tempfile::TempDir,
    fs: RealFs,
    settings: K3sSettings,
}

impl Scratch {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("cache")).unwrap();
        std::fs::write(dir.path().join("cache/k3s"), b"k3s binary v1").unwrap();
        std::fs::write(dir.path().join("cache/airgap.tar.zst"), b"images").unwrap();
        let fs = RealFs::new(dir.path());
        let settings = K3sSettings {
            node_name: "digit-vm".into(),
            disable: vec!["traefik".into()],
            ..K3sSettings::default()
        };
        Self { dir, fs, settings }
    }

    fn place(&self) -> Vec<FileChange> {
        let inputs = Inputs {
            binary: Path::new("/cache/k3s"),
            airgap: Path::new("/cache/airgap.tar.zst"),
            airgap_name: "k3s-airgap-images-amd64.tar.zst",
            settings: &self.settings,
        };
        place_files(&self.fs, &inputs).unwrap()
    }

    fn real(&self, path: &str) -> PathBuf {
        self.dir.path().join(path.trim_start_matches('/'))
    }

    fn mode(&self, path: &str) -> u32 {
        std::fs::metadata(self.real(path)).unwrap().mode() & 0o7777
    }
}

fn actions(changes: &[FileChange]) -> Vec<(String, Action)> {
    changes
        .iter()
        .map(|c| (c.path.display().to_string(), c.action.clone()))
        .collect()
}

#[test]
fn a_first_install_writes_every_file_with_its_mode() {
    let s = Scratch::new();
    let changes = s.place();
    assert!(
        changes.iter().all(|c| c.action == Action::Created),
        "{:#?}",
        actions(&changes)
    );
    assert_eq!(std::fs::read(s.real(BINARY)).unwrap(), b"k3s binary v1");
    assert_eq!(s.mode(BINARY), 0o755);
    assert_eq!(s.mode(CONFIG), 0o600);
    assert_eq!(s.mode(UNIT_ENV), 0o600);
    assert_eq!(s.mode(UNIT), 0o644);
    assert_eq!(
        s.mode("/var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar.zst"),
        0o644
    );
    assert_eq!(
        std::fs::read_link(s.real("/usr/local/bin/kubectl")).unwrap(),
        Path::new(BINARY)
    );
    assert!(
        !s.real(REGISTRIES).exists(),
        "no registries.yaml without a mirror or credentials"
    );
    assert!(
        std::fs::read_to_string(s.real(CONFIG))
            .unwrap()
            .contains("node-name: \"digit-vm\"")
    );
}

#[test]
fn a_second_run_changes_nothing_and_a_changed_setting_rewrites_only_its_file() {
    let mut s = Scratch::new();
    s.place();
    let mtime = |p: &str| std::fs::metadata(s.real(p)).unwrap().mtime_nsec();
    let before: Vec<i64> = [BINARY, CONFIG, UNIT, UNIT_ENV].iter().map(|p| mtime(p)).collect();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let again = s.place();
    assert!(
        again.iter().all(|c| c.action == Action::Unchanged),
        "{:#?}",
        actions(&again)
    );
    let after: Vec<i64> = [BINARY, CONFIG, UNIT, UNIT_ENV].iter().map(|p| mtime(p)).collect();
    assert_eq!(before, after, "no file was touched");
    assert_eq!(
        service_steps(&again, true, true),
        vec![],
        "k3s unchanged: nothing to do"
    );

    s.settings.node_name = "other".into();
    let changed = s.place();
    let touched: Vec<_> = changed.iter().filter(|c| c.changed()).map(|c| c.path.clone()).collect();
    assert_eq!(touched, vec![PathBuf::from(CONFIG)]);
    assert_eq!(service_steps(&changed, true, true), vec![ServiceStep::Restart]);
}

#[test]
fn a_new_binary_or_a_loosened_mode_is_repaired() {
    let s = Scratch::new();
    s.place();
    std::fs::write(s.real("/cache/k3s"), b"k3s binary v2").unwrap();
    std::fs::set_permissions(s.real(CONFIG), std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let changed = s.place();
    let touched: Vec<_> = changed
        .iter()
        .filter(|c| c.changed())
        .map(|c| (c.path.clone(), c.action.clone()))
        .collect();
    assert_eq!(
        touched,
        vec![
            (PathBuf::from(BINARY), Action::Updated),
            (PathBuf::from(CONFIG), Action::Updated)
        ]
    );
    assert_eq!(s.mode(CONFIG), 0o600);
    assert_eq!(std::fs::read(s.real(BINARY)).unwrap(), b"k3s binary v2");
}

#[test]
fn an_existing_kubectl_is_left_alone() {
    let s = Scratch::new();
    std::fs::create_dir_all(s.real("/usr/bin")).unwrap();
    std::fs::write(s.real("/usr/bin/kubectl"), b"someone else's").unwrap();
    let changes = s.place();
    let kubectl = changes
        .iter()
        .find(|c| c.path == Path::new("/usr/local/bin/kubectl"))
        .unwrap();
    assert_eq!(
        kubectl.action,
        Action::Skipped("/usr/bin/kubectl already exists; k3s's is `k3s kubectl`".into())
    );
    assert!(!s.real("/usr/local/bin/kubectl").exists());
    assert!(s.real("/usr/local/bin/crictl").is_symlink());
}

#[test]
fn registries_yaml_appears_with_credentials_and_goes_when_they_go() {
    let mut s = Scratch::new();
    s.settings.docker_hub = Some(Credentials {
        username: "u".into(),
        password: "p".into(),
    });
    s.place();
    assert_eq!(s.mode(REGISTRIES), 0o600);
    assert!(
        std::fs::read_to_string(s.real(REGISTRIES))
            .unwrap()
            .contains("\"registry-1.docker.io\"")
    );
    s.settings.docker_hub = None;
    let changes = s.place();
    assert!(changes.contains(&FileChange {
        path: REGISTRIES.into(),
        action: Action::Removed
    }));
    assert!(!s.real(REGISTRIES).exists());
    // Someone else's registries.yaml is never removed.
    std::fs::write(s.real(REGISTRIES), "mirrors: {}\n").unwrap();
    s.place();
    assert!(s.real(REGISTRIES).exists());
}

#[test]
fn systemd_does_only_what_the_changes_need() {
    let change = |path: &str| FileChange {
        path: path.into(),
        action: Action::Updated,
    };
    let same = |path: &str| FileChange {
        path: path.into(),
        action: Action::Unchanged,
    };
    use ServiceStep::*;
    let cases: Vec<(Vec<FileChange>, bool, bool, Vec<ServiceStep>)> = vec![
        (vec![same(UNIT), same(CONFIG)], true, true, vec![]),
        (vec![same(UNIT), same(CONFIG)], false, true, vec![EnableNow]),
        (
            vec![change(UNIT), change(CONFIG)],
            false,
            false,
            vec![DaemonReload, EnableNow],
        ),
        (vec![change(UNIT_ENV)], true, true, vec![DaemonReload, Restart]),
        (vec![change(CONFIG)], true, false, vec![EnableNow, Restart]),
        (vec![change(BINARY)], true, true, vec![Restart]),
    ];
    for (changes, active, enabled, want) in cases {
        assert_eq!(
            service_steps(&changes, active, enabled),
            want,
            "{changes:?} active={active} enabled={enabled}"
        );
    }
}

#[derive(Default)]
struct Recorder(Mutex<Vec<String>>, Option<&'static str>);
impl Runner for Recorder {
    fn output_fed(&self, cmd: &Cmd, feed: crate::host::Feed<'_>) -> Result<CmdOutput, CmdError> {
        let _ = feed(&mut std::io::sink());
        self.output(cmd)
    }

    fn output(&self, cmd: &Cmd) -> Result<CmdOutput, CmdError> {
        self.0.lock().unwrap().push(cmd.argv());
        let fail = self.1.is_some_and(|f| cmd.argv().contains(f));
        Ok(CmdOutput {
            code: Some(if fail { 1 } else { 0 }),
            stdout: if cmd.args.first().is_some_and(|a| a == "is-active") {
                "active\n".into()
            } else {
                "enabled\n".into()
            },
            stderr: if fail {
                "Job for k3s.service failed.\n".into()
            } else {
                String::new()
            },
        })
    }
}

#[test]
fn service_steps_become_systemctl_calls_and_a_failure_names_its_purpose() {
    let rec = Recorder::default();
    run_service_steps(
        &rec,
        &[ServiceStep::DaemonReload, ServiceStep::EnableNow, ServiceStep::Restart],
    )
    .unwrap();
    assert_eq!(
        *rec.0.lock().unwrap(),
        vec![
            "systemctl daemon-reload",
            "systemctl enable --now k3s.service",
            "systemctl restart k3s.service"
        ]
    );
    assert_eq!(service_state(&rec), (true, true));
    let failing = Recorder(Mutex::default(), Some("restart"));
    let err = run_service_steps(&failing, &[ServiceStep::Restart]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "could not restart k3s with the new settings: `systemctl restart k3s.service` exited with status 1: Job for k3s.service failed."
    );
}
