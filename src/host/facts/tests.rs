//! Gathering facts from a fixture root: real /proc formats (copied from a
//! Debian 12 VM's files), real symlinks for socket owners; only uname, the
//! bind probe and systemctl are faked.

use std::os::unix::fs::symlink;
use std::path::Path;
use std::sync::Mutex;

use super::*;
use crate::host::{Clock, CmdError, CmdOutput, EndpointProbe, Env, FsSpace, Net, RealFs, Runner, Sys, Uname};

const MEMINFO: &str = "MemTotal:        8133596 kB\nMemFree:         6021444 kB\nMemAvailable:    7717148 kB\nBuffers:           47128 kB\nCached:          2887908 kB\nSwapCached:            0 kB\nActive:          1219320 kB\nInactive:        1717320 kB\nActive(anon):       1504 kB\nInactive(anon):     8956 kB\nActive(file):    1217816 kB\nInactive(file):  1708364 kB\nUnevictable:        9372 kB\nMlocked:            7768 kB\nSwapTotal:       2097148 kB\nSwapFree:        2097148 kB\nZswap:                 0 kB\nZswapped:              0 kB\nDirty:            166080 kB\nWriteback:             0 kB\nAnonPages:         11176 kB\nMapped:            14836 kB\nShmem:              8856 kB\nKReclaimable:     108500 kB\nSlab:             135012 kB\nSReclaimable:     108500 kB\nSUnreclaim:        26512 kB\nKernelStack:        1232 kB\nPageTables:          956 kB\nSecPageTables:         0 kB\nNFS_Unstable:          0 kB\nBounce:                0 kB\nWritebackTmp:          0 kB\nCommitLimit:    12365852 kB\nCommitted_AS:      50804 kB\nVmallocTotal:   34359738367 kB\nVmallocUsed:        5460 kB\nVmallocChunk:          0 kB\nPercpu:              664 kB\nAnonHugePages:         0 kB\nShmemHugePages:        0 kB\nShmemPmdMapped:        0 kB\nFileHugePages:     65536 kB\nFilePmdMapped:         0 kB\nBalloon:               0 kB\nHugePages_Total:       0\nHugePages_Free:        0\nHugePages_Rsvd:        0\nHugePages_Surp:        0\nHugepagesize:       2048 kB\nHugetlb:               0 kB\nDirectMap4k:       20480 kB\nDirectMap2M:     2076672 kB\nDirectMap1G:    25165824 kB\n";
const CPUINFO: &str = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel Xeon\n\nprocessor\t: 1\nvendor_id\t: GenuineIntel\nmodel name\t: Intel Xeon\n\nprocessor\t: 2\nvendor_id\t: GenuineIntel\n\nprocessor\t: 3\nvendor_id\t: GenuineIntel\n\n";
const ROUTE: &str = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
ens3\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n\
ens3\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n";
const IPV6_ROUTE: &str = "00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n";
/// A listener on 6443 (0x192B) owned by inode 4242, and an established connection on 80.
const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 00000000:192B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0\n\
   1: 0100007F:0050 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 5555 1 0000000000000000 20 4 30 10 -1\n";
const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
const OS_RELEASE: &str = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nID=debian\n";

struct FakeSys;
impl Sys for FakeSys {
    fn uname(&self) -> Uname {
        Uname {
            nodename: "digit-vm".into(),
            release: "6.1.0-26-amd64".into(),
            machine: "x86_64".into(),
        }
    }
    fn effective_uid(&self) -> u32 {
        0
    }
}

/// Port 443 is taken by something /proc does not show; the rest bind.
struct FakeNet;
impl Net for FakeNet {
    fn try_bind_tcp(&self, port: u16) -> crate::host::BindOutcome {
        match port {
            443 => crate::host::BindOutcome::InUse,
            10250 => crate::host::BindOutcome::Error(std::io::Error::from_raw_os_error(13)),
            _ => crate::host::BindOutcome::Free,
        }
    }
    fn quota(&self, url: &str, _: std::time::Duration) -> Result<crate::images::ratelimit::Limits, String> {
        assert!(url.ends_with("/ratelimitpreview/test/manifests/latest"));
        Ok(crate::images::ratelimit::Limits {
            status: 200,
            retry_after_secs: None,
            limit: crate::images::ratelimit::parse_window("100;w=21600"),
            remaining: crate::images::ratelimit::parse_window("76;w=21600"),
        })
    }

    fn probe(&self, endpoints: &[crate::host::Endpoint], _: std::time::Duration) -> Vec<EndpointProbe> {
        endpoints
            .iter()
            .map(|_| EndpointProbe {
                dns: Ok(vec!["10.0.0.1".parse().unwrap()]),
                http: Ok(401),
            })
            .collect()
    }
}

#[derive(Default)]
struct RecordingRunner(Mutex<Vec<String>>);
impl Runner for RecordingRunner {
    fn output_fed(&self, cmd: &Cmd, feed: crate::host::Feed<'_>) -> Result<CmdOutput, CmdError> {
        let _ = feed(&mut std::io::sink());
        self.output(cmd)
    }

