//! `check`: host preflight.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use serde::Serialize;

use super::Settings;
use crate::error::{Exit, IoError, Report};
use crate::host::facts::{self, FactsRequest, HostFacts};
use crate::host::{Endpoint, Fs as _, Host};
use crate::layout::RANCHER_DIR;
use crate::preflight::{self, CheckResult, Counts, Preflight, Sizing};
use crate::profile::{self, Profile};
use crate::ui::{Output, Printer, Spinner};

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Turn the named failing checks into warnings (comma-separated ids, e.g. `swap,port-80`)
    #[arg(long, value_name = "NAME[,NAME]", value_delimiter = ',')]
    pub ignore_check: Vec<String>,

    /// Skip the DNS and HTTPS reachability probes (and the image check)
    #[arg(long)]
    pub offline: bool,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// Check this cluster instead of the host (`install --kubeconfig`)
    #[command(flatten)]
    pub cluster: super::cluster::ClusterArgs,
}

/// Where `check` and `plan` look the images up (as `pull` would fetch them).
#[derive(Debug, Default, Args)]
pub struct RegistryArgs {
    /// Check docker.io images on this mirror (same repository paths), e.g. http://trainer:5000
    #[arg(long, value_name = "URL")]
    pub registry_mirror: Option<String>,

    /// Speak plain HTTP to this registry host (repeatable)
    #[arg(long, value_name = "HOST")]
    pub insecure_registry: Vec<String>,

    /// Registry credentials in Docker's config.json format (default: Docker's own)
    #[arg(long, value_name = "FILE")]
    pub registry_auth_file: Option<PathBuf>,
}

impl RegistryArgs {
    pub(super) fn options(&self, host: &Host) -> Result<crate::images::engine::PullOptions, Report> {
        super::pull::pull_options(
            host,
            crate::images::engine::Platform {
                os: "linux".into(),
                arch: "amd64".into(),
                variant: None,
            },
            8,
            None,
            self.registry_mirror.as_deref(),
            self.insecure_registry.clone(),
            self.registry_auth_file.as_deref(),
        )
    }
}

/// The JSON document `check` prints and saves.
#[derive(Serialize)]
struct CheckDocument<'a> {
    schema: u32,
    binary_version: &'static str,
    generated_at_unix: u64,
    profile: ProfileSummary<'a>,
    result: &'static str,
    counts: Counts,
    checks: &'a [CheckResult],
    sizing: &'a Sizing,
    host: &'a HostFacts,
}

#[derive(Serialize)]
pub(super) struct ProfileSummary<'a> {
    name: &'a str,
    origin: &'a str,
    digit_release: &'a str,
    k3s_version: &'a str,
}

/// Files the user names (profile, facts override) are read as given, not
/// below `--root`, which re-roots only the system's own paths.
pub(super) fn user_files() -> crate::host::RealFs {
    crate::host::RealFs::new("/")
}

/// Registry credentials: the named file, else Docker's usual places.
pub(super) fn registry_auth(host: &Host, file: Option<&Path>) -> Result<crate::images::auth::AuthFile, Report> {
    crate::images::auth::AuthFile::load(
        file,
        host.env.var(crate::env_vars::DOCKER_CONFIG).as_deref(),
        host.env.var(crate::env_vars::HOME).as_deref(),
    )
    .map_err(|e| Report::new(e, Exit::Usage))
}

pub(super) fn summary(p: &Profile) -> ProfileSummary<'_> {
    ProfileSummary {
        name: &p.name,
        origin: &p.origin,
        digit_release: &p.digit.release,
        k3s_version: &p.k3s.version,
    }
}

pub fn run(s: &Settings, args: &CheckArgs, host: &Host, printer: &mut Printer) -> Result<Exit, Report> {
    if args.cluster.kubeconfig.is_some() {
        return super::cluster::check(s, &args.cluster, &args.ignore_check, printer);
    }
    let probe = args.registry.options(host)?;
    let (profile, facts, pre) = evaluate(s, &args.ignore_check, args.offline, Some(&probe), host, printer)?;
    // One document, printed and saved: the same bytes either way.
    let doc = document(host, &profile, &facts, &pre);
    let saved = save_json(&s.layout.preflight(), &doc);
    match s.output {
        Output::Json => printer.json(&doc),
        Output::Human => {
            let text = crate::ui::render::check_report(&profile, &facts.hostname, &pre, printer.color_out);
            printer.out(text.trim_end());
        }
    }
    match saved {
        Ok(path) => printer.note(&format!("Results saved to {}", path.display())),
        Err(e) => printer.warn(&format!("results not saved: {}", Report::from(e).chain().join(": "))),
    }
    Ok(if pre.failed() { Exit::CheckFailed } else { Exit::Success })
}

