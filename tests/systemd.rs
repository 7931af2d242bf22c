//! The k3s service path under real systemd 252 as PID 1, in a Debian
//! bookworm container (debootstrap + podman; see test-peers.md §6):
//! install → active and enabled; install again → "unchanged", no restart;
//! a changed setting → exactly one restart; the next k3s patch (an
//! upgrade's k3s step) → the binary replaced, one restart; uninstall →
//! nothing left.
//! The same for an agent (`join`): active and enabled, re-join unchanged,
//! uninstall leaves nothing.
//! The `k3s` it installs is a stub that notifies systemd from its main
//! process and writes a kubeconfig pointing at the fake API on loopback.
//! Slower than the rest (about a minute the first time, for debootstrap).
#![allow(clippy::disallowed_methods)] // drives debootstrap and podman

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const STUB_K3S: &str = r##"#!/bin/sh
# Stands in for k3s: logs each start, writes its kubeconfig, and tells
# systemd it is ready from the main process (NotifyAccess=main).
# As an agent it writes the kubelet's kubeconfig instead.
if [ "$1" = agent ]; then out=/var/lib/rancher/k3s/agent/kubelet.kubeconfig; else out=/etc/rancher/k3s/k3s.yaml; fi
mkdir -p "$(dirname "$out")"
printf '%s\n' "$1" >> /var/log/stub-k3s.log
cat > "$out" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- cluster:
    server: $(cat /test/api-url)
  name: default
contexts:
- context: {cluster: default, user: default}
  name: default
current-context: default
users:
- name: default
  user: {}
KUBECONFIG
exec perl -MSocket -e 'socket(my $s, PF_UNIX, SOCK_DGRAM, 0) or die "socket: $!"; my $p = $ENV{NOTIFY_SOCKET}; $p =~ s/^@/\0/; send($s, "READY=1", 0, pack_sockaddr_un($p)) or die "send: $!"; sleep'
"##;

/// A bookworm tree with systemd, built once and kept under target/; the
/// tests of this file run in parallel, so only the first builds it.
fn rootfs() -> PathBuf {
    static TREE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    TREE.get_or_init(build_rootfs).clone()
}

fn build_rootfs() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-rootfs/bookworm-systemd");
    if dir.join("sbin/init").exists() {
        return dir;
    }
    let sources = std::fs::read_dir("/etc/apt/sources.list.d")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .chain(std::fs::read_to_string("/etc/apt/sources.list").ok())
        .collect::<Vec<_>>()
        .join("\n");
    // The machine's own Debian mirror, whichever it is.
    let mirror = sources
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(|l| l.split_whitespace())
        .find(|w| w.starts_with("http") && w.contains("debian") && !w.contains("security"))
        .expect("a Debian mirror in the apt sources")
        .to_owned();
    let partial = dir.with_extension("partial");
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&partial).unwrap();
    let out = Command::new("debootstrap")
        .args(["--variant=minbase", "--include=systemd,systemd-sysv,dbus", "bookworm"])
        .arg(&partial)
        .arg(&mirror)
        .output()
        .expect("debootstrap is required (apt-get install debootstrap; the CI script installs it)");
    assert!(
        out.status.success(),
        "debootstrap: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::rename(&partial, &dir).unwrap();
    dir
}

struct Container {
    name: String,
    work: tempfile::TempDir,
}

impl Container {
    fn podman(&self) -> Command {
        let mut c = Command::new("podman");
        c.env("CONTAINERS_CONF", self.work.path().join("containers.conf"))
            .arg("--root")
            .arg(self.work.path().join("storage"))
            .arg("--runroot")
            .arg(self.work.path().join("run"));
        c
    }

