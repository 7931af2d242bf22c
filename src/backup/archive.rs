//! The backup archive: a plain tar whose first member is `manifest.json`
//! (name, profile, release, and the sha256 and size of every other member),
//! so a listing reads one header and a restore can check every byte before
//! it changes anything. Members are already compressed where it pays (the
//! database dump is pg_dump's custom format).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::{BackupError, MANIFEST, Manifest, Member};

/// A member file staged on disk, with the name it gets in the archive.
pub struct Staged {
    pub name: String,
    pub path: PathBuf,
}

/// Hashes a staged file: its manifest entry.
pub fn member_of(s: &Staged) -> Result<Member, BackupError> {
    let mut f = std::fs::File::open(&s.path).map_err(|e| BackupError::io("read", &s.path, e))?;
    let mut h = Sha256::new();
    let size = std::io::copy(&mut f, &mut HashWriter(&mut h)).map_err(|e| BackupError::io("read", &s.path, e))?;
    Ok(Member {
        path: s.name.clone(),
        size,
        sha256: format!("{:x}", h.finalize()),
    })
}

struct HashWriter<'a>(&'a mut Sha256);

impl Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes the archive to `out` (mode 0600, via a temporary name, so a
/// half-written archive never carries the final name).
pub fn write(out: &Path, manifest: &Manifest, staged: &[Staged]) -> Result<u64, BackupError> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let tmp = out.with_extension("partial");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| BackupError::io("create", &tmp, e))?;
    let mut tar = tar::Builder::new(std::io::BufWriter::new(file));
    let doc = serde_json::to_vec_pretty(manifest).expect("a manifest serialises");
    append(&mut tar, MANIFEST, &mut doc.as_slice(), doc.len() as u64).map_err(|e| BackupError::io("write", &tmp, e))?;
    for (s, m) in staged.iter().zip(&manifest.members) {
        let mut f = std::fs::File::open(&s.path).map_err(|e| BackupError::io("read", &s.path, e))?;
        append(&mut tar, &m.path, &mut f, m.size).map_err(|e| BackupError::io("write", &tmp, e))?;
    }
    let file = tar
        .into_inner()
        .and_then(|w| w.into_inner().map_err(|e| e.into_error()))
        .map_err(|e| BackupError::io("write", &tmp, e))?;
    file.sync_all().map_err(|e| BackupError::io("write", &tmp, e))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    std::fs::rename(&tmp, out).map_err(|e| BackupError::io("rename", &tmp, e))?;
    Ok(size)
}

fn append(tar: &mut tar::Builder<impl Write>, name: &str, data: &mut dyn Read, size: u64) -> std::io::Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_size(size);
    h.set_mode(0o600);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mtime(0);
    tar.append_data(&mut h, name, data.take(size))
}

/// Reads only the manifest (the first member).
pub fn manifest(archive: &Path) -> Result<Manifest, BackupError> {
    let file = std::fs::File::open(archive).map_err(|e| BackupError::io("read", archive, e))?;
    let mut tar = tar::Archive::new(std::io::BufReader::new(file));
    let mut entries = tar.entries().map_err(|e| BackupError::io("read", archive, e))?;
    let first = entries
        .next()
        .ok_or_else(|| BackupError::NotABackup {
            archive: archive.to_owned(),
        })?
        .map_err(|e| BackupError::io("read", archive, e))?;
    read_manifest(archive, first)
}

fn read_manifest(archive: &Path, mut entry: tar::Entry<'_, impl Read>) -> Result<Manifest, BackupError> {
    let name = entry
        .path()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name != MANIFEST || entry.size() > 1 << 20 {
        return Err(BackupError::NotABackup {
            archive: archive.to_owned(),
        });
    }
    let mut text = Vec::new();
    entry
        .read_to_end(&mut text)
        .map_err(|e| BackupError::io("read", archive, e))?;
    let m: Manifest = serde_json::from_slice(&text).map_err(|_| BackupError::NotABackup {
        archive: archive.to_owned(),
    })?;
    for member in &m.members {
        if !safe_name(&member.path) {
            return Err(BackupError::BadMember {
                archive: archive.to_owned(),
                member: member.path.clone(),
                why: "a path outside the archive's own tree".into(),
            });
        }
    }
    Ok(m)
}

/// Relative, no `..`, no empty or dot components: a name that cannot reach
/// outside the folder it is unpacked into.
fn safe_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('/') && name.split('/').all(|c| !c.is_empty() && c != "." && c != "..")
}

/// Reads the whole archive once, writing each member under `into` while
/// hashing it, and checks every member against the manifest: the same set
/// of names, sizes and sha256. On any mismatch `into` is removed and the
/// error names the member; nothing outside `into` is touched.
pub fn unpack_verified(archive: &Path, into: &Path) -> Result<Manifest, BackupError> {
    let result = unpack(archive, into);
    if result.is_err() {
        let _ = std::fs::remove_dir_all(into);
    }
    result
}

fn unpack(archive: &Path, into: &Path) -> Result<Manifest, BackupError> {
    let file = std::fs::File::open(archive).map_err(|e| BackupError::io("read", archive, e))?;
    let mut tar = tar::Archive::new(std::io::BufReader::new(file));
    let mut entries = tar.entries().map_err(|e| BackupError::io("read", archive, e))?;
    let manifest = match entries.next() {
        Some(first) => read_manifest(archive, first.map_err(|e| BackupError::io("read", archive, e))?)?,
        None => {
            return Err(BackupError::NotABackup {
                archive: archive.to_owned(),
            });
        }
    };
    let mut want: std::collections::BTreeMap<&str, &Member> =
        manifest.members.iter().map(|m| (m.path.as_str(), m)).collect();
    for entry in entries {
        let mut entry = entry.map_err(|e| BackupError::io("read", archive, e))?;
        let name = entry
            .path()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bad = |why: &str| BackupError::BadMember {
            archive: archive.to_owned(),
            member: name.clone(),
            why: why.to_owned(),
        };
        if entry.header().entry_type() != tar::EntryType::Regular {
            return Err(bad("not a regular file"));
        }
        let Some(m) = want.remove(name.as_str()) else {
            return Err(bad("not listed in the manifest (added after the backup was made)"));
        };
        let path = into.join(&m.path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| BackupError::io("create", dir, e))?;
        }
        let mut out = std::fs::File::create(&path).map_err(|e| BackupError::io("create", &path, e))?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut size = 0u64;
        loop {
            let n = entry.read(&mut buf).map_err(|e| BackupError::io("read", archive, e))?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
            out.write_all(&buf[..n])
                .map_err(|e| BackupError::io("write", &path, e))?;
            size += n as u64;
        }
        let actual = format!("{:x}", h.finalize());
        if size != m.size || actual != m.sha256 {
            return Err(BackupError::Mismatch {
                archive: archive.to_owned(),
                member: m.path.clone(),
                expected: format!("{} bytes, sha256 {}", m.size, m.sha256),
                actual: format!("{size} bytes, sha256 {actual}"),
            });
        }
    }
    if let Some(missing) = want.keys().next() {
        return Err(BackupError::BadMember {
            archive: archive.to_owned(),
            member: (*missing).to_owned(),
            why: "listed in the manifest but missing from the archive (truncated?)".into(),
        });
    }
    Ok(manifest)
}
