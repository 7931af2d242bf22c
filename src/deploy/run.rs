//! Applying the deploy: the base objects, then each dependency wave (its
//! components in parallel), waiting for named conditions, running each
//! component's seed steps once it is up, and diagnosing what does not come up.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_util::future::try_join_all;
use k8s_openapi::api::core::v1::Pod;

use super::cluster::{Applied, Cluster, ClusterError, JobState};
use super::diagnose::{Finding, analyse};
use super::manifests::Rendered;
use super::secrets::Secrets;
use crate::error::{Exit, Report};
use crate::profile::{Component, Profile, SeedAction, SeedStep};

pub struct Request<'a> {
    pub profile: &'a Profile,
    pub rendered: &'a Rendered,
    pub secrets: &'a Secrets,
    /// Seed name -> the verified content of its pinned file.
    pub seed_files: &'a std::collections::BTreeMap<String, String>,
    pub poll: Duration,
    /// Replaces every per-component timeout (tests; `--wait-timeout`).
    pub timeout: Option<Duration>,
    pub node_memory: Option<u64>,
}

/// One line of the live table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub component: String,
    pub state: String,
    pub ready: bool,
    pub restarts: i32,
    pub age: Duration,
}

pub enum Progress<'a> {
    Base {
        objects: usize,
    },
    Wave {
        index: usize,
        total: usize,
        components: Vec<String>,
    },
    Table(&'a [Row]),
    Ready {
        component: &'a str,
        after: Duration,
    },
    Seed {
        name: &'a str,
        state: &'a str,
    },
    /// An object of ours that could not change in place was recreated.
    Replaced {
        what: String,
    },
}

#[derive(Debug, Default, serde::Serialize)]
pub struct Outcome {
    pub waves: usize,
    pub objects: usize,
    pub seeds: Vec<String>,
    pub admin: AdminResult,
}

#[derive(Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdminResult {
    #[default]
    NotRun,
    Created,
    AlreadyThere,
}

fn cluster_report(e: ClusterError) -> Report {
    Report::new(e, Exit::Failed)
}

pub fn timeout_for(c: &Component, over: Option<Duration>) -> Duration {
    over.unwrap_or_else(|| {
        Duration::from_secs(u64::from(c.timeout_seconds.unwrap_or(if c.is_java() {
            900
        } else {
            300
        })))
    })
}

pub async fn run(
    cluster: &Cluster,
    req: &Request<'_>,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Outcome, Report> {
    let p = req.profile;
    let r = req.rendered;
    let mut outcome = Outcome::default();
    for m in &r.base {
        if cluster.apply(m).await.map_err(cluster_report)? == Applied::Replaced {
            progress(Progress::Replaced { what: m.id() });
        }
    }
    outcome.objects += r.base.len();
    progress(Progress::Base { objects: r.base.len() });
    let waves = p.waves();
    outcome.waves = waves.len();
    let mut first_seen: HashMap<String, Instant> = HashMap::new();
    for (i, wave) in waves.iter().enumerate() {
        progress(Progress::Wave {
            index: i + 1,
            total: waves.len(),
            components: wave.iter().map(|c| c.name.clone()).collect(),
        });
        let objects: Vec<_> = wave
            .iter()
            .flat_map(|c| r.components.get(&c.name).into_iter().flatten())
            .collect();
        outcome.objects += objects.len();
        let applied = try_join_all(objects.iter().map(|m| cluster.apply(m)))
            .await
            .map_err(cluster_report)?;
        for (m, a) in objects.iter().zip(applied) {
            if a == Applied::Replaced {
                progress(Progress::Replaced { what: m.id() });
            }
        }
        wait_wave(cluster, req, wave, &mut first_seen, progress).await?;
        for c in wave {
            for seed in p.seeds_after(&c.name) {
                run_seed(cluster, req, seed, progress).await?;
                outcome.seeds.push(seed.name.clone());
            }
            if p.admin.via == c.name {
                outcome.admin = create_admin(cluster, req, c).await?;
                progress(Progress::Seed {
                    name: "admin-user",
                    state: match outcome.admin {
                        AdminResult::Created => "created",
                        _ => "already there",
                    },
                });
                for u in &p.system_users {
                    let made = create_system_user(cluster, req, c, u).await?;
                    progress(Progress::Seed {
                        name: &u.username,
                        state: match made {
                            AdminResult::Created => "created",
                            _ => "already there",
                        },
                    });
                }
            }
        }
    }
    Ok(outcome)
}

