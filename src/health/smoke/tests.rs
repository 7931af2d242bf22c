//! Against an in-process HTTP fake answering with DIGIT's response shapes.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use super::*;

type Routes = HashMap<&'static str, (u16, String)>;

/// Serves `routes` by path; records each request line and body.
fn fake(routes: Routes) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let routes = Arc::new(routes);
    std::thread::spawn(move || {
        // A thread per connection: the health checks come all at once.
        for conn in listener.incoming().flatten() {
            let (routes, log) = (routes.clone(), log.clone());
            std::thread::spawn(move || serve(conn, &routes, &log));
        }
    });
    (base, seen)
}

fn serve(conn: std::net::TcpStream, routes: &Routes, log: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut conn = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        let mut len = 0;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) <= 2 {
                break;
            }
            if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; len];
        reader.read_exact(&mut body).unwrap();
        let path = line
            .split_whitespace()
            .nth(1)
            .unwrap_or("/")
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        log.lock()
            .unwrap()
            .push(format!("{} {}", line.trim(), String::from_utf8_lossy(&body)));
        let (status, text) = routes.get(path.as_str()).cloned().unwrap_or((404, "{}".into()));
        let reply = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{text}",
            text.len()
        );
        let _ = conn.write_all(reply.as_bytes());
    }
}

fn dev() -> Profile {
    crate::profile::parse(crate::profile::EMBEDDED[0].2, "dev").unwrap()
}

