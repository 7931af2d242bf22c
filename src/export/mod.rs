//! `export --helm DIR`: what worked in the quickstart, written as an
//! environment for eGov's production path, the DIGIT-DevOps Helm deployer
//! (egovernments/DIGIT-DevOps, branch digit-lts-go, pinned in `charts`).
//!
//! That deployer renders every service chart with one environment file:
//! a block named after the service overrides the chart's values, and the
//! shared settings live in two ConfigMaps (`egov-config`,
//! `egov-service-host`) that the `cluster-configs` chart renders. So each
//! quickstart env var lands where that service's chart reads it: a value key
//! of its block, a ConfigMap key, or, when the chart does not set the name at
//! all, the block's `extraEnv.app`. A name the chart hard-codes cannot be
//! changed from the environment file; those are listed instead of written
//! (a duplicate env name would hide the chart's and confuse `kubectl apply`).
//!
//! `helm` is pure; `write` puts the four files in a directory.

mod charts;
mod readme;
mod secrets;
mod yaml;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use charts::{Chart, Src};
use yaml::{Map, Value};

use crate::deploy::manifests::PUBLIC_URL;
use crate::profile::{Component, ComponentKind, ImageRef, ImageRole, Profile, STATE_TENANT_VARS};

/// The environment name: the deployer reads `<env>.yaml` and `<env>-secrets.yaml`.
pub const ENV_NAME: &str = "digit-quickstart";
pub const ENV_FILE: &str = "digit-quickstart.yaml";
pub const SECRETS_FILE: &str = "digit-quickstart-secrets.yaml";
/// eGov's spelling: the installer opens `dependancy_chart-<version>.yaml`.
pub const RELEASE_CHART_FILE: &str = "dependancy_chart-digit-quickstart.yaml";
pub const README_FILE: &str = "README.md";
/// Written instead of every secret value; the operator supplies them.
pub const PLACEHOLDER: &str = "<set me>";
/// The module the standalone installer offers (it lists only `m_` modules).
pub const MODULE: &str = "m_quickstart";

/// The four files of a Helm export, as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HelmExport {
    pub env_yaml: String,
    pub secrets_yaml: String,
    pub release_chart_yaml: String,
    pub readme: String,
}

/// What the quickstart's installer sets on every Java container besides the
/// profile's env (deploy/manifests/pod.rs `app_env`), so the export compares
/// them with what the charts set too.
const FLYWAY_LOCATIONS: &str = "filesystem:/flyway/sql,filesystem:/flyway/seed,filesystem:/flyway/qa";
const ROUTES_FILE: &str = "file:/etc/zuul/routes.properties";

/// Builds the export. `digests` maps an image reference to its `sha256:`
/// digest (empty: tags only); `domain` is where DIGIT will be served
/// (None writes a placeholder).
pub fn helm(profile: &Profile, digests: &BTreeMap<String, String>, domain: Option<&str>) -> HelmExport {
    let ex = Exporter::new(profile, digests, domain);
    let plan = ex.plan();
    HelmExport {
        env_yaml: ex.env_yaml(&plan),
        secrets_yaml: secrets::secrets_yaml(profile),
        release_chart_yaml: ex.release_chart(&plan),
        readme: readme::readme(&ex, &plan),
    }
}

/// Writes the export into `dir` (created if needed); the secrets file is
/// 0600 even though it holds only placeholders, since the operator fills it
/// in place. Returns the paths written.
pub fn write(dir: &Path, export: &HelmExport) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let files = [
        (ENV_FILE, &export.env_yaml, 0o644),
        (SECRETS_FILE, &export.secrets_yaml, 0o600),
        (RELEASE_CHART_FILE, &export.release_chart_yaml, 0o644),
        (README_FILE, &export.readme, 0o644),
    ];
    let mut written = Vec::new();
    for (name, text, mode) in files {
        let path = dir.join(name);
        write_file(&path, text, mode)?;
        written.push(path);
    }
    Ok(written)
}

fn write_file(path: &Path, text: &str, mode: u32) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)?;
    // `mode` applies only to a new file; an existing one is narrowed too.
    f.set_permissions(std::fs::Permissions::from_mode(mode))?;
    f.write_all(text.as_bytes())
}

