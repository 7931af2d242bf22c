//! The pull engine. Resolves every reference to a digest (HEAD first, so a
//! warm run spends no Docker Hub quota), reads manifests from the store when
//! it has them, then downloads each missing blob exactly once through a
//! bounded pool: streamed to a partial file, hashed on the way, resumed with
//! a Range request after a cut, renamed into the store only when it matches.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use oci_client::Reference;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::manifest::OciDescriptor;
use oci_client::secrets::RegistryAuth;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncWriteExt;

use super::auth::AuthFile;
use super::lock::{Descriptor, LockFile, LockedImage};
use super::progress::{Event, Reporter};
use super::store::{IndexEntry, Store, sha256_digest};
use crate::profile::ImageRef;

pub const MEDIA_OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const MEDIA_DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const MEDIA_OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const MEDIA_DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const ACCEPT: &[&str] = &[
    MEDIA_OCI_INDEX,
    MEDIA_DOCKER_LIST,
    MEDIA_OCI_MANIFEST,
    MEDIA_DOCKER_MANIFEST,
];

/// `linux/amd64`, `linux/arm64/v8`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub arch: String,
    pub variant: Option<String>,
}

impl std::str::FromStr for Platform {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split('/').collect();
        match parts.as_slice() {
            [os, arch] if !os.is_empty() && !arch.is_empty() => Ok(Self {
                os: (*os).into(),
                arch: (*arch).into(),
                variant: None,
            }),
            [os, arch, v] if !os.is_empty() && !arch.is_empty() && !v.is_empty() => Ok(Self {
                os: (*os).into(),
                arch: (*arch).into(),
                variant: Some((*v).into()),
            }),
            _ => Err(format!(
                "invalid platform `{s}`: expected os/arch[/variant], e.g. linux/amd64"
            )),
        }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.arch)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[derive(Clone, Debug)]
pub struct PullOptions {
    pub platform: Platform,
    pub jobs: usize,
    /// Refuse when a tag resolves to another digest than the lock file says.
    pub locked: Option<LockFile>,
    /// Pull `docker.io/...` from this mirror host (same repository paths).
    pub mirror: Option<String>,
    /// Hosts spoken to over plain HTTP.
    pub insecure: Vec<String>,
    pub auth: AuthFile,
    /// First retry delay; doubled per attempt (tests set it to a few ms).
    pub retry_base: Duration,
    pub attempts: u32,
    /// This boot's id. With one, blobs are renamed into place without an
    /// fsync each (a third of a cold pull's wall time here): the store
    /// records the boot before writing, and the first run after a reboot
    /// re-hashes it (`Store::settle`). Without one, each blob is fsynced.
    pub boot_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("could not resolve {image}")]
    Resolve {
        image: String,
        #[source]
        source: OciDistributionError,
    },
    #[error("{image} has no {wanted} image (it has: {available})")]
    NoPlatform {
        image: String,
        wanted: String,
        available: String,
    },
    #[error("{image} drifted: the lock file says {locked}, the registry now says {now}")]
    Drift { image: String, locked: String, now: String },
    #[error("{image} is not in the lock file")]
    NotLocked { image: String },
    #[error("layer {layer} of {image} failed verification twice: expected {expected}, got {actual}")]
    DigestMismatch {
        image: String,
        layer: String,
        expected: String,
        actual: String,
    },
    #[error("could not download layer {layer} of {image} after {attempts} attempts")]
    Download {
        image: String,
        layer: String,
        attempts: u32,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("{registry} refused with HTTP 429 Too Many Requests: its pull quota for this address is used up{detail}")]
    RateLimited { registry: String, detail: String },
    #[error("the registry sent an invalid manifest for {image}: {message}")]
    BadManifest { image: String, message: String },
    #[error("could not write to the image store at `{}`", path.display())]
    Store {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl crate::error::Diagnostic for PullError {
    fn hints(&self) -> Vec<String> {
        match self {
            Self::RateLimited { .. } => vec![
                "Docker Hub limits anonymous pulls per IP address (100 per 6 hours when last documented, and it changes); a classroom behind one NAT shares one quota".to_owned(),
                "log in (`docker login` writes ~/.docker/config.json, or pass --registry-auth-file), use a mirror (--registry-mirror), or install from an offline bundle".to_owned(),
            ],
            Self::Drift { .. } => vec![
                "the tag was re-pushed upstream; run `pull` without --locked to accept the new digest, or pin it with @sha256: in the profile".to_owned(),
            ],
            Self::NotLocked { .. } => vec!["run `digit-quickstart pull` once without --locked to write the lock file".to_owned()],
            Self::Resolve { source, .. } => match source {
                OciDistributionError::UnauthorizedError { .. } | OciDistributionError::AuthenticationFailure(_) => {
                    vec!["check the credentials for this registry (~/.docker/config.json or --registry-auth-file)".to_owned()]
                }
                OciDistributionError::ImageManifestNotFoundError(_) => {
                    vec!["check the image name and tag; the tag may not exist on the registry".to_owned()]
                }
                _ => vec![
                    "check the network and that the registry is up (`digit-quickstart check`); without internet, pull from a mirror (--registry-mirror) or install from an offline bundle".to_owned(),
                ],
            },
            Self::Download { .. } => vec!["run `pull` again: finished layers are kept and this one resumes".to_owned()],
            Self::Store { source, .. } => match source.kind() {
                std::io::ErrorKind::PermissionDenied => {
                    vec!["run as root (sudo), or pass a --data-dir you can write".to_owned()]
                }
                std::io::ErrorKind::StorageFull => vec!["free disk space there; `digit-quickstart check` shows how much the profile needs".to_owned()],
                _ => vec!["check that --data-dir points at a writable directory".to_owned()],
            },
            _ => Vec::new(),
        }
    }
}

/// What one image resolved to.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub image: ImageRef,
    pub locked: LockedImage,
}

