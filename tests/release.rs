//! A release as the workflow makes it (scripts/release, with a minisign key
//! made here), served on loopback, installed the way the README says: the
//! release's own install.sh piped into `sh`. A good release installs; a
//! tampered binary, a tampered SHA256SUMS and a bad signature are each
//! refused with nothing installed. The binary under test is the static
//! release build scripts/test makes (DIGIT_QUICKSTART_RELEASE_BINARY), or
//! the same build made here.
#![allow(clippy::disallowed_methods)] // these tests drive sh, minisign and curl as a user would

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

const ASSET: &str = "digit-quickstart-x86_64-linux";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The static, auditable release binary.
fn release_binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("DIGIT_QUICKSTART_RELEASE_BINARY") {
            return root().join(p);
        }
        let out = Command::new(root().join("scripts/release"))
            .arg("--build")
            .stderr(Stdio::inherit())
            .output()
            .unwrap();
        assert!(out.status.success(), "scripts/release --build failed");
        root().join(String::from_utf8(out.stdout).unwrap().trim())
    })
    .clone()
}

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
                Ok(body) if !name.contains("..") && !name.is_empty() => {
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

fn minisign_keys(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let (key, public) = (dir.join(format!("{name}.key")), dir.join(format!("{name}.pub")));
    let out = Command::new("minisign")
        .args(["-G", "-W", "-s"])
        .arg(&key)
        .arg("-p")
        .arg(&public)
        .output()
        .expect("minisign is required (apt-get install minisign; .ci/run installs it)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (key, public)
}

struct Release {
    work: tempfile::TempDir,
    dist: PathBuf,
    url: String,
    public: PathBuf,
}

/// scripts/release into a folder served on loopback (the URL is known
/// before the files are made: the release install.sh names it).
fn release() -> Release {
    let work = tempfile::tempdir().unwrap();
    let dist = work.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    let url = serve(dist.clone());
    let (key, public) = minisign_keys(work.path(), "release");
    let out = Command::new(root().join("scripts/release"))
        .arg("--out")
        .arg(&dist)
        .args(["--url", &url, "--key"])
        .arg(&key)
        .arg("--public-key")
        .arg(&public)
        .arg("--binary")
        .arg(release_binary())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    Release {
        work,
        dist,
        url,
        public,
    }
}

/// `curl -fsSL <url>/install.sh | sh -s -- ARGS` with a clean environment.
fn piped(url: &str, args: &[&str], path: Option<&Path>) -> Output {
    let script = Command::new("curl")
        .args(["-fsSL", &format!("{url}/install.sh")])
        .output()
        .unwrap();
    assert!(script.status.success());
    let mut child = Command::new("sh")
        .args(["-s", "--"])
        .args(args)
        .env_clear()
        .env(
            "PATH",
            path.map_or_else(|| std::env::var("PATH").unwrap(), |p| p.display().to_string()),
        )
        .env("HOME", "/nonexistent")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&script.stdout).unwrap();
    child.wait_with_output().unwrap()
}

fn err(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
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

#[test]
fn the_release_installs_with_curl_pipe_sh_verified_twice_and_runs_the_command_given() {
    let r = release();
    let names: Vec<String> = std::fs::read_dir(&r.dist)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    for want in [ASSET, "install.sh", "SHA256SUMS", "SHA256SUMS.minisig", "minisign.pub"] {
        assert!(names.iter().any(|n| n == want), "{want} missing from {names:?}");
    }
    // The release's install.sh names this release and its key.
    let script = std::fs::read_to_string(r.dist.join("install.sh")).unwrap();
    assert!(script.contains(&format!("release_url=\"${{DIGIT_QUICKSTART_RELEASE_URL:-{}}}\"", r.url)));
    let key = std::fs::read_to_string(&r.public)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_owned();
    assert!(script.contains(&key));

    let prefix = tempfile::tempdir().unwrap();
    let out = piped(
        &r.url,
        &["--prefix", prefix.path().to_str().unwrap(), "completions", "bash"],
        None,
    );
    let stderr = err(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("signature of SHA256SUMS verified (minisign"),
        "{stderr}"
    );
    assert!(stderr.contains("sha256 verified"), "{stderr}");
    assert_eq!(
        sha256(&prefix.path().join("digit-quickstart")),
        sha256(&release_binary())
    );
    // `… | sh -s -- CMD ARGS` ran the installed binary with them.
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("complete -F _digit__quickstart"),
        "bash completions printed"
    );

    // --help works piped.
    let out = piped(&r.url, &["--help"], None);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("curl -fsSL <release-url>/install.sh | sh"));
}

fn refused(r: &Release, why: &str) {
    let prefix = tempfile::tempdir().unwrap();
    let out = piped(&r.url, &["--prefix", prefix.path().to_str().unwrap()], None);
    let stderr = err(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(why), "{stderr}");
    assert!(stderr.contains("nothing was installed"), "{stderr}");
    assert_eq!(
        std::fs::read_dir(prefix.path()).unwrap().count(),
        0,
        "nothing installed"
    );
}

