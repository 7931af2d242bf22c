//! A real Kubernetes control plane as a test peer: kine (k3s's datastore) →
//! kube-apiserver → kube-controller-manager → kube-scheduler → KWOK, built
//! from Go modules by `scripts/control-plane`, on free loopback ports with
//! generated certificates and an admin token. KWOK plays the kubelet of
//! simulated nodes sized like the user's VM (tests/fixtures/kwok/stages.yaml).
//!
//! What k3s would add is created here too: the default `local-path`
//! StorageClass with a provisioner that binds a PV to each claim the scheduler
//! has placed (as rancher.io/local-path does), the `traefik` IngressClass, and
//! the kube-system Deployments the k3s waits look for.
//!
//! The API server's `cluster` egress (service, pod and node proxy) goes
//! through an HTTP CONNECT proxy here, the way k3s tunnels it: requests the
//! product sends to a DIGIT service through the API server's service proxy
//! reach `InCluster` (a Unix socket), which answers as the DIGIT service would and records
//! the pod IP the API server chose.
//!
//! Teardown kills every process (also when a test panics, and via
//! PR_SET_PDEATHSIG when the test process dies) and prints each process's
//! last log lines when the test failed.
#![allow(dead_code, clippy::disallowed_methods)]

use std::collections::{BTreeMap, HashMap};
use std::io::{BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::{Value, json};

use super::cluster::{Request, read_request};
use super::free_port;

/// A simulated node. The default is the VM the dev profile is sized for.
#[derive(Clone, Debug)]
pub struct NodeSpec {
    pub name: String,
    pub cpu: String,
    pub memory: String,
    pub arch: String,
    /// What the node reports as its kubelet's version.
    pub kubelet: String,
}

impl NodeSpec {
    pub fn new(name: &str, cpu: &str, memory: &str) -> Self {
        Self {
            name: name.to_owned(),
            cpu: cpu.to_owned(),
            memory: memory.to_owned(),
            arch: "amd64".to_owned(),
            kubelet: "v1.36.4+k3s1".to_owned(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Options {
    pub nodes: Vec<NodeSpec>,
    /// The kube-system Deployments, StorageClass and IngressClass k3s brings.
    pub k3s_addons: bool,
    /// `kubectl exec` into any pod runs the command on this machine with
    /// these variables (KWOK's ClusterExec, local): the API server reaches
    /// KWOK's kubelet server through the egress proxy, as it reaches a
    /// kubelet through k3s's tunnel.
    pub exec_env: Option<Vec<(String, String)>>,
    /// A port-forward to any pod reaches this `host:port` (KWOK's
    /// ClusterPortForward), as one to a real pod reaches its container.
    pub port_forward_to: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            nodes: vec![NodeSpec::new("digit-vm", "4", "8Gi")],
            k3s_addons: true,
            exec_env: None,
            port_forward_to: None,
        }
    }
}

/// Answers a request the API server proxied into the cluster: the target
/// `ip:port` and the request; returns status and JSON body.
pub type Handler = Arc<dyn Fn(&str, &Request) -> (u16, String) + Send + Sync>;

/// What reached "pods" through the API server's proxy.
#[derive(Clone)]
pub struct InCluster {
    pub socket: PathBuf,
    seen: Arc<Mutex<Vec<(String, Request)>>>,
    handler: Arc<Mutex<Handler>>,
}

impl InCluster {
    /// Every request so far, with the `ip:port` it was sent to.
    pub fn requests(&self) -> Vec<(String, Request)> {
        self.seen.lock().unwrap().clone()
    }

    pub fn set_handler(&self, h: Handler) {
        *self.handler.lock().unwrap() = h;
    }
}

struct Proc {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

pub struct ControlPlane {
    pub dir: tempfile::TempDir,
    pub url: String,
    pub token: String,
    pub kubeconfig: PathBuf,
    pub in_cluster: InCluster,
    procs: Vec<Proc>,
    stop: Arc<AtomicBool>,
    rt: Option<tokio::runtime::Runtime>,
    client: kube::Client,
    pub started_in: Duration,
}

/// The directory holding the built binaries: `DIGIT_QUICKSTART_CONTROL_PLANE`
/// (scripts/test sets it) or whatever `scripts/control-plane` builds or finds
/// in its cache. A failure stops the test: this peer is never skipped.
pub fn binaries() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        if let Some(dir) = std::env::var_os("DIGIT_QUICKSTART_CONTROL_PLANE") {
            return PathBuf::from(dir);
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/control-plane");
        let out = Command::new(&script)
            .stderr(Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        assert!(
            out.status.success(),
            "scripts/control-plane failed: the real control plane is required (README: Tests)"
        );
        PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
    })
    .clone()
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl is required");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One CA, the API server's serving certificate, the service-account key.
fn certificates(dir: &Path) {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let mut ca = vec!["req", "-x509", "-days", "2", "-subj", "/CN=digit-quickstart-test-ca"];
    ca.extend(ec);
    ca.extend(["-keyout", "ca.key", "-out", "ca.crt"]);
    openssl(dir, &ca);
    let mut csr = vec!["req", "-subj", "/CN=kube-apiserver"];
    csr.extend(ec);
    csr.extend(["-keyout", "server.key", "-out", "server.csr"]);
    openssl(dir, &csr);
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.43.0.1,DNS:kubernetes.default.svc\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "san.ext",
            "-out",
            "server.crt",
        ],
    );
    openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-out",
            "sa.key",
        ],
    );
    openssl(dir, &["pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub"]);
}

