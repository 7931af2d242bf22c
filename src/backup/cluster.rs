//! What backup and restore ask of the cluster: commands run by exec in the
//! Postgres pod with their output or input streamed (the database's password
//! never leaves the pod, and no command line carries one), the host folder
//! behind a claim, and scaling the writers down and waiting until they stop.

use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Pod};
use kube::api::{Api, AttachParams, ListParams, Patch, PatchParams};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::BackupError;
use crate::deploy::cluster::one_line;
use crate::deploy::manifests::{MANAGED_BY, MANAGER, NAME_LABEL};

/// pg_dump's custom format (compressed, restorable table by table), as the
/// image's superuser over the pod's own socket.
pub const DUMP: &str = r#"exec pg_dump --format=custom --username="$POSTGRES_USER" --dbname="$POSTGRES_DB""#;

/// The database replaced by the dump read from stdin: dropped (closing any
/// leftover connection), created empty, restored; any error stops it.
pub const RESTORE: &str = r#"set -e
dropdb --if-exists --force --username="$POSTGRES_USER" "$POSTGRES_DB"
createdb --username="$POSTGRES_USER" "$POSTGRES_DB"
exec pg_restore --no-owner --exit-on-error --username="$POSTGRES_USER" --dbname="$POSTGRES_DB""#;

/// SQL from stdin (a password never goes in argv).
pub const PSQL: &str =
    r#"exec psql --no-psqlrc --quiet -v ON_ERROR_STOP=1 --username="$POSTGRES_USER" --dbname=postgres"#;

/// The statement that gives `role` the password the restored secrets hold,
/// then `\q`: psql must not wait for the end of stdin, which an exec stream
/// can only signal on the v5 protocol.
pub fn set_password_sql(role: &str, password: &str) -> String {
    format!(
        "ALTER ROLE \"{}\" PASSWORD '{}';\n\\q\n",
        role.replace('"', "\"\""),
        password.replace('\'', "''")
    )
}

fn failed(what: &str, e: &kube::Error) -> BackupError {
    BackupError::Cluster {
        what: what.to_owned(),
        message: one_line(e),
    }
}

/// The name of a running, not terminating pod of `component`.
pub async fn running_pod(client: &kube::Client, ns: &str, component: &str) -> Result<String, BackupError> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let lp = ListParams::default().labels(&format!("{NAME_LABEL}={component}"));
    let list = pods
        .list(&lp)
        .await
        .map_err(|e| failed(&format!("list {component}'s pods"), &e))?;
    list.items
        .into_iter()
        .find(|p| {
            p.metadata.deletion_timestamp.is_none()
                && p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
        })
        .and_then(|p| p.metadata.name)
        .ok_or_else(|| BackupError::NoPod {
            component: component.to_owned(),
            namespace: ns.to_owned(),
        })
}

/// One container of one pod.
pub struct Container<'a> {
    pub client: &'a kube::Client,
    pub ns: &'a str,
    pub pod: &'a str,
    pub name: &'a str,
}

/// Runs `sh -c script` in the container, copying its stdout to `out` and,
/// when given, `input` to its stdin. Fails with the command's stderr (its
/// last 2 KiB) when it exits non-zero.
pub async fn exec(
    c: &Container<'_>,
    what: &str,
    script: &str,
    input: Option<&mut (dyn AsyncRead + Unpin + Send)>,
    out: &mut (dyn AsyncWrite + Unpin + Send),
) -> Result<u64, BackupError> {
    let (pod, container) = (c.pod, c.name);
    let pods: Api<Pod> = Api::namespaced(c.client.clone(), c.ns);
    let ap = AttachParams::default()
        .container(container)
        .stdin(input.is_some())
        .stdout(true)
        .stderr(true);
    let err = |message: String| BackupError::Exec {
        what: what.to_owned(),
        pod: pod.to_owned(),
        message,
    };
    let mut proc = pods
        .exec(pod, ["sh", "-c", script], &ap)
        .await
        .map_err(|e| err(one_line(&e)))?;
    let status = proc.take_status().ok_or_else(|| err("no status channel".into()))?;
    let mut stdout = proc.stdout().ok_or_else(|| err("no stdout".into()))?;
    let mut stderr = proc.stderr().ok_or_else(|| err("no stderr".into()))?;
    let stdin = proc.stdin();
    let feed = async {
        if let (Some(input), Some(mut w)) = (input, stdin) {
            tokio::io::copy(input, &mut w).await?;
            w.shutdown().await?;
        }
        Ok::<_, std::io::Error>(())
    };
    let copy_out = async {
        let n = tokio::io::copy(&mut stdout, out).await?;
        out.flush().await?;
        Ok::<_, std::io::Error>(n)
    };
    let mut errors = Vec::new();
    let read_err = stderr.read_to_end(&mut errors);
    let (fed, copied, _) = tokio::join!(feed, copy_out, read_err);
    let status = status.await;
    let _ = proc.join().await;
    let tail = String::from_utf8_lossy(&errors[errors.len().saturating_sub(2048)..])
        .trim()
        .to_owned();
    match status {
        Some(s) if s.status.as_deref() == Some("Success") => {}
        Some(s) => {
            let why = s.message.unwrap_or_default();
            return Err(err(if tail.is_empty() { why } else { format!("{why}: {tail}") }));
        }
        None => return Err(err(format!("the stream ended without an exit status: {tail}"))),
    }
    fed.map_err(|e| err(format!("sending input: {e}")))?;
    copied.map_err(|e| err(format!("receiving output: {e}")))
}

