//! Parser and validation errors, each with the exact location it reports.

use super::*;

/// A small valid profile; tests change one line to make one error.
const BASE: &str = r#"schema: 1
name: mini
description: two components
digit: {release: v2.9.2}
k3s:
  version: v1.36.4+k3s1
  url_template: https://example.invalid/{version}/{artifact}
  overhead: {cpu: 500m, memory: 1Gi}
  artifacts:
    amd64:
      binary: {name: k3s, sha256: unpinned, size: 72Mi}
      airgap_images: {name: airgap.tar.zst, sha256: unpinned, size: 64Mi}
host:
  arch: [amd64]
  cpus: {min: 2, recommended: 4}
  memory: {min: 4Gi, recommended: 8Gi}
  ports: [6443]
  eviction: {memory_available: 100Mi, disk_free_percent: 15}
  data_dir_reserve: 512Mi
  os: [{id: debian, versions: ["12"]}]
namespace: egov
components:
  - name: db
    images:
      - {ref: docker.io/library/postgres:16, compressed: 150Mi, unpacked: 440Mi}
    resources:
      requests: {cpu: 100m, memory: 256Mi}
      limits: {memory: 512Mi}
  - name: api
    images:
      - {ref: docker.io/egovio/egov-user:v1, compressed: 200Mi, unpacked: 480Mi}
    resources:
      requests: {cpu: 50m, memory: 256Mi}
      limits: {cpu: "1", memory: 256Mi}
    depends_on: [db]
state_tenant: pg
city_tenants: [pg.citya]
admin: {username: ADMIN, via: api, tenants: [pg], roles: [SUPERUSER]}
"#;

fn with(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "fixture lacks {from:?}");
    BASE.replacen(from, to, 1)
}

#[track_caller]
fn error_at(yaml: &str, line: u64, column: u64, message_part: &str) {
    match parse(yaml, "my.yaml") {
        Ok(_) => panic!("expected an error containing {message_part:?}"),
        Err(ProfileError::Invalid {
            origin,
            line: l,
            column: c,
            message,
            snippet,
        }) => {
            assert_eq!(origin, "my.yaml");
            assert!(
                message.contains(message_part),
                "message {message:?} lacks {message_part:?}"
            );
            assert_eq!((l, c), (line, column), "location of {message:?}");
            let snippet = snippet.expect("a snippet");
            assert!(snippet.contains(&format!("my.yaml:{line}:{column}")), "{snippet}");
        }
        Err(other) => panic!("unexpected error {other}"),
    }
}

#[test]
fn the_base_fixture_and_the_embedded_dev_profile_are_valid() {
    let p = parse(BASE, "my.yaml").unwrap();
    assert_eq!(p.waves().iter().map(|w| w.len()).collect::<Vec<_>>(), vec![1, 1]);
    let dev = load(&ProfileSource::default(), &crate::host::RealFs::new("/")).unwrap();
    assert_eq!(dev.name, "dev");
    assert_eq!(dev.origin, "embedded:profiles/dev.yaml");
}

#[test]
fn an_unknown_key_is_an_error_at_the_key() {
    error_at(
        &with("    depends_on: [db]", "    depends_on: [db]\n    replica: 2"),
        36,
        5,
        "unknown field `replica`",
    );
}

#[test]
fn a_duplicate_component_name_points_at_the_second_one() {
    error_at(
        &with("  - name: api", "  - name: db"),
        29,
        11,
        "duplicate component name `db` (first defined at line 23)",
    );
}

#[test]
fn an_unknown_dependency_points_at_the_entry_and_lists_known_names() {
    error_at(
        &with("depends_on: [db]", "depends_on: [db, redis]"),
        35,
        22,
        "unknown component `redis`; expected one of: api, db",
    );
}

#[test]
fn a_dependency_cycle_names_the_cycle_and_where_it_closes() {
    let yaml = with(
        "      limits: {memory: 512Mi}\n  - name: api",
        "      limits: {memory: 512Mi}\n    depends_on: [api]\n  - name: api",
    );
    error_at(&yaml, 36, 18, "dependency cycle: db -> api -> db");
}

#[test]
fn a_self_dependency_is_rejected() {
    error_at(
        &with("depends_on: [db]", "depends_on: [api]"),
        35,
        18,
        "component `api` depends on itself",
    );
}

