//! Text rendering of results, kept pure (strings in, strings out) so it is
//! snapshot-tested without a terminal.

use console::Style;

use super::paint;
use crate::error::Report;
use crate::plan::Plan;
use crate::preflight::{Preflight, Status};
use crate::profile::Profile;

pub fn error_text(report: &Report, color: bool) -> String {
    let chain = report.chain();
    let mut s = format!("{}: {}\n", paint(color, "error", Style::new().red().bold()), chain[0]);
    for cause in &chain[1..] {
        s.push_str(&format!("  caused by: {cause}\n"));
    }
    if let Some(detail) = &report.detail {
        s.push('\n');
        s.push_str(detail.trim_end());
        s.push('\n');
    }
    for hint in &report.hints {
        s.push_str(&format!(
            "{}: {hint}\n",
            paint(color, "hint", Style::new().cyan().bold())
        ));
    }
    s
}

fn status_tag(status: Status, ignored: bool, color: bool) -> String {
    let (word, style) = match status {
        Status::Pass => ("pass", Style::new().green()),
        Status::Info => ("info", Style::new().blue()),
        Status::Warn if ignored => ("ign ", Style::new().yellow()),
        Status::Warn => ("warn", Style::new().yellow().bold()),
        Status::Fail => ("FAIL", Style::new().red().bold()),
    };
    paint(color, word, style)
}

pub fn check_report(profile: &Profile, hostname: &str, pre: &Preflight, color: bool) -> String {
    let mut s = format!(
        "Host check for profile {} (DIGIT {}, k3s {}) on {hostname}\n\n",
        profile.name, profile.digit.release, profile.k3s.version
    );
    s.push_str(&check_lines(&pre.checks, color));
    let n = pre.counts();
    let verdict = if pre.failed() {
        paint(color, "NOT READY", Style::new().red().bold())
    } else {
        paint(color, "ready", Style::new().green().bold())
    };
    s.push_str(&format!(
        "\nResult: {verdict} to install: {} failed, {} warnings, {} info, {} passed\n",
        n.fail, n.warn, n.info, n.pass
    ));
    s
}

/// `install --kubeconfig` and `check --kubeconfig`: the same table for a cluster.
pub fn cluster_report(
    profile: &Profile,
    server: &str,
    checks: &[crate::preflight::CheckResult],
    color: bool,
) -> String {
    let mut s = format!(
        "Cluster check for profile {} (DIGIT {}, built for Kubernetes {}) on a cluster at Kubernetes {server}\n\n",
        profile.name, profile.digit.release, profile.k3s.version
    );
    s.push_str(&check_lines(checks, color));
    let count = |st: Status| checks.iter().filter(|c| c.status == st).count();
    let verdict = if count(Status::Fail) > 0 {
        paint(color, "NOT READY", Style::new().red().bold())
    } else {
        paint(color, "ready", Style::new().green().bold())
    };
    s.push_str(&format!(
        "\nResult: {verdict} to deploy: {} failed, {} warnings, {} passed\n",
        count(Status::Fail),
        count(Status::Warn),
        count(Status::Pass)
    ));
    s
}

fn check_lines(checks: &[crate::preflight::CheckResult], color: bool) -> String {
    let mut s = String::new();
    let width = checks.iter().map(|c| c.id.len()).max().unwrap_or(10);
    for c in checks {
        s.push_str(&format!(
            "  {}  {:width$}  {}{}\n",
            status_tag(c.status, c.ignored, color),
            c.id,
            c.summary,
            if c.ignored {
                " (failure ignored by --ignore-check)"
            } else {
                ""
            }
        ));
        if let Some(hint) = &c.hint
            && c.status >= Status::Warn
        {
            s.push_str(&format!("  {:4}  {:width$}  fix: {hint}\n", "", ""));
        }
    }
    s
}

pub fn plan_text(plan: &Plan, color: bool) -> String {
    let bold = |t: &str| paint(color, t, Style::new().bold());
    let mut s = format!(
        "Plan for profile {} (DIGIT {}, k3s {}) on {} ({}, {})\nNothing has been changed.\n\n",
        plan.profile.name,
        plan.profile.digit_release,
        plan.profile.k3s_version,
        plan.host.hostname,
        if plan.host.os.is_empty() {
            "unknown OS"
        } else {
            &plan.host.os
        },
        plan.host.arch,
    );
    s.push_str(&format!("Source: {}\n", plan.source));
    let c = plan.preflight.counts;
    s.push_str(&format!(
        "Preflight: {} failed, {} warnings, {} passed. {}\n",
        c.fail,
        c.warn,
        c.pass + c.info,
        plan.preflight.sizing
    ));
    for w in &plan.warnings {
        s.push_str(&format!(
            "{}: {w}\n",
            paint(color, "warning", Style::new().yellow().bold())
        ));
    }
    for (i, phase) in plan.phases.iter().enumerate() {
        s.push_str(&format!("\n{}\n", bold(&format!("{}. {}", i + 1, phase.title))));
        for step in &phase.steps {
            let (verb, text) = step.describe();
            s.push_str(&format!("   {verb:8}  {text}\n"));
        }
    }
    s
}

