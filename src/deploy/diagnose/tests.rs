use k8s_openapi::List;
use k8s_openapi::api::core::v1::{Event, Pod};

use super::*;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/k8s/diagnose/",
            $name
        ))
    };
}

fn pod(json: &str) -> Pod {
    serde_json::from_str(json).unwrap()
}

fn events() -> Vec<Event> {
    serde_json::from_str::<List<Event>>(fixture!("events.json"))
        .unwrap()
        .items
}

fn one(pods: &[Pod], limit: Option<u64>) -> Finding {
    let found = analyse(pods, &events(), limit, Some(7 << 30));
    assert_eq!(found.len(), 1, "{found:#?}");
    found.into_iter().next().unwrap()
}

#[test]
fn a_429_pull_points_at_the_docker_hub_quota() {
    let f = one(&[pod(fixture!("pull-429.json"))], None);
    assert!(
        f.cause
            .contains("cannot pull docker.io/egovio/egov-user:master-fa75ba8"),
        "{}",
        f.cause
    );
    assert!(f.hint.contains("Docker Hub's pull limit"), "{}", f.hint);
    assert!(f.hint.contains("--registry-auth-file"));
}

#[test]
fn a_missing_tag_says_so() {
    let f = one(&[pod(fixture!("pull-notfound.json"))], None);
    assert!(f.hint.contains("does not exist upstream"), "{}", f.hint);
}

#[test]
fn an_oom_kill_names_the_limit_and_the_vm_memory() {
    let f = one(&[pod(fixture!("oomkilled.json"))], Some(320 << 20));
    assert!(
        f.cause.contains("OOMKilled") && f.cause.contains("320.0 MiB"),
        "{}",
        f.cause
    );
    assert!(f.hint.contains("this VM has 7.0 GiB"), "{}", f.hint);
    assert_eq!(f.logs, None);
}

#[test]
fn a_crash_loop_asks_for_the_previous_logs() {
    let f = one(&[pod(fixture!("crashloop.json"))], None);
    assert!(f.cause.contains("keeps crashing (4 restarts)"), "{}", f.cause);
    assert_eq!(
        f.logs,
        Some(("egov-user-7d9f8c6b5-x2k9p".into(), "egov-user".into(), true))
    );
}

#[test]
fn a_failing_flyway_init_container_is_named_as_the_migration() {
    let f = one(&[pod(fixture!("flyway.json"))], None);
    assert!(f.cause.contains("Flyway migration"), "{}", f.cause);
    assert_eq!(f.logs.unwrap().1, "db-migration");
}

#[test]
fn scheduling_failures_name_memory_and_disk_pressure() {
    let f = one(&[pod(fixture!("unschedulable.json"))], None);
    assert!(f.cause.contains("not enough memory"), "{}", f.cause);
    let mut disk = pod(fixture!("unschedulable.json"));
    disk.metadata.name = Some("postgres-6c8d7b9f5-m4t7k".into());
    let f = one(&[disk], None);
    assert!(f.hint.contains("kubelet needs 15% free"), "{}", f.hint);
}

#[test]
fn a_healthy_pod_has_no_findings() {
    let mut p = pod(fixture!("crashloop.json"));
    let s = p.status.as_mut().unwrap().container_statuses.as_mut().unwrap();
    s[0].state = Some(k8s_openapi::api::core::v1::ContainerState {
        running: Some(Default::default()),
        ..Default::default()
    });
    s[0].last_state = None;
    assert!(analyse(&[p], &[], None, None).is_empty());
}

fn event(kind: &str, name: &str, type_: &str, reason: &str, message: &str) -> Event {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": format!("{name}.1"), "namespace": "egov"},
        "involvedObject": {"kind": kind, "namespace": "egov", "name": name},
        "type": type_, "reason": reason, "message": message
    }))
    .unwrap()
}

/// A pod that mounts claim `postgres-data` and has no status yet.
fn pod_with_claim() -> Pod {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": "postgres-b46d9fb88-46vhd", "namespace": "egov"},
        "spec": {"containers": [{"name": "postgres"}],
                 "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "postgres-data"}}]},
        "status": {"phase": "Pending"}
    }))
    .unwrap()
}

// Messages as kube-apiserver 1.36's scheduler and volume controller wrote
// them in tests/deploy.rs's cluster without the local-path StorageClass.
#[test]
fn a_claim_whose_storage_class_is_missing_is_named_with_the_controllers_words() {
    let events = [
        event(
            "Pod",
            "postgres-b46d9fb88-46vhd",
            "Warning",
            "FailedScheduling",
            "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. not found",
        ),
        event(
            "PersistentVolumeClaim",
            "postgres-data",
            "Warning",
            "ProvisioningFailed",
            "storageclass.storage.k8s.io \"local-path\" not found",
        ),
        // Another claim's trouble is not this pod's.
        event(
            "PersistentVolumeClaim",
            "minio-data",
            "Normal",
            "FailedBinding",
            "no persistent volumes available for this claim and no storage class is set",
        ),
    ];
    let found = analyse(&[pod_with_claim()], &events, None, None);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found[0].cause.contains("its volume claim is not bound"),
        "{}",
        found[0].cause
    );
    assert!(
        found[1].cause.contains("waits for volume claim postgres-data"),
        "{}",
        found[1].cause
    );
    assert!(found[1].hint.contains("k3s ships `local-path`"), "{}", found[1].hint);
}

#[test]
fn a_claim_with_no_storage_class_at_all_asks_for_a_default_one() {
    let events = [event(
        "PersistentVolumeClaim",
        "postgres-data",
        "Normal",
        "FailedBinding",
        "no persistent volumes available for this claim and no storage class is set",
    )];
    let found = analyse(&[pod_with_claim()], &events, None, None);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].hint.contains("no default StorageClass"), "{}", found[0].hint);
}

#[test]
fn a_component_with_no_pod_is_explained_by_its_replica_sets_failed_create() {
    let events = [
        event(
            "ReplicaSet",
            "egov-otp-6b9c7d5f8",
            "Warning",
            "FailedCreate",
            "Error creating: pods \"egov-otp-6b9c7d5f8-x\" is forbidden: exceeded quota: small, requested: pods=1, used: pods=5, limited: pods=5",
        ),
        // egov-otp-x... is not egov-otpx: only this component's ReplicaSets.
        event("ReplicaSet", "egov-otpx-1", "Warning", "FailedCreate", "other"),
    ];
    let found = no_pod_findings("egov-otp", &events);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].cause.contains("exceeded quota: small"), "{}", found[0].cause);
    assert!(
        found[0].hint.contains("kubectl describe quota -n egov"),
        "{}",
        found[0].hint
    );
    assert!(no_pod_findings("egov-user", &events).is_empty());
}
