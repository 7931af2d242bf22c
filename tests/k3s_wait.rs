//! Readiness waits against an in-process fake Kubernetes API (no API server
//! runs on the CI machine), fed with the real-shaped objects in
//! tests/fixtures/k8s: the node goes NotReady → Ready, CoreDNS progresses to
//! available, the storage class appears; and two timeouts with diagnosis.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use digit_quickstart::k3s::wait::{Condition, WaitTimeout, k3s_conditions, wait_all};
use support::k8s::{Script, fake_api, fixture};

mod support;

fn client(url: &str) -> kube::Client {
    let config = kube::Config::new(url.parse().unwrap());
    kube::Client::try_from(config).unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

const NOT_FOUND: &str = r#"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}"#;

#[test]
fn k3s_coming_up_passes_every_named_condition_in_order_with_live_status() {
    let url = fake_api(Script::from([
        (
            "/readyz",
            vec![(500, "[-]poststarthook/rbac failed".into()), (200, "ok".into())],
        ),
        (
            "/api/v1/nodes/digit-vm",
            vec![
                (404, NOT_FOUND.into()),
                (200, fixture("node-notready.json")),
                (200, fixture("node-ready.json")),
            ],
        ),
        (
            "/apis/apps/v1/namespaces/kube-system/deployments/coredns",
            vec![
                (200, fixture("coredns-progressing.json")),
                (200, fixture("coredns-available.json")),
            ],
        ),
        (
            "/apis/storage.k8s.io/v1/storageclasses/local-path",
            vec![(404, NOT_FOUND.into()), (200, fixture("storageclass-local-path.json"))],
        ),
    ]));
    let seen = Mutex::new(Vec::new());
    let status =
        |name: &str, met: bool, what: &str, _: Duration| seen.lock().unwrap().push(format!("{name}: {met} {what}"));
    let rt = runtime();
    rt.block_on(async {
        let c = client(&url);
        wait_all(
            &c,
            &k3s_conditions("digit-vm", false),
            Duration::from_millis(10),
            &status,
        )
        .await
    })
    .unwrap();
    let seen = seen.into_inner().unwrap();
    let has = |s: &str| seen.iter().any(|l| l.contains(s));
    assert!(
        has("node digit-vm Ready: false node digit-vm not registered yet"),
        "{seen:#?}"
    );
    assert!(
        has("Ready=False (KubeletNotReady: container runtime network not ready"),
        "{seen:#?}"
    );
    assert!(has("CoreDNS available: false 0/1 replicas available"), "{seen:#?}");
    assert!(has("CoreDNS available: true 1/1 replicas available"));
    assert!(has("storage class local-path present: true present"));
    let first_met: Vec<&String> = seen.iter().filter(|l| l.contains(": true")).collect();
    assert_eq!(first_met.len(), 4, "each condition met once, in order: {first_met:?}");
    assert!(first_met[0].starts_with("API server /readyz"));
}

#[test]
fn a_node_that_never_becomes_ready_times_out_with_its_conditions_and_a_hint() {
    let url = fake_api(Script::from([
        ("/readyz", vec![(200, "ok".into())]),
        ("/api/v1/nodes/digit-vm", vec![(200, fixture("node-notready.json"))]),
    ]));
    let conditions = vec![
        (Condition::ApiReady, Duration::from_secs(5)),
        (Condition::NodeReady("digit-vm".into()), Duration::from_millis(200)),
    ];
    let err: WaitTimeout = runtime()
        .block_on(async { wait_all(&client(&url), &conditions, Duration::from_millis(20), &|_, _, _, _| {}).await })
        .unwrap_err();
    assert_eq!(err.name, "node digit-vm Ready");
    assert!(
        err.to_string()
            .starts_with("timed out after 0s waiting for node digit-vm Ready; last seen: Ready=False (KubeletNotReady"),
        "{err}"
    );
    assert!(
        err.diagnosis
            .iter()
            .any(|d| d.starts_with("node condition MemoryPressure=False")),
        "{:?}",
        err.diagnosis
    );
    assert!(err.diagnosis.iter().any(|d| d.contains("cni plugin not initialized")));
    assert!(err.hint.contains("journalctl -u k3s"));
}

#[test]
fn coredns_stuck_on_its_image_is_explained_from_pod_state_and_warning_events() {
    let url = fake_api(Script::from([
        (
            "/apis/apps/v1/namespaces/kube-system/deployments/coredns",
            vec![(200, fixture("coredns-progressing.json"))],
        ),
        (
            "/api/v1/namespaces/kube-system/pods",
            vec![(200, fixture("coredns-pods.json"))],
        ),
        (
            "/api/v1/namespaces/kube-system/events",
            vec![(200, fixture("coredns-events.json"))],
        ),
    ]));
    let conditions = vec![(Condition::coredns(), Duration::from_millis(100))];
    let err = runtime()
        .block_on(async { wait_all(&client(&url), &conditions, Duration::from_millis(20), &|_, _, _, _| {}).await })
        .unwrap_err();
    assert_eq!(err.last_seen, "0/1 replicas available");
    assert_eq!(
        err.diagnosis[0],
        "pod coredns-ff8999cc5-x7kq2: Pending, waiting: ImagePullBackOff: Back-off pulling image \"rancher/mirrored-coredns-coredns:1.12.0\""
    );
    assert!(
        err.diagnosis[1].starts_with("  event Failed: Failed to pull image"),
        "{:?}",
        err.diagnosis
    );
    assert_eq!(
        err.diagnosis.len(),
        2,
        "Normal events are left out: {:?}",
        err.diagnosis
    );
    let detail = digit_quickstart::error::Diagnostic::detail(&err).unwrap();
    assert!(detail.contains("no such host"));
}

mod lifecycle {
    //! `k3s::lifecycle::install` end to end on a scratch root: verified local
    //! artifacts, files, a simulated systemd that "starts k3s" by writing its
    //! kubeconfig (pointing at the fake API), the waits, the user's kubeconfig;
    //! then a second run that changes nothing.
    use super::*;
    use digit_quickstart::host::{Cmd, CmdError, CmdOutput, Env, Host, RealFs, Runner};
    use digit_quickstart::k3s::lifecycle::{Request, install};
    use digit_quickstart::k3s::render::K3sSettings;
    use digit_quickstart::layout::Layout;
    use std::path::Path;

    struct Systemd {
        root: std::path::PathBuf,
        api: String,
        started: Mutex<bool>,
        log: Arc<Mutex<Vec<String>>>,
    }

    impl Runner for Systemd {
        fn output_fed(&self, cmd: &Cmd, feed: digit_quickstart::host::Feed<'_>) -> Result<CmdOutput, CmdError> {
            let _ = feed(&mut std::io::sink());
            self.output(cmd)
        }

        fn output(&self, cmd: &Cmd) -> Result<CmdOutput, CmdError> {
            let argv = cmd.argv();
            self.log.lock().unwrap().push(argv.clone());
            let mut started = self.started.lock().unwrap();
            let stdout = match argv.as_str() {
                "systemctl is-active k3s.service" => {
                    if *started {
                        "active"
                    } else {
                        "inactive"
                    }
                }
                "systemctl is-enabled k3s.service" => {
                    if *started {
                        "enabled"
                    } else {
                        "disabled"
                    }
                }
                "systemctl enable --now k3s.service" => {
                    *started = true;
                    let kc = self.root.join("etc/rancher/k3s/k3s.yaml");
                    let text = format!(
                        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: {}\n  name: default\ncontexts:\n- context:\n    cluster: default\n    user: default\n  name: default\ncurrent-context: default\nusers:\n- name: default\n  user: {{}}\n",
                        self.api
                    );
                    std::fs::write(kc, text).unwrap();
                    ""
                }
                _ => "",
            };
            Ok(CmdOutput {
                code: Some(if stdout == "inactive" || stdout == "disabled" {
                    3
                } else {
                    0
                }),
                stdout: format!("{stdout}\n"),
                stderr: String::new(),
            })
        }
    }

    struct Sudo;
    impl Env for Sudo {
        fn var(&self, name: &str) -> Option<String> {
            (name == "SUDO_USER").then(|| "evaluator".to_owned())
        }
    }

    fn profile_pinned_to(binary: &[u8], airgap: &[u8]) -> digit_quickstart::profile::Profile {
        digit_quickstart::profile::parse(&support::k8s::dev_profile_pinned_to(binary, airgap), "test").unwrap()
    }

    fn scratch() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let put = |rel: &str, bytes: &[u8]| {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        };
        put(
            "etc/passwd",
            b"root:x:0:0::/root:/bin/sh\nevaluator:x:1000:1000::/home/evaluator:/bin/sh\n",
        );
        put("media/k3s", b"k3s binary");
        put("media/k3s-airgap-images-amd64.tar.zst", b"airgap images");
        std::fs::create_dir_all(dir.path().join("etc/rancher/k3s")).unwrap();
        dir
    }

    fn request<'a>(profile: &'a digit_quickstart::profile::Profile, layout: &'a Layout, media: &Path) -> Request<'a> {
        Request {
            profile,
            layout,
            arch: "amd64",
            settings: K3sSettings {
                node_name: "digit-vm".into(),
                ..K3sSettings::default()
            },
            artifacts_from: Some(media.to_path_buf()),
            http: digit_quickstart::host::net::http_client(Duration::from_secs(5)).unwrap(),
            poll: Duration::from_millis(10),
            timeout: Some(Duration::from_secs(5)),
        }
    }

    #[test]
    fn install_then_reinstall_is_a_no_op() {
        let dir = scratch();
        let log = Arc::new(Mutex::new(Vec::new()));
        let systemd = Systemd {
            root: dir.path().into(),
            api: support::k8s::k3s_up_api(),
            started: Mutex::new(false),
            log: log.clone(),
        };
        let host = Host {
            fs: Box::new(RealFs::new(dir.path())),
            cmd: Box::new(systemd),
            env: Box::new(Sudo),
            ..Host::real()
        };
        let profile = profile_pinned_to(b"k3s binary", b"airgap images");
        let layout = Layout::new("/var/lib/digit-quickstart");
        let rt = runtime();
        let first = rt
            .block_on(install(
                &host,
                &request(&profile, &layout, &dir.path().join("media")),
                &|_| {},
            ))
            .unwrap();
        assert!(!first.unchanged);
        assert_eq!(
            std::fs::read(dir.path().join("usr/local/bin/k3s")).unwrap(),
            b"k3s binary"
        );
        assert_eq!(
            first.kubeconfig,
            Path::new("/home/evaluator/.kube/digit-quickstart.yaml")
        );
        assert!(dir.path().join("home/evaluator/.kube/digit-quickstart.yaml").exists());
        let mutations = |log: &[String]| log.iter().filter(|l| !l.contains(" is-")).cloned().collect::<Vec<_>>();
        assert_eq!(
            mutations(&log.lock().unwrap()),
            vec!["systemctl daemon-reload", "systemctl enable --now k3s.service"]
        );

        log.lock().unwrap().clear();
        let second = rt
            .block_on(install(
                &host,
                &request(&profile, &layout, &dir.path().join("media")),
                &|_| {},
            ))
            .unwrap();
        assert!(second.unchanged, "{:?}", second.files);
        assert!(
            mutations(&log.lock().unwrap()).is_empty(),
            "no restart: {:?}",
            log.lock().unwrap()
        );
    }

    #[test]
    fn a_local_artifact_that_does_not_match_its_pin_installs_nothing() {
        let dir = scratch();
        let systemd = Systemd {
            root: dir.path().into(),
            api: support::k8s::k3s_up_api(),
            started: Mutex::new(false),
            log: Arc::default(),
        };
        let host = Host {
            fs: Box::new(RealFs::new(dir.path())),
            cmd: Box::new(systemd),
            env: Box::new(Sudo),
            ..Host::real()
        };
        let profile = profile_pinned_to(b"the published k3s", b"airgap images");
        let layout = Layout::new("/var/lib/digit-quickstart");
        let err = runtime()
            .block_on(install(
                &host,
                &request(&profile, &layout, &dir.path().join("media")),
                &|_| {},
            ))
            .unwrap_err();
        assert!(err.chain()[0].contains("does not match its pin"), "{:?}", err.chain());
        assert!(!dir.path().join("usr/local/bin/k3s").exists());
        assert!(!dir.path().join("etc/systemd/system/k3s.service").exists());
    }
}
