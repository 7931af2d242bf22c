//! `install`: k3s, then the DIGIT deploy (seed, health, smoke, banner);
//! `--only k3s` or `--only deploy` runs one stage.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::Settings;
use crate::error::{Exit, Report};
use crate::host::Host;
use crate::install::report::RunReport;
use crate::k3s::lifecycle::{self, Progress, Request};
use crate::k3s::render::{K3sSettings, PROXY_VARS, node_name};
use crate::ui::{Printer, Prompter};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Stage {
    K3s,
    /// Deploy DIGIT into an existing cluster (k3s's, or --kubeconfig)
    Deploy,
}

#[derive(Clone, Debug, Args)]
pub struct InstallArgs {
    /// Run only this stage
    #[arg(long, value_enum)]
    pub only: Option<Stage>,

    /// Take the k3s binary and air-gap images from this directory (still verified)
    #[arg(long, value_name = "DIR")]
    pub k3s_artifacts: Option<PathBuf>,

    /// Let k3s pull docker.io images from this mirror (written to registries.yaml)
    #[arg(long, value_name = "URL")]
    pub registry_mirror: Option<String>,

    /// Docker Hub credentials for k3s, in Docker's config.json format
    #[arg(long, value_name = "FILE")]
    pub registry_auth_file: Option<PathBuf>,

    /// Go on although these host checks fail (comma-separated ids)
    #[arg(long, value_name = "NAME[,NAME]", value_delimiter = ',')]
    pub ignore_check: Vec<String>,

    #[command(flatten)]
    pub cluster: super::cluster::ClusterArgs,

    /// Push the locked images to this registry (`host[:port][/prefix]`) and
    /// deploy them from there by digest; credentials from Docker's config
    #[arg(long, value_name = "REGISTRY", requires = "kubeconfig")]
    pub registry: Option<String>,

    /// Speak plain HTTP to the --registry (a registry on a trusted LAN)
    #[arg(long, requires = "registry")]
    pub registry_plain_http: bool,

    /// Seconds to wait for each component before diagnosing it (default: per component)
    #[arg(long, value_name = "SECS", hide = true)]
    pub wait_timeout: Option<u64>,

    /// Also write the run's JSON report here (it is always in the data dir)
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Blobs downloaded at the same time
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,

    /// A `digit-quickstart serve` on the LAN: images, k3s and seed files from there (still verified)
    #[arg(long, value_name = "URL", conflicts_with = "registry_mirror")]
    pub mirror: Option<String>,

    /// Install from this offline bundle (verified first; no network is used)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["registry_mirror", "k3s_artifacts", "mirror"])]
    pub bundle: Option<PathBuf>,

    /// Where this run's files came from, when a bundle already decided it.
    #[arg(skip)]
    pub source: Option<String>,

    /// k3s and images only (prepare-golden without DIGIT).
    #[arg(skip)]
    pub no_deploy: bool,

    /// Once k3s has every image (digests checked), delete the image store to
    /// free its space. You lose: `bundle create` and `serve` (they copy from
    /// it), and `reset --redeploy` or a re-import without network (the images
    /// would be fetched again); k3s keeps running from its own copy
    #[arg(long)]
    pub drop_store: bool,

    /// Where the deploy goes, when the caller already decided it.
    #[arg(skip)]
    pub target: Option<crate::deploy::manifests::target::Target>,
}

