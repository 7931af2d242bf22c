//! `status`: is k3s running, is every component up, do the health and smoke
//! checks pass. Read-only.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, ListParams};
use serde::Serialize;

use crate::deploy::manifests::{MANAGED_BY, MANAGER, NAME_LABEL};
use crate::health::smoke::{self, CheckResult};
use crate::host::{Fs, Host};
use crate::layout::Layout;
use crate::profile::Profile;

#[derive(Debug, Serialize)]
pub struct Status {
    /// k3s's service, or None for a cluster given with `--kubeconfig`
    /// (not this tool's k3s, so not its business).
    pub service: Option<Service>,
    pub node: Option<NodeState>,
    /// Every node (the first is `node`): a cluster may have agents.
    pub nodes: Vec<NodeState>,
    pub components: Vec<ComponentState>,
    pub checks: Vec<CheckResult>,
    pub healthy: bool,
    /// Why something could not be read (the API down, no secrets yet).
    pub notes: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Service {
    pub active: bool,
    pub enabled: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct NodeState {
    pub name: String,
    pub ready: bool,
    pub version: String,
}

#[derive(Debug, Serialize)]
pub struct ComponentState {
    pub name: String,
    pub ready: i32,
    pub total: i32,
    pub restarts: i32,
    pub state: String,
    /// The nodes its pods run on.
    pub nodes: Vec<String>,
}

pub struct Request<'a> {
    pub host: &'a Host,
    pub data_fs: &'a dyn Fs,
    pub profile: &'a Profile,
    pub layout: &'a Layout,
    pub kubeconfig: std::path::PathBuf,
    /// The cluster is the k3s this tool installs (no `--kubeconfig`).
    pub k3s: bool,
    pub http: reqwest::Client,
    pub ingress_url: Option<String>,
    /// The deploy has no Ingress: checks go by port-forward.
    pub port_forward: bool,
}

pub async fn gather(req: &Request<'_>) -> Status {
    let p = req.profile;
    let service = req.k3s.then(|| {
        let (active, enabled) = crate::k3s::install::service_state(req.host.cmd.as_ref());
        Service { active, enabled }
    });
    let mut notes = Vec::new();
    let mut node = None;
    let mut all_nodes = Vec::new();
    let mut tunnel = None;
    let mut components = Vec::new();
    let mut url = req.ingress_url.clone();
    match crate::k3s::lifecycle::kube_client(&req.kubeconfig, None).await {
        Err(e) => notes.push(format!("the Kubernetes API is not reachable: {}", e.chain().join(": "))),
        Ok(client) => {
            let nodes: Api<Node> = Api::all(client.clone());
            let listed = nodes
                .list(&ListParams::default())
                .await
                .map(|l| l.items)
                .unwrap_or_default();
            for n in listed {
                let status = n.status.unwrap_or_default();
                let ready = status
                    .conditions
                    .unwrap_or_default()
                    .iter()
                    .any(|c| c.type_ == "Ready" && c.status == "True");
                if url.is_none() {
                    url = status
                        .addresses
                        .unwrap_or_default()
                        .into_iter()
                        .find(|a| a.type_ == "InternalIP")
                        .map(|a| format!("http://{}", a.address));
                }
                all_nodes.push(NodeState {
                    name: n.metadata.name.unwrap_or_default(),
                    ready,
                    version: status.node_info.map(|i| i.kubelet_version).unwrap_or_default(),
                });
            }
            node = all_nodes.first().cloned();
            if req.port_forward && req.ingress_url.is_none() {
                match crate::deploy::tunnel::start(
                    std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
                    client.clone(),
                    crate::deploy::tunnel::Routes::of(p),
                )
                .await
                {
                    Ok((addr, task)) => {
                        url = Some(format!("http://{addr}"));
                        tunnel = Some(task);
                    }
                    Err(e) => notes.push(format!("no local port for the port-forward checks: {e}")),
                }
            }
            let selector = format!("{MANAGED_BY}={MANAGER}");
            let lp = ListParams::default().labels(&selector);
            let deployments: Api<Deployment> = Api::namespaced(client.clone(), &p.namespace);
            let pods: Api<Pod> = Api::namespaced(client.clone(), &p.namespace);
            let ds = deployments.list(&lp).await.map(|l| l.items).unwrap_or_default();
            let ps = pods.list(&lp).await.map(|l| l.items).unwrap_or_default();
            for c in &p.components {
                let d = ds.iter().find(|d| d.metadata.name.as_deref() == Some(c.name.as_str()));
                let mine: Vec<&Pod> = ps
                    .iter()
                    .filter(|pod| pod.metadata.labels.as_ref().and_then(|l| l.get(NAME_LABEL)) == Some(&c.name))
                    .collect();
                let restarts = mine
                    .iter()
                    .flat_map(|pod| pod.status.iter().flat_map(|s| s.container_statuses.iter().flatten()))
                    .map(|cs| cs.restart_count)
                    .sum();
                let (ready, total) = d.map_or((0, 0), |d| {
                    (
                        d.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0),
                        d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
                    )
                });
                let state = match d {
                    None => "not deployed".to_owned(),
                    Some(_) if total > 0 && ready >= total => "Running".to_owned(),
                    Some(_) => mine
                        .iter()
                        .flat_map(|pod| pod.status.iter().flat_map(|s| s.container_statuses.iter().flatten()))
                        .find_map(|cs| cs.state.as_ref()?.waiting.as_ref()?.reason.clone())
                        .unwrap_or_else(|| "Starting".to_owned()),
                };
                let mut on: Vec<String> = mine
                    .iter()
                    .filter_map(|pod| pod.spec.as_ref()?.node_name.clone())
                    .collect();
                on.sort();
                on.dedup();
                components.push(ComponentState {
                    name: c.name.clone(),
                    ready,
                    total,
                    restarts,
                    state,
                    nodes: on,
                });
            }
        }
    }
    let mut checks = Vec::new();
    if let Some(url) = &url {
        checks = smoke::health(&req.http, url, p).await;
        match crate::deploy::secrets::load(req.data_fs, &req.layout.secrets(), p) {
            Ok(Some(s)) => {
                crate::logging::redact(s.values());
                checks.extend(
                    smoke::smoke(
                        &req.http,
                        url,
                        p,
                        s.get("digit-admin/username"),
                        s.get("digit-admin/password"),
                    )
                    .await,
                );
            }
            _ => notes.push("no generated secrets in the data dir: smoke checks skipped".to_owned()),
        }
    }
    if let Some(t) = tunnel {
        t.abort();
    }
    let healthy = service.as_ref().is_none_or(|s| s.active)
        && node.as_ref().is_some_and(|n| n.ready)
        && !components.is_empty()
        && components.iter().all(|c| c.total > 0 && c.ready >= c.total)
        && !checks.is_empty()
        && checks.iter().all(|c| c.ok);
    Status {
        service,
        node,
        nodes: all_nodes,
        components,
        checks,
        healthy,
        notes,
    }
}

pub const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
