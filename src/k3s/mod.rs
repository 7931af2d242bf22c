//! k3s lifecycle. For now: where k3s's files go and what installing it
//! involves, as plan steps; installing, waiting and uninstalling build on
//! these paths.

use std::path::{Path, PathBuf};

pub mod agent;
pub mod artifacts;
pub mod install;
pub mod kubeconfig;
pub mod lifecycle;
pub mod render;
pub mod uninstall;
pub mod wait;

use crate::layout::Layout;
use crate::plan::{Phase, Step};
use crate::profile::{Profile, Sha256Pin};

pub const BINARY: &str = "/usr/local/bin/k3s";
pub const CONFIG: &str = "/etc/rancher/k3s/config.yaml";
pub const REGISTRIES: &str = "/etc/rancher/k3s/registries.yaml";
pub const UNIT: &str = "/etc/systemd/system/k3s.service";
pub const UNIT_ENV: &str = "/etc/systemd/system/k3s.service.env";
pub const AIRGAP_DIR: &str = "/var/lib/rancher/k3s/agent/images";
/// Commands k3s provides through symlinks to itself.
pub const SYMLINKS: &[&str] = &["kubectl", "crictl", "ctr"];

/// Download URL of one release artifact (the `+` in versions is percent-encoded).
pub fn artifact_url(profile: &Profile, artifact: &str) -> String {
    profile
        .k3s
        .url_template
        .replace("{version}", &profile.k3s.version.replace('+', "%2B"))
        .replace("{artifact}", artifact)
}

fn pin_text(pin: &Sha256Pin) -> String {
    match pin {
        Sha256Pin::Pinned(h) => h.clone(),
        Sha256Pin::Unpinned => "UNPINNED".to_owned(),
    }
}

/// The per-user kubeconfig written for the invoking user.
pub fn user_kubeconfig(home: &Path) -> PathBuf {
    home.join(".kube/digit-quickstart.yaml")
}

pub fn phase(profile: &Profile, layout: &Layout, arch: &str, home: &Path) -> Phase {
    let version = &profile.k3s.version;
    let cache = layout.k3s_cache(version);
    let mut steps = Vec::new();
    if let Some(a) = profile.k3s_artifacts(arch) {
        for art in [&a.binary, &a.airgap_images] {
            steps.push(Step::Download {
                url: artifact_url(profile, &art.name),
                dest: cache.join(&art.name),
                size: art.size.0,
                sha256: pin_text(&art.sha256),
            });
        }
        steps.push(Step::WriteFile {
            path: BINARY.into(),
            mode: "0755".into(),
            what: format!("k3s {version}, after its sha256 matches"),
        });
        for link in SYMLINKS {
            steps.push(Step::Symlink {
                path: Path::new("/usr/local/bin").join(link),
                target: BINARY.into(),
                only_if_missing: true,
            });
        }
        steps.push(Step::WriteFile {
            path: Path::new(AIRGAP_DIR).join(&a.airgap_images.name),
            mode: "0644".into(),
            what: "k3s system images, so k3s never pulls them from Docker Hub".into(),
        });
    }
    steps.extend([
        Step::WriteFile {
            path: CONFIG.into(),
            mode: "0600".into(),
            what: "k3s settings: node name, kubeconfig mode 0600".into(),
        },
        Step::WriteFile {
            path: UNIT.into(),
            mode: "0644".into(),
            what: "systemd unit".into(),
        },
        Step::WriteFile {
            path: UNIT_ENV.into(),
            mode: "0600".into(),
            what: "unit environment".into(),
        },
        Step::Service {
            unit: "k3s.service".into(),
            action: "daemon-reload, enable --now".into(),
        },
        Step::Wait {
            condition: "API server /readyz".into(),
            timeout_secs: 180,
        },
        Step::Wait {
            condition: "node Ready".into(),
            timeout_secs: 180,
        },
        Step::Wait {
            condition: "CoreDNS available".into(),
            timeout_secs: 180,
        },
        Step::Wait {
            condition: "local-path storage class present".into(),
            timeout_secs: 120,
        },
        Step::WriteFile {
            path: user_kubeconfig(home),
            mode: "0600".into(),
            what: "kubeconfig for the invoking user".into(),
        },
    ]);
    Phase {
        id: "k3s",
        title: format!("Install k3s {version}"),
        steps,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn artifact_urls_percent_encode_the_plus_in_k3s_versions() {
        let p = crate::profile::load(&Default::default(), &crate::host::RealFs::new("/")).unwrap();
        let url = super::artifact_url(&p, "k3s");
        assert!(
            url.ends_with(&format!("/{}/k3s", p.k3s.version.replace('+', "%2B"))),
            "{url}"
        );
        assert!(!url.contains('+'));
    }
}
