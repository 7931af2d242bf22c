//! The export against a pinned copy of DIGIT-DevOps's layout
//! (tests/fixtures/helm-keys.json): no invented keys, the required ones
//! present, the profile's tags, and no secret value anywhere.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as J;
use sha2::Digest as _;

use super::{HelmExport, PLACEHOLDER, charts, helm};
use crate::profile::{ImageRole, Profile};

const LAYOUT: &str = include_str!("../../tests/fixtures/helm-keys.json");
const DOMAIN: &str = "digit.example.org";

fn layout() -> J {
    serde_json::from_str(LAYOUT).expect("tests/fixtures/helm-keys.json parses")
}

fn strings(v: &J) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

fn dev() -> Profile {
    crate::profile::parse(crate::profile::EMBEDDED[0].2, "dev").expect("dev profile")
}

/// A distinct, well-formed digest for every image of the profile.
fn digests(p: &Profile) -> BTreeMap<String, String> {
    p.images()
        .iter()
        .map(|i| {
            let r = i.reference.as_str();
            (r.to_owned(), format!("sha256:{:x}", sha2::Sha256::digest(r.as_bytes())))
        })
        .collect()
}

fn export(p: &Profile) -> HelmExport {
    helm(p, &digests(p), Some(DOMAIN))
}

fn yaml(text: &str) -> J {
    serde_saphyr::from_str::<J>(text).unwrap_or_else(|e| panic!("not YAML: {e}\n{text}"))
}

/// Every leaf (non-mapping value) with its dotted path.
fn leaves(v: &J) -> Vec<(String, J)> {
    fn walk(v: &J, path: &str, out: &mut Vec<(String, J)>) {
        match v.as_object() {
            Some(m) if !m.is_empty() => {
                for (k, v) in m {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(v, &p, out);
                }
            }
            _ => out.push((path.to_owned(), v.clone())),
        }
    }
    let mut out = Vec::new();
    walk(v, "", &mut out);
    out
}

/// The pinned key paths an environment file may hold.
fn allowed_env_paths(l: &J) -> BTreeSet<String> {
    let mut allowed: BTreeSet<String> = strings(&l["env_keys"]).into_iter().collect();
    allowed.extend(strings(&l["env_keys_chart_defaults"]));
    let block_keys = strings(&l["service_block_keys"]);
    let blocks: BTreeSet<String> = l["services"]
        .as_object()
        .expect("services")
        .values()
        .filter_map(|b| b.as_str().map(str::to_owned))
        .collect();
    for b in &blocks {
        let own = strings(&l["keys_read_by_chart"][b.as_str()]);
        for k in block_keys.iter().chain(&own) {
            allowed.insert(format!("{b}.{k}"));
        }
    }
    allowed
}

/// The quickstart components that are DIGIT services (eGov's own images).
fn digit_components(p: &Profile) -> Vec<&crate::profile::Component> {
    p.components
        .iter()
        .filter(|c| {
            c.image(ImageRole::App).is_some_and(|i| {
                i.reference.registry() == "docker.io" && i.reference.repository().starts_with("egovio/")
            })
        })
        .collect()
}

#[test]
fn every_key_written_is_in_the_pinned_layout() {
    let l = layout();
    let allowed = allowed_env_paths(&l);
    let p = dev();
    for e in [export(&p), helm(&p, &BTreeMap::new(), None)] {
        let env = yaml(&e.env_yaml);
        let invented: Vec<String> = leaves(&env)
            .into_iter()
            .map(|(path, _)| path)
            .filter(|path| !allowed.contains(path))
            .collect();
        assert!(invented.is_empty(), "keys not in DIGIT-DevOps's layout: {invented:?}");

        let secrets_allowed: BTreeSet<String> = strings(&l["secrets_keys"]).into_iter().collect();
        let secrets = yaml(&e.secrets_yaml);
        let invented: Vec<String> = leaves(&secrets)
            .into_iter()
            .map(|(path, _)| path)
            .filter(|path| !secrets_allowed.contains(path))
            .collect();
        assert!(invented.is_empty(), "secret paths not in the layout: {invented:?}");
    }
}

