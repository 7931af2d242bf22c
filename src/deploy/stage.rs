//! The deploy stage end to end: seed files fetched and verified, secrets,
//! manifests, waves, then health and smoke checks from the host.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, ListParams};
use serde::Serialize;

use super::cluster::Cluster;
use super::manifests::{Inputs, render};
use super::run::{self, Outcome, Progress};
use super::secrets::{self, Secrets};
use crate::error::{Exit, Report};
use crate::health::smoke::{self, CheckResult};
use crate::k3s::artifacts::{self, ArtifactSpec};
use crate::layout::Layout;
use crate::profile::Profile;

/// Where `digit-quickstart proxy` listens by default.
pub const PROXY_PORT: u16 = 8080;

pub struct Request<'a> {
    pub profile: &'a Profile,
    /// Reads and writes the data dir (a path the user chose, never re-rooted).
    pub data_fs: &'a dyn crate::host::Fs,
    pub layout: &'a Layout,
    pub kubeconfig: PathBuf,
    pub http: reqwest::Client,
    pub poll: Duration,
    pub timeout: Option<Duration>,
    /// Where the ingress answers; None means the node's InternalIP on port 80.
    pub ingress_url: Option<String>,
    pub node_memory: Option<u64>,
    /// The manifests hash of the last completed deploy (journal): when it is
    /// unchanged and everything is still ready, nothing is applied.
    pub previous_hash: Option<String>,
    /// The kubeconfig context (None: its current one).
    pub context: Option<String>,
    pub target: super::manifests::target::Target,
    /// `.dockerconfigjson` for the target's registry.
    pub pull_auth: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct StageOutcome {
    pub url: String,
    pub login_url: String,
    pub username: String,
    /// Shown once in the banner; never serialised.
    #[serde(skip)]
    pub password: String,
    pub secrets_file: PathBuf,
    pub secrets_generated: bool,
    pub deploy: Outcome,
    /// sha256 of every rendered object (with secrets), for the journal.
    pub manifests_hash: String,
    /// Nothing was applied: the same manifests were already deployed and ready.
    pub unchanged: bool,
    pub checks: Vec<CheckResult>,
    /// No Ingress: users reach DIGIT through `digit-quickstart proxy`.
    pub port_forward: bool,
    pub namespace: String,
    pub seconds: Phases,
}

#[derive(Debug, Default, Serialize)]
pub struct Phases {
    pub seed_files: f64,
    pub apply_and_wait: f64,
    pub health_and_smoke: f64,
}

impl StageOutcome {
    pub fn healthy(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }
}

/// Downloads (or finds in the cache) every seed file, verified against its
/// pin before use: seed name -> content.
pub async fn fetch_seed_files(
    http: &reqwest::Client,
    layout: &Layout,
    profile: &Profile,
) -> Result<BTreeMap<String, String>, Report> {
    let mut out = BTreeMap::new();
    for seed in &profile.seeds {
        let Some(f) = seed.file() else { continue };
        let name = super::seed_cache_path(layout, &f.sha256, &f.url)
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| seed.name.clone());
        let spec = ArtifactSpec {
            name,
            url: f.url.clone(),
            sha256: f.sha256.clone(),
        };
        let path = artifacts::fetch(http, &spec, &layout.seed_cache(), 3, Duration::from_secs(1), &|_| {})
            .await
            .map_err(|e| Report::new(e, Exit::Failed))?;
        let text = tokio::fs::read_to_string(&path).await.map_err(|source| {
            Report::new(
                crate::error::IoError {
                    action: "read seed file",
                    path: path.clone(),
                    source,
                },
                Exit::Failed,
            )
        })?;
        out.insert(seed.name.clone(), text);
    }
    Ok(out)
}

async fn node_ip(client: &kube::Client) -> Option<String> {
    let nodes: Api<Node> = Api::all(client.clone());
    let list = nodes.list(&ListParams::default()).await.ok()?;
    list.items.into_iter().find_map(|n| {
        n.status?
            .addresses?
            .into_iter()
            .find(|a| a.type_ == "InternalIP")
            .map(|a| a.address)
    })
}

