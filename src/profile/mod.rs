//! Profiles: what to deploy and what the host needs for it. `dev` is compiled
//! in; `--profile ./file.yaml` loads another. Loading is strict and every
//! error names the file, line and column.

mod image;
pub mod quantity;
mod schema;
mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use image::ImageRef;
pub use quantity::{Bytes, MilliCpu};
pub use schema::{
    Amount, Artifact, ComponentKind, DigitRelease, Eviction, Health, HostRequirements, Image, ImageRole, K3s,
    K3sArtifacts, K3sSupport, Limits, MinRecommended, OsSupport, Resources, SeedFile, SeedFileKind, SeedJob, Sha256Pin,
    UNPINNED, Volume,
};

/// The secrets `install` generates, as `secret/key`; profiles reference them
/// in `secret_env`. Values never appear in a profile, a manifest print or a log.
pub const SECRET_KEYS: &[&str] = &[
    "db/username",
    "db/password",
    "minio/access-key",
    "minio/secret-key",
    "egov-enc-service/master-password",
    "egov-enc-service/master-salt",
    "egov-enc-service/master-initialvector",
    "digit-admin/username",
    "digit-admin/password",
    "egov-hrms/employee-default-password",
];

/// Keys whose values live on in the data (the database, the bucket, the
/// encrypted rows, the ADMIN login): never generated again for an install
/// that has data. Any other key an older install lacks is added.
pub const DATA_BOUND_KEYS: &[&str] = &[
    "db/username",
    "db/password",
    "minio/access-key",
    "minio/secret-key",
    "egov-enc-service/master-password",
    "egov-enc-service/master-salt",
    "egov-enc-service/master-initialvector",
    "digit-admin/username",
    "digit-admin/password",
];

/// Environment names DIGIT services read the state tenant from.
pub const STATE_TENANT_VARS: &[&str] = &[
    "EGOV_STATE_LEVEL_TENANT_ID",
    "STATE_LEVEL_TENANT_ID",
    "PGR_STATELEVEL_TENANTID",
];

use crate::error::Diagnostic;

/// Profiles compiled into the binary: (name, file name, YAML text).
pub const EMBEDDED: &[(&str, &str, &str)] = &[("dev", "profiles/dev.yaml", include_str!("../../profiles/dev.yaml"))];

/// A loaded, validated profile.
#[derive(Clone, Debug, Serialize)]
pub struct Profile {
    pub name: String,
    pub description: String,
    /// Where it came from: `embedded:dev` or the file path.
    pub origin: String,
    pub digit: DigitRelease,
    pub k3s: K3s,
    pub host: HostRequirements,
    pub namespace: String,
    pub state_tenant: String,
    pub city_tenants: Vec<String>,
    pub common_env: BTreeMap<String, String>,
    pub admin: AdminUser,
    pub system_users: Vec<SystemUser>,
    pub seeds: Vec<SeedStep>,
    pub components: Vec<Component>,
}

#[derive(Clone, Debug, Serialize)]
pub struct AdminUser {
    pub username: String,
    pub via: String,
    pub tenants: Vec<String>,
    pub roles: Vec<String>,
}

pub use schema::SystemUser;

impl SystemUser {
    /// Where its generated password is kept in the secrets file.
    pub fn secret_key(&self) -> String {
        format!(
            "system-user-{}/password",
            self.username.to_ascii_lowercase().replace('_', "-")
        )
    }
}