#[test]
fn a_tampered_binary_a_tampered_sha256sums_and_a_bad_signature_are_each_refused() {
    // The binary swapped: its sha256 no longer matches the signed list.
    let r = release();
    let mut bytes = std::fs::read(r.dist.join(ASSET)).unwrap();
    let n = bytes.len() / 2;
    bytes[n] ^= 0xff;
    std::fs::write(r.dist.join(ASSET), &bytes).unwrap();
    refused(&r, &format!("checksum mismatch for {ASSET}"));

    // The binary swapped and SHA256SUMS rewritten to match it: the signature fails.
    let list = format!(
        "{}  {ASSET}\n{}  install.sh\n",
        sha256(&r.dist.join(ASSET)),
        sha256(&r.dist.join("install.sh"))
    );
    std::fs::write(r.dist.join("SHA256SUMS"), list).unwrap();
    refused(&r, "the signature of SHA256SUMS does not verify");

    // A signature by another key over the same SHA256SUMS.
    let r = release();
    let (other, _) = minisign_keys(r.work.path(), "other");
    let out = Command::new("minisign")
        .arg("-S")
        .arg("-s")
        .arg(&other)
        .arg("-m")
        .arg(r.dist.join("SHA256SUMS"))
        .output()
        .unwrap();
    assert!(out.status.success());
    refused(&r, "the signature of SHA256SUMS does not verify");
}

/// A PATH with symlinks to these commands only.
fn path_with(dir: &Path, commands: &[&str]) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for c in commands {
        let real = ["/usr/bin", "/bin", "/usr/sbin"]
            .iter()
            .map(|d| Path::new(d).join(c))
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("{c} not found"));
        std::os::unix::fs::symlink(real, bin.join(c)).unwrap();
    }
    bin
}

const SHELL_TOOLS: &[&str] = &[
    "sh",
    "uname",
    "mktemp",
    "rm",
    "cat",
    "curl",
    "sha256sum",
    "cut",
    "awk",
    "chmod",
    "id",
    "mkdir",
    "cp",
    "mv",
    "head",
    "dirname",
    "grep",
    "sed",
];

#[test]
fn without_minisign_the_sha256_is_still_checked_and_the_user_is_told() {
    let r = release();
    let dir = tempfile::tempdir().unwrap();
    let path = path_with(dir.path(), SHELL_TOOLS);
    let prefix = tempfile::tempdir().unwrap();
    let out = piped(&r.url, &["--prefix", prefix.path().to_str().unwrap()], Some(&path));
    let stderr = err(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("minisign is not installed: the signature was not checked"),
        "{stderr}"
    );
    assert!(stderr.contains("sha256 verified"), "{stderr}");
}

#[test]
fn on_arm64_it_explains_that_digits_images_are_amd64_only() {
    let r = release();
    let dir = tempfile::tempdir().unwrap();
    let tools: Vec<&str> = SHELL_TOOLS.iter().copied().filter(|t| *t != "uname").collect();
    let path = path_with(dir.path(), &tools);
    std::fs::write(path.join("uname"), "#!/bin/sh\necho aarch64\n").unwrap();
    Command::new("chmod")
        .arg("755")
        .arg(path.join("uname"))
        .status()
        .unwrap();
    let prefix = tempfile::tempdir().unwrap();
    let out = piped(&r.url, &["--prefix", prefix.path().to_str().unwrap()], Some(&path));
    let stderr = err(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("arm64"), "{stderr}");
    assert!(stderr.contains("linux/amd64 only"), "{stderr}");
    assert_eq!(std::fs::read_dir(prefix.path()).unwrap().count(), 0);
}

#[test]
fn in_a_checkout_without_cargo_it_names_both_ways_in() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_with(dir.path(), SHELL_TOOLS);
    let out = Command::new("sh")
        .arg(root().join("install.sh"))
        .env_clear()
        .env("PATH", &path)
        .output()
        .unwrap();
    let stderr = err(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cargo is not installed"), "{stderr}");
    assert!(stderr.contains("https://rustup.rs"), "{stderr}");
    assert!(stderr.contains("--from-release"), "{stderr}");
}

#[test]
fn the_release_binary_is_static_and_carries_its_dependency_list() {
    let bin = release_binary();
    let ldd = Command::new("ldd").arg(&bin).output().unwrap();
    assert!(
        !String::from_utf8_lossy(&ldd.stdout).contains("=>"),
        "statically linked"
    );
    // cargo-auditable's section: the dependency tree, zlib-compressed JSON.
    let sections = Command::new("readelf").arg("-S").arg(&bin).output().unwrap();
    assert!(
        String::from_utf8_lossy(&sections.stdout).contains(".dep-v0"),
        "no .dep-v0 section"
    );
    let size = std::fs::metadata(&bin).unwrap().len();
    assert!(
        size <= 20_000_000,
        "{size} bytes: the release binary must stay within 20 MB"
    );
}
