//! The individual checks. Thresholds come from the profile's `host` section.

use crate::host::facts::{self, HostFacts, PortState};
use crate::profile::Profile;
use crate::profile::quantity::human_bytes;

use super::sizing::Sizing;
use super::{CheckResult, Status};

pub(super) const FIXED_IDS: &[&str] = &[
    "root",
    "arch",
    "os",
    "systemd",
    "cpu",
    "memory",
    "disk-data",
    "disk-rancher",
    "swap",
    "memory-cgroup",
    "default-route",
    "hostname",
    "existing-kubernetes",
];
/// Checks reported after the per-port ones.
pub(super) const TRAILING_IDS: &[&str] = &[
    "registry-dns",
    "registry-https",
    "k3s-download",
    "registry-quota",
    "images",
    "k3s-support",
    "sizing",
];

pub(super) fn all(facts: &HostFacts, profile: &Profile, sizing: &Sizing) -> Vec<CheckResult> {
    let mut out = vec![
        root(facts),
        arch(facts, profile),
        os(facts, profile),
        systemd(facts),
        cpu(facts, profile),
        memory(facts, profile, sizing),
    ];
    out.extend(disks(facts, sizing));
    out.push(swap(facts));
    out.push(memory_cgroup(facts));
    out.push(default_route(facts));
    out.push(hostname(facts));
    out.push(existing(facts));
    out.extend(ports(facts, profile));
    out.extend(network(facts));
    out.push(quota(facts));
    out.push(images(facts));
    out.push(k3s_support(facts, profile));
    out.push(sizing_check(sizing));
    out
}

fn root(f: &HostFacts) -> CheckResult {
    if f.is_root {
        CheckResult::new("root", Status::Pass, "running as root")
    } else {
        CheckResult::new(
            "root",
            Status::Warn,
            "not running as root: `install` needs root, and some checks see less",
        )
        .hint("run `sudo digit-quickstart check` for the full picture")
    }
}

fn arch(f: &HostFacts, p: &Profile) -> CheckResult {
    if p.host.arch.iter().any(|a| a == &f.arch) {
        CheckResult::new("arch", Status::Pass, format!("architecture {}", f.arch))
    } else {
        CheckResult::new(
            "arch",
            Status::Fail,
            format!(
                "architecture {} is not supported: DIGIT's images exist for {} only",
                f.arch,
                p.host.arch.join(", ")
            ),
        )
        .hint(format!("use a {} VM", p.host.arch.join(" or ")))
    }
}

fn os(f: &HostFacts, p: &Profile) -> CheckResult {
    let name = if f.os.pretty_name.is_empty() {
        format!("{} {}", f.os.id, f.os.version_id)
    } else {
        f.os.pretty_name.clone()
    };
    if f.os.id.is_empty() {
        return CheckResult::new(
            "os",
            Status::Warn,
            "could not identify the distribution (/etc/os-release unreadable)",
        )
        .hint("continue at your own risk; supported distributions are listed in the README");
    }
    let supported = p.host.os.iter().any(|o| {
        o.id == f.os.id
            && o.versions
                .iter()
                .any(|v| f.os.version_id == *v || f.os.version_id.starts_with(&format!("{v}.")))
    });
    if supported {
        CheckResult::new("os", Status::Pass, format!("{name}, kernel {}", f.kernel))
    } else {
        let list: Vec<String> = p
            .host
            .os
            .iter()
            .map(|o| format!("{} {}", o.id, o.versions.join("/")))
            .collect();
        CheckResult::new("os", Status::Warn, format!("{name} is not a tested distribution")).hint(format!(
            "tested: {}; k3s runs on most modern Linux, so this may still work",
            list.join(", ")
        ))
    }
}

fn systemd(f: &HostFacts) -> CheckResult {
    if f.init.systemd {
        CheckResult::new("systemd", Status::Pass, "systemd is the init system")
    } else {
        let pid1 = if f.init.pid1.is_empty() {
            "unknown"
        } else {
            &f.init.pid1
        };
        CheckResult::new(
            "systemd",
            Status::Fail,
            format!("systemd is not running as init (PID 1 is `{pid1}`): k3s is installed as a systemd service"),
        )
        .hint("use a VM booted with systemd; on WSL2 set `systemd=true` under [boot] in /etc/wsl.conf and restart WSL")
    }
}