pub fn run(s: &Settings, args: &InstallArgs, host: &Host, printer: &mut Printer) -> Result<Exit, Report> {
    let runtime = super::runtime()?;
    let http = crate::host::net::http_client(Duration::from_secs(60))
        .map_err(|e| Report::msg(format!("could not set up HTTPS: {e}"), Exit::Failed))?;
    if let Some(file) = &args.bundle {
        return from_bundle(s, args, host, printer, file);
    }
    if args.only == Some(Stage::K3s) {
        return k3s_only(s, args, host, printer, &runtime, http);
    }
    let started = crate::logging::stamp(host.clock.now());
    let source = match (&args.source, &args.mirror, &args.registry_mirror) {
        (Some(b), _, _) => b.clone(),
        (_, Some(m), _) => format!("mirror {m}"),
        (_, _, Some(r)) => format!("registry mirror {r}"),
        _ => "docker-hub and the pinned URLs".to_owned(),
    };
    if args.cluster.kubeconfig.is_some() && args.target.is_none() {
        return into_cluster(s, args, host, printer, &runtime);
    }
    if args.only == Some(Stage::Deploy) {
        let profile = crate::profile::load(&s.profile, &super::check::user_files())?;
        if !prompter(s).confirm(&format!(
            "Deploy DIGIT {} ({} components) into namespace {}?",
            profile.digit.release,
            profile.components.len(),
            profile.namespace
        ))? {
            printer.note("Nothing was changed.");
            return Ok(Exit::Success);
        }
        let kubeconfig = args.cluster.kubeconfig.clone().unwrap_or_else(|| {
            host.fs
                .real_path(std::path::Path::new(crate::k3s::kubeconfig::K3S_KUBECONFIG))
        });
        let mut report = RunReport::new(&profile, started, source);
        return orchestrate(
            s,
            args,
            host,
            printer,
            &runtime,
            http,
            &profile,
            kubeconfig,
            None,
            None,
            &mut report,
        );
    }
    let (mut profile, facts, pre) = super::check::evaluate(s, &args.ignore_check, true, None, host, printer)?;
    if let Some(url) = &args.mirror {
        use_mirror(&mut profile, url);
    }
    let _ = super::check::save_preflight(s, host, &profile, &facts, &pre);
    let mut report = RunReport::new(&profile, started, source);
    report.host = Some(facts.clone());
    report.preflight = Some(pre.clone());
    stop_on_failed_checks(&pre)?;
    if let Some(c) = pre.checks.iter().find(|c| c.id == "sizing") {
        printer.note(&c.summary);
    }
    let question = format!(
        "Install k3s {} as a systemd service, pull {} images into {} and deploy DIGIT {} ({} components) on this host?",
        profile.k3s.version,
        profile.images().len(),
        s.layout.store().display(),
        profile.digit.release,
        profile.components.len()
    );
    if !prompter(s).confirm(&question)? {
        printer.note("Nothing was changed.");
        return Ok(Exit::Success);
    }
    let k3s_req = k3s_request(args, host, &profile, &facts, &s.layout, http.clone())?;
    let pull = super::pull::pull_options(
        host,
        "linux/amd64"
            .parse()
            .map_err(|e: String| Report::msg(e, Exit::Failed))?,
        usize::from(args.jobs),
        None,
        args.registry_mirror.as_deref().or(args.mirror.as_deref()),
        Vec::new(),
        args.registry_auth_file.as_deref(),
    )?;
    let root_kubeconfig = host
        .fs
        .real_path(std::path::Path::new(crate::k3s::kubeconfig::K3S_KUBECONFIG));
    orchestrate(
        s,
        args,
        host,
        printer,
        &runtime,
        http,
        &profile,
        root_kubeconfig,
        Some((k3s_req, pull)),
        Some(facts.memory.total),
        &mut report,
    )
}

/// `install --kubeconfig`: the cluster's checks, the images pushed when
/// `--registry` names one, then the same deploy, seeds, health and banner.
fn into_cluster(
    s: &Settings,
    args: &InstallArgs,
    host: &Host,
    printer: &mut Printer,
    runtime: &tokio::runtime::Runtime,
) -> Result<Exit, Report> {
    if args.only == Some(Stage::K3s) {
        return Err(Report::msg(
            "--only k3s installs k3s here; --kubeconfig names another cluster",
            Exit::Usage,
        )
        .with_hint("use one or the other"));
    }
    let kubeconfig = args.cluster.kubeconfig.clone().unwrap_or_default();
    let mut e = super::cluster::evaluate(s, &args.cluster, &kubeconfig, &args.ignore_check, runtime)?;
    super::cluster::print(s, &e, false, printer);
    super::cluster::stop_on_failed(&e.checks)?;
    let question = format!(
        "Deploy DIGIT {} ({} components) into namespace {} of the cluster in {}{}?",
        e.profile.digit.release,
        e.profile.components.len(),
        e.profile.namespace,
        kubeconfig.display(),
        args.registry
            .as_deref()
            .map(|r| format!(", with the images pushed to {r}"))
            .unwrap_or_default()
    );
    if !prompter(s).confirm(&question)? {
        printer.note("Nothing was changed.");
        return Ok(Exit::Success);
    }
    if let Some(registry) = &args.registry {
        e.target = with_registry(s, args, host, printer, registry, e.target)?;
    }
    let inner = InstallArgs {
        only: Some(Stage::Deploy),
        target: Some(e.target),
        ..args.clone()
    };
    run(s, &inner, host, printer)
}

