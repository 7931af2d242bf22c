//! The deploy as typed Kubernetes objects (k8s-openapi), built from the
//! profile. Nothing here talks to a cluster: `render` is pure, so `plan
//! --manifests`, the snapshot tests and `kubernetes-validate` see exactly what
//! `install` applies.

mod pod;
pub mod target;

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, Namespace, PersistentVolumeClaim, PersistentVolumeClaimSpec, PodTemplateSpec, Secret, Service,
    ServiceAccount, ServicePort, ServiceSpec, VolumeResourceRequirements,
};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule, IngressServiceBackend, IngressSpec,
    ServiceBackendPort,
};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::{ByteString, Resource};
use kube::core::ApiResource;
use serde::Serialize;

use super::secrets::Secrets;
use crate::profile::{Component, ComponentKind, Health, Profile, SeedAction, SeedFileKind, SeedStep};

pub const MANAGER: &str = "digit-quickstart";
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const PROFILE_LABEL: &str = "digit-quickstart/profile";
pub const NAME_LABEL: &str = "app.kubernetes.io/name";
/// A Job's spec is immutable: the hash tells a re-run whether it may keep it.
pub const SPEC_HASH: &str = "digit-quickstart/spec-sha256";
pub const ROUTES_FILE: &str = "/etc/zuul/routes.properties";
/// What `plan --manifests` shows instead of a generated value.
pub const REDACTED: &str = "<generated at install, stored in the data dir>";

/// What the objects are built from besides the profile.
pub struct Inputs<'a> {
    pub profile: &'a Profile,
    /// None renders placeholders (plan); install passes the real ones.
    pub secrets: Option<&'a Secrets>,
    /// Image reference -> digest from the lock file (`sha256:…`).
    pub digests: &'a BTreeMap<String, String>,
    /// Seed name -> verified file content; missing ones render a note.
    pub files: &'a BTreeMap<String, String>,
    /// Where users reach DIGIT (`http://<node IP>`), for env values that
    /// name it with `{public_url}`; None keeps the placeholder (plan).
    pub public_url: Option<&'a str>,
    /// The cluster's classes and the registry the images come from.
    pub target: &'a target::Target,
    /// `.dockerconfigjson` for the target's registry, when it needs credentials.
    pub pull_auth: Option<&'a str>,
}

/// In a component's env value, replaced by the URL users reach DIGIT at.
pub const PUBLIC_URL: &str = "{public_url}";

/// One object, typed when built and kept as JSON with its API for apply.
#[derive(Clone, Debug)]
pub struct Manifest {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub api: ApiResource,
    pub object: serde_json::Value,
}

impl Manifest {
    pub(crate) fn of<K: Resource + Serialize>(obj: &K, name: &str, namespace: Option<&str>) -> Self {
        Self {
            kind: K::KIND.to_owned(),
            name: name.to_owned(),
            namespace: namespace.map(str::to_owned),
            api: ApiResource {
                group: K::GROUP.to_owned(),
                version: K::VERSION.to_owned(),
                api_version: K::API_VERSION.to_owned(),
                kind: K::KIND.to_owned(),
                plural: K::URL_PATH_SEGMENT.to_owned(),
            },
            object: serde_json::to_value(obj).unwrap_or_default(),
        }
    }

    pub fn id(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }
}

/// Objects grouped by when they are applied.
#[derive(Debug, Default)]
pub struct Rendered {
    /// Namespace, config, secrets, RBAC, every Service (so the gateway's route
    /// discovery sees them all), seed file ConfigMaps, the Ingress.
    pub base: Vec<Manifest>,
    /// Per component: volumes and the Deployment.
    pub components: BTreeMap<String, Vec<Manifest>>,
    /// Per seed step that is a Job.
    pub jobs: BTreeMap<String, Manifest>,
}

impl Rendered {
    /// Every object in apply order (base, then waves with their seed jobs).
    pub fn ordered<'a>(&'a self, profile: &'a Profile) -> Vec<&'a Manifest> {
        let mut out: Vec<&Manifest> = self.base.iter().collect();
        for wave in profile.waves() {
            for c in &wave {
                out.extend(self.components.get(&c.name).into_iter().flatten());
            }
            for c in &wave {
                for s in profile.seeds_after(&c.name) {
                    out.extend(self.jobs.get(&s.name));
                }
            }
        }
        out
    }
}

