//! What eGov's DIGIT-DevOps Helm layout reads, pinned to one commit: key
//! names, container env names, file paths and line numbers, read from
//! egovernments/DIGIT-DevOps branch `digit-lts-go` at [`COMMIT`]. Facts only;
//! no template code is copied. A line number `l.N` is in the table's `file`.

pub const REPO: &str = "egovernments/DIGIT-DevOps";
pub const BRANCH: &str = "digit-lts-go";
pub const COMMIT: &str = "1fcdd5ce90447cb5f826c70b6afbecaf6d3c2186";

/// `<helm-dir>/environments/<env>.yaml` and `<env>-secrets.yaml`
/// (deploy-as-code/deployer/pkg/cmd/deployer/deployer.go:23,26).
pub const ENV_DIR: &str = "deploy-as-code/helm/environments";
/// `releaseChartDir + product + "/dependancy_chart-" + version + ".yaml"`
/// (deploy-as-code/deployer/standalone_installer.go:65,102).
pub const RELEASE_CHART_DIR: &str = "config-as-code/product-release-charts/DIGIT";
/// The sample environment the layout is read from.
pub const SAMPLE_ENV: &str = "deploy-as-code/helm/environments/egov-demo.yaml";

/// How a chart sets one container env var.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Src {
    /// From the value `<block>.<key>` (`{{ index .Values "key" }}`).
    Key(&'static str),
    /// From ConfigMap `egov-config`, key (`cluster-configs.configmaps.egov-config.data.<key>`).
    Config(&'static str),
    /// From ConfigMap `egov-service-host`, key.
    Host(&'static str),
    /// From `egov-service-host` only when the block's flag is true.
    HostWhen(&'static str, &'static str),
    /// From a Secret.
    Secret,
    /// Hard-coded in the chart; only a changed chart can differ.
    Fixed(&'static str),
}

/// One service chart and the env its own `env:` template sets.
pub struct Chart {
    /// Env-file block = chart directory name = image repository (the
    /// deployer sets `name=<repo>`, deployer.go:36-44; `common.name` merges
    /// the block named so, charts/common/templates/_helpers.tpl:1-8).
    pub block: &'static str,
    pub file: &'static str,
    /// `appType: java-spring`: also gets [`JAVA_COMMON`] and `memory_limits`.
    pub java: bool,
    pub env: &'static [(&'static str, Src)],
}

impl Chart {
    /// How the chart sets `name`, comparing names as Spring's relaxed binding
    /// does (`-` and `.` as `_`, any case). Conditional duplicates in a chart
    /// are listed in file order; the first is the one that applies with the
    /// chart's defaults.
    pub fn source(&self, name: &str) -> Option<Src> {
        let want = env_key(name);
        let own = self.env.iter().find(|(n, _)| env_key(n) == want);
        let common = || {
            JAVA_COMMON
                .iter()
                .filter(|_| self.java)
                .find(|(n, _)| env_key(n) == want)
        };
        own.or_else(common).map(|(_, s)| *s)
    }

    /// Every source this chart reads, its own and the common Java ones.
    pub fn sources(&self) -> impl Iterator<Item = Src> + '_ {
        let common: &[(&str, Src)] = if self.java { JAVA_COMMON } else { &[] };
        self.env.iter().chain(common).map(|(_, s)| *s)
    }
}

pub fn env_key(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c == '-' || c == '.' {
                '_'
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect()
}

pub fn chart(block: &str) -> Option<&'static Chart> {
    CHARTS.iter().find(|c| c.block == block)
}

/// `extraEnv.java`, which the common chart adds to every `java-spring`
/// service (deploy-as-code/helm/charts/common/values.yaml:130-234).
pub const JAVA_COMMON: &[(&str, Src)] = &[
    ("SPRING_DATASOURCE_URL", Src::Config("db-url")),
    ("FLYWAY_ENABLED", Src::Fixed("false")),
    ("SPRING_FLYWAY_ENABLED", Src::Fixed("false")),
    ("MANAGEMENT_ENDPOINTS_WEB_BASE_PATH", Src::Fixed("/")),
    ("APP_TIMEZONE", Src::Config("timezone")),
    ("FLYWAY_URL", Src::Config("db-url")),
    ("SPRING_DATASOURCE_USERNAME", Src::Secret),
    ("SPRING_DATASOURCE_PASSWORD", Src::Secret),
    (
        "SPRING_DATASOURCE_TOMCAT_INITIAL_SIZE",
        Src::Config("spring-datasource-tomcat-initialSize"),
    ),
    ("SERVER_TOMCAT_MAX_THREADS", Src::Config("server-tomcat-max-threads")),
    (
        "SERVER_TOMCAT_MAX_CONNECTIONS",
        Src::Config("server-tomcat-max-connections"),
    ),
    (
        "SPRING_DATASOURCE_TOMCAT_MAX_ACTIVE",
        Src::Config("spring-datasource-tomcat-max-active"),
    ),
    (
        "SPRING_DATASOURCE_HIKARI_MAXIMUM-POOL-SIZE",
        Src::Config("spring-datasource-tomcat-max-active"),
    ),
    ("KAFKA_CONFIG_BOOTSTRAP_SERVER_CONFIG", Src::Config("kafka-brokers")),
    ("SPRING_KAFKA_BOOTSTRAP_SERVERS", Src::Config("kafka-brokers")),
    ("SPRING_JPA_SHOW_SQL", Src::Config("spring-jpa-show-sql")),
    ("IS_ENVIRONMENT_CENTRAL_INSTANCE", Src::Fixed("false")),
];

/// egov-config keys a block may override for its own service
/// (charts/common/values.yaml:182-217: `index .Values "<key>"` before the ConfigMap).
pub const BLOCK_OVERRIDABLE_CONFIG: &[&str] = &[
    "server-tomcat-max-threads",
    "server-tomcat-max-connections",
    "spring-datasource-tomcat-max-active",
];

/// egov-config keys the charts require that the quickstart sets nowhere
/// (each image keeps its default): the sample's value and line.
pub const CONFIG_SAMPLE: &[(&str, &str, u32)] = &[
    ("server-tomcat-max-connections", "500", 32),
    ("server-tomcat-max-threads", "10", 33),
    ("spring-datasource-tomcat-initialSize", "1", 35),
    ("spring-datasource-tomcat-max-active", "2", 36),
    ("spring-jpa-show-sql", "true", 37),
    ("timezone", "Asia/Kolkata", 38),
    ("tracer-errors-provideexceptionindetails", "true", 39),
    ("sms-enabled", "true", 34),
];

