//! README.md of an export: where each file goes in a DIGIT-DevOps checkout,
//! what was mapped, and what the operator still has to do.

use std::fmt::Write as _;

use super::{
    ENV_FILE, ENV_NAME, Exporter, MODULE, PLACEHOLDER, Plan, README_FILE, RELEASE_CHART_FILE, SECRETS_FILE, charts,
};
use crate::profile::{ImageRole, SeedAction, SeedFileKind};

pub(super) fn readme(ex: &Exporter<'_>, plan: &Plan<'_>) -> String {
    let p = ex.p;
    let mut o = String::new();
    let _ = writeln!(o, "# DIGIT-DevOps (Helm) environment exported from digit-quickstart\n");
    let _ = writeln!(
        o,
        "What the quickstart profile `{}` (DIGIT {}) ran, written in the layout of eGov's Helm deployer: \
         [{}](https://github.com/{}) branch `{}` at commit `{}`. Every path below is in a checkout of that commit; \
         other branches lay their files out differently (DIGIT-2.9LTS uses a helmfile and `deploy-as-code/charts/`).\n",
        p.name,
        p.digit.release,
        charts::REPO,
        charts::REPO,
        charts::BRANCH,
        charts::COMMIT
    );

    let _ = writeln!(o, "## Files and where they go\n");
    let _ = writeln!(o, "| File | Copy to | Read by |\n|---|---|---|");
    let _ = writeln!(
        o,
        "| `{ENV_FILE}` | `{}/{ENV_FILE}` | the deployer, as `-f` for every chart (`deploy-as-code/deployer/pkg/cmd/deployer/deployer.go:23`); environment name `{ENV_NAME}` |",
        charts::ENV_DIR
    );
    let _ = writeln!(
        o,
        "| `{SECRETS_FILE}` | `{}/{SECRETS_FILE}` | only the `cluster-configs` chart, which makes the Secrets (`deployer.go:26,122-170`; decrypted with `sops -d` first when the deployer finds a `.sops.yaml`) |",
        charts::ENV_DIR
    );
    let _ = writeln!(
        o,
        "| `{RELEASE_CHART_FILE}` | `{}/{RELEASE_CHART_FILE}` | the standalone installer (`deploy-as-code/deployer/standalone_installer.go:65,102`): product `DIGIT`, version `digit-quickstart`, module `{MODULE}`. The misspelling is eGov's file name. |",
        charts::RELEASE_CHART_DIR
    );
    let _ = writeln!(o, "| `{README_FILE}` | — | you |\n");

    let _ = writeln!(o, "## Deploy\n");
    let _ = writeln!(
        o,
        "1. Replace every `{PLACEHOLDER}` in `{SECRETS_FILE}`{}.",
        if ex.domain == PLACEHOLDER {
            format!(" and in `{ENV_FILE}` (the domain)")
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        o,
        "2. From `deploy-as-code/deployer`, either run `go run standalone_installer.go` and choose product `DIGIT`, \
         version `digit-quickstart`, module `{MODULE}` and environment `{ENV_NAME}`, or deploy directly \
         (`deploy-as-code/deployer/cmd/deploy.go:60-67`; `-c` also deploys cluster-configs):\n"
    );
    let mut images: Vec<String> = ex.backbone().map(|(_, b)| b.chart.to_owned()).collect();
    images.extend(plan.services.iter().filter_map(|s| {
        s.c.image(ImageRole::App)
            .map(|i| format!("egovio/{}:{}", s.chart.block, i.reference.tag()))
    }));
    let _ = writeln!(
        o,
        "   ```\n   go run main.go deploy -c -e {ENV_NAME} {}\n   ```",
        images.join(",")
    );
    let _ = writeln!(
        o,
        "3. Load the seed data and users (below): the Helm charts deploy services only.\n"
    );

    let _ = writeln!(o, "## What was mapped\n");
    let _ = writeln!(
        o,
        "Each DIGIT service is a block named after its chart (the deployer renders chart `<repo>` with \
         `--set name=<repo>`, and the common chart merges the block of that name over the chart's values: \
         `deploy-as-code/helm/charts/common/templates/_helpers.tpl:1-8`). In a block: `replicas`, \
         `memory_limits` (the Java charts set requests = limits = this, no CPU), `heap` (the quickstart's \
         `JAVA_OPTS`, which the charts set from `heap`), `image.tag` and `initContainers.dbMigration.image.tag`, \
         the chart's own value keys for env the chart derives from them, and `extraEnv.app` for env the chart \
         does not set at all. Env a chart reads from a ConfigMap went to `cluster-configs.configmaps.egov-config` \
         or `egov-service-host` (one value for all services).\n"
    );
    let _ = writeln!(
        o,
        "| Quickstart component | Image | Env block (chart) | Value keys | extraEnv.app |\n|---|---|---|---|---|"
    );
    for s in &plan.services {
        let image =
            s.c.image(ImageRole::App)
                .map(|i| i.reference.as_str().to_owned())
                .unwrap_or_default();
        let _ = writeln!(
            o,
            "| {} | `{image}` | `{}` (`{}`) | {} | {} |",
            s.c.name,
            s.chart.block,
            super::chart_dir(s.chart.file),
            s.keys.len(),
            s.extra.len()
        );
    }
    for (c, b) in ex.backbone() {
        let image = c
            .image(ImageRole::App)
            .map(|i| i.reference.as_str().to_owned())
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "| {} | `{image}` | chart `backbone-services/{}`, reached at `{}` | | |",
            c.name, b.chart, b.host.1
        );
    }
    let _ = writeln!(
        o,
        "\n`egov-config` carries the state tenant (`egov-state-level-tenant-id: {}`), the database URL, the \
         Kafka brokers and the pool sizes the quickstart used; keys the charts require but the quickstart never \
         set take the sample's (`{}`) values and say so in a comment. Image digests, when the quickstart had \
         them, are comments beside each tag: the common chart builds `<registry>/<repository>:<tag>` and has no \
         digest field (`charts/common/templates/_helpers.tpl:20-26`); a tag written as `<tag>@sha256:…` would pin \
         the digest through that concatenation, which eGov's samples never do.\n",
        p.state_tenant,
        charts::SAMPLE_ENV
    );

    let _ = writeln!(o, "## Not carried over\n");
    let _ = writeln!(o, "### Backbone\n");
    if p.component("redpanda").is_some() {
        let _ = writeln!(
            o,
            "- **Redpanda → kafka-kraft.** DIGIT-DevOps has no Redpanda chart; Kafka is the Bitnami `kafka-kraft` \
             chart in namespace `backbone`, whose values are the upstream chart's (no block written). \
             `kafka-brokers` is its address as the sample gives it. The quickstart turned on Redpanda's topic \
             auto-creation (DIGIT's producers write to topics nobody creates); check that the Kafka brokers \
             create topics on first use too. Its Secret needs a KRaft cluster id (secrets file)."
        );
    }
    if p.component("postgres").is_some() {
        let _ = writeln!(
            o,
            "- **Postgres.** The `postgres` block reproduces the quickstart's database (same name, `egov`), but the \
             v2.9.2 release chart expects an external database and this chart keeps data on a volume only with \
             `global.setup: quickstart`. For production, point `db-host`, `db-name` and `db-url` at a managed \
             database and drop `postgres` from the release chart."
        );
    }
    if p.component("minio").is_some() {
        let _ = writeln!(
            o,
            "- **MinIO.** The chart is upstream MinIO with its own image pin. egov-filestore (`minio-enabled: true`) \
             reads Secret `minio` in `egov`, which cluster-configs renders in `backbone`; and the MinIO chart's \
             `existingSecret` wants `rootUser`/`rootPassword` keys. Create the bucket the quickstart's seed made."
        );
    }
    let _ = writeln!(
        o,
        "- **Ingress and TLS.** `global.setup: fullsetup` gives the root ingress a cert-manager issuer \
         (`cluster-configs.root-ingress.cert-issuer`, default `letsencrypt-staging`: set `letsencrypt-prod`). \
         The v2.9.2 release chart deploys `ingress-nginx` and `cert-manager` in its `authn-authz` module; this \
         release chart does not, so keep them from there or from your cluster. The common chart names \
         `imagePullSecrets: docker-registry-secret` (`charts/common/templates/_deployment.yaml:116-117`), which \
         no cluster-configs template creates.\n"
    );

    let mounts: Vec<_> = p.components.iter().filter(|c| !c.files.is_empty()).collect();
    if !mounts.is_empty() {
        let _ = writeln!(
            o,
            "### Files the quickstart mounted\n\nPinned files the quickstart put into containers, which these charts \
             do not mount (egov-persister's git-syncs its YAMLs from a repository; digit-ui's injects a script):\n"
        );
        for c in mounts {
            for (path, seed) in &c.files {
                let url = p
                    .seed(seed)
                    .and_then(|s| s.file())
                    .map_or(seed.as_str(), |f| f.url.as_str());
                let _ = writeln!(o, "- {}: `{path}` ← {url}", c.name);
            }
        }
        let _ = writeln!(o);
    }

    let slash: Vec<String> = plan
        .services
        .iter()
        .filter(|s| !s.slash.is_empty())
        .map(|s| format!("{} ({})", s.chart.block, s.slash.join(", ")))
        .collect();
    if !slash.is_empty() {
        let _ = writeln!(
            o,
            "### Host URLs with a trailing `/`\n\nThe charts read peer URLs from `egov-service-host`, one value per \
             service; its values end in `/`, as eGov's sample's do and as the quickstart's gateway, egov-user and \
             idgen needed. These env vars had no trailing `/` in the quickstart, so their paths now join with `//`: {}.\n",
            slash.join("; ")
        );
    }

    let notes: Vec<_> = plan.services.iter().filter(|s| !s.notes.is_empty()).collect();
    if !notes.is_empty() {
        let _ = writeln!(
            o,
            "### Per service\n\nWritten as comments in each block too. A value a chart hard-codes, or reads from a \
             ConfigMap shared with other services, cannot be changed for one service from the environment file.\n"
        );
        for s in notes {
            let _ = writeln!(o, "- **{}**", s.chart.block);
            for n in &s.notes {
                let _ = writeln!(o, "  - {n}");
            }
        }
        let _ = writeln!(o);
    }
    if !plan.unmapped.is_empty() {
        let names: Vec<&str> = plan.unmapped.iter().map(|c| c.name.as_str()).collect();
        let _ = writeln!(
            o,
            "### No chart\n\nNo DIGIT-DevOps chart at the pinned commit: {}.\n",
            names.join(", ")
        );
    }
    let no_sample: Vec<&str> = plan
        .services
        .iter()
        .map(|s| s.chart.block)
        .filter(|b| {
            [
                "gateway",
                "mdms-v2",
                "boundary-service",
                "egov-accesscontrol",
                "egov-otp",
            ]
            .contains(b)
        })
        .collect();
    if !no_sample.is_empty() {
        let _ = writeln!(
            o,
            "### Services with no block in eGov's sample\n\n`{}` has no block for {}; theirs here follow the same rule \
             (block = chart name) and were checked against each chart's values file only.\n",
            charts::SAMPLE_ENV,
            no_sample.join(", ")
        );
    }
    let mdms_v1 = plan.hosts.contains_key("egov-mdms-service") && p.component("egov-mdms-service").is_none();
    if mdms_v1 {
        let _ = writeln!(
            o,
            "### MDMS\n\nThe quickstart runs MDMS v2 (`mdms-v2`) only. The charts at this commit read MDMS through \
             `egov-service-host` key `egov-mdms-service`, which is therefore mdms-v2's address; the charts that \
             also hard-code the v1 search path are listed above. The alternative is eGov's own: deploy \
             `egov-mdms-service` with its git-synced data.\n"
        );
    }

    let _ = writeln!(o, "### Secrets to supply\n");
    let _ = writeln!(
        o,
        "`{SECRETS_FILE}` holds a `{PLACEHOLDER}` for every Secret the deployed charts read; each group's comment \
         names the Secret it becomes. No value the quickstart generated is in this export. To keep data the \
         quickstart wrote, use its database login and enc-service master keys (`digit-quickstart` keeps them in \
         its data dir). Generated secrets with no place in this layout: the ADMIN login and the system users \
         (created through egov-user's API by the quickstart, not by any chart) and HRMS's default employee \
         password.\n"
    );

    let _ = writeln!(o, "### Seed data and users\n");
    let _ = writeln!(
        o,
        "The quickstart loads these after the services start; DIGIT-DevOps deploys no data. Run them against \
         the new cluster (each is idempotent):\n"
    );
    for s in &p.seeds {
        // Mounted files are listed above; a body file belongs to its API step.
        let what = match &s.action {
            SeedAction::File(f) if f.kind == SeedFileKind::Sql => format!("psql `{}`", f.url),
            SeedAction::File(_) => continue,
            SeedAction::Api {
                component, path, file, ..
            } => format!(
                "POST `{path}` on {component}{}",
                file.as_ref().map(|f| format!(" with `{}`", f.url)).unwrap_or_default()
            ),
            SeedAction::Job(j) => format!("`{}` in `{}`", j.command.join(" "), j.image),
        };
        let about = if s.description.is_empty() {
            String::new()
        } else {
            format!(" — {}", s.description)
        };
        let _ = writeln!(o, "- {} (after {}){about}: {what}", s.name, s.after);
    }
    let _ = writeln!(
        o,
        "- users: {} (roles {}) and {}, through egov-user's `/user/users/_createnovalidate`",
        p.admin.username,
        p.admin.roles.join(", "),
        p.system_users
            .iter()
            .map(|u| u.username.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    o
}
