//! A k3s agent: another VM joining the quickstart's cluster. The same
//! verified binary and air-gap images as the server, its own unit
//! (`k3s-agent`), the server's URL and a copy of the join token (0600) in
//! its config; waited for from the agent's side with the kubelet's own
//! node credentials. Leaving drains the node with those credentials and
//! deletes its Node (the server lets each node delete only itself).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams, EvictParams, ListParams, Patch, PatchParams};

use super::install::{Action, FileChange, ensure_content, ensure_copy, ensure_symlink};
use super::render::{self, K3sSettings};
use super::{AIRGAP_DIR, BINARY, CONFIG, REGISTRIES, SYMLINKS};
use crate::error::IoError;
use crate::host::facts::OUR_UNIT_MARKER;
use crate::host::{Cmd, CmdError, Fs, Runner};

pub const UNIT: &str = "/etc/systemd/system/k3s-agent.service";
pub const UNIT_ENV: &str = "/etc/systemd/system/k3s-agent.service.env";
pub const SERVICE: &str = "k3s-agent.service";
/// The join token, copied from the file the user gave (never in argv).
pub const TOKEN: &str = "/etc/rancher/k3s/agent-token";
/// The kubelet's credentials: node-scoped (`system:node:<name>`).
pub const KUBELET_KUBECONFIG: &str = "/var/lib/rancher/k3s/agent/kubelet.kubeconfig";
/// Set by the kubelet at registration (a `node-role.kubernetes.io/` label
/// would be refused by NodeRestriction).
pub const LABEL: &str = "digit-quickstart/agent";
/// The server's join token file (mode 0600; `node-token` is a link to it).
pub const SERVER_TOKEN: &str = "/var/lib/rancher/k3s/server/token";
/// What the server grants: each node may delete its own Node object (the
/// NodeRestriction admission plugin refuses any other name).
pub const SELF_REMOVAL_ROLE: &str = "digit-quickstart:node-self-removal";

#[derive(Clone, Debug)]
pub struct Join {
    /// `https://host:6443`.
    pub server: String,
    /// The token's text (trimmed), already read from the user's file.
    pub token: String,
}

pub fn config_yaml(s: &K3sSettings, j: &Join) -> String {
    format!(
        "{OUR_UNIT_MARKER}: rewritten on every join.\nserver: {}\ntoken-file: \"{TOKEN}\"\nnode-name: {}\nnode-label:\n  - \"{LABEL}=true\"\n",
        quote(&j.server),
        quote(&s.node_name)
    )
}

fn quote(v: &str) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// The server's unit with the agent's name, env file and command.
pub fn unit(binary: &str) -> String {
    render::unit(binary, UNIT_ENV)
        .replace(
            "Description=k3s (Kubernetes) for digit-quickstart",
            "Description=k3s agent (Kubernetes node) for digit-quickstart",
        )
        .replace(
            &format!("ExecStart={binary} server"),
            &format!("ExecStart={binary} agent"),
        )
}

/// `K10<ca sha256>::<user>:<secret>` or a bare secret (k3s accepts both;
/// the long form lets the agent check the server's CA before it trusts it).
pub fn check_token(text: &str) -> Result<(), String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("the file is empty".into());
    }
    if t.lines().count() > 1 {
        return Err("the file has more than one line".into());
    }
    if let Some(rest) = t.strip_prefix("K10") {
        let Some((hash, creds)) = rest.split_once("::") else {
            return Err("a K10 token needs `::` after the CA hash".into());
        };
        if hash.len() != 64 || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err("the CA hash after K10 is not 64 hex digits".into());
        }
        if !creds.contains(':') {
            return Err("a K10 token ends in `user:secret`".into());
        }
    }
    Ok(())
}

pub struct Inputs<'a> {
    pub binary: &'a Path,
    pub airgap: &'a Path,
    pub airgap_name: &'a str,
    pub settings: &'a K3sSettings,
    pub join: &'a Join,
}

pub fn place_files(fs: &dyn Fs, i: &Inputs) -> Result<Vec<FileChange>, IoError> {
    let mut out = vec![ensure_copy(fs, i.binary, Path::new(BINARY), 0o755)?];
    for name in SYMLINKS {
        out.push(ensure_symlink(fs, name)?);
    }
    out.push(ensure_copy(
        fs,
        i.airgap,
        &Path::new(AIRGAP_DIR).join(i.airgap_name),
        0o644,
    )?);
    out.push(ensure_content(
        fs,
        Path::new(TOKEN),
        format!("{}\n", i.join.token).as_bytes(),
        0o600,
    )?);
    out.push(ensure_content(
        fs,
        Path::new(CONFIG),
        config_yaml(i.settings, i.join).as_bytes(),
        0o600,
    )?);
    if let Some(text) = render::registries_yaml(i.settings) {
        out.push(ensure_content(fs, Path::new(REGISTRIES), text.as_bytes(), 0o600)?);
    }
    out.push(ensure_content(
        fs,
        Path::new(UNIT_ENV),
        render::unit_env(i.settings).as_bytes(),
        0o600,
    )?);
    out.push(ensure_content(fs, Path::new(UNIT), unit(BINARY).as_bytes(), 0o644)?);
    Ok(out)
}

