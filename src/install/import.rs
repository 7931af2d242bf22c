//! Handing the pulled images to k3s: the images containerd lacks, streamed
//! from the store as one OCI layout (each shared blob once, nothing written
//! to disk on the way) into `k3s ctr images import -` in containerd's
//! `k8s.io` namespace (the one kubelet uses), then every imported digest
//! checked against the lock file.

use std::collections::BTreeMap;

use crate::host::{Cmd, Runner};
use crate::images::engine::Resolved;
use crate::images::lock::LockFile;
use crate::images::store::Store;
use crate::profile::ImageRef;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the lock file has no entry for {0}: run `digit-quickstart pull`")]
    NotLocked(String),
    #[error(transparent)]
    Cmd(#[from] crate::host::CmdError),
    #[error("containerd has {image} as {actual}, but the lock file says {expected}")]
    Mismatch {
        image: String,
        expected: String,
        actual: String,
    },
    #[error("containerd did not list {image} after importing it")]
    Missing { image: String },
    #[error("containerd lacks {image} and the image store does not have it either")]
    NotInStore { image: String },
}

impl crate::error::Diagnostic for ImportError {
    fn hints(&self) -> Vec<String> {
        match self {
            Self::Mismatch { .. } => vec![
                "an image with that name but other content was already in containerd; `digit-quickstart pull --verify` then install again re-imports it".to_owned(),
            ],
            Self::NotInStore { .. } => vec![
                "the image store was dropped (install --drop-store) or is incomplete: `digit-quickstart pull` fetches the images again, then run install again".to_owned(),
            ],
            _ => vec!["is k3s running? `systemctl status k3s`".to_owned()],
        }
    }
}

/// `ctr images ls` rows: reference -> digest.
pub fn listed(ctr: &[String], runner: &dyn Runner) -> Result<BTreeMap<String, String>, crate::host::CmdError> {
    let out = runner.run(&command(ctr, "list the images containerd has", &["images", "ls"]))?;
    Ok(parse_ls(&out.stdout))
}

/// `REF TYPE DIGEST SIZE PLATFORMS LABELS`, header first.
pub fn parse_ls(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let mut cols = l.split_whitespace();
            let r = cols.next()?;
            let _media = cols.next()?;
            let digest = cols.next()?;
            digest.starts_with("sha256:").then(|| (r.to_owned(), digest.to_owned()))
        })
        .collect()
}

fn command(ctr: &[String], summary: &str, args: &[&str]) -> Cmd {
    let mut cmd = Cmd::new(&ctr[0], summary);
    for a in &ctr[1..] {
        cmd = cmd.arg(a.clone());
    }
    cmd = cmd.arg("-n").arg("k8s.io");
    for a in args {
        cmd = cmd.arg(*a);
    }
    cmd
}

#[derive(Debug, Default, serde::Serialize)]
pub struct Imported {
    /// reference -> digest, every one checked.
    pub digests: BTreeMap<String, String>,
    pub imported: usize,
    pub already: usize,
}

/// Imports what containerd lacks (or has with other content), then checks
/// every image of `images` against the lock.
pub fn import(
    ctr: &[String],
    runner: &dyn Runner,
    store: &Store,
    lock: &LockFile,
    images: &[ImageRef],
    progress: &dyn Fn(&str),
) -> Result<Imported, ImportError> {
    let have = listed(ctr, runner)?;
    let mut out = Imported::default();
    let mut wanted = Vec::new();
    for image in images {
        let locked = lock
            .images
            .get(image.as_str())
            .ok_or_else(|| ImportError::NotLocked(image.as_str().to_owned()))?;
        if have.get(image.as_str()) == Some(&locked.digest) {
            out.already += 1;
        } else {
            wanted.push(Resolved {
                image: image.clone(),
                locked: locked.clone(),
            });
        }
    }
    // Every blob must be in the store before containerd is handed a stream.
    for r in &wanted {
        let l = &r.locked;
        let mut digests = vec![&l.digest, &l.manifest.digest, &l.config.digest];
        digests.extend(l.layers.iter().map(|d| &d.digest));
        if !digests.iter().all(|d| store.blob_path(d).is_ok_and(|p| p.exists())) {
            return Err(ImportError::NotInStore {
                image: r.image.as_str().to_owned(),
            });
        }
    }
    if !wanted.is_empty() {
        let summary = format!("import {} images into containerd", wanted.len());
        let mut started = |image: &str| progress(&format!("importing {image}"));
        let mut feed = |w: &mut dyn std::io::Write| {
            let w = std::io::BufWriter::with_capacity(1 << 20, w);
            std::io::Write::flush(&mut crate::images::export::write_layout(
                store,
                &wanted,
                w,
                &mut started,
            )?)
        };
        runner.run_fed(&command(ctr, &summary, &["images", "import", "-"]), &mut feed)?;
        out.imported = wanted.len();
    }
    // Nothing imported: the first listing already is the answer.
    let now = if wanted.is_empty() { have } else { listed(ctr, runner)? };
    for image in images {
        let expected = &lock.images[image.as_str()].digest;
        match now.get(image.as_str()) {
            Some(actual) if actual == expected => {
                out.digests.insert(image.as_str().to_owned(), actual.clone());
            }
            Some(actual) => {
                return Err(ImportError::Mismatch {
                    image: image.as_str().to_owned(),
                    expected: expected.clone(),
                    actual: actual.clone(),
                });
            }
            None => {
                return Err(ImportError::Missing {
                    image: image.as_str().to_owned(),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ctr_listing_is_read_by_reference_and_digest() {
        let text = "REF                                   TYPE                                                 DIGEST                                                                  SIZE     PLATFORMS   LABELS\n\
docker.io/egovio/egov-user:master-fa75ba8 application/vnd.oci.image.index.v1+json sha256:1111111111111111111111111111111111111111111111111111111111111111 180.2 MiB linux/amd64 -\n\
docker.io/library/redis:7.2.4 application/vnd.docker.distribution.manifest.list.v2+json sha256:2222222222222222222222222222222222222222222222222222222222222222 40.1 MiB linux/amd64,linux/arm64 io.cri-containerd.image=managed\n";
        let m = super::parse_ls(text);
        assert_eq!(m.len(), 2);
        assert_eq!(m["docker.io/library/redis:7.2.4"], format!("sha256:{}", "2".repeat(64)));
    }
}
