//! Installing k3s end to end: verified artifacts → files → systemd → named
//! waits → the user's kubeconfig. A second run on a healthy host changes
//! nothing and says so.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::artifacts::{self, ArtifactSpec};
use super::install::{self, FileChange, Inputs, ServiceStep};
use super::render::K3sSettings;
use super::{kubeconfig, wait};
use crate::error::{Exit, Report};
use crate::host::Host;
use crate::layout::Layout;
use crate::profile::Profile;

pub struct Request<'a> {
    pub profile: &'a Profile,
    pub layout: &'a Layout,
    /// Debian-style architecture of this host.
    pub arch: &'a str,
    pub settings: K3sSettings,
    /// Take the artifacts from this directory (still verified) instead of downloading.
    pub artifacts_from: Option<PathBuf>,
    pub http: reqwest::Client,
    pub poll: Duration,
    /// Overrides each condition's timeout (tests).
    pub timeout: Option<Duration>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    pub version: String,
    pub files: Vec<FileChange>,
    pub service: Vec<ServiceStep>,
    /// Nothing was written and the service was left alone.
    pub unchanged: bool,
    pub kubeconfig: PathBuf,
}

/// What the caller shows while it runs.
pub enum Progress<'a> {
    /// A download starts (`size` is the profile's estimate).
    Downloading {
        name: &'a str,
        size: u64,
    },
    /// Bytes of the current download arrived.
    Bytes(u64),
    Placed(&'a FileChange),
    Service(ServiceStep),
    Waiting {
        name: &'a str,
        met: bool,
        seen: &'a str,
        elapsed: Duration,
    },
}

/// The verified binary and air-gap images in the cache: (binary, images, images' file name).
pub(crate) async fn cached_artifacts(
    host: &Host,
    req: &Request<'_>,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<(PathBuf, PathBuf, String), Report> {
    let profile = req.profile;
    let version = &profile.k3s.version;
    let arts = profile.k3s_artifacts(req.arch).ok_or_else(|| {
        Report::msg(
            format!("profile {} has no k3s artifacts for {}", profile.name, req.arch),
            Exit::Usage,
        )
    })?;
    let mut paths = Vec::new();
    for art in [&arts.binary, &arts.airgap_images] {
        let spec = ArtifactSpec {
            name: art.name.clone(),
            url: super::artifact_url(profile, &art.name),
            sha256: art.sha256.clone(),
        };
        // Verified artifacts live in the cache (below --root if set); local
        // ones are checked where the user put them, then copied in.
        let cache = req.layout.k3s_cache(version);
        let cached = cache.join(&art.name);
        match &req.artifacts_from {
            Some(dir) => {
                let source = dir.join(&art.name);
                artifacts::verify_file(&spec, &source)
                    .await
                    .map_err(|e| Report::new(e, Exit::Failed))?;
                let io = |action| {
                    let path = cached.clone();
                    move |source| crate::error::IoError { action, path, source }
                };
                host.fs.create_dir_all(&cache).map_err(io("create the cache for"))?;
                host.fs
                    .copy_atomic_from_outside(&source, &cached, 0o644)
                    .map_err(io("copy into"))?;
            }
            None => {
                progress(Progress::Downloading {
                    name: &art.name,
                    size: art.size.0,
                });
                artifacts::fetch(
                    &req.http,
                    &spec,
                    &host.fs.real_path(&cache),
                    5,
                    Duration::from_millis(500),
                    &|n| progress(Progress::Bytes(n)),
                )
                .await
                .map_err(|e| Report::new(e, Exit::Failed))?;
            }
        }
        paths.push(cached);
    }
    Ok((paths[0].clone(), paths[1].clone(), arts.airgap_images.name.clone()))
}

