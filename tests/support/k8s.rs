//! An in-process fake of the few Kubernetes API paths the waits read.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// Each path answers its responses in turn, repeating the last one.
pub type Script = HashMap<&'static str, Vec<(u16, String)>>;

pub fn fake_api(script: Script) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let script = Arc::new(Mutex::new(script));
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let script = script.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut conn = conn;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let path = line
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or("/")
                        .split('?')
                        .next()
                        .unwrap_or("/")
                        .to_owned();
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) <= 2 {
                            break;
                        }
                    }
                    let (status, body) = {
                        let mut s = script.lock().unwrap();
                        match s.get_mut(path.as_str()) {
                            Some(seq) if seq.len() > 1 => seq.remove(0),
                            Some(seq) => seq[0].clone(),
                            None => (404, r#"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}"#.to_owned()),
                        }
                    };
                    let reason = if status == 200 { "OK" } else { "Error" };
                    let _ = write!(
                        conn,
                        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                }
            });
        }
    });
    url
}

/// A real-shaped API object from tests/fixtures/k8s.
pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/k8s/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The API of a k3s that comes up: the node reports NotReady once, then
/// Ready; CoreDNS, the local-path storage class and traefik are there.
pub fn k3s_up_api() -> String {
    fake_api(Script::from([
        ("/readyz", vec![(200, "ok".into())]),
        (
            "/api/v1/nodes/digit-vm",
            vec![(200, fixture("node-notready.json")), (200, fixture("node-ready.json"))],
        ),
        (
            "/apis/apps/v1/namespaces/kube-system/deployments/coredns",
            vec![(200, fixture("coredns-available.json"))],
        ),
        (
            "/apis/storage.k8s.io/v1/storageclasses/local-path",
            vec![(200, fixture("storageclass-local-path.json"))],
        ),
        (
            "/apis/apps/v1/namespaces/kube-system/deployments/traefik",
            vec![(200, fixture("traefik-available.json"))],
        ),
    ]))
}

/// The dev profile with its k3s pins replaced by the sums of test artifacts.
pub fn dev_profile_pinned_to(binary: &[u8], airgap: &[u8]) -> String {
    let hex = digit_quickstart::k3s::artifacts::sha256_hex;
    let dev = digit_quickstart::profile::EMBEDDED[0].2;
    let pin = |name: &str| {
        let line = dev
            .lines()
            .find(|l| l.contains(&format!("{{name: {name},")))
            .expect("artifact line");
        line.split("sha256: ")
            .nth(1)
            .and_then(|r| r.split(',').next())
            .expect("sha256")
            .to_owned()
    };
    dev.replacen(&pin("k3s"), &hex(binary), 1)
        .replacen(&pin("k3s-airgap-images-amd64.tar.zst"), &hex(airgap), 1)
}