    /// systemd as PID 1 on an overlay of the cached tree (changes are discarded).
    fn start(test_dir: &Path) -> Self {
        let work = tempfile::tempdir().unwrap();
        // This machine's root lacks CAP_SYS_RESOURCE and runs hybrid cgroups (test-peers.md §7).
        std::fs::write(
            work.path().join("containers.conf"),
            "[containers]\ndefault_ulimits = [\"nofile=20000:20000\", \"nproc=4096:4096\"]\n[engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n",
        )
        .unwrap();
        let c = Self {
            name: format!("dq-systemd-{}", std::process::id()),
            work,
        };
        let out = c
            .podman()
            .args([
                "run",
                "-d",
                "--name",
                &c.name,
                "--network",
                "host",
                "--systemd=always",
                "-v",
            ])
            .arg(format!("{}:/test:ro", test_dir.display()))
            .arg("--rootfs")
            .arg(format!("{}:O", rootfs().display()))
            .arg("/sbin/init")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "podman run: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let state = c.sh("systemctl is-system-running || true");
            let state = String::from_utf8_lossy(&state.stdout).trim().to_owned();
            if state == "running" || state == "degraded" {
                break;
            }
            assert!(Instant::now() < deadline, "systemd did not come up: {state}");
            std::thread::sleep(Duration::from_millis(200));
        }
        c
    }

    fn sh(&self, script: &str) -> Output {
        self.podman()
            .args(["exec", &self.name, "sh", "-c", script])
            .output()
            .unwrap()
    }

    fn dq(&self, args: &str) -> (i32, String, String) {
        let out = self.sh(&format!(
            "DIGIT_QUICKSTART_HOST_FACTS=/test/facts.json /test/digit-quickstart --data-dir /var/lib/dq --profile /test/profile.yaml {args}"
        ));
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into(),
            String::from_utf8_lossy(&out.stderr).into(),
        )
    }

    fn starts(&self) -> usize {
        String::from_utf8_lossy(&self.sh("cat /var/log/stub-k3s.log 2>/dev/null").stdout)
            .lines()
            .count()
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = self.podman().args(["rm", "-f", "-t", "0", &self.name]).output();
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8], mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, bytes).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn profile(disable: &str) -> String {
    support::k8s::dev_profile_pinned_to(STUB_K3S.as_bytes(), b"air-gap images").replacen(
        "  overhead: {cpu: 500m, memory: 1Gi}",
        &format!("  overhead: {{cpu: 500m, memory: 1Gi}}\n  disable: [{disable}]"),
        1,
    )
}

/// The fake API's URL and the folder mounted at /test: the binary, the k3s
/// stub as verified artifacts, host facts and the profile pinned to them.
fn mounted() -> (String, tempfile::TempDir) {
    let api = support::k8s::k3s_up_api();
    let test = tempfile::tempdir().unwrap();
    let t = test.path();
    std::fs::copy(env!("CARGO_BIN_EXE_digit-quickstart"), t.join("digit-quickstart")).unwrap();
    write(t, "media/k3s", STUB_K3S.as_bytes(), 0o755);
    write(t, "media/k3s-airgap-images-amd64.tar.zst", b"air-gap images", 0o644);
    write(t, "api-url", api.as_bytes(), 0o644);
    let facts = std::fs::read(format!("{}/tests/fixtures/host-ready.json", env!("CARGO_MANIFEST_DIR"))).unwrap();
    write(t, "facts.json", &facts, 0o644);
    write(t, "profile.yaml", profile("").as_bytes(), 0o644);
    (api, test)
}

#[test]
fn install_reinstall_change_and_uninstall_under_real_systemd() {
    let (_api, test) = mounted();
    let t = test.path();
    let c = Container::start(t);

    let (code, out, err) = c.dq("install --only k3s --yes --k3s-artifacts /test/media");
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("k3s v1.36.4+k3s1 is installed and ready"), "{out}");
    assert!(
        out.contains("export KUBECONFIG=/root/.kube/digit-quickstart.yaml"),
        "{out}"
    );
    for line in [
        "created /usr/local/bin/k3s",
        "systemd: enable and start k3s",
        "ok  node digit-vm Ready",
        "ok  traefik available",
    ] {
        assert!(err.contains(line), "progress line {line:?} missing:\n{err}");
    }
    let state = String::from_utf8_lossy(&c.sh("systemctl is-active k3s; systemctl is-enabled k3s").stdout).into_owned();
    assert_eq!(state, "active\nenabled\n");
    assert_eq!(c.starts(), 1);
    let mode = String::from_utf8_lossy(
        &c.sh("stat -c %a /etc/rancher/k3s/config.yaml /usr/local/bin/k3s")
            .stdout,
    )
    .into_owned();
    assert_eq!(mode, "600\n755\n");

    let (code, out, err) = c.dq("install --only k3s --yes --k3s-artifacts /test/media");
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("k3s v1.36.4+k3s1 unchanged"), "{out}");
    let (code, out, _) = c.dq("install --only k3s --yes --output json --k3s-artifacts /test/media");
    assert_eq!(code, 0);
    let outcome: serde_json::Value = serde_json::from_str(&out).expect("one JSON document on stdout");
    assert_eq!(outcome["unchanged"], true);
    assert_eq!(outcome["service"], serde_json::json!([]));
    assert_eq!(c.starts(), 1, "an unchanged host is not restarted");

    // A changed setting rewrites the config and restarts once.
    write(t, "profile.yaml", profile("traefik").as_bytes(), 0o644);
    let (code, out, err) = c.dq("install --only k3s --yes --k3s-artifacts /test/media");
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(c.starts(), 2, "{err}");
    assert!(String::from_utf8_lossy(&c.sh("cat /etc/rancher/k3s/config.yaml").stdout).contains("- \"traefik\""));

    // The k3s step of an upgrade: the next patch (another verified binary)
    // replaces the old one and restarts the service once.
    let next = format!("{STUB_K3S}# v1.36.5+k3s1\n");
    write(t, "media2/k3s", next.as_bytes(), 0o755);
    write(
        t,
        "media2/k3s-airgap-images-amd64.tar.zst",
        b"air-gap images, next patch",
        0o644,
    );
    let bumped = support::k8s::dev_profile_pinned_to(next.as_bytes(), b"air-gap images, next patch")
        .replacen(
            "  overhead: {cpu: 500m, memory: 1Gi}",
            "  overhead: {cpu: 500m, memory: 1Gi}\n  disable: [traefik]",
            1,
        )
        .replace("version: v1.36.4+k3s1", "version: v1.36.5+k3s1");
    write(t, "profile.yaml", bumped.as_bytes(), 0o644);
    let (code, out, err) = c.dq("install --only k3s --yes --k3s-artifacts /test/media2");
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("k3s v1.36.5+k3s1"), "{out}");
    assert_eq!(c.starts(), 3, "one restart for the new binary: {err}");
    assert_eq!(c.sh("cat /usr/local/bin/k3s").stdout, next.as_bytes());
    let state = String::from_utf8_lossy(&c.sh("systemctl is-active k3s").stdout).into_owned();
    assert_eq!(state, "active\n");

    let (code, out, err) = c.dq("uninstall --yes");
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(err.contains("nothing was left behind"), "{err}");
    let gone = c.sh("systemctl is-enabled k3s; test -e /usr/local/bin/k3s || echo no-binary; test -e /etc/rancher/k3s || echo no-config");
    let text = String::from_utf8_lossy(&gone.stdout);
    assert!(text.contains("no-binary") && text.contains("no-config"), "{text}");
    assert!(!text.contains("enabled\n"), "the unit is gone: {text}");
    assert_eq!(
        String::from_utf8_lossy(&c.sh("systemctl is-active k3s || true").stdout).trim(),
        "inactive"
    );
}

