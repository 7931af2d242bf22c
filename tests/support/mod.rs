//! Test peers for the image engine: Debian's `docker-registry` (CNCF
//! distribution) on loopback, fixture images built in-process and pushed
//! through the registry API, and a TCP proxy that counts requests and can
//! cut or corrupt one blob response.
#![allow(dead_code, clippy::disallowed_methods)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

pub mod cluster;
pub mod control_plane;
pub mod k8s;
pub mod postgres;
pub mod world;

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// A running docker-registry; killed on drop.
pub struct Registry {
    pub host: String,
    child: Child,
    dir: tempfile::TempDir,
    pub basic: Option<(String, String)>,
}

impl Registry {
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// With htpasswd basic auth for `user`/`pass`.
    pub fn start_with(basic: Option<(&str, &str)>) -> Self {
        let bin = "/usr/bin/docker-registry";
        assert!(
            Path::new(bin).exists(),
            "docker-registry is required: apt-get install docker-registry (the CI script installs it)"
        );
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut config = format!(
            "version: 0.1\nlog: {{level: error}}\nstorage: {{filesystem: {{rootdirectory: {}}}, delete: {{enabled: true}}}}\nhttp: {{addr: 127.0.0.1:{port}}}\n",
            dir.path().join("data").display()
        );
        if let Some((user, pass)) = basic {
            let htpasswd = dir.path().join("htpasswd");
            let out = Command::new("htpasswd")
                .args(["-Bbn", user, pass])
                .output()
                .expect("htpasswd (apache2-utils) is required");
            std::fs::write(&htpasswd, out.stdout).unwrap();
            config.push_str(&format!(
                "auth: {{htpasswd: {{realm: basic-realm, path: {}}}}}\n",
                htpasswd.display()
            ));
        }
        let cfg = dir.path().join("config.yml");
        std::fs::write(&cfg, config).unwrap();
        let child = Command::new(bin)
            .arg("serve")
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let host = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(&host).is_err() {
            assert!(Instant::now() < deadline, "registry did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            host,
            child,
            dir,
            basic: basic.map(|(u, p)| (u.to_owned(), p.to_owned())),
        }
    }

    /// Restarts on the same storage and port with Docker Hub-style token auth.
    pub fn require_tokens(&mut self, tokens: &TokenServer) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let cfg = self.dir.path().join("config.yml");
        let mut config = std::fs::read_to_string(&cfg).unwrap();
        config.push_str(&format!(
            "auth: {{token: {{realm: {}/token, service: test-registry, issuer: test-issuer, rootcertbundle: {}}}}}\n",
            tokens.url,
            tokens.cert.display()
        ));
        std::fs::write(&cfg, config).unwrap();
        self.child = Command::new("/usr/bin/docker-registry")
            .arg("serve")
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = Command::new("curl")
                .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
                .arg(format!("http://{}/v2/", self.host))
                .output()
                .unwrap();
            if String::from_utf8_lossy(&out.stdout) == "401" {
                break;
            }
            assert!(Instant::now() < deadline, "token registry did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A token server like Docker Hub's: `GET /token?service=..&scope=repository:NAME:pull`
/// answers a JWT signed with ES256 whose `x5c` header carries the certificate
/// the registry trusts. It grants pull to anyone, like public repositories.
pub struct TokenServer {
    pub url: String,
    pub cert: PathBuf,
    pub issued: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl TokenServer {
    pub fn start() -> Self {
        use base64::Engine as _;
        use p256::ecdsa::signature::Signer;
        use p256::pkcs8::DecodePrivateKey;

        let dir = tempfile::tempdir().unwrap();
        let (key, cert) = (dir.path().join("key.pem"), dir.path().join("cert.pem"));
        let out = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "1",
            ])
            .args(["-subj", "/CN=test-issuer", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let signing = p256::ecdsa::SigningKey::from_pkcs8_pem(&std::fs::read_to_string(&key).unwrap()).unwrap();
        let pem = std::fs::read_to_string(&cert).unwrap();
        let der_b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let b64u = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);

        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let issued = Arc::new(Mutex::new(Vec::new()));
        let log = issued.clone();
        std::thread::spawn(move || {
            for mut conn in listener.incoming().flatten() {
                let mut buf = [0u8; 4096];
                let n = conn.read(&mut buf).unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).into_owned();
                let target = req.split_whitespace().nth(1).unwrap_or("").to_owned();
                let query = target.split_once('?').map(|(_, q)| q).unwrap_or("").to_owned();
                let param = |k: &str| {
                    query
                        .split('&')
                        .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
                        .map(|v| v.replace("%3A", ":").replace("%2F", "/"))
                };
                let scope = param("scope").unwrap_or_default();
                let access: Vec<serde_json::Value> = scope
                    .split(' ')
                    .filter_map(|s| {
                        let parts: Vec<&str> = s.split(':').collect();
                        (parts.len() == 3)
                            .then(|| serde_json::json!({"type": parts[0], "name": parts[1], "actions": ["pull"]}))
                    })
                    .collect();
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs();
                let header = serde_json::json!({"alg": "ES256", "typ": "JWT", "x5c": [der_b64]});
                let jti = format!("{now}-{}", log.lock().unwrap().len());
                let claims = serde_json::json!({
                    "iss": "test-issuer", "sub": "", "aud": param("service").unwrap_or_default(),
                    "exp": now + 300, "nbf": now - 10, "iat": now, "jti": jti, "access": access,
                });
                let signing_input = format!(
                    "{}.{}",
                    b64u(header.to_string().as_bytes()),
                    b64u(claims.to_string().as_bytes())
                );
                let sig: p256::ecdsa::Signature = signing.sign(signing_input.as_bytes());
                let jwt = format!("{signing_input}.{}", b64u(&sig.to_bytes()));
                log.lock().unwrap().push(scope);
                let body = serde_json::json!({"token": jwt, "access_token": jwt, "expires_in": 300}).to_string();
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Self {
            url,
            cert,
            issued,
            _dir: dir,
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A gzip'd tar layer holding one file; `seed` makes it unique, `size` sets
/// the file size (random-looking, so gzip cannot shrink it).
pub fn layer(seed: u64, size: usize) -> Vec<u8> {
    let mut data = vec![0u8; size];
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    for b in &mut data {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    let mut tar = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(size as u64);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_cksum();
    tar.append_data(&mut h, format!("file-{seed}"), &data[..]).unwrap();
    let raw = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw).unwrap();
    gz.finish().unwrap()
}

/// The digest of the uncompressed tar, which image configs list.
pub fn diff_id(gz: &[u8]) -> String {
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(gz).read_to_end(&mut raw).unwrap();
    sha256(&raw)
}

#[derive(Clone, Copy, PartialEq)]
pub enum Format {
    Oci,
    Docker,
}

/// Pushes blobs and manifests with plain HTTP calls (test fixtures only).
pub struct Pusher {
    pub host: String,
    basic: Option<(String, String)>,
}

impl Pusher {
    pub fn new(reg: &Registry) -> Self {
        Self {
            host: reg.host.clone(),
            basic: reg.basic.clone(),
        }
    }

    fn curl(&self) -> Command {
        let mut c = Command::new("curl");
        c.args(["-fsS", "--retry", "2"]);
        if let Some((u, p)) = &self.basic {
            c.args(["-u", &format!("{u}:{p}")]);
        }
        c
    }

    pub fn blob(&self, repo: &str, data: &[u8]) -> (String, u64) {
        let digest = sha256(data);
        // Monolithic upload: POST for a location, PUT the bytes with the digest.
        let out = self
            .curl()
            .args(["-D", "-", "-o", "/dev/null", "-X", "POST"])
            .arg(format!("http://{}/v2/{repo}/blobs/uploads/", self.host))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "POST upload: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let headers = String::from_utf8(out.stdout).unwrap();
        let location = headers
            .lines()
            .find_map(|l| l.strip_prefix("Location: ").or_else(|| l.strip_prefix("location: ")))
            .unwrap()
            .trim()
            .to_owned();
        let location = if location.starts_with("http") {
            location
        } else {
            format!("http://{}{location}", self.host)
        };
        let sep = if location.contains('?') { '&' } else { '?' };
        self.put(
            &format!("{location}{sep}digest={digest}"),
            "application/octet-stream",
            data,
        );
        (digest, data.len() as u64)
    }

    /// PUTs `body` to `url` (monolithic blob upload or manifest).
    fn put(&self, url: &str, content_type: &str, body: &[u8]) {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), body).unwrap();
        let out = self
            .curl()
            .args([
                "-o",
                "/dev/null",
                "-X",
                "PUT",
                "-H",
                &format!("Content-Type: {content_type}"),
                "--data-binary",
            ])
            .arg(format!("@{}", file.path().display()))
            .arg(url)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "PUT {url}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn manifest(&self, repo: &str, reference: &str, media_type: &str, body: &[u8]) -> String {
        self.put(
            &format!("http://{}/v2/{repo}/manifests/{reference}", self.host),
            media_type,
            body,
        );
        sha256(body)
    }

    /// Pushes an image of `layers` for one platform; returns (manifest digest, size, media type).
    pub fn image(
        &self,
        repo: &str,
        tag: Option<&str>,
        layers: &[Vec<u8>],
        format: Format,
        arch: &str,
    ) -> (String, u64, String) {
        let config = serde_json::json!({
            "architecture": arch, "os": "linux",
            "config": {"Cmd": ["/bin/true"]},
            "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| diff_id(l)).collect::<Vec<_>>()},
        });
        let config = serde_json::to_vec(&config).unwrap();
        let (cfg_digest, cfg_size) = self.blob(repo, &config);
        let (mt, cfg_mt, layer_mt) = match format {
            Format::Oci => (
                "application/vnd.oci.image.manifest.v1+json",
                "application/vnd.oci.image.config.v1+json",
                "application/vnd.oci.image.layer.v1.tar+gzip",
            ),
            Format::Docker => (
                "application/vnd.docker.distribution.manifest.v2+json",
                "application/vnd.docker.container.image.v1+json",
                "application/vnd.docker.image.rootfs.diff.tar.gzip",
            ),
        };
        let layer_descs: Vec<_> = layers
            .iter()
            .map(|l| {
                let (d, s) = self.blob(repo, l);
                serde_json::json!({"mediaType": layer_mt, "digest": d, "size": s})
            })
            .collect();
        let manifest = serde_json::json!({
            "schemaVersion": 2, "mediaType": mt,
            "config": {"mediaType": cfg_mt, "digest": cfg_digest, "size": cfg_size},
            "layers": layer_descs,
        });
        let body = serde_json::to_vec(&manifest).unwrap();
        let digest = sha256(&body);
        self.manifest(repo, tag.unwrap_or(&digest), mt, &body);
        (digest, body.len() as u64, mt.to_owned())
    }

    /// Pushes an index / manifest list over already-pushed platform manifests.
    pub fn index(&self, repo: &str, tag: &str, entries: &[(String, u64, String, &str)], format: Format) -> String {
        let mt = match format {
            Format::Oci => "application/vnd.oci.image.index.v1+json",
            Format::Docker => "application/vnd.docker.distribution.manifest.list.v2+json",
        };
        let manifests: Vec<_> = entries
            .iter()
            .map(|(d, s, m, arch)| serde_json::json!({"mediaType": m, "digest": d, "size": s, "platform": {"os": "linux", "architecture": arch}}))
            .collect();
        let body =
            serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "mediaType": mt, "manifests": manifests}))
                .unwrap();
        self.manifest(repo, tag, mt, &body)
    }
}

/// One request seen by the proxy.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub range: Option<String>,
}

#[derive(Clone, Debug)]
pub enum Fault {
    /// Close the connection after this many body bytes of the blob's response.
    Cut { digest: String, after: usize },
    /// Flip one byte of the blob's body.
    Corrupt { digest: String },
    /// Answer HTTP 429 (with `Retry-After` seconds) instead of forwarding.
    TooMany { path_contains: String, retry_after: u64 },
    /// Drop the Range header, as a registry that ignores Range would.
    StripRange { digest: String },
}

/// A loopback TCP proxy in front of a registry: records every request and
/// applies each queued fault once.
pub struct Proxy {
    pub host: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    pub faults: Arc<Mutex<Vec<Fault>>>,
}

impl Proxy {
    pub fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let faults: Arc<Mutex<Vec<Fault>>> = Arc::new(Mutex::new(Vec::new()));
        let (s2, f2, up) = (seen.clone(), faults.clone(), upstream.to_owned());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(&up) else { continue };
                let (seen, faults) = (s2.clone(), f2.clone());
                let mode: Arc<Mutex<Option<Fault>>> = Arc::new(Mutex::new(None));
                let (c_read, s_write) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let m1 = mode.clone();
                std::thread::spawn(move || upstream_pump(c_read, s_write, seen, faults, m1));
                std::thread::spawn(move || downstream_pump(server, client, mode));
            }
        });
        Self { host, seen, faults }
    }

    pub fn fault(&self, f: Fault) {
        self.faults.lock().unwrap().push(f);
    }

    pub fn blob_requests(&self) -> Vec<Seen> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.method == "GET" && s.path.contains("/blobs/"))
            .cloned()
            .collect()
    }

    pub fn clear(&self) {
        self.seen.lock().unwrap().clear();
    }
}

