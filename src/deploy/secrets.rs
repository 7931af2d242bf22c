//! The passwords and keys one install generates: made once, kept in the data
//! dir (0600) so a re-run reuses them (Postgres keeps the password it was
//! initialised with), handed to Kubernetes as Secrets, never printed except
//! the ADMIN password in the final banner.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::host::Fs;
use crate::profile::{DATA_BOUND_KEYS, Profile};

/// `secret/key` -> value. Debug never shows the values.
#[derive(Clone, PartialEq, Eq)]
pub struct Secrets(BTreeMap<String, String>);

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("could not read the generated secrets in `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not store the generated secrets in `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` lacks {key}: the file was edited or truncated", path.display())]
    Missing { path: PathBuf, key: String },
    #[error("the system random source failed: {0}")]
    Random(String),
}

impl crate::error::Diagnostic for SecretsError {
    fn hints(&self) -> Vec<String> {
        match self {
            Self::Missing { .. } => vec![
                "restore the file from a backup; deleting it makes new passwords that the existing database will not accept (`digit-quickstart reset` starts the app afresh)".to_owned(),
            ],
            _ => vec!["the data dir must be writable by root (see --data-dir)".to_owned()],
        }
    }
}

/// Letters and digits only: safe in env vars, JDBC URLs, shell and YAML.
const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

pub fn random_text(len: usize, fill: &mut dyn FnMut(&mut [u8]) -> Result<(), String>) -> Result<String, String> {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    // Rejection sampling keeps every character equally likely.
    let limit = 256 - (256 % ALPHABET.len());
    while out.len() < len {
        fill(&mut buf)?;
        for b in buf {
            if (b as usize) < limit && out.len() < len {
                out.push(ALPHABET[b as usize % ALPHABET.len()] as char);
            }
        }
    }
    Ok(out)
}

pub fn os_random(buf: &mut [u8]) -> Result<(), String> {
    getrandom::fill(buf).map_err(|e| e.to_string())
}

/// A password egov-user accepts for a login it creates: 8 to 15
/// characters, at least one digit, lower-case and upper-case letter and one
/// of `@#$%`, no whitespace (egov-user `egov.user.pwd.pattern*`,
/// application.properties lines 52-54, checked in UserService.validatePassword).
pub fn user_password(fill: &mut dyn FnMut(&mut [u8]) -> Result<(), String>) -> Result<String, String> {
    Ok(format!("Dq{}@9", random_text(10, fill)?))
}

/// Does egov-user's password policy accept `p`? (The same rules, for tests
/// and for checking a stored password before it is used.)
pub fn egov_user_accepts(p: &str) -> bool {
    (8..=15).contains(&p.chars().count())
        && p.chars().any(|c| c.is_ascii_digit())
        && p.chars().any(|c| c.is_ascii_lowercase())
        && p.chars().any(|c| c.is_ascii_uppercase())
        && p.chars().any(|c| "@#$%".contains(c))
        && !p.chars().any(char::is_whitespace)
}

/// One fresh value for `key`. Lengths follow what the services accept: the
/// enc-service salt is 8 and its AES-GCM IV 12 characters (at least 8 and
/// 12, enc-service's key store), and passwords of logins egov-user creates
/// follow its policy.
fn value_for(
    key: &str,
    profile: &Profile,
    fill: &mut dyn FnMut(&mut [u8]) -> Result<(), String>,
) -> Result<String, SecretsError> {
    let r = match key {
        "db/username" => Ok("egov".to_owned()),
        "digit-admin/username" => Ok(profile.admin.username.clone()),
        "egov-enc-service/master-salt" => random_text(8, fill),
        "egov-enc-service/master-initialvector" => random_text(12, fill),
        "digit-admin/password" | "egov-hrms/employee-default-password" => user_password(fill),
        k if k.starts_with("system-user-") => user_password(fill),
        _ => random_text(24, fill),
    };
    r.map_err(SecretsError::Random)
}

impl Secrets {
    /// Fresh values for every key the profile needs.
    pub fn generate(
        profile: &Profile,
        fill: &mut dyn FnMut(&mut [u8]) -> Result<(), String>,
    ) -> Result<Self, SecretsError> {
        let mut map = BTreeMap::new();
        for key in profile.secret_keys() {
            let value = value_for(&key, profile, fill)?;
            map.insert(key, value);
        }
        Ok(Self(map))
    }

    pub fn get(&self, key: &str) -> &str {
        self.0.get(key).map_or("", String::as_str)
    }