/// Shared by `check` and `plan`: profile, facts, preflight.
pub(super) fn evaluate(
    s: &Settings,
    ignore: &[String],
    offline: bool,
    images: Option<&crate::images::engine::PullOptions>,
    host: &Host,
    printer: &mut Printer,
) -> Result<(Profile, HostFacts, Preflight), Report> {
    let profile = profile::load(&s.profile, &user_files())?;
    let known = preflight::check_ids(&profile);
    if let Some(bad) = ignore.iter().find(|i| !known.contains(i)) {
        return Err(
            Report::msg(format!("--ignore-check: unknown check `{bad}`"), Exit::Usage)
                .with_hint(format!("check names: {}", known.join(", "))),
        );
    }
    let mut facts = host_facts(s, &profile, offline, host, printer)?;
    // Host facts read from a file (DIGIT_QUICKSTART_HOST_FACTS) say what
    // they say about the network too: nothing is probed.
    let from_file = host.env.var(crate::env_vars::HOST_FACTS).is_some();
    if let Some(opts) = images.filter(|_| !offline && !from_file) {
        facts.images = Some(probe_images(s, &profile, &facts, opts)?);
    }
    let pre = preflight::evaluate(&facts, &profile, ignore);
    Ok((profile, facts, pre))
}

pub(super) fn host_facts(
    s: &Settings,
    profile: &Profile,
    offline: bool,
    host: &Host,
    printer: &mut Printer,
) -> Result<HostFacts, Report> {
    if let Some(path) = host.env.var(crate::env_vars::HOST_FACTS) {
        let text = user_files()
            .read_to_string(Path::new(&path))
            .map_err(|source| IoError {
                action: "read host facts from",
                path: PathBuf::from(&path),
                source,
            })?;
        let mut facts: HostFacts = serde_json::from_str(&text).map_err(|e| {
            Report::msg(
                format!(
                    "{} names `{path}`, which is not valid host facts: {e}",
                    crate::env_vars::HOST_FACTS
                ),
                Exit::Usage,
            )
        })?;
        // These describe the image store, not the host: always from the data dir.
        store_facts(s, profile, host, &mut facts);
        return Ok(facts);
    }
    let req = FactsRequest {
        data_dir: s.layout.data_dir.clone(),
        rancher_dir: PathBuf::from(RANCHER_DIR),
        ports: profile.host.ports.clone(),
        endpoints: if offline { Vec::new() } else { endpoints(profile) },
        network_timeout: Duration::from_secs(5),
        quota_url: (!offline && profile.images().iter().any(|i| i.reference.registry() == "docker.io"))
            .then(|| crate::images::ratelimit::DOCKER_HUB_PROBE.to_owned()),
    };
    let message = if offline {
        "Inspecting the host"
    } else {
        "Inspecting the host and probing the network"
    };
    if !printer.animate {
        printer.note(&format!("{message}..."));
    }
    let spinner = Spinner::start(printer.animate, message);
    let mut facts = facts::gather(host, &req);
    spinner.finish();
    store_facts(s, profile, host, &mut facts);
    Ok(facts)
}

/// One manifest HEAD per image (the lock's digests once there is a lock).
fn probe_images(
    s: &Settings,
    profile: &Profile,
    facts: &HostFacts,
    opts: &crate::images::engine::PullOptions,
) -> Result<crate::images::probe::ImagesProbe, Report> {
    let images: Vec<crate::profile::ImageRef> = profile.images().iter().map(|i| i.reference.clone()).collect();
    if opts.mirror.is_none() && !facts::registry_resolved(facts.network.as_deref()) {
        return Ok(crate::images::probe::ImagesProbe {
            registry: "docker.io".to_owned(),
            checked: images.len(),
            unreachable: Some("registry-1.docker.io does not resolve (see registry-dns)".to_owned()),
            ..Default::default()
        });
    }
    let lock = crate::images::lock::LockFile::read(&s.layout.lock_file(&profile.name))
        .ok()
        .flatten();
    let runtime = super::runtime()?;
    Ok(runtime.block_on(crate::images::probe::probe(opts, &images, lock.as_ref())))
}