/// A value for a ConfigMap key, and why it is what it is.
#[derive(Clone, Debug)]
struct Setting {
    value: String,
    comment: Option<String>,
}

/// One quickstart env var seen through its chart.
#[derive(Clone, Debug)]
struct Seen {
    key: String,
    /// As written for DIGIT-DevOps (`rewrite`).
    value: String,
    /// As the quickstart had it.
    raw: String,
    env: String,
}

impl Seen {
    /// Where a ConfigMap value came from, for its comment.
    fn origin(&self, component: &str) -> String {
        if self.raw == self.value {
            format!("quickstart: {} on {component}", self.env)
        } else {
            format!(
                "quickstart: {}={} on {component}, renamed for DIGIT-DevOps",
                self.env, self.raw
            )
        }
    }
}

/// One quickstart component deployed by a DIGIT-DevOps service chart.
struct Service<'a> {
    c: &'a Component,
    chart: &'static Chart,
    /// Block keys from env vars, in the order met.
    keys: Vec<(String, Value)>,
    /// Env the chart does not set: `extraEnv.app`.
    extra: Vec<(String, String)>,
    config: Vec<Seen>,
    hosts: Vec<Seen>,
    /// What is not carried over, as sentences.
    notes: Vec<String>,
    /// Env names whose egov-service-host value gained a trailing `/`.
    slash: Vec<String>,
}

/// Everything `helm` decides, shared by the four files.
struct Plan<'a> {
    services: Vec<Service<'a>>,
    config: BTreeMap<String, Setting>,
    hosts: BTreeMap<String, Setting>,
    /// Components with neither a service chart nor a backbone mapping.
    unmapped: Vec<&'a Component>,
}

struct Exporter<'a> {
    p: &'a Profile,
    digests: &'a BTreeMap<String, String>,
    domain: String,
    /// `https://<domain>`: replaces the quickstart's `{public_url}`.
    public_url: String,
}

