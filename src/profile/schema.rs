//! The profile file format. Every struct denies unknown keys so a misspelt
//! setting is an error with a location, never silently ignored.

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use super::image::ImageRef;
use super::quantity::{Bytes, MilliCpu};

/// Marker for a checksum that a later release will pin; installing refuses it.
pub const UNPINNED: &str = "unpinned";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileFile {
    /// Format version of this file; only `1` exists.
    pub schema: Spanned<u32>,
    pub name: Spanned<String>,
    pub description: String,
    pub digit: DigitRelease,
    pub k3s: K3s,
    pub host: HostRequirements,
    /// Kubernetes namespace the components are deployed into.
    pub namespace: Spanned<String>,
    pub components: Vec<Component>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DigitRelease {
    /// DIGIT release the image tags come from, e.g. `v2.9.2`.
    pub release: String,
    /// Where the pins come from (free text, shown by `plan`).
    #[serde(default)]
    pub source: String,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct K3s {
    pub version: String,
    /// `{version}` and `{artifact}` are substituted; override for a mirror.
    pub url_template: String,
    /// Resources k3s itself and its system pods use on a single node.
    pub overhead: Amount,
    /// Bundled components to switch off (`traefik`, `servicelb`, `metrics-server`, ...).
    #[serde(default)]
    pub disable: Vec<String>,
    /// Per architecture (`amd64`, `arm64`): the artifacts to download.
    pub artifacts: std::collections::BTreeMap<String, K3sArtifacts>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct K3sArtifacts {
    pub binary: Artifact,
    pub airgap_images: Artifact,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    pub name: String,
    /// Lowercase hex sha256, or `unpinned`.
    pub sha256: Sha256Pin,
    /// Download size (an estimate until pinned).
    pub size: Bytes,
    /// Size on disk once k3s has unpacked it (images), if different.
    #[serde(default)]
    pub unpacked: Option<Bytes>,
}

/// A sha256 pin or the explicit `unpinned` marker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub enum Sha256Pin {
    Pinned(String),
    Unpinned,
}

impl From<Sha256Pin> for String {
    fn from(p: Sha256Pin) -> String {
        match p {
            Sha256Pin::Pinned(h) => h,
            Sha256Pin::Unpinned => UNPINNED.to_owned(),
        }
    }
}

impl<'de> Deserialize<'de> for Sha256Pin {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s == UNPINNED {
            return Ok(Self::Unpinned);
        }
        if s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Ok(Self::Pinned(s))
        } else {
            Err(serde::de::Error::custom(format!(
                "invalid sha256 `{s}`: expected 64 lowercase hex digits or `{UNPINNED}`"
            )))
        }
    }
}

/// What a host needs before `install` proceeds. The numbers live here, not
/// in code, so a smaller or larger profile carries its own thresholds.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HostRequirements {
    /// Debian-style architecture names the images exist for.
    pub arch: Vec<String>,
    pub cpus: MinRecommended<u32>,
    pub memory: MinRecommended<Bytes>,
    /// TCP ports k3s and the ingress must be able to bind.
    pub ports: Vec<u16>,
    pub eviction: Eviction,
    /// Space the installer keeps for itself in the data dir (logs, journal, k3s downloads).
    pub data_dir_reserve: Bytes,
    /// Distributions the profile is tested on; others get a warning.
    pub os: Vec<OsSupport>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MinRecommended<T> {
    pub min: T,
    pub recommended: T,
}

/// Kubelet hard-eviction thresholds: headroom that must stay free after install.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Eviction {
    pub memory_available: Bytes,
    /// Percent of the filesystem holding images and volumes that must stay free.
    pub disk_free_percent: u8,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OsSupport {
    /// `ID` from /etc/os-release.
    pub id: String,
    /// `VERSION_ID` prefixes (`"12"` matches `12` and `12.5`).
    pub versions: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    pub name: Spanned<String>,
    #[serde(default)]
    pub description: String,
    pub images: Vec<Image>,
    pub resources: Resources,
    /// Maximum JVM heap (`-Xmx`), for Java services.
    #[serde(default)]
    pub jvm_heap: Option<Bytes>,
    #[serde(default)]
    pub ports: Vec<u16>,
    #[serde(default)]
    pub health: Option<Health>,
    #[serde(default)]
    pub depends_on: Vec<Spanned<String>>,
    #[serde(default)]
    pub volumes: Vec<Volume>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Image {
    #[serde(rename = "ref")]
    pub reference: ImageRef,
    /// What the image does in the pod.
    #[serde(default)]
    pub role: ImageRole,
    /// Estimated compressed (download) size, until a lock file measures it.
    pub compressed: Bytes,
    /// Estimated unpacked size on disk.
    pub unpacked: Bytes,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImageRole {
    #[default]
    App,
    /// An `egovio/<svc>-db` Flyway image run as an init container.
    Migration,
    /// Any other init or one-off job image.
    Init,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    pub requests: Amount,
    pub limits: Limits,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Amount {
    pub cpu: MilliCpu,
    pub memory: Bytes,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// CPU is compressible: a limit is optional.
    #[serde(default)]
    pub cpu: Option<MilliCpu>,
    pub memory: Bytes,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub enum Health {
    /// HTTP GET that must answer 200.
    Http { path: String, port: u16 },
    /// A TCP connect.
    Tcp { port: u16 },
    /// A command run in the container.
    Exec { command: Vec<String> },
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Volume {
    pub name: String,
    pub size: Bytes,
    pub mount: String,
}
