//! A stateful fake of the Kubernetes API paths the deploy uses: server-side
//! apply stores objects, reads return them with a healthy status unless a
//! test scripts otherwise, and every request is recorded. Real-shaped JSON
//! comes from tests/fixtures/k8s. Plus a static file server for seed files.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: String,
    pub body: String,
}

#[derive(Default)]
struct State {
    objects: HashMap<String, Value>,
    /// Scripted answers by "METHOD path"; the last one repeats.
    script: HashMap<String, Vec<(u16, String)>>,
    log: Vec<Request>,
}

#[derive(Clone)]
pub struct FakeCluster {
    pub url: String,
    state: Arc<Mutex<State>>,
}

pub fn read_request(reader: &mut impl BufRead) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut len = 0usize;
    let mut chunked = false;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? <= 2 {
            break;
        }
        let lower = h.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk).ok()?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else {
        body.resize(len, 0);
        reader.read_exact(&mut body).ok()?;
    }
    Some(Request {
        method,
        path: path.to_owned(),
        query: query.to_owned(),
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn healthy_status(obj: &mut Value) {
    let kind = obj["kind"].as_str().unwrap_or_default().to_owned();
    obj["metadata"]["generation"] = json!(1);
    obj["metadata"]["uid"] = json!("6f1d2c3b-0000-4000-8000-000000000001");
    obj["metadata"]["creationTimestamp"] = json!("2026-11-22T03:10:00Z");
    match kind.as_str() {
        "Deployment" => {
            obj["status"] = json!({"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1,
                "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."},
                               {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": "ReplicaSet has successfully progressed."}]});
        }
        "Job" => {
            obj["status"] = json!({"succeeded": 1, "startTime": "2026-11-22T03:20:00Z", "completionTime": "2026-11-22T03:20:09Z",
                "conditions": [{"type": "SuccessCriteriaMet", "status": "True"}, {"type": "Complete", "status": "True"}]});
        }
        _ => {}
    }
}

fn empty_list(path: &str) -> Option<String> {
    let kind = match path.rsplit('/').next()? {
        "pods" => "PodList",
        "events" => "EventList",
        "nodes" => "NodeList",
        "deployments" => "DeploymentList",
        "jobs" => "JobList",
        _ => return None,
    };
    Some(json!({"kind": kind, "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": []}).to_string())
}

impl FakeCluster {
    /// What the cluster check of `install --kubeconfig` reads: a 4 vCPU /
    /// 8 GiB node, k3s's classes, every permission allowed.
    pub fn answer_cluster_check(&self) {
        let mut node: Value = serde_json::from_str(&super::k8s::fixture("node-ready.json")).unwrap();
        node["status"]["allocatable"] = json!({"cpu": "4", "memory": "8Gi", "pods": "110"});
        let version = json!({"major": "1", "minor": "36", "gitVersion": "v1.36.4", "gitCommit": "", "gitTreeState": "clean",
            "buildDate": "", "goVersion": "", "compiler": "gc", "platform": "linux/amd64"});
        self.script("GET /version", vec![(200, version.to_string())]);
        self.script(
            "GET /api/v1/nodes",
            vec![(
                200,
                json!({"kind": "NodeList", "apiVersion": "v1", "metadata": {}, "items": [node]}).to_string(),
            )],
        );
        let sc = json!({"kind": "StorageClassList", "apiVersion": "storage.k8s.io/v1", "metadata": {}, "items": [
            {"metadata": {"name": "local-path", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}, "provisioner": "rancher.io/local-path"}]});
        self.script(
            "GET /apis/storage.k8s.io/v1/storageclasses",
            vec![(200, sc.to_string())],
        );
        let ic = json!({"kind": "IngressClassList", "apiVersion": "networking.k8s.io/v1", "metadata": {}, "items": [
            {"metadata": {"name": "traefik", "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"}}, "spec": {"controller": "traefik.io/ingress-controller"}}]});
        self.script(
            "GET /apis/networking.k8s.io/v1/ingressclasses",
            vec![(200, ic.to_string())],
        );
        let review = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": {}, "status": {"allowed": true}});
        self.script(
            "POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            vec![(201, review.to_string())],
        );
    }

    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let state = shared.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(conn.try_clone().unwrap());
                    let mut conn = conn;
                    while let Some(req) = read_request(&mut reader) {
                        let (status, body, ctype) = answer(&state, req);
                        let _ = write!(
                            conn,
                            "HTTP/1.1 {status} X\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\n\r\n{body}",
                            body.len()
                        );
                    }
                });
            }
        });
        Self { url, state }
    }

    /// Answers "METHOD path" with these responses in turn (the last repeats);
    /// an empty list removes the script (back to the stored objects).
    pub fn script(&self, method_path: &str, responses: Vec<(u16, String)>) {
        let mut s = self.state.lock().unwrap();
        if responses.is_empty() {
            s.script.remove(method_path);
        } else {
            s.script.insert(method_path.to_owned(), responses);
        }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().log.clone()
    }

    pub fn object(&self, path: &str) -> Option<Value> {
        self.state.lock().unwrap().objects.get(path).cloned()
    }

    /// A kubeconfig that points kube-rs at this fake.
    pub fn kubeconfig(&self, dir: &std::path::Path) -> std::path::PathBuf {
        let path = dir.join("fake-kubeconfig.yaml");
        std::fs::write(
            &path,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster: {{server: \"{}\"}}\ncontexts:\n- name: fake\n  context: {{cluster: fake, user: fake}}\ncurrent-context: fake\nusers:\n- name: fake\n  user: {{token: fake-token}}\n",
                self.url
            ),
        )
        .unwrap();
        path
    }
}

