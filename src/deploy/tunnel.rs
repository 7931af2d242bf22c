//! DIGIT on a loopback port without an Ingress: each request goes to a pod
//! of the Service the Ingress would have chosen, by port-forward with the
//! kubeconfig's credentials. `install` checks health and
//! smoke through it on clusters with no IngressClass; `proxy` gives it to
//! the user's browser.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode};

use super::manifests::ingress;
use crate::profile::Profile;

/// `(path, exact, service, port)` from the Ingress the profile renders.
#[derive(Clone, Debug)]
pub struct Routes {
    namespace: String,
    routes: Vec<(String, bool, String, u16)>,
}

impl Routes {
    pub fn of(p: &Profile) -> Self {
        let ing = ingress(p).object;
        let mut routes = Vec::new();
        for path in ing
            .pointer("/spec/rules/0/http/paths")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            let svc = &path["backend"]["service"];
            let (Some(prefix), Some(name), Some(port)) = (
                path["path"].as_str(),
                svc["name"].as_str(),
                svc["port"]["number"].as_u64(),
            ) else {
                continue;
            };
            routes.push((
                prefix.to_owned(),
                path["pathType"] == "Exact",
                name.to_owned(),
                u16::try_from(port).unwrap_or(80),
            ));
        }
        Self {
            namespace: p.namespace.clone(),
            routes,
        }
    }

    /// The Service and port for `path`: an exact match first, then the
    /// longest prefix on a segment boundary (the Ingress rules).
    pub fn pick(&self, path: &str) -> Option<(&str, u16)> {
        if let Some((_, _, s, p)) = self.routes.iter().find(|(r, exact, _, _)| *exact && r == path) {
            return Some((s, *p));
        }
        self.routes
            .iter()
            .filter(|(r, exact, _, _)| {
                !exact
                    && path
                        .strip_prefix(r.as_str())
                        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            })
            .max_by_key(|(r, ..)| r.len())
            .map(|(_, _, s, p)| (s.as_str(), *p))
    }
}

type Body = Full<Bytes>;

fn reply(status: StatusCode, text: &str) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(text.to_owned())));
    *r.status_mut() = status;
    r
}

async fn forward(
    req: Request<hyper::body::Incoming>,
    client: kube::Client,
    routes: Arc<Routes>,
) -> Result<Response<Body>, Infallible> {
    let path = req.uri().path().to_owned();
    let Some((service, port)) = routes.pick(&path) else {
        return Ok(reply(StatusCode::NOT_FOUND, "no DIGIT route for this path\n"));
    };
    match through_pod(req, client, &routes.namespace, service, port).await {
        Ok(r) => Ok(r),
        Err(e) => Ok(reply(StatusCode::BAD_GATEWAY, &format!("{service}:{port}: {e}\n"))),
    }
}

/// One request over a port-forward to a running pod of `service`: the
/// bytes reach the container untouched, headers included (the API
/// server's service proxy would drop the Authorization DIGIT's login needs).
async fn through_pod(
    req: Request<hyper::body::Incoming>,
    client: kube::Client,
    namespace: &str,
    service: &str,
    port: u16,
) -> Result<Response<Body>, String> {
    use k8s_openapi::api::core::v1::Pod;
    use kube::api::{Api, ListParams};
    let pods: Api<Pod> = Api::namespaced(client, namespace);
    let selector = format!("{}={service}", super::manifests::NAME_LABEL);
    let list = pods
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(|e| super::cluster::one_line(&e))?;
    let pod = list
        .items
        .iter()
        .find(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
        .and_then(|p| p.metadata.name.clone())
        .ok_or_else(|| "no running pod".to_owned())?;
    let mut forwarder = pods
        .portforward(&pod, &[port])
        .await
        .map_err(|e| super::cluster::one_line(&e))?;
    let stream = forwarder
        .take_stream(port)
        .ok_or_else(|| "port-forward gave no stream".to_owned())?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    let mut out = Request::from_parts(parts, Full::new(body));
    out.headers_mut().insert(
        hyper::header::CONNECTION,
        hyper::header::HeaderValue::from_static("close"),
    );
    let resp = sender.send_request(out).await.map_err(|e| e.to_string())?;
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    drop(forwarder);
    Ok(Response::from_parts(parts, Full::new(bytes)))
}

/// Listens on `addr` and forwards until the task is dropped; returns the
/// bound address (port 0 picks one).
pub async fn start(
    addr: SocketAddr,
    client: kube::Client,
    routes: Routes,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let routes = Arc::new(routes);
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (client, routes) = (client.clone(), routes.clone());
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(stream);
                let svc = hyper::service::service_fn(move |req| forward(req, client.clone(), routes.clone()));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, svc)
                    .await;
            });
        }
    });
    Ok((bound, task))
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_pick_the_service_the_ingress_would() {
        let p = crate::profile::parse(crate::profile::EMBEDDED[0].2, "dev").unwrap();
        let r = super::Routes::of(&p);
        assert_eq!(r.pick("/user/oauth/token").map(|x| x.0), Some("gateway"));
        assert_eq!(r.pick("/digit-ui/employee").map(|x| x.0), Some("digit-ui"));
        assert_eq!(r.pick("/user/health"), Some(("egov-user", 8080)));
        assert_eq!(r.pick("/userx"), None);
        assert_eq!(r.pick("/"), None);
    }
}
