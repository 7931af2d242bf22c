//! The files k3s runs from, rendered as text from the profile and options:
//! `/etc/rancher/k3s/config.yaml`, `registries.yaml`, the systemd unit and
//! its environment file. Pure functions, so `plan`, tests and the
//! idempotence check (compare with what is on disk) share them.

use std::fmt::Write as _;

use crate::host::facts::OUR_UNIT_MARKER;
use crate::images::auth::Credentials;

/// What the rendered files depend on besides the profile.
#[derive(Clone, Debug, Default)]
pub struct K3sSettings {
    /// Kubernetes node name (the lowercased hostname).
    pub node_name: String,
    /// Bundled components the profile switches off (`traefik`, `metrics-server`, ...).
    pub disable: Vec<String>,
    /// `http://host:port` serving Docker Hub's repositories (a classroom mirror).
    pub mirror: Option<String>,
    /// Docker Hub credentials, keyed in registries.yaml by the endpoint k3s talks to.
    pub docker_hub: Option<Credentials>,
    /// Proxy settings to hand to k3s's containerd (`HTTP_PROXY`, ...).
    pub proxy_env: Vec<(String, String)>,
}

/// Kubelet registers a lowercased hostname; we set it explicitly so it never differs.
pub fn node_name(hostname: &str) -> String {
    hostname.to_lowercase()
}

/// YAML-quote a scalar (double quotes, escaped).
fn q(value: &str) -> String {
    let escaped: String = value
        .chars()
        .flat_map(|c| match c {
            '"' => vec!['\\', '"'],
            '\\' => vec!['\\', '\\'],
            c => vec![c],
        })
        .collect();
    format!("\"{escaped}\"")
}

pub fn config_yaml(s: &K3sSettings) -> String {
    let mut out = format!("{OUR_UNIT_MARKER}: rewritten on every install, edit the profile instead.\n");
    let _ = writeln!(out, "write-kubeconfig-mode: \"0600\"");
    let _ = writeln!(out, "node-name: {}", q(&s.node_name));
    if !s.disable.is_empty() {
        let _ = writeln!(out, "disable:");
        for d in &s.disable {
            let _ = writeln!(out, "  - {}", q(d));
        }
    }
    out
}

/// `registries.yaml`, or None when there is neither a mirror nor credentials.
/// Docker Hub auth is keyed by `registry-1.docker.io`: k3s matches configs by
/// the endpoint it connects to, and `docker.io` never matches (k3s #3937).
pub fn registries_yaml(s: &K3sSettings) -> Option<String> {
    if s.mirror.is_none() && s.docker_hub.is_none() {
        return None;
    }
    let mut out = format!("{OUR_UNIT_MARKER}: rewritten on every install.\n");
    if let Some(m) = &s.mirror {
        let _ = writeln!(out, "mirrors:\n  docker.io:\n    endpoint:\n      - {}", q(m));
    }
    if let Some(c) = &s.docker_hub {
        let host = s
            .mirror
            .as_deref()
            .map(|m| {
                m.trim_start_matches("http://")
                    .trim_start_matches("https://")
                    .trim_end_matches('/')
                    .to_owned()
            })
            .unwrap_or_else(|| "registry-1.docker.io".to_owned());
        let _ = writeln!(
            out,
            "configs:\n  {}:\n    auth:\n      username: {}\n      password: {}",
            q(&host),
            q(&c.username),
            q(&c.password)
        );
    }
    Some(out)
}

/// The systemd unit (assets/k3s.service, written for the default paths);
/// `binary` is `/usr/local/bin/k3s` on a real host.
pub fn unit(binary: &str, env_file: &str) -> String {
    include_str!("../../assets/k3s.service")
        .replace(
            "EnvironmentFile=-/etc/systemd/system/k3s.service.env",
            &format!("EnvironmentFile=-{env_file}"),
        )
        .replace("ExecStart=/usr/local/bin/k3s ", &format!("ExecStart={binary} "))
}

