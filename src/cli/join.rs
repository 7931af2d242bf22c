//! `join-command` (on the server) and `join` (on a new VM): more nodes for
//! the quickstart's cluster, with the same verified k3s as an agent.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use super::Settings;
use crate::error::{Exit, Report};
use crate::host::Host;
use crate::k3s::agent::{self, Join};
use crate::k3s::render::{K3sSettings, PROXY_VARS, node_name};
use crate::preflight::{CheckResult, Preflight, Status};
use crate::ui::{Output, Printer, Prompter};

#[derive(Debug, Args)]
pub struct JoinCommandArgs {
    /// The URL agents reach this server at (default: https://<this node's InternalIP>:6443)
    #[arg(long, value_name = "URL")]
    pub server_url: Option<String>,

    /// Also print the join token (a secret: it lets a machine join, and is
    /// the server's own token unless k3s runs with a separate agent token)
    #[arg(long)]
    pub show_token: bool,
}

#[derive(Debug, Args)]
pub struct JoinArgs {
    /// The server's URL, as `join-command` prints it (https://HOST:6443)
    #[arg(long, value_name = "URL")]
    pub server: String,

    /// A file holding the join token (copied from the server; never on the command line)
    #[arg(long, value_name = "FILE")]
    pub token_file: PathBuf,

    /// A `digit-quickstart serve` on the LAN: k3s and images from there (still verified)
    #[arg(long, value_name = "URL")]
    pub mirror: Option<String>,

    /// Take the k3s binary and air-gap images from this directory (still verified)
    #[arg(long, value_name = "DIR")]
    pub k3s_artifacts: Option<PathBuf>,

    /// Go on although these host checks fail (comma-separated ids)
    #[arg(long, value_name = "NAME[,NAME]", value_delimiter = ',')]
    pub ignore_check: Vec<String>,

    /// Show every change `join` would make to this host, and make none
    #[arg(long)]
    pub plan: bool,

    /// Seconds to wait for the node to be Ready
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub wait_timeout: u64,
}

/// Host checks that matter for an agent (no DIGIT sizing, no server ports).
const AGENT_CHECKS: &[&str] = &[
    "root",
    "arch",
    "os",
    "systemd",
    "swap",
    "memory-cgroup",
    "default-route",
    "hostname",
    "existing-kubernetes",
    "disk-rancher",
];

fn prompter(s: &Settings) -> Prompter {
    Prompter {
        yes: s.yes,
        stdin_tty: s.term.stdin,
        stderr_tty: s.term.stderr,
    }
}

