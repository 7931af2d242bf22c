//! Uninstall on a simulated host: a scratch tree holding what a running k3s
//! leaves (files, mounts, a shim process, CNI links and namespaces,
//! iptables rules), and a Runner that applies each command's effect to it.

use std::sync::Mutex;

use super::*;
use crate::host::{CmdError, CmdOutput, RealFs};
use crate::k3s::install::{Inputs, place_files};
use crate::k3s::render::K3sSettings;

const RULES: &str = "*filter\n:INPUT ACCEPT [0:0]\n:KUBE-FIREWALL - [0:0]\n:FLANNEL-FWD - [0:0]\n-A INPUT -j KUBE-FIREWALL\n-A FORWARD -s 10.42.0.0/16 -m comment --comment \"flanneld forward\" -j ACCEPT\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n";
const MOUNTS: &str = "/dev/vda1 / ext4 rw 0 0\n\
tmpfs /run/k3s/containerd/io.containerd.grpc.v1.cri/sandboxes/abc/shm tmpfs rw 0 0\n\
overlay /run/k3s/containerd/io.containerd.runtime.v2.task/k8s.io/abc/rootfs overlay rw 0 0\n\
tmpfs /var/lib/kubelet/pods/123/volumes/kubernetes.io~projected/kube-api-access-x tmpfs rw 0 0\n\
nsfs /run/netns/cni-1234 nsfs rw 0 0\n\
tmpfs /run/user/0 tmpfs rw 0 0\n";

struct Host {
    dir: tempfile::TempDir,
    fs: RealFs,
}

impl Host {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let fs = RealFs::new(dir.path());
        let h = Self { dir, fs };
        h.put("/cache/k3s", "k3s");
        h.put("/cache/airgap", "images");
        let settings = K3sSettings {
            node_name: "digit-vm".into(),
            ..K3sSettings::default()
        };
        place_files(
            &h.fs,
            &Inputs {
                binary: Path::new("/cache/k3s"),
                airgap: Path::new("/cache/airgap"),
                airgap_name: "a.tar.zst",
                settings: &settings,
            },
        )
        .unwrap();
        h.put("/usr/bin/crictl.keep", "");
        h.put("/etc/rancher/k3s/k3s.yaml", "kubeconfig");
        h.put("/var/lib/rancher/k3s/server/db/state.db", "db");
        h.put("/var/lib/kubelet/pods/123/x", "");
        h.put("/var/lib/cni/networks/cbr0/10.42.0.2", "");
        h.put("/proc/self/mounts", MOUNTS);
        h.put("/proc/4242/cmdline", "/var/lib/rancher/k3s/data/current/bin/containerd-shim-runc-v2\0-namespace\0k8s.io\0-address\0/run/k3s/containerd/containerd.sock\0");
        h.put("/proc/77/cmdline", "/usr/sbin/sshd\0-D\0");
        h.put("/run/netns/cni-1234", "");
        for link in ["cni0", "flannel.1", "eth0", "lo"] {
            std::fs::create_dir_all(h.real(&format!("/sys/class/net/{link}"))).unwrap();
        }
        h.put("/fw/iptables", RULES);
        h.put("/fw/ip6tables", "*filter\nCOMMIT\n");
        h.put("/var/lib/digit-quickstart/store/blobs/sha256/aa", "blob");
        h.put("/var/lib/digit-quickstart/journal.json", "{}");
        h.put("/home/evaluator/.kube/digit-quickstart.yaml", "kubeconfig");
        std::fs::create_dir_all(h.real("/run/systemd/system")).unwrap();
        h
    }

    fn real(&self, p: &str) -> PathBuf {
        self.dir.path().join(p.trim_start_matches('/'))
    }

    fn put(&self, p: &str, text: &str) {
        let r = self.real(p);
        std::fs::create_dir_all(r.parent().unwrap()).unwrap();
        std::fs::write(r, text).unwrap();
    }
}

/// Applies each command to the scratch tree; `refuse` makes matching commands fail.
struct Sim<'a> {
    host: &'a Host,
    log: Mutex<Vec<String>>,
    refuse: Option<&'static str>,
}

impl Runner for Sim<'_> {
    fn output_fed(&self, cmd: &Cmd, feed: crate::host::Feed<'_>) -> Result<CmdOutput, CmdError> {
        let _ = feed(&mut std::io::sink());
        self.output(cmd)
    }

    fn output(&self, cmd: &Cmd) -> Result<CmdOutput, CmdError> {
        let argv = cmd.argv();
        self.log.lock().unwrap().push(argv.clone());
        let ok = |stdout: String| {
            Ok(CmdOutput {
                code: Some(0),
                stdout,
                stderr: String::new(),
            })
        };
        if self.refuse.is_some_and(|r| argv.contains(r)) {
            return Ok(CmdOutput {
                code: Some(32),
                stdout: String::new(),
                stderr: "target is busy".into(),
            });
        }
        let h = self.host;
        let a: Vec<&str> = cmd.args.iter().map(String::as_str).collect();
        match (cmd.program.as_str(), a.as_slice()) {
            ("umount", [target]) => {
                let mounts = std::fs::read_to_string(h.real("/proc/self/mounts")).unwrap();
                let kept: String = mounts
                    .lines()
                    .filter(|l| l.split_whitespace().nth(1) != Some(target))
                    .map(|l| format!("{l}\n"))
                    .collect();
                std::fs::write(h.real("/proc/self/mounts"), kept).unwrap();
            }
            ("ip", ["netns", "delete", name]) => std::fs::remove_file(h.real(&format!("/run/netns/{name}"))).unwrap(),
            ("ip", ["link", "delete", name]) => std::fs::remove_dir(h.real(&format!("/sys/class/net/{name}"))).unwrap(),
            ("kill", ["-9", pid]) => std::fs::remove_dir_all(h.real(&format!("/proc/{pid}"))).unwrap(),
            ("iptables-save", []) => return ok(std::fs::read_to_string(h.real("/fw/iptables")).unwrap()),
            ("ip6tables-save", []) => return ok(std::fs::read_to_string(h.real("/fw/ip6tables")).unwrap()),
            ("iptables-restore", []) => std::fs::write(h.real("/fw/iptables"), cmd.stdin.clone().unwrap()).unwrap(),
            ("systemctl", _) => {}
            other => panic!("unexpected command {other:?}"),
        }
        ok(String::new())
    }
}