#[test]
fn required_keys_are_present() {
    let l = layout();
    let p = dev();
    let env = yaml(&export(&p).env_yaml);
    assert_eq!(env["global"]["domain"], DOMAIN);
    let data = &env["cluster-configs"]["configmaps"]["egov-config"]["data"];
    assert_eq!(data["egov-state-level-tenant-id"], p.state_tenant.as_str());
    assert_eq!(data["domain"], DOMAIN);
    assert_eq!(data["egov-services-fqdn-name"], format!("https://{DOMAIN}/").as_str());
    assert_eq!(data["db-name"], "egov", "the quickstart's database");
    assert_eq!(data["db-url"], "jdbc:postgresql://postgres:5432/egov");
    let hosts = &env["cluster-configs"]["configmaps"]["egov-service-host"]["data"];
    let services = l["services"].as_object().expect("services");
    let digit = digit_components(&p);
    assert!(digit.len() >= 15, "the dev profile's DIGIT services");
    for c in digit {
        let block = services
            .get(&c.name)
            .and_then(J::as_str)
            .unwrap_or_else(|| panic!("{} is not in the pinned services mapping", c.name));
        assert!(env[block].is_object(), "no `{block}` block for {}", c.name);
        assert_eq!(env[block]["replicas"], 1, "{block}");
        if c.is_java() {
            assert_eq!(
                env[block]["memory_limits"],
                c.resources.limits.memory.to_quantity().as_str(),
                "{block}"
            );
            let heap = c.jvm_heap.expect("Java components have a heap").0 >> 20;
            let heap_value = env[block]["heap"].as_str().unwrap_or_default();
            assert!(
                heap_value.contains(&format!("-Xmx{heap}m")),
                "{block} heap {heap_value}"
            );
        }
        // Peers reach each other by the names the charts give them.
        if let Some(h) = hosts[block].as_str() {
            assert_eq!(h, format!("http://{}:8080/", c.name), "{block}");
        }
    }
    // Without a domain the operator must fill one in.
    let env = yaml(&helm(&p, &BTreeMap::new(), None).env_yaml);
    assert_eq!(env["global"]["domain"], PLACEHOLDER);
}

#[test]
fn image_tags_are_the_profiles_and_digests_are_beside_them() {
    let p = dev();
    let d = digests(&p);
    let e = export(&p);
    let env = yaml(&e.env_yaml);
    for c in digit_components(&p) {
        let app = &c.image(ImageRole::App).expect("app image").reference;
        assert_eq!(env[c.name.as_str()]["image"]["tag"], app.tag(), "{}", c.name);
        assert!(
            env[c.name.as_str()]["image"].get("repository").is_none(),
            "{}: the chart's default repository is the profile's",
            c.name
        );
        if let Some(m) = c.image(ImageRole::Migration) {
            assert_eq!(
                env[c.name.as_str()]["initContainers"]["dbMigration"]["image"]["tag"],
                m.reference.tag(),
                "{}",
                c.name
            );
        }
        for i in c.images.iter().filter(|i| i.role != ImageRole::Init) {
            let digest = &d[i.reference.as_str()];
            let line = e
                .env_yaml
                .lines()
                .find(|l| l.contains(digest.as_str()))
                .unwrap_or_else(|| panic!("no digest for {}", i.reference));
            assert!(line.contains(&format!("tag: \"{}\"", i.reference.tag())), "{line}");
        }
        assert!(e.release_chart_yaml.contains(&d[app.as_str()]), "{}", c.name);
    }
    let tags_only = helm(&p, &BTreeMap::new(), Some(DOMAIN));
    assert!(!tags_only.env_yaml.contains("sha256:"));
    assert!(!tags_only.release_chart_yaml.contains("sha256:"));
}

/// Deterministic bytes for generating a secrets map.
fn fake_random() -> impl FnMut(&mut [u8]) -> Result<(), String> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    move |buf: &mut [u8]| {
        for b in buf.iter_mut() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *b = (state >> 24) as u8;
        }
        Ok(())
    }
}