fn spawn(name: &'static str, dir: &Path, program: &Path, args: &[String]) -> Proc {
    let log = dir.join(format!("{name}.log"));
    let file = std::fs::File::create(&log).unwrap();
    // The process dies with the test process, whatever ends it.
    let child = Command::new("setpriv")
        .args(["--pdeathsig", "KILL", "--"])
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
    Proc { name, child, log }
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

impl ControlPlane {
    pub fn start() -> Self {
        Self::start_with(Options::default())
    }

    pub fn start_with(opts: Options) -> Self {
        let begun = Instant::now();
        let bin = binaries();
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_owned();
        certificates(&d);
        let token = format!("{:x}", sha2_token(&d));
        std::fs::write(
            d.join("tokens.csv"),
            format!("{token},admin,admin,\"system:masters\"\n"),
        )
        .unwrap();
        // A Unix socket: kube-apiserver 1.36 dereferences a missing TLS config
        // for an http:// TCP egress proxy (egress_selector.go getTLSConfig).
        let kwok_port = free_port();
        let in_cluster = start_in_cluster(&d.join("egress.sock"), kwok_port);
        std::fs::write(
            d.join("egress.yaml"),
            format!(
                "apiVersion: apiserver.k8s.io/v1beta1\nkind: EgressSelectorConfiguration\negressSelections:\n- name: cluster\n  connection:\n    proxyProtocol: HTTPConnect\n    transport:\n      uds:\n        udsName: {}\n",
                in_cluster.socket.display()
            ),
        )
        .unwrap();

        let (kine_port, api_port, cm_port, sched_port) = (free_port(), free_port(), free_port(), free_port());
        let url = format!("https://127.0.0.1:{api_port}");
        let kubeconfig = d.join("admin.kubeconfig");
        let ca = base64_file(&d.join("ca.crt"));
        std::fs::write(
            &kubeconfig,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster: {{server: \"{url}\", certificate-authority-data: {ca}}}\ncontexts:\n- name: test\n  context: {{cluster: test, user: admin}}\ncurrent-context: test\nusers:\n- name: admin\n  user: {{token: {token}}}\n"
            ),
        )
        .unwrap();
        let p = |name: &str| d.join(name).display().to_string();
        let mut procs = Vec::new();
        procs.push(spawn(
            "kine",
            &d,
            &bin.join("kine"),
            &[
                format!("--listen-address=127.0.0.1:{kine_port}"),
                format!(
                    "--endpoint=sqlite://{}?_journal=WAL&cache=shared&_busy_timeout=30000&_txlock=immediate",
                    p("state.db")
                ),
                "--metrics-bind-address=0".into(),
            ],
        ));
        procs.push(spawn(
            "kube-apiserver",
            &d,
            &bin.join("kube-apiserver"),
            &[
                format!("--etcd-servers=http://127.0.0.1:{kine_port}"),
                "--bind-address=127.0.0.1".into(),
                "--advertise-address=127.0.0.1".into(),
                format!("--secure-port={api_port}"),
                format!("--tls-cert-file={}", p("server.crt")),
                format!("--tls-private-key-file={}", p("server.key")),
                format!("--client-ca-file={}", p("ca.crt")),
                format!("--token-auth-file={}", p("tokens.csv")),
                "--authorization-mode=Node,RBAC".into(),
                // As k3s runs it (pkg/daemons/control/server.go): a node may
                // change and delete only its own Node and pods bound to it.
                "--enable-admission-plugins=NodeRestriction".into(),
                "--allow-privileged=true".into(),
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local".into(),
                format!("--service-account-key-file={}", p("sa.pub")),
                format!("--service-account-signing-key-file={}", p("sa.key")),
                "--service-cluster-ip-range=10.43.0.0/16".into(),
                "--endpoint-reconciler-type=none".into(),
                format!("--egress-selector-config-file={}", p("egress.yaml")),
                "--profiling=false".into(),
            ],
        ));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let client = rt.block_on(kube_client(&kubeconfig));
        let mut cp = Self {
            dir,
            url: url.clone(),
            token,
            kubeconfig: kubeconfig.clone(),
            in_cluster,
            procs,
            stop: Arc::new(AtomicBool::new(false)),
            rt: Some(rt),
            client,
            started_in: Duration::ZERO,
        };
        cp.wait("the API server's /readyz", Duration::from_secs(90), |cp| {
            cp.get_raw("/readyz").is_some_and(|(s, _)| s == 200)
        });
        let kc = kubeconfig.display().to_string();
        cp.procs.push(spawn(
            "kube-controller-manager",
            &d,
            &bin.join("kube-controller-manager"),
            &[
                format!("--kubeconfig={kc}"),
                format!("--authentication-kubeconfig={kc}"),
                format!("--authorization-kubeconfig={kc}"),
                format!("--service-account-private-key-file={}", p("sa.key")),
                format!("--root-ca-file={}", p("ca.crt")),
                "--use-service-account-credentials=true".into(),
                "--leader-elect=false".into(),
                "--bind-address=127.0.0.1".into(),
                format!("--secure-port={cm_port}"),
                // Quick reaction to what KWOK reports, as the tests wait on it.
                "--concurrent-deployment-syncs=10".into(),
                "--concurrent-replicaset-syncs=10".into(),
            ],
        ));
        cp.procs.push(spawn(
            "kube-scheduler",
            &d,
            &bin.join("kube-scheduler"),
            &[
                format!("--kubeconfig={kc}"),
                format!("--authentication-kubeconfig={kc}"),
                format!("--authorization-kubeconfig={kc}"),
                "--leader-elect=false".into(),
                "--bind-address=127.0.0.1".into(),
                format!("--secure-port={sched_port}"),
            ],
        ));
        let stages_file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kwok/stages.yaml");
        let mut kwok_config = std::fs::read_to_string(&stages_file).unwrap();
        if let Some(envs) = &opts.exec_env {
            let envs: Vec<Value> = envs.iter().map(|(k, v)| json!({"name": k, "value": v})).collect();
            let exec = json!({"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "ClusterExec",
                "metadata": {"name": "local"}, "spec": {"execs": [{"local": {"envs": envs, "workDir": d}}]}});
            kwok_config.push_str(&format!("\n---\n{exec}\n"));
        }
        if let Some(to) = &opts.port_forward_to {
            let (address, port) = to.rsplit_once(':').unwrap();
            let pf = json!({"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "ClusterPortForward",
                "metadata": {"name": "local"}, "spec": {"forwards": [{"target": {"address": address, "port": port.parse::<i32>().unwrap()}}]}});
            kwok_config.push_str(&format!("\n---\n{pf}\n"));
        }
        let stages = d.join("kwok.yaml");
        std::fs::write(&stages, kwok_config).unwrap();
        cp.procs.push(spawn(
            "kwok",
            &d,
            &bin.join("kwok"),
            &[
                format!("--kubeconfig={kc}"),
                format!("--config={}", stages.display()),
                "--manage-all-nodes=true".into(),
                "--cidr=10.42.0.0/16".into(),
                "--node-ip=10.0.0.10".into(),
                "--node-lease-duration-seconds=40".into(),
                format!("--server-address=127.0.0.1:{kwok_port}"),
                format!("--tls-cert-file={}", p("server.crt")),
                format!("--tls-private-key-file={}", p("server.key")),
            ],
        ));
        for (i, n) in opts.nodes.iter().enumerate() {
            cp.create("/api/v1/nodes", &node(n, i, kwok_port));
        }
        if opts.k3s_addons {
            cp.k3s_addons();
        }
        cp.start_provisioner();
        // Ready when every process works: KWOK marked the nodes Ready, the
        // controller-manager made the default ServiceAccount, and (with the
        // add-ons) the scheduler placed CoreDNS and its rollout finished.
        let names: Vec<String> = opts.nodes.iter().map(|n| n.name.clone()).collect();
        cp.wait("the nodes Ready", Duration::from_secs(60), |cp| {
            names.iter().all(|n| cp.node_ready(n))
        });
        cp.wait("the default ServiceAccount", Duration::from_secs(60), |cp| {
            cp.get("/api/v1/namespaces/default/serviceaccounts/default").is_some()
        });
        if opts.k3s_addons {
            cp.wait("CoreDNS available", Duration::from_secs(60), |cp| {
                cp.get("/apis/apps/v1/namespaces/kube-system/deployments/coredns")
                    .is_some_and(|d| d["status"]["availableReplicas"].as_i64() == Some(1))
            });
        }
        cp.started_in = begun.elapsed();
        cp
    }

    fn wait(&self, what: &str, limit: Duration, ok: impl Fn(&Self) -> bool) {
        let start = Instant::now();
        while !ok(self) {
            for p in &self.procs {
                let exited = std::fs::read_to_string(format!("/proc/{}/stat", p.child.id()))
                    .map(|s| s.contains(") Z "))
                    .unwrap_or(true);
                assert!(
                    !exited,
                    "{} exited while waiting for {what}:\n{}",
                    p.name,
                    tail(&p.log, 40)
                );
            }
            assert!(
                start.elapsed() < limit,
                "the control plane did not reach {what} in {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Runs a future on the harness's runtime.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.as_ref().unwrap().block_on(f)
    }

    pub fn client(&self) -> kube::Client {
        self.client.clone()
    }

    /// `(status, body)` of a GET, or None when the server does not answer.
    pub fn get_raw(&self, path: &str) -> Option<(u16, String)> {
        let req = http::Request::get(path).body(Vec::new()).unwrap();
        self.block_on(async {
            let resp = self.client.send(req.map(kube::client::Body::from)).await.ok()?;
            let status = resp.status().as_u16();
            let bytes = resp.into_body().collect_bytes().await.ok()?;
            Some((status, String::from_utf8_lossy(&bytes).into_owned()))
        })
    }

    /// The object at `path`, or None when it does not exist.
    pub fn get(&self, path: &str) -> Option<Value> {
        match self.get_raw(path) {
            Some((200, body)) => serde_json::from_str(&body).ok(),
            _ => None,
        }
    }

    /// The items of the list at `path`.
    pub fn list(&self, path: &str) -> Vec<Value> {
        self.get(path)
            .and_then(|l| l["items"].as_array().cloned())
            .unwrap_or_default()
    }

    pub fn send(&self, method: &str, path: &str, content_type: &str, body: &Value) -> (u16, Value) {
        let req = http::Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", content_type)
            .body(serde_json::to_vec(body).unwrap())
            .unwrap();
        self.block_on(async {
            let resp = self.client.send(req.map(kube::client::Body::from)).await.unwrap();
            let status = resp.status().as_u16();
            let bytes = resp.into_body().collect_bytes().await.unwrap();
            (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
        })
    }

    /// POST; panics unless the API created it.
    pub fn create(&self, collection: &str, obj: &Value) -> Value {
        let (status, body) = self.send("POST", collection, "application/json", obj);
        assert!(status == 201 || status == 200, "POST {collection}: {status} {body}");
        body
    }

    pub fn delete(&self, path: &str) -> u16 {
        self.send("DELETE", path, "application/json", &json!({})).0
    }

    fn node_ready(&self, name: &str) -> bool {
        self.get(&format!("/api/v1/nodes/{name}")).is_some_and(|n| {
            n["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
    }

    /// What k3s's packaged manifests create on a new server.
    fn k3s_addons(&self) {
        self.create(
            "/apis/storage.k8s.io/v1/storageclasses",
            &json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                "metadata": {"name": "local-path", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
                "provisioner": "rancher.io/local-path", "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer"}),
        );
        self.create(
            "/apis/networking.k8s.io/v1/ingressclasses",
            &json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
                "metadata": {"name": "traefik", "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"}},
                "spec": {"controller": "traefik.io/ingress-controller"}}),
        );
        for (name, image) in [
            ("coredns", "rancher/mirrored-coredns-coredns:1.14.6"),
            ("traefik", "rancher/mirrored-library-traefik:3.7.8"),
            ("local-path-provisioner", "rancher/local-path-provisioner:v0.0.34"),
        ] {
            self.create(
                "/apis/apps/v1/namespaces/kube-system/deployments",
                &json!({"apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": name, "namespace": "kube-system", "labels": {"k8s-app": name}},
                    "spec": {"replicas": 1, "selector": {"matchLabels": {"k8s-app": name}},
                        "template": {"metadata": {"labels": {"k8s-app": name}},
                            "spec": {"containers": [{"name": name, "image": image,
                                "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}}}]}}}}),
            );
        }
    }

    /// Binds a local-path PV to each claim the scheduler placed on a node
    /// (what rancher.io/local-path does), and deletes released ones.
    fn start_provisioner(&self) {
        let client = self.client.clone();
        let stop = self.stop.clone();
        self.rt.as_ref().unwrap().spawn(async move {
            let pvcs: Api<PersistentVolumeClaim> = Api::all(client.clone());
            let pvs: Api<PersistentVolume> = Api::all(client.clone());
            while !stop.load(Ordering::Relaxed) {
                if let Ok(list) = pvcs.list(&ListParams::default()).await {
                    for pvc in list.items {
                        provision(&pvs, &pvc).await;
                    }
                }
                if let Ok(list) = pvs.list(&ListParams::default()).await {
                    for pv in list.items {
                        let released = pv.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Released");
                        let ours = pv
                            .metadata
                            .annotations
                            .as_ref()
                            .is_some_and(|a| a.get(PROVISIONED_BY).map(String::as_str) == Some(PROVISIONER));
                        if released && ours {
                            let _ = pvs
                                .delete(
                                    pv.metadata.name.as_deref().unwrap_or_default(),
                                    &DeleteParams::default(),
                                )
                                .await;
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
    }

    /// A kubeconfig at `out` for node `name` (`system:node:<name>` in group
    /// `system:nodes`, a client certificate from this cluster's CA), as k3s
    /// gives its agents' kubelets. Returns the certificate and key files.
    pub fn node_kubeconfig(&self, name: &str, out: &Path) -> (PathBuf, PathBuf) {
        let d = self.dir.path();
        let (key, csr, crt, ext) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.crt"),
            format!("{name}.ext"),
        );
        let subj = format!("/O=system:nodes/CN=system:node:{name}");
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        let mut req = vec!["req", "-subj", subj.as_str()];
        req.extend(ec);
        req.extend(["-keyout", key.as_str(), "-out", csr.as_str()]);
        openssl(d, &req);
        // A v3 certificate: rustls refuses v1.
        std::fs::write(d.join(&ext), "extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n").unwrap();
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                &ext,
                "-out",
                &crt,
            ],
        );
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: k3s\n  cluster: {{server: \"{}\", certificate-authority-data: {}}}\n\
             contexts:\n- name: k3s\n  context: {{cluster: k3s, user: node}}\ncurrent-context: k3s\n\
             users:\n- name: node\n  user: {{client-certificate-data: {}, client-key-data: {}}}\n",
            self.url,
            base64_file(&d.join("ca.crt")),
            base64_file(&d.join(&crt)),
            base64_file(&d.join(&key))
        );
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        std::fs::write(out, text).unwrap();
        (d.join(crt), d.join(key))
    }

    /// A kubeconfig for the product, at `path`.
    pub fn write_kubeconfig(&self, path: &Path) -> PathBuf {
        std::fs::copy(&self.kubeconfig, path).unwrap();
        path.to_owned()
    }

    /// Every Event's `reason: message` in `namespace`.
    pub fn events(&self, namespace: &str) -> Vec<String> {
        self.list(&format!("/api/v1/namespaces/{namespace}/events"))
            .iter()
            .map(|e| {
                format!(
                    "{}: {}",
                    e["reason"].as_str().unwrap_or(""),
                    e["message"].as_str().unwrap_or("")
                )
            })
            .collect()
    }

    /// `name -> resourceVersion` of every object of these kinds in `namespace`.
    pub fn versions(&self, namespace: &str) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (prefix, kind) in [
            ("/api/v1", "configmaps"),
            ("/api/v1", "secrets"),
            ("/api/v1", "services"),
            ("/api/v1", "serviceaccounts"),
            ("/api/v1", "persistentvolumeclaims"),
            ("/apis/apps/v1", "deployments"),
            ("/apis/apps/v1", "replicasets"),
            ("/apis/batch/v1", "jobs"),
            ("/apis/networking.k8s.io/v1", "ingresses"),
            ("/apis/rbac.authorization.k8s.io/v1", "roles"),
            ("/apis/rbac.authorization.k8s.io/v1", "rolebindings"),
        ] {
            for o in self.list(&format!("{prefix}/namespaces/{namespace}/{kind}")) {
                out.insert(
                    format!("{kind}/{}", o["metadata"]["name"].as_str().unwrap_or("")),
                    o["metadata"]["resourceVersion"].as_str().unwrap_or("").to_owned(),
                );
            }
        }
        out
    }

    /// Each process's last log lines (printed when a test fails).
    pub fn logs(&self, lines: usize) -> String {
        self.procs
            .iter()
            .map(|p| format!("--- {} ({})\n{}", p.name, p.log.display(), tail(&p.log, lines)))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for ControlPlane {
    #[allow(clippy::print_stderr)]
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if std::thread::panicking() {
            eprintln!("control plane logs (the test failed):\n{}", self.logs(30));
        }
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
        for p in self.procs.iter_mut().rev() {
            let _ = p.child.kill();
            let _ = p.child.wait();
        }
    }
}

const PROVISIONER: &str = "rancher.io/local-path";
const PROVISIONED_BY: &str = "pv.kubernetes.io/provisioned-by";

async fn provision(pvs: &Api<PersistentVolume>, pvc: &PersistentVolumeClaim) {
    let meta = &pvc.metadata;
    let annotations = meta.annotations.clone().unwrap_or_default();
    let Some(node) = annotations.get("volume.kubernetes.io/selected-node") else {
        return;
    };
    let spec = pvc.spec.clone().unwrap_or_default();
    let pending = pvc.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Pending");
    if !pending || spec.volume_name.is_some() || spec.storage_class_name.as_deref() != Some("local-path") {
        return;
    }
    let uid = meta.uid.clone().unwrap_or_default();
    let name = format!("pvc-{uid}");
    let size = spec
        .resources
        .as_ref()
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage"))
        .map(|q| q.0.clone())
        .unwrap_or_else(|| "1Gi".into());
    let pv: PersistentVolume = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": name, "annotations": {PROVISIONED_BY: PROVISIONER}},
        "spec": {
            "capacity": {"storage": size},
            "accessModes": spec.access_modes.clone().unwrap_or_else(|| vec!["ReadWriteOnce".into()]),
            "persistentVolumeReclaimPolicy": "Delete",
            "storageClassName": "local-path",
            "hostPath": {"path": format!("/var/lib/rancher/k3s/storage/{name}_{}_{}", meta.namespace.as_deref().unwrap_or(""), meta.name.as_deref().unwrap_or("")), "type": "DirectoryOrCreate"},
            "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": meta.namespace, "name": meta.name, "uid": uid},
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}}
        }
    }))
    .unwrap();
    let _ = pvs.create(&PostParams::default(), &pv).await;
}

fn node(n: &NodeSpec, index: usize, kubelet_port: u16) -> Value {
    let resources = json!({"cpu": n.cpu, "memory": n.memory, "pods": "110", "ephemeral-storage": "60Gi"});
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": n.name, "labels": {
            "kubernetes.io/hostname": n.name, "kubernetes.io/os": "linux", "kubernetes.io/arch": n.arch,
            "beta.kubernetes.io/arch": n.arch, "beta.kubernetes.io/os": "linux",
            "node-role.kubernetes.io/control-plane": "true", "type": "kwok"}},
        "spec": {"podCIDR": format!("10.42.{index}.0/24"), "podCIDRs": [format!("10.42.{index}.0/24")]},
        "status": {
            "capacity": resources, "allocatable": resources,
            "addresses": [{"type": "InternalIP", "address": format!("10.0.0.{}", 10 + index)}, {"type": "Hostname", "address": n.name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": kubelet_port}},
            "nodeInfo": {"architecture": n.arch, "operatingSystem": "linux", "kubeletVersion": n.kubelet,
                "kubeProxyVersion": "v1.36.4+k3s1", "containerRuntimeVersion": "containerd://2.3.4-k3s1.36",
                "osImage": "Debian GNU/Linux 12 (bookworm)", "kernelVersion": "6.1.0-26-amd64",
                "machineID": "", "systemUUID": "", "bootID": ""}
        }
    })
}

/// A client on the harness's runtime (kube's client spawns onto it).
async fn kube_client(kubeconfig: &Path) -> kube::Client {
    let kc = kube::config::Kubeconfig::read_from(kubeconfig).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
        .await
        .unwrap();
    kube::Client::try_from(config).unwrap()
}

fn base64_file(path: &Path) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(std::fs::read(path).unwrap())
}

/// A token no other cluster shares: the hash of this cluster's CA key.
fn sha2_token(dir: &Path) -> sha2::digest::Output<sha2::Sha256> {
    use sha2::Digest;
    sha2::Sha256::digest(std::fs::read(dir.join("ca.key")).unwrap())
}

/// The HTTP CONNECT proxy the API server's `cluster` egress dials, serving
/// each tunnel as the DIGIT service at that address would.
fn start_in_cluster(socket: &Path, kubelet_port: u16) -> InCluster {
    let listener = UnixListener::bind(socket).unwrap();
    let seen: Arc<Mutex<Vec<(String, Request)>>> = Arc::default();
    let handler: Arc<Mutex<Handler>> = Arc::new(Mutex::new(digit_in_cluster()));
    let (s, h) = (seen.clone(), handler.clone());
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let (seen, handler) = (s.clone(), h.clone());
            std::thread::spawn(move || tunnel(conn, &seen, &handler, kubelet_port));
        }
    });
    InCluster {
        socket: socket.to_owned(),
        seen,
        handler,
    }
}

fn tunnel(conn: UnixStream, seen: &Mutex<Vec<(String, Request)>>, handler: &Mutex<Handler>, kubelet_port: u16) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut conn = conn;
    let Some(connect) = read_request(&mut reader) else {
        return;
    };
    if connect.method != "CONNECT" {
        let _ = write!(conn, "HTTP/1.1 405 X\r\ncontent-length: 0\r\n\r\n");
        return;
    }
    let target = connect.path.clone();
    // A node's kubelet port (exec, logs): KWOK's server, byte for byte.
    if target
        .rsplit_once(':')
        .is_some_and(|(_, port)| port == kubelet_port.to_string())
    {
        let Ok(upstream) = std::net::TcpStream::connect(("127.0.0.1", kubelet_port)) else {
            let _ = write!(conn, "HTTP/1.1 502 X\r\ncontent-length: 0\r\n\r\n");
            return;
        };
        let _ = write!(conn, "HTTP/1.1 200 Connection established\r\n\r\n");
        splice(reader, conn, upstream);
        return;
    }
    let _ = write!(conn, "HTTP/1.1 200 Connection established\r\n\r\n");
    while let Some(req) = read_request(&mut reader) {
        seen.lock().unwrap().push((target.clone(), req.clone()));
        let h = handler.lock().unwrap().clone();
        let (status, body) = h(&target, &req);
        let reply = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        let _ = conn.write_all(reply.as_bytes());
    }
}

/// Copies both ways until either side closes. `reader` may hold bytes the
/// CONNECT parse read ahead; they go first.
fn splice(mut reader: BufReader<UnixStream>, mut conn: UnixStream, upstream: std::net::TcpStream) {
    use std::io::{BufRead as _, Read as _};
    let mut up_w = upstream.try_clone().unwrap();
    let ahead = reader.buffer().to_vec();
    reader.consume(ahead.len());
    let _ = up_w.write_all(&ahead);
    let mut up_r = upstream;
    let back = std::thread::spawn(move || {
        let _ = std::io::copy(&mut up_r, &mut conn);
        let _ = conn.shutdown(std::net::Shutdown::Both);
    });
    let mut from = reader.into_inner();
    let mut buf = [0u8; 65536];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if up_w.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = up_w.shutdown(std::net::Shutdown::Write);
    let _ = back.join();
}

/// DIGIT's in-cluster answers to the installer's seeding calls, in the
/// shapes the services give (egov-user's `_createnovalidate` refuses a
/// second user of the same name with DuplicateUserName).
pub fn digit_in_cluster() -> Handler {
    let users: Arc<Mutex<HashMap<String, Value>>> = Arc::default();
    Arc::new(move |_target, req| {
        let body: Value = serde_json::from_str(&req.body).unwrap_or(Value::Null);
        match req.path.as_str() {
            p if p.ends_with("/users/_createnovalidate") => {
                let user = body["User"].clone();
                let name = user["userName"].as_str().unwrap_or("").to_owned();
                match users.lock().unwrap().entry(name) {
                    std::collections::hash_map::Entry::Occupied(_) => (
                        400,
                        json!({"ResponseInfo": null, "Errors": [{"code": "DuplicateUserName", "message": "User with this user name already exists"}]}).to_string(),
                    ),
                    std::collections::hash_map::Entry::Vacant(slot) => {
                        slot.insert(user.clone());
                        (200, json!({"responseInfo": null, "user": [user]}).to_string())
                    }
                }
            }
            // workflow-v2 answers a _create at once and writes through Kafka.
            "/egov-workflow-v2/egov-wf/businessservice/_create" => (
                200,
                json!({"ResponseInfo": null, "BusinessServices": body["BusinessServices"]}).to_string(),
            ),
            _ => (
                404,
                json!({"Errors": [{"code": "NotFound", "message": req.path}]}).to_string(),
            ),
        }
    })
}

/// The deploy tests' world: the dev profile with local seed files, a real
/// control plane, its kubeconfig, and a fake DIGIT (behind the "ingress",
/// and where KWOK sends port-forwards unless `opts` says otherwise).
pub struct DeployWorld {
    pub dir: tempfile::TempDir,
    pub data: PathBuf,
    pub profile: PathBuf,
    pub cp: ControlPlane,
    pub kubeconfig: PathBuf,
    pub digit: String,
}

pub fn deploy_world(opts: Options) -> DeployWorld {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let profile = dir.path().join("dev.yaml");
    let dev_text = digit_quickstart::profile::EMBEDDED[0].2;
    std::fs::write(&profile, super::cluster::with_local_seeds(dev_text)).unwrap();
    let dev = digit_quickstart::profile::parse(dev_text, "dev").unwrap();
    let digit = super::cluster::fake_digit(&dev, data.join("secrets/dev.env"));
    let forward = opts
        .port_forward_to
        .clone()
        .or_else(|| Some(digit.trim_start_matches("http://").to_owned()));
    let cp = ControlPlane::start_with(Options {
        port_forward_to: forward,
        ..opts
    });
    let kubeconfig = cp.write_kubeconfig(&dir.path().join("kubeconfig"));
    DeployWorld {
        dir,
        data,
        profile,
        cp,
        kubeconfig,
        digit,
    }
}
