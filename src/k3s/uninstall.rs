//! Removing k3s and what it leaves behind: the service, containerd shims,
//! mounts, CNI interfaces and network namespaces, iptables rules, and every
//! file this tool wrote. Whatever could not be removed is listed, so a
//! "clean" uninstall is a checked fact, not a hope (k3s #774, #5455).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{BINARY, CONFIG, REGISTRIES, SYMLINKS, UNIT, UNIT_ENV};
use crate::host::facts::OUR_UNIT_MARKER;
use crate::host::{Cmd, Fs, Runner};
use crate::layout::Layout;

/// Mount points under these are k3s's or kubelet's.
const MOUNT_ROOTS: &[&str] = &[
    "/run/k3s",
    "/var/lib/kubelet",
    "/var/lib/rancher/k3s",
    "/run/netns/cni-",
];
/// Interfaces flannel and kube-proxy create.
const LINK_PREFIXES: &[&str] = &["cni0", "flannel.", "flannel-v6.", "flannel-wg", "kube-ipvs0"];
/// iptables chains k3s, kube-proxy, flannel and the CNI plugins add.
const RULE_MARKERS: &[&str] = &["KUBE-", "CNI-", "FLANNEL", "flannel", "KUBE_"];
/// Directories k3s and kubelet own.
const STATE_DIRS: &[&str] = &[
    "/var/lib/rancher/k3s",
    "/etc/rancher/k3s",
    "/run/k3s",
    "/var/lib/kubelet",
    "/var/lib/cni",
    "/run/flannel",
    "/etc/cni/net.d/10-flannel.conflist",
];

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// What was done, one line each.
    pub done: Vec<String>,
    /// What is still there, one line each; non-empty means the uninstall is incomplete.
    pub left: Vec<String>,
}

pub struct Options<'a> {
    pub layout: &'a Layout,
    /// Also remove the image store and lock files.
    pub purge: bool,
    /// The invoking user's kubeconfig copy.
    pub user_kubeconfig: Option<PathBuf>,
}

pub fn uninstall(fs: &dyn Fs, runner: &dyn Runner, opts: &Options) -> Report {
    let mut r = Report::default();
    let run = |cmd: Cmd, r: &mut Report| match runner.run(&cmd) {
        Ok(_) => r.done.push(cmd.summary.clone()),
        Err(e) => tracing::debug!(error = %e, "uninstall step failed; the final check reports what is left"),
    };

    for (unit, service) in [(UNIT, "k3s.service"), (super::agent::UNIT, super::agent::SERVICE)] {
        if fs.exists(Path::new(unit)) {
            run(
                Cmd::new("systemctl", &format!("stop and disable {service}"))
                    .arg("disable")
                    .arg("--now")
                    .arg(service),
                &mut r,
            );
        }
    }
    for pid in shim_pids(fs) {
        run(
            Cmd::new("kill", &format!("stop containerd shim {pid}"))
                .arg("-9")
                .arg(pid.to_string()),
            &mut r,
        );
    }
    for mount in mounts(fs).into_iter().rev() {
        run(Cmd::new("umount", &format!("unmount {mount}")).arg(&mount), &mut r);
    }
    for ns in netns(fs) {
        run(
            Cmd::new("ip", &format!("delete network namespace {ns}"))
                .arg("netns")
                .arg("delete")
                .arg(&ns),
            &mut r,
        );
    }
    for link in links(fs) {
        run(
            Cmd::new("ip", &format!("delete interface {link}"))
                .arg("link")
                .arg("delete")
                .arg(&link),
            &mut r,
        );
    }
    for (save, restore) in [
        ("iptables-save", "iptables-restore"),
        ("ip6tables-save", "ip6tables-restore"),
    ] {
        if let Ok(out) = runner.output(&Cmd::new(save, "read the firewall rules")) {
            let (kept, dropped) = filter_rules(&out.stdout);
            if dropped > 0 {
                let cmd =
                    Cmd::new(restore, &format!("remove {dropped} Kubernetes firewall rules ({save})")).stdin(kept);
                run(cmd, &mut r);
            }
        }
    }

    let mut files: Vec<PathBuf> = vec![UNIT.into(), UNIT_ENV.into(), CONFIG.into()];
    files.extend(super::agent::files());
    if fs
        .read_to_string(Path::new(REGISTRIES))
        .is_ok_and(|t| t.starts_with(OUR_UNIT_MARKER))
    {
        files.push(REGISTRIES.into());
    }
    for name in SYMLINKS {
        let link = Path::new("/usr/local/bin").join(name);
        if fs.read_link(&link).is_ok_and(|t| t == Path::new(BINARY)) {
            files.push(link);
        }
    }
    files.push(BINARY.into());
    files.extend(opts.user_kubeconfig.clone());
    for f in files {
        if (fs.exists(&f) || fs.read_link(&f).is_ok()) && fs.remove_file(&f).is_ok() {
            r.done.push(format!("removed {}", f.display()));
        }
    }
    let mut dirs: Vec<PathBuf> = STATE_DIRS.iter().map(PathBuf::from).collect();
    let data = opts.layout.data_dir();
    if opts.purge {
        dirs.push(data.to_path_buf());
    } else {
        for keep_out in [
            "journal.json",
            "report.json",
            "preflight.json",
            "secrets",
            "logs",
            "cache",
        ] {
            dirs.push(data.join(keep_out));
        }
    }
    for d in dirs {
        if fs.exists(&d) {
            let removed = fs.remove_dir_all(&d).or_else(|_| fs.remove_file(&d));
            if removed.is_ok() {
                r.done.push(format!("removed {}", d.display()));
            }
        }
    }
    if fs.exists(Path::new("/run/systemd/system")) {
        run(
            Cmd::new("systemctl", "reload systemd's unit files").arg("daemon-reload"),
            &mut r,
        );
    }

    r.left = leftovers(fs, runner, opts);
    r
}