fn options(layout: &Layout, purge: bool) -> Options<'_> {
    Options {
        layout,
        purge,
        user_kubeconfig: Some("/home/evaluator/.kube/digit-quickstart.yaml".into()),
    }
}

#[test]
fn everything_k3s_left_is_removed_and_nothing_else() {
    let h = Host::new();
    let sim = Sim {
        host: &h,
        log: Mutex::default(),
        refuse: None,
    };
    let layout = Layout::new("/var/lib/digit-quickstart");
    let report = uninstall(&h.fs, &sim, &options(&layout, false));
    assert!(report.left.is_empty(), "{:#?}", report.left);
    let log = sim.log.lock().unwrap().clone();
    assert_eq!(log[0], "systemctl disable --now k3s.service", "the service stops first");
    assert!(
        log.contains(&"kill -9 4242".to_owned()) && !log.iter().any(|l| l.contains(" 77")),
        "only k3s's shim"
    );
    let umounts: Vec<&String> = log.iter().filter(|l| l.starts_with("umount")).collect();
    assert_eq!(umounts.len(), 4, "{umounts:?}");
    assert!(
        umounts[0].contains("/var/lib/kubelet/pods"),
        "deepest paths go first: {umounts:?}"
    );
    for gone in [
        BINARY,
        CONFIG,
        UNIT,
        UNIT_ENV,
        "/usr/local/bin/kubectl",
        "/etc/rancher/k3s",
        "/var/lib/rancher/k3s",
        "/var/lib/kubelet",
        "/var/lib/cni",
        "/home/evaluator/.kube/digit-quickstart.yaml",
        "/var/lib/digit-quickstart/journal.json",
    ] {
        assert!(
            !h.real(gone).exists() && h.real(gone).symlink_metadata().is_err(),
            "{gone} is still there"
        );
    }
    for kept in [
        "/var/lib/digit-quickstart/store/blobs/sha256/aa",
        "/usr/bin/crictl.keep",
        "/sys/class/net/eth0",
        "/proc/77/cmdline",
    ] {
        assert!(h.real(kept).exists(), "{kept} must be kept");
    }
    let rules = std::fs::read_to_string(h.real("/fw/iptables")).unwrap();
    assert_eq!(
        rules,
        "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n"
    );
    assert!(
        std::fs::read_to_string(h.real("/proc/self/mounts"))
            .unwrap()
            .contains("/run/user/0"),
        "other mounts stay"
    );
    assert!(
        !log.iter().any(|l| l.starts_with("ip6tables-restore")),
        "nothing to remove there, nothing rewritten"
    );
}

#[test]
fn purge_also_removes_the_image_store() {
    let h = Host::new();
    let sim = Sim {
        host: &h,
        log: Mutex::default(),
        refuse: None,
    };
    let layout = Layout::new("/var/lib/digit-quickstart");
    let report = uninstall(&h.fs, &sim, &options(&layout, true));
    assert!(report.left.is_empty(), "{:#?}", report.left);
    assert!(!h.real("/var/lib/digit-quickstart").exists());
}

#[test]
fn what_could_not_be_removed_is_listed() {
    let h = Host::new();
    let sim = Sim {
        host: &h,
        log: Mutex::default(),
        refuse: Some("umount /var/lib/kubelet/pods"),
    };
    let layout = Layout::new("/var/lib/digit-quickstart");
    let report = uninstall(&h.fs, &sim, &options(&layout, false));
    assert_eq!(
        report.left,
        vec!["mount /var/lib/kubelet/pods/123/volumes/kubernetes.io~projected/kube-api-access-x".to_owned()]
    );
    assert!(
        report
            .done
            .iter()
            .any(|d| d == "unmount /run/k3s/containerd/io.containerd.grpc.v1.cri/sandboxes/abc/shm")
    );
}

#[test]
fn only_kubernetes_rules_are_filtered() {
    let (kept, dropped) = filter_rules(RULES);
    assert_eq!(dropped, 4);
    assert!(!kept.contains("KUBE-") && !kept.contains("flannel") && kept.contains("--dport 22"));
    assert_eq!(filter_rules("*nat\nCOMMIT\n").1, 0);
}