#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct PullSummary {
    pub images: usize,
    pub unique_blobs: usize,
    pub unique_bytes: u64,
    pub reused_blobs: usize,
    pub fetched_blobs: usize,
    pub fetched_bytes: u64,
    pub seconds: f64,
}

pub struct Puller {
    client: oci_client::Client,
    opts: PullOptions,
    store: Store,
    reporter: Arc<dyn Reporter>,
}

#[derive(Deserialize)]
struct Index {
    #[serde(default)]
    manifests: Vec<IndexItem>,
}

#[derive(Deserialize)]
struct IndexItem {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    size: u64,
    platform: Option<PlatformJson>,
}

#[derive(Deserialize)]
struct PlatformJson {
    os: String,
    architecture: String,
    variant: Option<String>,
}

#[derive(Deserialize)]
struct ImageManifest {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    config: DescJson,
    #[serde(default)]
    layers: Vec<DescJson>,
    #[serde(default)]
    manifests: Option<Vec<serde_json::Value>>,
}

#[derive(Deserialize)]
struct DescJson {
    #[serde(rename = "mediaType")]
    media_type: String,
    digest: String,
    size: u64,
}

impl From<DescJson> for Descriptor {
    fn from(d: DescJson) -> Self {
        Descriptor {
            digest: d.digest,
            size: d.size,
            media_type: d.media_type,
        }
    }
}

fn media_type_of(bytes: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(rename = "mediaType")]
        media_type: Option<String>,
        manifests: Option<serde_json::Value>,
    }
    match serde_json::from_slice::<Probe>(bytes) {
        Ok(Probe {
            media_type: Some(m), ..
        }) => m,
        Ok(Probe { manifests: Some(_), .. }) => MEDIA_OCI_INDEX.to_owned(),
        _ => MEDIA_OCI_MANIFEST.to_owned(),
    }
}