/// Pushes the locked images and points the deploy at them.
fn with_registry(
    s: &Settings,
    args: &InstallArgs,
    host: &Host,
    printer: &mut Printer,
    registry: &str,
    mut target: crate::deploy::manifests::target::Target,
) -> Result<crate::deploy::manifests::target::Target, Report> {
    let registry = registry
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .trim_end_matches('/');
    // The store first (a no-op when every locked blob is there).
    let pull = super::pull::PullArgs {
        images: Vec::new(),
        platform: "linux/amd64".into(),
        locked: false,
        verify: false,
        jobs: args.jobs,
        registry_mirror: args.registry_mirror.clone().or_else(|| args.mirror.clone()),
        insecure_registry: Vec::new(),
        registry_auth_file: args.registry_auth_file.clone(),
        export: None,
        import: false,
    };
    let code = super::pull::run(s, &pull, host, printer)?;
    if code != Exit::Success {
        return Err(Report::msg("the images could not be pulled into the local store", code));
    }
    let summary = super::images::push(
        s,
        registry,
        args.registry_plain_http,
        args.registry_auth_file.as_deref(),
        4,
        host,
        printer,
    )?;
    printer.note(&super::images::summary_line(&summary));
    target.pull_secret = super::cluster::pull_auth(host, args.registry_auth_file.as_deref(), registry)?.is_some();
    target.registry = Some(registry.to_owned());
    Ok(target)
}

fn prompter(s: &Settings) -> Prompter {
    Prompter {
        yes: s.yes,
        stdin_tty: s.term.stdin,
        stderr_tty: s.term.stderr,
    }
}

fn k3s_request<'a>(
    args: &InstallArgs,
    host: &Host,
    profile: &'a crate::profile::Profile,
    facts: &'a crate::host::facts::HostFacts,
    layout: &'a crate::layout::Layout,
    http: reqwest::Client,
) -> Result<Request<'a>, Report> {
    let auth = super::check::registry_auth(host, args.registry_auth_file.as_deref())?;
    let settings = K3sSettings {
        node_name: node_name(&facts.hostname),
        disable: profile.k3s.disable.clone(),
        mirror: args.registry_mirror.clone().or_else(|| args.mirror.clone()),
        docker_hub: auth.for_registry("docker.io").cloned(),
        proxy_env: PROXY_VARS
            .iter()
            .filter_map(|k| host.env.var(k).map(|v| ((*k).to_owned(), v)))
            .collect(),
    };
    Ok(Request {
        profile,
        layout,
        arch: &facts.arch,
        settings,
        artifacts_from: args.k3s_artifacts.clone(),
        http,
        poll: Duration::from_secs(2),
        timeout: None,
    })
}

fn k3s_only(
    s: &Settings,
    args: &InstallArgs,
    host: &Host,
    printer: &mut Printer,
    runtime: &tokio::runtime::Runtime,
    http: reqwest::Client,
) -> Result<Exit, Report> {
    let (profile, facts, pre) = super::check::evaluate(s, &args.ignore_check, true, None, host, printer)?;
    stop_on_failed_checks(&pre)?;
    if !prompter(s).confirm(&format!(
        "Install k3s {} as a systemd service on this host?",
        profile.k3s.version
    ))? {
        printer.note("Nothing was changed.");
        return Ok(Exit::Success);
    }
    let req = k3s_request(args, host, &profile, &facts, &s.layout, http)?;
    let display = crate::ui::k3s::K3sProgress::new(printer.animate, printer.quiet);
    let progress = |p: Progress| display.event(&p);
    let result = runtime.block_on(lifecycle::install(host, &req, &progress));
    display.finish();
    let outcome = result?;
    if s.output == crate::ui::Output::Json {
        printer.json(&outcome);
        return Ok(Exit::Success);
    }
    if outcome.unchanged {
        printer.out(&format!("k3s {} unchanged", outcome.version));
    } else {
        printer.out(&format!("k3s {} is installed and ready", outcome.version));
    }
    printer.out(&format!("export KUBECONFIG={}", outcome.kubeconfig.display()));
    Ok(Exit::Success)
}

