//! Real implementations of the file, system, environment and clock seams.

use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::{Clock, Env, Fs, FsSpace, Sys, Uname};

/// The filesystem below `root` (`/` on a real host; a fixture tree in tests),
/// so that `/proc/meminfo` can be read from a prepared directory.
#[derive(Clone, Debug)]
pub struct RealFs {
    root: PathBuf,
}

impl RealFs {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn at(&self, path: &Path) -> PathBuf {
        if self.root == Path::new("/") || !path.is_absolute() {
            return path.to_path_buf();
        }
        self.root.join(path.strip_prefix("/").unwrap_or(path))
    }
}

fn copy_atomic_real(from: &Path, target: &Path, mode: u32) -> io::Result<()> {
    let tmp = temp_beside(target)?;
    let result = (|| {
        std::fs::copy(from, &tmp)?;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))?;
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, target)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn temp_beside(target: &Path) -> io::Result<PathBuf> {
    let name = target
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    Ok(target.with_file_name(format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id())))
}

impl Fs for RealFs {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        std::fs::read_to_string(self.at(path))
    }

    fn exists(&self, path: &Path) -> bool {
        self.at(path).exists()
    }

    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        std::fs::read_link(self.at(path))
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        std::fs::read_dir(self.at(path))?
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect()
    }

    fn space(&self, path: &Path) -> io::Result<FsSpace> {
        let at = self.at(path);
        let stat = rustix::fs::statvfs(&at).map_err(io::Error::from)?;
        let device = std::fs::metadata(&at)?.dev();
        Ok(FsSpace {
            total: stat.f_blocks.saturating_mul(stat.f_frsize),
            available: stat.f_bavail.saturating_mul(stat.f_frsize),
            device,
        })
    }

    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        std::fs::create_dir_all(self.at(path))
    }

    fn copy_atomic(&self, from: &Path, to: &Path, mode: u32) -> io::Result<()> {
        copy_atomic_real(&self.at(from), &self.at(to), mode)
    }

    fn copy_atomic_from_outside(&self, from: &Path, to: &Path, mode: u32) -> io::Result<()> {
        copy_atomic_real(from, &self.at(to), mode)
    }

    fn sha256(&self, path: &Path) -> io::Result<String> {
        use sha2::Digest as _;
        let mut file = std::fs::File::open(self.at(path))?;
        let mut hasher = sha2::Sha256::new();
        io::copy(&mut file, &mut hasher)?;
        Ok(format!("{:x}", hasher.finalize()))
    }

    fn mode(&self, path: &Path) -> io::Result<u32> {
        Ok(std::fs::metadata(self.at(path))?.mode() & 0o7777)
    }

    fn set_mode(&self, path: &Path, mode: u32) -> io::Result<()> {
        std::fs::set_permissions(self.at(path), std::fs::Permissions::from_mode(mode))
    }

    fn symlink(&self, target: &Path, link: &Path) -> io::Result<()> {
        std::os::unix::fs::symlink(target, self.at(link))
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(self.at(path))
    }

    fn real_path(&self, path: &Path) -> PathBuf {
        self.at(path)
    }

    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_dir_all(self.at(path))
    }

    fn chown(&self, path: &Path, uid: u32, gid: u32) -> io::Result<()> {
        std::os::unix::fs::chown(self.at(path), Some(uid), Some(gid))
    }

    fn write_atomic(&self, path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
        let target = self.at(path);
        let name = target
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
        let tmp = target.with_file_name(format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id()));
        let result = (|| {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(mode)
                .open(&tmp)?;
            file.write_all(contents)?;
            file.sync_all()?;
            std::fs::rename(&tmp, &target)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}

pub struct RealSys;

impl Sys for RealSys {
    fn uname(&self) -> Uname {
        let u = rustix::system::uname();
        let text = |c: &std::ffi::CStr| c.to_string_lossy().into_owned();
        Uname {
            nodename: text(u.nodename()),
            release: text(u.release()),
            machine: text(u.machine()),
        }
    }

    fn effective_uid(&self) -> u32 {
        rustix::process::geteuid().as_raw()
    }

    // Kernel state, not a host file: never re-rooted.
    #[allow(clippy::disallowed_methods)]
    fn boot_id(&self) -> Option<String> {
        std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .ok()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    }
}

pub struct RealEnv;

impl Env for RealEnv {
    fn var(&self, name: &str) -> Option<String> {
        #[allow(clippy::disallowed_methods)] // the one sanctioned place
        std::env::var(name).ok()
    }
}

pub struct RealClock;

impl Clock for RealClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_below_the_root_and_atomic_writes_leave_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let fs = RealFs::new(dir.path());
        fs.create_dir_all(Path::new("/etc/x")).unwrap();
        fs.write_atomic(Path::new("/etc/x/f.json"), b"{}", 0o600).unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join("etc/x/f.json")).unwrap(), "{}");
        let mode = std::fs::metadata(dir.path().join("etc/x/f.json")).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(fs.read_dir(Path::new("/etc/x")).unwrap(), vec!["f.json".to_owned()]);
        let space = fs.space(Path::new("/etc")).unwrap();
        assert!(space.total >= space.available && space.total > 0);
    }
}
