//! The dev profile against what eGov's sources say the real images need:
//! every setting in profiles/README.md's table reaches the rendered
//! manifests, every Java component has its rows, the image pairs are ones
//! eGov pins together, the seed URLs pin commits, and every name the smoke
//! checks and the users rely on exists in the pinned seed files (facts
//! extracted by scripts/seed-facts into tests/fixtures/seed-facts.json,
//! tied to the pins by sha256).
#![allow(clippy::disallowed_methods)]

use std::collections::{BTreeMap, BTreeSet};

use digit_quickstart::deploy::manifests::{Inputs, render};
use digit_quickstart::health::smoke;
use digit_quickstart::profile::{Profile, SeedFileKind, Sha256Pin};
use serde_json::Value;

fn dev_text() -> &'static str {
    digit_quickstart::profile::EMBEDDED[0].2
}

fn parse(text: &str) -> Profile {
    digit_quickstart::profile::parse(text, "dev").unwrap()
}

fn readme() -> String {
    std::fs::read_to_string(format!("{}/profiles/README.md", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The rows of the markdown table that follows `heading`: cells, trimmed.
fn table(text: &str, heading: &str) -> Vec<Vec<String>> {
    let start = text
        .find(heading)
        .unwrap_or_else(|| panic!("profiles/README.md has no `{heading}`"));
    text[start..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            l.trim()
                .trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_owned())
                .collect()
        })
        .collect()
}

/// The text inside the first pair of backticks.
fn ticked(cell: &str) -> Option<String> {
    let rest = cell.split_once('`')?.1;
    Some(rest.split_once('`')?.0.to_owned())
}

/// Each component's environment as the pod sees it: the common ConfigMap
/// (envFrom) overlaid by the container's own env; secrets as `secret:key`.
fn effective_env(p: &Profile) -> BTreeMap<String, BTreeMap<String, String>> {
    let none = BTreeMap::new();
    let r = render(&Inputs {
        profile: p,
        secrets: None,
        digests: &none,
        files: &none,
        public_url: None,
        target: &digit_quickstart::deploy::manifests::target::Target::default(),
        pull_auth: None,
    });
    let common: BTreeMap<String, String> = r
        .base
        .iter()
        .find(|m| m.kind == "ConfigMap" && m.name == "digit-env")
        .map(|m| serde_json::from_value(m.object["data"].clone()).unwrap())
        .unwrap();
    let mut out = BTreeMap::new();
    for (name, objs) in &r.components {
        let Some(d) = objs.iter().find(|m| m.kind == "Deployment") else {
            continue;
        };
        let c = &d.object["spec"]["template"]["spec"]["containers"][0];
        let mut env = BTreeMap::new();
        if c["envFrom"].as_array().is_some_and(|a| !a.is_empty()) {
            env.extend(common.clone());
        }
        for e in c["env"].as_array().into_iter().flatten() {
            let value = match (&e["value"], &e["valueFrom"]["secretKeyRef"]) {
                (Value::String(v), _) => v.clone(),
                (_, Value::Object(s)) => {
                    format!("secret:{}/{}", s["name"].as_str().unwrap(), s["key"].as_str().unwrap())
                }
                _ => String::new(),
            };
            env.insert(e["name"].as_str().unwrap().to_owned(), value);
        }
        out.insert(name.clone(), env);
    }
    out
}

/// Problems with the settings table against this profile's manifests.
fn settings_problems(p: &Profile, rows: &[Vec<String>]) -> Vec<String> {
    let env = effective_env(p);
    let mut problems = Vec::new();
    let mut covered = BTreeSet::new();
    for row in rows {
        let [component, property, var, value, source] = &row[..] else {
            problems.push(format!("a row without 5 cells: {row:?}"));
            continue;
        };
        covered.insert(component.clone());
        let Some(var) = ticked(var) else {
            problems.push(format!("{component} {property}: no env name"));
            continue;
        };
        if source.is_empty() {
            problems.push(format!("{component} {var}: no source"));
        }
        let Some(have) = env.get(component) else {
            problems.push(format!("{component}: not a component the profile deploys"));
            continue;
        };
        if value.starts_with("not set") {
            if value.len() < "not set: x".len() {
                problems.push(format!("{component} {var}: `not set` needs a reason"));
            }
            if let Some(v) = have.get(&var) {
                problems.push(format!(
                    "{component} {var}: the table says not set, the manifest sets `{v}`"
                ));
            }
            continue;
        }
        let Some(want) = ticked(value) else {
            problems.push(format!(
                "{component} {var}: the value is neither `...` nor `not set: why`"
            ));
            continue;
        };
        match have.get(&var) {
            Some(v) if *v == want => {}
            Some(v) => problems.push(format!(
                "{component} {var}: the manifest sets `{v}`, the table says `{want}`"
            )),
            None => problems.push(format!(
                "{component} {var}: not set in the manifest, the table says `{want}`"
            )),
        }
    }
    for c in p.components.iter().filter(|c| c.is_java()) {
        if !covered.contains(&c.name) {
            problems.push(format!(
                "{}: no row in the settings table (a new Java service needs its rows)",
                c.name
            ));
        }
    }
    problems
}

#[test]
fn every_setting_the_sources_require_reaches_the_rendered_manifests() {
    let rows = table(&readme(), "## Settings each image reads");
    assert!(rows.len() > 80, "{} rows", rows.len());
    let problems = settings_problems(&parse(dev_text()), &rows);
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_settings_check_fails_on_the_profile_before_the_fidelity_pass() {
    let rows = table(&readme(), "## Settings each image reads");
    // What the earlier profile did: no driver override, egov-user's MDMS
    // path unset.
    let old = dev_text()
        .replace("  SPRING_DATASOURCE_DRIVER_CLASS_NAME: org.postgresql.Driver\n", "")
        .replace("      MDMS_PATH: /mdms-v2/v1/_search\n", "");
    let problems = settings_problems(&parse(&old), &rows);
    let text = problems.join("\n");
    assert!(text.contains("SPRING_DATASOURCE_DRIVER_CLASS_NAME"), "{text}");
    assert!(text.contains("egov-user MDMS_PATH: not set in the manifest"), "{text}");
    // A Java component with no rows is reported.
    let without: Vec<Vec<String>> = rows.iter().filter(|r| r[0] != "egov-otp").cloned().collect();
    let problems = settings_problems(&parse(dev_text()), &without).join("\n");
    assert!(
        problems.contains("egov-otp: no row in the settings table"),
        "{problems}"
    );
}

#[test]
fn every_app_and_migration_image_pair_is_one_egov_pins_together() {
    let pairs: BTreeSet<(String, String)> = table(&readme(), "## Image pairs eGov pins together")
        .iter()
        .map(|r| (ticked(&r[0]).unwrap(), ticked(&r[1]).unwrap()))
        .collect();
    assert!(!pairs.is_empty());
    let p = parse(dev_text());
    for c in &p.components {
        let (Some(app), Some(db)) = (
            c.image(digit_quickstart::profile::ImageRole::App),
            c.image(digit_quickstart::profile::ImageRole::Migration),
        ) else {
            continue;
        };
        let short = |r: &str| r.trim_start_matches("docker.io/").to_owned();
        let pair = (short(app.reference.as_str()), short(db.reference.as_str()));
        assert!(
            pairs.contains(&pair),
            "{pair:?} is not a pair an eGov source pins together"
        );
    }
    // The pairs named in the fidelity issue were in no eGov source.
    for (app, db) in [
        ("egovio/egov-user:master-fa75ba8", "egovio/egov-user-db:master-fa75ba8"),
        (
            "egovio/pgr-services:multiarch-d448cb7",
            "egovio/pgr-services-db:multiarch-d448cb7",
        ),
    ] {
        assert!(!pairs.contains(&(app.to_owned(), db.to_owned())));
    }
}

#[test]
fn seed_urls_pin_the_commit_not_the_tag_object() {
    // CCRS v2.11: the tag object is 47316a51...; the commit it points at is
    // a389cf93... (raw URLs must name a commit).
    let p = parse(dev_text());
    let mut n = 0;
    for seed in &p.seeds {
        if let Some(f) = seed.file() {
            let reference = f.url.split('/').nth(5).unwrap();
            assert_eq!(reference, "a389cf93570edc0c0216231a34fbc986ac84f031", "{}", f.url);
            n += 1;
        }
    }
    assert!(n >= 12, "{n} pinned files");
}

struct Facts(Value);

impl Facts {
    fn load() -> Self {
        let text =
            std::fs::read_to_string(format!("{}/tests/fixtures/seed-facts.json", env!("CARGO_MANIFEST_DIR"))).unwrap();
        Self(serde_json::from_str(&text).unwrap())
    }

    fn has(&self, list: &str, item: &str) -> bool {
        self.0[list].as_array().unwrap().iter().any(|v| v == item)
    }

    fn role_may_call(&self, role: &str, url: &str) -> bool {
        self.0["role_urls"][role]
            .as_array()
            .is_some_and(|u| u.iter().any(|v| v == url))
    }
}

/// Every name the installer relies on that the seeds must define.
fn seed_problems(p: &Profile, facts: &Facts) -> Vec<String> {
    let mut problems = Vec::new();
    // The facts describe exactly the files the profile pins.
    for seed in &p.seeds {
        let Some(f) = seed.file() else { continue };
        if !matches!(f.kind, SeedFileKind::Sql | SeedFileKind::Body) {
            continue;
        }
        let name = f.url.rsplit('/').next().unwrap();
        let Sha256Pin::Pinned(pin) = &f.sha256 else {
            problems.push(format!("{name} is not pinned"));
            continue;
        };
        if facts.0["files"][name].as_str() != Some(pin.as_str()) {
            problems.push(format!(
                "tests/fixtures/seed-facts.json is not from {name} as pinned ({pin}): run scripts/seed-facts"
            ));
        }
    }
    let state = &p.state_tenant;
    let city = p.city_tenants.first().unwrap_or(state);
    let tenants = &facts.0["mdms_records"][smoke::MDMS_SCHEMA];
    if !facts.has("mdms_schemas", smoke::MDMS_SCHEMA) {
        problems.push(format!("MDMS schema {} is not seeded", smoke::MDMS_SCHEMA));
    }
    for t in [state, city] {
        if !tenants.as_array().is_some_and(|a| a.iter().any(|v| v == t.as_str())) {
            problems.push(format!("tenant {t} is not a {} record", smoke::MDMS_SCHEMA));
        }
    }
    let module = format!("{}/{}", smoke::LOCALE, smoke::LOCALIZATION_MODULE);
    if !facts.has("localization", &module) {
        problems.push(format!("no localisation messages for {module}"));
    }
    let bs = format!("{}@{state}", smoke::BUSINESS_SERVICE);
    if !facts.has("business_services", &bs) {
        problems.push(format!("no workflow business service {bs}"));
    }
    // idgen makes a missing sequence only with AUTOCREATE_NEW_SEQ.
    let env = effective_env(p);
    let autocreate = env
        .get("egov-idgen")
        .and_then(|e| e.get("AUTOCREATE_NEW_SEQ"))
        .map(String::as_str)
        == Some("true");
    for seq in smoke::ID_FORMAT
        .split("[SEQ_")
        .skip(1)
        .map(|s| format!("seq_{}", s.split(']').next().unwrap().to_lowercase()))
    {
        if !autocreate && !facts.has("sequences", &seq) {
            problems.push(format!("sequence {seq} is neither seeded nor auto-created"));
        }
    }
    for role in p
        .admin
        .roles
        .iter()
        .chain(p.system_users.iter().flat_map(|u| u.roles.iter()))
    {
        if !facts.has("roles", role) {
            problems.push(format!(
                "role {role} is in no seeded ACCESSCONTROL-ROLES.roles (egov-user answers INVALID_ROLE)"
            ));
        }
    }
    // Through the gateway with ADMIN's token: open, or allowed to a role.
    let open: Vec<String> = env
        .get("gateway")
        .and_then(|e| e.get("EGOV_OPEN_ENDPOINTS_WHITELIST"))
        .map(|w| w.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    for url in smoke::URLS {
        let allowed = open.iter().any(|o| o == url) || p.admin.roles.iter().any(|r| facts.role_may_call(r, url));
        if !allowed {
            problems.push(format!("{url}: not open at the gateway and no ADMIN role may call it"));
        }
    }
    problems
}

#[test]
fn every_name_the_smoke_checks_and_users_rely_on_is_in_the_pinned_seeds() {
    let problems = seed_problems(&parse(dev_text()), &Facts::load());
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_seed_check_fails_on_what_the_earlier_profile_did() {
    let facts = Facts::load();
    // ADMIN had PGR-ADMIN (no seeded role), and the gateway had no open list
    // (mdms-v2's search is allowed only to MDMS_ADMIN otherwise).
    let old = dev_text().replace(
        "roles: [SUPERUSER, EMPLOYEE, GRO, DGRO]",
        "roles: [SUPERUSER, EMPLOYEE, GRO, DGRO, PGR-ADMIN]",
    );
    let p = parse(&old);
    let mut no_open = p.clone();
    for c in &mut no_open.components {
        c.env.remove("EGOV_OPEN_ENDPOINTS_WHITELIST");
    }
    let text = seed_problems(&no_open, &facts).join("\n");
    assert!(
        text.contains("role PGR-ADMIN is in no seeded ACCESSCONTROL-ROLES.roles"),
        "{text}"
    );
    assert!(text.contains("/mdms-v2/v2/_search: not open at the gateway"), "{text}");
    // A moved pin without new facts is caught.
    let moved = dev_text().replacen(
        "sha256: b7c50658d464b2d42296072439c802d7fd96040b59c1db843b859d191ed076a9",
        &format!("sha256: {}", "1".repeat(64)),
        1,
    );
    let text = seed_problems(&parse(&moved), &facts).join("\n");
    assert!(text.contains("is not from seed.sql as pinned"), "{text}");
}
