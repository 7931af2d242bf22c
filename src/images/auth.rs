//! Registry credentials, read from Docker's `config.json` format (the file
//! `docker login` writes), never from the command line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Deserialize;

/// Username and password for one registry; `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, <redacted>)", self.username)
    }
}

#[derive(Clone, Debug, Default)]
pub struct AuthFile {
    pub path: Option<PathBuf>,
    entries: BTreeMap<String, Credentials>,
}

#[derive(Deserialize)]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
}

#[derive(Deserialize)]
struct AuthEntry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("registry auth file `{}` is not usable: {message}", path.display())]
pub struct AuthError {
    pub path: PathBuf,
    pub message: String,
}

impl crate::error::Diagnostic for AuthError {
    fn hints(&self) -> Vec<String> {
        vec!["it must be Docker's config.json format: {\"auths\": {\"registry-1.docker.io\": {\"auth\": \"<base64 user:password>\"}}}".to_owned()]
    }
}

impl AuthFile {
    /// Loads `path` if given, else `$DOCKER_CONFIG/config.json`, else
    /// `$HOME/.docker/config.json`; a missing default file means anonymous.
    pub fn load(explicit: Option<&Path>, docker_config: Option<&str>, home: Option<&str>) -> Result<Self, AuthError> {
        let (path, required) = match (explicit, docker_config, home) {
            (Some(p), _, _) => (p.to_path_buf(), true),
            (None, Some(dir), _) => (Path::new(dir).join("config.json"), false),
            (None, None, Some(home)) => (Path::new(home).join(".docker/config.json"), false),
            (None, None, None) => return Ok(Self::default()),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => {
                return Err(AuthError {
                    path,
                    message: e.to_string(),
                });
            }
        };
        Self::parse(&text, path)
    }

    fn parse(text: &str, path: PathBuf) -> Result<Self, AuthError> {
        let bad = |message: String| AuthError {
            path: path.clone(),
            message,
        };
        let config: DockerConfig = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        let mut entries = BTreeMap::new();
        for (key, entry) in config.auths {
            let creds = match (entry.auth, entry.username, entry.password) {
                (Some(encoded), _, _) if !encoded.is_empty() => {
                    let decoded = base64::engine::general_purpose::STANDARD
                        .decode(encoded.trim())
                        .map_err(|e| bad(format!("`auth` for {key} is not base64: {e}")))?;
                    let decoded =
                        String::from_utf8(decoded).map_err(|_| bad(format!("`auth` for {key} is not UTF-8")))?;
                    let (u, p) = decoded
                        .split_once(':')
                        .ok_or_else(|| bad(format!("`auth` for {key} is not user:password")))?;
                    Credentials {
                        username: u.to_owned(),
                        password: p.to_owned(),
                    }
                }
                (_, Some(username), Some(password)) => Credentials { username, password },
                _ => continue,
            };
            entries.insert(normalize(&key), creds);
        }
        Ok(Self {
            path: Some(path),
            entries,
        })
    }

    /// Credentials for a registry host (`docker.io` also matches Docker's legacy keys).
    pub fn for_registry(&self, registry: &str) -> Option<&Credentials> {
        let mut keys = vec![normalize(registry)];
        if matches!(registry, "docker.io" | "index.docker.io" | "registry-1.docker.io") {
            keys.extend([
                "index.docker.io".to_owned(),
                "docker.io".to_owned(),
                "registry-1.docker.io".to_owned(),
            ]);
        }
        keys.iter().find_map(|k| self.entries.get(k))
    }
}

/// `https://index.docker.io/v1/` → `index.docker.io`.
fn normalize(key: &str) -> String {
    let key = key.trim_start_matches("https://").trim_start_matches("http://");
    key.split('/').next().unwrap_or(key).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_legacy_keys_and_plain_fields_are_understood() {
        let text = r#"{"auths": {
            "https://index.docker.io/v1/": {"auth": "dXNlcjpwYTpzcw=="},
            "127.0.0.1:5000": {"username": "ci", "password": "secret"},
            "ghcr.io": {}
        }}"#;
        let f = AuthFile::parse(text, "c.json".into()).unwrap();
        let hub = f.for_registry("docker.io").unwrap();
        assert_eq!((hub.username.as_str(), hub.password.as_str()), ("user", "pa:ss"));
        assert_eq!(f.for_registry("127.0.0.1:5000").unwrap().username, "ci");
        assert!(f.for_registry("ghcr.io").is_none());
        assert!(!format!("{hub:?}").contains("pa:ss"), "Debug never shows the password");
    }

    #[test]
    fn a_named_file_must_exist_but_a_missing_default_is_anonymous() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.json");
        assert!(AuthFile::load(Some(&missing), None, None).is_err());
        let home = dir.path().to_str().unwrap();
        assert!(AuthFile::load(None, None, Some(home)).unwrap().path.is_none());
        let err = AuthFile::parse(r#"{"auths": {"x": {"auth": "%%%"}}}"#, "c.json".into()).unwrap_err();
        assert!(err.to_string().contains("`auth` for x is not base64"));
    }
}