impl Puller {
    pub fn new(opts: PullOptions, store: Store, reporter: Arc<dyn Reporter>) -> Self {
        let mut plain_http = opts.insecure.clone();
        if let Some(m) = &opts.mirror
            && opts.insecure.iter().any(|h| h == m)
        {
            plain_http.push(m.clone());
        }
        let config = ClientConfig {
            protocol: ClientProtocol::HttpsExcept(plain_http),
            platform_resolver: None,
            max_concurrent_download: opts.jobs.max(1),
            connect_timeout: Some(Duration::from_secs(15)),
            read_timeout: Some(Duration::from_secs(60)),
            user_agent: concat!("digit-quickstart/", env!("CARGO_PKG_VERSION")),
            ..ClientConfig::default()
        };
        Self {
            client: oci_client::Client::new(config),
            opts,
            store,
            reporter,
        }
    }

    /// The reference as fetched: through the mirror for Docker Hub images.
    fn fetch_ref(&self, image: &ImageRef) -> Reference {
        let mut r = image.reference().clone();
        if let Some(m) = &self.opts.mirror
            && r.registry() == "docker.io"
        {
            r.set_mirror_registry(m.clone());
        }
        r
    }

    fn auth_for(&self, r: &Reference) -> RegistryAuth {
        match self
            .opts
            .auth
            .for_registry(r.resolve_registry())
            .or_else(|| self.opts.auth.for_registry(r.registry()))
        {
            Some(c) => RegistryAuth::Basic(c.username.clone(), c.password.clone()),
            None => RegistryAuth::Anonymous,
        }
    }

    /// Pulls every image; returns what each resolved to and a summary.
    pub async fn pull(self: &Arc<Self>, images: &[ImageRef]) -> Result<(Vec<Resolved>, PullSummary), PullError> {
        let started = Instant::now();
        let store_err = |source| PullError::Store {
            path: self.store.root().to_path_buf(),
            source,
        };
        self.store.init().await.map_err(store_err)?;
        self.store.settle(self.opts.boot_id.as_deref()).map_err(store_err)?;
        self.reporter.event(&Event::Resolving { images: images.len() });

        let sem = Arc::new(tokio::sync::Semaphore::new(self.opts.jobs.max(1)));
        let mut resolved = Vec::with_capacity(images.len());
        let futures = images.iter().map(|image| {
            let sem = sem.clone();
            async move {
                let _permit = sem.acquire().await.ok();
                self.resolve(image).await
            }
        });
        // The first failure ends the pull instead of waiting for every other image.
        resolved.extend(futures_util::future::try_join_all(futures).await?);

        // Every blob once, in the order first needed; which images wait on it.
        let mut order: Vec<Descriptor> = Vec::new();
        let mut users: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, r) in resolved.iter().enumerate() {
            for d in std::iter::once(&r.locked.config).chain(r.locked.layers.iter()) {
                let entry = users.entry(d.digest.clone()).or_default();
                if entry.is_empty() {
                    order.push(d.clone());
                }
                if !entry.contains(&i) {
                    entry.push(i);
                }
            }
        }
        let mut missing = Vec::new();
        for d in &order {
            if !self.store.has(&d.digest).await {
                missing.push(d.clone());
            }
        }
        let mut remaining: Vec<usize> = vec![0; resolved.len()];
        for d in &missing {
            for &i in &users[&d.digest] {
                remaining[i] += 1;
            }
        }
        for (i, r) in resolved.iter().enumerate() {
            // A shared blob is fetched (and its bytes shown) under the first image needing it.
            let missing_bytes: u64 = missing
                .iter()
                .filter(|d| users[&d.digest][0] == i)
                .map(|d| d.size)
                .sum();
            self.reporter.event(&Event::Resolved {
                image: r.image.to_string(),
                digest: r.locked.digest.clone(),
                layers: r.locked.layers.len(),
                bytes: r.locked.blob_bytes(),
                missing_blobs: remaining[i],
                missing_bytes,
            });
            if remaining[i] == 0 {
                self.reporter.event(&Event::ImageDone {
                    image: r.image.to_string(),
                    seconds: 0.0,
                    cached: true,
                });
            }
        }
        if let (Some(boot), false) = (&self.opts.boot_id, missing.is_empty()) {
            self.store.mark_unsynced(boot).map_err(store_err)?;
        }
        let total_missing: u64 = missing.iter().map(|d| d.size).sum();
        self.reporter.event(&Event::Downloading {
            blobs: missing.len(),
            bytes: total_missing,
        });