fn upstream_pump(
    mut client: TcpStream,
    mut server: TcpStream,
    seen: Arc<Mutex<Vec<Seen>>>,
    faults: Arc<Mutex<Vec<Fault>>>,
    mode: Arc<Mutex<Option<Fault>>>,
) {
    let mut buf = [0u8; 16 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    let mut raw = false; // after a request with a body, stop parsing
    loop {
        let n = match client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if raw {
            if server.write_all(&buf[..n]).is_err() {
                break;
            }
            continue;
        }
        pending.extend_from_slice(&buf[..n]);
        // GET/HEAD requests carry no body: each header block is one request.
        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let block: Vec<u8> = pending.drain(..end + 4).collect();
            let head = String::from_utf8_lossy(&block).into_owned();
            let mut lines = head.lines();
            let first: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
            let range = lines.find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("range:")
                    .map(|v| v.trim().to_owned())
            });
            let s = Seen {
                method: first.first().unwrap_or(&"").to_string(),
                path: first.get(1).unwrap_or(&"").to_string(),
                range,
            };
            let fault = {
                let mut fs = faults.lock().unwrap();
                fs.iter()
                    .position(|f| match f {
                        Fault::Cut { digest, .. } | Fault::Corrupt { digest } => {
                            s.method == "GET" && s.path.ends_with(digest.as_str())
                        }
                        Fault::StripRange { digest } => {
                            s.method == "GET" && s.path.ends_with(digest.as_str()) && s.range.is_some()
                        }
                        Fault::TooMany { path_contains, .. } => s.path.contains(path_contains.as_str()),
                    })
                    .map(|i| fs.remove(i))
            };
            let is_head = s.method == "HEAD";
            let has_body = !matches!(s.method.as_str(), "GET" | "HEAD");
            seen.lock().unwrap().push(s);
            match fault {
                Some(Fault::TooMany { retry_after, .. }) => {
                    // Docker Hub's shape: JSON errors body, Retry-After and quota headers.
                    let body =
                        r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit."}]}"#;
                    let _ = write!(
                        client,
                        "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: {retry_after}\r\nratelimit-limit: 100;w=21600\r\nratelimit-remaining: 0;w=21600\r\n\r\n{}",
                        body.len(),
                        if is_head { "" } else { body }
                    );
                    continue;
                }
                Some(Fault::StripRange { .. }) => {
                    let kept: String = head
                        .split_inclusive("\r\n")
                        .filter(|l| !l.to_ascii_lowercase().starts_with("range:"))
                        .collect();
                    if server.write_all(kept.as_bytes()).is_err() {
                        return;
                    }
                    continue;
                }
                Some(f) => *mode.lock().unwrap() = Some(f),
                None => {}
            }
            if server.write_all(&block).is_err() {
                return;
            }
            if has_body {
                raw = true;
                let _ = server.write_all(&pending);
                pending.clear();
                break;
            }
        }
    }
    let _ = server.shutdown(Shutdown::Write);
}