/// `k3s ctr`, or the test override (a containerd of the test's own).
pub(super) fn ctr_command(host: &Host) -> Vec<String> {
    match host.env.var(crate::env_vars::CTR) {
        Some(v) if !v.trim().is_empty() => v.split_whitespace().map(str::to_owned).collect(),
        _ => vec![
            host.fs
                .real_path(std::path::Path::new(crate::k3s::BINARY))
                .display()
                .to_string(),
            "ctr".to_owned(),
        ],
    }
}

#[allow(clippy::too_many_arguments)]
fn orchestrate(
    s: &Settings,
    args: &InstallArgs,
    host: &Host,
    printer: &mut Printer,
    runtime: &tokio::runtime::Runtime,
    http: reqwest::Client,
    profile: &crate::profile::Profile,
    kubeconfig: PathBuf,
    k3s_and_pull: Option<(Request<'_>, crate::images::engine::PullOptions)>,
    node_memory: Option<u64>,
    report: &mut RunReport,
) -> Result<Exit, Report> {
    use crate::ui::pull::{Mode, PullProgress};
    let data_fs = super::check::user_files();
    let poll = host
        .env
        .var(crate::env_vars::POLL_MS)
        .and_then(|v| v.parse().ok())
        .map_or(Duration::from_secs(3), Duration::from_millis);
    let json = s.output == crate::ui::Output::Json;
    let mode = match (json, printer.quiet, printer.animate) {
        (true, _, _) => Mode::Json,
        (_, true, _) => Mode::Quiet,
        (_, _, true) => Mode::Bars,
        _ => Mode::Lines,
    };
    let pull_display = std::sync::Arc::new(PullProgress::new(mode));
    let sink_target = pull_display.clone();
    let k3s_display = crate::ui::k3s::K3sProgress::beside(
        printer.quiet || json,
        std::sync::Arc::new(move |line: &str| sink_target.println(line)),
    );
    let deploy_display = crate::ui::deploy::DeployProgress::new(printer.animate, printer.quiet || json);
    let phase_list = crate::ui::install::PhaseList {
        json,
        quiet: printer.quiet,
        color: printer.color_err,
    };
    let on_phase = |e: crate::install::PhaseEvent| phase_list.event(&e);
    let on_k3s = |p: Progress| k3s_display.event(&p);
    let on_deploy = |p: crate::deploy::run::Progress| deploy_display.event(&p);
    let on_line = |text: &str| phase_list.line(text);
    let ui = crate::install::Ui {
        phase: &on_phase,
        k3s: &on_k3s,
        pull: pull_display.clone(),
        deploy: &on_deploy,
        line: &on_line,
    };
    let (k3s, pull) = match k3s_and_pull {
        Some((k, p)) => (Some(k), Some(p)),
        None => (None, None),
    };
    let target = args
        .target
        .clone()
        .unwrap_or_else(|| crate::deploy::saved_target(&data_fs, &s.layout));
    if !args.no_deploy {
        crate::deploy::save_target(&data_fs, &s.layout, &target).map_err(|source| {
            Report::new(
                crate::error::IoError {
                    action: "record where the deploy goes",
                    path: s.layout.target(),
                    source,
                },
                Exit::Failed,
            )
        })?;
    }
    let req = crate::install::Request {
        host,
        data_fs: &data_fs,
        profile,
        layout: &s.layout,
        k3s,
        kubeconfig,
        pull,
        ctr: ctr_command(host),
        deploy: crate::install::DeployKnobs {
            http,
            poll,
            timeout: args.wait_timeout.map(Duration::from_secs),
            ingress_url: host.env.var(crate::env_vars::INGRESS_URL),
            node_memory,
            context: args.cluster.context.clone(),
            pull_auth: match &target.registry {
                Some(r) if target.pull_secret => {
                    super::cluster::pull_auth(host, args.registry_auth_file.as_deref(), r)?
                }
                _ => None,
            },
            target,
        },
        deploy_stage: !args.no_deploy,
        drop_store: args.drop_store,
    };
    let result = runtime.block_on(crate::install::run(&req, &ui, report));
    pull_display.clear();
    k3s_display.finish();
    deploy_display.finish();
    report.finished_at = crate::logging::stamp(host.clock.now());
    report.log_file = s.log_file.as_ref().map(|p| p.display().to_string());
    let exit = match &result {
        Ok(crate::install::Outcome { stage: None, .. }) => {
            report.result = "images-ready".into();
            Exit::Success
        }
        Ok(crate::install::Outcome {
            stage: Some(stage),
            user_kubeconfig,
            ..
        }) => {
            report.result = if stage.healthy() { "healthy" } else { "unhealthy" }.into();
            report.checks.clone_from(&stage.checks);
            report.endpoints = Some(crate::install::report::Endpoints {
                url: stage.url.clone(),
                login_url: stage.login_url.clone(),
                username: stage.username.clone(),
                kubeconfig: user_kubeconfig.as_ref().map(|p| p.display().to_string()),
            });
            if stage.healthy() {
                Exit::Success
            } else {
                Exit::CheckFailed
            }
        }
        Err(e) => {
            report.result = if e.exit == Exit::Interrupted {
                "interrupted"
            } else {
                "failed"
            }
            .into();
            report.error = Some(e.chain().join(": "));
            e.exit
        }
    };
    let written = write_report(&data_fs, &s.layout.report(), args.report.as_deref(), report);
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            let e = match &written {
                Ok(()) => e.with_hint(format!("the run's report is {}", s.layout.report().display())),
                Err(_) => e,
            };
            return Err(e);
        }
    };
    written?;
    let Some(stage) = outcome.stage else {
        printer.out("k3s is running and every image is imported; DIGIT was not deployed");
        return Ok(exit);
    };
    if stage.healthy() {
        // What `upgrade` starts from next time.
        if let Ok((text, origin)) = crate::profile::source_text(&s.profile, &data_fs) {
            let stamp = crate::logging::stamp(host.clock.now());
            let mut record = crate::upgrade::record_of(&data_fs, &s.layout, profile, &text, &stamp);
            record.origin = origin;
            let path = crate::upgrade::record_path(&s.layout, crate::upgrade::CURRENT);
            crate::upgrade::save(&data_fs, &s.layout, crate::upgrade::CURRENT, &record).map_err(|source| {
                Report::new(
                    crate::error::IoError {
                        action: "record what was installed",
                        path,
                        source,
                    },
                    Exit::Failed,
                )
            })?;
        }
    }
    if json {
        // One line, like every other event of the stream.
        let result = serde_json::json!({"event": "result", "outcome": stage, "skipped_steps": outcome.skipped, "report": s.layout.report()});
        printer.out(&result.to_string());
        return Ok(exit);
    }
    if outcome.skipped > 0 {
        printer.note(&format!(
            "skipped {} completed steps (each re-checked and still true)",
            outcome.skipped
        ));
    }
    let mut text = crate::ui::render::banner(&stage, outcome.user_kubeconfig.as_deref(), printer.color_out);
    text.push_str(&format!("  Report    {}\n", s.layout.report().display()));
    if let Some(log) = &s.log_file {
        text.push_str(&format!("  Log       {}\n", log.display()));
    }
    printer.out(text.trim_end());
    Ok(exit)
}