/// egov-service-host keys a deployed chart requires for services the
/// quickstart does not run: the sample's value and line.
pub const HOST_SAMPLE: &[(&str, &str, u32)] = &[
    ("egov-common-masters", "http://egov-common-masters:8080/", 58),
    ("egov-searcher", "http://egov-searcher:8080/", 81),
    ("egov-location", "http://egov-location:8080/", 69),
    ("egov-mdms-service", "http://egov-mdms-service:8080/", 75),
];

/// The `egov-config` data keys in the sample's order (egov-demo.yaml:16-41).
pub const CONFIG_ORDER: &[&str] = &[
    "db-host",
    "db-name",
    "db-url",
    "domain",
    "egov-services-fqdn-name",
    "egov-state-level-tenant-id",
    "s3-assets-bucket",
    "es-host",
    "es-indexer-host",
    "flyway-locations",
    "kafka-brokers",
    "kafka-infra-brokers",
    "logging-level-jdbc",
    "mobile-validation-workaround",
    "serializers-timezone-in-ist",
    "server-tomcat-max-connections",
    "server-tomcat-max-threads",
    "sms-enabled",
    "spring-datasource-tomcat-initialSize",
    "spring-datasource-tomcat-max-active",
    "spring-jpa-show-sql",
    "timezone",
    "tracer-errors-provideexceptionindetails",
    "egov-bnd-freedownload-tenants",
    "egov-bnd-live-citizen-tenants",
];

/// The `egov-service-host` keys of the sample (egov-demo.yaml:45-145).
pub const HOST_KEYS: &[&str] = &[
    "asset-services",
    "asset-services-maha",
    "billing-service",
    "collection-services",
    "collection-masters",
    "collection-search-indexer",
    "citizen-indexer",
    "citizen-services",
    "dashboard-analytics",
    "dashboard-ingest",
    "demand-services",
    "data-sync-employee",
    "egov-common-masters",
    "egf-masters",
    "egf-master",
    "egf-instrument",
    "egf-voucher",
    "egf-bill",
    "egov-enc-service",
    "egf-voucher-workflow",
    "egov-accesscontrol",
    "egov-user",
    "egov-user-egov",
    "egov-location",
    "egov-filestore",
    "egov-localization",
    "egov-idgen",
    "egov-otp",
    "egov-common-workflows",
    "egov-mdms-service",
    "egov-mdms-service-test",
    "egov-mdms-create",
    "egov-eis",
    "egov-workflow",
    "egov-workflow-v2",
    "egov-searcher",
    "egov-data-uploader",
    "egov-indexer",
    "egov-hrms",
    "es-client",
    "hr-masters",
    "hr-employee",
    "hr-masters-v2",
    "hr-employee-v2",
    "hr-attendance",
    "hr-leave",
    "hr-employee-movement",
    "inventory-services",
    "lams-services",
    "lcms-workflow",
    "lcms-services",
    "location",
    "performance-assessment",
    "pt-property",
    "pt-workflow",
    "pt-tax-enrichment",
    "pt-calculator",
    "pt-calculator-v2",
    "pt-services-v2",
    "property-services",
    "pgr-master",
    "pgr-rest",
    "pdf-service",
    "report",
    "swm-services",
    "tenant",
    "tl-masters",
    "tl-services",
    "tl-workflow",
    "tl-indexer",
    "tl-calculator",
    "user-otp",
    "firenoc-services",
    "firenoc-calculator",
    "egov-apportion-service",
    "bpa-services",
    "bpa-calculator",
    "rainmaker-pgr",
    "ws-calculator",
    "ws-services",
    "sw-services",
    "sw-calculator",
    "land-services",
    "noc-services",
    "minio-url",
    "egov-user-chatbot",
    "zuul",
    "egov-url-shortening",
    "fsm-calculator",
    "fsm",
    "vehicle",
    "vendor",
    "egov-edcr",
    "echallan-calculator",
    "echallan-services",
    "inbox",
    "turn-io-adapter",
    "pgr-services",
    "birth-death-services",
    "egov-pdf",
];

/// What DIGIT-DevOps runs in place of a quickstart backbone component.
pub struct Backbone {
    /// The quickstart component.
    pub component: &'static str,
    /// Chart directory under deploy-as-code/helm/charts/backbone-services/,
    /// also its bare entry in a release chart.
    pub chart: &'static str,
    /// The address the quickstart's services use, and the chart's.
    pub host: (&'static str, &'static str),
    /// Why the address is what it is.
    pub source: &'static str,
}

pub const BACKBONE: &[Backbone] = &[
    Backbone {
        component: "postgres",
        chart: "postgres",
        // Service `postgres` in namespace egov (postgres/values.yaml:4), the
        // quickstart's name and namespace too.
        host: ("postgres", "postgres"),
        source: "charts/backbone-services/postgres/values.yaml:4 (namespace egov)",
    },
    Backbone {
        component: "redis",
        chart: "redis",
        host: ("redis", "redis.backbone"),
        source: "charts/backbone-services/redis/values.yaml:4 (namespace backbone); the service charts hard-code redis.backbone",
    },
    Backbone {
        component: "redpanda",
        chart: "kafka-kraft",
        host: ("redpanda", "release-name-kafka-controller-headless.backbone"),
        source: "egov-demo.yaml:27 (kafka-brokers of the kafka-kraft chart, namespace backbone)",
    },
    Backbone {
        component: "minio",
        chart: "minio",
        host: ("minio", "minio.backbone"),
        source: "charts/backbone-services/minio/values.yaml:9 (namespace backbone); egov-demo.yaml egov-filestore minio.url",
    },
];

/// The postgres chart's database name value (postgres/values.yaml:43, read
/// as POSTGRES_DB by its env template, l.30-31).
pub const POSTGRES_DATABASE_KEY: &str = "postgresDatabase";

