//! Pod templates: the Deployment of each component and the seed Jobs' pods.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy};
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapEnvSource, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource,
    EnvFromSource, EnvVar, EnvVarSource, ExecAction, HTTPGetAction, PersistentVolumeClaimVolumeSource, PodSpec,
    PodTemplateSpec, Probe, ResourceRequirements, SecretKeySelector, TCPSocketAction, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{
    Manifest, NAME_LABEL, ROUTES_FILE, bytes_quantity, cpu_quantity, image_ref, labels, meta, seed_configmap_name,
    seed_file_name,
};
use crate::profile::{Component, ComponentKind, Health, ImageRole, Profile, SeedFile, SeedJob, SeedStep};

const UI_NGINX: &str = "digit-ui-nginx";
/// DIGIT's Flyway images read these (Digit-Core `db/migrate.sh`).
const FLYWAY_LOCATIONS: &str = "filesystem:/flyway/sql,filesystem:/flyway/seed,filesystem:/flyway/qa";

fn env(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value: Some(value.to_owned()),
        ..Default::default()
    }
}

/// `secret/key` from the generated secrets.
fn secret_env(name: &str, reference: &str) -> EnvVar {
    let (secret, key) = reference.split_once('/').unwrap_or((reference, reference));
    EnvVar {
        name: name.to_owned(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret.to_owned(),
                key: key.to_owned(),
                optional: Some(false),
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn handler_probe(h: &Health) -> Probe {
    match h {
        Health::Http { path, port } => Probe {
            http_get: Some(HTTPGetAction {
                path: Some(path.clone()),
                port: IntOrString::Int(i32::from(*port)),
                ..Default::default()
            }),
            ..Default::default()
        },
        Health::Tcp { port } => Probe {
            tcp_socket: Some(TCPSocketAction {
                port: IntOrString::Int(i32::from(*port)),
                ..Default::default()
            }),
            ..Default::default()
        },
        Health::Exec { command } => Probe {
            exec: Some(ExecAction {
                command: Some(command.clone()),
            }),
            ..Default::default()
        },
    }
}

/// Startup allows the JVM (and Spring's context) its slow first start;
/// readiness then gates traffic; liveness restarts only a wedged process.
fn probes(c: &Component, h: &Health) -> (Probe, Probe, Probe) {
    let start = c.start_seconds.unwrap_or(if c.is_java() { 300 } else { 90 });
    let startup = Probe {
        period_seconds: Some(10),
        timeout_seconds: Some(5),
        failure_threshold: Some(i32::try_from(start.div_ceil(10)).unwrap_or(30)),
        ..handler_probe(h)
    };
    let readiness = Probe {
        period_seconds: Some(10),
        timeout_seconds: Some(5),
        failure_threshold: Some(3),
        ..handler_probe(h)
    };
    let liveness = Probe {
        period_seconds: Some(30),
        timeout_seconds: Some(5),
        failure_threshold: Some(5),
        ..handler_probe(h)
    };
    (startup, readiness, liveness)
}

fn resources(c: &Component) -> ResourceRequirements {
    let r = &c.resources;
    let mut limits = BTreeMap::from([("memory".to_owned(), bytes_quantity(r.limits.memory.0))]);
    if let Some(cpu) = r.limits.cpu {
        limits.insert("cpu".to_owned(), cpu_quantity(cpu.0));
    }
    ResourceRequirements {
        requests: Some(BTreeMap::from([
            ("cpu".to_owned(), cpu_quantity(r.requests.cpu.0)),
            ("memory".to_owned(), bytes_quantity(r.requests.memory.0)),
        ])),
        limits: Some(limits),
        ..Default::default()
    }
}

fn small(memory_mi: u64) -> ResourceRequirements {
    ResourceRequirements {
        requests: Some(BTreeMap::from([
            ("cpu".to_owned(), cpu_quantity(50)),
            ("memory".to_owned(), bytes_quantity(memory_mi << 20)),
        ])),
        limits: Some(BTreeMap::from([("memory".to_owned(), bytes_quantity(memory_mi << 20))])),
        ..Default::default()
    }
}

fn app_env(c: &Component, public_url: Option<&str>) -> Vec<EnvVar> {
    let mut out = Vec::new();
    if c.is_java() {
        // Helm's conventions: every service on 8080, health at /<context>/health.
        out.push(env("SERVER_PORT", "8080"));
        out.push(env("MANAGEMENT_ENDPOINTS_WEB_BASE_PATH", "/"));
        out.push(env("FLYWAY_ENABLED", "false"));
        out.push(env("SPRING_FLYWAY_ENABLED", "false"));
        // DIGIT's images start `java ${JAVA_OPTS} ... -jar` and put
        // `-Xmx64m -Xms64m` there when JAVA_OPTS is empty (Digit-Core
        // build/maven/start.sh); command-line flags override
        // JAVA_TOOL_OPTIONS, so the heap must go in JAVA_OPTS, as eGov's Helm
        // charts set it.
        if let Some(heap) = c.jvm_heap {
            out.push(env(
                "JAVA_OPTS",
                &format!("-Xms32m -Xmx{}m -XX:+ExitOnOutOfMemoryError", heap.0 >> 20),
            ));
        }
        out.push(secret_env("SPRING_DATASOURCE_USERNAME", "db/username"));
        out.push(secret_env("SPRING_DATASOURCE_PASSWORD", "db/password"));
    }
    if c.kind == ComponentKind::Gateway {
        out.push(env("SPRING_ROUTES_FILEPATH", &format!("file:{ROUTES_FILE}")));
    }
    let url = public_url.unwrap_or(super::PUBLIC_URL);
    out.extend(c.env.iter().map(|(k, v)| env(k, &v.replace(super::PUBLIC_URL, url))));
    out.extend(c.secret_env.iter().map(|(k, v)| secret_env(k, v)));
    out
}

fn migration_container(c: &Component, image: &str) -> Container {
    Container {
        name: "db-migration".into(),
        image: Some(image.to_owned()),
        image_pull_policy: Some("IfNotPresent".into()),
        // Straight to Postgres, never through a pooler (Flyway needs a session).
        env: Some(vec![
            env("DB_URL", "jdbc:postgresql://postgres:5432/egov"),
            env("SCHEMA_TABLE", c.schema_table.as_deref().unwrap_or_default()),
            env("FLYWAY_LOCATIONS", FLYWAY_LOCATIONS),
            // egov-hrms-db's migrate.sh runs once per schema in SCHEMA_NAME
            // and does nothing when it is empty (DIGIT-Common 0a4e737
            // egov-hrms/src/main/resources/db/migrate.sh; CCRS's common chart
            // sets it); the other images ignore it.
            env("SCHEMA_NAME", "public"),
            secret_env("FLYWAY_USER", "db/username"),
            secret_env("FLYWAY_PASSWORD", "db/password"),
        ]),
        resources: Some(small(256)),
        ..Default::default()
    }
}

pub(super) fn deployment(
    p: &Profile,
    c: &Component,
    digests: &BTreeMap<String, String>,
    public_url: Option<&str>,
) -> Deployment {
    let app = c
        .image(ImageRole::App)
        .map(|i| image_ref(i.reference.as_str(), digests));
    let mut volumes = Vec::new();
    let mut mounts = Vec::new();
    for v in &c.volumes {
        volumes.push(Volume {
            name: v.name.clone(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: format!("{}-{}", c.name, v.name),
                ..Default::default()
            }),
            ..Default::default()
        });
        mounts.push(VolumeMount {
            name: v.name.clone(),
            mount_path: v.mount.clone(),
            ..Default::default()
        });
    }
    for (i, (path, seed)) in c.files.iter().enumerate() {
        let vol = format!("file-{i}");
        let key = p
            .seed(seed)
            .and_then(|s| match &s.action {
                crate::profile::SeedAction::File(f) => Some(seed_file_name(&f.url)),
                _ => None,
            })
            .unwrap_or_default();
        volumes.push(Volume {
            name: vol.clone(),
            config_map: Some(ConfigMapVolumeSource {
                name: seed_configmap_name(seed),
                ..Default::default()
            }),
            ..Default::default()
        });
        mounts.push(VolumeMount {
            name: vol,
            mount_path: path.clone(),
            sub_path: Some(key),
            read_only: Some(true),
            ..Default::default()
        });
    }
    let mut init = Vec::new();
    if let Some(m) = c.image(ImageRole::Migration) {
        init.push(migration_container(c, &image_ref(m.reference.as_str(), digests)));
    }
    let mut service_account = None;
    if c.kind == ComponentKind::Gateway {
        service_account = Some("gateway-discovery".to_owned());
        volumes.push(Volume {
            name: "routes".into(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Default::default()
        });
        let routes_dir = ROUTES_FILE.rsplit_once('/').map_or("/etc/zuul", |(d, _)| d);
        mounts.push(VolumeMount {
            name: "routes".into(),
            mount_path: routes_dir.to_owned(),
            ..Default::default()
        });
        if let Some(d) = c.image(ImageRole::Init) {
            init.push(Container {
                name: "route-discovery".into(),
                image: Some(image_ref(d.reference.as_str(), digests)),
                image_pull_policy: Some("IfNotPresent".into()),
                env: Some(vec![
                    env("OUTPUT_FILE_PATH", ROUTES_FILE),
                    env("NAMESPACE", &p.namespace),
                ]),
                volume_mounts: Some(vec![VolumeMount {
                    name: "routes".into(),
                    mount_path: routes_dir.to_owned(),
                    ..Default::default()
                }]),
                resources: Some(small(64)),
                ..Default::default()
            });
        }
    }
    if c.kind == ComponentKind::Ui {
        volumes.push(Volume {
            name: "nginx".into(),
            config_map: Some(ConfigMapVolumeSource {
                name: UI_NGINX.into(),
                ..Default::default()
            }),
            ..Default::default()
        });
        mounts.push(VolumeMount {
            name: "nginx".into(),
            mount_path: "/etc/nginx/conf.d/default.conf".into(),
            sub_path: Some("default.conf".into()),
            read_only: Some(true),
            ..Default::default()
        });
    }
    let (startup, readiness, liveness) = match &c.health {
        Some(h) => {
            let (s, r, l) = probes(c, h);
            (Some(s), Some(r), Some(l))
        }
        None => (None, None, None),
    };
    let container = Container {
        name: c.name.clone(),
        image: app,
        image_pull_policy: Some("IfNotPresent".into()),
        command: (!c.command.is_empty()).then(|| c.command.clone()),
        args: (!c.args.is_empty()).then(|| c.args.clone()),
        env: Some(app_env(c, public_url)),
        env_from: c.is_java().then(|| {
            vec![EnvFromSource {
                config_map_ref: Some(ConfigMapEnvSource {
                    name: "digit-env".into(),
                    optional: Some(false),
                }),
                ..Default::default()
            }]
        }),
        ports: Some(
            c.ports
                .iter()
                .map(|port| ContainerPort {
                    container_port: i32::from(*port),
                    ..Default::default()
                })
                .collect(),
        ),
        resources: Some(resources(c)),
        startup_probe: startup,
        readiness_probe: readiness,
        liveness_probe: liveness,
        volume_mounts: (!mounts.is_empty()).then_some(mounts),
        ..Default::default()
    };
    let selector = BTreeMap::from([(NAME_LABEL.to_owned(), c.name.clone())]);
    Deployment {
        metadata: meta(p, &c.name, Some(&c.name)),
        spec: Some(DeploymentSpec {
            replicas: Some(1),
            // One node with little headroom: never run old and new side by side.
            strategy: Some(DeploymentStrategy {
                type_: Some("Recreate".into()),
                ..Default::default()
            }),
            selector: LabelSelector {
                match_labels: Some(selector),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels(p, Some(&c.name))),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    // Kubernetes' {SVC}_PORT variables collide with settings
                    // such as REDIS_PORT; the services use DNS names instead.
                    enable_service_links: Some(false),
                    service_account_name: service_account,
                    automount_service_account_token: Some(c.kind == ComponentKind::Gateway),
                    init_containers: (!init.is_empty()).then_some(init),
                    containers: vec![container],
                    volumes: (!volumes.is_empty()).then_some(volumes),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Our own nginx site for the UI image: serve /digit-ui, inject the mounted
/// globalConfigs.js instead of the S3-hosted one the Helm env files use.
/// The seed Job's script (assets/seed-sql.sh, shellchecked with the rest).
const SEED_SQL: &str = include_str!("../../../assets/seed-sql.sh");

pub(super) fn ui_nginx_config(p: &Profile) -> Manifest {
    let conf = include_str!("../../../assets/digit-ui-nginx.conf");
    let cm = ConfigMap {
        metadata: meta(p, UI_NGINX, Some("digit-ui")),
        data: Some(BTreeMap::from([("default.conf".to_owned(), conf.to_owned())])),
        ..Default::default()
    };
    Manifest::of(&cm, UI_NGINX, Some(&p.namespace))
}

fn job_pod(p: &Profile, seed: &SeedStep, container: Container, volumes: Option<Vec<Volume>>) -> PodTemplateSpec {
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels(p, Some(&format!("seed-{}", seed.name)))),
            ..Default::default()
        }),
        spec: Some(PodSpec {
            restart_policy: Some("OnFailure".into()),
            enable_service_links: Some(false),
            automount_service_account_token: Some(false),
            containers: vec![container],
            volumes,
            ..Default::default()
        }),
    }
}

/// psql from the Postgres image, waiting for the table the service's
/// migrations create (services report healthy before Flyway has finished).
pub(super) fn sql_seed_pod(
    p: &Profile,
    seed: &SeedStep,
    f: &SeedFile,
    digests: &BTreeMap<String, String>,
) -> Option<PodTemplateSpec> {
    let postgres = p
        .components
        .iter()
        .flat_map(|c| c.images.iter())
        .find(|i| i.reference.repository().ends_with("/postgres"))?;
    let file = seed_file_name(&f.url);
    let vars: Vec<String> = f.vars.iter().map(|(k, v)| format!("-v {k}={v}")).collect();
    let mut env_vars = vec![
        env("SEED_FILE", &format!("/seed/{file}")),
        env("PGHOST", "postgres"),
        env("PGDATABASE", "egov"),
        secret_env("PGUSER", "db/username"),
        secret_env("PGPASSWORD", "db/password"),
    ];
    if let Some(table) = &f.wait_for_table {
        env_vars.push(env("WAIT_FOR_TABLE", table));
    }
    if !vars.is_empty() {
        env_vars.push(env("PSQL_VARS", &vars.join(" ")));
    }
    let container = Container {
        name: "seed".into(),
        image: Some(image_ref(postgres.reference.as_str(), digests)),
        image_pull_policy: Some("IfNotPresent".into()),
        command: Some(vec!["sh".into(), "-c".into(), SEED_SQL.into()]),
        env: Some(env_vars),
        volume_mounts: Some(vec![VolumeMount {
            name: "seed".into(),
            mount_path: "/seed".into(),
            read_only: Some(true),
            ..Default::default()
        }]),
        resources: Some(small(128)),
        ..Default::default()
    };
    let volumes = vec![Volume {
        name: "seed".into(),
        config_map: Some(ConfigMapVolumeSource {
            name: seed_configmap_name(&seed.name),
            ..Default::default()
        }),
        ..Default::default()
    }];
    Some(job_pod(p, seed, container, Some(volumes)))
}

pub(super) fn command_seed_pod(
    p: &Profile,
    seed: &SeedStep,
    j: &SeedJob,
    digests: &BTreeMap<String, String>,
) -> PodTemplateSpec {
    let container = Container {
        name: "seed".into(),
        image: Some(image_ref(j.image.as_str(), digests)),
        image_pull_policy: Some("IfNotPresent".into()),
        command: Some(j.command.clone()),
        env: Some(j.secret_env.iter().map(|(k, v)| secret_env(k, v)).collect()),
        resources: Some(small(64)),
        ..Default::default()
    };
    job_pod(p, seed, container, None)
}