fn write_report(
    fs: &dyn crate::host::Fs,
    path: &std::path::Path,
    extra: Option<&std::path::Path>,
    report: &RunReport,
) -> Result<(), Report> {
    let text = serde_json::to_string_pretty(report).map_err(|e| Report::msg(e.to_string(), Exit::Failed))?;
    for p in std::iter::once(path).chain(extra) {
        if let Some(dir) = p.parent() {
            let _ = fs.create_dir_all(dir);
        }
        fs.write_atomic(p, text.as_bytes(), 0o644).map_err(|source| {
            Report::new(
                crate::error::IoError {
                    action: "write the report",
                    path: p.to_path_buf(),
                    source,
                },
                Exit::Failed,
            )
        })?;
    }
    Ok(())
}

/// `reset --redeploy`: the deploy stage alone, from the local cache (seed
/// files verified against their pins, images already in containerd).
pub(super) fn redeploy(
    s: &Settings,
    host: &Host,
    printer: &mut Printer,
    profile: &crate::profile::Profile,
    kubeconfig: PathBuf,
) -> Result<Exit, Report> {
    let runtime = super::runtime()?;
    let http = crate::host::net::http_client(Duration::from_secs(60))
        .map_err(|e| Report::msg(format!("could not set up HTTPS: {e}"), Exit::Failed))?;
    let args = InstallArgs {
        only: Some(Stage::Deploy),
        k3s_artifacts: None,
        registry_mirror: None,
        registry_auth_file: None,
        ignore_check: Vec::new(),
        cluster: super::cluster::ClusterArgs::default(),
        registry: None,
        registry_plain_http: false,
        target: None,
        wait_timeout: None,
        report: None,
        jobs: 8,
        bundle: None,
        mirror: None,
        source: None,
        no_deploy: false,
        drop_store: false,
    };
    let mut report = RunReport::new(profile, crate::logging::stamp(host.clock.now()), "local".into());
    orchestrate(
        s,
        &args,
        host,
        printer,
        &runtime,
        http,
        profile,
        kubeconfig,
        None,
        None,
        &mut report,
    )
}

