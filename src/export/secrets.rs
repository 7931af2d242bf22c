//! The secrets file: every path the deployed charts need, each with a
//! placeholder. The quickstart's generated values stay in its data dir; an
//! export is shared and committed, so it never carries them.

use super::yaml::Map;
use super::{PLACEHOLDER, charts};
use crate::profile::Profile;

/// One `cluster-configs.secrets.<path>` group: the Secret it becomes
/// (charts/cluster-configs/values.yaml:41-160 and templates/secrets/*).
struct Group {
    path: &'static str,
    secret: &'static str,
    namespace: &'static str,
    /// (layout key, key in the Secret, the quickstart's generated secret).
    keys: &'static [(&'static str, &'static str, Option<&'static str>)],
    /// A component whose chart reads the Secret.
    needed_by: &'static str,
    why: &'static str,
}

const GROUPS: &[Group] = &[
    Group {
        path: "db",
        secret: "db",
        namespace: "egov",
        keys: &[
            ("username", "username", Some("db/username")),
            ("password", "password", Some("db/password")),
            ("flywayUsername", "flyway-username", Some("db/username")),
            ("flywayPassword", "flyway-password", Some("db/password")),
        ],
        needed_by: "postgres",
        why: "every Java service's login and its Flyway init container's (db-secret.yaml)",
    },
    Group {
        path: "egov-enc-service",
        secret: "egov-enc-service",
        namespace: "egov",
        keys: &[
            (
                "master-password",
                "master.password",
                Some("egov-enc-service/master-password"),
            ),
            ("master-salt", "master.salt", Some("egov-enc-service/master-salt")),
            (
                "master-initialvector",
                "master.initialvector",
                Some("egov-enc-service/master-initialvector"),
            ),
        ],
        needed_by: "egov-enc-service",
        why: "data encrypted under the quickstart reads back only with its values (egov-enc-service-secret.yaml)",
    },
    Group {
        path: "minio",
        secret: "minio",
        namespace: "backbone",
        keys: &[
            ("accesskey", "accesskey", Some("minio/access-key")),
            ("secretkey", "secretkey", Some("minio/secret-key")),
        ],
        needed_by: "minio",
        why: "egov-filestore with minio-enabled reads Secret minio in its own namespace (egov), but this one is \
              rendered in backbone: copy it to egov; the MinIO chart's existingSecret wants rootUser/rootPassword \
              keys, which this template does not write (minio-secret.yaml)",
    },
    Group {
        path: "egov-notification-sms",
        secret: "egov-notification-sms",
        namespace: "egov",
        keys: &[("username", "username", None), ("password", "password", None)],
        needed_by: "egov-notification-sms",
        why: "the chart reads the Secret even with the quickstart's Console provider, which ignores it \
              (egov-notification-sms-secret.yaml renders it only when password is set)",
    },
    Group {
        path: "git-sync",
        secret: "git-creds",
        namespace: "egov",
        keys: &[("ssh", "ssh", None), ("known-hosts", "known_hosts", None)],
        needed_by: "egov-persister",
        why: "egov-persister's chart clones its YAMLs with git-sync over SSH; the quickstart mounted pinned \
              files instead (git-sync-secret.yaml)",
    },
    Group {
        path: "kafka-kraft",
        secret: "release-name-kafka-kraft-cluster-id",
        namespace: "backbone",
        keys: &[("kraft-cluster-id", "kraft-cluster-id", None)],
        needed_by: "redpanda",
        why: "the kafka-kraft chart that replaces Redpanda (kafka-kraft-secret.yaml)",
    },
];

pub fn secrets_yaml(p: &Profile) -> String {
    let mut root = Map::default();
    root.comment(&format!(
        "DIGIT-DevOps secrets for environment `{}` (profile {}), layout {} {} at {}.\n\
         Place at {}/{}. Every value is a placeholder ({PLACEHOLDER}): set each before deploying\n\
         (and encrypt the file with sops if your checkout uses it). Only the cluster-configs chart reads\n\
         this file; it turns each group into the Kubernetes Secret named in the comment above it.",
        super::ENV_NAME,
        p.name,
        charts::REPO,
        charts::BRANCH,
        charts::COMMIT,
        charts::ENV_DIR,
        super::SECRETS_FILE,
    ));
    let mut used = Vec::new();
    let secrets = root.path(&["cluster-configs", "secrets"]);
    for g in GROUPS {
        let needed = match g.needed_by {
            "postgres" => p.components.iter().any(|c| c.is_java() || c.name == "postgres"),
            name => p.component(name).is_some(),
        };
        if !needed {
            continue;
        }
        let data: Vec<&str> = g.keys.iter().map(|(_, d, _)| *d).collect();
        secrets.comment(&format!(
            "-> Secret {} (namespace {}): {}; {}",
            g.secret,
            g.namespace,
            data.join(", "),
            g.why
        ));
        let m = secrets.map(g.path);
        for (key, _, generated) in g.keys {
            let comment = generated.map(|k| {
                used.push(k);
                format!("the quickstart generated {k}")
            });
            m.set(key, super::yaml::Value::Str(PLACEHOLDER.to_owned()), comment);
        }
    }
    let unplaced: Vec<String> = p
        .secret_keys()
        .into_iter()
        .filter(|k| !used.contains(&k.as_str()))
        .collect();
    if !unplaced.is_empty() {
        root.blank();
        root.comment(&format!(
            "Generated by the quickstart with no place in this layout (see README.md): {}",
            unplaced.join(", ")
        ));
    }
    root.render()
}
