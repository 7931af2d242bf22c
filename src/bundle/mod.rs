//! Offline bundles: one `.tar.zst` with the profile and its lock file, the
//! k3s binary and air-gap images, every image blob of the lock, the seed
//! files, and `manifest.json` (last) with the sha256 and size of every other
//! member. Nothing from a bundle is used before every member has matched.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::images::lock::LockFile;
use crate::layout::Layout;
use crate::profile::{Profile, Sha256Pin};

pub const MANIFEST: &str = "manifest.json";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema: u32,
    pub profile: String,
    pub created_by: String,
    pub members: BTreeMap<String, Member>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub sha256: String,
    pub size: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("could not {action} `{}`", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0} is needed for the bundle but is not in the data dir")]
    Missing(String),
    #[error("bundle member {member} does not match the manifest: expected sha256 {expected}, got {actual}")]
    Mismatch {
        member: String,
        expected: String,
        actual: String,
    },
    #[error("bundle member {0} is not listed in the manifest")]
    Unlisted(String),
    #[error("the bundle lacks {0}, which its manifest lists")]
    Absent(String),
    #[error("the bundle has no manifest.json (or it is not the last member)")]
    NoManifest,
    #[error("bundle member name `{0}` is not allowed (absolute, `..` or unknown kind)")]
    BadName(String),
    #[error("the bundle's manifest is not valid: {0}")]
    BadManifest(String),
}

impl crate::error::Diagnostic for BundleError {
    fn hints(&self) -> Vec<String> {
        match self {
            Self::Missing(_) => vec![
                "run `digit-quickstart pull` (and install or `install --only k3s` once) on this connected machine first".to_owned(),
            ],
            Self::Mismatch { .. } | Self::Unlisted(_) | Self::Absent(_) | Self::NoManifest | Self::BadName(_) => vec![
                "the bundle was altered or truncated: copy it again, or build a new one with `digit-quickstart bundle create`".to_owned(),
            ],
            _ => Vec::new(),
        }
    }
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> BundleError + 'a {
    move |source| BundleError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// A member name we accept: relative, no `..`, under a known top directory.
pub fn safe_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('/').collect();
    !name.starts_with('/')
        && !parts.iter().any(|p| p.is_empty() || *p == "." || *p == "..")
        && matches!(parts[0], "profile" | "k3s" | "blobs" | "seed" | MANIFEST)
}

/// Every file that goes into a bundle: member name -> where it is now.
pub fn contents(
    profile: &Profile,
    profile_text: &str,
    layout: &Layout,
    arch: &str,
) -> Result<(Vec<(String, PathBuf)>, String), BundleError> {
    let mut files = Vec::new();
    let lock_path = layout.lock_file(&profile.name);
    let lock = LockFile::read(&lock_path)
        .ok()
        .flatten()
        .ok_or_else(|| BundleError::Missing(format!("the lock file {}", lock_path.display())))?;
    files.push((format!("profile/{}.lock", profile.name), lock_path));
    let store = layout.store();
    let mut seen = std::collections::BTreeSet::new();
    for image in profile.images() {
        let l = lock
            .images
            .get(image.reference.as_str())
            .ok_or_else(|| BundleError::Missing(format!("{} in the lock file", image.reference.as_str())))?;
        let mut digests = vec![&l.digest, &l.manifest.digest, &l.config.digest];
        digests.extend(l.layers.iter().map(|d| &d.digest));
        for d in digests {
            if !seen.insert(d.clone()) {
                continue;
            }
            let hex = d.trim_start_matches("sha256:");
            let path = store.join("blobs/sha256").join(hex);
            if !path.exists() {
                return Err(BundleError::Missing(format!(
                    "blob {d} of {}",
                    image.reference.as_str()
                )));
            }
            files.push((format!("blobs/sha256/{hex}"), path));
        }
    }
    if let Some(a) = profile.k3s_artifacts(arch) {
        for art in [&a.binary, &a.airgap_images] {
            let path = layout.k3s_cache(&profile.k3s.version).join(&art.name);
            if !path.exists() {
                return Err(BundleError::Missing(format!("k3s artifact {}", path.display())));
            }
            files.push((format!("k3s/{}/{}", profile.k3s.version, art.name), path));
        }
    }
    for seed in &profile.seeds {
        if let Some(f) = seed.file()
            && let Some(path) = crate::deploy::seed_cache_path(layout, &f.sha256, &f.url)
        {
            if !path.exists() {
                return Err(BundleError::Missing(format!("seed file {}", path.display())));
            }
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            files.push((format!("seed/{name}"), path));
        }
    }
    Ok((files, profile_text.to_owned()))
}