#[test]
fn invalid_image_references_say_what_to_write() {
    error_at(
        &with("docker.io/egovio/egov-user:v1", "egovio/egov-user:v1"),
        31,
        15,
        "not fully qualified: write `docker.io/egovio/egov-user:v1`",
    );
    error_at(
        &with("docker.io/library/postgres:16", "docker.io/library/postgres"),
        25,
        15,
        "has no tag",
    );
}

#[test]
fn bad_quantities_are_errors_at_the_value() {
    error_at(&with("memory: 512Mi}", "memory: 5Gb}"), 28, 24, "invalid size `5Gb`");
    error_at(&with("cpu: 100m", "cpu: 100x"), 27, 23, "invalid CPU quantity `100x`");
}

#[test]
fn a_bad_checksum_and_a_wrong_type_are_located() {
    error_at(
        &with("sha256: unpinned, size: 72Mi", "sha256: abc, size: 72Mi"),
        11,
        35,
        "invalid sha256 `abc`",
    );
    error_at(&with("schema: 1", "schema: one"), 1, 9, "");
}

#[test]
fn names_must_be_kubernetes_names_and_requests_within_limits() {
    error_at(
        &with("  - name: api", "  - name: API"),
        29,
        11,
        "component name `API` is not a valid Kubernetes name",
    );
    error_at(
        &with(
            "requests: {cpu: 50m, memory: 256Mi}",
            "requests: {cpu: 50m, memory: 1Gi}",
        ),
        29,
        11,
        "cannot exceed its limit",
    );
    error_at(
        &with("namespace: egov", "namespace: e_gov"),
        21,
        12,
        "namespace `e_gov`",
    );
}

#[test]
fn duplicate_yaml_keys_and_syntax_errors_are_located() {
    error_at(
        &with("namespace: egov", "namespace: egov\nnamespace: other"),
        22,
        1,
        "duplicate",
    );
    error_at(&with("  ports: [6443]", "  ports: [6443"), 18, 11, "");
}

#[test]
fn a_missing_file_and_an_unknown_embedded_name_are_distinct_errors() {
    let fs = crate::host::RealFs::new("/");
    let err = load(&ProfileSource::File("/nonexistent/p.yaml".into()), &fs).unwrap_err();
    assert!(matches!(err, ProfileError::Read { .. }));
    assert_eq!(err.to_string(), "could not read profile file `/nonexistent/p.yaml`");
    let err = load(&ProfileSource::Embedded("prod".into()), &fs).unwrap_err();
    assert_eq!(err.to_string(), "no embedded profile named `prod`");
    assert!(crate::error::Diagnostic::hints(&err)[0].contains("embedded profiles: dev"));
}

#[test]
fn profile_arguments_with_a_slash_or_yaml_extension_are_files() {
    assert_eq!(ProfileSource::from_arg("dev"), ProfileSource::Embedded("dev".into()));
    assert_eq!(
        ProfileSource::from_arg("./my.yaml"),
        ProfileSource::File("./my.yaml".into())
    );
    assert_eq!(ProfileSource::from_arg("my.yml"), ProfileSource::File("my.yml".into()));
    assert_eq!(ProfileSource::from_arg("/etc/p"), ProfileSource::File("/etc/p".into()));
}

/// The deploy budget: a 4 vCPU / 8 GiB VM, summed memory limits within 5 GiB.
#[test]
fn the_dev_profile_fits_its_stated_budget() {
    let dev = parse(EMBEDDED[0].2, "dev").unwrap();
    let limits: u64 = dev.components.iter().map(|c| c.resources.limits.memory.0).sum();
    assert!(
        limits <= 5 << 30,
        "summed limits {} exceed 5 GiB",
        quantity::human_bytes(limits)
    );
    let cpu: u64 = dev.components.iter().map(|c| c.resources.requests.cpu.0).sum::<u64>() + dev.k3s.overhead.cpu.0;
    assert!(
        cpu <= 2000,
        "CPU requests {cpu}m must fit the profile's own 2-core minimum"
    );
    for c in &dev.components {
        if let Some(heap) = c.jvm_heap {
            assert!(
                heap.0 * 10 <= c.resources.limits.memory.0 * 7,
                "{}: heap above 70% of its limit",
                c.name
            );
        }
    }
}

