//! Why a component is not up: read from its pods' status and events, turned
//! into a cause and a fix. Pure, so each failure kind is tested with
//! real-shaped objects.

use k8s_openapi::api::core::v1::{ContainerStatus, Event, Pod};

use crate::profile::quantity::human_bytes;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub cause: String,
    pub hint: String,
    /// Log lines would explain it: (pod, container, previous instance).
    pub logs: Option<(String, String, bool)>,
}

/// `limits`: the container's memory limit in bytes; `node_memory`: the VM's.
pub fn analyse(pods: &[Pod], events: &[Event], limit: Option<u64>, node_memory: Option<u64>) -> Vec<Finding> {
    let mut out = Vec::new();
    for pod in pods {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let status = pod.status.clone().unwrap_or_default();
        let init = status.init_container_statuses.clone().unwrap_or_default();
        let main = status.container_statuses.clone().unwrap_or_default();
        for c in init.iter().chain(main.iter()) {
            let is_init = init.iter().any(|i| i.name == c.name);
            if let Some(f) = container_finding(&name, c, is_init, limit, node_memory) {
                out.push(f);
            }
        }
        let pod_events: Vec<&Event> = events
            .iter()
            .filter(|e| e.involved_object.name.as_deref() == Some(name.as_str()))
            .collect();
        for e in pod_events {
            if let Some(f) = event_finding(e) {
                out.push(f);
            }
        }
        // A pod waiting for its volume: the claim's own events say why.
        let claims: Vec<String> = pod
            .spec
            .iter()
            .flat_map(|s| s.volumes.iter().flatten())
            .filter_map(|v| Some(v.persistent_volume_claim.as_ref()?.claim_name.clone()))
            .collect();
        for e in events.iter().filter(|e| {
            e.involved_object.kind.as_deref() == Some("PersistentVolumeClaim")
                && claims
                    .iter()
                    .any(|c| e.involved_object.name.as_deref() == Some(c.as_str()))
        }) {
            if let Some(f) = claim_finding(&name, e) {
                out.push(f);
            }
        }
    }
    out.dedup_by(|a, b| a.cause == b.cause);
    out
}

fn container_finding(
    pod: &str,
    c: &ContainerStatus,
    is_init: bool,
    limit: Option<u64>,
    node_memory: Option<u64>,
) -> Option<Finding> {
    let state = c.state.clone().unwrap_or_default();
    let last = c.last_state.clone().unwrap_or_default();
    let oom = [state.terminated.as_ref(), last.terminated.as_ref()]
        .into_iter()
        .flatten()
        .any(|t| t.reason.as_deref() == Some("OOMKilled"));
    if oom {
        let limit = limit.map_or_else(|| "its limit".to_owned(), human_bytes);
        let vm = node_memory.map_or_else(String::new, |m| format!(" (this VM has {})", human_bytes(m)));
        return Some(Finding {
            cause: format!(
                "container {} in {pod} was OOMKilled: it needed more than {limit} of memory",
                c.name
            ),
            hint: format!(
                "raise this component's resources.limits.memory (and jvm_heap below it) in a copy of the profile, or give the VM more memory{vm}"
            ),
            logs: None,
        });
    }
    let waiting = state.waiting?;
    let reason = waiting.reason.unwrap_or_default();
    let message = waiting.message.unwrap_or_default();
    match reason.as_str() {
        "ImagePullBackOff" | "ErrImagePull" => {
            let image = c.image.clone();
            let lower = message.to_lowercase();
            let hint = if lower.contains("429") || lower.contains("toomanyrequests") || lower.contains("rate limit") {
                "Docker Hub's pull limit for this IP is used up (100 pulls per 6 h unauthenticated; a classroom NAT shares one): wait, pass --registry-auth-file with a Docker Hub login, or install from a bundle or a `serve` mirror".to_owned()
            } else if lower.contains("not found") || lower.contains("manifest unknown") {
                format!("the tag of {image} does not exist upstream: pin a tag that exists in a copy of the profile")
            } else {
                "check the VM's DNS and route to the registry (`digit-quickstart check`), or run `digit-quickstart pull` first so the images are local".to_owned()
            };
            Some(Finding {
                cause: format!("{pod} cannot pull {image}: {reason} {message}").trim_end().to_owned(),
                hint,
                logs: None,
            })
        }
        "CrashLoopBackOff" if is_init && c.name == "db-migration" => Some(Finding {
            cause: format!("the Flyway migration of {pod} keeps failing"),
            hint: "read the migration log below; a schema left half-migrated is cleared by `digit-quickstart reset`".to_owned(),
            logs: Some((pod.to_owned(), c.name.clone(), true)),
        }),
        "CrashLoopBackOff" => Some(Finding {
            cause: format!(
                "container {} in {pod} keeps crashing ({} restarts)",
                c.name, c.restart_count
            ),
            hint: "its last log lines are below; a service that exits at start usually cannot reach a dependency or lacks seed data".to_owned(),
            logs: Some((pod.to_owned(), c.name.clone(), true)),
        }),
        "CreateContainerConfigError" => Some(Finding {
            cause: format!("{pod} cannot start {}: {message}", c.name),
            hint: "a Secret or ConfigMap it needs is missing; re-run install to re-apply them".to_owned(),
            logs: None,
        }),
        _ => None,
    }
}

