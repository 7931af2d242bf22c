//! `doctor`: one archive with what a maintainer needs to see why an install
//! misbehaves — host facts, preflight, journal, report, logs, k3s's journal,
//! containerd's log, node/pod/event listings and recent pod logs — with every
//! secret redacted before it is written.

use std::io::Write;
use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::{Event, Node, Pod};
use kube::api::{Api, ListParams, LogParams};

use crate::error::{Exit, IoError, Report};
use crate::host::{Cmd, Fs, Host};
use crate::layout::Layout;
use crate::profile::Profile;

pub struct Request<'a> {
    pub host: &'a Host,
    pub data_fs: &'a dyn Fs,
    pub profile: &'a Profile,
    pub layout: &'a Layout,
    pub kubeconfig: PathBuf,
    pub facts_json: String,
    pub out_dir: PathBuf,
    pub stamp: String,
}

/// Secret values, then anything shaped like a credential.
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for s in secrets {
        if s.len() >= 6 {
            out = out.replace(s.as_str(), crate::logging::REDACTED);
        }
    }
    let keys = [
        "token:",
        "client-key-data:",
        "client-certificate-data:",
        "password:",
        "Authorization: Bearer ",
    ];
    out.lines()
        .map(|line| {
            let lower = line.to_ascii_lowercase();
            match keys
                .iter()
                .find_map(|k| lower.find(&k.to_ascii_lowercase()).map(|i| i + k.len()))
            {
                Some(end) if line[end..].trim().len() > 3 => format!("{} {}", &line[..end], crate::logging::REDACTED),
                _ => line.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

struct Archive {
    files: Vec<(String, String)>,
}

impl Archive {
    fn add(&mut self, name: &str, text: String) {
        self.files.push((name.to_owned(), text));
    }
}

fn json<T: serde::Serialize>(v: Result<T, kube::Error>) -> String {
    match v {
        Ok(list) => serde_json::to_string_pretty(&list).unwrap_or_default(),
        Err(e) => format!("(could not list: {})", crate::deploy::cluster::one_line(&e)),
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

pub async fn collect(req: &Request<'_>) -> Result<PathBuf, Report> {
    let mut a = Archive { files: Vec::new() };
    a.add("host-facts.json", req.facts_json.clone());
    let data = req.layout.data_dir();
    for name in [
        "preflight.json",
        "journal.json",
        "report.json",
        &format!("{}.lock", req.profile.name),
    ] {
        if let Ok(text) = req.data_fs.read_to_string(&data.join(name)) {
            a.add(name, text);
        }
    }
    if let Ok(names) = req.data_fs.read_dir(&req.layout.logs()) {
        for n in names {
            if let Ok(text) = req.data_fs.read_to_string(&req.layout.logs().join(&n)) {
                a.add(&format!("logs/{n}"), text);
            }
        }
    }
    let journal = req.host.cmd.output(
        &Cmd::new("journalctl", "read k3s's journal")
            .arg("-u")
            .arg("k3s.service")
            .arg("--no-pager")
            .arg("-n")
            .arg("3000"),
    );
    a.add(
        "k3s-journal.txt",
        match journal {
            Ok(o) => format!("{}{}", o.stdout, o.stderr),
            Err(e) => format!("(journalctl could not run: {e})"),
        },
    );
    let containerd_log = Path::new("/var/lib/rancher/k3s/agent/containerd/containerd.log");
    a.add(
        "containerd.log",
        req.host
            .fs
            .read_to_string(containerd_log)
            .map(|t| tail(&t, 2000))
            .unwrap_or_else(|e| format!("(not readable: {e})")),
    );
    match crate::k3s::lifecycle::kube_client(&req.kubeconfig, None).await {
        Err(e) => a.add(
            "kubernetes.txt",
            format!("(the API is not reachable: {})", e.chain().join(": ")),
        ),
        Ok(client) => {
            let lp = ListParams::default();
            let nodes: Api<Node> = Api::all(client.clone());
            let pods: Api<Pod> = Api::all(client.clone());
            let events: Api<Event> = Api::all(client.clone());
            a.add("nodes.json", json(nodes.list(&lp).await.map(|l| l.items)));
            let pod_list = pods.list(&lp).await;
            if let Ok(list) = &pod_list {
                for pod in &list.items {
                    let ns = pod.metadata.namespace.clone().unwrap_or_default();
                    if ns != req.profile.namespace && ns != "kube-system" {
                        continue;
                    }
                    let name = pod.metadata.name.clone().unwrap_or_default();
                    let containers = pod.spec.iter().flat_map(|s| {
                        s.init_containers
                            .iter()
                            .flatten()
                            .chain(s.containers.iter())
                            .map(|c| c.name.clone())
                    });
                    let api: Api<Pod> = Api::namespaced(client.clone(), &ns);
                    for c in containers.collect::<Vec<_>>() {
                        let lp = LogParams {
                            container: Some(c.clone()),
                            tail_lines: Some(200),
                            ..Default::default()
                        };
                        let text = api
                            .logs(&name, &lp)
                            .await
                            .unwrap_or_else(|e| format!("(no log: {})", crate::deploy::cluster::one_line(&e)));
                        a.add(&format!("pod-logs/{ns}_{name}_{c}.log"), text);
                    }
                }
            }
            a.add("pods.json", json(pod_list.map(|l| l.items)));
            a.add("events.json", json(events.list(&lp).await.map(|l| l.items)));
        }
    }
    let secrets: Vec<String> = crate::deploy::secrets::load(req.data_fs, &req.layout.secrets(), req.profile)
        .ok()
        .flatten()
        .map(|s| s.values().map(str::to_owned).collect())
        .unwrap_or_default();
    write(req, &a, &secrets)
}

fn write(req: &Request<'_>, a: &Archive, secrets: &[String]) -> Result<PathBuf, Report> {
    let name = format!("digit-quickstart-doctor-{}", req.stamp);
    let path = req.out_dir.join(format!("{name}.tar.gz"));
    let io = |source| {
        Report::new(
            IoError {
                action: "write the doctor archive",
                path: path.clone(),
                source,
            },
            Exit::Failed,
        )
    };
    let file = std::fs::File::create(&path).map_err(io)?;
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let mut index = String::new();
    for (member, text) in &a.files {
        let clean = redact(text, secrets);
        index.push_str(&format!("{member}\t{} bytes\n", clean.len()));
        let mut header = tar::Header::new_gnu();
        header.set_size(clean.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, format!("{name}/{member}"), clean.as_bytes())
            .map_err(io)?;
    }
    let mut header = tar::Header::new_gnu();
    header.set_size(index.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, format!("{name}/INDEX.txt"), index.as_bytes())
        .map_err(io)?;
    let mut gz = tar.into_inner().map_err(io)?;
    gz.flush().map_err(io)?;
    gz.finish().map_err(io)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_and_credential_lines_are_redacted() {
        let text =
            "db password is Xk29sLq0pZ\n    token: eyJhbGciOi.abc.def\nclient-key-data: LS0tLS1CRUdJTg==\nplain line";
        let out = super::redact(text, &["Xk29sLq0pZ".to_owned()]);
        assert!(!out.contains("Xk29sLq0pZ") && !out.contains("eyJhbGciOi") && !out.contains("LS0tLS1"));
        assert!(out.contains("plain line"));
        assert_eq!(out.matches("[REDACTED]").count(), 3, "{out}");
    }
}
