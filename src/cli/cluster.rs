//! `install --kubeconfig` and `check --kubeconfig`: another cluster, checked
//! first (version skew, capacity, classes, permissions, architecture).

use std::path::{Path, PathBuf};

use clap::Args;

use super::Settings;
use crate::deploy::manifests::target::Target;
use crate::error::{Exit, Report};
use crate::host::Host;
use crate::preflight::cluster::{self, Choices, ClusterFacts};
use crate::preflight::{CheckResult, Status};
use crate::profile::Profile;
use crate::ui::Printer;

/// The cluster to deploy into instead of installing k3s.
#[derive(Clone, Debug, Default, Args)]
pub struct ClusterArgs {
    /// Deploy into this cluster instead of installing k3s (its checks run first)
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// The kubeconfig's context (default: its current context)
    #[arg(long, value_name = "NAME", requires = "kubeconfig")]
    pub context: Option<String>,

    /// StorageClass for DIGIT's volumes (default: the cluster's default)
    #[arg(long, value_name = "NAME", requires = "kubeconfig")]
    pub storage_class: Option<String>,

    /// IngressClass for DIGIT's Ingress (default: the cluster's default)
    #[arg(long, value_name = "NAME", requires = "kubeconfig")]
    pub ingress_class: Option<String>,
}

impl ClusterArgs {
    fn choices(&self) -> Choices {
        Choices {
            storage_class: self.storage_class.clone(),
            ingress_class: self.ingress_class.clone(),
        }
    }
}

pub struct Evaluated {
    pub profile: Profile,
    pub facts: ClusterFacts,
    pub checks: Vec<CheckResult>,
    pub target: Target,
}

/// Reaches the cluster and runs its checks; `ignore` turns named failures into warnings.
pub fn evaluate(
    s: &Settings,
    args: &ClusterArgs,
    kubeconfig: &Path,
    ignore: &[String],
    runtime: &tokio::runtime::Runtime,
) -> Result<Evaluated, Report> {
    let profile = crate::profile::load(&s.profile, &super::check::user_files())?;
    let known: Vec<&str> = cluster::IDS.to_vec();
    if let Some(bad) = ignore.iter().find(|i| !known.contains(&i.as_str())) {
        return Err(Report::msg(
            format!("--ignore-check {bad}: no cluster check has that id"),
            Exit::Usage,
        )
        .with_hint(format!("cluster checks: {}", known.join(", "))));
    }
    let where_ = match &args.context {
        Some(c) => format!("`{}` (context {c})", kubeconfig.display()),
        None => format!("`{}`", kubeconfig.display()),
    };
    let facts = runtime.block_on(async {
        let client = crate::k3s::lifecycle::kube_client(kubeconfig, args.context.as_deref()).await?;
        cluster::gather(&client, &profile.namespace).await.map_err(|e| {
            Report::msg(
                format!("could not reach the cluster in {where_}: {e}"),
                Exit::CheckFailed,
            )
            .with_hint("check the server address and credentials with `kubectl --kubeconfig FILE version`")
        })
    })?;
    let choices = args.choices();
    let mut checks = cluster::checks(&facts, &profile, &choices);
    for c in &mut checks {
        if c.status == Status::Fail && ignore.iter().any(|i| i == &c.id) {
            c.status = Status::Warn;
            c.ignored = true;
        }
    }
    let ingress = cluster::chosen_ingress(&facts, &choices);
    let target = Target {
        storage_class: cluster::chosen_storage(&facts, &choices),
        ingress,
        registry: None,
        pull_secret: false,
    };
    Ok(Evaluated {
        profile,
        facts,
        checks,
        target,
    })
}

pub fn print(s: &Settings, e: &Evaluated, to_stdout: bool, printer: &mut Printer) {
    if s.output == crate::ui::Output::Json {
        let doc = serde_json::json!({
            "schema": 1,
            "profile": super::check::summary(&e.profile),
            "result": if e.checks.iter().any(|c| c.status == Status::Fail) { "fail" } else { "pass" },
            "checks": e.checks,
            "cluster": e.facts,
        });
        if to_stdout {
            printer.json(&doc);
        }
        return;
    }
    let text = crate::ui::render::cluster_report(&e.profile, &e.facts.server_version, &e.checks, printer.color_out);
    if to_stdout {
        printer.out(text.trim_end());
    } else {
        printer.diag(text.trim_end());
    }
}

pub fn stop_on_failed(checks: &[CheckResult]) -> Result<(), Report> {
    let failed: Vec<&str> = checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| c.id.as_str())
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    Err(Report::msg(
        format!("cluster checks failed: {}", failed.join(", ")),
        Exit::CheckFailed,
    )
    .with_hint("each line above says what to do; --ignore-check NAME goes on regardless"))
}

/// `check --kubeconfig`: the cluster's checks alone.
pub fn check(s: &Settings, args: &ClusterArgs, ignore: &[String], printer: &mut Printer) -> Result<Exit, Report> {
    let runtime = super::runtime()?;
    let kubeconfig = args.kubeconfig.clone().unwrap_or_default();
    let e = evaluate(s, args, &kubeconfig, ignore, &runtime)?;
    print(s, &e, true, printer);
    Ok(if e.checks.iter().any(|c| c.status == Status::Fail) {
        Exit::CheckFailed
    } else {
        Exit::Success
    })
}

/// `.dockerconfigjson` holding only `registry`'s entry, when Docker's config has one.
pub fn pull_auth(host: &Host, file: Option<&Path>, registry: &str) -> Result<Option<String>, Report> {
    use base64::Engine as _;
    let auth = super::check::registry_auth(host, file)?;
    let host_part = registry.split('/').next().unwrap_or(registry);
    Ok(auth.for_registry(host_part).map(|c| {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", c.username, c.password));
        serde_json::json!({"auths": {host_part: {"username": c.username, "password": c.password, "auth": token}}})
            .to_string()
    }))
}
