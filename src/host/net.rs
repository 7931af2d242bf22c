//! Sockets and HTTP. HTTPS uses rustls with Mozilla's roots compiled in
//! (webpki-root-certs), merged with the system store when there is one, so
//! the static binary also works on a minimal VM without ca-certificates.

use std::time::Duration;

use super::{BindOutcome, Endpoint, EndpointProbe, Net};

pub struct RealNet;

/// One HTTP client configuration for the whole program.
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    let bundled = || {
        webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .filter_map(|der| reqwest::Certificate::from_der(der).ok())
            .collect::<Vec<_>>()
    };
    let builder = || {
        reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("digit-quickstart/", env!("CARGO_PKG_VERSION")))
    };
    // The platform verifier refuses to start on a host with no CA store;
    // then the bundled roots alone are used.
    builder()
        .tls_certs_merge(bundled())
        .build()
        .or_else(|_| builder().tls_certs_only(bundled()).build())
}

impl Net for RealNet {
    fn try_bind_tcp(&self, port: u16) -> BindOutcome {
        match std::net::TcpListener::bind(("0.0.0.0", port)) {
            Ok(listener) => {
                drop(listener);
                BindOutcome::Free
            }
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => BindOutcome::InUse,
            Err(e) => BindOutcome::Error(e),
        }
    }

    fn quota(&self, url: &str, timeout: Duration) -> Result<crate::images::ratelimit::Limits, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let client = http_client(timeout).map_err(|e| error_chain(&e))?;
        runtime.block_on(async {
            tokio::time::timeout(timeout * 2, crate::images::ratelimit::probe(&client, url, None))
                .await
                .map_err(|_| format!("no answer within {}s", (timeout * 2).as_secs()))?
        })
    }

    fn probe(&self, endpoints: &[Endpoint], timeout: Duration) -> Vec<EndpointProbe> {
        let unreachable = |why: String| EndpointProbe {
            dns: Err(why.clone()),
            http: Err(why),
        };
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(rt) => rt,
            Err(e) => return endpoints.iter().map(|_| unreachable(e.to_string())).collect(),
        };
        let client = match http_client(timeout) {
            Ok(c) => c,
            Err(e) => return endpoints.iter().map(|_| unreachable(e.to_string())).collect(),
        };
        runtime.block_on(async {
            let mut set = tokio::task::JoinSet::new();
            for (i, ep) in endpoints.iter().cloned().enumerate() {
                let client = client.clone();
                set.spawn(async move { (i, probe_one(&client, &ep, timeout).await) });
            }
            let mut results: Vec<Option<EndpointProbe>> = vec![None; endpoints.len()];
            while let Some(joined) = set.join_next().await {
                if let Ok((i, probe)) = joined {
                    results[i] = Some(probe);
                }
            }
            results
                .into_iter()
                .map(|r| r.unwrap_or_else(|| unreachable("probe task failed".to_owned())))
                .collect()
        })
    }
}

async fn probe_one(client: &reqwest::Client, ep: &Endpoint, timeout: Duration) -> EndpointProbe {
    let lookup = tokio::time::timeout(timeout, tokio::net::lookup_host((ep.host.as_str(), 443))).await;
    let dns = match lookup {
        Ok(Ok(addrs)) => Ok(addrs.map(|a| a.ip()).collect::<Vec<_>>()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {}s", timeout.as_secs())),
    };
    if let Err(why) = &dns {
        return EndpointProbe {
            http: Err(format!("not attempted: DNS failed ({why})")),
            dns,
        };
    }
    tracing::debug!(url = %ep.url, "probing endpoint");
    let http = match client.get(&ep.url).send().await {
        Ok(resp) => Ok(resp.status().as_u16()),
        Err(e) => Err(error_chain(&e)),
    };
    EndpointProbe { dns, http }
}

/// reqwest's top-level message is generic; the useful part is in the sources.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut next = e.source();
    while let Some(cause) = next {
        parts.push(cause.to_string());
        next = cause.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn binding_a_port_someone_listens_on_reports_in_use() {
        let listener = std::net::TcpListener::bind(("0.0.0.0", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(matches!(RealNet.try_bind_tcp(port), BindOutcome::InUse));
        drop(listener);
        assert!(matches!(RealNet.try_bind_tcp(port), BindOutcome::Free));
    }

    #[test]
    fn probing_a_loopback_server_returns_its_status_and_a_dead_port_an_error() {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let _ = conn.read(&mut buf);
            conn.write_all(b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .unwrap();
        });
        let dead = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let dead_port = dead.local_addr().unwrap().port();
        drop(dead);
        let eps = [
            Endpoint {
                host: "localhost".into(),
                url: format!("http://127.0.0.1:{port}/v2/"),
            },
            Endpoint {
                host: "localhost".into(),
                url: format!("http://127.0.0.1:{dead_port}/v2/"),
            },
        ];
        let probes = RealNet.probe(&eps, Duration::from_secs(5));
        server.join().unwrap();
        assert!(probes[0].dns.as_ref().is_ok_and(|a| !a.is_empty()));
        assert_eq!(probes[0].http.as_ref().ok(), Some(&401));
        let err = probes[1].http.as_ref().unwrap_err();
        assert!(err.to_lowercase().contains("connect"), "{err}");
    }

    #[test]
    fn an_unresolvable_host_fails_at_dns_and_skips_http() {
        let eps = [Endpoint {
            host: "nonexistent.invalid".into(),
            url: "https://nonexistent.invalid/".into(),
        }];
        let probe = &RealNet.probe(&eps, Duration::from_secs(3))[0];
        assert!(probe.dns.is_err());
        assert!(
            probe
                .http
                .as_ref()
                .unwrap_err()
                .starts_with("not attempted: DNS failed")
        );
    }
}