fn cpu(f: &HostFacts, p: &Profile) -> CheckResult {
    let want = &p.host.cpus;
    let summary = format!(
        "{} CPU cores (profile needs {}, recommends {})",
        f.cpus, want.min, want.recommended
    );
    if f.cpus < want.min {
        CheckResult::new("cpu", Status::Fail, summary).hint(format!("give the VM at least {} vCPUs", want.min))
    } else if f.cpus < want.recommended {
        CheckResult::new("cpu", Status::Warn, summary).hint(format!(
            "it will run, but first start-up is faster with {} vCPUs",
            want.recommended
        ))
    } else {
        CheckResult::new("cpu", Status::Pass, summary)
    }
}

fn memory(f: &HostFacts, p: &Profile, s: &Sizing) -> CheckResult {
    let want = &p.host.memory;
    let summary = format!(
        "{} memory, {} available (profile needs {}, recommends {})",
        human_bytes(f.memory.total),
        human_bytes(f.memory.available),
        want.min,
        want.recommended
    );
    if f.memory.total < want.min.0 {
        CheckResult::new("memory", Status::Fail, summary).hint(format!("give the VM at least {}", want.min))
    } else if f.memory.total < want.recommended.0 {
        CheckResult::new("memory", Status::Warn, summary).hint(format!(
            "below the recommended {}, JVM services may be OOM-killed under load",
            want.recommended
        ))
    } else if f.memory.available < s.memory.needed {
        CheckResult::new("memory", Status::Warn, summary).hint(format!(
            "other programs use memory: DIGIT needs {} free; stop them or expect evictions",
            human_bytes(s.memory.needed)
        ))
    } else {
        CheckResult::new("memory", Status::Pass, summary)
    }
}

fn disks(f: &HostFacts, s: &Sizing) -> Vec<CheckResult> {
    f.disks
        .iter()
        .map(|d| {
            let id = if d.role == "rancher" {
                "disk-rancher"
            } else {
                "disk-data"
            };
            if let Some(err) = &d.error {
                return CheckResult::new(
                    id,
                    Status::Fail,
                    format!("cannot measure free space at {}: {err}", d.measured.display()),
                )
                .hint("check that the path exists and is readable");
            }
            let fs = s.filesystems.iter().find(|fs| fs.roles.iter().any(|r| r == &d.role));
            let Some(fs) = fs else {
                return CheckResult::new(id, Status::Fail, format!("no space figures for {}", d.path.display()));
            };
            let shared = match fs.roles.iter().find(|r| *r != &d.role).map(String::as_str) {
                Some("rancher") => ", same filesystem as /var/lib/rancher",
                Some(_) => ", same filesystem as the data dir",
                None => "",
            };
            let measured = if s.images.measured {
                ", image sizes measured by pull"
            } else {
                ""
            };
            let summary = format!(
                "{} free at {} (for {}{shared}{measured}); install needs {} there{}",
                human_bytes(d.available),
                d.measured.display(),
                d.path.display(),
                human_bytes(fs.needed),
                if fs.headroom > 0 {
                    format!(" + {} kubelet eviction headroom", human_bytes(fs.headroom))
                } else {
                    String::new()
                }
            );
            if fs.fits {
                CheckResult::new(id, Status::Pass, summary)
            } else {
                CheckResult::new(id, Status::Fail, summary).hint(format!(
                    "free {} there or grow the disk; with too little room kubelet evicts pods (DiskPressure)",
                    human_bytes(fs.needed + fs.headroom - fs.available)
                ))
            }
        })
        .collect()
}

fn swap(f: &HostFacts) -> CheckResult {
    if f.memory.swap_total == 0 {
        CheckResult::new("swap", Status::Pass, "swap is off")
    } else {
        CheckResult::new(
            "swap",
            Status::Warn,
            format!(
                "{} of swap is on: Kubernetes memory limits ignore swap, so JVMs may slow down instead of restarting",
                human_bytes(f.memory.swap_total)
            ),
        )
        .hint("for predictable behaviour run `swapoff -a` and remove swap from /etc/fstab")
    }
}

fn memory_cgroup(f: &HostFacts) -> CheckResult {
    if f.cgroup.memory_controller {
        CheckResult::new(
            "memory-cgroup",
            Status::Pass,
            format!("memory cgroup available (cgroup {})", f.cgroup.mode),
        )
    } else {
        CheckResult::new(
            "memory-cgroup",
            Status::Fail,
            "the memory cgroup controller is not enabled: k3s will not start",
        )
        .hint("add `cgroup_enable=memory cgroup_memory=1` to the kernel command line and reboot")
    }
}

