//! The cluster preflight for `install --kubeconfig` and `check --kubeconfig`:
//! what the API server says about itself, its nodes, classes and this
//! user's permissions (gathered once), then pure checks in the same
//! pass/warn/fail table as the host's.

use std::collections::BTreeMap;

use k8s_openapi::api::authorization::v1::{ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec};
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::networking::v1::IngressClass;
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, ListParams, PostParams};
use serde::Serialize;

use super::{CheckResult, Status};
use crate::deploy::manifests::target::Ingress;
use crate::profile::Profile;
use crate::profile::quantity::{Bytes, MilliCpu, human_bytes, human_cpu};

/// Older than the profile's minor by more than this fails; by exactly this warns.
pub const OLDEST_MINOR_BEHIND: u32 = 2;
/// The Kubernetes skew policy: kubelets up to three minors older than the API server.
pub const KUBELET_SKEW: u32 = 3;

pub const IDS: &[&str] = &[
    "cluster-version",
    "cluster-arch",
    "cluster-capacity",
    "cluster-largest-pod",
    "storage-class",
    "ingress-class",
    "permissions",
];

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeFacts {
    pub name: String,
    pub arch: String,
    pub kubelet: String,
    /// Ready, not cordoned, no NoSchedule/NoExecute taint.
    pub schedulable: bool,
    pub allocatable_milli: u64,
    pub allocatable_memory: u64,
    /// Requests of pods already bound to it (outside our namespace).
    pub used_milli: u64,
    pub used_memory: u64,
}

