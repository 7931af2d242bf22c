//! Host facts: everything preflight judges, gathered once through the host
//! seams into plain data. Checks are pure functions of these facts, so tests
//! feed facts directly and the real gathering is tested on fixture trees.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use procfs_core::net::{RouteEntries, TcpNetEntries, TcpState};
use procfs_core::{CpuInfo, ExplicitSystemInfo, FromRead, FromReadSI, Meminfo};
use serde::{Deserialize, Serialize};

use super::{BindOutcome, Cmd, Endpoint, Host};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HostFacts {
    pub hostname: String,
    pub kernel: String,
    /// Debian-style name (`amd64`, `arm64`), or the raw `uname -m` if unknown.
    pub arch: String,
    pub os: OsRelease,
    pub cpus: u32,
    pub memory: Memory,
    pub is_root: bool,
    pub init: Init,
    pub cgroup: Cgroup,
    pub route: Routes,
    pub disks: Vec<Disk>,
    pub ports: Vec<Port>,
    pub existing: Vec<Existing>,
    /// None when the network probe was skipped.
    pub network: Option<Vec<Reachability>>,
    /// Docker Hub's pull quota for this address (None when not probed).
    #[serde(default)]
    pub quota: Option<Quota>,
    /// Docker Hub manifests the install still has to fetch (not in the store).
    #[serde(default)]
    pub pulls_needed: usize,
    /// Image bytes measured by an earlier pull (lock file and store).
    #[serde(default)]
    pub measured_images: Option<MeasuredImages>,
    /// Whether each image exists on its registry (None when not probed).
    #[serde(default)]
    pub images: Option<crate::images::probe::ImagesProbe>,
    /// The host's date (`YYYY-MM-DD`, UTC), for support windows.
    #[serde(default)]
    pub today: Option<String>,
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date (proleptic Gregorian).
pub fn days_from_date(date: &str) -> Option<i64> {
    let mut parts = date.split('-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// `YYYY-MM-DD` (UTC) of a point in time.
pub fn date_of(t: std::time::SystemTime) -> String {
    let days = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as i64;
    let (y, m, d) = crate::logging::civil(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The profile's images as the lock file records them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasuredImages {
    /// Compressed bytes of every distinct blob.
    pub compressed: u64,
    /// Of those, bytes not in the image store yet.
    pub missing: u64,
    /// Layers' size once unpacked (from each gzip layer's own trailer;
    /// None when a layer is not in the store yet).
    #[serde(default)]
    pub unpacked: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quota {
    pub url: String,
    pub limits: Result<crate::images::ratelimit::Limits, String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsRelease {
    pub id: String,
    pub version_id: String,
    pub pretty_name: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Memory {
    pub total: u64,
    pub available: u64,
    pub swap_total: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Init {
    /// `/run/systemd/system` exists: systemd is the running init.
    pub systemd: bool,
    /// Name of PID 1 (from /proc/1/comm).
    pub pid1: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cgroup {
    /// `v2`, `v1` or `hybrid`.
    pub mode: String,
    pub memory_controller: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routes {
    pub ipv4_default: bool,
    pub ipv6_default: bool,
}

/// Free space where the installer will write.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disk {
    /// What it is for: `data-dir` or `rancher`.
    pub role: String,
    pub path: PathBuf,
    /// The first existing ancestor that was measured.
    pub measured: PathBuf,
    pub total: u64,
    pub available: u64,
    pub device: u64,
    /// Set when the path could not be measured.
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Port {
    pub port: u16,
    pub state: PortState,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum PortState {
    Free,
    /// A listener exists; the owner is known when /proc allowed looking.
    InUse {
        pid: Option<u32>,
        process: Option<String>,
    },
    /// Could not be tested (e.g. not root for a port below 1024).
    Unknown {
        error: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Existing {
    /// `k3s`, `docker`, `kubelet`, `microk8s`, `k0s`, `rke2`.
    pub kind: String,
    pub path: PathBuf,
    /// Installed by digit-quickstart (its unit carries our marker).
    pub ours: bool,
    /// systemd says the service is active (None when not asked).
    pub active: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reachability {
    /// `registry` or `k3s-download`.
    pub purpose: String,
    pub host: String,
    pub url: String,
    pub dns: Result<Vec<String>, String>,
    pub http: Result<u16, String>,
}

/// What to look at: the paths and ports the profile and options imply.
#[derive(Clone, Debug)]
pub struct FactsRequest {
    pub data_dir: PathBuf,
    pub rancher_dir: PathBuf,
    pub ports: Vec<u16>,
    /// (purpose, endpoint); empty skips the network probe.
    pub endpoints: Vec<(String, Endpoint)>,
    pub network_timeout: Duration,
    /// Docker Hub quota probe URL, when the profile pulls from Docker Hub.
    pub quota_url: Option<String>,
}

/// Marker line the k3s unit written by digit-quickstart carries.
pub const OUR_UNIT_MARKER: &str = "# Managed by digit-quickstart";
const K3S_UNIT: &str = "/etc/systemd/system/k3s.service";
const BIN_DIRS: &[&str] = &[
    "/usr/local/bin",
    "/usr/local/sbin",
    "/usr/bin",
    "/usr/sbin",
    "/bin",
    "/snap/bin",
];

pub fn gather(host: &Host, req: &FactsRequest) -> HostFacts {
    let fs = host.fs.as_ref();
    let uname = host.sys.uname();
    let read = |p: &str| fs.read_to_string(Path::new(p)).unwrap_or_default();

    let meminfo = read("/proc/meminfo");
    // procfs-core wants every field a current kernel writes; an older or
    // trimmed kernel still gets the three figures we need.
    let memory = Meminfo::from_read(meminfo.as_bytes())
        .map(|m| Memory {
            total: m.mem_total,
            available: m.mem_available.unwrap_or(m.mem_free),
            swap_total: m.swap_total,
        })
        .unwrap_or_else(|_| Memory {
            total: meminfo_kib(&meminfo, "MemTotal"),
            available: meminfo_kib(&meminfo, "MemAvailable"),
            swap_total: meminfo_kib(&meminfo, "SwapTotal"),
        });
    let cpus = CpuInfo::from_read(read("/proc/cpuinfo").as_bytes())
        .map(|c| u32::try_from(c.num_cores()).unwrap_or(u32::MAX))
        .unwrap_or(0);
    let init = Init {
        systemd: fs.exists(Path::new("/run/systemd/system")),
        pid1: read("/proc/1/comm").trim().to_owned(),
    };
    let existing = existing_runtimes(host, init.systemd);

    let network = (!req.endpoints.is_empty()).then(|| reachability(host, req));
    HostFacts {
        hostname: uname.nodename.clone(),
        kernel: uname.release.clone(),
        arch: debian_arch(&uname.machine),
        os: parse_os_release(&read("/etc/os-release")),
        cpus,
        memory,
        is_root: host.sys.effective_uid() == 0,
        init,
        cgroup: cgroup(host),
        route: routes(&read("/proc/net/route"), &read("/proc/net/ipv6_route")),
        disks: vec![
            disk(host, "data-dir", &req.data_dir),
            disk(host, "rancher", &req.rancher_dir),
        ],
        ports: ports(host, &req.ports),
        existing,
        network: network.clone(),
        // Only asked when Docker Hub resolved: offline, one timeout is enough.
        quota: req
            .quota_url
            .as_ref()
            .filter(|_| registry_resolved(network.as_deref()))
            .map(|url| Quota {
                url: url.clone(),
                limits: host.net.quota(url, req.network_timeout),
            }),
        pulls_needed: 0,
        measured_images: None,
        images: None,
        today: Some(date_of(host.clock.now())),
    }
}

pub fn registry_resolved(network: Option<&[Reachability]>) -> bool {
    network.is_some_and(|n| n.iter().any(|r| r.host == "registry-1.docker.io" && r.dns.is_ok()))
}

fn meminfo_kib(text: &str, key: &str) -> u64 {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(key)?
                .strip_prefix(':')?
                .split_whitespace()
                .next()?
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kib| kib * 1024)
}

/// Maps `uname -m` to the names image platforms and k3s artifacts use.
pub fn debian_arch(machine: &str) -> String {
    match machine {
        "x86_64" => "amd64",
        "aarch64" | "arm64" => "arm64",
        "armv7l" | "armv7" => "arm",
        "s390x" => "s390x",
        "ppc64le" => "ppc64le",
        other => other,
    }
    .to_owned()
}

pub fn parse_os_release(text: &str) -> OsRelease {
    let mut os = OsRelease::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'').to_owned();
        match key.trim() {
            "ID" => os.id = value,
            "VERSION_ID" => os.version_id = value,
            "PRETTY_NAME" => os.pretty_name = value,
            _ => {}
        }
    }
    os
}

fn cgroup(host: &Host) -> Cgroup {
    let fs = host.fs.as_ref();
    let unified = fs.read_to_string(Path::new("/sys/fs/cgroup/cgroup.controllers"));
    if let Ok(controllers) = unified {
        return Cgroup {
            mode: "v2".to_owned(),
            memory_controller: controllers.split_whitespace().any(|c| c == "memory"),
        };
    }
    // v1: /proc/cgroups lists `subsys_name hierarchy num_cgroups enabled`.
    let enabled = fs
        .read_to_string(Path::new("/proc/cgroups"))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .any(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            cols.first() == Some(&"memory") && cols.get(3) == Some(&"1")
        });
    let hybrid = fs.exists(Path::new("/sys/fs/cgroup/unified"));
    Cgroup {
        mode: if hybrid { "hybrid" } else { "v1" }.to_owned(),
        memory_controller: enabled,
    }
}

pub fn routes(ipv4: &str, ipv6: &str) -> Routes {
    let ipv4_default = RouteEntries::from_read(ipv4.as_bytes())
        .map(|r| {
            r.0.iter()
                .any(|e| e.destination == Ipv4Addr::UNSPECIFIED && e.mask == Ipv4Addr::UNSPECIFIED)
        })
        .unwrap_or(false);
    // /proc/net/ipv6_route: dest, dest prefix length, ..., flags, iface.
    // The loopback "unreachable" default (iface `lo`) does not count.
    let ipv6_default = ipv6.lines().any(|l| {
        let cols: Vec<&str> = l.split_whitespace().collect();
        cols.len() >= 10 && cols[0].bytes().all(|b| b == b'0') && cols[1] == "00" && cols[9] != "lo"
    });
    Routes {
        ipv4_default,
        ipv6_default,
    }
}

fn disk(host: &Host, role: &str, path: &Path) -> Disk {
    let mut measured = path.to_path_buf();
    while !host.fs.exists(&measured) {
        match measured.parent() {
            Some(parent) => measured = parent.to_path_buf(),
            None => break,
        }
    }
    let mut d = Disk {
        role: role.to_owned(),
        path: path.to_path_buf(),
        measured: measured.clone(),
        ..Disk::default()
    };
    match host.fs.space(&measured) {
        Ok(space) => {
            d.total = space.total;
            d.available = space.available;
            d.device = space.device;
        }
        Err(e) => d.error = Some(e.to_string()),
    }
    d
}

/// Listening sockets from /proc/net/tcp{,6}; owners from /proc/*/fd; ports
/// with no listener are confirmed with a bind attempt.
fn ports(host: &Host, wanted: &[u16]) -> Vec<Port> {
    let fs = host.fs.as_ref();
    let info = ExplicitSystemInfo {
        boot_time_secs: 0,
        ticks_per_second: 100,
        page_size: 4096,
        is_little_endian: cfg!(target_endian = "little"),
    };
    let mut listeners: Vec<(u16, u64)> = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = fs.read_to_string(Path::new(table)).unwrap_or_default();
        if let Ok(entries) = TcpNetEntries::from_read(text.as_bytes(), &info) {
            listeners.extend(
                entries
                    .0
                    .iter()
                    .filter(|e| e.state == TcpState::Listen)
                    .map(|e| (port_of(e.local_address), e.inode)),
            );
        }
    }
    wanted
        .iter()
        .map(|&port| {
            let inodes: Vec<u64> = listeners.iter().filter(|(p, _)| *p == port).map(|(_, i)| *i).collect();
            let state = if inodes.is_empty() {
                match host.net.try_bind_tcp(port) {
                    BindOutcome::Free => PortState::Free,
                    BindOutcome::InUse => PortState::InUse {
                        pid: None,
                        process: None,
                    },
                    BindOutcome::Error(e) => PortState::Unknown { error: e.to_string() },
                }
            } else {
                let owner = socket_owner(host, &inodes);
                PortState::InUse {
                    pid: owner.as_ref().map(|o| o.0),
                    process: owner.map(|o| o.1),
                }
            };
            Port { port, state }
        })
        .collect()
}

fn port_of(addr: SocketAddr) -> u16 {
    addr.port()
}

/// Finds the process holding one of the socket inodes (needs root for other users' processes).
fn socket_owner(host: &Host, inodes: &[u64]) -> Option<(u32, String)> {
    let fs = host.fs.as_ref();
    let targets: Vec<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
    let pids = fs.read_dir(Path::new("/proc")).ok()?;
    for pid in pids.iter().filter_map(|p| p.parse::<u32>().ok()) {
        let fd_dir = PathBuf::from(format!("/proc/{pid}/fd"));
        let Ok(fds) = fs.read_dir(&fd_dir) else { continue };
        for fd in fds {
            let link = fs.read_link(&fd_dir.join(&fd)).ok();
            if link.is_some_and(|l| targets.iter().any(|t| l.as_os_str() == t.as_str())) {
                let name = fs
                    .read_to_string(Path::new(&format!("/proc/{pid}/comm")))
                    .map(|n| n.trim().to_owned())
                    .unwrap_or_default();
                return Some((pid, name));
            }
        }
    }
    None
}

fn existing_runtimes(host: &Host, systemd: bool) -> Vec<Existing> {
    let fs = host.fs.as_ref();
    let find =
        |name: &str| -> Option<PathBuf> { BIN_DIRS.iter().map(|d| Path::new(d).join(name)).find(|p| fs.exists(p)) };
    let mut found = Vec::new();
    // Engines and node agents, not clients: a `docker` CLI alone competes for nothing.
    for (kind, binary, unit) in [
        ("k3s", "k3s", "k3s"),
        ("docker", "dockerd", "docker"),
        ("kubelet", "kubelet", "kubelet"),
        ("microk8s", "microk8s", "snap.microk8s.daemon-kubelite"),
        ("k0s", "k0s", "k0scontroller"),
        ("rke2", "rke2", "rke2-server"),
    ] {
        let Some(path) = find(binary) else { continue };
        let ours = kind == "k3s"
            && fs
                .read_to_string(Path::new(K3S_UNIT))
                .is_ok_and(|unit| unit.contains(OUR_UNIT_MARKER));
        let active = systemd.then(|| {
            host.cmd
                .output(
                    &Cmd::new("systemctl", &format!("ask systemd whether {kind} is running"))
                        .arg("is-active")
                        .arg(unit),
                )
                .is_ok_and(|o| o.stdout.trim() == "active")
        });
        found.push(Existing {
            kind: kind.to_owned(),
            path,
            ours,
            active,
        });
    }
    found
}

fn reachability(host: &Host, req: &FactsRequest) -> Vec<Reachability> {
    let endpoints: Vec<Endpoint> = req.endpoints.iter().map(|(_, e)| e.clone()).collect();
    let probes = host.net.probe(&endpoints, req.network_timeout);
    req.endpoints
        .iter()
        .zip(probes)
        .map(|((purpose, ep), probe)| Reachability {
            purpose: purpose.clone(),
            host: ep.host.clone(),
            url: ep.url.clone(),
            dns: probe.dns.map(|ips| ips.iter().map(ToString::to_string).collect()),
            http: probe.http,
        })
        .collect()
}

#[cfg(test)]
mod tests;