fn answer(state: &Arc<Mutex<State>>, req: Request) -> (u16, String, &'static str) {
    let mut s = state.lock().unwrap();
    s.log.push(req.clone());
    let key = format!("{} {}", req.method, req.path);
    if let Some(seq) = s.script.get_mut(&key) {
        let (status, body) = if seq.len() > 1 { seq.remove(0) } else { seq[0].clone() };
        let ctype = if body.starts_with('{') {
            "application/json"
        } else {
            "text/plain"
        };
        return (status, body, ctype);
    }
    let not_found =
        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404,
        "message": format!("{} not found", req.path)})
        .to_string();
    match req.method.as_str() {
        "PATCH" => {
            let mut obj: Value = serde_json::from_str(&req.body).unwrap_or(Value::Null);
            healthy_status(&mut obj);
            s.objects.insert(req.path.clone(), obj.clone());
            (200, obj.to_string(), "application/json")
        }
        // Deleting a namespace takes everything in it (as the API does, eventually).
        "DELETE" if req.path.starts_with("/api/v1/namespaces/") && req.path.matches('/').count() == 4 => {
            let inside = format!("/namespaces/{}/", req.path.rsplit('/').next().unwrap_or_default());
            s.objects.retain(|p, _| !p.contains(&inside));
            match s.objects.remove(&req.path) {
                Some(_) => (
                    200,
                    json!({"kind": "Status", "apiVersion": "v1", "status": "Success"}).to_string(),
                    "application/json",
                ),
                None => (404, not_found, "application/json"),
            }
        }
        "DELETE" => match s.objects.remove(&req.path) {
            Some(_) => (
                200,
                json!({"kind": "Status", "apiVersion": "v1", "status": "Success"}).to_string(),
                "application/json",
            ),
            None => (404, not_found, "application/json"),
        },
        "GET" => match s.objects.get(&req.path) {
            Some(obj) => (200, obj.to_string(), "application/json"),
            None => {
                // A collection: the stored objects directly below it.
                let prefix = format!("{}/", req.path);
                let items: Vec<&Value> = s
                    .objects
                    .iter()
                    .filter(|(p, _)| p.starts_with(&prefix) && !p[prefix.len()..].contains('/'))
                    .map(|(_, o)| o)
                    .collect();
                if !items.is_empty() {
                    let kind = format!("{}List", items[0]["kind"].as_str().unwrap_or_default());
                    let list = json!({"kind": kind, "apiVersion": items[0]["apiVersion"], "metadata": {"resourceVersion": "9"}, "items": items});
                    (200, list.to_string(), "application/json")
                } else {
                    match empty_list(&req.path) {
                        Some(list) => (200, list, "application/json"),
                        None => (404, not_found, "application/json"),
                    }
                }
            }
        },
        _ => (404, not_found, "application/json"),
    }
}

/// Serves files by path (GET only) and counts requests.
pub fn serve_files(files: HashMap<String, Vec<u8>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let files = Arc::new(files);
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let files = files.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut conn = conn;
                while let Some(req) = read_request(&mut reader) {
                    let (status, body): (u16, &[u8]) = match files.get(&req.path) {
                        Some(b) => (200, b),
                        None => (404, b"not found"),
                    };
                    let _ = write!(conn, "HTTP/1.1 {status} X\r\ncontent-length: {}\r\n\r\n", body.len());
                    let _ = conn.write_all(body);
                }
            });
        }
    });
    url
}

