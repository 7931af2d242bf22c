//! The content-addressed image store: an OCI image layout under the data dir
//! (`oci-layout`, `index.json`, `blobs/sha256/<hex>`). A blob becomes visible
//! only by a rename after its sha256 matched; downloads in progress live in
//! `partial/`, so an interrupted blob resumes from its partial file.

use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};
use tokio::io::AsyncReadExt;

/// What a stored blob takes once containerd has unpacked it: a gzip layer's
/// own trailer says (ISIZE, the size modulo 4 GiB: layers are smaller), an
/// uncompressed one is its size, a config is stored as is. None for a
/// media type we cannot read the size of (zstd without a content size).
pub fn unpacked_size(path: &Path, d: &super::lock::Descriptor) -> Option<u64> {
    use std::io::{Read as _, Seek as _};
    let mt = d.media_type.as_str();
    if mt.ends_with("gzip") || mt.ends_with("tar.gz") {
        let mut f = std::fs::File::open(path).ok()?;
        f.seek(std::io::SeekFrom::End(-4)).ok()?;
        let mut bytes = [0u8; 4];
        f.read_exact(&mut bytes).ok()?;
        Some(u64::from(u32::from_le_bytes(bytes)))
    } else if mt.contains("zstd") {
        None
    } else {
        Some(d.size)
    }
}

/// `sha256:<64 hex>` checked, or an error naming the bad value.
pub fn hex_of(digest: &str) -> Result<&str, String> {
    match digest.strip_prefix("sha256:") {
        Some(hex) if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) => {
            Ok(hex)
        }
        _ => Err(format!(
            "unsupported digest `{digest}`: expected sha256:<64 lowercase hex>"
        )),
    }
}

pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// Written by `Store::mark_unsynced`: blobs since may still be only in the
/// page cache of the boot it names.
const UNSYNCED: &str = "unsynced";

/// Written by `Store::drop_blobs`.
const DROPPED: &str = "dropped.json";

#[derive(Clone, Debug)]
pub struct Store {
    root: PathBuf,
}

/// A blob whose content does not match its name.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BadBlob {
    pub digest: String,
    pub actual: String,
}