pub fn version_text(profiles: &[Result<Profile, String>]) -> String {
    let mut s = format!("digit-quickstart {}\n", env!("CARGO_PKG_VERSION"));
    for p in profiles {
        match p {
            Ok(p) => s.push_str(&format!(
                "profile {}: DIGIT {}, k3s {}\n",
                p.name, p.digit.release, p.k3s.version
            )),
            Err(e) => s.push_str(&format!("embedded profile broken: {e}\n")),
        }
    }
    s
}

/// The last thing `install` prints: where to log in, with what, and where
/// everything is. The password appears here once and nowhere else.
pub fn banner(o: &crate::deploy::stage::StageOutcome, kubeconfig: Option<&std::path::Path>, color: bool) -> String {
    let mut s = String::new();
    let failed: Vec<&crate::health::smoke::CheckResult> = o.checks.iter().filter(|c| !c.ok).collect();
    let passed = o.checks.len() - failed.len();
    if failed.is_empty() {
        s.push_str(&format!(
            "{} {} health and smoke checks passed\n",
            paint(color, "DIGIT is up:", Style::new().green().bold()),
            passed
        ));
    } else {
        s.push_str(&format!(
            "{} {passed} of {} checks passed\n",
            paint(color, "DIGIT is deployed but not healthy:", Style::new().red().bold()),
            o.checks.len()
        ));
        for c in &failed {
            s.push_str(&format!("  FAIL {} {}: {}\n", c.kind, c.name, c.detail));
        }
    }
    s.push('\n');
    s.push_str(&format!("  Open      {}\n", o.login_url));
    s.push_str(&format!("  User      {}  (city: choose any)\n", o.username));
    if o.secrets_generated {
        s.push_str(&format!("  Password  {}  (shown once)\n", o.password));
    } else {
        s.push_str("  Password  unchanged since the first install\n");
    }
    s.push_str(&format!(
        "            stored with the other generated secrets in {} (root only)\n",
        o.secrets_file.display()
    ));
    if let Some(k) = kubeconfig {
        s.push_str(&format!("  kubectl   export KUBECONFIG={}\n", k.display()));
    }
    if o.port_forward {
        s.push_str(&format!(
            "  No Ingress on this cluster: first run `digit-quickstart proxy --kubeconfig FILE` (port-forwards\n            to the gateway and UI pods; keep it running), then open the address above.\n            API only: `kubectl -n {} port-forward svc/gateway 8080:8080`\n",
            o.namespace
        ));
    }
    s.push_str(&format!(
        "  Took      seed files {:.0}s, deploy {:.0}s in {} waves, checks {:.0}s\n",
        o.seconds.seed_files, o.seconds.apply_and_wait, o.deploy.waves, o.seconds.health_and_smoke
    ));
    s
}

pub fn status_text(s: &crate::status::Status, color: bool) -> String {
    let mark = |ok: bool| {
        if ok {
            paint(color, "ok  ", Style::new().green())
        } else {
            paint(color, "FAIL", Style::new().red().bold())
        }
    };
    let mut out = String::new();
    match &s.service {
        Some(svc) => out.push_str(&format!(
            "{} k3s service {}{}\n",
            mark(svc.active),
            if svc.active { "active" } else { "not active" },
            if svc.enabled { ", enabled" } else { ", not enabled" }
        )),
        None => out.push_str("--   cluster from --kubeconfig (its k3s or Kubernetes is not managed here)\n"),
    }
    for n in &s.nodes {
        out.push_str(&format!(
            "{} node {} {} ({})\n",
            mark(n.ready),
            n.name,
            if n.ready { "Ready" } else { "NotReady" },
            n.version
        ));
    }
    if s.nodes.is_empty() {
        out.push_str(&format!("{} node: none found\n", mark(false)));
    }
    out.push_str(&format!(
        "\n  {:<24} {:<6} {:<9} {:<12} NODE\n",
        "COMPONENT", "READY", "RESTARTS", "STATE"
    ));
    for c in &s.components {
        out.push_str(&format!(
            "{} {:<24} {:<6} {:<9} {:<12} {}\n",
            mark(c.total > 0 && c.ready >= c.total),
            c.name,
            format!("{}/{}", c.ready, c.total),
            c.restarts,
            c.state,
            if c.nodes.is_empty() {
                "-".to_owned()
            } else {
                c.nodes.join(",")
            }
        ));
    }
    if !s.checks.is_empty() {
        out.push('\n');
    }
    for c in &s.checks {
        out.push_str(&format!("{} {} {}: {}\n", mark(c.ok), c.kind, c.name, c.detail));
    }
    for n in &s.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    out.push_str(&format!(
        "\n{}\n",
        if s.healthy {
            paint(color, "DIGIT is healthy", Style::new().green().bold())
        } else {
            paint(color, "DIGIT is not healthy", Style::new().red().bold())
        }
    ));
    out
}