fn hash_reader(mut r: impl Read, mut w: impl Write) -> std::io::Result<(String, u64)> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = r.read(&mut buf)?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        w.write_all(&buf[..k])?;
        n += k as u64;
    }
    Ok((format!("{:x}", h.finalize()), n))
}

/// Writes the bundle; `progress(bytes)` after every member.
pub fn create(
    out: &Path,
    profile: &Profile,
    profile_text: &str,
    files: &[(String, PathBuf)],
    progress: &dyn Fn(u64),
) -> Result<Manifest, BundleError> {
    let tmp = out.with_extension("partial");
    let file = std::fs::File::create(&tmp).map_err(io("create", &tmp))?;
    let mut enc =
        zstd::Encoder::new(std::io::BufWriter::with_capacity(1 << 20, file), 1).map_err(io("compress", &tmp))?;
    enc.multithread(2).map_err(io("compress", &tmp))?;
    let mut tar = tar::Builder::new(enc);
    let mut manifest = Manifest {
        schema: 1,
        profile: profile.name.clone(),
        created_by: format!("digit-quickstart {}", env!("CARGO_PKG_VERSION")),
        members: BTreeMap::new(),
    };
    let add = |tar: &mut tar::Builder<_>, name: &str, bytes: &[u8]| -> Result<(), BundleError> {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, name, bytes).map_err(io("write", out))?;
        Ok(())
    };
    let profile_member = format!("profile/{}.yaml", profile.name);
    add(&mut tar, &profile_member, profile_text.as_bytes())?;
    manifest.members.insert(
        profile_member,
        Member {
            sha256: crate::k3s::artifacts::sha256_hex(profile_text.as_bytes()),
            size: profile_text.len() as u64,
        },
    );
    for (name, path) in files {
        // Hash while reading, so what is listed is exactly what was written.
        let meta = std::fs::metadata(path).map_err(io("read", path))?;
        let mut header = tar::Header::new_gnu();
        header.set_size(meta.len());
        header.set_mode(0o644);
        header.set_cksum();
        let f = std::fs::File::open(path).map_err(io("read", path))?;
        let mut h = Sha256::new();
        let reader = HashingReader {
            inner: f,
            hasher: &mut h,
        };
        tar.append_data(&mut header, name, reader).map_err(io("write", out))?;
        manifest.members.insert(
            name.clone(),
            Member {
                sha256: format!("{:x}", h.finalize()),
                size: meta.len(),
            },
        );
        progress(meta.len());
    }
    let text = serde_json::to_vec_pretty(&manifest).map_err(|e| BundleError::BadManifest(e.to_string()))?;
    add(&mut tar, MANIFEST, &text)?;
    let enc = tar.into_inner().map_err(io("write", out))?;
    let mut w = enc.finish().map_err(io("write", out))?;
    w.flush().map_err(io("write", out))?;
    drop(w);
    std::fs::rename(&tmp, out).map_err(io("rename", out))?;
    Ok(manifest)
}