#[test]
fn no_generated_secret_value_is_exported() {
    let l = layout();
    let p = dev();
    let mut fill = fake_random();
    let generated = crate::deploy::secrets::Secrets::generate(&p, &mut fill).expect("secrets");
    let e = export(&p);
    let mut checked = 0;
    for v in generated.values() {
        for (name, text) in [
            ("secrets", &e.secrets_yaml),
            ("env", &e.env_yaml),
            ("release chart", &e.release_chart_yaml),
            ("README", &e.readme),
        ] {
            assert!(!text.contains(v), "a generated secret value is in the {name} file");
        }
        checked += 1;
    }
    assert!(checked >= 8, "the fake secrets map has the profile's values");

    let secrets = yaml(&e.secrets_yaml);
    let leaves = leaves(&secrets);
    for (path, value) in &leaves {
        assert_eq!(value, PLACEHOLDER, "{path} must be a placeholder");
    }
    let paths: BTreeSet<&str> = leaves.iter().map(|(p, _)| p.as_str()).collect();
    let layout_secrets: BTreeSet<String> = strings(&l["secrets_keys"]).into_iter().collect();
    // What the dev profile's charts need: the database login, the
    // enc-service keys the data is encrypted with, MinIO's keys.
    for need in [
        "cluster-configs.secrets.db.username",
        "cluster-configs.secrets.db.password",
        "cluster-configs.secrets.db.flywayUsername",
        "cluster-configs.secrets.db.flywayPassword",
        "cluster-configs.secrets.egov-enc-service.master-password",
        "cluster-configs.secrets.egov-enc-service.master-salt",
        "cluster-configs.secrets.egov-enc-service.master-initialvector",
        "cluster-configs.secrets.minio.accesskey",
        "cluster-configs.secrets.minio.secretkey",
    ] {
        assert!(layout_secrets.contains(need), "fixture lacks {need}");
        assert!(paths.contains(need), "secrets file lacks {need}");
    }
    // Each group says which Secret it becomes.
    assert!(e.secrets_yaml.contains("-> Secret db (namespace egov)"));
    assert!(e.secrets_yaml.contains("-> Secret git-creds"));
}

#[test]
fn release_chart_lists_every_egovio_image() {
    let p = dev();
    let e = export(&p);
    let chart = yaml(&e.release_chart_yaml);
    assert!(chart["version"].is_string());
    let modules = chart["modules"].as_array().expect("modules");
    let names: BTreeSet<&str> = modules.iter().filter_map(|m| m["name"].as_str()).collect();
    // The standalone installer offers only modules named m_*.
    assert!(names.iter().any(|n| n.starts_with("m_")), "{names:?}");
    let mut entries = Vec::new();
    for m in modules {
        for dep in strings(&m["dependencies"]) {
            assert!(names.contains(dep.as_str()), "undefined module {dep}");
        }
        let services = strings(&m["services"]);
        assert!(!services.is_empty(), "an empty module breaks the installer's list");
        entries.extend(services);
    }
    // The deployer strips `-db:` and would deploy the app chart again.
    assert!(entries.iter().all(|s| !s.contains("-db:")), "{entries:?}");
    for i in p.images() {
        let r = &i.reference;
        if r.registry() != "docker.io" || !r.repository().starts_with("egovio/") {
            continue;
        }
        let entry = format!("{}:{}", r.repository(), r.tag());
        match i.role {
            ImageRole::App => assert!(entries.contains(&entry), "{entry} not in {entries:?}"),
            // Flyway and init images ride on their app's entry and chart.
            _ => assert!(e.release_chart_yaml.contains(r.as_str()), "{r} not mentioned"),
        }
    }
    for backbone in ["postgres", "redis", "kafka-kraft", "minio"] {
        assert!(entries.iter().any(|s| s == backbone), "{backbone}");
    }
}

#[test]
fn env_lands_where_each_chart_reads_it() {
    let p = dev();
    let env = yaml(&export(&p).env_yaml);
    // A chart value key, not a duplicate env var.
    assert_eq!(env["egov-user"]["citizen-otp-fixed"], "123456");
    assert_eq!(env["egov-user"]["decryption-abac-enabled"], "false");
    assert_eq!(env["egov-idgen"]["autocreate-new-seq"], "true");
    assert_eq!(env["egov-notification-sms"]["sms.provider.class"], "Console");
    assert_eq!(env["egov-filestore"]["minio-enabled"], true);
    assert!(
        env["gateway"]["egov-open-endpoints-whitelist"]
            .as_str()
            .is_some_and(|w| w.contains("/mdms-v2/v1/_search"))
    );
    assert_eq!(
        env["egov-hrms"]["employee-applink"],
        format!("https://{DOMAIN}/digit-ui/employee/user/login").as_str()
    );
    // Shared settings in egov-config, with backbone hosts renamed.
    let data = &env["cluster-configs"]["configmaps"]["egov-config"]["data"];
    assert_eq!(
        data["kafka-brokers"],
        "release-name-kafka-controller-headless.backbone:9092"
    );
    assert_eq!(data["spring-datasource-tomcat-max-active"], "5");
    assert_eq!(data["sms-enabled"], "true");
    let hosts = &env["cluster-configs"]["configmaps"]["egov-service-host"]["data"];
    assert_eq!(
        hosts["egov-mdms-service"], "http://mdms-v2:8080/",
        "the quickstart's MDMS"
    );
    assert_eq!(hosts["minio-url"], "http://minio.backbone:9000/");

    for block in env.as_object().expect("mapping").keys() {
        let Some(app) = env[block.as_str()]["extraEnv"]["app"].as_str() else {
            continue;
        };
        let list = yaml(app);
        let list = list
            .as_array()
            .unwrap_or_else(|| panic!("{block}: extraEnv.app is a list"));
        let chart = charts::chart(block).expect("a known chart");
        let mut seen = BTreeSet::new();
        for item in list {
            let name = item["name"].as_str().expect("name");
            assert!(item["value"].is_string(), "{block} {name}");
            assert!(seen.insert(name.to_owned()), "{block}: {name} twice");
            assert_eq!(chart.source(name), None, "{block}: the chart already sets {name}");
        }
        if block == "pgr-services" {
            assert!(
                list.iter().any(|i| i["name"] == "EGOV_UI_APP_HOST_MAP"
                    && i["value"] == format!("{{\"pg\":\"https://{DOMAIN}\"}}").as_str()),
                "{app}"
            );
        }
        if block == "mdms-v2" {
            assert!(
                list.iter().any(
                    |i| i["name"] == "SPRING_DATASOURCE_DRIVER_CLASS_NAME" && i["value"] == "org.postgresql.Driver"
                )
            );
        }
    }
}