        // The first image needing a blob is where it is fetched from.
        // Each blob is its own task, so hashing and writing use every core.
        let remaining = Arc::new(std::sync::Mutex::new(remaining));
        let users = Arc::new(users);
        let names: Arc<Vec<String>> = Arc::new(resolved.iter().map(|r| r.image.to_string()).collect());
        let mut tasks = tokio::task::JoinSet::new();
        for d in missing.iter().cloned() {
            let (this, sem, remaining, users, names) = (
                self.clone(),
                sem.clone(),
                remaining.clone(),
                users.clone(),
                names.clone(),
            );
            let image = resolved[users[&d.digest][0]].image.clone();
            tasks.spawn(async move {
                let _permit = sem.acquire().await.ok();
                this.download(&image, &d).await?;
                this.reporter.event(&Event::BlobDone {
                    digest: d.digest.clone(),
                    size: d.size,
                    images: users[&d.digest].iter().map(|&i| names[i].clone()).collect(),
                });
                let done: Vec<usize> = {
                    let mut rem = remaining.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    users[&d.digest]
                        .iter()
                        .copied()
                        .filter(|&i| {
                            rem[i] -= 1;
                            rem[i] == 0
                        })
                        .collect()
                };
                for i in done {
                    this.reporter.event(&Event::ImageDone {
                        image: names[i].clone(),
                        seconds: started.elapsed().as_secs_f64(),
                        cached: false,
                    });
                }
                Ok::<u64, PullError>(d.size)
            });
        }
        let mut fetched_bytes = 0;
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(Ok(n)) => fetched_bytes += n,
                // The first failure ends the pull; partial files stay for a resume.
                Ok(Err(e)) => {
                    tasks.abort_all();
                    return Err(e);
                }
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(_) => {}
            }
        }

        let entries: Vec<IndexEntry> = resolved
            .iter()
            .map(|r| IndexEntry {
                reference: r.image.to_string(),
                media_type: r.locked.media_type.clone(),
                digest: r.locked.digest.clone(),
                size: r.locked.size,
            })
            .collect();
        self.store.write_index(&entries).await.map_err(store_err)?;
        let summary = PullSummary {
            images: resolved.len(),
            unique_blobs: order.len(),
            unique_bytes: order.iter().map(|d| d.size).sum(),
            reused_blobs: order.len() - missing.len(),
            fetched_blobs: missing.len(),
            fetched_bytes,
            seconds: started.elapsed().as_secs_f64(),
        };
        self.reporter.event(&Event::Finished(summary.clone()));
        Ok((resolved, summary))
    }

    async fn resolve(&self, image: &ImageRef) -> Result<Resolved, PullError> {
        let name = image.to_string();
        let r = self.fetch_ref(image);
        let auth = self.auth_for(&r);
        let err = |source| PullError::Resolve {
            image: name.clone(),
            source,
        };
        // A digest in the profile is used as is and never re-resolved.
        let top = match image.digest() {
            Some(d) => d.to_owned(),
            None => self
                .retrying(&r, || self.client.fetch_manifest_digest(&r, &auth))
                .await
                .map_err(|e| self.rate_or(e, err))?,
        };
        if let Some(lock) = &self.opts.locked {
            let locked = lock
                .images
                .get(&name)
                .ok_or_else(|| PullError::NotLocked { image: name.clone() })?;
            if locked.digest != top {
                return Err(PullError::Drift {
                    image: name.clone(),
                    locked: locked.digest.clone(),
                    now: top,
                });
            }
        }
        let top_bytes = self.manifest_bytes(&r, &auth, &top, &name).await?;
        let top_type = media_type_of(&top_bytes);
        let (manifest_digest, manifest_bytes) = if top_type == MEDIA_OCI_INDEX || top_type == MEDIA_DOCKER_LIST {
            let index: Index = serde_json::from_slice(&top_bytes).map_err(|e| PullError::BadManifest {
                image: name.clone(),
                message: e.to_string(),
            })?;
            let want = &self.opts.platform;
            let chosen = index.manifests.iter().find(|m| {
                m.platform.as_ref().is_some_and(|p| {
                    p.os == want.os
                        && p.architecture == want.arch
                        && (want.variant.is_none() || p.variant == want.variant)
                })
            });
            let Some(chosen) = chosen else {
                let available: Vec<String> = index
                    .manifests
                    .iter()
                    .filter_map(|m| m.platform.as_ref())
                    .map(|p| {
                        format!(
                            "{}/{}{}",
                            p.os,
                            p.architecture,
                            p.variant.as_ref().map(|v| format!("/{v}")).unwrap_or_default()
                        )
                    })
                    .collect();
                return Err(PullError::NoPlatform {
                    image: name,
                    wanted: want.to_string(),
                    available: available.join(", "),
                });
            };
            let _ = (&chosen.media_type, chosen.size);
            let bytes = self.manifest_bytes(&r, &auth, &chosen.digest, &name).await?;
            (chosen.digest.clone(), bytes)
        } else {
            (top.clone(), top_bytes.clone())
        };
        let manifest: ImageManifest = serde_json::from_slice(&manifest_bytes).map_err(|e| PullError::BadManifest {
            image: name.clone(),
            message: e.to_string(),
        })?;
        if manifest.manifests.is_some() {
            return Err(PullError::BadManifest {
                image: name,
                message: "nested index".into(),
            });
        }
        let manifest_type = manifest
            .media_type
            .clone()
            .unwrap_or_else(|| media_type_of(&manifest_bytes));
        Ok(Resolved {
            image: image.clone(),
            locked: LockedImage {
                digest: top.clone(),
                media_type: top_type,
                size: top_bytes.len() as u64,
                manifest: Descriptor {
                    digest: manifest_digest,
                    size: manifest_bytes.len() as u64,
                    media_type: manifest_type,
                },
                config: manifest.config.into(),
                layers: manifest.layers.into_iter().map(Into::into).collect(),
            },
        })
    }

    /// Manifest bytes by digest: from the store, else fetched, verified and stored.
    async fn manifest_bytes(
        &self,
        r: &Reference,
        auth: &RegistryAuth,
        digest: &str,
        name: &str,
    ) -> Result<Vec<u8>, PullError> {
        if self.store.has(digest).await
            && let Ok(bytes) = self.store.read(digest).await
            && sha256_digest(&bytes) == digest
        {
            return Ok(bytes);
        }
        let by_digest = r.clone_with_digest(digest.to_owned());
        let (bytes, got) = self
            .retrying(r, || self.client.pull_manifest_raw(&by_digest, auth, ACCEPT))
            .await
            .map_err(|e| {
                self.rate_or(e, |source| PullError::Resolve {
                    image: name.to_owned(),
                    source,
                })
            })?;
        if got != digest || sha256_digest(&bytes) != digest {
            return Err(PullError::BadManifest {
                image: name.to_owned(),
                message: format!("asked for {digest}, got {got}"),
            });
        }
        self.store
            .put(digest, &bytes)
            .await
            .map_err(|source| PullError::Store {
                path: self.store.root().to_path_buf(),
                source,
            })?;
        Ok(bytes.to_vec())
    }

    fn rate_or(&self, e: OpError, other: impl FnOnce(OciDistributionError) -> PullError) -> PullError {
        match e {
            OpError::Limited { registry, limits } => PullError::RateLimited {
                registry,
                detail: limited_detail(&limits),
            },
            OpError::Oci(e) => other(e),
        }
    }

    /// Retries transient failures (connection errors, 5xx) with backoff; on
    /// HTTP 429 waits out a short `Retry-After` and gives up on a long one.
    async fn retrying<T, F, Fut>(&self, r: &Reference, mut op: F) -> Result<T, OpError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, OciDistributionError>>,
    {
        let mut attempt = 0;
        loop {
            match op().await {
                Ok(v) => return Ok(v),
                Err(e) if is_rate_limited(&e) => {
                    attempt += 1;
                    let wait = self.rate_limit_wait(r).await?;
                    if attempt >= self.opts.attempts {
                        return Err(OpError::Limited {
                            registry: r.resolve_registry().to_owned(),
                            limits: None,
                        });
                    }
                    tokio::time::sleep(wait.unwrap_or_else(|| backoff(self.opts.retry_base, attempt))).await;
                }
                Err(e) if attempt + 1 < self.opts.attempts && is_transient(&e) => {
                    attempt += 1;
                    tokio::time::sleep(backoff(self.opts.retry_base, attempt)).await;
                }
                Err(e) => return Err(OpError::Oci(e)),
            }
        }
    }

    /// After a 429: reads `Retry-After` and the quota headers with a HEAD
    /// (which Docker Hub does not count). A short wait is returned (and
    /// reported); a long one ends the pull.
    async fn rate_limit_wait(&self, r: &Reference) -> Result<Option<Duration>, OpError> {
        let registry = r.resolve_registry().to_owned();
        let scheme = if self.opts.insecure.iter().any(|h| h == &registry) {
            "http"
        } else {
            "https"
        };
        let tail = r.digest().or(r.tag()).unwrap_or("latest");
        let url = format!("{scheme}://{registry}/v2/{}/manifests/{tail}", r.repository());
        let creds = self
            .opts
            .auth
            .for_registry(&registry)
            .or_else(|| self.opts.auth.for_registry(r.registry()));
        let limits = match crate::host::net::http_client(Duration::from_secs(15)) {
            Ok(client) => super::ratelimit::probe(&client, &url, creds).await.ok(),
            Err(_) => None,
        };
        match limits.as_ref().and_then(|l| l.retry_after_secs) {
            Some(secs) if Duration::from_secs(secs) <= super::ratelimit::wait_limit() => {
                self.reporter.event(&Event::Waiting {
                    registry,
                    seconds: secs,
                    quota: limits.as_ref().and_then(super::ratelimit::Limits::describe),
                });
                Ok(Some(Duration::from_secs(secs)))
            }
            Some(_) => Err(OpError::Limited { registry, limits }),
            None => Ok(None),
        }
    }

    async fn download(&self, image: &ImageRef, d: &Descriptor) -> Result<(), PullError> {
        let name = image.to_string();
        let r = self.fetch_ref(image);
        let auth = self.auth_for(&r);
        let store_err = |source| PullError::Store {
            path: self.store.root().to_path_buf(),
            source,
        };
        let partial = self
            .store
            .partial_path(&d.digest)
            .map_err(|m| store_err(std::io::Error::other(m)))?;
        let mut mismatches = 0;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.fetch_once(&name, &r, &auth, d, &partial).await {
                Ok(actual) if actual == d.digest => {
                    self.store.commit(&d.digest).await.map_err(store_err)?;
                    return Ok(());
                }
                Ok(actual) => {
                    // Never keep bad bytes: delete and fetch from scratch once more.
                    let _ = tokio::fs::remove_file(&partial).await;
                    mismatches += 1;
                    self.reporter.event(&Event::Retry {
                        image: name.clone(),
                        digest: d.digest.clone(),
                        attempt,
                        reason: format!("content was {actual}"),
                    });
                    if mismatches >= 2 {
                        return Err(PullError::DigestMismatch {
                            image: name,
                            layer: d.digest.clone(),
                            expected: d.digest.clone(),
                            actual,
                        });
                    }
                }
                Err(FetchError::Oci(e)) if is_rate_limited(&e) => {
                    let wait = self.rate_limit_wait(&r).await.map_err(|e| {
                        self.rate_or(e, |source| PullError::Resolve {
                            image: name.clone(),
                            source,
                        })
                    })?;
                    if attempt >= self.opts.attempts {
                        return Err(PullError::RateLimited {
                            registry: r.resolve_registry().to_owned(),
                            detail: String::new(),
                        });
                    }
                    tokio::time::sleep(wait.unwrap_or_else(|| backoff(self.opts.retry_base, attempt))).await;
                }
                Err(e) if attempt < self.opts.attempts && e.transient() => {
                    self.reporter.event(&Event::Retry {
                        image: name.clone(),
                        digest: d.digest.clone(),
                        attempt,
                        reason: e.to_string(),
                    });
                    tokio::time::sleep(backoff(self.opts.retry_base, attempt)).await;
                }
                Err(FetchError::Io(e)) => return Err(store_err(e)),
                Err(e) => {
                    return Err(PullError::Download {
                        image: name,
                        layer: d.digest.clone(),
                        attempts: attempt,
                        source: Box::new(e),
                    });
                }
            }
        }
    }

    /// One request: resumes from the partial file when there is one.
    /// Returns the digest of the complete partial file.
    async fn fetch_once(
        &self,
        owner: &str,
        r: &Reference,
        auth: &RegistryAuth,
        d: &Descriptor,
        partial: &std::path::Path,
    ) -> Result<String, FetchError> {
        let have = tokio::fs::metadata(partial).await.map(|m| m.len()).unwrap_or(0);
        let have = if have > d.size { 0 } else { have };
        if have == d.size && have > 0 {
            // Fully downloaded before an interruption, not yet committed:
            // its hash decides, no request needed.
            let bytes = tokio::fs::read(partial).await.map_err(FetchError::Io)?;
            return Ok(format!("sha256:{:x}", Sha256::digest(&bytes)));
        }
        let desc = OciDescriptor {
            media_type: d.media_type.clone(),
            digest: d.digest.clone(),
            size: i64::try_from(d.size).unwrap_or(i64::MAX),
            urls: None,
            annotations: None,
            artifact_type: None,
        };
        self.client.store_auth_if_needed(r.resolve_registry(), auth).await;
        let (stream, offset) = if have > 0 {
            match self
                .client
                .pull_blob_stream_partial(r, &desc, have, None)
                .await
                .map_err(FetchError::Oci)?
            {
                oci_client::client::BlobResponse::Partial(s) => (s, have),
                // The registry ignored Range: start over.
                oci_client::client::BlobResponse::Full(s) => (s, 0),
            }
        } else {
            (
                self.client.pull_blob_stream(r, &desc).await.map_err(FetchError::Oci)?,
                0,
            )
        };
        let mut hasher = Sha256::new();
        let file = if offset > 0 {
            // Hash what we already have, then append.
            let existing = tokio::fs::read(partial).await.map_err(FetchError::Io)?;
            hasher.update(&existing);
            tokio::fs::OpenOptions::new()
                .append(true)
                .open(partial)
                .await
                .map_err(FetchError::Io)?
        } else {
            tokio::fs::File::create(partial).await.map_err(FetchError::Io)?
        };
        let mut out = tokio::io::BufWriter::with_capacity(256 * 1024, file);
        let mut received = offset;
        let mut body = stream.stream;
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(bytes) => {
                    out.write_all(&bytes).await.map_err(FetchError::Io)?;
                    hasher.update(&bytes);
                    received += bytes.len() as u64;
                    self.reporter.event(&Event::Bytes {
                        image: owner.to_owned(),
                        n: bytes.len() as u64,
                    });
                }
                // oci-client's own check fails at the very end on a bad
                // blob; all bytes are in, so our hash decides below.
                Err(_) if received >= d.size => break,
                Err(e) => {
                    out.flush().await.map_err(FetchError::Io)?;
                    return Err(FetchError::Cut {
                        received,
                        size: d.size,
                        source: e,
                    });
                }
            }
        }
        out.flush().await.map_err(FetchError::Io)?;
        if self.opts.boot_id.is_none() {
            out.get_ref().sync_all().await.map_err(FetchError::Io)?;
        }
        if received < d.size {
            return Err(FetchError::Cut {
                received,
                size: d.size,
                source: std::io::Error::other("stream ended early"),
            });
        }
        Ok(format!("sha256:{:x}", hasher.finalize()))
    }
}