#[test]
fn an_agent_joins_rejoins_unchanged_and_leaves_nothing_under_real_systemd() {
    let (api, test) = mounted();
    let t = test.path();
    let token = format!("K10{}::server:join-s3cret\n", "b".repeat(64));
    write(t, "token", token.as_bytes(), 0o600);
    let c = Container::start(t);
    // The fake API stands where the server would be (TCP reach is checked).
    let server = api.replace("http://", "https://");
    let join = format!("join --server {server} --token-file /test/token --k3s-artifacts /test/media --yes");

    let (code, out, err) = c.dq(&format!("{join} --plan"));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("/etc/rancher/k3s/agent-token (0600)"), "{out}");
    assert!(
        !c.sh("test -e /etc/systemd/system/k3s-agent.service").status.success(),
        "--plan changes nothing"
    );

    let (code, out, err) = c.dq(&join);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("node digit-vm joined") && out.contains("is Ready"),
        "{out}"
    );
    let state = String::from_utf8_lossy(
        &c.sh("systemctl is-active k3s-agent; systemctl is-enabled k3s-agent")
            .stdout,
    )
    .into_owned();
    assert_eq!(state, "active\nenabled\n");
    assert_eq!(
        String::from_utf8_lossy(&c.sh("cat /var/log/stub-k3s.log").stdout),
        "agent\n"
    );
    let verify = c.sh("systemd-analyze verify /etc/systemd/system/k3s-agent.service");
    assert!(
        verify.status.success() && verify.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    let modes = String::from_utf8_lossy(
        &c.sh("stat -c %a /etc/rancher/k3s/agent-token /etc/rancher/k3s/config.yaml")
            .stdout,
    )
    .into_owned();
    assert_eq!(modes, "600\n600\n");
    let config = String::from_utf8_lossy(&c.sh("cat /etc/rancher/k3s/config.yaml").stdout).into_owned();
    assert!(config.contains(&server) && !config.contains("join-s3cret"), "{config}");
    let unit = String::from_utf8_lossy(&c.sh("cat /etc/systemd/system/k3s-agent.service").stdout).into_owned();
    assert!(unit.contains("ExecStart=/usr/local/bin/k3s agent\n"), "{unit}");

    let (code, out, err) = c.dq(&join);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("unchanged"), "{out}");
    assert_eq!(c.starts(), 1, "a re-join restarts nothing");

    // The fake server cannot drain: the agent says what to run there and
    // still removes itself completely.
    let (code, out, err) = c.dq("uninstall --yes --timeout 5");
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(err.contains("kubectl delete node digit-vm"), "{err}");
    assert!(err.contains("nothing was left behind"), "{err}");
    let gone = c.sh("systemctl is-enabled k3s-agent; test -e /usr/local/bin/k3s || echo no-binary; test -e /etc/rancher/k3s || echo no-config; test -e /etc/systemd/system/k3s-agent.service || echo no-unit");
    let text = String::from_utf8_lossy(&gone.stdout);
    assert!(
        text.contains("no-binary") && text.contains("no-config") && text.contains("no-unit"),
        "{text}"
    );
    assert_eq!(
        String::from_utf8_lossy(&c.sh("systemctl is-active k3s-agent || true").stdout).trim(),
        "inactive"
    );
}
