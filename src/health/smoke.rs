//! Checks from the host, through the ingress on port 80, as a user's browser
//! would reach DIGIT: every service's health path, then smoke tests that
//! log in as ADMIN and use the core APIs through the gateway.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};

use crate::profile::{Health, Profile};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    pub name: String,
    /// `health` or `smoke`.
    pub kind: &'static str,
    pub ok: bool,
    pub detail: String,
    pub millis: u64,
}

fn result(name: &str, kind: &'static str, start: Instant, outcome: Result<String, String>) -> CheckResult {
    let (ok, detail) = match outcome {
        Ok(d) => (true, d),
        Err(d) => (false, d),
    };
    CheckResult {
        name: name.to_owned(),
        kind,
        ok,
        detail,
        millis: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}

/// GET each HTTP health path; 200 passes.
pub async fn health(http: &reqwest::Client, base: &str, profile: &Profile) -> Vec<CheckResult> {
    // All at once: each is one GET, and a re-run on a healthy host waits
    // for the slowest, not the sum.
    let checks = profile.components.iter().filter_map(|c| {
        let Some(Health::Http { path, .. }) = &c.health else {
            return None;
        };
        if !(c.is_java() || c.context.is_some()) {
            return None;
        }
        Some(async move {
            let start = Instant::now();
            let url = format!("{base}{path}");
            let outcome = match http.get(&url).send().await {
                Ok(r) if r.status().as_u16() == 200 => Ok(format!("GET {path}: 200")),
                Ok(r) => Err(format!("GET {path}: HTTP {}", r.status().as_u16())),
                Err(e) => Err(format!("GET {path}: {}", super::super::deploy::cluster::one_line(&e))),
            };
            result(&c.name, "health", start, outcome)
        })
    });
    futures_util::future::join_all(checks).await
}

/// The names the smoke checks rely on. tests/fidelity.rs checks each against
/// what the profile's pinned seed files define, and each URL against the
/// gateway's open list or an ADMIN role's actions (the gateway's RBAC).
pub const MDMS_SCHEMA: &str = "tenant.tenants";
pub const ID_NAME: &str = "digit-quickstart.smoke";
pub const ID_FORMAT: &str = "SMOKE-[cy:yyyy-MM-dd]-[SEQ_EG_PGR_ID]";
pub const LOCALE: &str = "en_IN";
pub const LOCALIZATION_MODULE: &str = "rainmaker-common";
pub const BUSINESS_SERVICE: &str = "PGR";
pub const MDMS_SEARCH: &str = "/mdms-v2/v2/_search";
pub const IDGEN_GENERATE: &str = "/egov-idgen/id/_generate";
pub const LOCALIZATION_SEARCH: &str = "/localization/messages/v1/_search";
pub const WORKFLOW_SEARCH: &str = "/egov-workflow-v2/egov-wf/businessservice/_search";
/// Every URL a smoke check calls with ADMIN's token.
pub const URLS: &[&str] = &[MDMS_SEARCH, IDGEN_GENERATE, LOCALIZATION_SEARCH, WORKFLOW_SEARCH];

/// DIGIT's own client id for the password grant (`egov-user-client:`, no secret).
const CLIENT_BASIC: &str = "Basic ZWdvdi11c2VyLWNsaWVudDo=";

async fn post_json(http: &reqwest::Client, url: &str, body: &Value) -> Result<Value, String> {
    let r = http.post(url).json(body).send().await.map_err(|e| e.to_string())?;
    let status = r.status().as_u16();
    let text = r.text().await.map_err(|e| e.to_string())?;
    if status != 200 {
        return Err(format!("HTTP {status}: {}", text.chars().take(200).collect::<String>()));
    }
    serde_json::from_str(&text).map_err(|e| format!("not JSON ({e})"))
}

fn request_info(token: &str) -> Value {
    json!({"apiId": "digit-quickstart", "ver": "1.0", "msgId": "smoke", "authToken": token})
}

/// Login, MDMS tenants, an ID from idgen, localisation messages, the PGR
/// workflow. Later checks need the token; without it they are reported as
/// skipped failures.
pub async fn smoke(
    http: &reqwest::Client,
    base: &str,
    profile: &Profile,
    username: &str,
    password: &str,
) -> Vec<CheckResult> {
    let state = &profile.state_tenant;
    let city = profile.city_tenants.first().unwrap_or(state);
    let mut out = Vec::new();

    let start = Instant::now();
    let form = [
        ("username", username),
        ("password", password),
        ("userType", "EMPLOYEE"),
        ("tenantId", state.as_str()),
        ("scope", "read"),
        ("grant_type", "password"),
    ];
    let login = async {
        let r = http
            .post(format!("{base}/user/oauth/token"))
            .header("authorization", CLIENT_BASIC)
            .form(&form)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        if status != 200 {
            let why = body["error_description"].as_str().unwrap_or("");
            return Err(format!("{username} login refused: HTTP {status} {why}")
                .trim_end()
                .to_owned());
        }
        body["access_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| "login answered 200 without an access_token".to_owned())
    }
    .await;
    let token = login.as_ref().ok().cloned();
    out.push(result(
        "login",
        "smoke",
        start,
        login.map(|_| format!("{username} logged in on tenant {state}")),
    ));
    let Some(token) = token else {
        for name in ["mdms-search", "idgen-generate", "localization-search", "workflow-pgr"] {
            out.push(result(
                name,
                "smoke",
                Instant::now(),
                Err("skipped: no login token".into()),
            ));
        }
        return out;
    };

    let start = Instant::now();
    let body =
        json!({"RequestInfo": request_info(&token), "MdmsCriteria": {"tenantId": state, "schemaCode": MDMS_SCHEMA}});
    let outcome = post_json(http, &format!("{base}{MDMS_SEARCH}"), &body)
        .await
        .and_then(|v| match v["mdms"].as_array().map(Vec::len) {
            Some(n) if n > 0 => Ok(format!("{n} tenant records")),
            _ => Err(format!(
                "MDMS has no {MDMS_SCHEMA} records for {state}: the seed did not load"
            )),
        });
    out.push(result("mdms-search", "smoke", start, outcome));

    let start = Instant::now();
    let body = json!({"RequestInfo": request_info(&token), "idRequests": [{"idName": ID_NAME, "tenantId": city, "format": ID_FORMAT}]});
    let outcome = post_json(http, &format!("{base}{IDGEN_GENERATE}"), &body)
        .await
        .and_then(|v| {
            let id = v["idResponses"][0]["id"].as_str().unwrap_or("");
            if v["responseInfo"]["status"] == "SUCCESSFUL" && !id.is_empty() {
                Ok(format!("generated {id}"))
            } else {
                Err(format!(
                    "idgen did not generate an ID: {}",
                    v.to_string().chars().take(200).collect::<String>()
                ))
            }
        });
    out.push(result("idgen-generate", "smoke", start, outcome));

    let start = Instant::now();
    let url = format!("{base}{LOCALIZATION_SEARCH}?locale={LOCALE}&tenantId={state}&module={LOCALIZATION_MODULE}");
    let outcome = post_json(http, &url, &json!({"RequestInfo": request_info(&token)}))
        .await
        .and_then(|v| match v["messages"].as_array().map(Vec::len) {
            Some(n) if n > 0 => Ok(format!("{n} messages")),
            _ => Err(format!(
                "no {LOCALIZATION_MODULE} messages: the localisation seed or its cache bust did not run"
            )),
        });
    out.push(result("localization-search", "smoke", start, outcome));

    let start = Instant::now();
    let url = format!("{base}{WORKFLOW_SEARCH}?tenantId={state}&businessServices={BUSINESS_SERVICE}");
    let outcome = post_json(http, &url, &json!({"RequestInfo": request_info(&token)}))
        .await
        .and_then(|v| {
            let states = v["BusinessServices"][0]["states"].as_array().map_or(0, Vec::len);
            if states > 0 {
                Ok(format!("{BUSINESS_SERVICE} workflow with {states} states"))
            } else {
                Err(format!(
                    "workflow-v2 has no {BUSINESS_SERVICE} business service for {state}: the pgr-workflow seed did not load"
                ))
            }
        });
    out.push(result("workflow-pgr", "smoke", start, outcome));
    out
}

/// How long to keep retrying health before reporting (the ingress needs a
/// moment to pick up new endpoints).
pub const SETTLE: Duration = Duration::from_secs(60);

#[cfg(test)]
mod tests;