#[derive(Debug, thiserror::Error)]
enum FetchError {
    #[error(transparent)]
    Oci(OciDistributionError),
    #[error("connection cut after {received} of {size} bytes")]
    Cut {
        received: u64,
        size: u64,
        #[source]
        source: std::io::Error,
    },
    #[error("writing the partial file")]
    Io(#[source] std::io::Error),
}

impl FetchError {
    fn transient(&self) -> bool {
        match self {
            Self::Oci(e) => is_transient(e),
            Self::Cut { .. } => true,
            Self::Io(_) => false,
        }
    }
}

/// Why an operation stopped: the registry's error, or its pull quota.
enum OpError {
    Oci(OciDistributionError),
    Limited {
        registry: String,
        limits: Option<super::ratelimit::Limits>,
    },
}

fn limited_detail(limits: &Option<super::ratelimit::Limits>) -> String {
    let Some(l) = limits else { return String::new() };
    let mut parts = Vec::new();
    if let Some(q) = l.describe() {
        parts.push(q);
    }
    if let Some(s) = l.retry_after_secs {
        parts.push(format!("it asks to wait {}", super::ratelimit::human_duration(s)));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join("; "))
    }
}

fn is_rate_limited(e: &OciDistributionError) -> bool {
    use oci_client::errors::OciErrorCode;
    matches!(e, OciDistributionError::ServerError { code: 429, .. })
        || matches!(e, OciDistributionError::RegistryError { envelope, .. }
            if envelope.errors.iter().any(|x| matches!(x.code, OciErrorCode::Toomanyrequests)))
}