pub fn labels(profile: &Profile, name: Option<&str>) -> BTreeMap<String, String> {
    let mut l = BTreeMap::from([
        (MANAGED_BY.to_owned(), MANAGER.to_owned()),
        (PROFILE_LABEL.to_owned(), profile.name.clone()),
        ("app.kubernetes.io/part-of".to_owned(), "digit".to_owned()),
    ]);
    if let Some(n) = name {
        l.insert(NAME_LABEL.to_owned(), n.to_owned());
    }
    l
}

pub(crate) fn meta(profile: &Profile, name: &str, component: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(profile.namespace.clone()),
        labels: Some(labels(profile, component)),
        ..Default::default()
    }
}

/// `docker.io/egovio/x:tag@sha256:…` when the lock file pins it, so the pod
/// runs exactly the bytes the image engine verified.
pub fn image_ref(reference: &str, digests: &BTreeMap<String, String>) -> String {
    match digests.get(reference) {
        Some(d) => format!("{reference}@{d}"),
        None => reference.to_owned(),
    }
}

pub fn bytes_quantity(b: u64) -> Quantity {
    const MI: u64 = 1 << 20;
    if b.is_multiple_of(MI) {
        Quantity(format!("{}Mi", b / MI))
    } else {
        Quantity(b.to_string())
    }
}

pub fn cpu_quantity(milli: u64) -> Quantity {
    if milli.is_multiple_of(1000) {
        Quantity((milli / 1000).to_string())
    } else {
        Quantity(format!("{milli}m"))
    }
}

pub fn seed_configmap_name(seed: &str) -> String {
    format!("seed-{seed}")
}

/// The file name a seed file is mounted and run under (last URL segment).
pub fn seed_file_name(url: &str) -> String {
    url.rsplit('/').next().unwrap_or("seed").to_owned()
}

