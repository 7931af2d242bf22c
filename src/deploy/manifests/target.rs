//! Where the rendered objects go: k3s's own cluster, or one the user named
//! with `--kubeconfig` (its StorageClass and IngressClass), and where its
//! nodes pull the locked images from (Docker Hub, or the user's registry
//! after `images push`). Saved at install so every later render agrees.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Manifest, Rendered, meta};
use crate::profile::Profile;

/// k3s's provisioner: a host folder on the node the claim's pod runs on.
pub const LOCAL_PATH: &str = "local-path";
/// The image pull secret's name when the registry needs credentials.
pub const PULL_SECRET: &str = "registry-credentials";

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "mode", content = "class")]
pub enum Ingress {
    /// No class named: the cluster's default (traefik on k3s).
    #[default]
    Default,
    Class(String),
    /// No IngressClass: no Ingress object; reach DIGIT by port-forward.
    None,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// None: `local-path`, k3s's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    #[serde(default)]
    pub ingress: Ingress,
    /// `host[:port][/prefix]` holding the locked images under their
    /// repository paths (`images push --to`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    /// The registry needs credentials: pods name the pull secret.
    #[serde(default)]
    pub pull_secret: bool,
}

impl Target {
    pub fn storage_class(&self) -> &str {
        self.storage_class.as_deref().unwrap_or(LOCAL_PATH)
    }
}

/// `docker.io/egovio/x:tag@sha256:…` -> `REGISTRY/egovio/x:tag@sha256:…`.
pub fn relocate(image: &str, registry: &str) -> String {
    let registry = registry.trim_end_matches('/');
    // The first segment is a registry host when it has a dot or a colon, or is localhost.
    match image.split_once('/') {
        Some((first, rest)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            format!("{registry}/{rest}")
        }
        Some(_) => format!("{registry}/{image}"),
        // Docker Hub's official images live under `library/`.
        None => format!("{registry}/library/{image}"),
    }
}

/// The image pull secret: `.dockerconfigjson` with only this registry's entry.
pub fn pull_secret(p: &Profile, docker_config_json: &str) -> Manifest {
    let s = k8s_openapi::api::core::v1::Secret {
        metadata: meta(p, PULL_SECRET, None),
        type_: Some("kubernetes.io/dockerconfigjson".into()),
        data: Some(std::collections::BTreeMap::from([(
            ".dockerconfigjson".to_owned(),
            k8s_openapi::ByteString(docker_config_json.as_bytes().to_vec()),
        )])),
        ..Default::default()
    };
    Manifest::of(&s, PULL_SECRET, Some(&p.namespace))
}

/// Rewrites every pod template's images to the registry and names the pull
/// secret; sets the Ingress class. Done on the built objects so no builder
/// needs to know where the cluster is.
pub(super) fn apply(r: &mut Rendered, t: &Target) {
    let templates = r
        .components
        .values_mut()
        .flatten()
        .chain(r.jobs.values_mut())
        .filter(|m| m.kind == "Deployment" || m.kind == "Job");
    for m in templates {
        let Some(spec) = m.object.pointer_mut("/spec/template/spec") else {
            continue;
        };
        if let Some(registry) = &t.registry {
            for key in ["initContainers", "containers"] {
                for c in spec.get_mut(key).and_then(Value::as_array_mut).into_iter().flatten() {
                    if let Some(image) = c.get("image").and_then(Value::as_str) {
                        c["image"] = Value::String(relocate(image, registry));
                    }
                }
            }
        }
        if t.pull_secret {
            spec["imagePullSecrets"] = json!([{"name": PULL_SECRET}]);
        }
    }
    match &t.ingress {
        Ingress::Default => {}
        Ingress::Class(class) => {
            for m in r.base.iter_mut().filter(|m| m.kind == "Ingress") {
                m.object["spec"]["ingressClassName"] = Value::String(class.clone());
            }
        }
        Ingress::None => r.base.retain(|m| m.kind != "Ingress"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relocate_keeps_the_repository_path_tag_and_digest() {
        let d = "sha256:".to_owned() + &"a".repeat(64);
        assert_eq!(
            relocate(&format!("docker.io/egovio/egov-user:v1@{d}"), "reg.example:5000/digit/"),
            format!("reg.example:5000/digit/egovio/egov-user:v1@{d}")
        );
        assert_eq!(relocate("postgres:15", "r.example"), "r.example/library/postgres:15");
        assert_eq!(relocate("egovio/x:1", "localhost:5000"), "localhost:5000/egovio/x:1");
        assert_eq!(relocate("localhost/x:1", "r.example"), "r.example/x:1");
    }
}