fn event_finding(e: &Event) -> Option<Finding> {
    if e.type_.as_deref() != Some("Warning") {
        return None;
    }
    let reason = e.reason.clone().unwrap_or_default();
    let message = e.message.clone().unwrap_or_default();
    let pod = e.involved_object.name.clone().unwrap_or_default();
    match reason.as_str() {
        "FailedScheduling" if message.contains("disk-pressure") => Some(Finding {
            cause: format!("{pod} cannot be scheduled: the node reports disk pressure"),
            hint: "free space on the filesystem holding /var/lib/rancher (kubelet needs 15% free), then wait or re-run install".to_owned(),
            logs: None,
        }),
        "FailedScheduling" if message.contains("Insufficient memory") || message.contains("Insufficient cpu") => {
            let what = if message.contains("Insufficient memory") { "memory" } else { "CPU" };
            Some(Finding {
                cause: format!("{pod} cannot be scheduled: not enough {what} left on the node ({message})"),
                hint: "stop other workloads on this VM or give it more; `digit-quickstart check` shows what the profile needs".to_owned(),
                logs: None,
            })
        }
        "FailedScheduling" if message.contains("unbound immediate PersistentVolumeClaims") => Some(Finding {
            cause: format!("{pod} cannot be scheduled: its volume claim is not bound ({message})"),
            hint: "the cluster gives the claim no volume; what its storage class says follows".to_owned(),
            logs: None,
        }),
        "Unhealthy" => Some(Finding {
            cause: format!("{pod} fails its health check: {message}"),
            hint: "Java services take minutes on a small VM; if it never passes, the log shows why".to_owned(),
            logs: None,
        }),
        _ => None,
    }
}

/// Why a component has no pod at all: its ReplicaSet's FailedCreate events
/// (a ResourceQuota, a missing ServiceAccount, admission refusing the pod).
pub fn no_pod_findings(component: &str, events: &[Event]) -> Vec<Finding> {
    let prefix = format!("{component}-");
    let mut out: Vec<Finding> = events
        .iter()
        .filter(|e| {
            e.involved_object.kind.as_deref() == Some("ReplicaSet")
                && e.involved_object.name.as_deref().is_some_and(|n| n.starts_with(&prefix))
                && e.reason.as_deref() == Some("FailedCreate")
        })
        .map(|e| {
            let message = e.message.clone().unwrap_or_default();
            let ns = e.involved_object.namespace.clone().unwrap_or_default();
            let hint = if message.contains("exceeded quota") {
                format!("a ResourceQuota in the namespace refuses the pod: raise or remove it (`kubectl describe quota -n {ns}`)")
            } else {
                "the API server refuses to create the pod; its message says why".to_owned()
            };
            Finding {
                cause: format!(
                    "{} cannot create a pod: {message}",
                    e.involved_object.name.clone().unwrap_or_default()
                ),
                hint,
                logs: None,
            }
        })
        .collect();
    out.dedup_by(|a, b| a.cause == b.cause);
    out.truncate(1);
    out
}

/// What the volume controller said about a pod's claim.
fn claim_finding(pod: &str, e: &Event) -> Option<Finding> {
    let claim = e.involved_object.name.clone().unwrap_or_default();
    let message = e.message.clone().unwrap_or_default();
    match e.reason.as_deref() {
        Some("FailedBinding") if message.contains("no storage class is set") => Some(Finding {
            cause: format!("{pod} waits for volume claim {claim}: {message}"),
            hint: "this cluster has no default StorageClass: k3s ships `local-path`; elsewhere mark one default (`kubectl annotate storageclass NAME storageclass.kubernetes.io/is-default-class=true`)".to_owned(),
            logs: None,
        }),
        Some("ProvisioningFailed") if message.contains("storageclass") && message.contains("not found") => Some(Finding {
            cause: format!("{pod} waits for volume claim {claim}: {message}"),
            hint: "the claim names a StorageClass this cluster does not have: k3s ships `local-path`; on another cluster create a StorageClass of that name".to_owned(),
            logs: None,
        }),
        Some("ProvisioningFailed") => Some(Finding {
            cause: format!("{pod} waits for volume claim {claim}: provisioning failed: {message}"),
            hint: "the storage provisioner could not create the volume; check its pods in kube-system and the disk space".to_owned(),
            logs: None,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
