//! Every environment variable digit-quickstart reads, in one place.

/// Default for `--profile`.
pub const PROFILE: &str = "DIGIT_QUICKSTART_PROFILE";
/// Default for `--data-dir`.
pub const DATA_DIR: &str = "DIGIT_QUICKSTART_DATA_DIR";
/// Testing only: read host facts from this JSON file instead of probing the host.
pub const HOST_FACTS: &str = "DIGIT_QUICKSTART_HOST_FACTS";
/// Standard colour switches (see `ui::resolve_color`).
pub const NO_COLOR: &str = "NO_COLOR";
/// Set by sudo: whose kubeconfig to write.
pub const SUDO_USER: &str = "SUDO_USER";
pub const HOME: &str = "HOME";
/// Docker's configuration directory (its config.json holds registry credentials).
pub const DOCKER_CONFIG: &str = "DOCKER_CONFIG";
/// Testing only: first retry delay in milliseconds (default 500).
pub const RETRY_BASE_MS: &str = "DIGIT_QUICKSTART_RETRY_BASE_MS";
/// Hidden `--root`: every host path is read and written below this directory.
pub const ROOT: &str = "DIGIT_QUICKSTART_ROOT";
/// Testing only: where health and smoke checks reach DIGIT (default http://<node IP>).
pub const INGRESS_URL: &str = "DIGIT_QUICKSTART_INGRESS_URL";
/// Testing only: how often the deploy polls the cluster, in milliseconds.
pub const POLL_MS: &str = "DIGIT_QUICKSTART_POLL_MS";
/// Testing only: the `ctr` command line to import images with (default `k3s ctr`).
pub const CTR: &str = "DIGIT_QUICKSTART_CTR";