/// The DIGIT API answers the smoke tests need, as the ingress would give
/// them, plus 200 on every health path.
/// The ADMIN password is read from the install's secrets file at login time.
pub fn fake_digit(profile: &digit_quickstart::profile::Profile, secrets_file: std::path::PathBuf) -> String {
    use digit_quickstart::profile::Health;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let health: Vec<String> = profile
        .components
        .iter()
        .filter_map(|c| match &c.health {
            Some(Health::Http { path, .. }) => Some(path.clone()),
            _ => None,
        })
        .collect();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let health = health.clone();
            let secrets_file = secrets_file.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut conn = conn;
                while let Some(req) = read_request(&mut reader) {
                    let (status, body) = match req.path.as_str() {
                        p if health.iter().any(|h| h == p) => (200, r#"{"status":"UP"}"#.to_owned()),
                        "/user/oauth/token" => {
                            let want = std::fs::read_to_string(&secrets_file)
                                .unwrap_or_default()
                                .lines()
                                .find_map(|l| l.strip_prefix("digit-admin/password=").map(str::to_owned))
                                .unwrap_or_default();
                            let encoded: String = want
                                .bytes()
                                .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
                                .collect();
                            if !want.is_empty() && req.body.contains(&format!("password={encoded}&")) {
                                (200, r#"{"access_token":"5d1c7e52-6a0b-4c1f-9e0e-3b8f2f0a9c41","token_type":"bearer","expires_in":604799,"scope":"read"}"#.to_owned())
                            } else {
                                (401, r#"{"error":"invalid_request","error_description":"Invalid login credentials"}"#.to_owned())
                            }
                        }
                        "/mdms-v2/v2/_search" => (200, r#"{"mdms":[{"tenantId":"pg","schemaCode":"tenant.tenants","uniqueIdentifier":"pg.citya","data":{"code":"pg.citya"},"isActive":true}]}"#.to_owned()),
                        "/egov-idgen/id/_generate" => (200, r#"{"responseInfo":{"status":"SUCCESSFUL"},"idResponses":[{"id":"SMOKE-2026-11-22-000001"}]}"#.to_owned()),
                        "/localization/messages/v1/_search" => (200, r#"{"messages":[{"code":"CORE_COMMON_LOGIN","message":"Login","module":"rainmaker-common","locale":"en_IN"}]}"#.to_owned()),
                        "/egov-workflow-v2/egov-wf/businessservice/_search" => (200, r#"{"BusinessServices":[{"tenantId":"pg","businessService":"PGR","states":[{"state":null,"isStartState":true},{"state":"PENDINGFORASSIGNMENT","isStartState":false}]}]}"#.to_owned()),
                        _ => (404, "{}".to_owned()),
                    };
                    // One write, as a real server answers: `write!` would send each
                    // piece apart and Nagle plus delayed ACK add 40 ms to every reply.
                    let reply = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = conn.write_all(reply.as_bytes());
                }
            });
        }
    });
    url
}

const CCRS_RAW: &str = "https://raw.githubusercontent.com/egovernments/Citizen-Complaint-Resolution-System/";

/// `profile` with every pinned CCRS seed file replaced by test content
/// served from a loopback server, re-pinned to that content.
pub fn with_local_seeds(profile: &str) -> String {
    let placeholder = "__SEED_SERVER__";
    let mut files = HashMap::new();
    let mut lines = Vec::new();
    for line in profile.lines() {
        let mut line = line.to_owned();
        if let Some(start) = line.find(CCRS_RAW) {
            let end = line[start..].find(',').unwrap() + start;
            let original = line[start..end].to_owned();
            let name = original.rsplit('/').next().unwrap().to_owned();
            let content = format!("-- test content for {name}\nSELECT 1;\n");
            let pin = super::sha256(content.as_bytes())
                .trim_start_matches("sha256:")
                .to_owned();
            let old_pin = line.split("sha256: ").nth(1).unwrap()[..64].to_owned();
            files.insert(format!("/seed/{name}"), content.into_bytes());
            line = line
                .replace(&original, &format!("{placeholder}/seed/{name}"))
                .replace(&old_pin, &pin);
        }
        lines.push(line);
    }
    let url = serve_files(files);
    lines.join("\n").replace(placeholder, &url) + "\n"
}

/// Points the profile file's seed URLs at a closed port: any download fails.
pub fn point_seeds_nowhere(profile: &std::path::Path) {
    let text = std::fs::read_to_string(profile).unwrap();
    let host = text
        .split("url: http://")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    std::fs::write(profile, text.replace(&host, "127.0.0.1:9")).unwrap();
}

/// A NodeList holding the Ready node fixture.
pub fn node_list() -> String {
    format!(
        r#"{{"kind":"NodeList","apiVersion":"v1","metadata":{{}},"items":[{}]}}"#,
        super::k8s::fixture("node-ready.json")
    )
}

/// egov-user's Deployment with its one replica never available.
pub const PENDING_EGOV_USER: &str = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"egov-user","namespace":"egov","generation":1},"spec":{"replicas":1,"selector":{"matchLabels":{"a":"b"}},"template":{"spec":{"containers":[{"name":"egov-user"}]}}},"status":{"observedGeneration":1,"replicas":1,"updatedReplicas":1,"availableReplicas":0}}"#;
