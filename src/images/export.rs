//! OCI archives for k3s/containerd: one tar per image holding the exact
//! index and manifest bytes that were downloaded (re-serialising would change
//! the digest), only the chosen platform's blobs, and the fully-qualified
//! reference as `ref.name`, so an imported image keeps its registry digest.

use std::path::{Path, PathBuf};

use super::engine::Resolved;
use super::store::Store;

#[derive(Debug, thiserror::Error)]
#[error("could not write the OCI archive `{}`", path.display())]
pub struct ExportError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

impl crate::error::Diagnostic for ExportError {}

/// File name for an image's archive: the reference with `/` and `:` made safe.
pub fn archive_name(reference: &str) -> String {
    let safe: String = reference
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}.tar")
}

/// Writes `<dir>/<name>.tar` for each image; returns the paths.
pub fn export(store: &Store, resolved: &[Resolved], dir: &Path) -> Result<Vec<PathBuf>, ExportError> {
    std::fs::create_dir_all(dir).map_err(|source| ExportError {
        path: dir.to_path_buf(),
        source,
    })?;
    resolved.iter().map(|r| export_one(store, r, dir)).collect()
}

fn export_one(store: &Store, r: &Resolved, dir: &Path) -> Result<PathBuf, ExportError> {
    let path = dir.join(archive_name(r.image.as_str()));
    let tmp = path.with_extension("tar.tmp");
    let err = |source| ExportError {
        path: path.clone(),
        source,
    };
    let l = &r.locked;
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": l.media_type,
            "digest": l.digest,
            "size": l.size,
            "annotations": { "org.opencontainers.image.ref.name": r.image.as_str() },
        }],
    });
    let digests = blobs_of(r);

    let file = std::fs::File::create(&tmp).map_err(err)?;
    let mut tar = tar::Builder::new(std::io::BufWriter::with_capacity(1 << 20, file));
    append_bytes(&mut tar, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#).map_err(err)?;
    let index = serde_json::to_vec(&index).map_err(|e| err(std::io::Error::other(e)))?;
    append_bytes(&mut tar, "index.json", &index).map_err(err)?;
    for digest in &digests {
        let src = store.blob_path(digest).map_err(|m| err(std::io::Error::other(m)))?;
        let hex = digest.trim_start_matches("sha256:");
        tar.append_path_with_name(&src, format!("blobs/sha256/{hex}"))
            .map_err(err)?;
    }
    let out = tar.into_inner().map_err(err)?;
    out.into_inner()
        .map_err(|e| err(e.into_error()))?
        .sync_all()
        .map_err(err)?;
    std::fs::rename(&tmp, &path).map_err(err)?;
    Ok(path)
}

/// One OCI layout as a tar stream to `out`, for `ctr images import -`:
/// every image of `resolved` under its fully qualified name in index.json,
/// each blob once however many images share it. `started` is told when an
/// image's own blobs begin. Nothing is written to disk on the way.
pub fn write_layout<W: std::io::Write>(
    store: &Store,
    resolved: &[Resolved],
    out: W,
    started: &mut dyn FnMut(&str),
) -> std::io::Result<W> {
    let manifests: Vec<serde_json::Value> = resolved
        .iter()
        .map(|r| {
            serde_json::json!({
                "mediaType": r.locked.media_type,
                "digest": r.locked.digest,
                "size": r.locked.size,
                "annotations": { "org.opencontainers.image.ref.name": r.image.as_str() },
            })
        })
        .collect();
    let index = serde_json::json!({"schemaVersion": 2, "manifests": manifests});
    let mut tar = tar::Builder::new(out);
    append_bytes(&mut tar, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    append_bytes(
        &mut tar,
        "index.json",
        &serde_json::to_vec(&index).map_err(std::io::Error::other)?,
    )?;
    let mut written = std::collections::HashSet::new();
    for r in resolved {
        started(r.image.as_str());
        for digest in blobs_of(r) {
            if !written.insert(digest.clone()) {
                continue;
            }
            let src = store.blob_path(&digest).map_err(std::io::Error::other)?;
            let hex = digest.trim_start_matches("sha256:");
            tar.append_path_with_name(&src, format!("blobs/sha256/{hex}"))?;
        }
    }
    tar.into_inner()
}

/// The top manifest (or index), the platform manifest, config and layers.
fn blobs_of(r: &Resolved) -> Vec<String> {
    let l = &r.locked;
    let mut digests = vec![l.digest.clone()];
    if l.manifest.digest != l.digest {
        digests.push(l.manifest.digest.clone());
    }
    digests.push(l.config.digest.clone());
    digests.extend(l.layers.iter().map(|d| d.digest.clone()));
    digests.dedup();
    digests
}

fn append_bytes<W: std::io::Write>(tar: &mut tar::Builder<W>, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let mut h = tar::Header::new_ustar();
    h.set_size(bytes.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    tar.append_data(&mut h, name, bytes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn archive_names_are_flat_and_safe() {
        assert_eq!(
            super::archive_name("docker.io/egovio/egov-user:v1"),
            "docker.io_egovio_egov-user_v1.tar"
        );
    }
}