#[test]
fn no_value_keeps_a_quickstart_only_name() {
    let p = dev();
    let e = export(&p);
    let env = yaml(&e.env_yaml);
    let mut values: Vec<String> = leaves(&env)
        .into_iter()
        .filter_map(|(_, v)| v.as_str().map(str::to_owned))
        .collect();
    values.extend(
        values
            .clone()
            .iter()
            .filter(|v| v.starts_with("- name:"))
            .flat_map(|v| {
                leaves(&yaml(v))
                    .into_iter()
                    .filter_map(|(_, v)| v.as_str().map(str::to_owned))
            }),
    );
    for v in &values {
        assert!(!v.contains("{public_url}"), "{v}");
        assert!(!v.contains("redpanda"), "{v}");
        assert!(!v.contains("//minio:") && v != "redis", "{v}");
    }
}

#[test]
fn replace_host_matches_whole_host_names() {
    use super::replace_host as r;
    assert_eq!(r("redis", "redis", "redis.backbone"), "redis.backbone");
    assert_eq!(r("redis.backbone", "redis", "redis.backbone"), "redis.backbone");
    assert_eq!(
        r("http://minio:9000", "minio", "minio.backbone"),
        "http://minio.backbone:9000"
    );
    assert_eq!(r("redpanda:9092,redpanda:9093", "redpanda", "k"), "k:9092,k:9093");
    assert_eq!(r("xredis:1", "redis", "y"), "xredis:1");
    assert_eq!(
        r("jdbc:postgresql://postgres:5432/egov", "postgres", "db"),
        "jdbc:postgresql://db:5432/egov"
    );
}

#[test]
fn write_puts_four_files_and_keeps_secrets_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let e = export(&dev());
    let written = super::write(dir.path(), &e).expect("write");
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap_or_default().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            super::ENV_FILE,
            super::SECRETS_FILE,
            super::RELEASE_CHART_FILE,
            super::README_FILE
        ]
    );
    let mode = |name: &str| {
        std::fs::metadata(dir.path().join(name))
            .expect("written")
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(super::SECRETS_FILE), 0o600);
    assert_eq!(mode(super::ENV_FILE), 0o644);
    // Rewriting narrows a secrets file that was made readable.
    std::fs::set_permissions(
        dir.path().join(super::SECRETS_FILE),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    super::write(dir.path(), &e).expect("rewrite");
    assert_eq!(mode(super::SECRETS_FILE), 0o600);
    assert_eq!(
        std::fs::read_to_string(dir.path().join(super::ENV_FILE)).expect("read"),
        e.env_yaml
    );
}

#[test]
fn readme_says_where_files_go_and_what_is_left_out() {
    let e = export(&dev());
    for needle in [
        "deploy-as-code/helm/environments/digit-quickstart.yaml",
        "deploy-as-code/helm/environments/digit-quickstart-secrets.yaml",
        "config-as-code/product-release-charts/DIGIT/dependancy_chart-digit-quickstart.yaml",
        charts::COMMIT,
        "Redpanda → kafka-kraft",
        "Secrets to supply",
        "EGOV_MDMS_SEARCH_ENDPOINT",
    ] {
        assert!(e.readme.contains(needle), "README lacks {needle}");
    }
}
