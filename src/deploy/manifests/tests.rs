use super::*;

fn dev() -> Profile {
    crate::profile::parse(crate::profile::EMBEDDED[0].2, "dev").unwrap()
}

fn render_dev(secrets: Option<&Secrets>, digests: &BTreeMap<String, String>) -> (Profile, String) {
    let p = dev();
    let files = BTreeMap::new();
    let r = render(&Inputs {
        profile: &p,
        secrets,
        digests,
        files: &files,
        public_url: None,
        target: &crate::deploy::manifests::target::Target::default(),
        pull_auth: None,
    });
    let yaml = to_yaml(&r.ordered(&p));
    (p, yaml)
}

#[test]
fn the_dev_profile_renders_the_same_manifests() {
    let (_, yaml) = render_dev(None, &BTreeMap::new());
    insta::assert_snapshot!("dev_manifests", yaml);
}

#[test]
fn every_object_is_labelled_with_the_manager_and_profile() {
    let p = dev();
    let files = BTreeMap::new();
    let digests = BTreeMap::new();
    let r = render(&Inputs {
        profile: &p,
        secrets: None,
        digests: &digests,
        files: &files,
        public_url: None,
        target: &crate::deploy::manifests::target::Target::default(),
        pull_auth: None,
    });
    let all = r.ordered(&p);
    // 22 Deployments, their Services, PVCs, seed jobs and the shared objects.
    assert!(all.len() > 60, "{}", all.len());
    for m in &all {
        let l = &m.object["metadata"]["labels"];
        assert_eq!(l[MANAGED_BY], MANAGER, "{}", m.id());
        assert_eq!(l[PROFILE_LABEL], "dev", "{}", m.id());
        if m.kind != "Namespace" {
            assert_eq!(m.object["metadata"]["namespace"], "egov", "{}", m.id());
        }
    }
    let deployments = all.iter().filter(|m| m.kind == "Deployment").count();
    assert_eq!(deployments, p.components.len());
}

#[test]
fn images_use_the_locked_digest_when_there_is_one() {
    let digest = format!("sha256:{}", "ab".repeat(32));
    let digests = BTreeMap::from([("docker.io/egovio/egov-user:master-d69ce29".to_owned(), digest.clone())]);
    let (_, yaml) = render_dev(None, &digests);
    assert!(yaml.contains(&format!("image: docker.io/egovio/egov-user:master-d69ce29@{digest}")));
    // Unlocked images keep their tag; every container is IfNotPresent.
    assert!(yaml.contains("image: docker.io/egovio/egov-user-db:master-d69ce29\n"));
    assert!(!yaml.contains("imagePullPolicy: Always"));
}

#[test]
fn secret_values_appear_only_base64_encoded_in_secrets_and_never_in_a_plan() {
    let secrets = Secrets::generate(&dev(), &mut crate::deploy::secrets::os_random).unwrap();
    let (_, with) = render_dev(Some(&secrets), &BTreeMap::new());
    let password = secrets.get("db/password");
    assert!(!with.contains(password), "a raw secret value reached the rendered YAML");
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(password);
    assert!(with.contains(&encoded));
    assert!(!with.contains(REDACTED));
    let (_, plan) = render_dev(None, &BTreeMap::new());
    assert!(plan.contains(REDACTED));
    assert!(!plan.contains(&encoded));
    assert!(!plan.contains(password));
}

#[test]
fn the_state_tenant_is_set_under_every_name_and_services_route_through_the_gateway() {
    let p = dev();
    let files = BTreeMap::new();
    let digests = BTreeMap::new();
    let r = render(&Inputs {
        profile: &p,
        secrets: None,
        digests: &digests,
        files: &files,
        public_url: None,
        target: &crate::deploy::manifests::target::Target::default(),
        pull_auth: None,
    });
    let env = r.base.iter().find(|m| m.name == "digit-env").unwrap();
    for var in crate::profile::STATE_TENANT_VARS {
        assert_eq!(env.object["data"][var], "pg", "{var}");
    }
    let user = r
        .base
        .iter()
        .find(|m| m.kind == "Service" && m.name == "egov-user")
        .unwrap();
    assert_eq!(user.object["metadata"]["annotations"]["zuul/route-path"], "user");
    let ing = r.base.iter().find(|m| m.kind == "Ingress").unwrap();
    let paths = ing.object["spec"]["rules"][0]["http"]["paths"].as_array().unwrap();
    let find = |path: &str| {
        paths
            .iter()
            .find(|p| p["path"] == path)
            .map(|p| p["backend"]["service"]["name"].as_str().unwrap().to_owned())
    };
    assert_eq!(find("/user").as_deref(), Some("gateway"));
    assert_eq!(find("/user/health").as_deref(), Some("egov-user"));
    assert_eq!(find("/digit-ui").as_deref(), Some("digit-ui"));
    // The encryption service has no public route, only its health path.
    assert_eq!(find("/egov-enc-service").as_deref(), None);
}

#[test]
fn sql_seeds_wait_for_their_table_and_pass_psql_variables() {
    let p = dev();
    let files = BTreeMap::from([("localization-messages".to_owned(), "SELECT 1;".to_owned())]);
    let digests = BTreeMap::new();
    let r = render(&Inputs {
        profile: &p,
        secrets: None,
        digests: &digests,
        files: &files,
        public_url: None,
        target: &crate::deploy::manifests::target::Target::default(),
        pull_auth: None,
    });
    let job = &r.jobs["localization-messages"].object;
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    // The script is assets/seed-sql.sh; what it runs comes from the env.
    assert_eq!(container["command"][2], include_str!("../../../assets/seed-sql.sh"));
    let env: BTreeMap<String, String> = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| Some((e["name"].as_str()?.to_owned(), e["value"].as_str()?.to_owned())))
        .collect();
    assert_eq!(env["WAIT_FOR_TABLE"], "message");
    assert_eq!(env["PSQL_VARS"], "-v tenant_id=pg");
    assert_eq!(env["SEED_FILE"], "/seed/localization-seed.sql");
    let tenant = &r.jobs["mdms-tenant"].object["spec"]["template"]["spec"]["containers"][0]["env"];
    assert!(!tenant.to_string().contains("PSQL_VARS"), "no variables, no PSQL_VARS");
    let cm = r.base.iter().find(|m| m.name == "seed-localization-messages").unwrap();
    assert_eq!(cm.object["data"]["localization-seed.sql"], "SELECT 1;");
    // Jobs carry a hash of their pod template; a different template, a different hash.
    let h1 = job["metadata"]["annotations"][SPEC_HASH].clone();
    let h2 = r.jobs["mdms-tenant"].object["metadata"]["annotations"][SPEC_HASH].clone();
    assert_ne!(h1, h2);
    // The API-only seed is not a Job.
    assert!(r.jobs.contains_key("minio-bucket"));
    assert!(!r.jobs.contains_key("persister-mdms"));
}