impl Store {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Creates the layout directories and the `oci-layout` marker.
    pub async fn init(&self) -> std::io::Result<()> {
        tokio::fs::create_dir_all(self.root.join("blobs/sha256")).await?;
        tokio::fs::create_dir_all(self.root.join("partial")).await?;
        let marker = self.root.join("oci-layout");
        if tokio::fs::metadata(&marker).await.is_err() {
            tokio::fs::write(&marker, br#"{"imageLayoutVersion":"1.0.0"}"#).await?;
        }
        Ok(())
    }

    /// Deletes every blob and partial download (containerd holds checked
    /// copies) and records which lock file the store held, by its sha256, so a
    /// later run knows those images need no pull. Returns the bytes freed.
    pub fn drop_blobs(&self, lock_sha256: &str) -> std::io::Result<u64> {
        let blobs = self.root.join("blobs/sha256");
        let mut freed = 0;
        if let Ok(entries) = std::fs::read_dir(&blobs) {
            for e in entries.flatten() {
                freed += e.metadata().map(|m| m.len()).unwrap_or(0);
            }
        }
        for dir in [self.root.join("partial"), blobs] {
            match std::fs::remove_dir_all(&dir) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        let doc = serde_json::json!({"lock_sha256": lock_sha256});
        std::fs::write(self.root.join(DROPPED), doc.to_string())?;
        Ok(freed)
    }

    /// The store was dropped after importing the lock file with this sha256.
    pub fn dropped_after(&self, lock_sha256: &str) -> bool {
        std::fs::read(self.root.join(DROPPED))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .is_some_and(|v| v["lock_sha256"] == lock_sha256)
    }

    /// Records, durably, that blobs written from now on may not be on disk
    /// yet, and in which boot. Blobs are then renamed into place without an
    /// fsync each: after a crash without a reboot the page cache still holds
    /// them; after a reboot `settle` re-hashes the store.
    pub fn mark_unsynced(&self, boot_id: &str) -> std::io::Result<()> {
        if self.unsynced_boot().as_deref() == Some(boot_id) {
            return Ok(());
        }
        let path = self.root.join(UNSYNCED);
        let f = std::fs::File::create(&path)?;
        std::io::Write::write_all(&mut &f, boot_id.as_bytes())?;
        f.sync_all()?;
        std::fs::File::open(&self.root)?.sync_all()
    }

    fn unsynced_boot(&self) -> Option<String> {
        std::fs::read_to_string(self.root.join(UNSYNCED)).ok()
    }

    /// Before the store is trusted: when blobs were written in another boot
    /// than this one (`boot_id`; None: unknown, so any other) and never
    /// flushed, every blob is re-hashed and a bad one deleted (it is fetched
    /// again). Returns how many were deleted. Otherwise nothing to do.
    pub fn settle(&self, boot_id: Option<&str>) -> std::io::Result<usize> {
        let Some(marked) = self.unsynced_boot() else {
            return Ok(0);
        };
        if boot_id == Some(marked.as_str()) {
            return Ok(0);
        }
        let mut deleted = 0;
        if let Ok(entries) = std::fs::read_dir(self.root.join("blobs/sha256")) {
            for e in entries.flatten() {
                let want = format!("sha256:{}", e.file_name().to_string_lossy());
                let ok = std::fs::File::open(e.path())
                    .and_then(|mut f| {
                        let mut h = Sha256::new();
                        std::io::copy(&mut f, &mut h)?;
                        Ok(format!("sha256:{:x}", h.finalize()))
                    })
                    .is_ok_and(|got| got == want);
                if !ok {
                    std::fs::remove_file(e.path())?;
                    deleted += 1;
                }
            }
        }
        rustix::fs::syncfs(std::fs::File::open(&self.root)?)?;
        std::fs::remove_file(self.root.join(UNSYNCED))?;
        Ok(deleted)
    }

    pub fn blob_path(&self, digest: &str) -> Result<PathBuf, String> {
        Ok(self.root.join("blobs/sha256").join(hex_of(digest)?))
    }

    pub fn partial_path(&self, digest: &str) -> Result<PathBuf, String> {
        Ok(self.root.join("partial").join(format!("{}.partial", hex_of(digest)?)))
    }

    pub async fn has(&self, digest: &str) -> bool {
        match self.blob_path(digest) {
            Ok(p) => tokio::fs::metadata(p).await.is_ok(),
            Err(_) => false,
        }
    }

    pub async fn read(&self, digest: &str) -> std::io::Result<Vec<u8>> {
        let path = self.blob_path(digest).map_err(std::io::Error::other)?;
        tokio::fs::read(path).await
    }

    /// Stores small content (manifests, indexes) after checking its digest.
    pub async fn put(&self, digest: &str, bytes: &[u8]) -> std::io::Result<()> {
        let actual = sha256_digest(bytes);
        if actual != digest {
            return Err(std::io::Error::other(format!("content is {actual}, not {digest}")));
        }
        let target = self.blob_path(digest).map_err(std::io::Error::other)?;
        let tmp = self
            .partial_path(digest)
            .map_err(std::io::Error::other)?
            .with_extension("put");
        tokio::fs::write(&tmp, bytes).await?;
        tokio::fs::rename(&tmp, &target).await
    }

    /// Moves a fully verified partial file into place.
    pub async fn commit(&self, digest: &str) -> std::io::Result<()> {
        let from = self.partial_path(digest).map_err(std::io::Error::other)?;
        let to = self.blob_path(digest).map_err(std::io::Error::other)?;
        tokio::fs::rename(from, to).await
    }

    /// Re-hashes every blob; returns the ones whose content no longer matches.
    pub async fn verify(&self) -> std::io::Result<(usize, Vec<BadBlob>)> {
        let dir = self.root.join("blobs/sha256");
        let mut entries = match tokio::fs::read_dir(&dir).await {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, Vec::new())),
            Err(e) => return Err(e),
        };
        let mut checked = 0;
        let mut bad = Vec::new();
        while let Some(entry) = entries.next_entry().await? {
            let name = entry.file_name().to_string_lossy().into_owned();
            let digest = format!("sha256:{name}");
            let actual = hash_file(&entry.path()).await?;
            checked += 1;
            if actual != digest {
                bad.push(BadBlob { digest, actual });
            }
        }
        bad.sort_by(|a, b| a.digest.cmp(&b.digest));
        Ok((checked, bad))
    }

    /// Deletes a blob (used to repair one that failed verification).
    pub async fn remove(&self, digest: &str) -> std::io::Result<()> {
        tokio::fs::remove_file(self.blob_path(digest).map_err(std::io::Error::other)?).await
    }

    /// Writes `index.json` naming every image (the `ref.name` annotation is
    /// the full reference, so skopeo and containerd can find them).
    pub async fn write_index(&self, entries: &[IndexEntry]) -> std::io::Result<()> {
        let manifests: Vec<serde_json::Value> = entries
            .iter()
            .map(|e| {
                serde_json::json!({
                    "mediaType": e.media_type,
                    "digest": e.digest,
                    "size": e.size,
                    "annotations": { "org.opencontainers.image.ref.name": e.reference },
                })
            })
            .collect();
        let index = serde_json::json!({ "schemaVersion": 2, "manifests": manifests });
        let bytes = serde_json::to_vec_pretty(&index).map_err(std::io::Error::other)?;
        let tmp = self.root.join(".index.json.tmp");
        tokio::fs::write(&tmp, bytes).await?;
        tokio::fs::rename(tmp, self.root.join("index.json")).await
    }
}

