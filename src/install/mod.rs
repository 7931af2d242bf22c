//! `install` end to end: k3s and the image pull at the same time, the
//! images handed to k3s and checked, the deploy, the checks; each step
//! recorded in the journal so a re-run skips what is still true and an
//! interrupted run resumes; a report either way.

pub mod import;
pub mod journal;
pub mod report;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::signal::unix::Signal;

use self::journal::{Entry, Journal};
use self::report::{PhaseRecord, RunReport};
use crate::deploy::stage::{self, StageOutcome};
use crate::error::{Exit, Report};
use crate::host::{Fs, Host};
use crate::images::engine::{PullOptions, Puller, lock_for};
use crate::images::lock::LockFile;
use crate::images::progress::Reporter;
use crate::images::store::Store;
use crate::layout::Layout;
use crate::profile::{ImageRef, Profile};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PhaseState {
    Started,
    Done { seconds: f64, skipped: bool },
    Failed { seconds: f64 },
}

pub struct PhaseEvent<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub detail: Option<&'a str>,
    pub state: PhaseState,
}

/// Knobs of the deploy stage the CLI decides.
pub struct DeployKnobs {
    pub http: reqwest::Client,
    pub poll: Duration,
    pub timeout: Option<Duration>,
    pub ingress_url: Option<String>,
    pub node_memory: Option<u64>,
    /// The kubeconfig's context (None: its current one).
    pub context: Option<String>,
    pub target: crate::deploy::manifests::target::Target,
    /// `.dockerconfigjson` for the target's registry.
    pub pull_auth: Option<String>,
}

pub struct Request<'a> {
    pub host: &'a Host,
    /// The data dir (never re-rooted).
    pub data_fs: &'a dyn Fs,
    pub profile: &'a Profile,
    pub layout: &'a Layout,
    /// None: the cluster exists already (`--only deploy`).
    pub k3s: Option<crate::k3s::lifecycle::Request<'a>>,
    /// The kubeconfig the deploy uses (k3s's root one, or --kubeconfig).
    pub kubeconfig: PathBuf,
    /// None: no pull and no import (the cluster pulls by digest itself).
    pub pull: Option<PullOptions>,
    /// `k3s ctr` (or a test containerd's `ctr --address …`).
    pub ctr: Vec<String>,
    pub deploy: DeployKnobs,
    /// False for `prepare-golden` without DIGIT: k3s and images only.
    pub deploy_stage: bool,
    /// Delete the image store once containerd has every locked digest.
    pub drop_store: bool,
}

pub struct Ui<'a> {
    pub phase: &'a (dyn Fn(PhaseEvent) + Sync),
    pub k3s: &'a (dyn Fn(crate::k3s::lifecycle::Progress) + Sync),
    pub pull: Arc<dyn Reporter>,
    pub deploy: &'a (dyn Fn(crate::deploy::run::Progress) + Sync),
    /// A line of news within a phase (one per imported image).
    pub line: &'a (dyn Fn(&str) + Sync),
}

pub struct Outcome {
    /// None when the deploy stage was not asked for.
    pub stage: Option<StageOutcome>,
    /// The invoking user's kubeconfig, when k3s was installed here.
    pub user_kubeconfig: Option<PathBuf>,
    /// Steps whose earlier result was re-checked and still held.
    pub skipped: usize,
}

fn interrupted() -> Report {
    Report::msg("interrupted: stopped at a safe point", Exit::Interrupted)
        .with_hint("run the same command again: completed steps are verified and skipped, downloads resume")
}

