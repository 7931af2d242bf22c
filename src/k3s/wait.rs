//! Waiting for k3s to be usable, not just started: named conditions, each
//! with its own timeout and a live status, and on timeout what was last
//! seen plus a hint. (k3s's own installer returns at systemd READY, before
//! the node is Ready: k3s #12598.)

use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, ListParams};

/// One thing that must become true.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    ApiReady,
    NodeReady(String),
    /// A kube-system Deployment with at least one available replica; the
    /// label selector finds its pods when diagnosing.
    Deployment {
        name: String,
        pods: String,
    },
    StorageClass(String),
}

impl Condition {
    pub fn name(&self) -> String {
        match self {
            Self::ApiReady => "API server /readyz".into(),
            Self::NodeReady(n) => format!("node {n} Ready"),
            Self::Deployment { name, .. } if name == "coredns" => "CoreDNS available".into(),
            Self::Deployment { name, .. } => format!("{name} available"),
            Self::StorageClass(n) => format!("storage class {n} present"),
        }
    }

    fn hint(&self) -> &'static str {
        match self {
            Self::ApiReady => {
                "k3s did not answer: see `journalctl -u k3s -n 50`; common causes are port 6443 in use, a disabled memory cgroup or no default route (`digit-quickstart check`)"
            }
            Self::NodeReady(_) => {
                "the node is not Ready: the reason above comes from kubelet; `journalctl -u k3s` has the details (CNI and container runtime errors show there)"
            }
            Self::Deployment { .. } => {
                "it is not running: the pod events above usually say why (image not imported, not enough memory, node not Ready)"
            }
            Self::StorageClass(_) => {
                "k3s's local-path provisioner has not registered its storage class: check `kubectl -n kube-system get pods`"
            }
        }
    }
}

/// The k3s conditions install waits for, in order; the bundled ingress
/// controller too when the profile keeps it.
pub fn k3s_conditions(node: &str, keep_traefik: bool) -> Vec<(Condition, Duration)> {
    let mut all = vec![
        (Condition::ApiReady, Duration::from_secs(180)),
        (Condition::NodeReady(node.to_owned()), Duration::from_secs(180)),
        (Condition::coredns(), Duration::from_secs(180)),
        (Condition::StorageClass("local-path".into()), Duration::from_secs(120)),
    ];
    if keep_traefik {
        all.push((Condition::traefik(), Duration::from_secs(240)));
    }
    all
}

