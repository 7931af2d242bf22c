//! `serve`: the local store as a read-only OCI distribution endpoint (for
//! k3s's containerd and for other digit-quickstart installs), plus the k3s
//! artifacts and seed files, for a classroom on one LAN. Only names the
//! profile and its lock file know are served; a path never reaches the
//! filesystem unless it is a validated digest or a pinned file name.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::Frame;
use hyper::{Method, Request, Response, StatusCode};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::images::lock::LockFile;
use crate::layout::Layout;
use crate::profile::Profile;

type Body = BoxBody<Bytes, std::io::Error>;

/// What may be served, resolved once at start.
pub struct Catalog {
    pub store: PathBuf,
    /// `repository:tag` (as clients ask, e.g. `egovio/egov-user:v1`) -> digest.
    pub tags: HashMap<String, String>,
    /// digest -> media type, for manifests and indexes.
    pub media: HashMap<String, String>,
    /// URL path (`/k3s/<version>/<name>`, `/seed/<name>`) -> file.
    pub files: HashMap<String, PathBuf>,
}

impl Catalog {
    pub fn new(profile: &Profile, layout: &Layout, lock: &LockFile) -> Self {
        let mut tags = HashMap::new();
        let mut media = HashMap::new();
        for (reference, image) in &lock.images {
            let name = reference.trim_start_matches("docker.io/");
            tags.insert(name.to_owned(), image.digest.clone());
            media.insert(image.digest.clone(), image.media_type.clone());
            media.insert(image.manifest.digest.clone(), image.manifest.media_type.clone());
        }
        let mut files = HashMap::new();
        for a in profile.k3s.artifacts.values() {
            for art in [&a.binary, &a.airgap_images] {
                files.insert(
                    format!("/k3s/{}/{}", profile.k3s.version, art.name),
                    layout.k3s_cache(&profile.k3s.version).join(&art.name),
                );
            }
        }
        for seed in &profile.seeds {
            if let Some(f) = seed.file()
                && let Some(path) = crate::deploy::seed_cache_path(layout, &f.sha256, &f.url)
            {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                files.insert(format!("/seed/{name}"), path);
            }
        }
        Self {
            store: layout.store(),
            tags,
            media,
            files,
        }
    }
}

#[derive(Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub bytes: AtomicU64,
    pub clients: std::sync::Mutex<std::collections::HashSet<std::net::IpAddr>>,
}

fn empty(status: StatusCode) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::new()).map_err(|e: Infallible| match e {}).boxed());
    *r.status_mut() = status;
    r
}

fn text(status: StatusCode, body: &str) -> Response<Body> {
    let mut r = Response::new(
        Full::new(Bytes::from(body.to_owned()))
            .map_err(|e: Infallible| match e {})
            .boxed(),
    );
    *r.status_mut() = status;
    r
}

pub fn valid_digest(d: &str) -> bool {
    d.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

/// `bytes=START-` or `bytes=START-END`.
fn parse_range(h: &str, len: u64) -> Option<(u64, u64)> {
    let spec = h.strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    let start: u64 = a.parse().ok()?;
    let end: u64 = if b.is_empty() {
        len.checked_sub(1)?
    } else {
        b.parse().ok()?
    };
    (start <= end && end < len).then_some((start, end))
}

async fn file_response(
    path: PathBuf,
    req: &Request<hyper::body::Incoming>,
    ctype: &str,
    digest: Option<&str>,
    counters: &Counters,
) -> Response<Body> {
    let Ok(mut file) = tokio::fs::File::open(&path).await else {
        return text(StatusCode::NOT_FOUND, "not in the store\n");
    };
    let len = file.metadata().await.map(|m| m.len()).unwrap_or(0);
    let range = req
        .headers()
        .get(hyper::header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|h| parse_range(h, len));
    let (status, start, end) = match range {
        Some(Some((s, e))) => (StatusCode::PARTIAL_CONTENT, s, e),
        Some(None) => return text(StatusCode::RANGE_NOT_SATISFIABLE, "bad range\n"),
        None => (StatusCode::OK, 0, len.saturating_sub(1)),
    };
    let count = if len == 0 { 0 } else { end - start + 1 };
    let mut builder = Response::builder()
        .status(status)
        .header("content-type", ctype)
        .header("content-length", count)
        .header("accept-ranges", "bytes");
    if let Some(d) = digest {
        builder = builder.header("docker-content-digest", d);
    }
    if status == StatusCode::PARTIAL_CONTENT {
        builder = builder.header("content-range", format!("bytes {start}-{end}/{len}"));
    }
    if req.method() == Method::HEAD {
        return builder
            .body(Full::new(Bytes::new()).map_err(|e: Infallible| match e {}).boxed())
            .unwrap_or_else(|_| empty(StatusCode::INTERNAL_SERVER_ERROR));
    }
    if start > 0 && file.seek(std::io::SeekFrom::Start(start)).await.is_err() {
        return empty(StatusCode::INTERNAL_SERVER_ERROR);
    }
    counters.bytes.fetch_add(count, Ordering::Relaxed);
    let stream = futures_util::stream::unfold((file, count), |(mut file, left)| async move {
        if left == 0 {
            return None;
        }
        let mut buf = vec![0u8; usize::try_from(left.min(256 * 1024)).unwrap_or(256 * 1024)];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Frame::data(Bytes::from(buf))), (file, left - n as u64)))
            }
            Err(e) => Some((Err(e), (file, 0))),
        }
    });
    builder
        .body(BodyExt::boxed(StreamBody::new(stream)))
        .unwrap_or_else(|_| empty(StatusCode::INTERNAL_SERVER_ERROR))
}