pub fn join_command(s: &Settings, args: &JoinCommandArgs, host: &Host, printer: &mut Printer) -> Result<Exit, Report> {
    let profile = crate::profile::load(&s.profile, &super::check::user_files())?;
    let token_path = Path::new(agent::SERVER_TOKEN);
    let token = host.fs.read_to_string(token_path).map_err(|e| {
        Report::msg(
            format!(
                "no k3s server token at {} ({e}): this is not a k3s server",
                token_path.display()
            ),
            Exit::Usage,
        )
        .with_hint("run `join-command` on the machine where `digit-quickstart install` installed k3s")
    })?;
    let kubeconfig = host.fs.real_path(Path::new(crate::k3s::kubeconfig::K3S_KUBECONFIG));
    let runtime = super::runtime()?;
    let server = runtime.block_on(async {
        let client = crate::k3s::lifecycle::kube_client(&kubeconfig, None).await?;
        // Lets each node delete its own Node when it leaves (NodeRestriction
        // refuses any other name).
        let cluster = crate::deploy::cluster::Cluster::new(client.clone(), "");
        for m in agent::self_removal_rbac() {
            cluster.apply(&m).await.map_err(|e| {
                Report::new(e, Exit::Failed)
                    .with_hint("join-command needs the server's admin kubeconfig (run it as root)")
            })?;
        }
        match &args.server_url {
            Some(u) => Ok::<_, Report>(u.clone()),
            None => server_url(&client).await,
        }
    })?;
    let arts = profile.k3s_artifacts("amd64");
    let sums = arts
        .map(|a| {
            format!(
                "k3s {} (binary sha256 {}, air-gap images sha256 {})",
                profile.k3s.version,
                String::from(a.binary.sha256.clone()),
                String::from(a.airgap_images.sha256.clone())
            )
        })
        .unwrap_or_else(|| format!("k3s {}", profile.k3s.version));
    let command = format!("digit-quickstart join --server {server} --token-file /root/k3s-token --yes");
    if s.output == Output::Json {
        let mut doc = serde_json::json!({
            "server": server,
            "token_file": token_path,
            "k3s_version": profile.k3s.version,
            "command": command,
        });
        if args.show_token {
            doc["token"] = serde_json::Value::String(token.trim().to_owned());
        }
        printer.json(&doc);
        return Ok(Exit::Success);
    }
    let mut text = format!(
        "On the new VM (amd64, root, systemd), after copying the token file there over SSH:\n\n  \
         scp root@<this server>:{} /root/k3s-token   # then: chmod 600 /root/k3s-token\n  \
         {command}\n\n\
         It checks the VM, installs {sums} as the systemd service k3s-agent, waits for the node to be Ready\n\
         and labels it {}=true. Add --mirror http://<this server>:<port> when `digit-quickstart serve` runs here.\n\
         Network: the VM must reach {server} (TCP); all nodes must reach each other on UDP 8472 (flannel VXLAN).\n\
         The token is a secret: it lets a machine join this cluster; it is never printed unless --show-token.\n",
        token_path.display(),
        agent::LABEL
    );
    if args.show_token {
        text.push_str(&format!("\nToken: {}\n", token.trim()));
    }
    printer.out(text.trim_end());
    Ok(Exit::Success)
}

async fn server_url(client: &kube::Client) -> Result<String, Report> {
    use k8s_openapi::api::core::v1::Node;
    let nodes: kube::Api<Node> = kube::Api::all(client.clone());
    let list = nodes.list(&kube::api::ListParams::default()).await.map_err(|e| {
        Report::msg(
            format!("could not list nodes: {}", crate::deploy::cluster::one_line(&e)),
            Exit::Failed,
        )
    })?;
    let server = list.items.iter().find(|n| {
        n.metadata
            .labels
            .as_ref()
            .is_some_and(|l| l.contains_key("node-role.kubernetes.io/control-plane"))
    });
    server
        .and_then(|n| n.status.as_ref()?.addresses.as_ref())
        .and_then(|a| a.iter().find(|a| a.type_ == "InternalIP"))
        .map(|a| format!("https://{}:6443", a.address))
        .ok_or_else(|| {
            Report::msg("this server's InternalIP is unknown", Exit::Failed)
                .with_hint("give the URL agents reach it at with --server-url https://HOST:6443")
        })
}

fn server_check(server: &str) -> CheckResult {
    let hostport = server
        .trim_start_matches("https://")
        .split('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let hostport = if hostport.contains(':') {
        hostport
    } else {
        format!("{hostport}:6443")
    };
    let reached = std::net::ToSocketAddrs::to_socket_addrs(&hostport.as_str())
        .ok()
        .and_then(|mut a| a.next())
        .is_some_and(|addr| std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)).is_ok());
    let mut c = CheckResult {
        id: "server".into(),
        status: if reached { Status::Pass } else { Status::Fail },
        summary: if reached {
            format!("the server answers at {hostport}")
        } else {
            format!("cannot open a TCP connection to the server at {hostport}")
        },
        hint: None,
        ignored: false,
    };
    if !reached {
        c.hint = Some(
            "check the address `join-command` printed and that the server's firewall lets this VM reach TCP 6443"
                .into(),
        );
    }
    c
}