/// What is still there after an uninstall.
pub fn leftovers(fs: &dyn Fs, runner: &dyn Runner, opts: &Options) -> Vec<String> {
    let mut left = Vec::new();
    for p in [
        UNIT,
        UNIT_ENV,
        CONFIG,
        BINARY,
        super::agent::UNIT,
        super::agent::UNIT_ENV,
    ] {
        if fs.exists(Path::new(p)) {
            left.push(format!("file {p}"));
        }
    }
    for d in STATE_DIRS {
        if fs.exists(Path::new(d)) {
            left.push(format!("path {d}"));
        }
    }
    if opts.purge && fs.exists(opts.layout.data_dir()) {
        left.push(format!("path {}", opts.layout.data_dir().display()));
    }
    left.extend(mounts(fs).into_iter().map(|m| format!("mount {m}")));
    left.extend(netns(fs).into_iter().map(|n| format!("network namespace {n}")));
    left.extend(links(fs).into_iter().map(|l| format!("interface {l}")));
    left.extend(
        shim_pids(fs)
            .into_iter()
            .map(|p| format!("containerd shim process {p}")),
    );
    for save in ["iptables-save", "ip6tables-save"] {
        if let Ok(out) = runner.output(&Cmd::new(save, "read the firewall rules")) {
            let (_, dropped) = filter_rules(&out.stdout);
            if dropped > 0 {
                left.push(format!("{dropped} Kubernetes firewall rules ({save})"));
            }
        }
    }
    left
}

/// Removes every rule and chain naming Kubernetes, CNI or flannel from
/// `iptables-save` output; returns the rest and how many lines went.
pub fn filter_rules(saved: &str) -> (String, usize) {
    let mut dropped = 0;
    let kept: Vec<&str> = saved
        .lines()
        .filter(|l| {
            let ours = RULE_MARKERS.iter().any(|m| l.contains(m));
            dropped += usize::from(ours);
            !ours
        })
        .collect();
    let mut out = kept.join("\n");
    out.push('\n');
    (out, dropped)
}

fn mounts(fs: &dyn Fs) -> Vec<String> {
    let text = fs.read_to_string(Path::new("/proc/self/mounts")).unwrap_or_default();
    let mut found: Vec<String> = text
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .map(|m| m.replace("\\040", " "))
        .filter(|m| MOUNT_ROOTS.iter().any(|r| m.starts_with(r)))
        .collect();
    found.sort();
    found.dedup();
    found
}

fn netns(fs: &dyn Fs) -> Vec<String> {
    let mut names: Vec<String> = fs
        .read_dir(Path::new("/run/netns"))
        .unwrap_or_default()
        .into_iter()
        .filter(|n| n.starts_with("cni-"))
        .collect();
    names.sort();
    names
}

fn links(fs: &dyn Fs) -> Vec<String> {
    let mut names: Vec<String> = fs
        .read_dir(Path::new("/sys/class/net"))
        .unwrap_or_default()
        .into_iter()
        .filter(|n| LINK_PREFIXES.iter().any(|p| n.starts_with(p)))
        .collect();
    names.sort();
    names
}

/// containerd shims k3s started (their command line names k3s's containerd socket).
fn shim_pids(fs: &dyn Fs) -> Vec<u32> {
    let mut pids: Vec<u32> = fs
        .read_dir(Path::new("/proc"))
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| p.parse::<u32>().ok())
        .filter(|pid| {
            fs.read_to_string(Path::new(&format!("/proc/{pid}/cmdline")))
                .is_ok_and(|c| c.contains("containerd-shim") && c.contains("/run/k3s/containerd"))
        })
        .collect();
    pids.sort_unstable();
    pids
}

#[cfg(test)]
mod tests;