pub async fn install(host: &Host, req: &Request<'_>, progress: &(dyn Fn(Progress) + Sync)) -> Result<Outcome, Report> {
    let version = req.profile.k3s.version.clone();
    let (binary, airgap, airgap_name) = cached_artifacts(host, req, progress).await?;
    let files = install::place_files(
        host.fs.as_ref(),
        &Inputs {
            binary: &binary,
            airgap: &airgap,
            airgap_name: &airgap_name,
            settings: &req.settings,
        },
    )
    .map_err(Report::from)?;
    for f in &files {
        progress(Progress::Placed(f));
    }
    let (active, enabled) = install::service_state(host.cmd.as_ref());
    let steps = install::service_steps(&files, active, enabled);
    for step in &steps {
        progress(Progress::Service(*step));
    }
    install::run_service_steps(host.cmd.as_ref(), &steps).map_err(|e| Report::new(e, Exit::Failed))?;

    // k3s writes its kubeconfig once it is up: part of the first wait.
    let kubeconfig_path = host.fs.real_path(Path::new(kubeconfig::K3S_KUBECONFIG));
    let limit = req.timeout.unwrap_or(Duration::from_secs(180));
    let started = std::time::Instant::now();
    while !host.fs.exists(Path::new(kubeconfig::K3S_KUBECONFIG)) {
        let seen = "k3s has not written its kubeconfig yet";
        progress(Progress::Waiting {
            name: "API server /readyz",
            met: false,
            seen,
            elapsed: started.elapsed(),
        });
        if started.elapsed() >= limit {
            return Err(Report::msg(format!("timed out after {}s waiting for API server /readyz; last seen: {seen}", limit.as_secs()), Exit::Failed)
                .with_hint("see `journalctl -u k3s -n 50`; common causes are port 6443 in use, a disabled memory cgroup or no default route"));
        }
        tokio::time::sleep(req.poll).await;
    }
    let client = kube_client(&kubeconfig_path, None).await?;
    let keep_traefik = !req.settings.disable.iter().any(|d| d == "traefik");
    let mut conditions = wait::k3s_conditions(&req.settings.node_name, keep_traefik);
    if let Some(t) = req.timeout {
        for c in &mut conditions {
            c.1 = t;
        }
    }
    let status = |name: &str, met: bool, seen: &str, elapsed: Duration| {
        progress(Progress::Waiting {
            name,
            met,
            seen,
            elapsed,
        })
    };
    wait::wait_all(&client, &conditions, req.poll, &status)
        .await
        .map_err(|e| Report::new(e, Exit::Failed))?;

    let user = kubeconfig::invoking_user(host.fs.as_ref(), host.env.as_ref());
    let kubeconfig = kubeconfig::write_for(host.fs.as_ref(), &user).map_err(Report::from)?;
    let unchanged = steps.is_empty() && files.iter().all(|f| !f.changed());
    Ok(Outcome {
        version,
        files,
        service: steps,
        unchanged,
        kubeconfig,
    })
}

/// A client for `path`'s `context` (None: its current context).
pub(crate) async fn kube_client(path: &Path, context: Option<&str>) -> Result<kube::Client, Report> {
    let bad = |e: &dyn std::fmt::Display| {
        Report::msg(
            format!("could not use k3s's kubeconfig `{}`: {e}", path.display()),
            Exit::Failed,
        )
        .with_hint("k3s writes it when it starts: see `journalctl -u k3s`")
    };
    let kubeconfig = kube::config::Kubeconfig::read_from(path).map_err(|e| bad(&e))?;
    let options = kube::config::KubeConfigOptions {
        context: context.map(str::to_owned),
        ..Default::default()
    };
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| bad(&e))?;
    // Without a CA in the kubeconfig, rustls would need the system's store,
    // which minimal hosts lack: fall back to the bundled roots instead.
    if config.root_cert.is_none() {
        config.root_cert = Some(
            webpki_root_certs::TLS_SERVER_ROOT_CERTS
                .iter()
                .map(|c| c.to_vec())
                .collect(),
        );
    }
    kube::Client::try_from(config).map_err(|e| bad(&e))
}