pub async fn handle(
    req: Request<hyper::body::Incoming>,
    catalog: Arc<Catalog>,
    counters: Arc<Counters>,
) -> Result<Response<Body>, Infallible> {
    counters.requests.fetch_add(1, Ordering::Relaxed);
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Ok(text(StatusCode::METHOD_NOT_ALLOWED, "read-only\n"));
    }
    // Versions carry a `+` that clients send as %2B; nothing else is decoded.
    let path = req.uri().path().replace("%2B", "+").replace("%2b", "+");
    if path == "/v2/" || path == "/v2" {
        let mut r = text(StatusCode::OK, "{}");
        r.headers_mut().insert(
            "docker-distribution-api-version",
            hyper::header::HeaderValue::from_static("registry/2.0"),
        );
        return Ok(r);
    }
    if let Some(file) = catalog.files.get(&path) {
        return Ok(file_response(file.clone(), &req, "application/octet-stream", None, &counters).await);
    }
    if let Some(rest) = path.strip_prefix("/v2/") {
        if let Some((name, reference)) = rest.rsplit_once("/manifests/") {
            let digest = if valid_digest(reference) {
                Some(reference.to_owned())
            } else {
                catalog.tags.get(&format!("{name}:{reference}")).cloned()
            };
            return Ok(match digest {
                Some(d) if catalog.media.contains_key(&d) || valid_digest(&d) => {
                    let ctype = catalog
                        .media
                        .get(&d)
                        .cloned()
                        .unwrap_or_else(|| "application/vnd.oci.image.manifest.v1+json".to_owned());
                    let file = catalog.store.join("blobs/sha256").join(d.trim_start_matches("sha256:"));
                    file_response(file, &req, &ctype, Some(&d), &counters).await
                }
                _ => text(StatusCode::NOT_FOUND, "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\"}]}"),
            });
        }
        if let Some((_, digest)) = rest.rsplit_once("/blobs/") {
            if !valid_digest(digest) {
                return Ok(text(
                    StatusCode::BAD_REQUEST,
                    "{\"errors\":[{\"code\":\"DIGEST_INVALID\"}]}",
                ));
            }
            let file = catalog
                .store
                .join("blobs/sha256")
                .join(digest.trim_start_matches("sha256:"));
            return Ok(file_response(file, &req, "application/octet-stream", Some(digest), &counters).await);
        }
    }
    Ok(text(StatusCode::NOT_FOUND, "not served here\n"))
}

/// Serves until the process is stopped; `tick` every 5 s with the counters.
pub async fn serve(
    listener: tokio::net::TcpListener,
    catalog: Arc<Catalog>,
    counters: Arc<Counters>,
) -> std::io::Result<()> {
    loop {
        let (stream, peer): (tokio::net::TcpStream, SocketAddr) = listener.accept().await?;
        counters
            .clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(peer.ip());
        let (catalog, counters) = (catalog.clone(), counters.clone());
        tokio::spawn(async move {
            let io = hyper_util::rt::TokioIo::new(stream);
            let svc = hyper::service::service_fn(move |req| handle(req, catalog.clone(), counters.clone()));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, svc)
                .await;
        });
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ranges_and_digests_are_parsed_strictly() {
        assert_eq!(super::parse_range("bytes=10-", 100), Some((10, 99)));
        assert_eq!(super::parse_range("bytes=0-9", 100), Some((0, 9)));
        assert_eq!(super::parse_range("bytes=90-100", 100), None);
        assert_eq!(super::parse_range("items=0-1", 100), None);
        assert!(super::valid_digest(&format!("sha256:{}", "a".repeat(64))));
        assert!(!super::valid_digest("sha256:../../etc/passwd"));
        assert!(!super::valid_digest(&format!("sha256:{}", "A".repeat(64))));
    }
}
