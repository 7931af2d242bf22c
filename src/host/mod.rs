//! Every side effect the installer has: files, processes, sockets, the
//! network, the clock, the environment. Stages take these traits; `Host::real`
//! wires the real implementations and tests substitute their own.

mod cmd;
pub mod facts;
pub mod net;
mod real;

use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

pub use cmd::{Cmd, CmdError, CmdOutput, Feed, ProcessRunner, Runner};
pub use net::RealNet;
pub use real::{RealClock, RealEnv, RealFs, RealSys};

/// Space on the filesystem holding a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FsSpace {
    pub total: u64,
    pub available: u64,
    /// Device id, so two paths on one filesystem are counted once.
    pub device: u64,
}

pub trait Fs: Send + Sync {
    fn read_to_string(&self, path: &Path) -> io::Result<String>;
    fn exists(&self, path: &Path) -> bool;
    fn read_link(&self, path: &Path) -> io::Result<PathBuf>;
    /// Names of the entries of a directory.
    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>>;
    fn space(&self, path: &Path) -> io::Result<FsSpace>;
    fn create_dir_all(&self, path: &Path) -> io::Result<()>;
    /// Writes through a temporary file and a rename, so readers never see half a file.
    fn write_atomic(&self, path: &Path, contents: &[u8], mode: u32) -> io::Result<()>;
    /// Copies `from` to `to` through a temporary file and a rename.
    fn copy_atomic(&self, from: &Path, to: &Path, mode: u32) -> io::Result<()>;
    /// The same, but `from` is a path the user gave (not below `--root`).
    fn copy_atomic_from_outside(&self, from: &Path, to: &Path, mode: u32) -> io::Result<()>;
    /// Lowercase hex sha256 of a file's content.
    fn sha256(&self, path: &Path) -> io::Result<String>;
    /// Permission bits (`0o644`).
    fn mode(&self, path: &Path) -> io::Result<u32>;
    fn set_mode(&self, path: &Path, mode: u32) -> io::Result<()>;
    fn symlink(&self, target: &Path, link: &Path) -> io::Result<()>;
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    fn chown(&self, path: &Path, uid: u32, gid: u32) -> io::Result<()>;
    fn remove_dir_all(&self, path: &Path) -> io::Result<()>;
    /// Where a host path really is (below `--root` when one is set), for
    /// code that must open it itself (streaming downloads, kube's config).
    fn real_path(&self, path: &Path) -> PathBuf;
}

/// Kernel and process identity.
pub trait Sys: Send + Sync {
    fn uname(&self) -> Uname;
    fn effective_uid(&self) -> u32;
    /// The kernel's id of this boot (a reboot changes it); None when unknown.
    fn boot_id(&self) -> Option<String> {
        None
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uname {
    pub nodename: String,
    pub release: String,
    pub machine: String,
}

/// Result of trying to bind a TCP port.
#[derive(Debug)]
pub enum BindOutcome {
    Free,
    InUse,
    Error(io::Error),
}

/// An HTTPS endpoint to probe: DNS first, then one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub url: String,
}

#[derive(Clone, Debug)]
pub struct EndpointProbe {
    pub dns: Result<Vec<IpAddr>, String>,
    /// HTTP status of the request, or why there was none.
    pub http: Result<u16, String>,
}

pub trait Net: Send + Sync {
    fn try_bind_tcp(&self, port: u16) -> BindOutcome;
    /// Probes every endpoint concurrently, each bounded by `timeout`.
    fn probe(&self, endpoints: &[Endpoint], timeout: Duration) -> Vec<EndpointProbe>;
    /// Reads a registry's pull-quota headers with a HEAD (free on Docker Hub).
    fn quota(&self, url: &str, timeout: Duration) -> Result<crate::images::ratelimit::Limits, String>;
}

pub trait Env: Send + Sync {
    fn var(&self, name: &str) -> Option<String>;
}

pub trait Clock: Send + Sync {
    fn now(&self) -> SystemTime;
}

/// The bundle of seams a command runs against.
pub struct Host {
    pub fs: Box<dyn Fs>,
    pub sys: Box<dyn Sys>,
    pub net: Box<dyn Net>,
    pub cmd: Box<dyn Runner>,
    pub env: Box<dyn Env>,
    pub clock: Box<dyn Clock>,
}

impl Host {
    /// The machine this process runs on.
    pub fn real() -> Self {
        Self {
            fs: Box::new(RealFs::new("/")),
            sys: Box::new(RealSys),
            net: Box::new(RealNet),
            cmd: Box::new(ProcessRunner),
            env: Box::new(RealEnv),
            clock: Box::new(RealClock),
        }
    }
}