    /// `secret` -> its keys and values, for the Kubernetes Secret objects.
    pub fn by_secret(&self) -> BTreeMap<&str, BTreeMap<&str, &str>> {
        let mut out: BTreeMap<&str, BTreeMap<&str, &str>> = BTreeMap::new();
        for (k, v) in &self.0 {
            if let Some((secret, key)) = k.split_once('/') {
                out.entry(secret).or_default().insert(key, v.as_str());
            }
        }
        out
    }

    /// Every value, for redacting logs and archives.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.0.values().map(String::as_str).filter(|v| v.len() >= 8)
    }

    fn to_text(&self) -> String {
        let mut s = String::from("# Generated by digit-quickstart for this install. Keep private.\n");
        for (k, v) in &self.0 {
            s.push_str(&format!("{k}={v}\n"));
        }
        s
    }

    /// The stored values. A key bound to existing data that is missing is an
    /// error; `missing` lists the other keys this profile needs that the file
    /// lacks (an install made by an older release).
    fn from_text(text: &str, path: &Path, profile: &Profile) -> Result<(Self, Vec<String>), SecretsError> {
        let map: BTreeMap<String, String> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        if let Some(key) = DATA_BOUND_KEYS.iter().find(|k| !map.contains_key(**k)) {
            return Err(SecretsError::Missing {
                path: path.to_path_buf(),
                key: (*key).to_owned(),
            });
        }
        let missing = profile
            .secret_keys()
            .into_iter()
            .filter(|k| !map.contains_key(k))
            .collect();
        Ok((Self(map), missing))
    }
}

/// A secrets file's text (one from a backup, say), checked as `load` does.
pub fn parse(text: &str, path: &Path, profile: &Profile) -> Result<Secrets, SecretsError> {
    Secrets::from_text(text, path, profile).map(|(s, _)| s)
}

pub fn path(secrets_dir: &Path, profile: &str) -> PathBuf {
    secrets_dir.join(format!("{profile}.env"))
}

/// The stored secrets, if an install made them (never generates).
pub fn load(fs: &dyn Fs, secrets_dir: &Path, profile: &Profile) -> Result<Option<Secrets>, SecretsError> {
    let file = path(secrets_dir, &profile.name);
    if !fs.exists(&file) {
        return Ok(None);
    }
    let text = fs.read_to_string(&file).map_err(|source| SecretsError::Read {
        path: file.clone(),
        source,
    })?;
    Secrets::from_text(&text, &file, profile).map(|(s, _)| Some(s))
}

fn store(fs: &dyn Fs, secrets_dir: &Path, file: &Path, secrets: &Secrets) -> Result<(), SecretsError> {
    let write = |source| SecretsError::Write {
        path: file.to_path_buf(),
        source,
    };
    fs.create_dir_all(secrets_dir).map_err(write)?;
    fs.set_mode(secrets_dir, 0o700).map_err(write)?;
    fs.write_atomic(file, secrets.to_text().as_bytes(), 0o600)
        .map_err(write)
}