pub fn join(s: &Settings, args: &JoinArgs, host: &Host, printer: &mut Printer) -> Result<Exit, Report> {
    if !args.server.starts_with("https://") {
        return Err(Report::msg(
            format!("--server {}: the k3s server URL starts with https://", args.server),
            Exit::Usage,
        )
        .with_hint("use the URL `digit-quickstart join-command` prints on the server, e.g. https://10.0.0.5:6443"));
    }
    let token = std::fs::read_to_string(&args.token_file).map_err(|e| {
        Report::msg(
            format!("cannot read the token file {}: {e}", args.token_file.display()),
            Exit::Usage,
        )
        .with_hint("copy it from the server's /var/lib/rancher/k3s/server/token (see `join-command` there)")
    })?;
    agent::check_token(&token).map_err(|e| {
        Report::msg(
            format!("{} is not a k3s join token: {e}", args.token_file.display()),
            Exit::Usage,
        )
        .with_hint("copy the whole file from the server's /var/lib/rancher/k3s/server/token")
    })?;
    for id in &args.ignore_check {
        if !AGENT_CHECKS.contains(&id.as_str()) && id != "server" {
            return Err(
                Report::msg(format!("--ignore-check {id}: `join` has no such check"), Exit::Usage)
                    .with_hint(format!("join checks: {}, server", AGENT_CHECKS.join(", "))),
            );
        }
    }
    let (profile, facts, pre) = super::check::evaluate(s, &args.ignore_check, true, None, host, printer)?;
    let mut checks: Vec<CheckResult> = pre
        .checks
        .into_iter()
        .filter(|c| AGENT_CHECKS.contains(&c.id.as_str()))
        .collect();
    let mut server = server_check(&args.server);
    if server.status == Status::Fail && args.ignore_check.iter().any(|i| i == "server") {
        server.status = Status::Warn;
        server.ignored = true;
    }
    checks.push(server);
    let pre = Preflight {
        checks,
        sizing: pre.sizing,
    };
    printer.diag(crate::ui::render::check_report(&profile, &facts.hostname, &pre, printer.color_err).trim_end());
    if pre.failed() && !args.plan {
        let failed: Vec<&str> = pre
            .checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .map(|c| c.id.as_str())
            .collect();
        return Err(
            Report::msg(format!("host checks failed: {}", failed.join(", ")), Exit::CheckFailed)
                .with_hint("each line above says what to do; --ignore-check NAME goes on regardless"),
        );
    }
    let node = node_name(&facts.hostname);
    let mut settings = K3sSettings {
        node_name: node.clone(),
        disable: Vec::new(),
        mirror: args.mirror.clone(),
        docker_hub: None,
        proxy_env: PROXY_VARS
            .iter()
            .filter_map(|k| host.env.var(k).map(|v| ((*k).to_owned(), v)))
            .collect(),
    };
    let mut profile = profile;
    if let Some(url) = &args.mirror {
        super::install::use_mirror(&mut profile, url);
        settings.mirror = Some(url.trim_end_matches('/').to_owned());
    }
    if args.plan {
        let plan = [
            format!(
                "verify and cache k3s {} and its air-gap images in {}",
                profile.k3s.version,
                s.layout.k3s_cache(&profile.k3s.version).display()
            ),
            format!(
                "write {} (0755), links kubectl/crictl/ctr where free, and the air-gap images under {}",
                crate::k3s::BINARY,
                crate::k3s::AIRGAP_DIR
            ),
            format!("write {} (0600): a copy of {}", agent::TOKEN, args.token_file.display()),
            format!(
                "write {} (0600): server {}, node name {node}, label {}=true",
                crate::k3s::CONFIG,
                args.server,
                agent::LABEL
            ),
            format!("write {} (0600) and {} (0644)", agent::UNIT_ENV, agent::UNIT),
            format!("systemctl daemon-reload; enable --now {}", agent::SERVICE),
            format!(
                "wait up to {}s for node {node} to be Ready (asked with the kubelet's own credentials)",
                args.wait_timeout
            ),
        ];
        let mut text = format!("join would change this host ({}):\n", args.server);
        for (i, step) in plan.iter().enumerate() {
            text.push_str(&format!("  {}. {step}\n", i + 1));
        }
        printer.out(text.trim_end());
        return Ok(if pre.failed() { Exit::CheckFailed } else { Exit::Success });
    }
    if !prompter(s).confirm(&format!(
        "Install k3s {} as an agent (service {}) and join this host to {} as node {node}?",
        profile.k3s.version,
        agent::SERVICE,
        args.server
    ))? {
        printer.note("Nothing was changed.");
        return Ok(Exit::Success);
    }
    let runtime = super::runtime()?;
    let http = crate::host::net::http_client(Duration::from_secs(60))
        .map_err(|e| Report::msg(format!("could not set up HTTPS: {e}"), Exit::Failed))?;
    let poll = super::poll_interval(host, Duration::from_secs(2));
    let req = crate::k3s::lifecycle::Request {
        profile: &profile,
        layout: &s.layout,
        arch: &facts.arch,
        settings: settings.clone(),
        artifacts_from: args.k3s_artifacts.clone(),
        http,
        poll,
        timeout: None,
    };
    let join = Join {
        server: args.server.clone(),
        token: token.trim().to_owned(),
    };
    let limit = Duration::from_secs(args.wait_timeout);
    let result = runtime.block_on(async {
        let (binary, airgap, airgap_name) = crate::k3s::lifecycle::cached_artifacts(host, &req, &|_| {}).await?;
        let files = agent::place_files(
            host.fs.as_ref(),
            &agent::Inputs {
                binary: &binary,
                airgap: &airgap,
                airgap_name: &airgap_name,
                settings: &settings,
                join: &join,
            },
        )
        .map_err(Report::from)?;
        let steps = agent::start(host.cmd.as_ref(), &files).map_err(|e| Report::new(e, Exit::Failed))?;
        let started = std::time::Instant::now();
        while !host.fs.exists(Path::new(agent::KUBELET_KUBECONFIG)) {
            if started.elapsed() >= limit {
                return Err(Report::msg(
                    format!(
                        "the k3s agent did not register with {} within {}s",
                        args.server,
                        limit.as_secs()
                    ),
                    Exit::Failed,
                )
                .with_hint(
                    "see `journalctl -u k3s-agent -n 50`: a wrong token or an unreachable server are the usual causes",
                ));
            }
            tokio::time::sleep(poll).await;
        }
        let kubelet = host.fs.real_path(Path::new(agent::KUBELET_KUBECONFIG));
        let client = crate::k3s::lifecycle::kube_client(&kubelet, None).await?;
        agent::wait_ready(&client, &node, limit.saturating_sub(started.elapsed()), poll)
            .await
            .map_err(|e| {
                Report::msg(e, Exit::Failed)
                    .with_hint("see `journalctl -u k3s-agent -n 50` here and `kubectl describe node` on the server")
            })?;
        Ok::<_, Report>((files, steps))
    });
    let (files, steps) = result?;
    for f in files.iter().filter(|f| f.changed()) {
        printer.note(&format!("wrote {}", f.path.display()));
    }
    let unchanged = agent::unchanged(&files) && steps.is_empty();
    if s.output == Output::Json {
        printer
            .json(&serde_json::json!({"node": node, "server": args.server, "unchanged": unchanged, "service": steps}));
    } else if unchanged {
        printer.out(&format!(
            "node {node} unchanged: already joined to {} and Ready",
            args.server
        ));
    } else {
        printer.out(&format!(
            "node {node} joined {} and is Ready (k3s {}, service {}, label {}=true)",
            args.server,
            profile.k3s.version,
            agent::SERVICE,
            agent::LABEL
        ));
    }
    Ok(Exit::Success)
}