fn default_route(f: &HostFacts) -> CheckResult {
    match (f.route.ipv4_default, f.route.ipv6_default) {
        (true, _) => CheckResult::new("default-route", Status::Pass, "IPv4 default route present"),
        (false, true) => CheckResult::new("default-route", Status::Pass, "IPv6 default route present (no IPv4 one)"),
        (false, false) => CheckResult::new(
            "default-route",
            Status::Fail,
            "no default route: k3s needs one to pick its node IP, even on an offline host",
        )
        .hint("add one, e.g. `ip route add default via <gateway>`, or on an air-gapped host a dummy interface with a default route"),
    }
}

/// Kubernetes node names are RFC 1123 subdomains; kubelet lowercases the hostname.
fn hostname(f: &HostFacts) -> CheckResult {
    let h = &f.hostname;
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let valid = !h.is_empty() && h.len() <= 253 && h.split('.').all(label_ok);
    if !valid {
        CheckResult::new(
            "hostname",
            Status::Fail,
            format!("hostname `{h}` is not a valid Kubernetes node name"),
        )
        .hint("use letters, digits, `-` and `.` only, e.g. `hostnamectl set-hostname digit-vm`")
    } else if h.bytes().any(|b| b.is_ascii_uppercase()) {
        CheckResult::new(
            "hostname",
            Status::Warn,
            format!(
                "hostname `{h}` has capitals: the node registers as `{}`",
                h.to_lowercase()
            ),
        )
        .hint(format!(
            "to avoid confusion run `hostnamectl set-hostname {}`",
            h.to_lowercase()
        ))
    } else {
        CheckResult::new("hostname", Status::Pass, format!("hostname `{h}` is a valid node name"))
    }
}

fn existing(f: &HostFacts) -> CheckResult {
    if f.existing.is_empty() {
        return CheckResult::new(
            "existing-kubernetes",
            Status::Pass,
            "no other Kubernetes or container engine found",
        );
    }
    let describe = |e: &crate::host::facts::Existing| {
        let state = match e.active {
            Some(true) => ", running",
            Some(false) => ", stopped",
            None => "",
        };
        format!("{} at {}{state}", e.kind, e.path.display())
    };
    let foreign: Vec<String> = f.existing.iter().filter(|e| !e.ours).map(describe).collect();
    if foreign.is_empty() {
        return CheckResult::new(
            "existing-kubernetes",
            Status::Info,
            "k3s installed by digit-quickstart found: install will reuse and verify it",
        );
    }
    CheckResult::new("existing-kubernetes", Status::Warn, format!("found {}", foreign.join("; ")))
        .hint("another Kubernetes or Docker competes for ports, memory and iptables rules; on a fresh VM this should be empty (`k3s-uninstall.sh` removes a stock k3s)")
}

fn ports(f: &HostFacts, p: &Profile) -> Vec<CheckResult> {
    let our_k3s = f.existing.iter().any(|e| e.kind == "k3s" && e.ours);
    p.host
        .ports
        .iter()
        .map(|&port| {
            let id = format!("port-{port}");
            let state = f.ports.iter().find(|x| x.port == port).map(|x| &x.state);
            match state {
                Some(PortState::Free) => CheckResult::new(id, Status::Pass, format!("TCP port {port} is free")),
                Some(PortState::InUse { pid, process }) => {
                    let name = process.as_deref().unwrap_or("");
                    if our_k3s && name.starts_with("k3s") {
                        return CheckResult::new(id, Status::Info, format!("TCP port {port} is used by our own k3s"));
                    }
                    let who = match (pid, process) {
                        (Some(pid), Some(name)) => format!("PID {pid} ({name})"),
                        (Some(pid), None) => format!("PID {pid}"),
                        _ => "another process".to_owned(),
                    };
                    let fix = match pid {
                        Some(pid) => format!(
                            "stop it (`systemctl status {pid}` shows its service), or pass --ignore-check {}",
                            format_args!("port-{port}")
                        ),
                        None => "run `sudo ss -ltnp` to see which program, then stop it".to_owned(),
                    };
                    CheckResult::new(id, Status::Fail, format!("TCP port {port} is in use by {who}")).hint(fix)
                }
                Some(PortState::Unknown { error }) => CheckResult::new(
                    id,
                    Status::Warn,
                    format!("TCP port {port} could not be tested: {error}"),
                )
                .hint("run the check as root"),
                None => CheckResult::new(id, Status::Warn, format!("TCP port {port} was not tested")),
            }
        })
        .collect()
}

