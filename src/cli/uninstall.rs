//! `uninstall`: remove k3s and everything this tool put on the host; with
//! `--kubeconfig`, remove only what the deploy put on that cluster.

use clap::Args;

use super::Settings;
use crate::error::{Exit, Report};
use crate::host::Fs;
use crate::host::Host;
use crate::k3s::{kubeconfig, uninstall};
use crate::ui::{Output, Printer, Prompter};

#[derive(Debug, Args)]
pub struct UninstallArgs {
    /// Also delete the image store, lock files and every other file in the data dir
    #[arg(long)]
    pub purge: bool,

    /// A cluster this tool did not install: remove only the profile's
    /// namespace and this tool's cluster-wide objects from it, keep the cluster
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<std::path::PathBuf>,

    /// Seconds to wait for the namespace to be gone (with --kubeconfig)
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub timeout: u64,
}

pub fn run(s: &Settings, args: &UninstallArgs, host: &Host, printer: &mut Printer) -> Result<Exit, Report> {
    if let Some(kubeconfig) = &args.kubeconfig {
        return from_cluster(s, args, kubeconfig, host, printer);
    }
    let keep = if args.purge {
        "including the image store (--purge)".to_owned()
    } else {
        format!("keeping the image store in {}", s.layout.store().display())
    };
    let prompter = Prompter {
        yes: s.yes,
        stdin_tty: s.term.stdin,
        stderr_tty: s.term.stderr,
    };
    let agent = crate::k3s::agent::is_agent(host.fs.as_ref())
        .then(|| crate::k3s::agent::joined(host.fs.as_ref()))
        .flatten();
    let question = match &agent {
        Some((node, server)) => format!(
            "Drain node {node} (its pods move to the other nodes), delete it from the cluster at {server} and remove the k3s agent from this host?"
        ),
        None => format!("Remove k3s, every DIGIT workload and their data from this host, {keep}?"),
    };
    if !prompter.confirm(&question)? {
        printer.note("Nothing was changed.");
        return Ok(Exit::Success);
    }
    if let Some((node, _)) = &agent {
        leave(host, node, args.timeout, printer);
    }
    let user = kubeconfig::invoking_user(host.fs.as_ref(), host.env.as_ref());
    let opts = uninstall::Options {
        layout: &s.layout,
        purge: args.purge,
        user_kubeconfig: Some(kubeconfig::path_for(&user)),
    };
    let report = uninstall::uninstall(host.fs.as_ref(), host.cmd.as_ref(), &opts);
    match s.output {
        Output::Json => printer.json(&report),
        Output::Human => {
            for line in &report.done {
                printer.out(&format!("  done  {line}"));
            }
            for line in &report.left {
                printer.out(&format!("  LEFT  {line}"));
            }
        }
    }
    if report.left.is_empty() {
        printer.note("k3s is uninstalled; nothing was left behind.");
        Ok(Exit::Success)
    } else {
        Err(Report::msg(
            format!("uninstall left {} things behind (listed above)", report.left.len()),
            Exit::Failed,
        )
        .with_hint("a reboot releases busy mounts; then run `digit-quickstart uninstall --yes` again"))
    }
}

/// An agent leaves while it can still reach the server: drained and its
/// Node deleted with the kubelet's own credentials. When that fails the
/// uninstall goes on and says what to run on the server.
fn leave(host: &Host, node: &str, timeout: u64, printer: &mut Printer) {
    let kubelet = host
        .fs
        .real_path(std::path::Path::new(crate::k3s::agent::KUBELET_KUBECONFIG));
    let poll = super::poll_interval(host, std::time::Duration::from_secs(2));
    let limit = std::time::Duration::from_secs(timeout);
    let outcome = super::runtime().and_then(|rt| {
        rt.block_on(async {
            let client = crate::k3s::lifecycle::kube_client(&kubelet, None).await?;
            crate::k3s::agent::drain_and_delete(&client, node, limit, poll)
                .await
                .map_err(|e| Report::msg(e, Exit::Failed))
        })
    });
    match outcome {
        Ok(done) => {
            for line in done {
                printer.note(&line);
            }
        }
        Err(e) => printer.warn(&format!(
            "could not drain and delete node {node} from the cluster ({}); on the server run: kubectl drain {node} --ignore-daemonsets --delete-emptydir-data; kubectl delete node {node}",
            e.chain().join(": ")
        )),
    }
}

/// The cluster part alone: the app off a cluster someone else runs.
fn from_cluster(
    s: &Settings,
    args: &UninstallArgs,
    kubeconfig: &std::path::Path,
    host: &Host,
    printer: &mut Printer,
) -> Result<Exit, Report> {
    let profile = crate::profile::load(&s.profile, &super::check::user_files())?;
    let prompter = Prompter {
        yes: s.yes,
        stdin_tty: s.term.stdin,
        stderr_tty: s.term.stderr,
    };
    if !prompter.confirm(&format!(
        "Remove namespace {} (every DIGIT workload, its volumes and data) from the cluster in {}, keeping the cluster?",
        profile.namespace,
        kubeconfig.display()
    ))? {
        printer.note("Nothing was changed.");
        return Ok(Exit::Success);
    }
    let poll = host
        .env
        .var(crate::env_vars::POLL_MS)
        .and_then(|v| v.parse().ok())
        .map_or(std::time::Duration::from_secs(2), std::time::Duration::from_millis);
    let limit = std::time::Duration::from_secs(args.timeout);
    let runtime = super::runtime()?;
    let mut done = runtime.block_on(async {
        let client = crate::k3s::lifecycle::kube_client(kubeconfig, None).await?;
        crate::deploy::remove::remove(&client, &profile.namespace, limit, poll).await
    })?;
    let data_fs = super::check::user_files();
    if args.purge {
        data_fs.remove_dir_all(s.layout.data_dir()).map_err(|source| {
            Report::new(
                crate::error::IoError {
                    action: "delete the data dir",
                    path: s.layout.data_dir().to_owned(),
                    source,
                },
                Exit::Failed,
            )
        })?;
        done.push(format!("{} (--purge)", s.layout.data_dir().display()));
    } else {
        let mut journal = crate::install::journal::Journal::load(&data_fs, &s.layout.journal(), &profile.name);
        let _ = journal.forget(&data_fs, &s.layout.journal(), "deploy");
    }
    match s.output {
        Output::Json => printer.json(&serde_json::json!({"done": done, "left": []})),
        Output::Human => {
            for line in &done {
                printer.out(&format!("  done  {line}"));
            }
        }
    }
    printer.note("DIGIT is removed from the cluster; the cluster itself is unchanged.");
    Ok(Exit::Success)
}