/// The folder on the node behind claim `claim` (local-path volumes are
/// hostPath folders on the node that holds them).
pub async fn volume_dir(client: &kube::Client, ns: &str, claim: &str) -> Result<String, BackupError> {
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), ns);
    let pvc = claims
        .get(claim)
        .await
        .map_err(|e| failed(&format!("read claim {claim}"), &e))?;
    let volume = pvc
        .spec
        .and_then(|s| s.volume_name)
        .ok_or_else(|| BackupError::Cluster {
            what: format!("claim {claim}"),
            message: "not bound to a volume".into(),
        })?;
    let pvs: Api<PersistentVolume> = Api::all(client.clone());
    let pv = pvs
        .get(&volume)
        .await
        .map_err(|e| failed(&format!("read volume {volume}"), &e))?;
    let spec = pv.spec.unwrap_or_default();
    spec.host_path
        .map(|h| h.path)
        .or(spec.local.map(|l| l.path))
        .ok_or(BackupError::VolumeElsewhere { path: volume })
}

/// Sets `replicas` on each named Deployment of ours (its own field manager,
/// so the next deploy's apply takes the count back).
pub async fn scale(client: &kube::Client, ns: &str, names: &[String], replicas: i32) -> Result<(), BackupError> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), ns);
    let patch = serde_json::json!({"spec": {"replicas": replicas}});
    for name in names {
        api.patch_scale(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(|e| failed(&format!("scale Deployment/{name}"), &e))?;
    }
    Ok(())
}

/// Our Deployments, by name.
pub async fn deployments(client: &kube::Client, ns: &str) -> Result<Vec<String>, BackupError> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), ns);
    let lp = ListParams::default().labels(&format!("{MANAGED_BY}={MANAGER}"));
    let list = api.list(&lp).await.map_err(|e| failed("list Deployments", &e))?;
    Ok(list.items.into_iter().filter_map(|d| d.metadata.name).collect())
}

/// Waits until no pod of the named components is left (they stopped
/// writing), or fails after `limit`.
pub async fn wait_stopped(
    client: &kube::Client,
    ns: &str,
    names: &[String],
    limit: Duration,
    poll: Duration,
) -> Result<(), BackupError> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let start = Instant::now();
    loop {
        let list = pods
            .list(&ListParams::default().labels(&format!("{MANAGED_BY}={MANAGER}")))
            .await
            .map_err(|e| failed("list pods", &e))?;
        let left: Vec<String> = list
            .items
            .iter()
            .filter(|p| {
                p.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(NAME_LABEL))
                    .is_some_and(|n| names.contains(n))
                    && p.metadata
                        .owner_references
                        .iter()
                        .flatten()
                        .any(|o| o.kind == "ReplicaSet")
            })
            .filter_map(|p| p.metadata.name.clone())
            .collect();
        if left.is_empty() {
            return Ok(());
        }
        if start.elapsed() > limit {
            return Err(BackupError::Cluster {
                what: "stop the services that write".into(),
                message: format!("still running after {} s: {}", limit.as_secs(), left.join(", ")),
            });
        }
        tokio::time::sleep(poll).await;
    }
}