    fn output(&self, cmd: &crate::host::Cmd) -> Result<CmdOutput, CmdError> {
        self.0.lock().unwrap().push(cmd.argv());
        Ok(CmdOutput {
            code: Some(0),
            stdout: "active\n".into(),
            stderr: String::new(),
        })
    }
}

struct NoEnv;
impl Env for NoEnv {
    fn var(&self, _: &str) -> Option<String> {
        None
    }
}
struct Epoch;
impl Clock for Epoch {
    fn now(&self) -> std::time::SystemTime {
        std::time::UNIX_EPOCH
    }
}

/// RealFs below the fixture root, but `space` answers fixed figures
/// (statvfs of a temp dir would make the test depend on this machine).
struct FixtureFs(RealFs);
impl crate::host::Fs for FixtureFs {
    fn read_to_string(&self, p: &Path) -> std::io::Result<String> {
        self.0.read_to_string(p)
    }
    fn exists(&self, p: &Path) -> bool {
        self.0.exists(p)
    }
    fn read_link(&self, p: &Path) -> std::io::Result<std::path::PathBuf> {
        self.0.read_link(p)
    }
    fn read_dir(&self, p: &Path) -> std::io::Result<Vec<String>> {
        self.0.read_dir(p)
    }
    fn space(&self, p: &Path) -> std::io::Result<FsSpace> {
        let device = if p.starts_with("/var/lib") { 2049 } else { 1 };
        Ok(FsSpace {
            total: 100 << 30,
            available: 60 << 30,
            device,
        })
    }
    fn create_dir_all(&self, p: &Path) -> std::io::Result<()> {
        self.0.create_dir_all(p)
    }
    fn write_atomic(&self, p: &Path, c: &[u8], m: u32) -> std::io::Result<()> {
        self.0.write_atomic(p, c, m)
    }
    fn copy_atomic(&self, f: &Path, t: &Path, m: u32) -> std::io::Result<()> {
        self.0.copy_atomic(f, t, m)
    }
    fn copy_atomic_from_outside(&self, f: &Path, t: &Path, m: u32) -> std::io::Result<()> {
        self.0.copy_atomic_from_outside(f, t, m)
    }
    fn sha256(&self, p: &Path) -> std::io::Result<String> {
        self.0.sha256(p)
    }
    fn mode(&self, p: &Path) -> std::io::Result<u32> {
        self.0.mode(p)
    }
    fn set_mode(&self, p: &Path, mode: u32) -> std::io::Result<()> {
        self.0.set_mode(p, mode)
    }
    fn symlink(&self, t: &Path, l: &Path) -> std::io::Result<()> {
        self.0.symlink(t, l)
    }
    fn remove_file(&self, p: &Path) -> std::io::Result<()> {
        self.0.remove_file(p)
    }
    fn chown(&self, p: &Path, u: u32, g: u32) -> std::io::Result<()> {
        self.0.chown(p, u, g)
    }
    fn remove_dir_all(&self, p: &Path) -> std::io::Result<()> {
        self.0.remove_dir_all(p)
    }
    fn real_path(&self, p: &Path) -> PathBuf {
        self.0.real_path(p)
    }
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn facts_are_read_from_proc_etc_and_sys_below_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "proc/meminfo", MEMINFO);
    write(root, "proc/cpuinfo", CPUINFO);
    write(root, "proc/net/route", ROUTE);
    write(root, "proc/net/ipv6_route", IPV6_ROUTE);
    write(root, "proc/net/tcp", TCP);
    write(root, "proc/net/tcp6", TCP6);
    write(root, "proc/1/comm", "systemd\n");
    write(root, "proc/812/comm", "k3s-server\n");
    std::fs::create_dir_all(root.join("proc/812/fd")).unwrap();
    symlink("socket:[4242]", root.join("proc/812/fd/7")).unwrap();
    symlink("/dev/null", root.join("proc/812/fd/0")).unwrap();
    write(root, "etc/os-release", OS_RELEASE);
    std::fs::create_dir_all(root.join("run/systemd/system")).unwrap();
    write(
        root,
        "sys/fs/cgroup/cgroup.controllers",
        "cpuset cpu io memory hugetlb pids rdma misc\n",
    );
    write(root, "usr/local/bin/k3s", "");
    write(
        root,
        "etc/systemd/system/k3s.service",
        &format!("{OUR_UNIT_MARKER}\n[Unit]\n"),
    );
    write(root, "usr/bin/docker", ""); // a client without an engine is not reported
    std::fs::create_dir_all(root.join("var/lib")).unwrap();

    let runner = RecordingRunner::default();
    let host = Host {
        fs: Box::new(FixtureFs(RealFs::new(root))),
        sys: Box::new(FakeSys),
        net: Box::new(FakeNet),
        cmd: Box::new(runner),
        env: Box::new(NoEnv),
        clock: Box::new(Epoch),
    };
    let req = FactsRequest {
        data_dir: "/var/lib/digit-quickstart".into(),
        rancher_dir: "/var/lib/rancher".into(),
        ports: vec![80, 443, 6443, 10250],
        endpoints: vec![(
            "registry".into(),
            Endpoint {
                host: "registry-1.docker.io".into(),
                url: "https://registry-1.docker.io/v2/".into(),
            },
        )],
        network_timeout: std::time::Duration::from_secs(1),
        quota_url: Some(crate::images::ratelimit::DOCKER_HUB_PROBE.to_owned()),
    };
    let f = gather(&host, &req);

    assert_eq!(f.hostname, "digit-vm");
    assert_eq!(f.arch, "amd64");
    assert_eq!(f.os.id, "debian");
    assert_eq!(f.os.version_id, "12");
    assert_eq!(f.cpus, 4);
    assert_eq!(f.memory.total, 8_133_596 * 1024);
    assert_eq!(f.memory.available, 7_717_148 * 1024);
    assert_eq!(f.memory.swap_total, 2_097_148 * 1024);
    assert!(f.is_root);
    assert_eq!(
        f.init,
        Init {
            systemd: true,
            pid1: "systemd".into()
        }
    );
    assert_eq!(
        f.cgroup,
        Cgroup {
            mode: "v2".into(),
            memory_controller: true
        }
    );
    assert_eq!(
        f.route,
        Routes {
            ipv4_default: true,
            ipv6_default: false
        },
        "the lo unreachable route is not a default route"
    );
    // Missing dirs are measured at their first existing parent.
    assert_eq!(f.disks[0].measured, Path::new("/var/lib"));
    assert_eq!(f.disks[1].measured, Path::new("/var/lib"));
    assert_eq!(f.disks[0].device, f.disks[1].device);
    assert_eq!(
        f.ports,
        vec![
            Port {
                port: 80,
                state: PortState::Free
            }, // an established connection is not a listener
            Port {
                port: 443,
                state: PortState::InUse {
                    pid: None,
                    process: None
                }
            },
            Port {
                port: 6443,
                state: PortState::InUse {
                    pid: Some(812),
                    process: Some("k3s-server".into())
                }
            },
            Port {
                port: 10250,
                state: PortState::Unknown {
                    error: std::io::Error::from_raw_os_error(13).to_string()
                }
            },
        ]
    );
    assert_eq!(f.existing.len(), 1, "{:?}", f.existing);
    assert_eq!(f.existing[0].kind, "k3s");
    assert!(f.existing[0].ours);
    assert_eq!(f.existing[0].active, Some(true));
    let quota = f.quota.expect("Docker Hub resolved, so its quota was read");
    assert_eq!(quota.limits.unwrap().remaining.unwrap().count, 76);
    let net = f.network.unwrap();
    assert_eq!(net[0].http, Ok(401));
    assert_eq!(net[0].dns, Ok(vec!["10.0.0.1".to_owned()]));
}

