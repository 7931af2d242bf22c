//! Do the profile's images exist? One manifest HEAD per image before
//! anything is installed: a tag that was never pushed (or a locked digest
//! the registry no longer has) is named now rather than minutes into an
//! install. HEADs do not count against Docker Hub's pull quota.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use oci_client::Reference;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use serde::{Deserialize, Serialize};

use super::engine::PullOptions;
use super::lock::LockFile;
use crate::profile::ImageRef;

/// What the probe found, kept in the host facts (`check --output json`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImagesProbe {
    /// Where the images were looked up (`docker.io`, or the mirror).
    pub registry: String,
    pub checked: usize,
    /// The lock file's digests were checked rather than the tags.
    pub by_digest: bool,
    pub missing: Vec<MissingImage>,
    /// Set when the registry could not be asked at all (offline, DNS).
    pub unreachable: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingImage {
    pub image: String,
    /// `tag` or `digest`.
    pub what: String,
    /// The tag or digest that was asked for.
    pub wanted: String,
}

enum Answer {
    Found,
    Missing,
    /// Not an answer about the image: the registry could not be asked.
    Failed(String),
}

fn is_missing(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::ImageManifestNotFoundError(_) => true,
        OciDistributionError::ServerError { code, .. } => *code == 404,
        OciDistributionError::RegistryError { envelope, .. } => envelope.errors.iter().any(|e| {
            matches!(
                e.code,
                oci_client::errors::OciErrorCode::ManifestUnknown | oci_client::errors::OciErrorCode::NameUnknown
            )
        }),
        _ => e.to_string().contains("404"),
    }
}

/// HEADs each image's manifest: by its locked digest when the lock has it,
/// else by the tag (or the profile's own digest). Up to `opts.jobs` at once.
pub async fn probe(opts: &PullOptions, images: &[ImageRef], lock: Option<&LockFile>) -> ImagesProbe {
    let mut plain_http = opts.insecure.clone();
    if let Some(m) = &opts.mirror
        && opts.insecure.iter().any(|h| h == m)
    {
        plain_http.push(m.clone());
    }
    let client = Arc::new(oci_client::Client::new(ClientConfig {
        protocol: ClientProtocol::HttpsExcept(plain_http),
        connect_timeout: Some(Duration::from_secs(10)),
        read_timeout: Some(Duration::from_secs(20)),
        user_agent: concat!("digit-quickstart/", env!("CARGO_PKG_VERSION")),
        ..ClientConfig::default()
    }));
    let registry = opts.mirror.clone().unwrap_or_else(|| "docker.io".to_owned());
    let by_digest = lock.is_some();
    let asks: Vec<(String, Reference, MissingImage)> = images
        .iter()
        .map(|image| {
            let mut r = image.reference().clone();
            let locked = lock
                .and_then(|l| l.images.get(image.as_str()))
                .map(|e| e.digest.clone());
            let (what, wanted) = match (&locked, image.digest()) {
                (Some(d), _) => ("digest", d.clone()),
                (None, Some(d)) => ("digest", d.to_owned()),
                (None, None) => ("tag", image.tag().to_owned()),
            };
            if let Some(d) = &locked {
                r = Reference::with_digest(r.registry().to_owned(), r.repository().to_owned(), d.clone());
            }
            if let Some(m) = &opts.mirror
                && r.registry() == "docker.io"
            {
                r.set_mirror_registry(m.clone());
            }
            let missing = MissingImage {
                image: image.to_string(),
                what: what.to_owned(),
                wanted,
            };
            (image.to_string(), r, missing)
        })
        .collect();
    let answers: Vec<(MissingImage, Answer)> = futures_util::stream::iter(asks)
        .map(|(_, r, missing)| {
            let client = client.clone();
            let auth = match opts
                .auth
                .for_registry(r.resolve_registry())
                .or_else(|| opts.auth.for_registry(r.registry()))
            {
                Some(c) => RegistryAuth::Basic(c.username.clone(), c.password.clone()),
                None => RegistryAuth::Anonymous,
            };
            async move {
                let answer = match client.fetch_manifest_digest(&r, &auth).await {
                    Ok(_) => Answer::Found,
                    Err(e) if is_missing(&e) => Answer::Missing,
                    Err(e) => Answer::Failed(crate::deploy::cluster::one_line(&e)),
                };
                (missing, answer)
            }
        })
        .buffer_unordered(opts.jobs.max(1))
        .collect()
        .await;
    let mut out = ImagesProbe {
        registry,
        checked: images.len(),
        by_digest,
        ..ImagesProbe::default()
    };
    for (missing, answer) in answers {
        match answer {
            Answer::Found => {}
            Answer::Missing => out.missing.push(missing),
            Answer::Failed(why) => {
                out.unreachable.get_or_insert(why);
            }
        }
    }
    out.missing.sort_by(|a, b| a.image.cmp(&b.image));
    out
}
