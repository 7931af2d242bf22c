//! Taking the app off a cluster: its namespace (every workload, claim and
//! seeded row with it) and any cluster-scoped object this tool labelled as
//! its own, waiting until the API server has really let go of them
//! (finalizers on pods and claims run first).

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use kube::api::{Api, DeleteParams, ListParams};

use super::cluster::one_line;
use super::manifests::{MANAGED_BY, MANAGER};
use crate::error::{Exit, Report};

fn failed(what: &str, e: &kube::Error) -> Report {
    Report::msg(format!("could not delete {what}: {}", one_line(e)), Exit::Failed)
}

fn gone(r: Result<impl Sized, kube::Error>, what: &str) -> Result<(), Report> {
    match r {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(failed(what, &e)),
    }
}

/// Deletes namespace `ns` and this tool's cluster-scoped objects, then
/// waits up to `limit` until the namespace no longer exists. Returns what
/// was deleted, for the report.
pub async fn remove(client: &kube::Client, ns: &str, limit: Duration, poll: Duration) -> Result<Vec<String>, Report> {
    let mut done = Vec::new();
    let lp = ListParams::default().labels(&format!("{MANAGED_BY}={MANAGER}"));
    let bindings: Api<ClusterRoleBinding> = Api::all(client.clone());
    for b in bindings.list(&lp).await.map(|l| l.items).unwrap_or_default() {
        let name = b.metadata.name.unwrap_or_default();
        gone(
            bindings.delete(&name, &DeleteParams::default()).await,
            &format!("ClusterRoleBinding/{name}"),
        )?;
        done.push(format!("ClusterRoleBinding/{name}"));
    }
    let roles: Api<ClusterRole> = Api::all(client.clone());
    for r in roles.list(&lp).await.map(|l| l.items).unwrap_or_default() {
        let name = r.metadata.name.unwrap_or_default();
        gone(
            roles.delete(&name, &DeleteParams::default()).await,
            &format!("ClusterRole/{name}"),
        )?;
        done.push(format!("ClusterRole/{name}"));
    }
    let namespaces: Api<Namespace> = Api::all(client.clone());
    gone(
        namespaces.delete(ns, &DeleteParams::background()).await,
        &format!("namespace {ns}"),
    )?;
    let start = Instant::now();
    loop {
        match namespaces.get_opt(ns).await {
            Ok(None) => break,
            Ok(Some(_)) if start.elapsed() < limit => tokio::time::sleep(poll).await,
            Ok(Some(n)) => {
                let why = n
                    .status
                    .and_then(|s| s.conditions)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|c| c.status == "True")
                    .filter_map(|c| c.message)
                    .collect::<Vec<_>>()
                    .join("; ");
                let mut report = Report::msg(
                    format!("namespace {ns} is still terminating after {} s", limit.as_secs()),
                    Exit::Failed,
                )
                .with_hint(format!(
                    "`kubectl get all,pvc -n {ns}` shows what is left; run the command again"
                ));
                if !why.is_empty() {
                    report.detail = Some(format!("the namespace controller says: {why}"));
                }
                return Err(report);
            }
            Err(e) => return Err(failed(&format!("namespace {ns}"), &e)),
        }
    }
    done.push(format!("namespace {ns} (every workload, volume claim and its data)"));
    Ok(done)
}