impl Condition {
    pub fn coredns() -> Self {
        Self::Deployment {
            name: "coredns".into(),
            pods: "k8s-app=kube-dns".into(),
        }
    }
    pub fn traefik() -> Self {
        Self::Deployment {
            name: "traefik".into(),
            pods: "app.kubernetes.io/name=traefik".into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("timed out after {}s waiting for {name}; last seen: {last_seen}", waited.as_secs())]
pub struct WaitTimeout {
    pub name: String,
    pub waited: Duration,
    pub last_seen: String,
    /// What else was found out (node conditions, pod events), one per line.
    pub diagnosis: Vec<String>,
    pub hint: &'static str,
}

impl crate::error::Diagnostic for WaitTimeout {
    fn hints(&self) -> Vec<String> {
        vec![self.hint.to_owned()]
    }
    fn detail(&self) -> Option<String> {
        (!self.diagnosis.is_empty()).then(|| self.diagnosis.join("\n"))
    }
}

/// Checks one condition once: Ok(true) met, Ok(false) not yet, with what was seen.
pub async fn check(client: &kube::Client, cond: &Condition) -> (bool, String) {
    match cond {
        Condition::ApiReady => {
            let req = http::Request::get("/readyz").body(Vec::new());
            match req {
                Ok(req) => match client.request_text(req).await {
                    Ok(body) if body.trim() == "ok" => (true, "ok".into()),
                    Ok(body) => (false, body.trim().to_owned()),
                    Err(e) => (false, one_line(&e)),
                },
                Err(e) => (false, e.to_string()),
            }
        }
        Condition::NodeReady(name) => match Api::<Node>::all(client.clone()).get_opt(name).await {
            Ok(Some(node)) => {
                let ready = node
                    .status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .and_then(|c| c.iter().find(|c| c.type_ == "Ready"));
                match ready {
                    Some(c) if c.status == "True" => (true, "Ready".into()),
                    Some(c) => (
                        false,
                        format!(
                            "Ready={} ({}: {})",
                            c.status,
                            c.reason.as_deref().unwrap_or("no reason"),
                            c.message.as_deref().unwrap_or("")
                        ),
                    ),
                    None => (false, "no Ready condition reported yet".into()),
                }
            }
            Ok(None) => (false, format!("node {name} not registered yet")),
            Err(e) => (false, one_line(&e)),
        },
        Condition::Deployment { name, .. } => {
            match Api::<Deployment>::namespaced(client.clone(), "kube-system")
                .get_opt(name)
                .await
            {
                Ok(Some(d)) => {
                    let s = d.status.unwrap_or_default();
                    let available = s.available_replicas.unwrap_or(0);
                    let wanted = d.spec.and_then(|s| s.replicas).unwrap_or(1);
                    (available >= 1, format!("{available}/{wanted} replicas available"))
                }
                Ok(None) => (false, format!("deployment {name} not created yet")),
                Err(e) => (false, one_line(&e)),
            }
        }
        Condition::StorageClass(name) => match Api::<StorageClass>::all(client.clone()).get_opt(name).await {
            Ok(Some(_)) => (true, "present".into()),
            Ok(None) => (false, format!("storage class {name} not created yet")),
            Err(e) => (false, one_line(&e)),
        },
    }
}

fn one_line(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut next = e.source();
    while let Some(c) = next {
        parts.push(c.to_string());
        next = c.source();
    }
    parts.join(": ")
}

/// More detail for a timed-out condition: node conditions, or the pods'
/// waiting reasons and their warning events.
pub async fn diagnose(client: &kube::Client, cond: &Condition) -> Vec<String> {
    let mut out = Vec::new();
    match cond {
        Condition::NodeReady(name) => {
            if let Ok(Some(node)) = Api::<Node>::all(client.clone()).get_opt(name).await {
                for c in node.status.and_then(|s| s.conditions).unwrap_or_default() {
                    out.push(format!(
                        "node condition {}={} ({}) {}",
                        c.type_,
                        c.status,
                        c.reason.unwrap_or_default(),
                        c.message.unwrap_or_default()
                    ));
                }
            }
        }
        Condition::Deployment { pods: selector, .. } => {
            let pods: Api<Pod> = Api::namespaced(client.clone(), "kube-system");
            let list = pods.list(&ListParams::default().labels(selector)).await;
            for pod in list.map(|l| l.items).unwrap_or_default() {
                let name = pod.metadata.name.clone().unwrap_or_default();
                let status = pod.status.unwrap_or_default();
                let waiting: Vec<String> = status
                    .container_statuses
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|c| c.state.and_then(|s| s.waiting))
                    .map(|w| format!("{}: {}", w.reason.unwrap_or_default(), w.message.unwrap_or_default()))
                    .collect();
                out.push(format!(
                    "pod {name}: {}{}",
                    status.phase.unwrap_or_else(|| "Unknown".into()),
                    if waiting.is_empty() {
                        String::new()
                    } else {
                        format!(", waiting: {}", waiting.join("; "))
                    }
                ));
                let events: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(client.clone(), "kube-system");
                let lp = ListParams::default().fields(&format!("involvedObject.name={name}"));
                for e in events.list(&lp).await.map(|l| l.items).unwrap_or_default() {
                    if e.type_.as_deref() == Some("Warning") {
                        out.push(format!(
                            "  event {}: {}",
                            e.reason.unwrap_or_default(),
                            e.message.unwrap_or_default()
                        ));
                    }
                }
            }
        }
        _ => {}
    }
    out
}

/// Waits for each condition in turn; `status` is told the state at every
/// poll (a live line on a terminal, a plain line when it changes otherwise).
pub async fn wait_all(
    client: &kube::Client,
    conditions: &[(Condition, Duration)],
    poll: Duration,
    status: &(dyn Fn(&str, bool, &str, Duration) + Sync),
) -> Result<(), WaitTimeout> {
    for (cond, timeout) in conditions {
        let started = Instant::now();
        loop {
            let (met, seen) = check(client, cond).await;
            status(&cond.name(), met, &seen, started.elapsed());
            if met {
                break;
            }
            if started.elapsed() >= *timeout {
                return Err(WaitTimeout {
                    name: cond.name(),
                    waited: started.elapsed(),
                    last_seen: seen,
                    diagnosis: diagnose(client, cond).await,
                    hint: cond.hint(),
                });
            }
            tokio::time::sleep(poll).await;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traefik_is_waited_for_only_when_the_profile_keeps_it() {
        let names = |keep| {
            k3s_conditions("n", keep)
                .into_iter()
                .map(|(c, _)| c.name())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(false),
            [
                "API server /readyz",
                "node n Ready",
                "CoreDNS available",
                "storage class local-path present"
            ]
        );
        assert_eq!(names(true).last().map(String::as_str), Some("traefik available"));
    }
}