fn downstream_pump(mut server: TcpStream, mut client: TcpStream, mode: Arc<Mutex<Option<Fault>>>) {
    let mut buf = [0u8; 16 * 1024];
    let mut body_seen: Option<usize> = None; // body bytes of the faulted response so far
    let mut header_buf: Vec<u8> = Vec::new();
    loop {
        let n = match server.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mut chunk = buf[..n].to_vec();
        let active = mode.lock().unwrap().clone();
        if let Some(fault) = active {
            let body_start = if body_seen.is_none() {
                header_buf.extend_from_slice(&chunk);
                match header_buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    Some(p) => {
                        let already = header_buf.len() - chunk.len();
                        body_seen = Some(0);
                        Some(p + 4 - already)
                    }
                    None => None,
                }
            } else {
                Some(0)
            };
            if let (Some(start), Some(seen_so_far)) = (body_start, body_seen) {
                let body_len = chunk.len() - start;
                match fault {
                    Fault::Corrupt { .. } => {
                        if body_len > 0 {
                            chunk[start] ^= 0xff;
                            *mode.lock().unwrap() = None;
                            body_seen = None;
                            header_buf.clear();
                        }
                    }
                    Fault::Cut { after, .. } => {
                        if seen_so_far + body_len >= after {
                            let keep = start + (after - seen_so_far);
                            let _ = client.write_all(&chunk[..keep]);
                            *mode.lock().unwrap() = None;
                            let _ = client.shutdown(Shutdown::Both);
                            let _ = server.shutdown(Shutdown::Both);
                            return;
                        }
                        body_seen = Some(seen_so_far + body_len);
                    }
                    // Handled on the request side; never set as a mode.
                    Fault::TooMany { .. } | Fault::StripRange { .. } => {}
                }
            }
        }
        if client.write_all(&chunk).is_err() {
            break;
        }
    }
    let _ = client.shutdown(Shutdown::Write);
}