impl<'a> Exporter<'a> {
    fn new(p: &'a Profile, digests: &'a BTreeMap<String, String>, domain: Option<&str>) -> Self {
        let domain = domain
            .map(|d| {
                let d = d.trim();
                let d = d
                    .strip_prefix("https://")
                    .or_else(|| d.strip_prefix("http://"))
                    .unwrap_or(d);
                d.trim_end_matches('/').to_owned()
            })
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| PLACEHOLDER.to_owned());
        let public_url = format!("https://{domain}");
        Self {
            p,
            digests,
            domain,
            public_url,
        }
    }

    fn backbone(&self) -> impl Iterator<Item = (&'a Component, &'static charts::Backbone)> + '_ {
        self.p
            .components
            .iter()
            .filter_map(|c| charts::BACKBONE.iter().find(|b| b.component == c.name).map(|b| (c, b)))
    }

    /// A quickstart value as the DIGIT-DevOps cluster needs it: the public
    /// URL, and backbone hosts renamed to the charts' services.
    fn rewrite(&self, value: &str) -> String {
        let mut v = value.replace(PUBLIC_URL, &self.public_url);
        for (_, b) in self.backbone() {
            v = replace_host(&v, b.host.0, b.host.1);
        }
        v
    }

    fn digest(&self, image: &ImageRef) -> Option<String> {
        self.digests
            .get(image.as_str())
            .cloned()
            .or_else(|| image.digest().map(str::to_owned))
    }

    /// The env a Java component ran with, as the installer assembles it:
    /// the common env and state tenant (ConfigMap `digit-env`), then what
    /// the installer sets, then the component's own env, each over the last.
    fn effective_env(&self, c: &Component) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        if c.is_java() {
            env.extend(self.p.common_env.clone());
            for var in STATE_TENANT_VARS {
                env.insert((*var).to_owned(), self.p.state_tenant.clone());
            }
            for (k, v) in [
                ("SERVER_PORT", "8080"),
                ("MANAGEMENT_ENDPOINTS_WEB_BASE_PATH", "/"),
                ("FLYWAY_ENABLED", "false"),
                ("SPRING_FLYWAY_ENABLED", "false"),
            ] {
                env.insert(k.to_owned(), v.to_owned());
            }
            if let Some(heap) = c.jvm_heap {
                env.insert(
                    "JAVA_OPTS".to_owned(),
                    format!("-Xms32m -Xmx{}m -XX:+ExitOnOutOfMemoryError", heap.0 >> 20),
                );
            }
            if c.kind == ComponentKind::Gateway {
                env.insert("SPRING_ROUTES_FILEPATH".to_owned(), ROUTES_FILE.to_owned());
            }
        }
        env.extend(c.env.clone());
        env
    }

    fn plan(&self) -> Plan<'a> {
        let mut services = Vec::new();
        let mut unmapped = Vec::new();
        for c in &self.p.components {
            if let Some(chart) = charts::chart(&c.name) {
                services.push(self.classify(c, chart));
            } else if !charts::BACKBONE.iter().any(|b| b.component == c.name) {
                unmapped.push(c);
            }
        }
        let config = self.resolve_config(&mut services);
        let hosts = self.resolve_hosts(&mut services);
        Plan {
            services,
            config,
            hosts,
            unmapped,
        }
    }

    /// Sorts each env var of `c` into the place its chart reads it from.
    fn classify(&self, c: &'a Component, chart: &'static Chart) -> Service<'a> {
        let mut s = Service {
            c,
            chart,
            keys: Vec::new(),
            extra: Vec::new(),
            config: Vec::new(),
            hosts: Vec::new(),
            notes: Vec::new(),
            slash: Vec::new(),
        };
        for (name, raw) in self.effective_env(c) {
            // A path into files the quickstart mounts (persister YAMLs) means
            // nothing where the chart git-syncs its own: listed, not written.
            if raw.len() > 1 && raw.starts_with('/') && c.files.keys().any(|f| f.starts_with(raw.as_str())) {
                s.notes.push(format!(
                    "{name}={raw} is where the quickstart mounts {} pinned files (README.md lists them); the chart \
                     fetches its files with git-sync (initContainers.gitSync.repo/branch, Secret git-creds): commit \
                     them to that repository and point the value key the chart reads {name} from at them",
                    c.files.len()
                ));
                continue;
            }
            let value = self.rewrite(&raw);
            let seen = |key: &str| Seen {
                key: key.to_owned(),
                value: value.clone(),
                raw: raw.clone(),
                env: name.clone(),
            };
            match chart.source(&name) {
                Some(Src::Key(key)) => s.keys.push((key.to_owned(), Value::Str(value.clone()))),
                Some(Src::Config(key)) => s.config.push(seen(key)),
                Some(Src::Host(key)) => s.hosts.push(seen(key)),
                Some(Src::HostWhen(key, flag)) => {
                    s.keys.push((flag.to_owned(), Value::Bool(true)));
                    s.hosts.push(seen(key));
                }
                // Never echo the value: a plain env var may still be sensitive.
                Some(Src::Secret) => s.notes.push(format!(
                    "{name}: the quickstart set it in plain env; the chart reads it from a Secret (see the secrets file)"
                )),
                Some(Src::Fixed(v)) if v == value => {}
                Some(Src::Fixed(v)) => s.notes.push(format!(
                    "{name}: the chart hard-codes {v:?} ({}); the quickstart used {value:?}. Only a changed chart carries it",
                    chart.file
                )),
                None => s.extra.push((name, value)),
            }
        }
        for (name, reference) in &c.secret_env {
            if chart.source(name) != Some(Src::Secret) {
                s.notes.push(format!(
                    "{name}: the quickstart filled it from its generated secret `{reference}`; the chart does not \
                     set it and the layout has no Secret for it: create one and add a secretKeyRef to extraEnv.app"
                ));
            }
        }
        s
    }

    /// `egov-config` data: the quickstart's values where a chart reads them,
    /// the keys the layout needs for the rest.
    fn resolve_config(&self, services: &mut [Service<'_>]) -> BTreeMap<String, Setting> {
        let mut config: BTreeMap<String, Setting> = BTreeMap::new();
        let mut put = |k: &str, v: &str, comment: Option<String>| {
            config.insert(
                k.to_owned(),
                Setting {
                    value: v.to_owned(),
                    comment,
                },
            );
        };
        put("domain", &self.domain, Some("change: where DIGIT is served".to_owned()));
        put(
            "egov-services-fqdn-name",
            &format!("{}/", self.public_url),
            Some("the quickstart's {public_url}, as https://<domain>/".to_owned()),
        );
        put(
            "egov-state-level-tenant-id",
            &self.p.state_tenant,
            Some("profile state_tenant".to_owned()),
        );
        if self
            .p
            .components
            .iter()
            .any(|c| c.image(ImageRole::Migration).is_some())
        {
            put(
                "flyway-locations",
                FLYWAY_LOCATIONS,
                Some("what the quickstart's -db init containers used".to_owned()),
            );
        }
        // The first component (profile order) that sets a key decides it;
        // a later one that differs overrides it in its block where the
        // common chart allows that, else the difference is listed.
        for s in services.iter_mut() {
            for seen in std::mem::take(&mut s.config) {
                match config.get(&seen.key) {
                    None => {
                        config.insert(
                            seen.key.clone(),
                            Setting {
                                value: seen.value.clone(),
                                comment: Some(seen.origin(&s.c.name)),
                            },
                        );
                    }
                    Some(have) if have.value == seen.value => {}
                    Some(_) if charts::BLOCK_OVERRIDABLE_CONFIG.contains(&seen.key.as_str()) => {
                        s.keys.push((seen.key.clone(), Value::Str(seen.value.clone())));
                    }
                    Some(have) => s.notes.push(format!(
                        "{}: the chart reads egov-config {} ({:?}, shared by every service); the quickstart used {:?} here",
                        seen.env, seen.key, have.value, seen.value
                    )),
                }
                s.config.push(seen);
            }
        }
        if let Some(url) = config.get("db-url").map(|s| s.value.clone())
            && let Some((host, db)) = url.strip_prefix("jdbc:postgresql://").and_then(|r| r.split_once('/'))
        {
            let note = "the quickstart's in-cluster postgres; change for a production database".to_owned();
            config.insert(
                "db-host".to_owned(),
                Setting {
                    value: host.to_owned(),
                    comment: Some(note.clone()),
                },
            );
            config.insert(
                "db-name".to_owned(),
                Setting {
                    value: db.split(['?', ';']).next().unwrap_or(db).to_owned(),
                    comment: Some(note),
                },
            );
        }
        // Keys a deployed chart reads that the quickstart never set (each
        // image kept its default): required, since a missing ConfigMap key
        // stops the pod.
        for s in services.iter() {
            for src in s.chart.sources() {
                if let Src::Config(key) = src
                    && !config.contains_key(key)
                {
                    let setting = match charts::CONFIG_SAMPLE.iter().find(|(k, _, _)| *k == key) {
                        Some((_, v, line)) => Setting {
                            value: (*v).to_owned(),
                            comment: Some(format!(
                                "not set by the quickstart (image default); {}:{line}'s value",
                                file_name(charts::SAMPLE_ENV)
                            )),
                        },
                        None => Setting {
                            value: PLACEHOLDER.to_owned(),
                            comment: Some(format!(
                                "required by the {} chart; not set by the quickstart",
                                s.chart.block
                            )),
                        },
                    };
                    config.insert(key.to_owned(), setting);
                }
            }
        }
        config
    }

    /// `egov-service-host` data: each deployed service the layout names,
    /// and every key a deployed chart reads (a missing one stops the pod).
    fn resolve_hosts(&self, services: &mut [Service<'_>]) -> BTreeMap<String, Setting> {
        let mut hosts: BTreeMap<String, Setting> = BTreeMap::new();
        for s in services.iter() {
            if charts::HOST_KEYS.contains(&s.chart.block) {
                let port = s.c.ports.first().copied().unwrap_or(8080);
                hosts.insert(
                    s.chart.block.to_owned(),
                    Setting {
                        value: format!("http://{}:{port}/", s.c.name),
                        comment: None,
                    },
                );
            }
        }
        // Keys naming something the quickstart does not run take the first
        // value a component used for them; the sample's values all end in `/`.
        for s in services.iter() {
            for seen in &s.hosts {
                hosts.entry(seen.key.clone()).or_insert_with(|| Setting {
                    value: with_slash(&seen.value),
                    comment: Some(seen.origin(&s.c.name)),
                });
            }
        }
        for s in services.iter() {
            let flags: BTreeSet<&str> = s
                .keys
                .iter()
                .filter(|(_, v)| matches!(v, Value::Bool(true)))
                .map(|(k, _)| k.as_str())
                .collect();
            for src in s.chart.sources() {
                let key = match src {
                    Src::Host(k) => k,
                    Src::HostWhen(k, flag) if flags.contains(flag) => k,
                    _ => continue,
                };
                if hosts.contains_key(key) {
                    continue;
                }
                let setting = match charts::HOST_SAMPLE.iter().find(|(k, _, _)| *k == key) {
                    Some((_, v, line)) => Setting {
                        value: (*v).to_owned(),
                        comment: Some(format!(
                            "not run by the quickstart; the {} chart needs the key; {}:{line}'s value",
                            s.chart.block,
                            file_name(charts::SAMPLE_ENV)
                        )),
                    },
                    None => Setting {
                        value: PLACEHOLDER.to_owned(),
                        comment: Some(format!(
                            "not run by the quickstart; the {} chart needs the key",
                            s.chart.block
                        )),
                    },
                };
                hosts.insert(key.to_owned(), setting);
            }
        }
        for s in services.iter_mut() {
            for seen in &s.hosts {
                let Some(have) = hosts.get(&seen.key) else { continue };
                if have.value == seen.value {
                } else if with_slash(&seen.value) == have.value {
                    s.slash.push(seen.env.clone());
                } else {
                    s.notes.push(format!(
                        "{}: the chart reads egov-service-host {} ({:?}); the quickstart used {:?}",
                        seen.env, seen.key, have.value, seen.value
                    ));
                }
            }
        }
        hosts
    }

    fn env_yaml(&self, plan: &Plan<'_>) -> String {
        let p = self.p;
        let mut root = Map::default();
        root.comment(&format!(
            "DIGIT-DevOps environment `{ENV_NAME}`, exported by digit-quickstart from profile `{}` (DIGIT {}).\n\
             Layout: {} branch {} at {}.\n\
             Place at {}/{ENV_FILE}; README.md says what was and was not carried over.\n\
             Comments name the quickstart value, and `change` marks what production must set.",
            p.name,
            p.digit.release,
            charts::REPO,
            charts::BRANCH,
            charts::COMMIT,
            charts::ENV_DIR
        ));
        let global = root.map("global");
        global.str_c("domain", &self.domain, "change: the domain DIGIT is served at");
        global.str_c(
            "setup",
            "fullsetup",
            "the root ingress gets TLS from cert-manager; `quickstart` drops both (cluster-configs root-ingress.yaml)",
        );

        let cc = root.map("cluster-configs");
        let namespaces = cc.map("namespaces");
        namespaces.set("create", Value::Bool(true), None);
        let mut ns = vec!["backbone".to_owned(), p.namespace.clone()];
        ns.dedup();
        namespaces.set(
            "values",
            Value::List(ns),
            Some(format!(
                "quickstart: everything in {}; the backbone charts deploy to backbone",
                p.namespace
            )),
        );
        if let Some(ui) = p.components.iter().find(|c| c.kind == ComponentKind::Ui) {
            let ingress = cc.map("root-ingress");
            let why =
                Some("the quickstart serves the UI; the chart default is citizen, which it does not run".to_owned());
            ingress.set("appRoot", Value::Str(ui.name.clone()), why);
            ingress.str("serviceName", &ui.name);
        }
        let cm = cc.map("configmaps");
        let egov_config = cm.map("egov-config");
        egov_config.set("namespace", Value::List(vec![p.namespace.clone()]), None);
        let data = egov_config.map("data");
        for (k, s) in ordered(&plan.config, charts::CONFIG_ORDER) {
            data.set(k, Value::Str(s.value.clone()), s.comment.clone());
        }
        let host = cm.map("egov-service-host");
        host.set("namespace", Value::List(vec![p.namespace.clone()]), None);
        let data = host.map("data");
        for (k, s) in &plan.hosts {
            data.set(k, Value::Str(s.value.clone()), s.comment.clone());
        }

        for s in &plan.services {
            root.blank();
            self.service_block(&mut root, s);
        }
        for (c, b) in self.backbone() {
            root.blank();
            self.backbone_block(&mut root, c, b);
        }
        for c in &plan.unmapped {
            root.blank();
            root.comment(&format!(
                "{}: not carried over: no DIGIT-DevOps chart at the pinned commit.",
                c.name
            ));
        }
        root.render()
    }

    fn service_block(&self, root: &mut Map, s: &Service<'_>) {
        let c = s.c;
        root.comment(&format!("{}: chart {}", c.name, chart_dir(s.chart.file)));
        if s.chart.java {
            root.comment(&format!(
                "quickstart resources: {}; the chart sets memory only (requests = limits = memory_limits)",
                resources_text(c)
            ));
        }
        let block = root.map(s.chart.block);
        if self.p.namespace != "egov" {
            block.str("namespace", &self.p.namespace);
        }
        block.set("replicas", Value::Int(1), Some("as the quickstart runs it".to_owned()));
        if s.chart.java {
            block.set(
                "memory_limits",
                Value::Str(c.resources.limits.memory.to_quantity()),
                None,
            );
        } else {
            block.set("resources", Value::Literal(resources_literal(c)), None);
        }
        self.image_keys(block, c, s.chart.block);
        for (k, v) in &s.keys {
            block.set(k, v.clone(), None);
        }
        if !s.extra.is_empty() {
            let text: String = s
                .extra
                .iter()
                .map(|(n, v)| format!("- name: {}\n  value: {}\n", yaml::quote(n), yaml::quote(&tpl_escape(v))))
                .collect();
            block.comment("env the chart does not set itself, as the quickstart had it");
            block.map("extraEnv").set("app", Value::Literal(text), None);
        }
        if !s.slash.is_empty() {
            block.comment(&format!(
                "the chart reads {} from egov-service-host, whose values end in / as the sample's do; the \
                 quickstart's had none",
                s.slash.join(", ")
            ));
        }
        for note in &s.notes {
            block.comment(&format!("not carried over: {note}"));
        }
        if !c.files.is_empty() && !s.notes.iter().any(|n| n.contains("pinned files")) {
            let paths: Vec<&str> = c.files.keys().map(String::as_str).collect();
            let how = if s.chart.block == "digit-ui" {
                "the chart injects a script with custom-js-injection (a sub_filter ConfigMap, \
                 digit-ui/templates/subfilter-injection-configmap.yaml) instead: host the file and set it"
            } else {
                "the chart has no such mount"
            };
            block.comment(&format!(
                "not carried over: the quickstart mounts {} (README.md lists the pinned URLs); {how}",
                paths.join(", ")
            ));
        }
    }

    /// `image.tag` (and the migration image's) with the digest beside it:
    /// the common chart builds `<registry>/<repository>:<tag>` and has no
    /// digest field (charts/common/templates/_helpers.tpl:20-26).
    fn image_keys(&self, block: &mut Map, c: &Component, name: &str) {
        for (role, path, default_repo) in [
            (ImageRole::App, &["image"][..], name.to_owned()),
            (
                ImageRole::Migration,
                &["initContainers", "dbMigration", "image"][..],
                format!("{name}-db"),
            ),
        ] {
            let Some(img) = c.image(role) else { continue };
            let r = &img.reference;
            let m = block.path(path);
            if let Some(repo) = chart_repository(r, &default_repo) {
                m.str("repository", &repo);
            }
            let digest = self.digest(r).map(|d| format!("digest {d}"));
            m.set("tag", Value::Str(r.tag().to_owned()), digest);
        }
    }

    fn backbone_block(&self, root: &mut Map, c: &Component, b: &charts::Backbone) {
        let app = c.image(ImageRole::App).map(|i| &i.reference);
        let image = app.map(ImageRef::as_str).unwrap_or_default();
        let volumes: Vec<String> = c
            .volumes
            .iter()
            .map(|v| format!("{} {}", v.name, v.size.to_quantity()))
            .collect();
        root.comment(&format!(
            "{}: quickstart ran {image} ({}{}) -> chart backbone-services/{},\nreached at {} ({})",
            c.name,
            resources_text(c),
            if volumes.is_empty() {
                String::new()
            } else {
                format!("; volume {}", volumes.join(", "))
            },
            b.chart,
            b.host.1,
            b.source
        ));
        match b.chart {
            "postgres" => {
                root.comment(
                    "production: a managed database (the sample uses one); with global.setup fullsetup this chart\n\
                     mounts no persistent volume (postgres/templates/pvc.yaml renders only for quickstart)",
                );
                let block = root.map("postgres");
                block.set("replicas", Value::Int(1), None);
                block.set("resources", Value::Literal(resources_literal(c)), None);
                if let Some(r) = app.filter(|r| r.repository() == "library/postgres") {
                    let digest = self.digest(r).map(|d| format!("digest {d}"));
                    block.map("image").set("tag", Value::Str(r.tag().to_owned()), digest);
                }
                if let Some(db) = c.env.get("POSTGRES_DB") {
                    block.str_c(charts::POSTGRES_DATABASE_KEY, db, "= egov-config db-name");
                }
            }
            "redis" => {
                root.comment(&format!(
                    "the chart's image is egovio/redis (global.containerRegistry); the quickstart's tag: {}",
                    app.map(ImageRef::tag).unwrap_or_default()
                ));
                let block = root.map("redis");
                block.set("replicas", Value::Int(1), None);
                block.set("resources", Value::Literal(resources_literal(c)), None);
            }
            "minio" => {
                root.comment(
                    "the chart is the upstream MinIO chart with its own image pin; bucket egov-filestore writes to must\n\
                     exist (the quickstart's seed job made it)",
                );
                if let Some(v) = c.volumes.first() {
                    root.map("minio").map("persistence").str_c(
                        "size",
                        &v.size.to_quantity(),
                        "the quickstart's volume; production needs more",
                    );
                }
            }
            _ => root.comment(&format!(
                "no block: the {} chart's values are its upstream (Bitnami) chart's",
                b.chart
            )),
        }
    }

    fn release_chart(&self, plan: &Plan<'_>) -> String {
        let mut root = Map::default();
        root.comment(&format!(
            "DIGIT-DevOps release chart for the quickstart's images (profile {}, DIGIT {}).\n\
             Place at {}/{RELEASE_CHART_FILE}; deploy with `-e {ENV_NAME}`.\n\
             The deployer sets image.tag and initContainers.dbMigration.image.tag from each entry;\n\
             -db (Flyway) images share their app's tag and are not listed (a `-db:` entry redeploys the app).",
            self.p.name,
            self.p.digit.release,
            charts::RELEASE_CHART_DIR,
        ));
        root.str("version", "quickstart");
        let mut text = root.render();
        text.push_str("modules:\n");
        let backbone: Vec<&str> = self.backbone().map(|(_, b)| b.chart).collect();
        if !backbone.is_empty() {
            text.push_str("  - name: backbone\n    services:\n");
            for b in &backbone {
                text.push_str(&format!("      - {}\n", yaml::quote(b)));
            }
        }
        text.push_str(&format!("  - name: {MODULE}\n"));
        if !backbone.is_empty() {
            text.push_str("    dependencies: [\"backbone\"]\n");
        }
        text.push_str("    services:\n");
        for s in &plan.services {
            let Some(app) = s.c.image(ImageRole::App) else { continue };
            let r = &app.reference;
            let entry = if chart_repository(r, s.chart.block).is_none() {
                format!("egovio/{}:{}", s.chart.block, r.tag())
            } else {
                format!("{}:{}", s.chart.block, r.tag())
            };
            let with_digest = |i: &ImageRef| match self.digest(i) {
                Some(d) => format!("{}@{d}", i.as_str()),
                None => i.as_str().to_owned(),
            };
            let mut also: Vec<String> =
                s.c.images
                    .iter()
                    .filter(|i| i.role != ImageRole::App)
                    .map(|i| with_digest(&i.reference))
                    .collect();
            if let Some(d) = self.digest(r) {
                also.insert(0, format!("digest {d}"));
            }
            let comment = if also.is_empty() {
                String::new()
            } else {
                format!("  # {}", also.join(", "))
            };
            text.push_str(&format!("      - {}{comment}\n", yaml::quote(&entry)));
        }
        text
    }
}

/// `repository` for a block when the image is not the chart's own
/// `egovio/<default>` (None: the chart's default applies).
fn chart_repository(r: &ImageRef, default: &str) -> Option<String> {
    let repo = r.repository();
    if r.registry() == "docker.io" && repo == format!("egovio/{default}") {
        return None;
    }
    Some(match repo.strip_prefix("egovio/") {
        Some(name) if r.registry() == "docker.io" => name.to_owned(),
        _ => format!("{}/{repo}", r.registry()),
    })
}

/// Replaces host `from` by `to` where it stands as a whole host name.
fn replace_host(value: &str, from: &str, to: &str) -> String {
    if from == to {
        return value.to_owned();
    }
    let before_ok = |c: Option<char>| c.is_none_or(|c| "/,@=\" ".contains(c));
    let after_ok = |c: Option<char>| c.is_none_or(|c| ":/,\" ".contains(c));
    let mut out = String::new();
    let mut rest = value;
    while let Some(i) = rest.find(from) {
        let prev = if i == 0 {
            out.chars().last()
        } else {
            rest[..i].chars().last()
        };
        let next = rest[i + from.len()..].chars().next();
        out.push_str(&rest[..i]);
        if before_ok(prev) && after_ok(next) {
            out.push_str(to);
        } else {
            out.push_str(from);
        }
        rest = &rest[i + from.len()..];
    }
    out.push_str(rest);
    out
}

fn with_slash(v: &str) -> String {
    if v.ends_with('/') {
        v.to_owned()
    } else {
        format!("{v}/")
    }
}

/// `extraEnv.app` goes through Helm's `tpl`: a literal `{{` must be quoted.
fn tpl_escape(v: &str) -> String {
    v.replace("{{", "{{ \"{{\" }}")
}

fn resources_text(c: &Component) -> String {
    let r = &c.resources;
    let limit_cpu = r
        .limits
        .cpu
        .map(|c| format!("cpu {}, ", c.to_quantity()))
        .unwrap_or_default();
    format!(
        "requests cpu {}, memory {}; limits {limit_cpu}memory {}",
        r.requests.cpu.to_quantity(),
        r.requests.memory.to_quantity(),
        r.limits.memory.to_quantity()
    )
}

/// The common chart's `resources` is a tpl'd YAML string.
fn resources_literal(c: &Component) -> String {
    let r = &c.resources;
    let mut t = format!(
        "requests:\n  cpu: {}\n  memory: {}\nlimits:\n",
        yaml::quote(&r.requests.cpu.to_quantity()),
        yaml::quote(&r.requests.memory.to_quantity())
    );
    if let Some(cpu) = r.limits.cpu {
        t.push_str(&format!("  cpu: {}\n", yaml::quote(&cpu.to_quantity())));
    }
    t.push_str(&format!("  memory: {}\n", yaml::quote(&r.limits.memory.to_quantity())));
    t
}

fn chart_dir(file: &str) -> &str {
    file.rsplit_once('/').map_or(file, |(d, _)| d)
}

fn file_name(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(_, f)| f)
}

/// Map entries in the sample's key order, then any others by name.
fn ordered<'m>(map: &'m BTreeMap<String, Setting>, order: &[&str]) -> Vec<(&'m str, &'m Setting)> {
    let mut out: Vec<(&str, &Setting)> = order
        .iter()
        .filter_map(|k| map.get_key_value(*k).map(|(k, v)| (k.as_str(), v)))
        .collect();
    out.extend(
        map.iter()
            .filter(|(k, _)| !order.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), v)),
    );
    out
}

#[cfg(test)]
mod tests;
