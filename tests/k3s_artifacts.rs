//! k3s artifact downloads against a loopback HTTP server: verified before
//! use, resumed after a truncated response, clear errors for 404 and DNS.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use digit_quickstart::k3s::artifacts::{ArtifactError, ArtifactSpec, fetch, sha256_hex, verify_file};
use digit_quickstart::profile::Sha256Pin;

/// Serves `files`; honours `Range: bytes=N-`; the first response for a name
/// in `truncate` stops after that many bytes. Records (path, range) per request.
/// Each request's path and Range start.
type Requests = Arc<Mutex<Vec<(String, Option<String>)>>>;

struct Server {
    url: String,
    requests: Requests,
}

fn serve(files: HashMap<String, Vec<u8>>, truncate: HashMap<String, usize>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = requests.clone();
    let truncate = Arc::new(Mutex::new(truncate));
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let path = line
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .trim_start_matches('/')
                .to_owned();
            let mut range = None;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) <= 2 {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("range: bytes=") {
                    range = Some(v.trim().trim_end_matches('-').to_owned());
                }
            }
            log.lock().unwrap().push((path.clone(), range.clone()));
            let mut conn = conn;
            let Some(body) = files.get(&path) else {
                let _ = conn.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                continue;
            };
            let start: usize = range.as_deref().and_then(|r| r.parse().ok()).unwrap_or(0);
            let rest = &body[start.min(body.len())..];
            let head = if start > 0 {
                format!(
                    "HTTP/1.1 206 Partial Content\r\ncontent-length: {}\r\ncontent-range: bytes {start}-{}/{}\r\nconnection: close\r\n\r\n",
                    rest.len(),
                    body.len() - 1,
                    body.len()
                )
            } else {
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    rest.len()
                )
            };
            let _ = conn.write_all(head.as_bytes());
            match truncate.lock().unwrap().remove(&path) {
                Some(n) => {
                    let _ = conn.write_all(&rest[..n]);
                }
                None => {
                    let _ = conn.write_all(rest);
                }
            }
        }
    });
    Server { url, requests }
}

fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

fn spec(server: &Server, name: &str, sha: &str) -> ArtifactSpec {
    ArtifactSpec {
        name: name.into(),
        url: format!("{}/{name}", server.url),
        sha256: Sha256Pin::Pinned(sha.into()),
    }
}

fn client() -> reqwest::Client {
    digit_quickstart::host::net::http_client(Duration::from_secs(5)).unwrap()
}

fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

const NO_PROGRESS: &(dyn Fn(u64) + Sync) = &|_| {};

#[test]
fn a_good_artifact_is_downloaded_once_and_then_served_from_the_cache() {
    let k3s = bytes(300_000, 1);
    let server = serve(HashMap::from([("k3s".to_owned(), k3s.clone())]), HashMap::new());
    let cache = tempfile::tempdir().unwrap();
    let s = spec(&server, "k3s", &sha256_hex(&k3s));
    let got = std::sync::atomic::AtomicU64::new(0);
    let progress = |n: u64| {
        got.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    };
    let path = run(fetch(
        &client(),
        &s,
        cache.path(),
        3,
        Duration::from_millis(5),
        &progress,
    ))
    .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), k3s);
    assert_eq!(
        got.load(std::sync::atomic::Ordering::Relaxed),
        300_000,
        "progress saw every byte"
    );
    assert!(!cache.path().join("k3s.partial").exists());
    run(fetch(
        &client(),
        &s,
        cache.path(),
        3,
        Duration::from_millis(5),
        NO_PROGRESS,
    ))
    .unwrap();
    assert_eq!(
        server.requests.lock().unwrap().len(),
        1,
        "a verified cached file is not downloaded again"
    );
}

#[test]
fn a_wrong_checksum_is_refused_naming_url_expected_and_actual_and_nothing_is_kept() {
    let k3s = bytes(50_000, 2);
    let server = serve(HashMap::from([("k3s".to_owned(), k3s.clone())]), HashMap::new());
    let cache = tempfile::tempdir().unwrap();
    let pin = "0".repeat(64);
    let err = run(fetch(
        &client(),
        &spec(&server, "k3s", &pin),
        cache.path(),
        3,
        Duration::from_millis(5),
        NO_PROGRESS,
    ))
    .unwrap_err();
    assert!(matches!(err, ArtifactError::Mismatch { .. }));
    assert_eq!(
        err.to_string(),
        format!(
            "{}/k3s does not match its pin: expected sha256 {pin}, got {}",
            server.url,
            sha256_hex(&k3s)
        )
    );
    assert_eq!(
        std::fs::read_dir(cache.path()).unwrap().count(),
        0,
        "no file, no partial"
    );
}