/// The stored secrets, or new ones written (0600, dir 0700) before anything
/// uses them. Returns whether they were generated now.
pub fn load_or_generate(
    fs: &dyn Fs,
    secrets_dir: &Path,
    profile: &Profile,
    fill: &mut dyn FnMut(&mut [u8]) -> Result<(), String>,
) -> Result<(Secrets, bool), SecretsError> {
    let file = path(secrets_dir, &profile.name);
    if fs.exists(&file) {
        let text = fs.read_to_string(&file).map_err(|source| SecretsError::Read {
            path: file.clone(),
            source,
        })?;
        let (mut secrets, missing) = Secrets::from_text(&text, &file, profile)?;
        if !missing.is_empty() {
            // Values a newer profile needs (a new system user): added, and
            // nothing already stored changes.
            for key in missing {
                let value = value_for(&key, profile, fill)?;
                secrets.0.insert(key, value);
            }
            store(fs, secrets_dir, &file, &secrets)?;
        }
        return Ok((secrets, false));
    }
    let secrets = Secrets::generate(profile, fill)?;
    store(fs, secrets_dir, &file, &secrets)?;
    Ok((secrets, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::RealFs;

    fn dev() -> Profile {
        crate::profile::parse(crate::profile::EMBEDDED[0].2, "dev").unwrap()
    }

    #[test]
    fn two_installs_get_different_values_of_the_documented_shapes() {
        let a = Secrets::generate(&dev(), &mut os_random).unwrap();
        let b = Secrets::generate(&dev(), &mut os_random).unwrap();
        for key in dev().secret_keys() {
            assert!(!a.get(&key).is_empty(), "{key}");
        }
        assert!(!a.get("system-user-internal-user/password").is_empty());
        assert_ne!(a.get("db/password"), b.get("db/password"));
        assert_ne!(a.get("digit-admin/password"), b.get("digit-admin/password"));
        assert_eq!(a.get("egov-enc-service/master-salt").len(), 8);
        assert_eq!(a.get("egov-enc-service/master-initialvector").len(), 12);
        for key in [
            "digit-admin/password",
            "system-user-internal-user/password",
            "egov-hrms/employee-default-password",
        ] {
            assert!(
                egov_user_accepts(a.get(key)),
                "{key} must pass egov-user's password policy"
            );
        }
        assert_eq!(a.get("digit-admin/username"), "ADMIN");
        // Debug output names keys only.
        assert!(!format!("{a:?}").contains(a.get("db/password")));
    }

    #[test]
    fn a_failing_random_source_is_an_error_not_a_weak_password() {
        let mut broken = |_: &mut [u8]| Err("no entropy".to_owned());
        let err = Secrets::generate(&dev(), &mut broken).unwrap_err();
        assert!(err.to_string().contains("no entropy"));
    }

    #[test]
    fn stored_once_with_private_modes_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let fs = RealFs::new("/");
        let secrets_dir = dir.path().join("secrets");
        let (first, made) = load_or_generate(&fs, &secrets_dir, &dev(), &mut os_random).unwrap();
        assert!(made);
        let file = path(&secrets_dir, "dev");
        assert_eq!(fs.mode(&file).unwrap() & 0o777, 0o600);
        assert_eq!(fs.mode(&secrets_dir).unwrap() & 0o777, 0o700);
        let (again, made) = load_or_generate(&fs, &secrets_dir, &dev(), &mut os_random).unwrap();
        assert!(!made);
        assert_eq!(first, again);
        std::fs::write(&file, "db/password=x\n").unwrap();
        let err = load_or_generate(&fs, &secrets_dir, &dev(), &mut os_random).unwrap_err();
        assert!(matches!(err, SecretsError::Missing { .. }), "{err}");
    }

    #[test]
    fn an_older_install_gets_the_new_keys_and_keeps_every_stored_value() {
        let dir = tempfile::tempdir().unwrap();
        let fs = RealFs::new("/");
        let secrets_dir = dir.path().join("secrets");
        let (first, _) = load_or_generate(&fs, &secrets_dir, &dev(), &mut os_random).unwrap();
        // As an older release wrote it: no system user, no HRMS password.
        let file = path(&secrets_dir, "dev");
        let old: String = std::fs::read_to_string(&file)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("system-user-") && !l.starts_with("egov-hrms/"))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&file, old).unwrap();
        let (again, made) = load_or_generate(&fs, &secrets_dir, &dev(), &mut os_random).unwrap();
        assert!(!made, "not a new install: the ADMIN password is not shown again");
        for key in crate::profile::DATA_BOUND_KEYS {
            assert_eq!(first.get(key), again.get(key), "{key} changed");
        }
        assert!(egov_user_accepts(again.get("system-user-internal-user/password")));
        assert_ne!(
            first.get("system-user-internal-user/password"),
            again.get("system-user-internal-user/password"),
            "a fresh value"
        );
        // Stored, so the next run reads the same.
        let (third, _) = load_or_generate(&fs, &secrets_dir, &dev(), &mut os_random).unwrap();
        assert_eq!(again, third);
        assert_eq!(fs.mode(&file).unwrap() & 0o777, 0o600);
    }

    #[test]
    fn generated_passwords_always_pass_egov_users_policy_and_the_policy_check_can_fail() {
        for _ in 0..2000 {
            let p = user_password(&mut os_random).unwrap();
            assert!(egov_user_accepts(&p), "{p}");
        }
        // The 18-character shape an earlier release generated is refused
        // (INVALID_PWD_LENGTH), as are the pattern's misses.
        assert!(!egov_user_accepts("DqABCDEFGHJKLMNP@9"));
        assert!(!egov_user_accepts("Dq@9abc"));
        assert!(!egov_user_accepts("dqabcdefg@9"));
        assert!(!egov_user_accepts("DQABCDEFG@9"));
        assert!(!egov_user_accepts("DqABCDEFGH9"));
        assert!(!egov_user_accepts("DqABCDEFG@x"));
        assert!(!egov_user_accepts("Dq ABCDEF@9"));
        assert!(egov_user_accepts("eGov@123"), "CCRS's own ADMIN password passes");
    }
}