fn row(component: &str, pods: &[Pod], ready: bool, first_seen: &mut HashMap<String, Instant>) -> Row {
    let mut state = if ready {
        "Ready".to_owned()
    } else {
        "Pending".to_owned()
    };
    let mut restarts = 0;
    let mut age = Duration::ZERO;
    for pod in pods {
        let name = pod.metadata.name.clone().unwrap_or_default();
        age = age.max(first_seen.entry(name).or_insert_with(Instant::now).elapsed());
        let status = pod.status.clone().unwrap_or_default();
        let all: Vec<_> = status
            .init_container_statuses
            .unwrap_or_default()
            .into_iter()
            .chain(status.container_statuses.unwrap_or_default())
            .collect();
        restarts += all.iter().map(|c| c.restart_count).sum::<i32>();
        if !ready {
            let waiting = all
                .iter()
                .filter_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone())
                .find(|r| r != "PodInitializing");
            state = waiting.unwrap_or_else(|| status.phase.clone().unwrap_or_else(|| "Pending".into()));
            if state == "Running" {
                state = "Starting".into();
            }
        }
    }
    Row {
        component: component.to_owned(),
        state,
        ready,
        restarts,
        age,
    }
}

async fn wait_wave(
    cluster: &Cluster,
    req: &Request<'_>,
    wave: &[&Component],
    first_seen: &mut HashMap<String, Instant>,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<(), Report> {
    let start = Instant::now();
    let mut done: HashMap<&str, bool> = wave.iter().map(|c| (c.name.as_str(), false)).collect();
    loop {
        let mut rows = Vec::new();
        for c in wave {
            let ready = if done[c.name.as_str()] {
                true
            } else {
                let ready = cluster.rolled_out(&c.name).await.map_err(cluster_report)?;
                if ready {
                    done.insert(&c.name, true);
                    progress(Progress::Ready {
                        component: &c.name,
                        after: start.elapsed(),
                    });
                }
                ready
            };
            let pods = if ready { Vec::new() } else { cluster.pods(&c.name).await };
            rows.push(row(&c.name, &pods, ready, first_seen));
        }
        progress(Progress::Table(&rows));
        if done.values().all(|d| *d) {
            return Ok(());
        }
        if let Some(c) = wave
            .iter()
            .find(|c| !done[c.name.as_str()] && start.elapsed() >= timeout_for(c, req.timeout))
        {
            return Err(diagnose(cluster, req, c, start.elapsed()).await);
        }
        tokio::time::sleep(req.poll).await;
    }
}

/// The timeout error with everything the pods and events say, plus the log
/// lines a finding asks for.
async fn diagnose(cluster: &Cluster, req: &Request<'_>, c: &Component, waited: Duration) -> Report {
    let pods = cluster.pods(&c.name).await;
    let events = cluster.events().await;
    let mut findings = analyse(&pods, &events, Some(c.resources.limits.memory.0), req.node_memory);
    if pods.is_empty() {
        findings.extend(super::diagnose::no_pod_findings(&c.name, &events));
    }
    let mut detail = Vec::new();
    for Finding { cause, logs, .. } in &findings {
        detail.push(format!("cause: {cause}"));
        if let Some((pod, container, previous)) = logs {
            detail.push(format!("last log lines of {pod}/{container}:"));
            let text = cluster.logs(pod, container, *previous, 20).await;
            detail.extend(text.lines().map(|l| format!("  | {l}")));
        }
    }
    if findings.is_empty() {
        let states: Vec<String> = pods
            .iter()
            .map(|p| {
                format!(
                    "pod {}: {}",
                    p.metadata.name.as_deref().unwrap_or("?"),
                    p.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_default()
                )
            })
            .collect();
        detail.push(if states.is_empty() {
            "no pod was created (check `kubectl -n NAMESPACE get events`)".to_owned()
        } else {
            states.join("\n")
        });
    }
    let mut report = Report::msg(
        format!("{} is not ready after {} s", c.name, waited.as_secs()),
        Exit::Failed,
    );
    report.detail = Some(detail.join("\n"));
    for f in &findings {
        report = report.with_hint(f.hint.clone());
    }
    report.with_hint("re-run `digit-quickstart install` after fixing it: finished steps are kept")
}

async fn run_seed(
    cluster: &Cluster,
    req: &Request<'_>,
    seed: &SeedStep,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<(), Report> {
    match &seed.action {
        SeedAction::Api {
            component,
            path,
            body,
            file,
        } => {
            let body = match file {
                Some(_) => req.seed_files.get(&seed.name).ok_or_else(|| {
                    Report::msg(
                        format!("seed {}: its pinned file was not downloaded", seed.name),
                        Exit::Failed,
                    )
                })?,
                None => body,
            };
            let port = req
                .profile
                .component(component)
                .and_then(|c| c.ports.first().copied())
                .unwrap_or(8080);
            let (status, text) = cluster
                .service_post(component, port, path, body)
                .await
                .map_err(|e| Report::msg(format!("seed {}: {e}", seed.name), Exit::Failed))?;
            if !(200..300).contains(&status) {
                return Err(Report::msg(
                    format!("seed {}: {component} answered HTTP {status}: {text}", seed.name),
                    Exit::Failed,
                ));
            }
            progress(Progress::Seed {
                name: &seed.name,
                state: "done",
            });
            Ok(())
        }
        SeedAction::File(_) | SeedAction::Job(_) => {
            let Some(job) = req.rendered.jobs.get(&seed.name) else {
                // Mounted files are part of their component.
                return Ok(());
            };
            let state = cluster.apply_job(job).await.map_err(cluster_report)?;
            if state == JobState::Succeeded {
                progress(Progress::Seed {
                    name: &seed.name,
                    state: "already done",
                });
                return Ok(());
            }
            progress(Progress::Seed {
                name: &seed.name,
                state: "running",
            });
            let start = Instant::now();
            let limit = req.timeout.unwrap_or(Duration::from_secs(900));
            loop {
                match cluster.job(&job.name).await.map_err(cluster_report)? {
                    JobState::Succeeded => break,
                    JobState::Failed(why) => return Err(seed_failed(cluster, seed, &why).await),
                    _ if start.elapsed() >= limit => {
                        return Err(seed_failed(cluster, seed, &format!("not done after {} s", limit.as_secs())).await);
                    }
                    _ => tokio::time::sleep(req.poll).await,
                }
            }
            progress(Progress::Seed {
                name: &seed.name,
                state: "done",
            });
            Ok(())
        }
    }
}

async fn seed_failed(cluster: &Cluster, seed: &SeedStep, why: &str) -> Report {
    let pods = cluster.pods(&format!("seed-{}", seed.name)).await;
    let mut detail = Vec::new();
    if let Some(pod) = pods.last().and_then(|p| p.metadata.name.clone()) {
        detail.push(format!("last log lines of {pod}:"));
        let text = cluster.logs(&pod, "seed", false, 20).await;
        detail.extend(text.lines().map(|l| format!("  | {l}")));
    }
    let mut report = Report::msg(format!("seed step {} failed: {why}", seed.name), Exit::Failed);
    report.detail = (!detail.is_empty()).then(|| detail.join("\n"));
    report.with_hint("the seed files are idempotent: fix the cause and re-run `digit-quickstart install`")
}

/// One user for egov-user's `_createnovalidate`, in the shape CCRS's
/// `local-setup/seeds/user-seed.sh` sends (a389cf93, lines 49-63, 99-112).
struct NewUser<'a> {
    username: &'a str,
    name: &'a str,
    user_type: &'a str,
    tenants: &'a [String],
    roles: &'a [String],
    password: &'a str,
}

/// Through egov-user's API (so enc-service encrypts the user); an existing
/// user of that name counts as done.
async fn create_user(cluster: &Cluster, via: &Component, state: &str, u: &NewUser<'_>) -> Result<AdminResult, Report> {
    let tenant = u.tenants.first().map_or(state, String::as_str);
    let roles: Vec<serde_json::Value> = u
        .tenants
        .iter()
        .flat_map(|t| {
            u.roles
                .iter()
                .map(move |r| serde_json::json!({"code": r, "name": r, "tenantId": t}))
        })
        .collect();
    let body = serde_json::json!({
        "RequestInfo": {"apiId": "digit-quickstart", "ver": "1.0"},
        "User": {
            "userName": u.username,
            "name": u.name,
            "mobileNumber": "9999999999",
            "gender": "MALE",
            "active": true,
            "type": u.user_type,
            "tenantId": tenant,
            "password": u.password,
            "roles": roles,
        }
    });
    let port = via.ports.first().copied().unwrap_or(8080);
    let ctx = via.context.as_deref().unwrap_or("user");
    let (status, text) = cluster
        .service_post(
            &via.name,
            port,
            &format!("/{ctx}/users/_createnovalidate"),
            &body.to_string(),
        )
        .await
        .map_err(|e| Report::msg(format!("could not create the {} user: {e}", u.username), Exit::Failed))?;
    if (200..300).contains(&status) {
        Ok(AdminResult::Created)
    } else if text.contains("DuplicateUserName") {
        Ok(AdminResult::AlreadyThere)
    } else {
        Err(Report::msg(
            format!(
                "could not create the {} user: {} answered HTTP {status}: {text}",
                u.username, via.name
            ),
            Exit::Failed,
        )
        .with_hint("egov-user needs egov-enc-service and the tenant and security seeds; their logs say which failed"))
    }
}

async fn create_admin(cluster: &Cluster, req: &Request<'_>, via: &Component) -> Result<AdminResult, Report> {
    let a = &req.profile.admin;
    let user = NewUser {
        username: req.secrets.get("digit-admin/username"),
        name: "Administrator",
        user_type: "EMPLOYEE",
        tenants: &a.tenants,
        roles: &a.roles,
        password: req.secrets.get("digit-admin/password"),
    };
    create_user(cluster, via, &req.profile.state_tenant, &user).await
}

async fn create_system_user(
    cluster: &Cluster,
    req: &Request<'_>,
    via: &Component,
    u: &crate::profile::SystemUser,
) -> Result<AdminResult, Report> {
    let tenants = [req.profile.state_tenant.clone()];
    let user = NewUser {
        username: &u.username,
        name: &u.name,
        user_type: &u.user_type,
        tenants: &tenants,
        roles: &u.roles,
        password: req.secrets.get(&u.secret_key()),
    };
    create_user(cluster, via, &req.profile.state_tenant, &user).await
}
