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
    /// DIGIT's state-level tenant; injected into every service under all the
    /// names DIGIT reads it by, so they can never disagree.
    pub state_tenant: Spanned<String>,
    /// City tenants the seed data defines (smoke tests use the first).
    pub city_tenants: Vec<String>,
    /// Environment every Java service gets (service hosts, Kafka, Redis).
    #[serde(default)]
    pub common_env: std::collections::BTreeMap<String, String>,
    pub admin: Admin,
    /// Users DIGIT's services need before they start (HRMS looks up one with
    /// INTERNAL_MICROSERVICE_ROLE), created through `admin.via` like ADMIN;
    /// passwords are generated and never shown.
    #[serde(default)]
    pub system_users: Vec<SystemUser>,
    /// Seed data: pinned files applied after the component that owns their tables.
    #[serde(default)]
    pub seeds: Vec<Seed>,
    pub components: Vec<Component>,
}

/// The first login, created through egov-user's API so enc-service encrypts it.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Admin {
    pub username: String,
    /// Component whose API creates the user (`/user/users/_createnovalidate`).
    pub via: Spanned<String>,
    pub tenants: Vec<String>,
    pub roles: Vec<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SystemUser {
    pub username: String,
    /// Display name.
    pub name: String,
    /// egov-user's user type: `SYSTEM` or `EMPLOYEE`.
    #[serde(rename = "type")]
    pub user_type: String,
    pub roles: Vec<String>,
}

/// One seed step. `file` seeds are downloaded, verified against `sha256` and
/// run with psql; `api` seeds are one POST to a component's service (with a
/// `file` of kind `body`, the pinned file is what is posted); `job` seeds
/// run a command in one of the profile's images.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    pub name: Spanned<String>,
    /// The component whose rollout (and migrations) must be complete first.
    pub after: Spanned<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub file: Option<SeedFile>,
    #[serde(default)]
    pub api: Option<SeedApi>,
    #[serde(default)]
    pub job: Option<SeedJob>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SeedFile {
    pub url: String,
    pub sha256: Sha256Pin,
    pub size: Bytes,
    /// `sql`: run with psql; `mount`: a file for a component (see `files`);
    /// `body`: the JSON an `api` seed posts.
    #[serde(default)]
    pub kind: SeedFileKind,
    /// psql waits until this table exists (migrations run in init containers).
    #[serde(default)]
    pub wait_for_table: Option<String>,
    /// psql variables (`-v name=value`).
    #[serde(default)]
    pub vars: std::collections::BTreeMap<String, String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SeedFileKind {
    #[default]
    Sql,
    Mount,
    Body,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SeedApi {
    pub component: Spanned<String>,
    pub path: String,
    #[serde(default = "empty_object")]
    pub body: String,
}

fn empty_object() -> String {
    "{}".to_owned()
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SeedJob {
    pub image: ImageRef,
    pub command: Vec<String>,
    /// Environment from the generated secrets: NAME -> `secret/key`.
    #[serde(default)]
    pub secret_env: std::collections::BTreeMap<String, String>,
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
    /// Upstream support of this Kubernetes minor; `check` warns 60 days
    /// before the end.
    #[serde(default)]
    pub support: Option<K3sSupport>,
}

/// Dates as `YYYY-MM-DD` (kubernetes.io/releases).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct K3sSupport {
    pub maintenance_from: String,
    pub end_of_life: String,
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
    #[serde(default)]
    pub kind: ComponentKind,
    /// Context path the gateway and the ingress route to this service (`user`).
    #[serde(default)]
    pub context: Option<String>,
    #[serde(default)]
    pub env: std::collections::BTreeMap<String, String>,
    /// Environment from the generated secrets: NAME -> `secret/key`.
    #[serde(default)]
    pub secret_env: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub command: Vec<String>,
    #[serde(default)]
    pub args: Vec<String>,
    /// Flyway history table of the migration image (`SCHEMA_TABLE`).
    #[serde(default)]
    pub schema_table: Option<String>,
    /// Seed files of kind `mount` placed into the container: path -> seed name.
    #[serde(default)]
    pub files: std::collections::BTreeMap<String, String>,
    /// Seconds the first health probe may take (JVM start plus migrations).
    #[serde(default)]
    pub start_seconds: Option<u32>,
    /// Seconds `install` waits for this component before diagnosing it.
    #[serde(default)]
    pub timeout_seconds: Option<u32>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ComponentKind {
    /// Postgres, Redis, Redpanda, MinIO: run as configured.
    #[default]
    Backbone,
    /// A DIGIT Spring service: common env, database secret, heap.
    Java,
    /// The DIGIT gateway: a Java service plus route discovery.
    Gateway,
    /// The web UI (nginx).
    Ui,
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
