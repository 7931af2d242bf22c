//! `images push --to REGISTRY`: the locked images from the local store to
//! the user's registry with their digests unchanged. Each image's platform
//! manifest is pushed with its exact bytes (an index would name platforms
//! the store does not hold); a blob the registry has is skipped (HEAD), one
//! pushed to another repository in this run is mounted, only the rest is
//! uploaded, streamed from the store in one PUT each.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::StreamExt;
use oci_client::Reference;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use serde::Serialize;
use tokio::io::AsyncReadExt;

use super::auth::AuthFile;
use super::lock::{Descriptor, LockFile};
use super::store::Store;
use crate::deploy::manifests::target::relocate;

pub struct PushOptions {
    /// `host[:port][/prefix]`.
    pub registry: String,
    pub plain_http: bool,
    pub auth: AuthFile,
    pub jobs: usize,
}

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct PushSummary {
    pub registry: String,
    pub images: usize,
    pub manifests_pushed: usize,
    pub manifests_present: usize,
    pub blobs_uploaded: usize,
    pub bytes_uploaded: u64,
    pub blobs_mounted: usize,
    pub blobs_present: usize,
    /// Source reference -> `REGISTRY/repo:tag@sha256:…` (the platform manifest).
    pub pushed: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("`{registry}` is not a registry address: {message}")]
    BadRegistry { registry: String, message: String },
    #[error("{image} is not in the lock file: pull it first")]
    NotLocked { image: String },
    #[error("blob {digest} of {image} is not in the image store")]
    Missing { image: String, digest: String },
    #[error("{registry} refused {action} for {repository}")]
    Refused {
        registry: String,
        action: &'static str,
        repository: String,
        #[source]
        source: oci_client::errors::OciDistributionError,
    },
}

impl crate::error::Diagnostic for PushError {
    fn hints(&self) -> Vec<String> {
        match self {
            Self::BadRegistry { .. } => vec!["write it as host[:port][/prefix], e.g. registry.example.org/digit".into()],
            Self::NotLocked { .. } | Self::Missing { .. } => {
                vec!["run `digit-quickstart pull` first: push copies from the local store".into()]
            }
            Self::Refused { .. } => vec![
                "check the credentials in Docker's config (`docker login HOST` writes them; --registry-auth-file names another file) and that this user may push".into(),
            ],
        }
    }
}

fn host_of(registry: &str) -> &str {
    registry.split('/').next().unwrap_or(registry)
}

/// What each source image becomes on `registry`: `REGISTRY/repo:tag`.
pub fn target_reference(source: &str, registry: &str) -> Result<Reference, PushError> {
    let bare = source.split('@').next().unwrap_or(source);
    relocate(bare, registry)
        .parse::<Reference>()
        .map_err(|e| PushError::BadRegistry {
            registry: registry.to_owned(),
            message: e.to_string(),
        })
}

async fn blob_file(store: &Store, image: &str, d: &Descriptor) -> Result<std::path::PathBuf, PushError> {
    let missing = || PushError::Missing {
        image: image.to_owned(),
        digest: d.digest.clone(),
    };
    let path = store.blob_path(&d.digest).map_err(|_| missing())?;
    if tokio::fs::metadata(&path).await.is_err() {
        return Err(missing());
    }
    Ok(path)
}

/// The file as a stream of chunks for a chunked upload.
fn file_stream(path: std::path::PathBuf) -> impl futures_util::Stream<Item = oci_client::errors::Result<bytes::Bytes>> {
    futures_util::stream::unfold(Some((path, None::<tokio::fs::File>)), |state| async move {
        let (path, file) = state?;
        let mut file = match file {
            Some(f) => f,
            None => match tokio::fs::File::open(&path).await {
                Ok(f) => f,
                Err(e) => return Some((Err(io_err(e)), None)),
            },
        };
        let mut buf = vec![0u8; 4 << 20];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(bytes::Bytes::from(buf)), Some((path, Some(file)))))
            }
            Err(e) => Some((Err(io_err(e)), None)),
        }
    })
}

fn io_err(e: std::io::Error) -> oci_client::errors::OciDistributionError {
    oci_client::errors::OciDistributionError::GenericError(Some(e.to_string()))
}