fn network(f: &HostFacts) -> Vec<CheckResult> {
    let Some(reach) = &f.network else {
        return ["registry-dns", "registry-https", "k3s-download"]
            .into_iter()
            .map(|id| CheckResult::new(id, Status::Info, "not probed (--offline)"))
            .collect();
    };
    let offline_hint = "without it online install cannot download; check DNS and proxy settings, or install from an offline bundle or a classroom mirror (`digit-quickstart bundle` / `serve`)";
    let registries: Vec<_> = reach.iter().filter(|r| r.purpose == "registry").collect();
    let dns_failed: Vec<String> = registries
        .iter()
        .filter_map(|r| r.dns.as_ref().err().map(|e| format!("{}: {e}", r.host)))
        .collect();
    let dns = if dns_failed.is_empty() {
        let hosts: Vec<&str> = registries.iter().map(|r| r.host.as_str()).collect();
        CheckResult::new("registry-dns", Status::Pass, format!("{} resolves", hosts.join(", ")))
    } else {
        CheckResult::new(
            "registry-dns",
            Status::Warn,
            format!("cannot resolve {}", dns_failed.join("; ")),
        )
        .hint(offline_hint)
    };
    let https_failed: Vec<String> = registries
        .iter()
        .filter_map(|r| match &r.http {
            Ok(code) if *code < 500 => None,
            Ok(code) => Some(format!("{} answered HTTP {code}", r.url)),
            Err(e) => Some(format!("{}: {e}", r.url)),
        })
        .collect();
    let https = if https_failed.is_empty() {
        CheckResult::new(
            "registry-https",
            Status::Pass,
            format!(
                "registry reachable over HTTPS ({})",
                registries.iter().map(|r| r.url.as_str()).collect::<Vec<_>>().join(", ")
            ),
        )
    } else {
        CheckResult::new(
            "registry-https",
            Status::Warn,
            format!("registry not reachable: {}", https_failed.join("; ")),
        )
        .hint(offline_hint)
    };
    let k3s = match reach.iter().find(|r| r.purpose == "k3s-download") {
        Some(r) => match &r.http {
            Ok(code) if *code < 500 => CheckResult::new(
                "k3s-download",
                Status::Pass,
                format!("{} reachable (HTTP {code})", r.host),
            ),
            Ok(code) => CheckResult::new("k3s-download", Status::Warn, format!("{} answered HTTP {code}", r.host))
                .hint(offline_hint),
            Err(e) => CheckResult::new("k3s-download", Status::Warn, format!("{} not reachable: {e}", r.host))
                .hint(offline_hint),
        },
        None => CheckResult::new("k3s-download", Status::Info, "no k3s download host to probe"),
    };
    vec![dns, https, k3s]
}

/// The pinned k3s minor against its upstream end of life (dates from the
/// profile): a warning from 60 days before.
fn k3s_support(f: &HostFacts, profile: &Profile) -> CheckResult {
    let id = "k3s-support";
    let version = &profile.k3s.version;
    let minor: String = version
        .trim_start_matches('v')
        .split('.')
        .take(2)
        .collect::<Vec<_>>()
        .join(".");
    let Some(s) = &profile.k3s.support else {
        return CheckResult::new(
            id,
            Status::Info,
            format!("the profile gives no support dates for k3s {version}"),
        );
    };
    let (Some(today), Some(eol), Some(maintenance)) = (
        f.today.as_deref().and_then(facts::days_from_date),
        facts::days_from_date(&s.end_of_life),
        facts::days_from_date(&s.maintenance_from),
    ) else {
        return CheckResult::new(
            id,
            Status::Info,
            "support window not checked (no date, or the profile's dates are not YYYY-MM-DD)",
        );
    };
    let left = eol - today;
    let upgrade =
        "a newer release of digit-quickstart (or profile) pins a supported k3s; `digit-quickstart upgrade` moves to it";
    if left < 0 {
        CheckResult::new(
            id,
            Status::Warn,
            format!(
                "k3s {version}: Kubernetes {minor} reached upstream end of life on {} (no more security fixes)",
                s.end_of_life
            ),
        )
        .hint(upgrade)
    } else if left <= 60 {
        CheckResult::new(
            id,
            Status::Warn,
            format!(
                "k3s {version}: Kubernetes {minor} reaches upstream end of life on {} ({left} days)",
                s.end_of_life
            ),
        )
        .hint(upgrade)
    } else {
        let phase = if today >= maintenance {
            "in maintenance"
        } else {
            "supported"
        };
        CheckResult::new(
            id,
            Status::Pass,
            format!(
                "k3s {version}: Kubernetes {minor} {phase} upstream until {} ({left} days)",
                s.end_of_life
            ),
        )
    }
}