#[test]
fn a_truncated_download_resumes_with_a_range_request() {
    let airgap = bytes(400_000, 3);
    let name = "k3s-airgap-images-amd64.tar.zst";
    let server = serve(
        HashMap::from([(name.to_owned(), airgap.clone())]),
        HashMap::from([(name.to_owned(), 150_000)]),
    );
    let cache = tempfile::tempdir().unwrap();
    let path = run(fetch(
        &client(),
        &spec(&server, name, &sha256_hex(&airgap)),
        cache.path(),
        3,
        Duration::from_millis(5),
        NO_PROGRESS,
    ))
    .unwrap();
    assert_eq!(std::fs::read(path).unwrap(), airgap);
    let reqs = server.requests.lock().unwrap().clone();
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    assert_eq!(
        reqs[1].1.as_deref(),
        Some("150000"),
        "resumed where the first response stopped"
    );
}

#[test]
fn a_corrupted_cached_file_is_replaced() {
    let k3s = bytes(10_000, 4);
    let server = serve(HashMap::from([("k3s".to_owned(), k3s.clone())]), HashMap::new());
    let cache = tempfile::tempdir().unwrap();
    std::fs::write(cache.path().join("k3s"), b"not k3s").unwrap();
    let path = run(fetch(
        &client(),
        &spec(&server, "k3s", &sha256_hex(&k3s)),
        cache.path(),
        3,
        Duration::from_millis(5),
        NO_PROGRESS,
    ))
    .unwrap();
    assert_eq!(std::fs::read(path).unwrap(), k3s);
}

#[test]
fn not_found_unresolvable_and_unpinned_are_distinct_clear_errors() {
    let server = serve(HashMap::new(), HashMap::new());
    let cache = tempfile::tempdir().unwrap();
    let err = run(fetch(
        &client(),
        &spec(&server, "k3s", &"a".repeat(64)),
        cache.path(),
        3,
        Duration::from_millis(5),
        NO_PROGRESS,
    ))
    .unwrap_err();
    assert_eq!(err.to_string(), format!("{}/k3s answered HTTP 404", server.url));
    assert!(digit_quickstart::error::Diagnostic::hints(&err)[0].contains("k3s.version and k3s.url_template"));

    let dns = ArtifactSpec {
        name: "k3s".into(),
        url: "http://nonexistent.invalid/k3s".into(),
        sha256: Sha256Pin::Pinned("a".repeat(64)),
    };
    let err = run(fetch(
        &client(),
        &dns,
        cache.path(),
        2,
        Duration::from_millis(5),
        NO_PROGRESS,
    ))
    .unwrap_err();
    assert!(matches!(err, ArtifactError::Network { .. }));
    assert_eq!(err.to_string(), "could not download http://nonexistent.invalid/k3s");
    let chain = std::error::Error::source(&err)
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(chain.contains("error sending request"), "{chain}");

    let unpinned = ArtifactSpec {
        name: "k3s".into(),
        url: format!("{}/k3s", server.url),
        sha256: Sha256Pin::Unpinned,
    };
    let before = server.requests.lock().unwrap().len();
    let err = run(fetch(
        &client(),
        &unpinned,
        cache.path(),
        3,
        Duration::from_millis(5),
        NO_PROGRESS,
    ))
    .unwrap_err();
    assert!(matches!(err, ArtifactError::Unpinned { .. }));
    assert_eq!(
        server.requests.lock().unwrap().len(),
        before,
        "nothing is fetched for an unpinned artifact"
    );
}

#[test]
fn local_files_and_bundle_members_are_verified_the_same_way() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("k3s");
    std::fs::write(&file, b"binary").unwrap();
    let good = ArtifactSpec {
        name: "k3s".into(),
        url: String::new(),
        sha256: Sha256Pin::Pinned(sha256_hex(b"binary")),
    };
    run(verify_file(&good, &file)).unwrap();
    let bad = ArtifactSpec {
        sha256: Sha256Pin::Pinned("b".repeat(64)),
        ..good
    };
    let err = run(verify_file(&bad, &file)).unwrap_err();
    assert!(err.to_string().contains(&format!(
        "expected sha256 {}, got {}",
        "b".repeat(64),
        sha256_hex(b"binary")
    )));
}