/// The binary with a hermetic environment and fast retries.
pub fn bin(data: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("digit-quickstart").unwrap();
    for var in [
        "NO_COLOR",
        "FORCE_COLOR",
        "DOCKER_CONFIG",
        "DIGIT_QUICKSTART_PROFILE",
        "DIGIT_QUICKSTART_DATA_DIR",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("HOME", data)
        .env("DIGIT_QUICKSTART_RETRY_BASE_MS", "5")
        .arg("--data-dir")
        .arg(data);
    cmd
}

pub fn store_has(data: &Path, digest: &str) -> bool {
    data.join("store/blobs/sha256")
        .join(digest.trim_start_matches("sha256:"))
        .exists()
}

pub fn partials(data: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(data.join("store/partial"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

/// Debian's containerd on a private socket and root; stopped on drop.
pub struct Containerd {
    child: Child,
    pub socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Containerd {
    pub fn start() -> Self {
        assert!(
            Path::new("/usr/bin/containerd").exists(),
            "containerd is required: apt-get install containerd runc (the CI script installs it)"
        );
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("containerd.sock");
        let config = format!(
            "version = 2\nroot = \"{}\"\nstate = \"{}\"\n[grpc]\n  address = \"{}\"\n",
            dir.path().join("root").display(),
            dir.path().join("state").display(),
            socket.display()
        );
        let cfg = dir.path().join("config.toml");
        std::fs::write(&cfg, config).unwrap();
        let child = Command::new("/usr/bin/containerd")
            .arg("--config")
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !socket.exists() {
            assert!(Instant::now() < deadline, "containerd did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            child,
            socket,
            _dir: dir,
        }
    }

    /// `ctr -a <socket> -n k8s.io ARGS`, the namespace kubelet uses.
    pub fn ctr(&self, args: &[&str]) -> std::process::Output {
        Command::new("ctr")
            .arg("-a")
            .arg(&self.socket)
            .args(["-n", "k8s.io"])
            .args(args)
            .output()
            .unwrap()
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Leaves the first bytes of a blob in the store's partial/ folder, as an
/// interrupted pull would.
pub fn seed_partial(data: &Path, blob: &[u8], keep: usize) -> PathBuf {
    let partial = data
        .join("store/partial")
        .join(format!("{}.partial", sha256(blob).trim_start_matches("sha256:")));
    std::fs::create_dir_all(partial.parent().unwrap()).unwrap();
    std::fs::write(&partial, &blob[..keep]).unwrap();
    partial
}

/// A tiny profile whose images live on the test registry.
pub fn images_profile(dir: &Path, images: &[impl AsRef<str>]) -> PathBuf {
    let dev = digit_quickstart::profile::EMBEDDED[0].2;
    // Keep the real header; the admin and seeds refer to dev's components.
    let head = &dev[..dev.find("\nadmin:").unwrap()];
    let mut text = head.to_owned() + "\nadmin: {username: A, via: c0, tenants: [pg], roles: []}\ncomponents:\n";
    for (i, img) in images.iter().map(AsRef::as_ref).enumerate() {
        text.push_str(&format!(
            "  - name: c{i}\n    images:\n      - {{ref: {img}, compressed: 1Mi, unpacked: 2Mi}}\n    resources:\n      requests: {{cpu: 10m, memory: 16Mi}}\n      limits: {{memory: 32Mi}}\n"
        ));
    }
    let path = dir.join("test.yaml");
    std::fs::write(&path, text).unwrap();
    path
}
