//! install.sh's release path: download from a loopback HTTP server, verify
#![allow(clippy::disallowed_methods)] // these tests drive install.sh and sha256sum as a user would
//! sha256 against SHA256SUMS, refuse (installing nothing) on a mismatch.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Serves files from `dir` over HTTP/1.0 on loopback until the process ends.
fn serve(dir: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let mut reader = BufReader::new(&conn);
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let name = request
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .trim_start_matches('/')
                .to_owned();
            let mut conn = &conn;
            match std::fs::read(dir.join(&name)) {
                Ok(body) if !name.contains("..") => {
                    let _ = write!(conn, "HTTP/1.0 200 OK\r\ncontent-length: {}\r\n\r\n", body.len());
                    let _ = conn.write_all(&body);
                }
                _ => {
                    let _ = write!(conn, "HTTP/1.0 404 Not Found\r\ncontent-length: 0\r\n\r\n");
                }
            }
        }
    });
    url
}

fn asset() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "digit-quickstart-aarch64-linux",
        _ => "digit-quickstart-x86_64-linux",
    }
}

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// A release directory holding the binary under test and its SHA256SUMS.
fn release(sums_for: Option<&[u8]>) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join(asset());
    std::fs::copy(env!("CARGO_BIN_EXE_digit-quickstart"), &bin).unwrap();
    let sum = match sums_for {
        Some(other) => {
            let p = dir.path().join("other");
            std::fs::write(&p, other).unwrap();
            sha256(&p)
        }
        None => sha256(&bin),
    };
    std::fs::write(dir.path().join("SHA256SUMS"), format!("{sum}  {}\n", asset())).unwrap();
    let url = serve(dir.path().to_path_buf());
    (dir, url)
}

fn install(url: &str, prefix: &Path, extra: &[&str]) -> Output {
    Command::new("sh")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/install.sh"))
        .args(["--from-release", "--prefix"])
        .arg(prefix)
        .args(extra)
        .env("DIGIT_QUICKSTART_RELEASE_URL", url)
        .output()
        .unwrap()
}

#[test]
fn a_release_binary_with_a_matching_checksum_is_installed() {
    let (_dir, url) = release(None);
    let prefix = tempfile::tempdir().unwrap();
    let out = install(&url, prefix.path(), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("sha256 verified"), "{err}");
    let installed = prefix.path().join("digit-quickstart");
    assert_eq!(
        sha256(&installed),
        sha256(Path::new(env!("CARGO_BIN_EXE_digit-quickstart")))
    );
}

#[test]
fn a_tampered_release_binary_is_refused_and_nothing_is_installed() {
    let (_dir, url) = release(Some(b"the binary that was published"));
    let prefix = tempfile::tempdir().unwrap();
    let out = install(&url, prefix.path(), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("checksum mismatch for {}", asset())), "{err}");
    assert!(err.contains("nothing was installed"));
    assert_eq!(std::fs::read_dir(prefix.path()).unwrap().count(), 0);
}

#[test]
fn a_missing_checksum_entry_or_release_url_is_an_error() {
    let (dir, url) = release(None);
    std::fs::write(dir.path().join("SHA256SUMS"), "abc  some-other-asset\n").unwrap();
    let prefix = tempfile::tempdir().unwrap();
    let out = install(&url, prefix.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("has no entry for {}", asset())));

    let out = Command::new("sh")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/install.sh"))
        .args(["--from-release", "--prefix"])
        .arg(prefix.path())
        .env_remove("DIGIT_QUICKSTART_RELEASE_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no release URL"));
    assert_eq!(std::fs::read_dir(prefix.path()).unwrap().count(), 0);
}

#[test]
fn arguments_after_a_double_dash_are_forwarded_to_the_installed_binary() {
    let (_dir, url) = release(None);
    let prefix = tempfile::tempdir().unwrap();
    let out = install(&url, prefix.path(), &["--", "--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("digit-quickstart "));
}
