//! What the deploy asks of the Kubernetes API, through kube-rs: server-side
//! apply under one field manager, rollout and Job states, pods, events, logs,
//! and POSTs to a service through the API server's service proxy (so seeding
//! needs no port on the host and no extra image).

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, LogParams, Patch, PatchParams, PropagationPolicy};

use super::manifests::{MANAGER, Manifest, SPEC_HASH};

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("could not apply {what}: {message}")]
    Apply {
        what: String,
        message: String,
        /// The API server's HTTP status, when it answered.
        code: Option<u16>,
    },
    #[error("could not read {what}: {message}")]
    Read { what: String, message: String },
}

impl crate::error::Diagnostic for ClusterError {
    fn hints(&self) -> Vec<String> {
        match self {
            Self::Apply { code: Some(422), what, .. } => vec![format!(
                "{what} already exists with fields that cannot change in place, and digit-quickstart did not make it, so it is left alone: delete it or deploy into another namespace"
            )],
            Self::Apply { code: Some(403), .. } => vec![
                "the kubeconfig's user may not do this: the deploy needs to create namespaces and everything inside its namespace".to_owned(),
            ],
            _ => vec!["is k3s running? `digit-quickstart status` shows the service and node".to_owned()],
        }
    }
}

/// What an apply did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// Created or updated in place (or unchanged).
    InPlace,
    /// An object of ours had a field that cannot change in place (a
    /// Deployment's selector, say): deleted and created again.
    Replaced,
}