pub fn active(runner: &dyn Runner) -> bool {
    runner
        .output(
            &Cmd::new("systemctl", "ask systemd whether the k3s agent is active")
                .arg("is-active")
                .arg(SERVICE),
        )
        .is_ok_and(|o| o.stdout.trim() == "active")
}

/// Reload, enable and (re)start without blocking: an agent that cannot
/// reach its server retries forever, so `join` waits with its own limit.
pub fn start(runner: &dyn Runner, changes: &[FileChange]) -> Result<Vec<String>, CmdError> {
    let changed = changes.iter().any(FileChange::changed);
    let running = active(runner);
    let mut done = Vec::new();
    if changes
        .iter()
        .any(|c| c.changed() && (c.path == Path::new(UNIT) || c.path == Path::new(UNIT_ENV)))
    {
        runner.run(&Cmd::new("systemctl", "reload systemd's unit files").arg("daemon-reload"))?;
        done.push("daemon-reload".to_owned());
    }
    if !running {
        runner.run(
            &Cmd::new("systemctl", "enable and start the k3s agent")
                .arg("enable")
                .arg("--now")
                .arg("--no-block")
                .arg(SERVICE),
        )?;
        done.push("enable --now".to_owned());
    } else if changed {
        runner.run(
            &Cmd::new("systemctl", "restart the k3s agent")
                .arg("restart")
                .arg("--no-block")
                .arg(SERVICE),
        )?;
        done.push("restart".to_owned());
    }
    Ok(done)
}

/// Whether this host is an agent this tool joined.
pub fn is_agent(fs: &dyn Fs) -> bool {
    fs.read_to_string(Path::new(UNIT))
        .is_ok_and(|t| t.starts_with(OUR_UNIT_MARKER))
}

/// The node name and server from the agent's config.
pub fn joined(fs: &dyn Fs) -> Option<(String, String)> {
    let text = fs.read_to_string(Path::new(CONFIG)).ok()?;
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}: ")))
            .and_then(|v| serde_json::from_str::<String>(v).ok())
    };
    Some((field("node-name")?, field("server")?))
}

/// Polls the Node with the kubelet's credentials until it is Ready.
pub async fn wait_ready(client: &kube::Client, node: &str, limit: Duration, poll: Duration) -> Result<(), String> {
    let nodes: Api<Node> = Api::all(client.clone());
    let start = Instant::now();
    loop {
        let state = match nodes.get_opt(node).await {
            Ok(Some(n)) => {
                let ready = n
                    .status
                    .and_then(|s| s.conditions)
                    .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
                if ready {
                    return Ok(());
                }
                "registered, not Ready yet".to_owned()
            }
            Ok(None) => "not registered yet".to_owned(),
            Err(e) => crate::deploy::cluster::one_line(&e),
        };
        if start.elapsed() >= limit {
            return Err(format!("node {node}: {state} after {}s", limit.as_secs()));
        }
        tokio::time::sleep(poll).await;
    }
}

/// Cordon, evict every pod bound to the node (DaemonSet and mirror pods
/// stay, as `kubectl drain --ignore-daemonsets` does), wait until they are
/// gone, delete the Node. Returns what was done.
pub async fn drain_and_delete(
    client: &kube::Client,
    node: &str,
    limit: Duration,
    poll: Duration,
) -> Result<Vec<String>, String> {
    let mut done = Vec::new();
    let nodes: Api<Node> = Api::all(client.clone());
    let err = |what: &str, e: kube::Error| format!("{what}: {}", crate::deploy::cluster::one_line(&e));
    nodes
        .patch(
            node,
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"spec": {"unschedulable": true}})),
        )
        .await
        .map_err(|e| err("cordon", e))?;
    done.push(format!("cordoned node {node}"));
    let pods: Api<Pod> = Api::all(client.clone());
    let on_node = ListParams::default().fields(&format!("spec.nodeName={node}"));
    let movable = |p: &Pod| {
        let owned_by_ds = p
            .metadata
            .owner_references
            .iter()
            .flatten()
            .any(|o| o.kind == "DaemonSet");
        let mirror = p
            .metadata
            .annotations
            .as_ref()
            .is_some_and(|a| a.contains_key("kubernetes.io/config.mirror"));
        let finished = p
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .is_some_and(|ph| ph == "Succeeded" || ph == "Failed");
        !owned_by_ds && !mirror && !finished
    };
    let list = pods.list(&on_node).await.map_err(|e| err("list its pods", e))?;
    let mut evicted = 0;
    for p in list.items.iter().filter(|p| movable(p)) {
        let (Some(ns), Some(name)) = (p.metadata.namespace.as_deref(), p.metadata.name.as_deref()) else {
            continue;
        };
        let api: Api<Pod> = Api::namespaced(client.clone(), ns);
        match api.evict(name, &EvictParams::default()).await {
            Ok(_) => evicted += 1,
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => return Err(err(&format!("evict {ns}/{name}"), e)),
        }
    }
    done.push(format!(
        "evicted {evicted} pods (their controllers place them on other nodes)"
    ));
    let start = Instant::now();
    loop {
        let left = pods
            .list(&on_node)
            .await
            .map_err(|e| err("list its pods", e))?
            .items
            .into_iter()
            .filter(|p| movable(p))
            .count();
        if left == 0 {
            break;
        }
        if start.elapsed() >= limit {
            return Err(format!("{left} pods still on node {node} after {}s", limit.as_secs()));
        }
        tokio::time::sleep(poll).await;
    }
    match nodes.delete(node, &DeleteParams::default()).await {
        Ok(_) => done.push(format!("deleted node {node} from the cluster")),
        Err(kube::Error::Api(s)) if s.code == 404 => {}
        Err(e) => return Err(err("delete the node", e)),
    }
    Ok(done)
}