impl NodeFacts {
    fn free(&self) -> (u64, u64) {
        (
            self.allocatable_milli.saturating_sub(self.used_milli),
            self.allocatable_memory.saturating_sub(self.used_memory),
        )
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Class {
    pub name: String,
    pub default: bool,
    /// StorageClass provisioner or IngressClass controller.
    pub driver: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Access {
    pub verb: String,
    pub group: String,
    pub resource: String,
    pub namespaced: bool,
    pub allowed: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ClusterFacts {
    /// `v1.36.4` as the API server reports it.
    pub server_version: String,
    /// None when this user may not list them.
    pub nodes: Option<Vec<NodeFacts>>,
    /// Whether other pods' requests were subtracted (listing pods is allowed).
    pub pods_counted: bool,
    pub storage_classes: Option<Vec<Class>>,
    pub ingress_classes: Option<Vec<Class>>,
    pub access: Vec<Access>,
}

/// What the user chose on the command line.
#[derive(Clone, Debug, Default)]
pub struct Choices {
    pub storage_class: Option<String>,
    pub ingress_class: Option<String>,
}

/// Every verb the deploy, seeds, status, reset and diagnosis use, by resource.
pub const NEEDED: &[(&str, &str, &[&str], bool)] = &[
    ("", "namespaces", &["get", "create", "patch", "delete"], false),
    ("", "configmaps", &["get", "list", "create", "patch", "delete"], true),
    ("", "secrets", &["get", "list", "create", "patch", "delete"], true),
    ("", "services", &["get", "list", "create", "patch", "delete"], true),
    ("", "services/proxy", &["create", "get"], true),
    ("", "serviceaccounts", &["get", "create", "patch", "delete"], true),
    (
        "",
        "persistentvolumeclaims",
        &["get", "list", "create", "patch", "delete"],
        true,
    ),
    ("", "pods", &["get", "list"], true),
    ("", "pods/log", &["get"], true),
    ("", "events", &["list"], true),
    (
        "apps",
        "deployments",
        &["get", "list", "create", "patch", "delete"],
        true,
    ),
    ("batch", "jobs", &["get", "list", "create", "patch", "delete"], true),
    (
        "networking.k8s.io",
        "ingresses",
        &["get", "create", "patch", "delete"],
        true,
    ),
    (
        "rbac.authorization.k8s.io",
        "roles",
        &["get", "create", "patch", "delete"],
        true,
    ),
    (
        "rbac.authorization.k8s.io",
        "rolebindings",
        &["get", "create", "patch", "delete"],
        true,
    ),
];

fn one_line(e: &kube::Error) -> String {
    crate::deploy::cluster::one_line(e)
}

/// Every object of kind `K`, or None when this user may not list them.
async fn list_all<K>(client: &kube::Client) -> Result<Option<Vec<K>>, String>
where
    K: kube::Resource<Scope = k8s_openapi::ClusterResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    match Api::<K>::all(client.clone()).list(&ListParams::default()).await {
        Ok(list) => Ok(Some(list.items)),
        Err(kube::Error::Api(s)) if s.code == 403 => Ok(None),
        Err(e) => Err(one_line(&e)),
    }
}

fn class_default(annotations: Option<&BTreeMap<String, String>>, key: &str) -> bool {
    annotations.and_then(|a| a.get(key)).is_some_and(|v| v == "true")
}

/// Reads what the checks need. Only an unreachable API server is an error;
/// what this user may not read is reported by the checks.
pub async fn gather(client: &kube::Client, namespace: &str) -> Result<ClusterFacts, String> {
    let version = client.apiserver_version().await.map_err(|e| one_line(&e))?;
    let mut facts = ClusterFacts {
        server_version: version.git_version,
        ..Default::default()
    };
    let mut used: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    // Pods are namespaced; listing them across namespaces is its own permission.
    match Api::<Pod>::all(client.clone()).list(&ListParams::default()).await {
        Ok(pods) => {
            facts.pods_counted = true;
            for pod in pods.items {
                let done = pod
                    .status
                    .as_ref()
                    .and_then(|s| s.phase.as_deref())
                    .is_some_and(|p| p == "Succeeded" || p == "Failed");
                let ours = pod.metadata.namespace.as_deref() == Some(namespace);
                let Some(spec) = pod.spec else { continue };
                let Some(node) = spec.node_name.clone() else { continue };
                if done || ours {
                    continue;
                }
                let (cpu, mem) = pod_requests(&spec);
                let e = used.entry(node).or_default();
                e.0 += cpu;
                e.1 += mem;
            }
        }
        Err(kube::Error::Api(s)) if s.code == 403 => {}
        Err(e) => return Err(one_line(&e)),
    }
    facts.nodes = list_all::<Node>(client)
        .await?
        .map(|nodes| nodes.iter().map(|n| node_facts(n, &used)).collect());
    facts.storage_classes = list_all::<StorageClass>(client).await?.map(|list| {
        list.into_iter()
            .map(|c| Class {
                default: class_default(
                    c.metadata.annotations.as_ref(),
                    "storageclass.kubernetes.io/is-default-class",
                ),
                name: c.metadata.name.unwrap_or_default(),
                driver: c.provisioner,
            })
            .collect()
    });
    facts.ingress_classes = list_all::<IngressClass>(client).await?.map(|list| {
        list.into_iter()
            .map(|c| Class {
                default: class_default(
                    c.metadata.annotations.as_ref(),
                    "ingressclass.kubernetes.io/is-default-class",
                ),
                name: c.metadata.name.unwrap_or_default(),
                driver: c.spec.and_then(|s| s.controller).unwrap_or_default(),
            })
            .collect()
    });
    let reviews = Api::<SelfSubjectAccessReview>::all(client.clone());
    let asks = NEEDED.iter().flat_map(|(group, resource, verbs, namespaced)| {
        verbs.iter().map(move |verb| (*group, *resource, *verb, *namespaced))
    });
    let answers = futures_util::future::join_all(asks.map(|(group, resource, verb, namespaced)| {
        let reviews = reviews.clone();
        async move {
            let (resource, sub) = match resource.split_once('/') {
                Some((r, s)) => (r, Some(s.to_owned())),
                None => (resource, None),
            };
            let review = SelfSubjectAccessReview {
                spec: SelfSubjectAccessReviewSpec {
                    resource_attributes: Some(ResourceAttributes {
                        group: Some(group.to_owned()),
                        resource: Some(resource.to_owned()),
                        subresource: sub.clone(),
                        verb: Some(verb.to_owned()),
                        namespace: namespaced.then(|| namespace.to_owned()),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                ..Default::default()
            };
            let allowed = reviews
                .create(&PostParams::default(), &review)
                .await
                .map_err(|e| one_line(&e))?
                .status
                .is_some_and(|s| s.allowed);
            let resource = match sub {
                Some(s) => format!("{resource}/{s}"),
                None => resource.to_owned(),
            };
            Ok::<_, String>(Access {
                verb: verb.to_owned(),
                group: group.to_owned(),
                resource,
                namespaced,
                allowed,
            })
        }
    }))
    .await;
    facts.access = answers.into_iter().collect::<Result<_, _>>()?;
    Ok(facts)
}

fn pod_requests(spec: &k8s_openapi::api::core::v1::PodSpec) -> (u64, u64) {
    let of = |c: &k8s_openapi::api::core::v1::Container| {
        let r = c.resources.as_ref().and_then(|r| r.requests.as_ref());
        let cpu = r
            .and_then(|r| r.get("cpu"))
            .and_then(|q| MilliCpu::parse(&q.0).ok())
            .map_or(0, |m| m.0);
        let mem = r
            .and_then(|r| r.get("memory"))
            .and_then(|q| Bytes::parse(&q.0).ok())
            .map_or(0, |b| b.0);
        (cpu, mem)
    };
    let sum = spec
        .containers
        .iter()
        .map(of)
        .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    // An init container runs alone: the pod needs the larger of the two.
    let init = spec
        .init_containers
        .iter()
        .flatten()
        .map(of)
        .fold((0, 0), |a, b| (a.0.max(b.0), a.1.max(b.1)));
    (sum.0.max(init.0), sum.1.max(init.1))
}

fn node_facts(n: &Node, used: &BTreeMap<String, (u64, u64)>) -> NodeFacts {
    let name = n.metadata.name.clone().unwrap_or_default();
    let status = n.status.as_ref();
    let info = status.and_then(|s| s.node_info.as_ref());
    let alloc = status.and_then(|s| s.allocatable.as_ref());
    let ready = status
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    let spec = n.spec.as_ref();
    let cordoned = spec.and_then(|s| s.unschedulable).unwrap_or(false);
    let tainted = spec
        .and_then(|s| s.taints.as_ref())
        .is_some_and(|t| t.iter().any(|t| t.effect == "NoSchedule" || t.effect == "NoExecute"));
    let (used_milli, used_memory) = used.get(&name).copied().unwrap_or_default();
    NodeFacts {
        arch: info.map(|i| i.architecture.clone()).unwrap_or_default(),
        kubelet: info.map(|i| i.kubelet_version.clone()).unwrap_or_default(),
        schedulable: ready && !cordoned && !tainted,
        allocatable_milli: alloc
            .and_then(|a| a.get("cpu"))
            .and_then(|q| MilliCpu::parse(&q.0).ok())
            .map_or(0, |m| m.0),
        allocatable_memory: alloc
            .and_then(|a| a.get("memory"))
            .and_then(|q| Bytes::parse(&q.0).ok())
            .map_or(0, |b| b.0),
        used_milli,
        used_memory,
        name,
    }
}

/// `v1.36.4+k3s1` -> 36 (major 1 only).
pub fn minor(version: &str) -> Option<u32> {
    let mut parts = version.trim_start_matches('v').split('.');
    if parts.next()? != "1" {
        return None;
    }
    parts.next()?.parse().ok()
}

pub fn checks(facts: &ClusterFacts, profile: &Profile, choices: &Choices) -> Vec<CheckResult> {
    vec![
        version(facts, profile),
        arch(facts, profile),
        capacity(facts, profile),
        largest_pod(facts, profile),
        storage(facts, choices),
        ingress(facts, choices),
        permissions(facts),
    ]
}

fn version(f: &ClusterFacts, p: &Profile) -> CheckResult {
    let id = "cluster-version";
    let (Some(want), Some(server)) = (minor(&p.k3s.version), minor(&f.server_version)) else {
        return CheckResult::new(
            id,
            Status::Warn,
            format!("API server version `{}` not understood", f.server_version),
        );
    };
    let stale: Vec<String> = f
        .nodes
        .iter()
        .flatten()
        .filter(|n| minor(&n.kubelet).is_none_or(|k| k + KUBELET_SKEW < server || k > server))
        .map(|n| format!("{} ({})", n.name, n.kubelet))
        .collect();
    if server + OLDEST_MINOR_BEHIND < want {
        return CheckResult::new(
            id,
            Status::Fail,
            format!(
                "Kubernetes {} is too old: the profile is built and tested for 1.{want} (supported 1.{} to 1.{})",
                f.server_version,
                want - OLDEST_MINOR_BEHIND,
                want + 1
            ),
        )
        .hint("upgrade the cluster, or use the quickstart's own k3s (`install` without --kubeconfig)");
    }
    if !stale.is_empty() {
        return CheckResult::new(
            id,
            Status::Fail,
            format!(
                "nodes outside Kubernetes' version skew (kubelet at most {KUBELET_SKEW} minors older than the API server {}): {}",
                f.server_version,
                stale.join(", ")
            ),
        )
        .hint("upgrade those nodes' kubelets, or cordon them so nothing is scheduled there");
    }
    if server + OLDEST_MINOR_BEHIND == want || server > want + 1 {
        return CheckResult::new(
            id,
            Status::Warn,
            format!(
                "Kubernetes {}: the profile is tested on 1.{want}; this minor may work but is not tested",
                f.server_version
            ),
        );
    }
    CheckResult::new(
        id,
        Status::Pass,
        format!("Kubernetes {} (profile built for 1.{want})", f.server_version),
    )
}

fn schedulable(f: &ClusterFacts) -> Vec<&NodeFacts> {
    f.nodes.iter().flatten().filter(|n| n.schedulable).collect()
}

fn arch(f: &ClusterFacts, p: &Profile) -> CheckResult {
    let id = "cluster-arch";
    let Some(nodes) = &f.nodes else {
        return CheckResult::new(
            id,
            Status::Warn,
            "node architectures not checked: this user may not list nodes",
        );
    };
    let other: Vec<String> = nodes
        .iter()
        .filter(|n| n.schedulable && !p.host.arch.contains(&n.arch))
        .map(|n| format!("{} ({})", n.name, n.arch))
        .collect();
    let good = schedulable(f).len() - other.len();
    match (good, other.is_empty()) {
        (0, _) => CheckResult::new(
            id,
            Status::Fail,
            format!(
                "no schedulable {} node: DIGIT's images exist for {} only",
                p.host.arch.join("/"),
                p.host.arch.join(", ")
            ),
        )
        .hint("add an amd64 node pool"),
        (_, true) => CheckResult::new(
            id,
            Status::Pass,
            format!("{good} schedulable nodes, all {}", p.host.arch.join("/")),
        ),
        (_, false) => CheckResult::new(
            id,
            Status::Warn,
            format!(
                "{} schedulable nodes cannot run DIGIT's images: {}",
                other.len(),
                other.join(", ")
            ),
        )
        .hint("pods would fail there with `exec format error`: taint those nodes or give them a label and a node selector"),
    }
}

fn profile_requests(p: &Profile) -> (u64, u64) {
    p.components.iter().fold((0, 0), |a, c| {
        (a.0 + c.resources.requests.cpu.0, a.1 + c.resources.requests.memory.0)
    })
}

fn capacity(f: &ClusterFacts, p: &Profile) -> CheckResult {
    let id = "cluster-capacity";
    if f.nodes.is_none() {
        return CheckResult::new(id, Status::Warn, "capacity not checked: this user may not list nodes");
    }
    let nodes: Vec<&NodeFacts> = schedulable(f)
        .into_iter()
        .filter(|n| p.host.arch.contains(&n.arch))
        .collect();
    let (cpu, mem) = nodes
        .iter()
        .map(|n| n.free())
        .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    let (need_cpu, need_mem) = profile_requests(p);
    let counted = if f.pods_counted {
        "free after other pods' requests"
    } else {
        "allocatable (other pods not counted: this user may not list them)"
    };
    let mut short = Vec::new();
    if need_mem > mem {
        short.push(format!("memory short by {}", human_bytes(need_mem - mem)));
    }
    if need_cpu > cpu {
        short.push(format!("CPU short by {}", human_cpu(need_cpu - cpu)));
    }
    let summary = format!(
        "profile {} requests {} memory and {} CPU; {} schedulable nodes have {} and {} {counted}",
        p.name,
        human_bytes(need_mem),
        human_cpu(need_cpu),
        nodes.len(),
        human_bytes(mem),
        human_cpu(cpu)
    );
    if short.is_empty() {
        CheckResult::new(id, Status::Pass, summary)
    } else {
        CheckResult::new(id, Status::Fail, format!("{summary}: {}", short.join(", ")))
            .hint("add nodes or larger ones, or free capacity; `kubectl describe nodes` shows what is requested")
    }
}

fn largest_pod(f: &ClusterFacts, p: &Profile) -> CheckResult {
    let id = "cluster-largest-pod";
    let Some(c) = p.components.iter().max_by_key(|c| c.resources.requests.memory.0) else {
        return CheckResult::new(id, Status::Pass, "the profile has no components");
    };
    if f.nodes.is_none() {
        return CheckResult::new(id, Status::Warn, "not checked: this user may not list nodes");
    }
    let (cpu, mem) = (c.resources.requests.cpu.0, c.resources.requests.memory.0);
    let best = schedulable(f)
        .into_iter()
        .filter(|n| p.host.arch.contains(&n.arch))
        .max_by_key(|n| n.free().1);
    // Every component must fit on one node; the largest by memory decides.
    let misfit = p.components.iter().find(|c| {
        !schedulable(f).iter().any(|n| {
            let (fc, fm) = n.free();
            p.host.arch.contains(&n.arch) && fc >= c.resources.requests.cpu.0 && fm >= c.resources.requests.memory.0
        })
    });
    match (misfit, best) {
        (None, Some(n)) => CheckResult::new(
            id,
            Status::Pass,
            format!(
                "the largest pod ({}: {} memory, {} CPU) fits node {} ({} free)",
                c.name,
                human_bytes(mem),
                human_cpu(cpu),
                n.name,
                human_bytes(n.free().1)
            ),
        ),
        (Some(m), best) => CheckResult::new(
            id,
            Status::Fail,
            format!(
                "{} requests {} memory and {} CPU, more than any single node has free (largest: {})",
                m.name,
                human_bytes(m.resources.requests.memory.0),
                human_cpu(m.resources.requests.cpu.0),
                best.map_or_else(
                    || "none".to_owned(),
                    |n| format!(
                        "{} with {} and {}",
                        n.name,
                        human_bytes(n.free().1),
                        human_cpu(n.free().0)
                    )
                )
            ),
        )
        .hint("a pod runs on one node: add a larger node, or lower that component's requests in a profile file"),
        (None, None) => CheckResult::new(id, Status::Fail, "no schedulable node"),
    }
}

/// The class the deploy will use, if any.
pub fn chosen_storage(f: &ClusterFacts, c: &Choices) -> Option<String> {
    c.storage_class.clone().or_else(|| {
        f.storage_classes
            .iter()
            .flatten()
            .find(|s| s.default)
            .map(|s| s.name.clone())
    })
}

fn storage(f: &ClusterFacts, c: &Choices) -> CheckResult {
    let id = "storage-class";
    let Some(classes) = &f.storage_classes else {
        return CheckResult::new(
            id,
            Status::Warn,
            "StorageClasses not checked: this user may not list them",
        );
    };
    let names = || classes.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ");
    let local = |s: &Class| {
        if s.driver.contains("local-path") || s.driver.contains("no-provisioner") || s.driver.contains("hostpath") {
            ": node-local volumes, so Postgres, Redpanda and MinIO stay on the node that holds their data"
        } else {
            ""
        }
    };
    match &c.storage_class {
        Some(want) => match classes.iter().find(|s| &s.name == want) {
            Some(s) => CheckResult::new(
                id,
                Status::Pass,
                format!("StorageClass {want} ({}){}", s.driver, local(s)),
            ),
            None => CheckResult::new(id, Status::Fail, format!("StorageClass {want} does not exist")).hint(format!(
                "this cluster has: {}",
                if classes.is_empty() { "none".to_owned() } else { names() }
            )),
        },
        None => match classes.iter().find(|s| s.default) {
            Some(s) => CheckResult::new(
                id,
                Status::Pass,
                format!("default StorageClass {} ({}){}", s.name, s.driver, local(s)),
            ),
            None => CheckResult::new(
                id,
                Status::Fail,
                "no default StorageClass: Postgres, Redpanda and MinIO need volumes".to_owned(),
            )
            .hint(if classes.is_empty() {
                "install a provisioner (k3s ships local-path), then run again".to_owned()
            } else {
                format!("name one with --storage-class (this cluster has: {})", names())
            }),
        },
    }
}

/// The IngressClass the deploy names: the flag's, the cluster's default,
/// the only one there is, or none (no Ingress; port-forward).
pub fn chosen_ingress(f: &ClusterFacts, c: &Choices) -> Ingress {
    if let Some(want) = &c.ingress_class {
        return Ingress::Class(want.clone());
    }
    let Some(classes) = &f.ingress_classes else {
        return Ingress::Default;
    };
    if classes.iter().any(|i| i.default) {
        return Ingress::Default;
    }
    match classes.as_slice() {
        [one] => Ingress::Class(one.name.clone()),
        _ => Ingress::None,
    }
}

fn ingress(f: &ClusterFacts, c: &Choices) -> CheckResult {
    let id = "ingress-class";
    let Some(classes) = &f.ingress_classes else {
        return CheckResult::new(
            id,
            Status::Warn,
            "IngressClasses not checked: this user may not list them",
        );
    };
    if let Some(want) = &c.ingress_class {
        return match classes.iter().find(|i| &i.name == want) {
            Some(i) => CheckResult::new(id, Status::Pass, format!("IngressClass {want} ({})", i.driver)),
            None => CheckResult::new(id, Status::Fail, format!("IngressClass {want} does not exist")).hint(format!(
                "this cluster has: {}",
                classes.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", ")
            )),
        };
    }
    match chosen_ingress(f, c) {
        Ingress::Default => {
            let d = classes.iter().find(|i| i.default).map_or("", |i| i.name.as_str());
            CheckResult::new(id, Status::Pass, format!("default IngressClass {d}"))
        }
        Ingress::Class(one) => CheckResult::new(id, Status::Pass, format!("IngressClass {one} (the only one)")),
        Ingress::None if classes.is_empty() => CheckResult::new(
            id,
            Status::Warn,
            "no IngressClass: DIGIT is deployed without an Ingress; the checks go by port-forward and the banner says how to reach it",
        ),
        Ingress::None => CheckResult::new(
            id,
            Status::Warn,
            format!(
                "{} IngressClasses and none is the default: DIGIT is deployed without an Ingress",
                classes.len()
            ),
        )
        .hint("name one with --ingress-class"),
    }
}

fn permissions(f: &ClusterFacts) -> CheckResult {
    let id = "permissions";
    let denied: Vec<String> = f
        .access
        .iter()
        .filter(|a| !a.allowed)
        .map(|a| {
            let group = if a.group.is_empty() {
                String::new()
            } else {
                format!(".{}", a.group)
            };
            format!("{} {}{group}", a.verb, a.resource)
        })
        .collect();
    if denied.is_empty() {
        return CheckResult::new(
            id,
            Status::Pass,
            format!("this user may do all {} things the deploy does", f.access.len()),
        );
    }
    CheckResult::new(
        id,
        Status::Fail,
        format!(
            "this user may not {} (of {} checked by SelfSubjectAccessReview)",
            denied.join(", "),
            f.access.len()
        ),
    )
    .hint("bind a Role with these verbs in the profile's namespace (cluster-scoped ones in a ClusterRole), or use an admin context (--context)")
}

#[cfg(test)]
#[path = "cluster_tests.rs"]
mod tests;