/// Each chart's own `env:` template (`Chart::file`), at [`COMMIT`].
pub const CHARTS: &[Chart] = &[
    Chart {
        block: "egov-persister",
        file: "deploy-as-code/helm/charts/core-services/egov-persister/values.yaml",
        java: true,
        env: &[
            ("EGOV_PERSIST_YML_REPO_PATH", Src::Key("persist-yml-path")), // l.30
            ("JAVA_OPTS", Src::Key("heap")),                              // l.32
            ("JAVA_ARGS", Src::Key("java-args")),                         // l.34
            ("SERVER_PORT", Src::Fixed("8080")),                          // l.36
            ("JAEGER_SAMPLER_PARAM", Src::Fixed("1")),                    // l.38
        ],
    },
    Chart {
        block: "mdms-v2",
        file: "deploy-as-code/helm/charts/core-services/mdms-v2/values.yaml",
        java: true,
        env: &[
            ("SERVER_CONTEXT_PATH", Src::Fixed("/mdms-v2")), // l.37
            (
                "SPRING_KAFKA_CONSUMER_GROUP_ID",
                Src::Fixed("egov-mdms-service-consumer-group"),
            ), // l.39
            (
                "SPRING_KAFKA_PRODUCER_KEY_SERIALIZER",
                Src::Fixed("org.apache.kafka.common.serialization.StringSerializer"),
            ), // l.41
            (
                "SPRING_KAFKA_PRODUCER_VALUE_SERIALIZER",
                Src::Fixed("org.egov.tracer.kafka.serializer.ISTTimeZoneJsonSerializer"),
            ), // l.44
            ("JAVA_OPTS", Src::Key("heap")),                 // l.47
            ("JAVA_ARGS", Src::Key("java-args")),            // l.49
            ("SERVER_PORT", Src::Fixed("8080")),             // l.51
            ("SECURITY_BASIC_ENABLED", Src::Fixed("false")), // l.53
            ("MANAGEMENT_SECURITY_ENABLED", Src::Fixed("false")), // l.55
            ("JAVA_ENABLE_DEBUG", Src::Fixed("true")),       // l.57
            (
                "EGOV_MDMS_SCHEMA_DEFINITION_SAVE_TOPIC",
                Src::Key("egov-mdms-schema-definition-save-topic"),
            ), // l.59
            ("EGOV_MDMS_DATA_SAVE_TOPIC", Src::Key("egov-mdms-data-save-topic")), // l.61
        ],
    },
    Chart {
        block: "egov-localization",
        file: "deploy-as-code/helm/charts/core-services/egov-localization/values.yaml",
        java: true,
        env: &[
            ("SERVER_PORT", Src::Fixed("8080")),                 // l.35
            ("JAVA_OPTS", Src::Key("heap")),                     // l.37
            ("SPRING_REDIS_HOST", Src::Fixed("redis.backbone")), // l.39
            ("SPRING_REDIS_PORT", Src::Fixed("6379")),           // l.41
            ("JAEGER_SAMPLER_PARAM", Src::Fixed("1")),           // l.43
        ],
    },
    Chart {
        block: "egov-accesscontrol",
        file: "deploy-as-code/helm/charts/core-services/egov-accesscontrol/values.yaml",
        java: true,
        env: &[
            ("SERVER_PORT", Src::Fixed("8080")),                  // l.31
            ("JAVA_OPTS", Src::Key("heap")),                      // l.33
            ("EGOV_MDMS_HOST", Src::Host("egov-mdms-service")),   // l.35
            ("JAVA_ARGS", Src::Key("java-args")),                 // l.40
            ("TRACER_OPENTRACING_ENABLED", Src::Fixed("true")),   // l.43
            ("SECURITY_BASIC_ENABLED", Src::Fixed("false")),      // l.46
            ("MANAGEMENT_SECURITY_ENABLED", Src::Fixed("false")), // l.48
        ],
    },
    Chart {
        block: "egov-enc-service",
        file: "deploy-as-code/helm/charts/core-services/egov-enc-service/values.yaml",
        java: true,
        env: &[
            ("SERVER_PORT", Src::Fixed("8080")),                                       // l.42
            ("JAVA_OPTS", Src::Key("heap")),                                           // l.44
            ("JAVA_ARGS", Src::Key("java-args")),                                      // l.46
            ("EGOV_MDMS_HOST", Src::Host("egov-mdms-service")),                        // l.48
            ("EGOV_STATE_LEVEL_TENANT_ID", Src::Config("egov-state-level-tenant-id")), // l.53
            ("SECURITY_BASIC_ENABLED", Src::Fixed("false")),                           // l.58
            ("MANAGEMENT_SECURITY_ENABLED", Src::Fixed("false")),                      // l.60
            ("SERVER_CONTEXT_PATH", Src::Fixed("/egov-enc-service")),                  // l.62
            ("MASTER_PASSWORD_PROVIDER", Src::Key("master-password-provider")),        // l.64
            (
                "NUMBER_OF_SYMMETRIC_ACTIVE_KEYS_PER_TENANT",
                Src::Key("number-of-symmetric-keys-per-tenant"),
            ), // l.67
            ("MASTER_PASSWORD", Src::Secret),                                          // l.71
            ("MASTER_SALT", Src::Secret),                                              // l.76
            ("MASTER_INITIALVECTOR", Src::Secret),                                     // l.81
            ("AWS_KMS_REGION", Src::Key("aws-kms-region")),                            // l.88
            ("AWS_KMS_ACCESS_KEY", Src::Secret),                                       // l.90
            ("AWS_KMS_SECRET_KEY", Src::Secret),                                       // l.95
            (
                "AWS_KMS_MASTER_PASSWORD_KEY_ID",
                Src::Key("aws-kms-master-password-key-id"),
            ), // l.100
        ],
    },
    Chart {
        block: "egov-otp",
        file: "deploy-as-code/helm/charts/core-services/egov-otp/values.yaml",
        java: true,
        env: &[
            ("SERVER_PORT", Src::Fixed("8080")),                  // l.35
            ("JAVA_OPTS", Src::Key("heap")),                      // l.37
            ("SECURITY_BASIC_ENABLED", Src::Fixed("false")),      // l.39
            ("MANAGEMENT_SECURITY_ENABLED", Src::Fixed("false")), // l.41
        ],
    },
    Chart {
        block: "egov-user",
        file: "deploy-as-code/helm/charts/core-services/egov-user/egov-user-values.yaml",
        java: true,
        env: &[
            ("SERVER_PORT", Src::Fixed("8080")),                                   // l.50
            ("SPRING_REDIS_HOST", Src::Fixed("redis.backbone")),                   // l.52
            ("SPRING_REDIS_PORT", Src::Fixed("6379")),                             // l.54
            ("EGOV_OTP_HOST", Src::Host("egov-otp")),                              // l.56
            ("EGOV_USER_HOST", Src::Fixed("http://localhost:8080")),               // l.61
            ("EGOV_SERVICES_ACCESSCONTROL_HOST", Src::Host("egov-accesscontrol")), // l.63
            ("EGOV_FILESTORE_HOST", Src::Host("egov-filestore")),                  // l.68
            ("MDMS_HOST", Src::Host("egov-mdms-service")),                         // l.73
            ("EGOV_MDMS_HOST", Src::Host("egov-mdms-service")),                    // l.78
            ("EGOV_ENC_HOST", Src::Host("egov-enc-service")),                      // l.83
            ("STATE_LEVEL_TENANT_ID", Src::Config("egov-state-level-tenant-id")),  // l.88
            ("DECRYPTION_ABAC_ENABLED", Src::Key("decryption-abac-enabled")),      // l.93
            ("KAFKA_TOPIC_AUDIT", Src::Fixed("enc-user-audit-data")),              // l.95
            ("SPRING_KAFKA_CONSUMER_GROUP_ID", Src::Fixed("egov-user")),           // l.97
            (
                "ACCOUNT_UNLOCK_COOL_DOWN_PERIOD_MINUTES",
                Src::Key("account-unlock-cool-down-period-minutes"),
            ), // l.99
            (
                "SPRING_KAFKA_PRODUCER_KEY_SERIALIZER",
                Src::Fixed("org.apache.kafka.common.serialization.StringSerializer"),
            ), // l.101
            (
                "SPRING_KAFKA_PRODUCER_VALUE_SERIALIZER",
                Src::Fixed("org.springframework.kafka.support.serializer.JsonSerializer"),
            ), // l.103
            ("OTP_VALIDATION_REGISTER_MANDATORY", Src::Key("otp-validation")),     // l.106
            ("CITIZEN_LOGIN_PASSWORD_OTP_ENABLED", Src::Key("citizen-otp-enabled")), // l.110
            ("EMPLOYEE_LOGIN_PASSWORD_OTP_ENABLED", Src::Key("employee-otp-enabled")), // l.114
            ("ACCESS_TOKEN_VALIDITY_IN_MINUTES", Src::Key("access-token-validity")), // l.118
            ("REFRESH_TOKEN_VALIDITY_IN_MINUTES", Src::Key("refresh-token-validity")), // l.122
            ("DEFAULT_PASSWORD_EXPIRY_IN_DAYS", Src::Key("default-password-expiry")), // l.126
            (
                "MOBILE_NUMBER_VALIDATION_WORKAROUND_ENABLED",
                Src::Key("mobile-number-validation"),
            ), // l.130
            ("ROLES_STATE_LEVEL_ENABLED", Src::Key("roles-state-level")),          // l.134
            (
                "CITIZEN_REGISTRATION_WITHLOGIN_ENABLED",
                Src::Key("citizen-registration-withlogin"),
            ), // l.138
            ("CITIZEN_LOGIN_PASSWORD_OTP_FIXED_VALUE", Src::Key("citizen-otp-fixed")), // l.142
            (
                "CITIZEN_LOGIN_PASSWORD_OTP_FIXED_ENABLED",
                Src::Key("citizen-otp-fixed-enabled"),
            ), // l.146
            ("JAVA_OPTS", Src::Key("heap")),                                       // l.149
            ("JAVA_ARGS", Src::Key("java-args")),                                  // l.151
            ("MOBILE_NUMBER_VALIDATION_WORKAROUND_ENABLED", Src::Fixed("true")),   // l.154
            ("SECURITY_BASIC_ENABLED", Src::Fixed("false")),                       // l.157
            ("MANAGEMENT_SECURITY_ENABLED", Src::Fixed("false")),                  // l.159
            ("TRACER_OPENTRACING_ENABLED", Src::Fixed("true")),                    // l.162
            ("JAVA_ENABLE_DEBUG", Src::Key("java-debug")),                         // l.166
            ("JAVA_ENABLE_DEBUG", Src::Fixed("false")),                            // l.169
        ],
    },
    Chart {
        block: "user-otp",
        file: "deploy-as-code/helm/charts/core-services/user-otp/values.yaml",
        java: true,
        env: &[
            ("SERVER_PORT", Src::Fixed("8080")),                        // l.31
            ("OTP_HOST", Src::Fixed("http://egov-otp:8080/otp")),       // l.33
            ("SECURITY_BASIC_ENABLED", Src::Fixed("false")),            // l.35
            ("MANAGEMENT_SECURITY_ENABLED", Src::Fixed("false")),       // l.37
            ("USER_HOST", Src::Host("egov-user")),                      // l.39
            ("EGOV_LOCALISATION_HOST", Src::Host("egov-localization")), // l.44
            ("SMS_TOPIC", Src::Fixed("egov.core.notification.sms")),    // l.49
            ("JAVA_OPTS", Src::Key("heap")),                            // l.51
            ("JAVA_ARGS", Src::Key("java-args")),                       // l.53
            ("SECURITY_BASIC_ENABLED", Src::Fixed("false")),            // l.55
            ("MANAGEMENT_SECURITY_ENABLED", Src::Fixed("false")),       // l.57
            ("TRACER_OPENTRACING_ENABLED", Src::Fixed("true")),         // l.60
        ],
    },
    Chart {
        block: "egov-idgen",
        file: "deploy-as-code/helm/charts/core-services/egov-idgen/values.yaml",
        java: true,
        env: &[
            ("SERVER_PORT", Src::Fixed("8080")),                    // l.38
            ("JAVA_OPTS", Src::Key("heap")),                        // l.40
            ("JAVA_ARGS", Src::Key("java-args")),                   // l.42
            ("IDFORMAT_FROM_MDMS", Src::Key("idformat-from-mdms")), // l.44
            ("AUTOCREATE_NEW_SEQ", Src::Key("autocreate-new-seq")), // l.46
            ("MDMS_SERVICE_HOST", Src::Host("egov-mdms-service")),  // l.48
            ("SECURITY_BASIC_ENABLED", Src::Fixed("false")),        // l.53
            ("MANAGEMENT_SECURITY_ENABLED", Src::Fixed("false")),   // l.55
        ],
    },
    Chart {
        block: "egov-filestore",
        file: "deploy-as-code/helm/charts/core-services/egov-filestore/values.yaml",
        java: true,
        env: &[
            ("SERVER_PORT", Src::Fixed("8080")),                                       // l.42
            ("SECURITY_BASIC_ENABLED", Src::Fixed("false")),                           // l.44
            ("MANAGEMENT_SECURITY_ENABLED", Src::Fixed("false")),                      // l.46
            ("FILE_STORAGE_MOUNT_PATH", Src::Key("file-storage-mount-path")),          // l.48
            ("TEMP_FOLDER_PATH", Src::Fixed("/tmp")),                                  // l.50
            ("SPRING_SERVLET_MULTIPART_MAX_FILE_SIZE", Src::Fixed("6MB")),             // l.52
            ("ISNFSSTORAGEENABLED", Src::Key("is-nfs-enabled")),                       // l.54
            ("ISNFSSTORAGEENABLED", Src::Fixed("true")),                               // l.57
            ("DISK_STORAGE_HOST_URL", Src::Config("egov-services-fqdn-name")),         // l.59
            ("SOURCE_DISK", Src::Fixed("diskStorage")),                                // l.64
            ("ISS3ENABLED", Src::Fixed("true")),                                       // l.68
            ("AWS_KEY", Src::Secret),                                                  // l.72
            ("AWS_SECRETKEY", Src::Secret),                                            // l.77
            ("AWS_KEY", Src::Secret),                                                  // l.83
            ("AWS_SECRETKEY", Src::Secret),                                            // l.88
            ("IS_BUCKET_FIXED", Src::Key("is-bucket-fixed")),                          // l.95
            ("FIXED_BUCKETNAME", Src::Key("fixed-bucketname")),                        // l.99
            ("JAVA_OPTS", Src::Key("heap")),                                           // l.102
            ("ALLOWED_FORMATS_MAP", Src::Key("allowed-file-formats-map")),             // l.104
            ("MINIO_URL", Src::HostWhen("minio-url", "minio-enabled")),                // l.107
            ("PRESIGNED_URL_EXPIRY_TIME_IN_SECS", Src::Key("filestore-url-validity")), // l.114
        ],
    },
    Chart {
        block: "egov-workflow-v2",
        file: "deploy-as-code/helm/charts/core-services/egov-workflow-v2/values.yaml",
        java: true,
        env: &[
            ("SPRING_KAFKA_CONSUMER_GROUP_ID", Src::Fixed("egov-tl-services")), // l.37
            (
                "SPRING_KAFKA_PRODUCER_KEY_SERIALIZER",
                Src::Fixed("org.apache.kafka.common.serialization.StringSerializer"),
            ), // l.39
            (
                "SPRING_KAFKA_PRODUCER_VALUE_SERIALIZER",
                Src::Fixed("org.springframework.kafka.support.serializer.JsonSerializer"),
            ), // l.41
            ("PERSISTER_SAVE_WF_TOPIC", Src::Fixed("save-wf-transitions")),     // l.43
            ("EGOV_MDMS_HOST", Src::Host("egov-mdms-service")),                 // l.45
            ("EGOV_STATELEVEL_TENANTID", Src::Config("egov-state-level-tenant-id")), // l.50
            ("EGOV_MDMS_SEARCH_ENDPOINT", Src::Fixed("/egov-mdms-service/v1/_search")), // l.55
            ("EGOV_USER_HOST", Src::Host("egov-user")),                         // l.57
            ("EGOV_USER_SEARCH_ENDPOINT", Src::Fixed("/user/v1/_search")),      // l.62
            ("JAVA_OPTS", Src::Key("heap")),                                    // l.64
            ("SERVER_PORT", Src::Fixed("8080")),                                // l.66
            ("JAVA_ARGS", Src::Key("java-args")),                               // l.68
            ("SECURITY_BASIC_ENABLED", Src::Fixed("false")),                    // l.70
            ("MANAGEMENT_SECURITY_ENABLED", Src::Fixed("false")),               // l.72
            ("EGOV_WF_DEFAULT_LIMIT", Src::Fixed("100")),                       // l.74
            ("EGOV_WF_STATELEVEL", Src::Key("workflow-statelevel")),            // l.76
            ("EGOV_WF_MAX_LIMIT", Src::Key("wf-max-limit")),                    // l.79
        ],
    },
    Chart {
        block: "boundary-service",
        file: "deploy-as-code/helm/charts/core-services/boundary-service/values.yaml",
        java: true,
        env: &[
            ("SERVER_CONTEXT_PATH", Src::Fixed("/boundary-service")), // l.41
            ("SPRING_KAFKA_CONSUMER_GROUP_ID", Src::Fixed("boundary-service")), // l.43
            (
                "SPRING_KAFKA_PRODUCER_KEY_SERIALIZER",
                Src::Fixed("org.apache.kafka.common.serialization.StringSerializer"),
            ), // l.45
            (
                "SPRING_KAFKA_PRODUCER_VALUE_SERIALIZER",
                Src::Fixed("org.egov.tracer.kafka.serializer.ISTTimeZoneJsonSerializer"),
            ), // l.48
            ("JAVA_OPTS", Src::Key("heap")),                          // l.51
            ("JAVA_ARGS", Src::Key("java-args")),                     // l.53
            ("SERVER_PORT", Src::Fixed("8080")),                      // l.55
            ("SECURITY_BASIC_ENABLED", Src::Fixed("false")),          // l.57
            ("MANAGEMENT_SECURITY_ENABLED", Src::Fixed("false")),     // l.59
            ("JAVA_ENABLE_DEBUG", Src::Fixed("true")),                // l.61
            ("KAFKA_TOPICS_CREATE_BOUNDARY", Src::Key("kafka-topics-create-boundary")), // l.63
            (
                "KAFKA_TOPICS_CREATE_BOUNDARY_HIERARCHY",
                Src::Key("kafka-topics-create-boundary-hierarchy"),
            ), // l.65
            (
                "KAFKA_TOPICS_CREATE_BOUNDARY_RELATIONSHIP",
                Src::Key("kafka-topics-create-boundary-relationship"),
            ), // l.67
            (
                "KAFKA_TOPICS_UPDATE_BOUNDARY_RELATIONSHIP",
                Src::Key("kafka-topics-update-boundary-relationship"),
            ), // l.69
            ("KAFKA_TOPICS_UPDATE_BOUNDARY", Src::Key("kafka-topics-update-boundary")), // l.71
            (
                "KAFKA_TOPICS_UPDATE_BOUNDARY_HIERARCHY",
                Src::Key("kafka-topics-update-boundary-hierarchy"),
            ), // l.73
        ],
    },
    Chart {
        block: "egov-url-shortening",
        file: "deploy-as-code/helm/charts/core-services/egov-url-shortening/values.yaml",
        java: true,
        env: &[
            (
                "TRACER_ERRORS_PROVIDEEXCEPTIONINDETAILS",
                Src::Config("tracer-errors-provideexceptionindetails"),
            ), // l.38
            ("JAVA_ENABLE_DEBUG", Src::Fixed("true")),                   // l.44
            ("SPRING_REDIS_HOST", Src::Fixed("redis.backbone")),         // l.46
            ("SPRING_REDIS_PORT", Src::Fixed("6379")),                   // l.48
            ("SERVER_CONTEXT_PATH", Src::Key("server-context")),         // l.50
            ("SERVER_SERVLET_CONTEXT_PATH", Src::Key("server-context")), // l.52
            ("SERVER_CONTEXTPATH", Src::Key("server-context")),          // l.54
            ("JAVA_OPTS", Src::Key("heap")),                             // l.56
            ("JAVA_ARGS", Src::Key("java-args")),                        // l.58
            ("SERVER_PORT", Src::Fixed("8080")),                         // l.60
            ("SECURITY_BASIC_ENABLED", Src::Fixed("false")),             // l.62
            ("MANAGEMENT_SECURITY_ENABLED", Src::Fixed("false")),        // l.64
            ("TRACER_OPENTRACING_ENABLED", Src::Fixed("true")),          // l.67
            ("HOST_NAME", Src::Config("egov-services-fqdn-name")),       // l.70
        ],
    },
    Chart {
        block: "egov-notification-sms",
        file: "deploy-as-code/helm/charts/core-services/egov-notification-sms/values.yaml",
        java: true,
        env: &[
            (
                "KAFKA_TOPICS_NOTIFICATION_SMS_NAME",
                Src::Fixed("egov.core.notification.sms"),
            ), // l.35
            (
                "KAFKA_TOPICS_NOTIFICATION_SMS_ID",
                Src::Fixed("egov.core.notification.sms"),
            ), // l.37
            (
                "KAFKA_TOPICS_NOTIFICATION_SMS_GROUP",
                Src::Fixed("egov.core.notification.sms"),
            ), // l.39
            ("SMS_CONFIG_MAP", Src::Key("sms-config-map")),     // l.42
            ("SMS_PROVIDER_URL", Src::Key("sms-provider-url")), // l.45
            ("SMS_SENDER_USERNAME", Src::Secret),               // l.47
            ("SMS_SENDER_PASSWORD", Src::Secret),               // l.52
            ("SMS_SENDER_SECURE_KEY", Src::Secret),             // l.58
            ("SMS_ENABLED", Src::Config("sms-enabled")),        // l.64
            ("SMS_SENDER", Src::Key("sms-sender")),             // l.69
            ("SMS_SENDER_REQUESTTYPE", Src::Key("sms-sender-requesttype")), // l.71
            ("SMS_SENDER_REQ_PARAM_NAME", Src::Key("sms-sender-req-param-name")), // l.74
            (
                "SMS_SENDER_USERNAME_REQ_PARAM_NAME",
                Src::Key("sms-sender-username-req-param-name"),
            ), // l.76
            (
                "SMS_SENDER_PASSWORD_REQ_PARAM_NAME",
                Src::Key("sms-sender-password-req-param-name"),
            ), // l.78
            (
                "SMS_DESTINATION_MOBILE_REQ_PARAM_NAME",
                Src::Key("sms-destination-mobile-req-param-name"),
            ), // l.80
            ("SMS_TYPE_REQ_PARAM_NAME", Src::Fixed("smsservicetype")), // l.82
            ("SMS_MESSAGE_REQ_PARAM_NAME", Src::Key("sms-message-req-param-name")), // l.84
            ("SMS_EXTRA_REQ_PARAMS", Src::Key("sms-extra-req-params")), // l.86
            ("SMS_VERIFY_SSL", Src::Fixed("false")),            // l.88
            ("SMS_URL_DONT_ENCODE_URL", Src::Fixed("true")),    // l.90
            ("SMS_SPICEDIGITAL_PROVIDER_URL", Src::Key("sms-provider-url")), // l.93
            ("SMS_SPICEDIGITAL_SENDER_USERNAME", Src::Secret),  // l.95
            ("SMS_SPICEDIGITAL_SENDER_PASSWORD", Src::Secret),  // l.100
            ("LOGGING_LEVEL_org.egov.tracer.kafka", Src::Fixed("DEBUG")), // l.105
            ("SMS_SPICEDIGITAL_SENDER", Src::Key("sms-sender")), // l.107
            ("SMS_GATEWAY_TO_USE", Src::Key("sms-gateway-to-use")), // l.109
            ("JAVA_OPTS", Src::Key("heap")),                    // l.111
            ("JAVA_ARGS", Src::Key("java-args")),               // l.113
            ("SMS_PROVIDER_USERNAME", Src::Secret),             // l.115
            ("SMS_PROVIDER_PASSWORD", Src::Secret),             // l.120
            ("SMS_PROVIDER_CLASS", Src::Key("sms.provider.class")), // l.126
            ("SMS_PROVIDER_REQUESTTYPE", Src::Key("sms.provider.requestType")), // l.130
            ("SMS_SENDERID", Src::Key("sms.senderid")),         // l.134
            ("SMS_PROVIDER_CONTENTTYPE", Src::Key("sms.provider.contentType")), // l.138
            ("SMS_CATEGORY_MAP", Src::Key("sms.category.map")), // l.142
            ("SMS_EXTRA_CONFIG_MAP", Src::Key("sms.extra.config.map")), // l.146
            ("SMS_PRINT_RESPONSE", Src::Key("sms.print.response")), // l.150
            ("SMS_VERIFY_RESPONSE", Src::Key("sms.verify.response")), // l.154
            ("SMS_VERIFY_RESPONSECONTAINS", Src::Key("sms.verify.responseContains")), // l.158
            ("SMS_SUCCESS_CODES", Src::Key("sms.success.codes")), // l.162
            ("SMS_ERROR_CODES", Src::Key("sms.error.codes")),   // l.166
            ("SMS_BLACKLIST_NUMBERS", Src::Key("sms.blacklist.numbers")), // l.170
            ("SMS_WHITELIST_NUMBERS", Src::Key("sms.whitelist.numbers")), // l.174
            ("SMS_MOBILE_PREFIX", Src::Key("sms.mobile.prefix")), // l.178
            ("KAFKA_TOPICS_BACKUP_SMS", Src::Key("kafka.topics.backup.sms")), // l.182
            ("KAFKA_TOPICS_EXPIRY_SMS", Src::Key("kafka.topics.expiry.sms")), // l.186
            ("KAFKA_TOPICS_ERROR_SMS", Src::Key("kafka.topics.error.sms")), // l.190
        ],
    },
    Chart {
        block: "gateway",
        file: "deploy-as-code/helm/charts/core-services/gateway/values.yaml",
        java: true,
        env: &[
            (
                "URL_LISTS",
                Src::Fixed(
                    "/pt-services-v2/property/_create:http://rainmaker-custom-service:8000/customization/protected/punjab-pt/property/_create|/pt-services-v2/property/_update:http://rainmaker-custom-service:8000/customization/protected/punjab-pt/property/_update|/pt-calculator-v2/propertytax/_estimate:http://rainmaker-custom-service:8000/customization/protected/punjab-pt/pt-calculator-v2/_estimate",
                ),
            ), // l.58
            ("CUSTOM_FILTER_PROPERTY", Src::Key("custom-filter-property")), // l.60
            ("CUSTOM_FILTER_POSTHOOKS", Src::Fixed("true")),                // l.62
            ("CUSTOM_FILTER_PREHOOKS", Src::Fixed("true")),                 // l.64
            ("URL_POSTHOOK_LISTS", Src::Key("posthook-config")),            // l.66
            ("URL_PREHOOK_LISTS", Src::Key("prehook-config")),              // l.68
            (
                "GATEWAY_ROUTES_TL_CALCULATOR_URL",
                Src::Fixed("http://tl-calculator:8080/"),
            ), // l.70
            ("SERVER_PORT", Src::Fixed("8080")),                            // l.72
            ("JAVA_ENABLE_DEBUG", Src::Key("java-debug")),                  // l.75
            ("JAVA_ENABLE_DEBUG", Src::Fixed("false")),                     // l.78
            ("JAVA_OPTS", Src::Key("heap")),                                // l.81
            ("SPRING_KAFKA_CONSUMER_GROUP_ID", Src::Fixed("egov-api-gateway")), // l.83
            (
                "SPRING_KAFKA_PRODUCER_KEY_SERIALIZER",
                Src::Fixed("org.apache.kafka.common.serialization.StringSerializer"),
            ), // l.85
            (
                "SPRING_KAFKA_PRODUCER_VALUE_SERIALIZER",
                Src::Fixed("org.springframework.kafka.support.serializer.JsonSerializer"),
            ), // l.87
            ("EGOV_CUSTOM_ASYNC_FILTER_TOPIC", Src::Fixed("res-custom-filter")), // l.89
            (
                "EGOV_OPEN_ENDPOINTS_WHITELIST",
                Src::Key("egov-open-endpoints-whitelist"),
            ), // l.91
            (
                "EGOV_MIXED_MODE_ENDPOINTS_WHITELIST",
                Src::Key("egov-mixed-mode-endpoints-whitelist"),
            ), // l.93
            ("EVENTLOG_ENABLED", Src::Key("eventlog-enabled")),             // l.95
            ("EVENTLOG_TOPIC", Src::Key("eventlog-topic")),                 // l.97
            ("EVENTLOG_URLS_WHITELIST", Src::Key("eventlog-whitelist")),    // l.99
            ("EGOV_AUTHORIZE_ACCESS_CONTROL_HOST", Src::Host("egov-accesscontrol")), // l.101
            ("EGOV_AUTH_SERVICE_HOST", Src::Host("egov-user")),             // l.106
            ("GATEWAY_HOST_CONNECT_TIMEOUT_MILLIS", Src::Fixed("20000")),   // l.111
            ("GATEWAY_HOST_SOCKET_TIMEOUT_MILLIS", Src::Fixed("60000")),    // l.113
            ("TRACER_OPENTRACING_ENABLED", Src::Fixed("true")),             // l.116
            ("SECURITY_BASIC_ENABLED", Src::Fixed("false")),                // l.119
            ("MANAGEMENT_SECURITY_ENABLED", Src::Fixed("false")),           // l.121
            ("JAVA_ARGS", Src::Key("java-args")),                           // l.123
            ("STATE_LEVEL_TENANT_ID", Src::Config("egov-state-level-tenant-id")), // l.125
            ("SPRING_DATA_REDIS_DEFAULT_REPLENISHRATE", Src::Fixed("10")),  // l.130
            ("SPRING_DATA_REDIS_DEFAULT_BURSTCAPACITY", Src::Fixed("10")),  // l.132
            ("SPRING_ROUTES_FILEPATH", Src::Fixed("file:/etc/zuul/routes.properties")), // l.134
            ("SPRING_DATA_REDIS_HOST", Src::Fixed("redis.backbone")),       // l.152
        ],
    },
    Chart {
        block: "egov-hrms",
        file: "deploy-as-code/helm/charts/business-services/egov-hrms/values.yaml",
        java: true,
        env: &[
            ("EGOV_SERVICES_DATA_SYNC_EMPLOYEE_REQUIRED", Src::Fixed("false")), // l.36
            ("EGOV_MDMS_HOST", Src::Host("egov-mdms-service")),                 // l.38
            ("EGOV_MDMS_SEARCH_ENDPOINT", Src::Fixed("/egov-mdms-service/v1/_search")), // l.43
            ("EGOV_MDMSLEGACY_HOST", Src::Host("egov-mdms-service")),           // l.45
            ("EGOV_MDMSLEGACY_SEARCH_ENDPOINT", Src::Key("mdmsLegacySearchPath")), // l.50
            ("EGOV_FILESTORE_HOST", Src::Host("egov-filestore")),               // l.52
            ("STATE_LEVEL_TENANT_ID", Src::Config("egov-state-level-tenant-id")), // l.57
            ("EGOV_FILESTORE_URL_ENDPOINT", Src::Fixed("/filestore/v1/files/url")), // l.62
            ("EGOV_LOCALIZATION_HOST", Src::Host("egov-localization")),         // l.64
            (
                "EGOV_LOCALIZATION_SEARCH_ENDPOINT",
                Src::Fixed("/localization/messages/v1/_search"),
            ), // l.69
            ("EGOV_IDGEN_HOST", Src::Host("egov-idgen")),                       // l.71
            (
                "EGOV_SERVICES_EGOV_IDGEN_CREATEPATH",
                Src::Fixed("/egov-idgen/id/_generate"),
            ), // l.76
            ("EGOV_SERVICES_EGOV_IDGEN_EMP_CODE_NAME", Src::Fixed("employee.code")), // l.78
            (
                "EGOV_SERVICES_EGOV_IDGEN_EMP_CODE_FORMAT",
                Src::Fixed("EMP_[SEQ_EMPLOYEE_CODE]"),
            ), // l.80
            ("EGOV_USER_HOST", Src::Host("egov-user")),                         // l.82
            ("EGOV_OTP_HOST", Src::Host("egov-otp")),                           // l.87
            ("EGOV_ENVIRONMENT_DOMAIN", Src::Config("egov-services-fqdn-name")), // l.92
            ("EGOV_USER_SEARCH_ENDPOINT", Src::Fixed("/user/v1/_search")),      // l.97
            ("EGOV_USER_CREATE_ENDPOINT", Src::Fixed("/user/users/_createnovalidate")), // l.99
            ("EGOV_USER_UPDATE_ENDPOINT", Src::Fixed("/user/users/_updatenovalidate")), // l.101
            ("EGOV_HRMS_EMPLOYEE_APP_LINK", Src::Key("employee-applink")),      // l.103
            ("SPRING_KAFKA_CONSUMER_GROUP_ID", Src::Fixed("employee-group1")),  // l.105
            (
                "SPRING_KAFKA_PRODUCER_KEY_SERIALIZER",
                Src::Fixed("org.apache.kafka.common.serialization.StringSerializer"),
            ), // l.107
            (
                "SPRING_KAFKA_PRODUCER_VALUE_SERIALIZER",
                Src::Fixed("org.springframework.kafka.support.serializer.JsonSerializer"),
            ), // l.109
            ("KAFKA_TOPICS_SAVE_SERVICE", Src::Fixed("save-hrms-employee")),    // l.111
            ("KAFKA_TOPICS_UPDATE_SERVICE", Src::Fixed("update-hrms-employee")), // l.113
            (
                "KAFKA_TOPICS_NOTIFICATION_SMS",
                Src::Fixed("egov.core.notification.sms"),
            ), // l.115
            ("JAVA_OPTS", Src::Key("heap")),                                    // l.117
            ("SERVER_PORT", Src::Fixed("8080")),                                // l.119
            ("JAVA_ARGS", Src::Key("java-args")),                               // l.121
            ("SECURITY_BASIC_ENABLED", Src::Fixed("false")),                    // l.123
            ("MANAGEMENT_SECURITY_ENABLED", Src::Fixed("false")),               // l.125
            ("TRACER_OPENTRACING_ENABLED", Src::Fixed("true")),                 // l.128
        ],
    },
    Chart {
        block: "pgr-services",
        file: "deploy-as-code/helm/charts/urban/pgr-services/values.yaml",
        java: true,
        env: &[
            ("SPRING_KAFKA_CONSUMER_GROUP_ID", Src::Fixed("egov-pgr-services")), // l.45
            (
                "SPRING_KAFKA_PRODUCER_KEY_SERIALIZER",
                Src::Fixed("org.apache.kafka.common.serialization.StringSerializer"),
            ), // l.47
            (
                "SPRING_KAFKA_PRODUCER_VALUE_SERIALIZER",
                Src::Fixed("org.egov.tracer.kafka.serializer.ISTTimeZoneJsonSerializer"),
            ), // l.50
            ("EGOV_IDGEN_HOST", Src::Host("egov-idgen")),                        // l.53
            ("EGOV_WORKFLOW_HOST", Src::Host("egov-workflow-v2")),               // l.58
            ("EGOV_MDMS_HOST", Src::Host("egov-mdms-service")),                  // l.63
            ("EGOV_LOCALIZATION_HOST", Src::Host("egov-localization")),          // l.68
            ("EGOV_INFRA_SEARCHER_HOST", Src::Host("egov-searcher")),            // l.73
            ("EGOV_COMMON_MASTERS_HOST", Src::Host("egov-common-masters")),      // l.78
            ("EGOV_FILESTORE_HOST", Src::Host("egov-filestore")),                // l.83
            ("EGOV_UI_APP_HOST", Src::Config("egov-services-fqdn-name")),        // l.88
            ("EGOV_USER_HOST", Src::Host("egov-user")),                          // l.93
            ("NOTIFICATION_SMS_ENABLED", Src::Key("notification-sms-enabled")),  // l.98
            ("NOTIFICATION_EMAIL_ENABLED", Src::Key("notification-email-enabled")), // l.100
            ("NEW_COMPLAINT_ENABLED", Src::Key("new-complaint-enabled")),        // l.102
            ("REASSIGN_COMPLAINT_ENABLED", Src::Key("reassign-complaint-enabled")), // l.104
            ("REOPEN_COMPLAINT_ENABLED", Src::Key("reopen-complaint-enabled")),  // l.106
            (
                "COMMENT_BY_EMPLOYEE_NOTIF_ENABLED",
                Src::Key("comment-by-employee-notif-enabled"),
            ), // l.108
            ("EGOV_PGR_APP_PLAYSTORE_LINK", Src::Fixed("https://goo.gl/ArDyQ1")), // l.110
            (
                "NOTIFICATION_ALLOWED_ON_STATUS",
                Src::Key("notification-allowed-status"),
            ), // l.112
            ("EGOV_HRMS_HOST", Src::Host("egov-hrms")),                          // l.114
            (
                "TRACER_ERRORS_PROVIDEEXCEPTIONINDETAILS",
                Src::Config("tracer-errors-provideexceptionindetails"),
            ), // l.120
            ("JAVA_OPTS", Src::Key("heap")),                                     // l.126
            ("JAVA_ARGS", Src::Key("java-args")),                                // l.128
            ("JAVA_ENABLE_DEBUG", Src::Key("java-enable-debug")),                // l.130
            ("SERVER_PORT", Src::Fixed("8080")),                                 // l.132
            ("SECURITY_BASIC_ENABLED", Src::Fixed("false")),                     // l.134
            ("MANAGEMENT_SECURITY_ENABLED", Src::Fixed("false")),                // l.136
            ("EGOV_LOCATION_HOST", Src::Host("egov-location")),                  // l.138
            ("EGOV_USR_EVENTS_NOTIFICATION_ENABLED", Src::Fixed("true")),        // l.143
            ("EGOV_USR_EVENTS_CREATE_TOPIC", Src::Fixed("persist-user-events-async")), // l.145
            (
                "EGOV_USR_EVENTS_RATE_LINK",
                Src::Fixed("/citizen/otpLogin?mobileNo=$mobile&redirectTo=feedback/$servicerequestid"),
            ), // l.147
            (
                "EGOV_USR_EVENTS_REOPEN_LINK",
                Src::Fixed("/citizen/otpLogin?mobileNo=$mobile&redirectTo=reopen-complaint/$servicerequestid"),
            ), // l.149
            ("EGOV_USR_EVENTS_RATE_CODE", Src::Fixed("RATE")),                   // l.151
            ("EGOV_USR_EVENTS_REOPEN_CODE", Src::Fixed("REOPEN")),               // l.153
            ("PGR_STATELEVEL_TENANTID", Src::Config("egov-state-level-tenant-id")), // l.155
            ("TRACER_OPENTRACING_ENABLED", Src::Fixed("true")),                  // l.161
            ("PGR_COMPLAIN_IDLE_TIME", Src::Key("time-before-closing-complaint")), // l.165
        ],
    },
    Chart {
        block: "digit-ui",
        file: "deploy-as-code/helm/charts/frontend/digit-ui/values.yaml",
        java: false,
        env: &[],
    },
];