/// The ClusterRole and binding `join-command` puts on the server.
pub fn self_removal_rbac() -> [crate::deploy::manifests::Manifest; 2] {
    use crate::deploy::manifests::{MANAGED_BY, MANAGER, Manifest};
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, RoleRef, Subject};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    let meta = ObjectMeta {
        name: Some(SELF_REMOVAL_ROLE.to_owned()),
        labels: Some([(MANAGED_BY.to_owned(), MANAGER.to_owned())].into()),
        ..Default::default()
    };
    let role = ClusterRole {
        metadata: meta.clone(),
        rules: Some(vec![PolicyRule {
            api_groups: Some(vec![String::new()]),
            resources: Some(vec!["nodes".into()]),
            verbs: vec!["delete".into()],
            ..Default::default()
        }]),
        ..Default::default()
    };
    let binding = ClusterRoleBinding {
        metadata: meta,
        role_ref: RoleRef {
            api_group: Some("rbac.authorization.k8s.io".into()),
            kind: "ClusterRole".into(),
            name: SELF_REMOVAL_ROLE.into(),
        },
        subjects: Some(vec![Subject {
            api_group: Some("rbac.authorization.k8s.io".into()),
            kind: "Group".into(),
            name: "system:nodes".into(),
            namespace: None,
        }]),
    };
    [
        Manifest::of(&role, SELF_REMOVAL_ROLE, None),
        Manifest::of(&binding, SELF_REMOVAL_ROLE, None),
    ]
}

/// Paths `uninstall` removes for an agent besides the server's.
pub fn files() -> Vec<PathBuf> {
    vec![UNIT.into(), UNIT_ENV.into(), TOKEN.into()]
}

pub fn unchanged(files: &[FileChange]) -> bool {
    files
        .iter()
        .all(|f| matches!(f.action, Action::Unchanged | Action::Skipped(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agent_unit_is_the_servers_with_the_agent_command() {
        let u = unit(BINARY);
        assert!(u.contains("ExecStart=/usr/local/bin/k3s agent\n"), "{u}");
        assert!(u.contains(&format!("EnvironmentFile=-{UNIT_ENV}\n")), "{u}");
        assert!(!u.contains(" server"), "{u}");
        assert!(u.starts_with(OUR_UNIT_MARKER));
    }

    #[test]
    fn tokens_are_checked_for_shape_and_the_config_names_the_file_not_the_token() {
        let good = format!("K10{}::server:s3cr3t", "a".repeat(64));
        assert!(check_token(&format!("{good}\n")).is_ok());
        assert!(check_token("plain-secret").is_ok());
        assert!(check_token("").is_err());
        assert!(check_token("K10abc::server:x").unwrap_err().contains("64 hex"));
        assert!(check_token(&format!("K10{}", "a".repeat(64))).is_err());
        assert!(check_token("a\nb").is_err());
        let j = Join {
            server: "https://10.0.0.5:6443".into(),
            token: good.clone(),
        };
        let s = K3sSettings {
            node_name: "vm-2".into(),
            ..K3sSettings::default()
        };
        let text = config_yaml(&s, &j);
        assert!(!text.contains("s3cr3t"), "{text}");
        assert!(text.contains(&format!("token-file: \"{TOKEN}\"")), "{text}");
        #[derive(serde::Deserialize)]
        struct C {
            server: String,
            #[serde(rename = "node-name")]
            node_name: String,
            #[serde(rename = "node-label")]
            node_label: Vec<String>,
        }
        let c: C = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(
            (c.server.as_str(), c.node_name.as_str()),
            ("https://10.0.0.5:6443", "vm-2")
        );
        assert_eq!(c.node_label, vec![format!("{LABEL}=true")]);
    }
}