fn digit_routes() -> Routes {
    Routes::from([
        ("/user/oauth/token", (200, r#"{"access_token":"5d1c7e52-6a0b-4c1f-9e0e-3b8f2f0a9c41","token_type":"bearer","refresh_token":"a8b6","expires_in":604799,"scope":"read","ResponseInfo":{"api_id":"","ver":"","ts":null,"res_msg_id":"","msg_id":"","status":"Access Token generated successfully"},"UserRequest":{"id":1,"uuid":"0c9e","userName":"ADMIN","name":"Administrator","type":"EMPLOYEE","tenantId":"pg","roles":[{"name":"Super User","code":"SUPERUSER","tenantId":"pg"}]}}"#.into())),
        ("/mdms-v2/v2/_search", (200, r#"{"ResponseInfo":{"apiId":"digit-quickstart","ver":"1.0","ts":null,"resMsgId":"uief87324","msgId":"smoke","status":"successful"},"mdms":[{"id":"7c7f","tenantId":"pg","schemaCode":"tenant.tenants","uniqueIdentifier":"pg.citya","data":{"code":"pg.citya","name":"City A","tenantId":"pg.citya","city":{"code":"CITYA","name":"City A"}},"isActive":true,"auditDetails":{"createdBy":"system-mdms-seed","lastModifiedBy":"system-mdms-seed","createdTime":1763780000000,"lastModifiedTime":1763780000000}}]}"#.into())),
        ("/egov-idgen/id/_generate", (200, r#"{"responseInfo":{"apiId":"digit-quickstart","ver":"1.0","ts":null,"resMsgId":"uief87324","msgId":"smoke","status":"SUCCESSFUL"},"idResponses":[{"id":"SMOKE-2026-11-22-000001"}]}"#.into())),
        ("/localization/messages/v1/_search", (200, r#"{"messages":[{"code":"CORE_COMMON_LOGIN","message":"Login","module":"rainmaker-common","locale":"en_IN"},{"code":"CORE_COMMON_CITY","message":"City","module":"rainmaker-common","locale":"en_IN"}]}"#.into())),
        // workflow-v2's search answer, shaped as BusinessServiceResponse.
        ("/egov-workflow-v2/egov-wf/businessservice/_search", (200, r#"{"ResponseInfo":{"apiId":"digit-quickstart","ver":"1.0","ts":null,"resMsgId":"uief87324","msgId":"smoke","status":"successful"},"BusinessServices":[{"tenantId":"pg","uuid":"a1b2","businessService":"PGR","business":"pgr-services","businessServiceSla":432000000,"states":[{"uuid":"s1","state":null,"applicationStatus":null,"isStartState":true,"isTerminateState":false,"actions":[{"uuid":"a1","action":"APPLY","nextState":"s2","roles":["CITIZEN","CSR"]}]},{"uuid":"s2","state":"PENDINGFORASSIGNMENT","applicationStatus":"PENDINGFORASSIGNMENT","isStartState":false,"isTerminateState":false,"actions":[]}]}]}"#.into())),
    ])
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn all_five_smoke_checks_pass_against_digit_shaped_answers() {
    let (base, seen) = fake(digit_routes());
    let http = reqwest::Client::new();
    let results = block_on(smoke(&http, &base, &dev(), "ADMIN", "s3cret-Pass"));
    let names: Vec<&str> = results.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "login",
            "mdms-search",
            "idgen-generate",
            "localization-search",
            "workflow-pgr"
        ]
    );
    assert!(results.iter().all(|r| r.ok), "{results:#?}");
    assert_eq!(results[2].detail, "generated SMOKE-2026-11-22-000001");
    let log = seen.lock().unwrap().join("\n");
    // The password grant as DIGIT's UI sends it, and the token on later calls.
    assert!(
        log.contains("grant_type=password") && log.contains("tenantId=pg"),
        "{log}"
    );
    assert!(
        log.contains(r#""authToken":"5d1c7e52-6a0b-4c1f-9e0e-3b8f2f0a9c41""#),
        "{log}"
    );
    assert!(log.contains(r#""schemaCode":"tenant.tenants""#));
    assert_eq!(results[4].detail, "PGR workflow with 2 states");
}

#[test]
fn a_missing_pgr_workflow_is_a_named_failure() {
    let mut routes = digit_routes();
    routes.insert(
        "/egov-workflow-v2/egov-wf/businessservice/_search",
        (200, r#"{"ResponseInfo":null,"BusinessServices":[]}"#.into()),
    );
    let (base, _) = fake(routes);
    let results = block_on(smoke(&reqwest::Client::new(), &base, &dev(), "ADMIN", "x"));
    let wf = results.iter().find(|r| r.name == "workflow-pgr").unwrap();
    assert!(!wf.ok);
    assert!(
        wf.detail.contains("the pgr-workflow seed did not load"),
        "{}",
        wf.detail
    );
}

#[test]
fn a_refused_login_fails_and_skips_the_rest() {
    let mut routes = digit_routes();
    routes.insert(
        "/user/oauth/token",
        (
            401,
            r#"{"error":"invalid_request","error_description":"Invalid login credentials"}"#.into(),
        ),
    );
    let (base, _) = fake(routes);
    let results = block_on(smoke(&reqwest::Client::new(), &base, &dev(), "ADMIN", "wrong"));
    assert!(!results[0].ok);
    assert_eq!(
        results[0].detail,
        "ADMIN login refused: HTTP 401 Invalid login credentials"
    );
    assert!(results[1..].iter().all(|r| !r.ok && r.detail.starts_with("skipped")));
}

#[test]
fn an_empty_mdms_is_a_named_failure() {
    let mut routes = digit_routes();
    routes.insert(
        "/mdms-v2/v2/_search",
        (200, r#"{"ResponseInfo":null,"mdms":[]}"#.into()),
    );
    let (base, _) = fake(routes);
    let results = block_on(smoke(&reqwest::Client::new(), &base, &dev(), "ADMIN", "x"));
    let mdms = results.iter().find(|r| r.name == "mdms-search").unwrap();
    assert!(!mdms.ok);
    assert!(
        mdms.detail.contains("no tenant.tenants records for pg"),
        "{}",
        mdms.detail
    );
    assert!(results.iter().filter(|r| r.name != "mdms-search").all(|r| r.ok));
}

#[test]
fn health_checks_each_service_path_and_name_the_ones_failing() {
    let mut routes = Routes::new();
    let p = dev();
    for c in &p.components {
        if let Some(Health::Http { path, .. }) = &c.health {
            routes.insert(
                Box::leak(path.clone().into_boxed_str()),
                (200, r#"{"status":"UP"}"#.into()),
            );
        }
    }
    routes.insert("/egov-hrms/health", (503, r#"{"status":"DOWN"}"#.into()));
    let (base, _) = fake(routes);
    let results = block_on(health(&reqwest::Client::new(), &base, &p));
    let failing: Vec<&str> = results.iter().filter(|r| !r.ok).map(|r| r.name.as_str()).collect();
    assert_eq!(failing, ["egov-hrms"]);
    assert!(results.len() >= 17, "{}", results.len());
    assert!(results.iter().any(|r| r.name == "digit-ui" && r.ok));
    // Backbone services are checked by their pods' probes, not from the host.
    assert!(!results.iter().any(|r| r.name == "postgres" || r.name == "minio"));
}