#[test]
fn a_trimmed_meminfo_still_yields_total_available_and_swap() {
    let text = "MemTotal:        8133596 kB\nMemAvailable:    7717148 kB\nSwapTotal:       0 kB\n";
    assert_eq!(meminfo_kib(text, "MemTotal"), 8_133_596 * 1024);
    assert_eq!(meminfo_kib(text, "MemAvailable"), 7_717_148 * 1024);
    assert_eq!(meminfo_kib(text, "SwapTotal"), 0);
    assert_eq!(meminfo_kib(text, "Mem"), 0);
}

#[test]
fn cgroup_v1_memory_is_read_from_proc_cgroups() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "proc/cgroups",
        "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t3\t1\t1\nmemory\t0\t1\t0\n",
    );
    let host = Host {
        fs: Box::new(RealFs::new(dir.path())),
        ..Host::real()
    };
    assert_eq!(
        cgroup(&host),
        Cgroup {
            mode: "v1".into(),
            memory_controller: false
        }
    );
    write(
        dir.path(),
        "proc/cgroups",
        "#subsys_name\thierarchy\tnum_cgroups\tenabled\nmemory\t5\t90\t1\n",
    );
    std::fs::create_dir_all(dir.path().join("sys/fs/cgroup/unified")).unwrap();
    assert_eq!(
        cgroup(&host),
        Cgroup {
            mode: "hybrid".into(),
            memory_controller: true
        }
    );
}

#[test]
fn os_release_values_are_unquoted_and_machines_map_to_debian_arches() {
    let os = parse_os_release("ID=\"rocky\"\nVERSION_ID='9.4'\nPRETTY_NAME=Rocky Linux 9.4\n# comment\n");
    assert_eq!(
        (os.id.as_str(), os.version_id.as_str(), os.pretty_name.as_str()),
        ("rocky", "9.4", "Rocky Linux 9.4")
    );
    assert_eq!(debian_arch("x86_64"), "amd64");
    assert_eq!(debian_arch("aarch64"), "arm64");
    assert_eq!(debian_arch("riscv64"), "riscv64");
}