pub async fn push(
    store: &Store,
    lock: &LockFile,
    images: &[String],
    opts: &PushOptions,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<PushSummary, PushError> {
    let host = host_of(&opts.registry).to_owned();
    let protocol = if opts.plain_http {
        ClientProtocol::HttpsExcept(vec![host.clone()])
    } else {
        ClientProtocol::Https
    };
    let client = oci_client::Client::new(ClientConfig {
        protocol,
        connect_timeout: Some(Duration::from_secs(15)),
        read_timeout: Some(Duration::from_secs(120)),
        user_agent: concat!("digit-quickstart/", env!("CARGO_PKG_VERSION")),
        // One streamed PUT per blob: chunked uploads wait for a round trip
        // per 4 MiB (1.17x skopeo's wall time here, see benches/push.sh).
        use_monolithic_push: true,
        ..ClientConfig::default()
    });
    let auth = match opts.auth.for_registry(&host) {
        Some(c) => RegistryAuth::Basic(c.username.clone(), c.password.clone()),
        None => RegistryAuth::Anonymous,
    };
    let mut summary = PushSummary {
        registry: opts.registry.clone(),
        images: images.len(),
        ..PushSummary::default()
    };
    // Blob digest -> a repository on the target that has it (for mounts).
    let mut placed: BTreeMap<String, Reference> = BTreeMap::new();
    for image in images {
        let locked = lock
            .images
            .get(image)
            .ok_or_else(|| PushError::NotLocked { image: image.clone() })?;
        let target = target_reference(image, &opts.registry)?;
        let refused = |action: &'static str| {
            let (registry, repository) = (host.clone(), target.repository().to_owned());
            move |source| PushError::Refused {
                registry,
                action,
                repository,
                source,
            }
        };
        client
            .auth(&target, &auth, oci_client::RegistryOperation::Push)
            .await
            .map_err(refused("authentication"))?;
        let manifest_path = blob_file(store, image, &locked.manifest).await?;
        let pinned = Reference::with_digest(
            target.registry().to_owned(),
            target.repository().to_owned(),
            locked.manifest.digest.clone(),
        );
        let present = client.fetch_manifest_digest(&pinned, &auth).await.ok();
        let shown = format!("{}@{}", target.whole(), locked.manifest.digest);
        if present.as_deref() == Some(locked.manifest.digest.as_str()) {
            summary.manifests_present += 1;
            for d in std::iter::once(&locked.config).chain(&locked.layers) {
                placed.entry(d.digest.clone()).or_insert_with(|| target.clone());
            }
            summary.blobs_present += 1 + locked.layers.len();
            progress(&format!("{image}: already on {}", opts.registry));
            summary.pushed.insert(image.clone(), shown);
            continue;
        }
        // Blobs at once, bounded; the manifest last (a registry refuses one
        // whose blobs it lacks).
        let blobs: Vec<&Descriptor> = std::iter::once(&locked.config).chain(&locked.layers).collect();
        let outcomes = futures_util::stream::iter(blobs.into_iter().map(|d| {
            let (client, target, source) = (&client, &target, placed.get(&d.digest).cloned());
            async move {
                if client.blob_exists(target, &d.digest).await.unwrap_or(false) {
                    return Ok::<_, PushError>((d, Placed::Present));
                }
                if let Some(from) = source
                    && from.repository() != target.repository()
                    && client.mount_blob(target, &from, &d.digest).await.is_ok()
                {
                    return Ok((d, Placed::Mounted));
                }
                let path = blob_file(store, image, d).await?;
                client
                    .push_blob_stream(target, file_stream(path), &d.digest, Some(d.size))
                    .await
                    .map_err(|source| PushError::Refused {
                        registry: host_of(&opts.registry).to_owned(),
                        action: "a blob upload",
                        repository: target.repository().to_owned(),
                        source,
                    })?;
                Ok((d, Placed::Uploaded))
            }
        }))
        .buffer_unordered(opts.jobs.max(1))
        .collect::<Vec<_>>()
        .await;
        for o in outcomes {
            let (d, how) = o?;
            match how {
                Placed::Present => summary.blobs_present += 1,
                Placed::Mounted => summary.blobs_mounted += 1,
                Placed::Uploaded => {
                    summary.blobs_uploaded += 1;
                    summary.bytes_uploaded += d.size;
                }
            }
            placed.entry(d.digest.clone()).or_insert_with(|| target.clone());
        }
        let bytes = tokio::fs::read(&manifest_path).await.map_err(|_| PushError::Missing {
            image: image.clone(),
            digest: locked.manifest.digest.clone(),
        })?;
        let ctype = http::HeaderValue::from_str(&locked.manifest.media_type).map_err(|e| PushError::BadRegistry {
            registry: opts.registry.clone(),
            message: e.to_string(),
        })?;
        // By tag, so people browsing the registry see it; the bytes (and so
        // the digest the deploy names) are the store's.
        client
            .push_manifest_raw(&target, bytes, ctype)
            .await
            .map_err(refused("the manifest"))?;
        summary.manifests_pushed += 1;
        progress(&format!("{image}: pushed to {shown}"));
        summary.pushed.insert(image.clone(), shown);
    }
    Ok(summary)
}

enum Placed {
    Present,
    Mounted,
    Uploaded,
}