struct HashingReader<'a, R> {
    inner: R,
    hasher: &'a mut Sha256,
}

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Reads the whole bundle, hashing every member; with `into`, also writes
/// them there. Only returns Ok when every member matched the manifest.
pub fn verify(bundle: &Path, into: Option<&Path>, progress: &dyn Fn(u64)) -> Result<Manifest, BundleError> {
    let file = std::fs::File::open(bundle).map_err(io("open", bundle))?;
    let dec = zstd::Decoder::new(file).map_err(io("decompress", bundle))?;
    let mut archive = tar::Archive::new(dec);
    let mut seen: BTreeMap<String, Member> = BTreeMap::new();
    let mut manifest: Option<Manifest> = None;
    for entry in archive.entries().map_err(io("read", bundle))? {
        let mut entry = entry.map_err(io("read", bundle))?;
        let name = entry.path().map_err(io("read", bundle))?.to_string_lossy().into_owned();
        if !safe_name(&name) {
            return Err(BundleError::BadName(name));
        }
        if manifest.is_some() {
            return Err(BundleError::NoManifest);
        }
        if name == MANIFEST {
            let mut text = Vec::new();
            entry.read_to_end(&mut text).map_err(io("read", bundle))?;
            manifest = Some(serde_json::from_slice(&text).map_err(|e| BundleError::BadManifest(e.to_string()))?);
            continue;
        }
        let (sha, size) = match into {
            Some(dir) => {
                let path = dir.join(&name);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(io("create", parent))?;
                }
                let f = std::fs::File::create(&path).map_err(io("write", &path))?;
                hash_reader(&mut entry, std::io::BufWriter::with_capacity(1 << 20, f)).map_err(io("write", &path))?
            }
            None => hash_reader(&mut entry, std::io::sink()).map_err(io("read", bundle))?,
        };
        progress(size);
        seen.insert(name, Member { sha256: sha, size });
    }
    let manifest = manifest.ok_or(BundleError::NoManifest)?;
    for (name, got) in &seen {
        match manifest.members.get(name) {
            None => return Err(BundleError::Unlisted(name.clone())),
            Some(want) if want.sha256 != got.sha256 => {
                return Err(BundleError::Mismatch {
                    member: name.clone(),
                    expected: want.sha256.clone(),
                    actual: got.sha256.clone(),
                });
            }
            Some(_) => {}
        }
        // Blobs are content-addressed: their name must be their hash too.
        if let Some(hex) = name.strip_prefix("blobs/sha256/")
            && hex != got.sha256
        {
            return Err(BundleError::Mismatch {
                member: name.clone(),
                expected: hex.to_owned(),
                actual: got.sha256.clone(),
            });
        }
    }
    if let Some(missing) = manifest.members.keys().find(|k| !seen.contains_key(*k)) {
        return Err(BundleError::Absent(missing.clone()));
    }
    Ok(manifest)
}

/// Moves a verified, extracted bundle into the data dir: the store, the lock
/// file, the k3s and seed caches. Returns the profile file it carried.
pub fn adopt(staging: &Path, layout: &Layout, manifest: &Manifest) -> Result<PathBuf, BundleError> {
    let mv = |from: &Path, to: &Path| -> Result<(), BundleError> {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(io("create", parent))?;
        }
        std::fs::rename(from, to).map_err(io("move", to))
    };
    let mut profile_file = None;
    for name in manifest.members.keys() {
        let from = staging.join(name);
        let to = if let Some(rest) = name.strip_prefix("blobs/") {
            layout.store().join("blobs").join(rest)
        } else if let Some(rest) = name.strip_prefix("k3s/") {
            layout.data_dir().join("cache/k3s").join(rest)
        } else if let Some(rest) = name.strip_prefix("seed/") {
            layout.seed_cache().join(rest)
        } else if name.ends_with(".lock") {
            layout.lock_file(&manifest.profile)
        } else if let Some(rest) = name.strip_prefix("profile/") {
            let p = layout.data_dir().join("bundle").join(rest);
            profile_file = Some(p.clone());
            p
        } else {
            continue;
        };
        mv(&from, &to)?;
    }
    let _ = std::fs::remove_dir_all(staging);
    let oci = layout.store().join("oci-layout");
    if !oci.exists() {
        std::fs::write(&oci, br#"{"imageLayoutVersion":"1.0.0"}"#).map_err(io("write", &oci))?;
    }
    profile_file.ok_or_else(|| BundleError::Absent(format!("profile/{}.yaml", manifest.profile)))
}

/// The seed file cache name for a pin (what `contents` stores under seed/).
pub fn is_pinned(p: &Sha256Pin) -> bool {
    matches!(p, Sha256Pin::Pinned(_))
}

#[cfg(test)]
mod tests {
    #[test]
    fn member_names_cannot_escape_the_staging_dir() {
        for bad in [
            "/etc/passwd",
            "../x",
            "blobs/../../x",
            "blobs//x",
            "other/x",
            "blobs/./x",
        ] {
            assert!(!super::safe_name(bad), "{bad}");
        }
        for good in [
            "blobs/sha256/ab",
            "k3s/v1/k3s",
            "seed/x.sql",
            "profile/dev.yaml",
            "manifest.json",
        ] {
            assert!(super::safe_name(good), "{good}");
        }
    }
}
