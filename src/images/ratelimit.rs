//! Docker Hub's pull quota, read from response headers (`Retry-After`,
//! `ratelimit-limit`, `ratelimit-remaining`) with a HEAD request, which
//! does not count as a pull. oci-client does not expose response headers,
//! so this one request (and the Bearer challenge in front of it) is ours.

use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::auth::Credentials;

/// `100;w=21600` → 100 per 21600 s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub count: u64,
    pub seconds: Option<u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub status: u16,
    pub retry_after_secs: Option<u64>,
    pub limit: Option<Window>,
    pub remaining: Option<Window>,
}

impl Limits {
    /// "0 of 100 pulls left per 6 h" when the registry says so.
    pub fn describe(&self) -> Option<String> {
        let (limit, remaining) = (self.limit?, self.remaining?);
        let per = limit
            .seconds
            .map(|s| format!(" per {}", human_duration(s)))
            .unwrap_or_default();
        Some(format!("{} of {} pulls left{per}", remaining.count, limit.count))
    }
}

pub fn human_duration(secs: u64) -> String {
    match secs {
        s if s >= 3600 && s % 3600 == 0 => format!("{} h", s / 3600),
        s if s >= 3600 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        s if s >= 60 => format!("{} min", s.div_ceil(60)),
        s => format!("{s} s"),
    }
}

pub fn parse_window(value: &str) -> Option<Window> {
    let mut parts = value.split(';');
    let count = parts.next()?.trim().parse().ok()?;
    let seconds = parts.find_map(|p| p.trim().strip_prefix("w=")?.parse().ok());
    Some(Window { count, seconds })
}

/// `Bearer realm="…",service="…",scope="…"` → its parameters.
pub fn parse_challenge(value: &str) -> Option<Vec<(String, String)>> {
    let rest = value
        .trim()
        .strip_prefix("Bearer ")
        .or_else(|| value.trim().strip_prefix("bearer "))?;
    let mut out = Vec::new();
    let mut s = rest;
    while !s.is_empty() {
        let (key, after) = s.split_once('=')?;
        let after = after.trim_start();
        let (val, tail) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"')?;
            (&q[..end], &q[end + 1..])
        } else {
            after.split_once(',').map_or((after, ""), |(v, t)| (v, t))
        };
        out.push((key.trim().trim_start_matches(',').trim().to_owned(), val.to_owned()));
        s = tail.trim_start_matches(',').trim_start();
    }
    Some(out)
}

/// HEADs `url`, answering a Bearer challenge once (anonymously, or with
/// `creds`), and returns the quota headers.
pub async fn probe(client: &reqwest::Client, url: &str, creds: Option<&Credentials>) -> Result<Limits, String> {
    // Without Accept, registries answer 404 for OCI manifests.
    let accept = [
        super::engine::MEDIA_OCI_INDEX,
        super::engine::MEDIA_DOCKER_LIST,
        super::engine::MEDIA_OCI_MANIFEST,
        super::engine::MEDIA_DOCKER_MANIFEST,
    ]
    .join(", ");
    let head = || client.head(url).header(reqwest::header::ACCEPT, accept.as_str());
    let first = head().send().await.map_err(|e| e.to_string())?;
    let resp = if first.status() == reqwest::StatusCode::UNAUTHORIZED {
        let challenge = first
            .headers()
            .get(reqwest::header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_challenge)
            .ok_or_else(|| "401 without a Bearer challenge".to_owned())?;
        let get = |k: &str| challenge.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        let realm = get("realm").ok_or_else(|| "challenge without realm".to_owned())?;
        let mut token_req = client.get(&realm);
        let query: Vec<(&str, String)> = [("service", get("service")), ("scope", get("scope"))]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect();
        token_req = token_req.query(&query);
        if let Some(c) = creds {
            let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", c.username, c.password));
            token_req = token_req.header(reqwest::header::AUTHORIZATION, format!("Basic {basic}"));
        }
        #[derive(Deserialize)]
        struct Token {
            token: Option<String>,
            access_token: Option<String>,
        }
        let token: Token = token_req
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let token = token
            .token
            .or(token.access_token)
            .ok_or_else(|| "token response without a token".to_owned())?;
        head().bearer_auth(token).send().await.map_err(|e| e.to_string())?
    } else {
        first
    };
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    Ok(Limits {
        status: resp.status().as_u16(),
        retry_after_secs: header("retry-after").and_then(|v| v.trim().parse().ok()),
        limit: header("ratelimit-limit").as_deref().and_then(parse_window),
        remaining: header("ratelimit-remaining").as_deref().and_then(parse_window),
    })
}

/// Docker Hub's documented quota probe target.
pub const DOCKER_HUB_PROBE: &str = "https://registry-1.docker.io/v2/ratelimitpreview/test/manifests/latest";

pub fn wait_limit() -> Duration {
    Duration::from_secs(60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_headers_and_challenges_parse() {
        assert_eq!(
            parse_window("100;w=21600"),
            Some(Window {
                count: 100,
                seconds: Some(21600)
            })
        );
        assert_eq!(
            parse_window("76"),
            Some(Window {
                count: 76,
                seconds: None
            })
        );
        assert_eq!(parse_window("x;w=1"), None);
        let c = parse_challenge(r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/redis:pull""#).unwrap();
        assert_eq!(c[0], ("realm".into(), "https://auth.docker.io/token".into()));
        assert_eq!(c[2], ("scope".into(), "repository:library/redis:pull".into()));
        assert!(parse_challenge("Basic realm=\"x\"").is_none());
        let l = Limits {
            status: 200,
            retry_after_secs: None,
            limit: parse_window("100;w=21600"),
            remaining: parse_window("7;w=21600"),
        };
        assert_eq!(l.describe().as_deref(), Some("7 of 100 pulls left per 6 h"));
        assert_eq!(human_duration(11_520), "3 h 12 min");
    }
}