/// Every image tag (or locked digest) exists on its registry.
fn images(f: &HostFacts) -> CheckResult {
    let id = "images";
    let Some(p) = &f.images else {
        return CheckResult::new(
            id,
            Status::Info,
            "images not checked (offline, or all already in the image store)",
        );
    };
    if !p.missing.is_empty() {
        let what = if p.by_digest { "locked digests" } else { "tags" };
        let lines: Vec<String> = p
            .missing
            .iter()
            .map(|m| format!("{} ({} {} not found)", m.image, m.what, m.wanted))
            .collect();
        return CheckResult::new(
            id,
            Status::Fail,
            format!(
                "{} of {} image {what} do not exist on {}: {}",
                p.missing.len(),
                p.checked,
                p.registry,
                lines.join("; ")
            ),
        )
        .hint(
            "pin tags that exist in a copy of the profile (`--profile FILE`); for a locked digest the registry no longer has, `digit-quickstart pull` resolves the tags again and writes a new lock, or install from a bundle that has it",
        );
    }
    if let Some(why) = &p.unreachable {
        return CheckResult::new(
            id,
            Status::Warn,
            format!(
                "could not ask {} whether the {} images exist: {why}",
                p.registry, p.checked
            ),
        )
        .hint("offline: install from a bundle or a `serve` mirror; otherwise check DNS and the proxy");
    }
    let what = if p.by_digest { "locked digest" } else { "tag" };
    CheckResult::new(
        id,
        Status::Pass,
        format!(
            "all {} images exist on {} (by {what}, manifest HEADs, no pull quota used)",
            p.checked, p.registry
        ),
    )
}

/// Docker Hub's remaining anonymous pulls against what this install needs.
fn quota(f: &HostFacts) -> CheckResult {
    let id = "registry-quota";
    let Some(q) = &f.quota else {
        return CheckResult::new(
            id,
            Status::Info,
            "Docker Hub pull quota not probed (offline, or no Docker Hub images)",
        );
    };
    let limits = match &q.limits {
        Ok(l) => l,
        Err(e) => {
            return CheckResult::new(
                id,
                Status::Info,
                format!("could not read the Docker Hub pull quota: {e}"),
            );
        }
    };
    let needed = f.pulls_needed;
    match (limits.remaining, limits.describe()) {
        (Some(remaining), Some(desc)) if remaining.count as usize >= needed => CheckResult::new(
            id,
            Status::Pass,
            format!("Docker Hub: {desc} for this address; this install needs {needed}"),
        ),
        (Some(remaining), desc) => {
            let window = limits
                .remaining
                .and_then(|w| w.seconds)
                .map(|s| format!(" within {}", crate::images::ratelimit::human_duration(s)))
                .unwrap_or_default();
            CheckResult::new(
                id,
                Status::Warn,
                format!(
                    "Docker Hub: {} for this address, but this install needs {needed}",
                    desc.unwrap_or_else(|| format!("{} pulls left", remaining.count))
                ),
            )
            .hint(format!(
                "the quota refills{window}; a classroom behind one NAT shares it: log in (`docker login`), use a mirror (`pull --registry-mirror`), or an offline bundle"
            ))
        }
        (None, _) => CheckResult::new(id, Status::Pass, "Docker Hub reports no pull limit for this address"),
    }
}

fn sizing_check(s: &Sizing) -> CheckResult {
    if !s.fits {
        CheckResult::new("sizing", Status::Fail, s.summary.clone())
            .hint("use a larger VM, or a smaller profile (`--profile FILE`)")
    } else if s.overcommitted {
        CheckResult::new(
            "sizing",
            Status::Warn,
            format!(
                "{}; but summed memory limits ({}) exceed memory, so a busy stack can be OOM-killed",
                s.summary,
                human_bytes(s.memory.needed_at_limits)
            ),
        )
        .hint("add memory for heavy use; fine for evaluation")
    } else {
        CheckResult::new("sizing", Status::Pass, s.summary.clone())
    }
}
