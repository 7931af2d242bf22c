//! k3s release artifacts: downloaded into the data-dir cache with resume,
//! verified against the profile's sha256 before anything uses them, and
//! verified the same way when they come from a local file or a bundle.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::StreamExt;
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncWriteExt;

use crate::profile::Sha256Pin;

#[derive(Clone, Debug)]
pub struct ArtifactSpec {
    pub name: String,
    pub url: String,
    pub sha256: Sha256Pin,
}

#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error("{name} has no pinned sha256 in the profile, and nothing unverified is installed")]
    Unpinned { name: String },
    #[error("{url} does not match its pin: expected sha256 {expected}, got {actual}")]
    Mismatch {
        url: String,
        expected: String,
        actual: String,
    },
    #[error("{url} answered HTTP {status}")]
    Http { url: String, status: u16 },
    #[error("could not download {url}")]
    Network {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("could not write `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl crate::error::Diagnostic for ArtifactError {
    fn hints(&self) -> Vec<String> {
        match self {
            Self::Unpinned { .. } => vec!["pin it in the profile's k3s.artifacts (sha256 from an independent source)".to_owned()],
            Self::Mismatch { .. } => vec![
                "the file was altered or the pin is wrong; nothing was installed. Check k3s.url_template points at the release the pin belongs to".to_owned(),
            ],
            Self::Http { status: 404, .. } => {
                vec!["check k3s.version and k3s.url_template in the profile (a mirror must keep the release paths)".to_owned()]
            }
            Self::Network { .. } => vec![
                "check DNS and the proxy (`digit-quickstart check`); offline, install from a bundle".to_owned(),
            ],
            _ => Vec::new(),
        }
    }
}

fn expected(spec: &ArtifactSpec) -> Result<&str, ArtifactError> {
    match &spec.sha256 {
        Sha256Pin::Pinned(h) => Ok(h),
        Sha256Pin::Unpinned => Err(ArtifactError::Unpinned {
            name: spec.name.clone(),
        }),
    }
}

async fn sha256_file(path: &Path) -> std::io::Result<String> {
    Ok(crate::images::store::hash_file(path)
        .await?
        .trim_start_matches("sha256:")
        .to_owned())
}

/// Verifies a file that is already on disk (cache, local file, bundle member).
pub async fn verify_file(spec: &ArtifactSpec, path: &Path) -> Result<(), ArtifactError> {
    let want = expected(spec)?;
    let actual = sha256_file(path).await.map_err(|source| ArtifactError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if actual == want {
        Ok(())
    } else {
        Err(ArtifactError::Mismatch {
            url: path.display().to_string(),
            expected: want.to_owned(),
            actual,
        })
    }
}

/// Returns the verified artifact at `<cache>/<name>`, downloading (or
/// resuming) only when it is missing or does not match its pin. A file that
/// fails verification is deleted; nothing unverified is left in the cache.
pub async fn fetch(
    client: &reqwest::Client,
    spec: &ArtifactSpec,
    cache: &Path,
    attempts: u32,
    retry_base: Duration,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<PathBuf, ArtifactError> {
    let want = expected(spec)?.to_owned();
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ArtifactError::Io { path, source }
    };
    tokio::fs::create_dir_all(cache).await.map_err(io(cache))?;
    let target = cache.join(&spec.name);
    if tokio::fs::metadata(&target).await.is_ok() {
        if sha256_file(&target).await.map_err(io(&target))? == want {
            return Ok(target);
        }
        tokio::fs::remove_file(&target).await.map_err(io(&target))?;
    }
    let partial = cache.join(format!("{}.partial", spec.name));
    let mut attempt = 0;
    loop {
        attempt += 1;
        match download_once(client, &spec.url, &partial, progress).await {
            Ok(()) => break,
            Err(e @ ArtifactError::Network { .. }) if attempt < attempts => {
                tracing::debug!(error = %e, attempt, "artifact download interrupted; resuming");
                tokio::time::sleep(retry_base * attempt).await;
            }
            Err(e) => return Err(e),
        }
    }
    let actual = sha256_file(&partial).await.map_err(io(&partial))?;
    if actual != want {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(ArtifactError::Mismatch {
            url: spec.url.clone(),
            expected: want,
            actual,
        });
    }
    tokio::fs::rename(&partial, &target).await.map_err(io(&target))?;
    Ok(target)
}

/// One request, resuming from the partial file with Range when it exists.
async fn download_once(
    client: &reqwest::Client,
    url: &str,
    partial: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(), ArtifactError> {
    let net = |source| ArtifactError::Network {
        url: url.to_owned(),
        source,
    };
    let io = |source| ArtifactError::Io {
        path: partial.to_path_buf(),
        source,
    };
    let have = tokio::fs::metadata(partial).await.map(|m| m.len()).unwrap_or(0);
    let mut req = client.get(url);
    if have > 0 {
        req = req.header(reqwest::header::RANGE, format!("bytes={have}-"));
    }
    let resp = req.send().await.map_err(net)?;
    let status = resp.status();
    let append = match status.as_u16() {
        206 => true,
        200 => false,
        // The partial file is already complete (or longer): verify what we have.
        416 if have > 0 => return Ok(()),
        code => {
            return Err(ArtifactError::Http {
                url: url.to_owned(),
                status: code,
            });
        }
    };
    let file = if append {
        tokio::fs::OpenOptions::new()
            .append(true)
            .open(partial)
            .await
            .map_err(io)?
    } else {
        tokio::fs::File::create(partial).await.map_err(io)?
    };
    let mut out = tokio::io::BufWriter::with_capacity(256 * 1024, file);
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(chunk) => {
                out.write_all(&chunk).await.map_err(io)?;
                progress(chunk.len() as u64);
            }
            Err(e) => {
                // Keep what arrived: the next attempt resumes after it.
                out.flush().await.map_err(io)?;
                return Err(net(e));
            }
        }
    }
    out.flush().await.map_err(io)?;
    Ok(())
}

/// Lowercase hex sha256 of bytes (tests and bundle manifests).
pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}