/// One image named in `index.json`.
#[derive(Clone, Debug)]
pub struct IndexEntry {
    pub reference: String,
    pub media_type: String,
    pub digest: String,
    pub size: u64,
}

pub async fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut file = tokio::fs::File::open(path).await?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(format!("sha256:{:x}", hasher.finalize()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn after_a_reboot_an_unsynced_store_is_rehashed_and_a_bad_blob_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let store = super::Store::new(dir.path());
        std::fs::create_dir_all(dir.path().join("blobs/sha256")).unwrap();
        let good = b"good blob";
        let good_digest = super::sha256_digest(good);
        std::fs::write(store.blob_path(&good_digest).unwrap(), good).unwrap();
        let lost = super::sha256_digest(b"lost in the page cache");
        std::fs::write(store.blob_path(&lost).unwrap(), [0u8; 22]).unwrap();

        store.mark_unsynced("boot-a").unwrap();
        // The same boot: the page cache still has everything.
        assert_eq!(store.settle(Some("boot-a")).unwrap(), 0);
        assert!(store.blob_path(&lost).unwrap().exists());
        // Another boot: re-hashed, the bad blob deleted, the marker gone.
        assert_eq!(store.settle(Some("boot-b")).unwrap(), 1);
        assert!(!store.blob_path(&lost).unwrap().exists());
        assert!(store.blob_path(&good_digest).unwrap().exists());
        assert!(!dir.path().join(super::UNSYNCED).exists());
        assert_eq!(store.settle(None).unwrap(), 0, "nothing unsynced any more");
    }

    use super::*;

    #[tokio::test]
    async fn content_is_stored_only_under_its_own_digest_and_verify_finds_tampering() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        store.init().await.unwrap();
        let good = b"{\"schemaVersion\":2}";
        let digest = sha256_digest(good);
        let wrong = sha256_digest(b"other");
        assert!(store.put(&wrong, good).await.is_err(), "mislabelled content is refused");
        assert!(!store.has(&wrong).await);
        store.put(&digest, good).await.unwrap();
        assert!(store.has(&digest).await);
        assert_eq!(store.verify().await.unwrap(), (1, vec![]));
        std::fs::write(store.blob_path(&digest).unwrap(), b"tampered").unwrap();
        let (checked, bad) = store.verify().await.unwrap();
        assert_eq!(checked, 1);
        assert_eq!(
            bad,
            vec![BadBlob {
                digest: digest.clone(),
                actual: sha256_digest(b"tampered")
            }]
        );
    }

    #[test]
    fn digests_must_be_sha256_hex() {
        assert!(hex_of("sha256:abc").is_err());
        assert!(hex_of("sha512:0000").is_err());
        assert!(hex_of(&format!("sha256:{}", "A".repeat(64))).is_err());
        assert!(hex_of(&format!("sha256:{}", "a".repeat(64))).is_ok());
    }

    #[test]
    fn a_gzip_layer_says_its_unpacked_size_in_its_trailer() {
        use std::io::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let data = vec![7u8; 300_000];
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&data).unwrap();
        let gz = gz.finish().unwrap();
        let path = dir.path().join("layer");
        std::fs::write(&path, &gz).unwrap();
        let d = |media_type: &str, size: u64| crate::images::lock::Descriptor {
            digest: String::new(),
            size,
            media_type: media_type.into(),
        };
        assert!(gz.len() < 10_000, "compressed well below the original");
        let gzip = d("application/vnd.oci.image.layer.v1.tar+gzip", gz.len() as u64);
        assert_eq!(super::unpacked_size(&path, &gzip), Some(300_000));
        let docker = d("application/vnd.docker.image.rootfs.diff.tar.gzip", gz.len() as u64);
        assert_eq!(super::unpacked_size(&path, &docker), Some(300_000));
        let plain = d("application/vnd.oci.image.layer.v1.tar", 1234);
        assert_eq!(super::unpacked_size(&path, &plain), Some(1234));
        assert_eq!(
            super::unpacked_size(&path, &d("application/vnd.oci.image.layer.v1.tar+zstd", 9)),
            None
        );
        assert_eq!(super::unpacked_size(&dir.path().join("absent"), &gzip), None);
    }
}
