//! `backup` and the data half of `restore`: what is taken, in which order,
//! and what is put back. The CLI wraps these with the prompt, the redeploy
//! and the printing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::archive::{self, Staged};
use super::{BUCKET_PREFIX, BackupError, DATABASE, LOCK, Manifest, PROFILE, SCHEMA, SECRETS, cluster};
use crate::host::Fs;
use crate::layout::Layout;
use crate::profile::Profile;

/// The component whose database is dumped, and its container.
pub const DATABASE_COMPONENT: &str = "postgres";
/// The component whose volume holds the uploaded files.
pub const OBJECTS_COMPONENT: &str = "minio";

pub struct Context<'a> {
    pub client: kube::Client,
    pub profile: &'a Profile,
    pub layout: &'a Layout,
    /// The host's files (re-rooted in tests): where volumes live.
    pub host_fs: &'a dyn Fs,
    /// Step lines for the user.
    pub say: &'a dyn Fn(&str),
    pub poll: Duration,
    pub timeout: Duration,
}

/// The claim that holds MinIO's data: `<component>-<first volume>`.
fn objects_claim(profile: &Profile) -> Option<String> {
    let c = profile.components.iter().find(|c| c.name == OBJECTS_COMPONENT)?;
    c.volumes.first().map(|v| format!("{}-{}", c.name, v.name))
}

/// Takes a backup into `out`; returns its manifest and the archive's size.
pub async fn backup(cx: &Context<'_>, name: &str, created: &str, out: &Path) -> Result<(Manifest, u64), BackupError> {
    let dir = cx.layout.backups();
    let staging = dir.join(format!(".staging-{name}"));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(|e| BackupError::io("create", &staging, e))?;
    let result = take(cx, name, created, out, &staging).await;
    let _ = std::fs::remove_dir_all(&staging);
    result
}

async fn take(
    cx: &Context<'_>,
    name: &str,
    created: &str,
    out: &Path,
    staging: &Path,
) -> Result<(Manifest, u64), BackupError> {
    let p = cx.profile;
    let ns = &p.namespace;
    let mut staged = Vec::new();

    // Secrets first: without them nothing else in the archive is usable.
    let secrets_file = crate::deploy::secrets::path(&cx.layout.secrets(), &p.name);
    if !secrets_file.exists() {
        return Err(BackupError::io(
            "read the generated secrets (is DIGIT installed?)",
            &secrets_file,
            std::io::ErrorKind::NotFound.into(),
        ));
    }
    staged.push(Staged {
        name: SECRETS.into(),
        path: secrets_file,
    });
    let profile_file = staging.join(PROFILE);
    let profile_json = serde_json::to_vec_pretty(p).expect("a profile serialises");
    std::fs::write(&profile_file, profile_json).map_err(|e| BackupError::io("write", &profile_file, e))?;
    staged.push(Staged {
        name: PROFILE.into(),
        path: profile_file,
    });
    let lock = cx.layout.lock_file(&p.name);
    if lock.exists() {
        staged.push(Staged {
            name: LOCK.into(),
            path: lock,
        });
    }

    (cx.say)("dumping the database (pg_dump in the postgres pod, streamed here)");
    let pod = cluster::running_pod(&cx.client, ns, DATABASE_COMPONENT).await?;
    let dump = staging.join(DATABASE);
    let mut file = tokio::fs::File::create(&dump)
        .await
        .map_err(|e| BackupError::io("create", &dump, e))?;
    let db = cluster::Container {
        client: &cx.client,
        ns,
        pod: &pod,
        name: DATABASE_COMPONENT,
    };
    let bytes = cluster::exec(&db, "pg_dump", cluster::DUMP, None, &mut file).await?;
    file.sync_all().await.map_err(|e| BackupError::io("write", &dump, e))?;
    (cx.say)(&format!("database: {}", crate::profile::quantity::human_bytes(bytes)));
    staged.push(Staged {
        name: DATABASE.into(),
        path: dump,
    });

    if let Some(claim) = objects_claim(p) {
        (cx.say)("copying MinIO's files from its volume");
        let dir = cluster::volume_dir(&cx.client, ns, &claim).await?;
        let real = cx.host_fs.real_path(Path::new(&dir));
        if !real.is_dir() {
            return Err(BackupError::VolumeElsewhere { path: dir });
        }
        // Copied (not archived in place): MinIO keeps writing, and the
        // manifest must describe exactly the bytes the archive holds.
        let copy = staging.join("minio");
        let files = copy_tree(&real, &copy)?;
        (cx.say)(&format!("MinIO: {} files", files.len()));
        for rel in files {
            staged.push(Staged {
                name: format!("{BUCKET_PREFIX}{rel}"),
                path: copy.join(&rel),
            });
        }
    }

    let members = staged.iter().map(archive::member_of).collect::<Result<Vec<_>, _>>()?;
    let manifest = Manifest {
        schema: SCHEMA,
        name: name.to_owned(),
        created: created.to_owned(),
        profile: p.name.clone(),
        digit_release: p.digit.release.clone(),
        k3s: p.k3s.version.clone(),
        namespace: ns.clone(),
        tool: env!("CARGO_PKG_VERSION").to_owned(),
        members,
    };
    (cx.say)("writing the archive");
    let size = archive::write(out, &manifest, &staged)?;
    Ok((manifest, size))
}