impl Profile {
    /// Every key the secrets file holds for this profile.
    pub fn secret_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = SECRET_KEYS.iter().map(|k| (*k).to_owned()).collect();
        keys.extend(self.system_users.iter().map(SystemUser::secret_key));
        keys
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct SeedStep {
    pub name: String,
    pub after: String,
    pub description: String,
    pub action: SeedAction,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SeedAction {
    File(SeedFile),
    Api {
        component: String,
        path: String,
        body: String,
        /// The body is this pinned file's content instead.
        file: Option<SeedFile>,
    },
    Job(SeedJob),
}

impl SeedStep {
    /// The pinned file this step downloads, if any (to fetch, cache, bundle
    /// and serve it like every other seed file).
    pub fn file(&self) -> Option<&SeedFile> {
        match &self.action {
            SeedAction::File(f) => Some(f),
            SeedAction::Api { file, .. } => file.as_ref(),
            SeedAction::Job(_) => None,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Component {
    pub name: String,
    pub description: String,
    pub images: Vec<Image>,
    pub resources: Resources,
    pub jvm_heap: Option<Bytes>,
    pub ports: Vec<u16>,
    pub health: Option<Health>,
    pub depends_on: Vec<String>,
    pub volumes: Vec<Volume>,
    pub kind: ComponentKind,
    pub context: Option<String>,
    pub env: BTreeMap<String, String>,
    pub secret_env: BTreeMap<String, String>,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub schema_table: Option<String>,
    pub files: BTreeMap<String, String>,
    pub start_seconds: Option<u32>,
    pub timeout_seconds: Option<u32>,
}

impl Component {
    /// Java services and the gateway: Spring Boot, heap-limited.
    pub fn is_java(&self) -> bool {
        matches!(self.kind, ComponentKind::Java | ComponentKind::Gateway)
    }

    pub fn image(&self, role: ImageRole) -> Option<&Image> {
        self.images.iter().find(|i| i.role == role)
    }
}

/// How the user named the profile on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProfileSource {
    Embedded(String),
    File(PathBuf),
}

impl ProfileSource {
    /// A value with a path separator or a YAML extension is a file; anything
    /// else names an embedded profile.
    pub fn from_arg(arg: &str) -> Self {
        let looks_like_path =
            arg.contains('/') || Path::new(arg).extension().is_some_and(|e| e == "yaml" || e == "yml");
        if looks_like_path {
            Self::File(PathBuf::from(arg))
        } else {
            Self::Embedded(arg.to_owned())
        }
    }
}

impl Default for ProfileSource {
    fn default() -> Self {
        Self::Embedded("dev".to_owned())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("could not read profile file `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no embedded profile named `{name}`")]
    UnknownName { name: String },
    /// The file parsed badly or failed validation at a known place.
    #[error("{origin}:{line}:{column}: {message}")]
    Invalid {
        origin: String,
        line: u64,
        column: u64,
        message: String,
        snippet: Option<String>,
    },
}

impl Diagnostic for ProfileError {
    fn hints(&self) -> Vec<String> {
        match self {
            Self::Read { .. } => vec![
                "check the path given to --profile; a bare name such as `dev` selects an embedded profile"
                    .to_owned(),
            ],
            Self::UnknownName { .. } => vec![format!(
                "embedded profiles: {}; or pass a file path such as `--profile ./my-profile.yaml`",
                EMBEDDED.iter().map(|(n, _, _)| *n).collect::<Vec<_>>().join(", ")
            )],
            Self::Invalid { .. } => vec![
                "fix the profile and run `digit-quickstart plan --profile FILE` to validate it without changing anything"
                    .to_owned(),
            ],
        }
    }

    fn detail(&self) -> Option<String> {
        match self {
            Self::Invalid { snippet, .. } => snippet.clone(),
            _ => None,
        }
    }
}

/// Reads and validates a profile from wherever `source` points.
/// The profile's text and its origin, as `load` reads them.
pub fn source_text(source: &ProfileSource, fs: &dyn crate::host::Fs) -> Result<(String, String), ProfileError> {
    match source {
        ProfileSource::Embedded(name) => EMBEDDED
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, file, text)| ((*text).to_owned(), format!("embedded:{file}")))
            .ok_or_else(|| ProfileError::UnknownName { name: name.clone() }),
        ProfileSource::File(path) => fs
            .read_to_string(path)
            .map(|t| (t, path.display().to_string()))
            .map_err(|source| ProfileError::Read {
                path: path.clone(),
                source,
            }),
    }
}

pub fn load(source: &ProfileSource, fs: &dyn crate::host::Fs) -> Result<Profile, ProfileError> {
    match source {
        ProfileSource::Embedded(name) => {
            let (_, file, text) = EMBEDDED
                .iter()
                .find(|(n, _, _)| n == name)
                .ok_or_else(|| ProfileError::UnknownName { name: name.clone() })?;
            parse(text, &format!("embedded:{file}"))
        }
        ProfileSource::File(path) => {
            let text = fs.read_to_string(path).map_err(|source| ProfileError::Read {
                path: path.clone(),
                source,
            })?;
            parse(&text, &path.display().to_string())
        }
    }
}

/// Parses and validates profile text; `origin` names it in errors.
pub fn parse(text: &str, origin: &str) -> Result<Profile, ProfileError> {
    let file: schema::ProfileFile = serde_saphyr::from_str(text).map_err(|err| {
        let location = err.location();
        let formatter = serde_saphyr::UserMessageFormatter;
        let message = serde_saphyr::MessageFormatter::format_message(&formatter, &err)
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>();
        let options = serde_saphyr::render_options! { source_name: Some(origin) };
        ProfileError::Invalid {
            origin: origin.to_owned(),
            line: location.map_or(0, |l| l.line()),
            column: location.map_or(0, |l| l.column()),
            message,
            // The renderer repeats the message as an `error:` header; the
            // top-level error already says it, so keep only the snippet.
            snippet: location.map(|_| {
                let text = err.render_with_options(options);
                match text.split_once('\n') {
                    Some((first, rest)) if first.starts_with("error:") => rest.to_owned(),
                    _ => text,
                }
            }),
        }
    })?;
    validate::validate(file, text, origin)
}

impl Profile {
    /// Every distinct image the profile needs, in profile order.
    pub fn images(&self) -> Vec<&Image> {
        let mut seen = std::collections::HashSet::new();
        self.components
            .iter()
            .flat_map(|c| c.images.iter())
            .filter(|i| seen.insert(i.reference.as_str()))
            .collect()
    }

    /// Components grouped into deployment waves: each wave depends only on
    /// earlier ones. Validation has already ruled out cycles.
    pub fn waves(&self) -> Vec<Vec<&Component>> {
        validate::waves(&self.components)
    }

    /// Seed steps that run once `component` is up, in profile order.
    pub fn seeds_after(&self, component: &str) -> Vec<&SeedStep> {
        self.seeds.iter().filter(|s| s.after == component).collect()
    }

    pub fn seed(&self, name: &str) -> Option<&SeedStep> {
        self.seeds.iter().find(|s| s.name == name)
    }

    pub fn component(&self, name: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.name == name)
    }

    /// The k3s artifacts for a Debian-style architecture name.
    pub fn k3s_artifacts(&self, arch: &str) -> Option<&K3sArtifacts> {
        self.k3s.artifacts.get(arch)
    }
}

#[cfg(test)]
mod tests;