pub fn render(inp: &Inputs<'_>) -> Rendered {
    let p = inp.profile;
    let ns = p.namespace.as_str();
    let mut base = vec![Manifest::of(
        &Namespace {
            metadata: ObjectMeta {
                name: Some(ns.to_owned()),
                labels: Some(labels(p, None)),
                ..Default::default()
            },
            ..Default::default()
        },
        ns,
        None,
    )];
    base.push(common_env(p));
    base.extend(secrets(inp));
    if p.components.iter().any(|c| c.kind == ComponentKind::Gateway) {
        base.extend(gateway_rbac(p));
    }
    for seed in &p.seeds {
        // Files psql runs or a component mounts; an API body is posted.
        if let SeedAction::File(f) = &seed.action {
            let file = seed_file_name(&f.url);
            let content = inp
                .files
                .get(&seed.name)
                .cloned()
                .unwrap_or_else(|| format!("-- downloaded at install from {} (sha256 {})", f.url, pin(&f.sha256)));
            let cm = ConfigMap {
                metadata: meta(p, &seed_configmap_name(&seed.name), None),
                data: Some(BTreeMap::from([(file, content)])),
                ..Default::default()
            };
            base.push(Manifest::of(&cm, &seed_configmap_name(&seed.name), Some(ns)));
        }
    }
    if p.components.iter().any(|c| c.kind == ComponentKind::Ui) {
        base.push(pod::ui_nginx_config(p));
    }
    for c in &p.components {
        base.push(service(p, c));
    }
    base.push(ingress(p));

    let mut components = BTreeMap::new();
    for c in &p.components {
        let mut objs: Vec<Manifest> = c
            .volumes
            .iter()
            .map(|v| {
                let name = format!("{}-{}", c.name, v.name);
                let pvc = PersistentVolumeClaim {
                    metadata: meta(p, &name, Some(&c.name)),
                    spec: Some(PersistentVolumeClaimSpec {
                        access_modes: Some(vec!["ReadWriteOnce".into()]),
                        storage_class_name: Some(inp.target.storage_class().to_owned()),
                        resources: Some(VolumeResourceRequirements {
                            requests: Some(BTreeMap::from([("storage".into(), bytes_quantity(v.size.0))])),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                };
                Manifest::of(&pvc, &name, Some(ns))
            })
            .collect();
        let d = pod::deployment(p, c, inp.digests, inp.public_url);
        objs.push(Manifest::of(&d, &c.name, Some(ns)));
        components.insert(c.name.clone(), objs);
    }

    let mut jobs = BTreeMap::new();
    for seed in &p.seeds {
        if let Some(job) = seed_job(p, seed, inp.digests) {
            jobs.insert(seed.name.clone(), job);
        }
    }
    if let (true, Some(auth)) = (inp.target.pull_secret, inp.pull_auth) {
        base.push(target::pull_secret(p, auth));
    }
    let mut r = Rendered { base, components, jobs };
    target::apply(&mut r, inp.target);
    r
}

fn pin(p: &crate::profile::Sha256Pin) -> String {
    String::from(p.clone())
}

/// What every Java service reads, once: the profile's common env plus the
/// state tenant under every name DIGIT uses for it.
fn common_env(p: &Profile) -> Manifest {
    let mut data = p.common_env.clone();
    for var in crate::profile::STATE_TENANT_VARS {
        data.insert((*var).to_owned(), p.state_tenant.clone());
    }
    let cm = ConfigMap {
        metadata: meta(p, "digit-env", None),
        data: Some(data),
        ..Default::default()
    };
    Manifest::of(&cm, "digit-env", Some(&p.namespace))
}

fn secrets(inp: &Inputs<'_>) -> Vec<Manifest> {
    let p = inp.profile;
    let mut by_secret: BTreeMap<&str, BTreeMap<&str, String>> = BTreeMap::new();
    for key in crate::profile::SECRET_KEYS {
        let (secret, k) = key.split_once('/').unwrap_or((key, key));
        let value = inp
            .secrets
            .map_or_else(|| REDACTED.to_owned(), |s| s.get(key).to_owned());
        by_secret.entry(secret).or_default().insert(k, value);
    }
    by_secret
        .into_iter()
        .map(|(name, keys)| {
            // A plan shows readable placeholders; install sends the bytes.
            let (data, string_data) = if inp.secrets.is_some() {
                let data = keys
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), ByteString(v.into_bytes())))
                    .collect();
                (Some(data), None)
            } else {
                (None, Some(keys.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
            };
            let s = Secret {
                metadata: meta(p, name, None),
                type_: Some("Opaque".into()),
                data,
                string_data,
                ..Default::default()
            };
            Manifest::of(&s, name, Some(&p.namespace))
        })
        .collect()
}

/// The gateway's init container lists Services to build its routes.
fn gateway_rbac(p: &Profile) -> Vec<Manifest> {
    let ns = p.namespace.as_str();
    let name = "gateway-discovery";
    let sa = ServiceAccount {
        metadata: meta(p, name, None),
        ..Default::default()
    };
    let role = Role {
        metadata: meta(p, name, None),
        rules: Some(vec![PolicyRule {
            api_groups: Some(vec![String::new()]),
            resources: Some(vec!["services".into(), "endpoints".into(), "pods".into()]),
            verbs: vec!["get".into(), "list".into(), "watch".into()],
            ..Default::default()
        }]),
    };
    let binding = RoleBinding {
        metadata: meta(p, name, None),
        role_ref: RoleRef {
            api_group: Some("rbac.authorization.k8s.io".into()),
            kind: "Role".into(),
            name: name.into(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name: name.into(),
            namespace: Some(ns.to_owned()),
            ..Default::default()
        }]),
    };
    vec![
        Manifest::of(&sa, name, Some(ns)),
        Manifest::of(&role, name, Some(ns)),
        Manifest::of(&binding, name, Some(ns)),
    ]
}

/// Named after the component, so in-namespace DNS (`http://egov-user:8080`)
/// is what the services' host settings say.
fn service(p: &Profile, c: &Component) -> Manifest {
    let mut m = meta(p, &c.name, Some(&c.name));
    if let (Some(ctx), true) = (&c.context, c.is_java()) {
        m.annotations = Some(BTreeMap::from([("zuul/route-path".to_owned(), ctx.clone())]));
    }
    let s = Service {
        metadata: m,
        spec: Some(ServiceSpec {
            selector: Some(BTreeMap::from([(NAME_LABEL.to_owned(), c.name.clone())])),
            ports: Some(
                c.ports
                    .iter()
                    .map(|port| ServicePort {
                        name: Some(format!("p{port}")),
                        port: i32::from(*port),
                        target_port: Some(IntOrString::Int(i32::from(*port))),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ..Default::default()
        }),
        ..Default::default()
    };
    Manifest::of(&s, &c.name, Some(&p.namespace))
}

fn backend(service: &str, port: u16) -> IngressBackend {
    IngressBackend {
        service: Some(IngressServiceBackend {
            name: service.to_owned(),
            port: Some(ServiceBackendPort {
                number: Some(i32::from(port)),
                ..Default::default()
            }),
        }),
        ..Default::default()
    }
}

/// Port 80 on the host: API contexts go through the gateway (which checks
/// tokens and roles), the UI to its nginx, and each service's exact health
/// path straight to the service so `install` can check it from the host.
pub fn ingress(p: &Profile) -> Manifest {
    let gateway = p.components.iter().find(|c| c.kind == ComponentKind::Gateway);
    let mut paths = Vec::new();
    for c in &p.components {
        if let Some(ctx) = &c.context {
            let target = match (c.kind, gateway) {
                (ComponentKind::Ui, _) | (_, None) => backend(&c.name, c.ports.first().copied().unwrap_or(8080)),
                (_, Some(g)) => backend(&g.name, g.ports.first().copied().unwrap_or(8080)),
            };
            paths.push(HTTPIngressPath {
                path: Some(format!("/{ctx}")),
                path_type: "Prefix".into(),
                backend: target,
            });
        }
        if let Some(Health::Http { path, port }) = &c.health
            && c.is_java()
        {
            paths.push(HTTPIngressPath {
                path: Some(path.clone()),
                path_type: "Exact".into(),
                backend: backend(&c.name, *port),
            });
        }
    }
    let ing = Ingress {
        metadata: meta(p, "digit", None),
        spec: Some(IngressSpec {
            rules: Some(vec![IngressRule {
                host: None,
                http: Some(HTTPIngressRuleValue { paths }),
            }]),
            ..Default::default()
        }),
        ..Default::default()
    };
    Manifest::of(&ing, "digit", Some(&p.namespace))
}

fn seed_job(p: &Profile, seed: &SeedStep, digests: &BTreeMap<String, String>) -> Option<Manifest> {
    let template: PodTemplateSpec = match &seed.action {
        SeedAction::File(f) if f.kind == SeedFileKind::Sql => pod::sql_seed_pod(p, seed, f, digests)?,
        SeedAction::Job(j) => pod::command_seed_pod(p, seed, j, digests),
        _ => return None,
    };
    let name = format!("seed-{}", seed.name);
    let hash = crate::k3s::artifacts::sha256_hex(serde_json::to_string(&template).unwrap_or_default().as_bytes());
    let mut m = meta(p, &name, Some(&name));
    m.annotations = Some(BTreeMap::from([(SPEC_HASH.to_owned(), hash)]));
    let job = Job {
        metadata: m,
        spec: Some(JobSpec {
            backoff_limit: Some(3),
            active_deadline_seconds: Some(900),
            template,
            ..Default::default()
        }),
        ..Default::default()
    };
    Some(Manifest::of(&job, &name, Some(&p.namespace)))
}

/// Multi-document YAML, as `plan --manifests` prints it.
pub fn to_yaml(manifests: &[&Manifest]) -> String {
    let mut out = String::new();
    for m in manifests {
        out.push_str("---\n");
        // Long one-line values (image@digest) stay on one line.
        let options = serde_saphyr::ser_options! { folded_wrap_chars: 1 << 20 };
        out.push_str(&serde_saphyr::to_string_with_options(&m.object, options).unwrap_or_default());
    }
    out
}

#[cfg(test)]
mod tests;
