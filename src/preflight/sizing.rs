//! App-aware sizing: does the profile fit this host? Sums what the profile
//! asks for (pod requests and limits, k3s overhead, image bytes, volumes) and
//! the headroom kubelet keeps before it starts evicting, per filesystem.

use serde::Serialize;

use crate::host::facts::{Disk, HostFacts};
use crate::profile::Profile;
use crate::profile::quantity::{human_bytes, human_cpu};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sizing {
    pub fits: bool,
    /// Fits by requests but summed limits exceed memory (pods may be OOM-killed under load).
    pub overcommitted: bool,
    pub summary: String,
    pub memory: MemoryNeed,
    pub cpu: CpuNeed,
    pub images: ImageNeed,
    pub volumes: u64,
    pub filesystems: Vec<FsNeed>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemoryNeed {
    pub requests: u64,
    pub limits: u64,
    pub k3s_overhead: u64,
    pub eviction_headroom: u64,
    /// requests + overhead + headroom: what scheduling needs.
    pub needed: u64,
    /// limits + overhead + headroom: what a fully loaded stack uses.
    pub needed_at_limits: u64,
    pub total: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CpuNeed {
    pub requests_milli: u64,
    pub k3s_overhead_milli: u64,
    pub needed_milli: u64,
    pub total_milli: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ImageNeed {
    pub count: usize,
    pub compressed: u64,
    pub unpacked: u64,
    /// Compressed bytes not yet in the image store.
    pub to_download: u64,
    /// From the lock file (a pull happened), not the profile's estimates.
    pub measured: bool,
}

/// One filesystem and everything that will be written to it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FsNeed {
    /// Roles sharing this filesystem (`data-dir`, `rancher`).
    pub roles: Vec<String>,
    pub measured: Vec<String>,
    pub needed: u64,
    /// Free space kubelet's eviction threshold keeps (only where k3s keeps images).
    pub headroom: u64,
    pub available: u64,
    pub total: u64,
    pub fits: bool,
}

/// Bytes the install writes under the data dir and under /var/lib/rancher.
pub fn disk_needs(profile: &Profile, facts: &HostFacts) -> (u64, u64) {
    let arch = facts.arch.as_str();
    let images = image_totals(profile, facts);
    let (k3s_download, k3s_unpacked) = profile
        .k3s_artifacts(arch)
        .map(|a| {
            let download = a.binary.size.0 + a.airgap_images.size.0;
            let unpacked = a.binary.size.0 + a.airgap_images.unpacked.unwrap_or(a.airgap_images.size).0;
            (download, unpacked)
        })
        .unwrap_or((0, 0));
    let volumes = volume_total(profile);
    // What is already in the image store is already off the free space.
    let data_dir = images.to_download + k3s_download + profile.host.data_dir_reserve.0;
    // containerd keeps the compressed blobs and the unpacked snapshots.
    let rancher = images.compressed + images.unpacked + k3s_unpacked + volumes;
    (data_dir, rancher)
}

/// Measured figures from the lock file after a pull, else the profile's
/// per-image estimates (which count shared base layers once per image).
fn image_totals(profile: &Profile, facts: &HostFacts) -> ImageNeed {
    let images = profile.images();
    let estimated_compressed: u64 = images.iter().map(|i| i.compressed.0).sum();
    let estimated_unpacked: u64 = images.iter().map(|i| i.unpacked.0).sum();
    match &facts.measured_images {
        Some(m) => {
            // Every layer in the store says its unpacked size; until then,
            // scale by the profile's ratio.
            let ratio = estimated_unpacked as f64 / estimated_compressed.max(1) as f64;
            ImageNeed {
                count: images.len(),
                compressed: m.compressed,
                unpacked: m.unpacked.unwrap_or((m.compressed as f64 * ratio) as u64),
                to_download: m.missing,
                measured: true,
            }
        }
        None => ImageNeed {
            count: images.len(),
            compressed: estimated_compressed,
            unpacked: estimated_unpacked,
            to_download: estimated_compressed,
            measured: false,
        },
    }
}

fn volume_total(profile: &Profile) -> u64 {
    profile
        .components
        .iter()
        .flat_map(|c| c.volumes.iter())
        .map(|v| v.size.0)
        .sum()
}

pub fn size(profile: &Profile, facts: &HostFacts) -> Sizing {
    let sum = |f: &dyn Fn(&crate::profile::Component) -> u64| profile.components.iter().map(f).sum::<u64>();
    let overhead = &profile.k3s.overhead;
    let eviction = profile.host.eviction.memory_available.0;
    let requests = sum(&|c| c.resources.requests.memory.0);
    let limits = sum(&|c| c.resources.limits.memory.0);
    let memory = MemoryNeed {
        requests,
        limits,
        k3s_overhead: overhead.memory.0,
        eviction_headroom: eviction,
        needed: requests + overhead.memory.0 + eviction,
        needed_at_limits: limits + overhead.memory.0 + eviction,
        total: facts.memory.total,
    };
    let cpu_requests = sum(&|c| c.resources.requests.cpu.0);
    let cpu = CpuNeed {
        requests_milli: cpu_requests,
        k3s_overhead_milli: overhead.cpu.0,
        needed_milli: cpu_requests + overhead.cpu.0,
        total_milli: u64::from(facts.cpus) * 1000,
    };
    let (data_need, rancher_need) = disk_needs(profile, facts);
    let filesystems = filesystems(profile, &facts.disks, data_need, rancher_need);

    let memory_fits = memory.needed <= memory.total;
    let cpu_fits = cpu.needed_milli <= cpu.total_milli;
    let disks_fit = filesystems.iter().all(|f| f.fits);
    let fits = memory_fits && cpu_fits && disks_fit;
    let overcommitted = memory_fits && memory.needed_at_limits > memory.total;

    let summary = if fits {
        let disk = filesystems
            .iter()
            .map(|f| {
                format!(
                    "{} of {} free",
                    human_bytes(f.needed + f.headroom),
                    human_bytes(f.available)
                )
            })
            .collect::<Vec<_>>()
            .join(" + ");
        format!(
            "profile {} fits this host: memory {} of {} ({} at limits), CPU {} of {}, disk {}",
            profile.name,
            human_bytes(memory.needed),
            human_bytes(memory.total),
            human_bytes(memory.needed_at_limits),
            human_cpu(cpu.needed_milli),
            human_cpu(cpu.total_milli),
            disk
        )
    } else {
        let mut short = Vec::new();
        if !memory_fits {
            short.push(format!(
                "memory short by {} (needs {}, has {})",
                human_bytes(memory.needed - memory.total),
                human_bytes(memory.needed),
                human_bytes(memory.total)
            ));
        }
        if !cpu_fits {
            short.push(format!(
                "CPU short by {} (requests need {}, has {})",
                human_cpu(cpu.needed_milli - cpu.total_milli),
                human_cpu(cpu.needed_milli),
                human_cpu(cpu.total_milli)
            ));
        }
        for f in filesystems.iter().filter(|f| !f.fits) {
            short.push(format!(
                "disk at {} short by {} (needs {} incl. {} eviction headroom, has {} free)",
                f.measured.join(", "),
                human_bytes(f.needed + f.headroom - f.available),
                human_bytes(f.needed + f.headroom),
                human_bytes(f.headroom),
                human_bytes(f.available)
            ));
        }
        format!("profile {} does not fit this host: {}", profile.name, short.join("; "))
    };

    Sizing {
        fits,
        overcommitted,
        summary,
        memory,
        cpu,
        images: image_totals(profile, facts),
        volumes: volume_total(profile),
        filesystems,
    }
}

/// Groups the data dir and /var/lib/rancher by device so a shared
/// filesystem is charged once with both needs.
fn filesystems(profile: &Profile, disks: &[Disk], data_need: u64, rancher_need: u64) -> Vec<FsNeed> {
    let percent = u64::from(profile.host.eviction.disk_free_percent);
    let mut out: Vec<(u64, FsNeed)> = Vec::new();
    for d in disks.iter().filter(|d| d.error.is_none()) {
        let (need, headroom) = match d.role.as_str() {
            "rancher" => (rancher_need, d.total * percent / 100),
            _ => (data_need, 0),
        };
        if let Some((_, fs)) = out.iter_mut().find(|(dev, _)| *dev == d.device) {
            fs.roles.push(d.role.clone());
            fs.measured.push(d.measured.display().to_string());
            fs.needed += need;
            fs.headroom = fs.headroom.max(headroom);
        } else {
            out.push((
                d.device,
                FsNeed {
                    roles: vec![d.role.clone()],
                    measured: vec![d.measured.display().to_string()],
                    needed: need,
                    headroom,
                    available: d.available,
                    total: d.total,
                    fits: false,
                },
            ));
        }
    }
    out.into_iter()
        .map(|(_, mut fs)| {
            fs.fits = fs.needed + fs.headroom <= fs.available;
            fs
        })
        .collect()
}