/// Every regular file below `from`, copied to the same place below `to`;
/// returns their relative paths (`/`-separated), sorted.
fn copy_tree(from: &Path, to: &Path) -> Result<Vec<String>, BackupError> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = from.join(&rel);
        let entries = std::fs::read_dir(&dir).map_err(|e| BackupError::io("read", &dir, e))?;
        for e in entries {
            let e = e.map_err(|e| BackupError::io("read", &dir, e))?;
            let kind = e.file_type().map_err(|err| BackupError::io("read", &e.path(), err))?;
            let r = rel.join(e.file_name());
            if kind.is_dir() {
                stack.push(r);
            } else if kind.is_file() {
                let target = to.join(&r);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent).map_err(|err| BackupError::io("create", parent, err))?;
                }
                std::fs::copy(e.path(), &target).map_err(|err| BackupError::io("copy", &e.path(), err))?;
                out.push(r.to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Puts the data of an unpacked, verified backup back: stops everything of
/// ours but the database, restores the database from the dump, gives the
/// database user the backup's password, replaces MinIO's files and the
/// secrets file. The caller deploys again (which starts the services in
/// waves with the restored secrets) and runs health and smoke.
pub async fn restore_data(cx: &Context<'_>, unpacked: &Path, data_fs: &dyn Fs) -> Result<(), BackupError> {
    let p = cx.profile;
    let ns = &p.namespace;
    let secrets_path = unpacked.join(SECRETS);
    let text = std::fs::read_to_string(&secrets_path).map_err(|e| BackupError::io("read", &secrets_path, e))?;
    let secrets = crate::deploy::secrets::parse(&text, &secrets_path, p).map_err(|e| BackupError::Cluster {
        what: "read the backup's secrets".into(),
        message: e.to_string(),
    })?;

    let pod = cluster::running_pod(&cx.client, ns, DATABASE_COMPONENT).await?;
    let writers: Vec<String> = cluster::deployments(&cx.client, ns)
        .await?
        .into_iter()
        .filter(|d| d != DATABASE_COMPONENT)
        .collect();
    (cx.say)(&format!(
        "stopping {} services (everything but the database)",
        writers.len()
    ));
    cluster::scale(&cx.client, ns, &writers, 0).await?;
    cluster::wait_stopped(&cx.client, ns, &writers, cx.timeout, cx.poll).await?;

    (cx.say)("restoring the database (pg_restore in the postgres pod)");
    let dump = unpacked.join(DATABASE);
    let mut input = tokio::fs::File::open(&dump)
        .await
        .map_err(|e| BackupError::io("read", &dump, e))?;
    let mut sink = tokio::io::sink();
    let db = cluster::Container {
        client: &cx.client,
        ns,
        pod: &pod,
        name: DATABASE_COMPONENT,
    };
    cluster::exec(&db, "pg_restore", cluster::RESTORE, Some(&mut input), &mut sink).await?;
    let sql = cluster::set_password_sql(secrets.get("db/username"), secrets.get("db/password"));
    let mut sql_in = sql.as_bytes();
    cluster::exec(
        &db,
        "set the database user's password",
        cluster::PSQL,
        Some(&mut sql_in),
        &mut sink,
    )
    .await?;

    if let Some(claim) = objects_claim(p) {
        let files = unpacked.join("minio");
        (cx.say)("replacing MinIO's files");
        let dir = cluster::volume_dir(&cx.client, ns, &claim).await?;
        let real = cx.host_fs.real_path(Path::new(&dir));
        if !real.is_dir() {
            return Err(BackupError::VolumeElsewhere { path: dir });
        }
        replace_tree(&files, &real)?;
    }

    (cx.say)("putting the backup's secrets back");
    let target = crate::deploy::secrets::path(&cx.layout.secrets(), &p.name);
    data_fs
        .write_atomic(&target, text.as_bytes(), 0o600)
        .map_err(|e| BackupError::io("write", &target, e))?;
    Ok(())
}

/// `to`'s content becomes `from`'s (`from` may be absent: no files).
fn replace_tree(from: &Path, to: &Path) -> Result<(), BackupError> {
    let entries = std::fs::read_dir(to).map_err(|e| BackupError::io("read", to, e))?;
    for e in entries.flatten() {
        let path = e.path();
        let r = if e.file_type().is_ok_and(|t| t.is_dir()) {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        r.map_err(|err| BackupError::io("delete", &path, err))?;
    }
    if from.is_dir() {
        copy_tree(from, to)?;
    }
    Ok(())
}