pub fn one_line(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut next = e.source();
    while let Some(c) = next {
        parts.push(c.to_string());
        next = c.source();
    }
    parts.join(": ")
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobState {
    Absent,
    Running,
    Succeeded,
    Failed(String),
}

#[derive(Clone)]
pub struct Cluster {
    pub client: kube::Client,
    pub namespace: String,
}

impl Cluster {
    pub fn new(client: kube::Client, namespace: &str) -> Self {
        Self {
            client,
            namespace: namespace.to_owned(),
        }
    }

    fn dynamic(&self, m: &Manifest) -> Api<DynamicObject> {
        match &m.namespace {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &m.api),
            None => Api::all_with(self.client.clone(), &m.api),
        }
    }

    /// Server-side apply: unchanged objects stay unchanged (same generation).
    /// An object this tool made whose new version the API server refuses as
    /// invalid (an immutable field changed) is deleted and created again;
    /// anyone else's object is never touched.
    pub async fn apply(&self, m: &Manifest) -> Result<Applied, ClusterError> {
        let params = PatchParams::apply(MANAGER).force();
        let api = self.dynamic(m);
        let fail = |e: kube::Error| ClusterError::Apply {
            what: m.id(),
            code: match &e {
                kube::Error::Api(s) => Some(s.code),
                _ => None,
            },
            message: one_line(&e),
        };
        match api.patch(&m.name, &params, &Patch::Apply(&m.object)).await {
            Ok(_) => Ok(Applied::InPlace),
            Err(kube::Error::Api(s)) if s.code == 422 => {
                let ours = api.get_opt(&m.name).await.ok().flatten().is_some_and(|o| {
                    o.metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get(super::manifests::MANAGED_BY))
                        .is_some_and(|v| v == MANAGER)
                });
                if !ours {
                    return Err(fail(kube::Error::Api(s)));
                }
                let _ = api.delete(&m.name, &DeleteParams::background()).await;
                for _ in 0..120 {
                    match api.get_opt(&m.name).await {
                        Ok(None) => break,
                        _ => tokio::time::sleep(std::time::Duration::from_millis(250)).await,
                    }
                }
                api.patch(&m.name, &params, &Patch::Apply(&m.object))
                    .await
                    .map(|_| Applied::Replaced)
                    .map_err(fail)
            }
            Err(e) => Err(fail(e)),
        }
    }

    /// A Job's pod template is immutable: keep one rendered from the same
    /// template (its result stands), replace one rendered from another.
    pub async fn apply_job(&self, m: &Manifest) -> Result<JobState, ClusterError> {
        let jobs: Api<Job> = Api::namespaced(self.client.clone(), &self.namespace);
        let want = m.object["metadata"]["annotations"][SPEC_HASH]
            .as_str()
            .unwrap_or_default();
        let existing = jobs.get_opt(&m.name).await.map_err(|e| ClusterError::Read {
            what: format!("Job/{}", m.name),
            message: one_line(&e),
        })?;
        if let Some(job) = existing {
            let have = job
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(SPEC_HASH))
                .map(String::as_str)
                .unwrap_or_default();
            let state = job_state(&job);
            if have == want && !matches!(state, JobState::Failed(_)) {
                return Ok(state);
            }
            let dp = DeleteParams {
                propagation_policy: Some(PropagationPolicy::Foreground),
                ..Default::default()
            };
            let _ = jobs.delete(&m.name, &dp).await;
            for _ in 0..60 {
                match jobs.get_opt(&m.name).await {
                    Ok(None) => break,
                    _ => tokio::time::sleep(std::time::Duration::from_millis(500)).await,
                }
            }
        }
        self.apply(m).await?;
        Ok(JobState::Running)
    }

    pub async fn job(&self, name: &str) -> Result<JobState, ClusterError> {
        let jobs: Api<Job> = Api::namespaced(self.client.clone(), &self.namespace);
        match jobs.get_opt(name).await {
            Ok(Some(job)) => Ok(job_state(&job)),
            Ok(None) => Ok(JobState::Absent),
            Err(e) => Err(ClusterError::Read {
                what: format!("Job/{name}"),
                message: one_line(&e),
            }),
        }
    }

    /// Rollout complete: the controller saw the latest spec and every
    /// replica is updated and available (readiness probe passing).
    pub async fn rolled_out(&self, name: &str) -> Result<bool, ClusterError> {
        let api: Api<Deployment> = Api::namespaced(self.client.clone(), &self.namespace);
        let d = api.get_opt(name).await.map_err(|e| ClusterError::Read {
            what: format!("Deployment/{name}"),
            message: one_line(&e),
        })?;
        Ok(d.is_some_and(|d| rollout_complete(&d)))
    }

    /// Everything this tool deployed is rolled out and every seed Job
    /// succeeded: a re-run can skip applying (two list calls).
    pub async fn all_ready(&self, components: usize, jobs: usize) -> bool {
        let selector = format!("{}={}", super::manifests::MANAGED_BY, MANAGER);
        let lp = ListParams::default().labels(&selector);
        let deployments: Api<Deployment> = Api::namespaced(self.client.clone(), &self.namespace);
        let Ok(ds) = deployments.list(&lp).await else {
            return false;
        };
        let jobs_api: Api<Job> = Api::namespaced(self.client.clone(), &self.namespace);
        let Ok(js) = jobs_api.list(&lp).await else { return false };
        ds.items.len() == components
            && ds.items.iter().all(rollout_complete)
            && js.items.len() == jobs
            && js.items.iter().all(|j| job_state(j) == JobState::Succeeded)
    }

    pub async fn pods(&self, component: &str) -> Vec<Pod> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &self.namespace);
        let lp = ListParams::default().labels(&format!("{}={component}", super::manifests::NAME_LABEL));
        api.list(&lp).await.map(|l| l.items).unwrap_or_default()
    }

    pub async fn events(&self) -> Vec<Event> {
        let api: Api<Event> = Api::namespaced(self.client.clone(), &self.namespace);
        api.list(&ListParams::default())
            .await
            .map(|l| l.items)
            .unwrap_or_default()
    }

    pub async fn logs(&self, pod: &str, container: &str, previous: bool, lines: i64) -> String {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &self.namespace);
        let lp = LogParams {
            container: Some(container.to_owned()),
            previous,
            tail_lines: Some(lines),
            ..Default::default()
        };
        match api.logs(pod, &lp).await {
            Ok(text) => text,
            Err(e) => format!("(no log: {})", one_line(&e)),
        }
    }

    /// POST JSON to `service:port` + `path` through the API server's proxy.
    /// Returns the status and body also for error statuses.
    pub async fn service_post(
        &self,
        service: &str,
        port: u16,
        path: &str,
        body: &str,
    ) -> Result<(u16, String), String> {
        let uri = format!(
            "/api/v1/namespaces/{}/services/{service}:{port}/proxy{path}",
            self.namespace
        );
        let req = http::Request::post(uri)
            .header("content-type", "application/json")
            .body(body.as_bytes().to_vec())
            .map_err(|e| e.to_string())?;
        // `send`, not `request_text`: DIGIT's error bodies are not Kubernetes
        // Status objects, and the caller needs them (DuplicateUserName).
        let resp = self
            .client
            .send(req.map(kube::client::Body::from))
            .await
            .map_err(|e| one_line(&e))?;
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect_bytes().await.map_err(|e| one_line(&e))?;
        Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
    }
}

pub fn rollout_complete(d: &Deployment) -> bool {
    let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let generation = d.metadata.generation.unwrap_or(0);
    let Some(s) = &d.status else { return false };
    s.observed_generation.unwrap_or(0) >= generation
        && s.updated_replicas.unwrap_or(0) >= want
        && s.available_replicas.unwrap_or(0) >= want
        && s.replicas.unwrap_or(0) <= want
}

pub fn job_state(job: &Job) -> JobState {
    let Some(s) = &job.status else {
        return JobState::Running;
    };
    if s.succeeded.unwrap_or(0) > 0 {
        return JobState::Succeeded;
    }
    for c in s.conditions.iter().flatten() {
        if c.type_ == "Failed" && c.status == "True" {
            return JobState::Failed(format!(
                "{}: {}",
                c.reason.as_deref().unwrap_or("Failed"),
                c.message.as_deref().unwrap_or("")
            ));
        }
    }
    JobState::Running
}