fn now_secs(host: &Host) -> u64 {
    host.clock
        .now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Runs `fut` unless Ctrl-C (SIGINT) or SIGTERM comes first. Dropping the
/// future is safe at any await point: files are written atomically, blobs
/// land in `partial/` and are renamed when verified, applies are idempotent.
async fn guarded<T>(
    signals: &mut (Signal, Signal),
    fut: impl std::future::Future<Output = Result<T, Report>>,
) -> Result<T, Report> {
    tokio::select! {
        r = fut => r,
        _ = signals.0.recv() => Err(interrupted()),
        _ = signals.1.recv() => Err(interrupted()),
    }
}

struct Phases<'a, 'b> {
    ui: &'a Ui<'b>,
    records: Vec<PhaseRecord>,
}

impl Phases<'_, '_> {
    fn start(&self, id: &str, title: &str) -> Instant {
        (self.ui.phase)(PhaseEvent {
            id,
            title,
            detail: None,
            state: PhaseState::Started,
        });
        Instant::now()
    }

    fn done(&mut self, id: &str, title: &str, t: Instant, skipped: bool, detail: Option<&str>) {
        let seconds = t.elapsed().as_secs_f64();
        (self.ui.phase)(PhaseEvent {
            id,
            title,
            detail,
            state: PhaseState::Done { seconds, skipped },
        });
        self.records.push(PhaseRecord {
            id: id.to_owned(),
            state: if skipped { "skipped" } else { "done" }.into(),
            seconds,
        });
    }

    fn failed(&mut self, id: &str, title: &str, t: Instant, err: &Report) {
        let seconds = t.elapsed().as_secs_f64();
        (self.ui.phase)(PhaseEvent {
            id,
            title,
            detail: None,
            state: PhaseState::Failed { seconds },
        });
        self.records.push(PhaseRecord {
            id: id.to_owned(),
            state: if err.exit == Exit::Interrupted {
                "interrupted"
            } else {
                "failed"
            }
            .into(),
            seconds,
        });
    }
}

/// The whole install; `report` is filled as far as it got, success or not.
pub async fn run(req: &Request<'_>, ui: &Ui<'_>, report: &mut RunReport) -> Result<Outcome, Report> {
    use tokio::signal::unix::{SignalKind, signal};
    let sig = |k| signal(k).map_err(|e| Report::msg(format!("could not watch for Ctrl-C: {e}"), Exit::Failed));
    let mut signals = (sig(SignalKind::interrupt())?, sig(SignalKind::terminate())?);
    let mut phases = Phases {
        ui,
        records: Vec::new(),
    };
    let result = run_phases(req, &mut phases, &mut signals, report).await;
    report.phases = phases.records;
    result
}

async fn run_phases(
    req: &Request<'_>,
    phases: &mut Phases<'_, '_>,
    signals: &mut (Signal, Signal),
    report: &mut RunReport,
) -> Result<Outcome, Report> {
    let p = req.profile;
    let journal_path = req.layout.journal();
    let mut journal = Journal::load(req.data_fs, &journal_path, &p.name);
    let save = |journal: &mut Journal, step: &str, t: Instant, verified: serde_json::Value| {
        journal
            .record(
                req.data_fs,
                &journal_path,
                step,
                Entry {
                    done_at: now_secs(req.host),
                    seconds: t.elapsed().as_secs_f64(),
                    verified,
                },
            )
            .map_err(|source| {
                Report::new(
                    crate::error::IoError {
                        action: "write the step journal",
                        path: journal_path.clone(),
                        source,
                    },
                    Exit::Failed,
                )
            })
    };
    let mut skipped = 0;
    let mut user_kubeconfig = None;

    // k3s and the images at the same time: pulling does not wait for k3s.
    if req.k3s.is_some() || req.pull.is_some() {
        let title = match (req.k3s.is_some(), req.pull.is_some()) {
            (true, true) => "k3s and images (in parallel)",
            (true, false) => "k3s",
            _ => "images",
        };
        let t = phases.start("k3s-images", title);
        let k3s_fut = async {
            match &req.k3s {
                Some(k) => crate::k3s::lifecycle::install(req.host, k, ui_k3s(phases.ui))
                    .await
                    .map(Some),
                None => Ok(None),
            }
        };
        let pull_fut = async {
            match &req.pull {
                Some(opts) => images(req, opts, &journal, phases.ui.pull.clone()).await.map(Some),
                None => Ok(None),
            }
        };
        let both = guarded(signals, async {
            let (k, i) = tokio::join!(k3s_fut, pull_fut);
            Ok((k?, i?))
        })
        .await;
        let (k3s, pulled) = match both {
            Ok(v) => v,
            Err(e) => {
                phases.failed("k3s-images", title, t, &e);
                return Err(e);
            }
        };
        let mut details = Vec::new();
        if let Some(k) = &k3s {
            skipped += usize::from(k.unchanged);
            user_kubeconfig = Some(k.kubeconfig.clone());
            details.push(format!(
                "k3s {} {}",
                k.version,
                if k.unchanged { "unchanged" } else { "installed" }
            ));
            save(
                &mut journal,
                "k3s",
                t,
                serde_json::json!({"version": k.version, "unchanged": k.unchanged}),
            )?;
        }
        if let Some((was_done, digests)) = &pulled {
            skipped += usize::from(*was_done);
            details.push(if *was_done {
                format!("{} images already in the store, as locked", digests.len())
            } else {
                format!("{} images pulled and locked", digests.len())
            });
            report.images.clone_from(digests);
            save(&mut journal, "images", t, serde_json::json!({"images": digests.len()}))?;
        }
        let all_skipped = k3s.as_ref().is_none_or(|k| k.unchanged) && pulled.as_ref().is_none_or(|p| p.0);
        phases.done("k3s-images", title, t, all_skipped, Some(&details.join("; ")));
    }

    // Hand the images to k3s and check each digest.
    if req.k3s.is_some() && req.pull.is_some() {
        let title = "import images into k3s";
        let t = phases.start("import", title);
        let result = guarded(signals, async { import_phase(req, phases.ui.line).await }).await;
        match result {
            Ok(imported) => {
                let was_done = imported.imported == 0;
                skipped += usize::from(was_done);
                save(
                    &mut journal,
                    "import",
                    t,
                    serde_json::json!({"digests": imported.digests}),
                )?;
                let mut detail = format!(
                    "{} imported, {} already there, all {} digests match the lock file",
                    imported.imported,
                    imported.already,
                    imported.digests.len()
                );
                if req.drop_store {
                    let freed = drop_store(req).map_err(|e| Report::new(e, Exit::Failed))?;
                    if freed > 0 {
                        detail.push_str(&format!(
                            "; image store dropped ({} freed)",
                            crate::profile::quantity::human_bytes(freed)
                        ));
                    }
                }
                phases.done("import", title, t, was_done, Some(&detail));
            }
            Err(e) => {
                phases.failed("import", title, t, &e);
                return Err(e);
            }
        }
    }

    if !req.deploy_stage {
        return Ok(Outcome {
            stage: None,
            user_kubeconfig,
            skipped,
        });
    }
    // Deploy, seed, check.
    let title = "deploy, seed and check DIGIT";
    let t = phases.start("deploy", title);
    let previous_hash = journal
        .get("deploy")
        .and_then(|e| e.verified["manifests_hash"].as_str().map(str::to_owned));
    let stage_req = stage::Request {
        profile: p,
        data_fs: req.data_fs,
        layout: req.layout,
        kubeconfig: req.kubeconfig.clone(),
        http: req.deploy.http.clone(),
        poll: req.deploy.poll,
        timeout: req.deploy.timeout,
        ingress_url: req.deploy.ingress_url.clone(),
        node_memory: req.deploy.node_memory,
        previous_hash,
        context: req.deploy.context.clone(),
        target: req.deploy.target.clone(),
        pull_auth: req.deploy.pull_auth.clone(),
    };
    let result = guarded(signals, stage::run(&stage_req, phases.ui.deploy)).await;
    let stage = match result {
        Ok(s) => s,
        Err(e) => {
            // A failed or interrupted deploy is re-applied next time.
            let _ = journal.forget(req.data_fs, &journal_path, "deploy");
            phases.failed("deploy", title, t, &e);
            return Err(e);
        }
    };
    skipped += usize::from(stage.unchanged);
    save(
        &mut journal,
        "deploy",
        t,
        serde_json::json!({"manifests_hash": stage.manifests_hash, "waves": stage.deploy.waves, "seeds": stage.deploy.seeds}),
    )?;
    let failed = stage.checks.iter().filter(|c| !c.ok).count();
    let detail = format!(
        "{}{} of {} checks passed",
        if stage.unchanged { "unchanged and ready; " } else { "" },
        stage.checks.len() - failed,
        stage.checks.len()
    );
    phases.done("deploy", title, t, stage.unchanged, Some(&detail));
    Ok(Outcome {
        stage: Some(stage),
        user_kubeconfig,
        skipped,
    })
}

fn ui_k3s<'a>(ui: &'a Ui<'_>) -> &'a (dyn Fn(crate::k3s::lifecycle::Progress) + Sync) {
    ui.k3s
}

/// Pulls unless the journal and the store say every locked blob is here
/// already (no network then). Returns (skipped, reference -> digest).
async fn images(
    req: &Request<'_>,
    opts: &PullOptions,
    journal: &Journal,
    reporter: Arc<dyn Reporter>,
) -> Result<(bool, BTreeMap<String, String>), Report> {
    let p = req.profile;
    let refs: Vec<ImageRef> = p.images().into_iter().map(|i| i.reference.clone()).collect();
    let lock_path = req.layout.lock_file(&p.name);
    let store = Store::new(req.layout.store());
    // Every locked blob already in the store (written only after its hash
    // matched, or moved from a verified bundle): nothing to fetch.
    let _ = journal;
    store
        .settle(req.host.sys.boot_id().as_deref())
        .map_err(|e| Report::msg(format!("could not check the image store: {e}"), Exit::Failed))?;
    let dropped = req
        .data_fs
        .read_to_string(&lock_path)
        .is_ok_and(|t| store.dropped_after(&crate::k3s::artifacts::sha256_hex(t.as_bytes())));
    if let Ok(Some(lock)) = LockFile::read(&lock_path)
        && (complete(&lock, &refs, &store).await
            || (dropped && refs.iter().all(|r| lock.images.contains_key(r.as_str()))))
    {
        let digests = refs
            .iter()
            .map(|r| (r.as_str().to_owned(), lock.images[r.as_str()].digest.clone()))
            .collect();
        return Ok((true, digests));
    }
    let puller = Arc::new(Puller::new(opts.clone(), store, reporter));
    let (resolved, _summary) = puller.pull(&refs).await.map_err(|e| Report::new(e, Exit::Failed))?;
    lock_for(&p.name, &opts.platform, &resolved)
        .write(&lock_path)
        .map_err(|e| Report::new(e, Exit::Failed))?;
    Ok((
        false,
        resolved
            .iter()
            .map(|r| (r.image.as_str().to_owned(), r.locked.digest.clone()))
            .collect(),
    ))
}

/// Deletes the image store's blobs once containerd has checked copies;
/// returns the bytes freed.
fn drop_store(req: &Request<'_>) -> Result<u64, crate::error::IoError> {
    let lock_path = req.layout.lock_file(&req.profile.name);
    let lock = req
        .data_fs
        .read_to_string(&lock_path)
        .map_err(|source| crate::error::IoError {
            action: "read the lock file",
            path: lock_path.clone(),
            source,
        })?;
    let store = req.layout.store();
    Store::new(&store)
        .drop_blobs(&crate::k3s::artifacts::sha256_hex(lock.as_bytes()))
        .map_err(|source| crate::error::IoError {
            action: "drop the image store",
            path: store,
            source,
        })
}

/// Every image locked and every blob it names present in the store.
async fn complete(lock: &LockFile, refs: &[ImageRef], store: &Store) -> bool {
    for r in refs {
        let Some(l) = lock.images.get(r.as_str()) else {
            return false;
        };
        let mut digests = vec![&l.digest, &l.manifest.digest, &l.config.digest];
        digests.extend(l.layers.iter().map(|d| &d.digest));
        for d in digests {
            if !store.has(d).await {
                return false;
            }
        }
    }
    true
}

async fn import_phase(req: &Request<'_>, line: &(dyn Fn(&str) + Sync)) -> Result<import::Imported, Report> {
    let p = req.profile;
    let lock = LockFile::read(&req.layout.lock_file(&p.name))
        .map_err(|e| Report::new(e, Exit::Failed))?
        .ok_or_else(|| Report::msg("the lock file is missing after the pull", Exit::Failed))?;
    let refs: Vec<ImageRef> = p.images().into_iter().map(|i| i.reference.clone()).collect();
    let store = Store::new(req.layout.store());
    let total = refs.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let result = import::import(&req.ctr, req.host.cmd.as_ref(), &store, &lock, &refs, &|m| {
        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        tracing::info!("{m}");
        line(&format!("  {m} ({n}/{total})"));
    });
    result.map_err(|e| Report::new(e, Exit::Failed))
}