#[test]
fn dev_waves_start_with_the_backbone_and_end_with_the_ui_and_pgr() {
    let dev = parse(EMBEDDED[0].2, "dev").unwrap();
    let waves: Vec<Vec<&str>> = dev
        .waves()
        .iter()
        .map(|w| w.iter().map(|c| c.name.as_str()).collect())
        .collect();
    assert_eq!(waves[0], vec!["postgres", "redis", "redpanda", "minio"]);
    let last = waves.last().unwrap();
    assert!(
        last.contains(&"pgr-services") || last.contains(&"digit-ui"),
        "{waves:?}"
    );
    // Every dependency sits in an earlier wave.
    for (i, wave) in waves.iter().enumerate() {
        for name in wave {
            for dep in &dev.component(name).unwrap().depends_on {
                let dep_wave = waves.iter().position(|w| w.contains(&dep.as_str())).unwrap();
                assert!(dep_wave < i, "{name} (wave {i}) depends on {dep} (wave {dep_wave})");
            }
        }
    }
    // Each DB-backed service carries its Flyway image with the app's tag.
    for c in &dev.components {
        for m in c.images.iter().filter(|i| i.role == ImageRole::Migration) {
            let app = c.images.iter().find(|i| i.role == ImageRole::App).unwrap();
            assert_eq!(m.reference.tag(), app.reference.tag(), "{}", c.name);
            assert_eq!(m.reference.repository(), format!("{}-db", app.reference.repository()));
        }
    }
}

#[test]
fn a_state_tenant_that_disagrees_with_a_service_env_is_refused() {
    let yaml = with(
        "    depends_on: [db]\n",
        "    depends_on: [db]\n    env: {EGOV_STATE_LEVEL_TENANT_ID: pb}\n",
    );
    error_at(
        &yaml,
        29,
        11,
        "EGOV_STATE_LEVEL_TENANT_ID is `pb` but state_tenant is `pg`",
    );
    let yaml = with("city_tenants: [pg.citya]", "city_tenants: [pb.citya]");
    error_at(
        &yaml,
        36,
        15,
        "city tenant `pb.citya` is not under the state tenant `pg`",
    );
}

#[test]
fn seeds_must_name_known_components_images_and_secrets() {
    let seed = |body: &str| format!("{BASE}seeds:\n  - name: s1\n    after: {body}\n");
    error_at(
        &seed("nowhere\n    api: {component: api, path: /x}"),
        41,
        12,
        "seed `s1` runs after unknown component `nowhere`",
    );
    error_at(&seed("db"), 40, 11, "exactly one of `file`, `api` or `job`");
    error_at(
        &seed("db\n    job: {image: docker.io/library/busybox:1, command: [true]}"),
        40,
        11,
        "which no component lists",
    );
    error_at(
        &seed("db\n    job: {image: docker.io/library/postgres:16, command: [true], secret_env: {X: db/nope}}"),
        40,
        11,
        "secret_env X refers to `db/nope`",
    );
    let ok = seed("db\n    job: {image: docker.io/library/postgres:16, command: [psql], secret_env: {P: db/password}}");
    let p = parse(&ok, "ok.yaml").unwrap();
    assert_eq!(p.seeds_after("db").len(), 1);
    assert!(matches!(p.seeds[0].action, SeedAction::Job(_)));
}

#[test]
fn a_migration_image_needs_its_flyway_table_and_java_needs_a_heap() {
    let yaml = with(
        "      - {ref: docker.io/egovio/egov-user:v1, compressed: 200Mi, unpacked: 480Mi}\n",
        "      - {ref: docker.io/egovio/egov-user:v1, compressed: 200Mi, unpacked: 480Mi}\n      - {ref: docker.io/egovio/egov-user-db:v1, role: migration, compressed: 1Mi, unpacked: 1Mi}\n",
    );
    error_at(&yaml, 29, 11, "no schema_table");
    let yaml = with("    depends_on: [db]\n", "    depends_on: [db]\n    kind: java\n");
    error_at(&yaml, 29, 11, "is a Java service but has no jvm_heap");
}