/// What an earlier pull left, read once: how many Docker Hub manifests the
/// install still has to fetch (each costs one pull of the quota), and the
/// distinct blob bytes when the lock file covers every image of the profile.
fn store_facts(s: &Settings, profile: &Profile, host: &Host, facts: &mut HostFacts) {
    let view = crate::images::StoreView::read(host.fs.as_ref(), &s.layout, &profile.name);
    let locked = |reference: &str| view.lock.as_ref().and_then(|l| l.images.get(reference));
    facts.pulls_needed = profile
        .images()
        .iter()
        .filter(|i| i.reference.registry() == "docker.io")
        .filter(|i| !locked(i.reference.as_str()).is_some_and(|e| view.blobs.contains(&e.manifest.digest)))
        .count();
    let store = crate::images::store::Store::new(s.layout.store());
    facts.measured_images = (|| {
        let mut seen = std::collections::HashSet::new();
        let mut m = facts::MeasuredImages::default();
        let mut unpacked = Some(0u64);
        for image in profile.images() {
            let l = locked(image.reference.as_str())?;
            for d in std::iter::once(&l.config).chain(l.layers.iter()) {
                if seen.insert(d.digest.clone()) {
                    m.compressed += d.size;
                    let here = view.blobs.contains(&d.digest);
                    if !here {
                        m.missing += d.size;
                    }
                    let size = here
                        .then(|| store.blob_path(&d.digest).ok())
                        .flatten()
                        .and_then(|p| crate::images::store::unpacked_size(&p, d));
                    unpacked = unpacked.zip(size).map(|(a, b)| a + b);
                }
            }
        }
        m.unpacked = unpacked;
        Some(m)
    })();
}

/// Registries (their API hosts) and the k3s download host.
fn endpoints(profile: &Profile) -> Vec<(String, Endpoint)> {
    let mut out: Vec<(String, Endpoint)> = Vec::new();
    for image in profile.images() {
        let host = image.reference.api_host().to_owned();
        if !out.iter().any(|(_, e)| e.host == host) {
            let url = format!("https://{host}/v2/");
            out.push(("registry".to_owned(), Endpoint { host, url }));
        }
    }
    let k3s_url = crate::k3s::artifact_url(profile, "k3s");
    if let Ok(url) = reqwest::Url::parse(&k3s_url)
        && let Some(host) = url.host_str()
    {
        out.push((
            "k3s-download".to_owned(),
            Endpoint {
                host: host.to_owned(),
                url: format!("{}://{}/", url.scheme(), url.authority()),
            },
        ));
    }
    out
}

/// `preflight.json` in the data dir (check and install both keep it).
fn document<'a>(
    host: &Host,
    profile: &'a Profile,
    facts: &'a HostFacts,
    pre: &'a crate::preflight::Preflight,
) -> CheckDocument<'a> {
    CheckDocument {
        schema: 1,
        binary_version: env!("CARGO_PKG_VERSION"),
        generated_at_unix: host
            .clock
            .now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        profile: summary(profile),
        result: if pre.failed() { "fail" } else { "pass" },
        counts: pre.counts(),
        checks: &pre.checks,
        sizing: &pre.sizing,
        host: facts,
    }
}

pub(super) fn save_preflight(
    s: &Settings,
    host: &Host,
    profile: &Profile,
    facts: &HostFacts,
    pre: &crate::preflight::Preflight,
) -> Result<PathBuf, IoError> {
    save_json(&s.layout.preflight(), &document(host, profile, facts, pre))
}

/// The data dir is a path the user chose: never re-rooted by `--root`.
fn save_json(path: &Path, doc: &impl Serialize) -> Result<PathBuf, IoError> {
    let fs = user_files();
    let io = |action, source| IoError {
        action,
        path: path.to_path_buf(),
        source,
    };
    let text = serde_json::to_vec_pretty(doc).map_err(|e| io("encode", std::io::Error::other(e)))?;
    if let Some(dir) = path.parent() {
        fs.create_dir_all(dir).map_err(|e| IoError {
            action: "create",
            path: dir.to_path_buf(),
            source: e,
        })?;
    }
    fs.write_atomic(path, &text, 0o644).map_err(|e| io("write", e))?;
    Ok(path.to_path_buf())
}