/// The unit's environment file (mode 0600: proxies can carry credentials).
pub fn unit_env(s: &K3sSettings) -> String {
    let mut out = format!("{OUR_UNIT_MARKER}: rewritten on every install.\n");
    for (k, v) in &s.proxy_env {
        let _ = writeln!(out, "{k}={v}");
    }
    out
}

/// Proxy variables worth passing to k3s, taken from the environment.
pub const PROXY_VARS: &[&str] = &[
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> K3sSettings {
        K3sSettings {
            node_name: node_name("Digit-VM"),
            disable: vec!["traefik".into()],
            mirror: None,
            docker_hub: None,
            proxy_env: vec![("HTTPS_PROXY".into(), "http://proxy:3128".into())],
        }
    }

    #[test]
    fn config_sets_a_private_kubeconfig_the_node_name_and_what_is_disabled() {
        insta::assert_snapshot!(config_yaml(&settings()), @r#"
        # Managed by digit-quickstart: rewritten on every install, edit the profile instead.
        write-kubeconfig-mode: "0600"
        node-name: "digit-vm"
        disable:
          - "traefik"
        "#);
    }

    #[test]
    fn registries_yaml_only_exists_with_a_mirror_or_credentials() {
        assert!(registries_yaml(&settings()).is_none());
        let creds = Credentials {
            username: "trainer".into(),
            password: "p\"w".into(),
        };
        let with_auth = K3sSettings {
            docker_hub: Some(creds.clone()),
            ..settings()
        };
        insta::assert_snapshot!(registries_yaml(&with_auth).unwrap(), @r#"
        # Managed by digit-quickstart: rewritten on every install.
        configs:
          "registry-1.docker.io":
            auth:
              username: "trainer"
              password: "p\"w"
        "#);
        let with_mirror = K3sSettings {
            mirror: Some("http://10.0.0.5:5000".into()),
            docker_hub: Some(creds),
            ..settings()
        };
        insta::assert_snapshot!(registries_yaml(&with_mirror).unwrap(), @r#"
        # Managed by digit-quickstart: rewritten on every install.
        mirrors:
          docker.io:
            endpoint:
              - "http://10.0.0.5:5000"
        configs:
          "10.0.0.5:5000":
            auth:
              username: "trainer"
              password: "p\"w"
        "#);
    }

    #[test]
    fn the_rendered_yaml_parses_back_to_the_same_values() {
        let with_mirror = K3sSettings {
            mirror: Some("http://10.0.0.5:5000".into()),
            docker_hub: Some(Credentials {
                username: "u".into(),
                password: "a\\b\"c: d".into(),
            }),
            ..settings()
        };
        #[derive(serde::Deserialize)]
        struct Auth {
            password: String,
        }
        #[derive(serde::Deserialize)]
        struct Cfg {
            auth: Auth,
        }
        #[derive(serde::Deserialize)]
        struct Reg {
            configs: std::collections::BTreeMap<String, Cfg>,
        }
        let parsed: Reg = serde_saphyr::from_str(&registries_yaml(&with_mirror).unwrap()).unwrap();
        assert_eq!(parsed.configs["10.0.0.5:5000"].auth.password, "a\\b\"c: d");
    }

    #[test]
    fn the_env_file_carries_proxies_and_the_unit_marker() {
        assert_eq!(
            unit_env(&settings()),
            format!("{OUR_UNIT_MARKER}: rewritten on every install.\nHTTPS_PROXY=http://proxy:3128\n")
        );
        assert!(unit("/usr/local/bin/k3s", "/etc/systemd/system/k3s.service.env").starts_with(OUR_UNIT_MARKER));
    }

    #[test]
    fn the_unit_asset_is_written_for_the_install_paths_and_other_paths_are_substituted() {
        let asset = include_str!("../../assets/k3s.service");
        assert_eq!(unit(crate::k3s::BINARY, crate::k3s::UNIT_ENV), asset);
        let moved = unit("/opt/k3s", "/run/k3s.env");
        assert!(moved.contains("ExecStart=/opt/k3s server\n"), "{moved}");
        assert!(moved.contains("EnvironmentFile=-/run/k3s.env\n"), "{moved}");
        assert!(!moved.contains("/usr/local/bin/k3s"));
    }
}