pub async fn run(req: &Request<'_>, progress: &(dyn Fn(Progress) + Sync)) -> Result<StageOutcome, Report> {
    let p = req.profile;
    let t = Instant::now();
    let files = fetch_seed_files(&req.http, req.layout, p).await?;
    let seed_secs = t.elapsed().as_secs_f64();
    let mut random = secrets::os_random;
    let (secrets, generated): (Secrets, bool) =
        secrets::load_or_generate(req.data_fs, &req.layout.secrets(), p, &mut random)
            .map_err(|e| Report::new(e, Exit::Failed))?;
    let digests = super::locked_digests(req.layout, p);
    let client = crate::k3s::lifecycle::kube_client(&req.kubeconfig, req.context.as_deref()).await?;
    // Where users reach DIGIT: the ingress on the node's address (some
    // services build links from it).
    let no_ingress = req.target.ingress == super::manifests::target::Ingress::None;
    let url = match &req.ingress_url {
        Some(u) => u.trim_end_matches('/').to_owned(),
        // Without an Ingress users come in through `digit-quickstart proxy`.
        None if no_ingress => format!("http://127.0.0.1:{PROXY_PORT}"),
        None => format!(
            "http://{}",
            node_ip(&client).await.unwrap_or_else(|| "127.0.0.1".to_owned())
        ),
    };
    let rendered = render(&Inputs {
        profile: p,
        secrets: Some(&secrets),
        digests: &digests,
        files: &files,
        public_url: Some(&url),
        target: &req.target,
        pull_auth: req.pull_auth.as_deref(),
    });
    crate::logging::redact(secrets.values());
    let manifests_hash = {
        let all: Vec<&serde_json::Value> = rendered.ordered(p).iter().map(|m| &m.object).collect();
        artifacts::sha256_hex(serde_json::to_string(&all).unwrap_or_default().as_bytes())
    };
    let cluster = Cluster::new(client.clone(), &p.namespace);
    let t = Instant::now();
    let unchanged = req.previous_hash.as_deref() == Some(manifests_hash.as_str())
        && cluster.all_ready(p.components.len(), rendered.jobs.len()).await;
    let deploy = if unchanged {
        Outcome {
            waves: p.waves().len(),
            ..Outcome::default()
        }
    } else {
        run::run(
            &cluster,
            &run::Request {
                profile: p,
                rendered: &rendered,
                secrets: &secrets,
                seed_files: &files,
                poll: req.poll,
                timeout: req.timeout,
                node_memory: req.node_memory,
            },
            progress,
        )
        .await?
    };
    let apply_secs = t.elapsed().as_secs_f64();

    let t = Instant::now();
    // No Ingress: the checks go the way users will, by port-forward.
    let tunnel = match (no_ingress, &req.ingress_url) {
        (true, None) => {
            let (addr, task) = super::tunnel::start(
                std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
                client.clone(),
                super::tunnel::Routes::of(p),
            )
            .await
            .map_err(|e| Report::msg(format!("could not open a local port for the checks: {e}"), Exit::Failed))?;
            Some((format!("http://{addr}"), task))
        }
        _ => None,
    };
    let check_url = tunnel.as_ref().map_or(url.as_str(), |(u, _)| u.as_str()).to_owned();
    let url_for_checks = check_url.as_str();
    // The ingress picks up new endpoints within seconds; retry briefly.
    let mut health = smoke::health(&req.http, url_for_checks, p).await;
    let settle = Instant::now();
    while health.iter().any(|c| !c.ok) && settle.elapsed() < req.timeout.unwrap_or(smoke::SETTLE) {
        tokio::time::sleep(req.poll.max(Duration::from_millis(100))).await;
        health = smoke::health(&req.http, url_for_checks, p).await;
    }
    let username = secrets.get("digit-admin/username").to_owned();
    let password = secrets.get("digit-admin/password").to_owned();
    let mut checks = health;
    checks.extend(smoke::smoke(&req.http, url_for_checks, p, &username, &password).await);
    if let Some((_, task)) = tunnel {
        task.abort();
    }
    Ok(StageOutcome {
        login_url: format!("{url}/digit-ui/employee/user/login"),
        url,
        username,
        password,
        secrets_file: secrets::path(&req.layout.secrets(), &p.name),
        secrets_generated: generated,
        deploy,
        manifests_hash,
        unchanged,
        checks,
        port_forward: no_ingress,
        namespace: p.namespace.clone(),
        seconds: Phases {
            seed_files: seed_secs,
            apply_and_wait: apply_secs,
            health_and_smoke: t.elapsed().as_secs_f64(),
        },
    })
}