fn is_transient(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::ServerError { code, .. } => *code >= 500,
        OciDistributionError::RequestError(r) => r.is_connect() || r.is_timeout() || r.is_request() || r.is_body(),
        OciDistributionError::IoError(_) => true,
        _ => false,
    }
}

/// Exponential backoff with jitter, capped at 30 s.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.min(10).saturating_sub(1));
    let jitter_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::from(d.subsec_nanos()) % (base.as_millis().max(1) as u64));
    (exp + Duration::from_millis(jitter_ms)).min(Duration::from_secs(30))
}

/// The lock file for `profile` from what was resolved.
pub fn lock_for(profile: &str, platform: &Platform, resolved: &[Resolved]) -> LockFile {
    LockFile {
        schema: 1,
        profile: profile.to_owned(),
        platform: platform.to_string(),
        images: resolved
            .iter()
            .map(|r| (r.image.to_string(), r.locked.clone()))
            .collect::<BTreeMap<_, _>>(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_parse_and_print() {
        let p: Platform = "linux/arm64/v8".parse().unwrap();
        assert_eq!(p.variant.as_deref(), Some("v8"));
        assert_eq!(p.to_string(), "linux/arm64/v8");
        assert!("linux".parse::<Platform>().is_err());
        assert!("linux//v8".parse::<Platform>().is_err());
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let base = Duration::from_millis(100);
        assert!(backoff(base, 1) >= Duration::from_millis(100) && backoff(base, 1) < Duration::from_millis(200));
        assert!(backoff(base, 3) >= Duration::from_millis(400));
        assert_eq!(backoff(Duration::from_secs(10), 9), Duration::from_secs(30));
    }

    #[test]
    fn media_types_are_read_or_inferred() {
        assert_eq!(media_type_of(br#"{"manifests":[]}"#), MEDIA_OCI_INDEX);
        assert_eq!(
            media_type_of(br#"{"mediaType":"application/vnd.docker.distribution.manifest.v2+json"}"#),
            MEDIA_DOCKER_MANIFEST
        );
        assert_eq!(media_type_of(br#"{"layers":[]}"#), MEDIA_OCI_MANIFEST);
    }
}