/// `install --bundle FILE`: every member verified while it is unpacked into
/// a staging dir; only then moved into the store and caches, and the normal
/// install runs from them (k3s artifacts from the cache, images already in
/// the store, seed files cached), so it opens no connection to anything.
fn from_bundle(
    s: &Settings,
    args: &InstallArgs,
    host: &Host,
    printer: &mut Printer,
    file: &std::path::Path,
) -> Result<Exit, Report> {
    let staging = s.layout.data_dir().join("bundle-staging");
    let _ = std::fs::remove_dir_all(&staging);
    printer.note(&format!("verifying {} ...", file.display()));
    let manifest = crate::bundle::verify(file, Some(&staging), &|_| {}).map_err(|e| {
        let _ = std::fs::remove_dir_all(&staging);
        Report::new(e, Exit::Failed)
    })?;
    let profile_file =
        crate::bundle::adopt(&staging, &s.layout, &manifest).map_err(|e| Report::new(e, Exit::Failed))?;
    printer.note(&format!(
        "bundle verified: {} members match its manifest; installing from it",
        manifest.members.len()
    ));
    let profile = crate::profile::load(
        &crate::profile::ProfileSource::File(profile_file.clone()),
        &super::check::user_files(),
    )?;
    let settings = Settings {
        profile: crate::profile::ProfileSource::File(profile_file),
        layout: s.layout.clone(),
        output: s.output,
        yes: s.yes,
        verbose: s.verbose,
        term: s.term,
        log_file: s.log_file.clone(),
    };
    let inner = InstallArgs {
        only: args.only,
        k3s_artifacts: Some(s.layout.k3s_cache(&profile.k3s.version)),
        registry_mirror: None,
        registry_auth_file: None,
        ignore_check: args.ignore_check.clone(),
        cluster: args.cluster.clone(),
        registry: args.registry.clone(),
        registry_plain_http: args.registry_plain_http,
        target: args.target.clone(),
        wait_timeout: args.wait_timeout,
        report: args.report.clone(),
        jobs: args.jobs,
        bundle: None,
        mirror: None,
        source: Some(format!("bundle {}", file.display())),
        no_deploy: args.no_deploy,
        drop_store: args.drop_store,
    };
    run(&settings, &inner, host, printer)
}

/// Everything from a `serve` mirror: k3s artifacts and seed files by the
/// paths `serve` publishes (the pins stay, so every byte is still verified).
pub(crate) fn use_mirror(profile: &mut crate::profile::Profile, url: &str) {
    let base = url.trim_end_matches('/');
    profile.k3s.url_template = format!("{base}/k3s/{{version}}/{{artifact}}");
    for seed in &mut profile.seeds {
        let file = match &mut seed.action {
            crate::profile::SeedAction::File(f) => Some(f),
            crate::profile::SeedAction::Api { file, .. } => file.as_mut(),
            crate::profile::SeedAction::Job(_) => None,
        };
        if let Some(f) = file
            && let crate::profile::Sha256Pin::Pinned(h) = &f.sha256
        {
            f.url = format!("{base}/seed/{h}-{}", crate::deploy::manifests::seed_file_name(&f.url));
        }
    }
}

/// Install stops when a host check failed (unless `--ignore-check` named it).
fn stop_on_failed_checks(pre: &crate::preflight::Preflight) -> Result<(), Report> {
    if !pre.failed() {
        return Ok(());
    }
    let failed: Vec<&str> = pre
        .checks
        .iter()
        .filter(|c| c.status == crate::preflight::Status::Fail)
        .map(|c| c.id.as_str())
        .collect();
    Err(
        Report::msg(format!("host checks failed: {}", failed.join(", ")), Exit::CheckFailed)
            .with_hint("`digit-quickstart check` explains each one; --ignore-check NAME goes on regardless"),
    )
}
