//! Table-driven checks over injected facts: each check's pass/warn/fail boundary.

use super::*;
use crate::host::facts::{Existing, PortState, Reachability};
use crate::profile::Profile;

fn dev() -> Profile {
    crate::profile::parse(crate::profile::EMBEDDED[0].2, "embedded:dev").unwrap()
}

fn ready() -> HostFacts {
    serde_json::from_str(include_str!("../../tests/fixtures/host-ready.json")).unwrap()
}

#[track_caller]
fn status_of(facts: &HostFacts, id: &str) -> Status {
    let pre = evaluate(facts, &dev(), &[]);
    pre.get(id).unwrap_or_else(|| panic!("no check {id}")).status
}

#[track_caller]
fn check_of(facts: &HostFacts, id: &str) -> CheckResult {
    evaluate(facts, &dev(), &[]).get(id).cloned().unwrap()
}

#[test]
fn a_ready_vm_passes_every_check() {
    let pre = evaluate(&ready(), &dev(), &[]);
    let not_pass: Vec<_> = pre.checks.iter().filter(|c| c.status != Status::Pass).collect();
    assert!(not_pass.is_empty(), "{not_pass:#?}");
    assert!(pre.sizing.fits);
    let ids: Vec<&str> = pre.checks.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, check_ids(&dev()), "one result per known check id, in report order");
}

#[test]
fn cpu_fails_below_min_warns_below_recommended() {
    for (cpus, want) in [
        (1, Status::Fail),
        (2, Status::Warn),
        (3, Status::Warn),
        (4, Status::Pass),
        (16, Status::Pass),
    ] {
        let mut f = ready();
        f.cpus = cpus;
        assert_eq!(status_of(&f, "cpu"), want, "{cpus} cpus");
    }
}

#[test]
fn memory_fails_below_min_warns_below_recommended_or_when_little_is_free() {
    let gib = 1u64 << 30;
    let cases = [
        (6 * gib - 1, 6 * gib - 1, Status::Fail),
        (6 * gib, 6 * gib, Status::Warn),
        (7 * gib - 1, 7 * gib - 1, Status::Warn),
        (7 * gib, 7 * gib, Status::Pass),
        (16 * gib, 2 * gib, Status::Warn), // plenty installed, but others use it
    ];
    for (total, available, want) in cases {
        let mut f = ready();
        f.memory.total = total;
        f.memory.available = available;
        assert_eq!(status_of(&f, "memory"), want, "total {total} available {available}");
    }
}

#[test]
fn disk_passes_at_exactly_need_plus_headroom_and_fails_one_byte_short() {
    let f = ready();
    let pre = evaluate(&f, &dev(), &[]);
    let fs = &pre.sizing.filesystems[0];
    assert_eq!(
        fs.roles,
        vec!["data-dir", "rancher"],
        "one shared filesystem is charged once"
    );
    assert!(
        check_of(&f, "disk-data")
            .summary
            .contains("same filesystem as /var/lib/rancher")
    );
    assert!(
        check_of(&f, "disk-rancher")
            .summary
            .contains("same filesystem as the data dir")
    );
    let exact = fs.needed + fs.headroom;
    for (available, want) in [(exact, Status::Pass), (exact - 1, Status::Fail)] {
        let mut f = ready();
        for d in &mut f.disks {
            d.available = available;
        }
        assert_eq!(status_of(&f, "disk-rancher"), want);
        assert_eq!(status_of(&f, "disk-data"), want);
        assert_eq!(status_of(&f, "sizing"), want);
    }
}

#[test]
fn separate_filesystems_are_judged_separately() {
    let mut f = ready();
    f.disks[0].device = 7;
    f.disks[0].available = 1 << 30; // 1 GiB for the data dir: too little for the image store
    let pre = evaluate(&f, &dev(), &[]);
    assert_eq!(pre.sizing.filesystems.len(), 2);
    assert_eq!(pre.get("disk-data").unwrap().status, Status::Fail);
    assert_eq!(pre.get("disk-rancher").unwrap().status, Status::Pass);
    assert!(
        pre.get("disk-data")
            .unwrap()
            .hint
            .as_ref()
            .unwrap()
            .starts_with("free ")
    );
}

#[test]
fn an_unmeasurable_disk_fails_naming_the_path() {
    let mut f = ready();
    f.disks[1].error = Some("Permission denied (os error 13)".into());
    let c = check_of(&f, "disk-rancher");
    assert_eq!(c.status, Status::Fail);
    assert!(
        c.summary.contains("/var/lib") && c.summary.contains("Permission denied"),
        "{}",
        c.summary
    );
}

#[test]
fn sizing_says_in_one_line_by_how_much_memory_and_cpu_miss() {
    let mut f = ready();
    f.memory.total = 4 << 30;
    f.cpus = 1;
    let c = check_of(&f, "sizing");
    assert_eq!(c.status, Status::Fail);
    assert!(!c.summary.contains('\n'));
    assert!(
        c.summary
            .starts_with("profile dev does not fit this host: memory short by "),
        "{}",
        c.summary
    );
    assert!(c.summary.contains("CPU short by "), "{}", c.summary);
    let pre = evaluate(&f, &dev(), &[]);
    let want_short = pre.sizing.memory.needed - (4 << 30);
    assert!(c.summary.contains(&crate::profile::quantity::human_bytes(want_short)));
}

#[test]
fn sizing_warns_when_requests_fit_but_limits_do_not() {
    let mut f = ready();
    let pre = evaluate(&f, &dev(), &[]);
    // Between the request total and the limit total.
    f.memory.total = (pre.sizing.memory.needed + pre.sizing.memory.needed_at_limits) / 2;
    f.memory.available = f.memory.total;
    assert!(pre.sizing.memory.needed < pre.sizing.memory.needed_at_limits);
    let c = check_of(&f, "sizing");
    assert_eq!(c.status, Status::Warn, "{}", c.summary);
    assert!(c.summary.contains("exceed memory"));
}

#[test]
fn systemd_route_cgroup_and_arch_fail_with_hints() {
    let mut f = ready();
    f.init.systemd = false;
    f.init.pid1 = "bash".into();
    f.route.ipv4_default = false;
    f.cgroup.memory_controller = false;
    f.arch = "arm64".into();
    let pre = evaluate(&f, &dev(), &[]);
    for id in ["systemd", "default-route", "memory-cgroup", "arch"] {
        let c = pre.get(id).unwrap();
        assert_eq!(c.status, Status::Fail, "{id}");
        assert!(c.hint.is_some(), "{id} has a fix hint");
    }
    assert!(pre.get("systemd").unwrap().summary.contains("PID 1 is `bash`"));
    f.route.ipv6_default = true;
    assert_eq!(status_of(&f, "default-route"), Status::Pass);
}

#[test]
fn hostnames_are_judged_as_kubernetes_node_names() {
    for (name, want) in [
        ("digit-vm", Status::Pass),
        ("vm1.example.org", Status::Pass),
        ("Digit-VM", Status::Warn),
        ("digit_vm", Status::Fail),
        ("-vm", Status::Fail),
        ("", Status::Fail),
    ] {
        let mut f = ready();
        f.hostname = name.into();
        assert_eq!(status_of(&f, "hostname"), want, "{name:?}");
    }
    let long = "a".repeat(64);
    let mut f = ready();
    f.hostname = long;
    assert_eq!(status_of(&f, "hostname"), Status::Fail);
}

#[test]
fn swap_warns_and_os_outside_the_tested_list_warns() {
    let mut f = ready();
    f.memory.swap_total = 2 << 30;
    assert_eq!(status_of(&f, "swap"), Status::Warn);
    for (id, version, want) in [
        ("debian", "12", Status::Pass),
        ("ubuntu", "24.04", Status::Pass),
        ("rocky", "9.4", Status::Pass),
        ("ubuntu", "18.04", Status::Warn),
        ("arch", "", Status::Warn),
        ("", "", Status::Warn),
    ] {
        let mut f = ready();
        f.os.id = id.into();
        f.os.version_id = version.into();
        assert_eq!(status_of(&f, "os"), want, "{id} {version}");
    }
}

#[test]
fn ports_tell_apart_owner_known_owner_unknown_untestable_and_our_k3s() {
    let set = |state: PortState| {
        let mut f = ready();
        f.ports[2].state = state;
        f
    };
    let c = check_of(
        &set(PortState::InUse {
            pid: Some(812),
            process: Some("nginx".into()),
        }),
        "port-6443",
    );
    assert_eq!(c.status, Status::Fail);
    assert_eq!(c.summary, "TCP port 6443 is in use by PID 812 (nginx)");
    let c = check_of(
        &set(PortState::InUse {
            pid: None,
            process: None,
        }),
        "port-6443",
    );
    assert_eq!(c.summary, "TCP port 6443 is in use by another process");
    assert!(c.hint.unwrap().contains("ss -ltnp"));
    let c = check_of(
        &set(PortState::Unknown {
            error: "Permission denied (os error 13)".into(),
        }),
        "port-6443",
    );
    assert_eq!(c.status, Status::Warn);
    assert!(c.summary.contains("could not be tested: Permission denied"));

    let mut ours = set(PortState::InUse {
        pid: Some(99),
        process: Some("k3s-server".into()),
    });
    assert_eq!(
        status_of(&ours, "port-6443"),
        Status::Fail,
        "a k3s we did not install is not ours"
    );
    ours.existing.push(Existing {
        kind: "k3s".into(),
        path: "/usr/local/bin/k3s".into(),
        ours: true,
        active: Some(true),
    });
    assert_eq!(status_of(&ours, "port-6443"), Status::Info);
    assert_eq!(status_of(&ours, "existing-kubernetes"), Status::Info);
}

#[test]
fn a_foreign_kubernetes_or_docker_engine_warns() {
    let mut f = ready();
    f.existing.push(Existing {
        kind: "docker".into(),
        path: "/usr/bin/dockerd".into(),
        ours: false,
        active: Some(true),
    });
    let c = check_of(&f, "existing-kubernetes");
    assert_eq!(c.status, Status::Warn);
    assert_eq!(c.summary, "found docker at /usr/bin/dockerd, running");
}

#[test]
fn offline_hosts_warn_and_skipped_probes_are_info() {
    let mut f = ready();
    f.network = Some(vec![
        Reachability {
            purpose: "registry".into(),
            host: "registry-1.docker.io".into(),
            url: "https://registry-1.docker.io/v2/".into(),
            dns: Err("Name or service not known".into()),
            http: Err("not attempted: DNS failed".into()),
        },
        Reachability {
            purpose: "k3s-download".into(),
            host: "github.com".into(),
            url: "https://github.com/".into(),
            dns: Ok(vec!["140.82.121.4".into()]),
            http: Ok(503),
        },
    ]);
    let pre = evaluate(&f, &dev(), &[]);
    assert_eq!(pre.get("registry-dns").unwrap().status, Status::Warn);
    assert_eq!(pre.get("registry-https").unwrap().status, Status::Warn);
    assert_eq!(pre.get("k3s-download").unwrap().status, Status::Warn);
    assert!(!pre.failed(), "being offline alone does not fail the check");
    f.network = None;
    assert_eq!(status_of(&f, "registry-https"), Status::Info);
}

#[test]
fn ignore_check_turns_only_the_named_failures_into_warnings() {
    let mut f = ready();
    f.init.systemd = false;
    f.cpus = 1;
    let pre = evaluate(&f, &dev(), &["systemd".into(), "swap".into()]);
    let s = pre.get("systemd").unwrap();
    assert_eq!((s.status, s.ignored), (Status::Warn, true));
    assert_eq!(pre.get("cpu").unwrap().status, Status::Fail);
    assert!(
        !pre.get("swap").unwrap().ignored,
        "a passing check is not marked ignored"
    );
    assert!(pre.failed());
}

#[test]
fn thresholds_come_from_the_profile() {
    let yaml = crate::profile::EMBEDDED[0]
        .2
        .replace("cpus: {min: 2, recommended: 4}", "cpus: {min: 8, recommended: 16}");
    let big = crate::profile::parse(&yaml, "t").unwrap();
    let pre = evaluate(&ready(), &big, &[]);
    assert_eq!(pre.get("cpu").unwrap().status, Status::Fail);
    assert!(pre.get("cpu").unwrap().summary.contains("profile needs 8"));
}

#[test]
fn the_docker_hub_quota_is_compared_with_the_pulls_this_install_needs() {
    use crate::host::facts::Quota;
    use crate::images::ratelimit::{Limits, parse_window};
    let with = |remaining: &str, needed: usize| {
        let mut f = ready();
        f.pulls_needed = needed;
        f.quota = Some(Quota {
            url: "u".into(),
            limits: Ok(Limits {
                status: 200,
                retry_after_secs: None,
                limit: parse_window("100;w=21600"),
                remaining: parse_window(remaining),
            }),
        });
        check_of(&f, "registry-quota")
    };
    let c = with("76;w=21600", 36);
    assert_eq!(c.status, Status::Pass);
    assert_eq!(
        c.summary,
        "Docker Hub: 76 of 100 pulls left per 6 h for this address; this install needs 36"
    );
    assert_eq!(with("36;w=21600", 36).status, Status::Pass);
    let c = with("35;w=21600", 36);
    assert_eq!(c.status, Status::Warn);
    assert!(
        c.hint
            .unwrap()
            .contains("the quota refills within 6 h; a classroom behind one NAT shares it")
    );
    assert_eq!(with("0;w=21600", 0).status, Status::Pass, "a warm store needs no pulls");
    let mut f = ready();
    f.quota = None;
    assert_eq!(check_of(&f, "registry-quota").status, Status::Info);
    f.quota = Some(Quota {
        url: "u".into(),
        limits: Ok(Limits {
            status: 200,
            ..Limits::default()
        }),
    });
    assert_eq!(
        check_of(&f, "registry-quota").summary,
        "Docker Hub reports no pull limit for this address"
    );
}

#[test]
fn after_a_pull_disk_sizing_uses_the_measured_bytes_and_what_is_already_stored() {
    let estimate = evaluate(&ready(), &dev(), &[]).sizing;
    let mut f = ready();
    f.measured_images = Some(crate::host::facts::MeasuredImages {
        compressed: 2 << 30,
        missing: 0,
        unpacked: None,
    });
    let measured = evaluate(&f, &dev(), &[]).sizing;
    assert!(measured.images.measured && !estimate.images.measured);
    assert_eq!(measured.images.compressed, 2 << 30);
    assert_eq!(measured.images.to_download, 0);
    // Without every layer's own size, unpacked scales with the profile's ratio.
    let ratio = estimate.images.unpacked as f64 / estimate.images.compressed as f64;
    assert_eq!(measured.images.unpacked, ((2u64 << 30) as f64 * ratio) as u64);
    assert!(measured.filesystems[0].needed < estimate.filesystems[0].needed);
    // With them (gzip trailers of the stored layers), their sum.
    f.measured_images.as_mut().unwrap().unpacked = Some(5 << 30);
    assert_eq!(evaluate(&f, &dev(), &[]).sizing.images.unpacked, 5 << 30);
}

#[test]
fn images_fail_naming_each_missing_tag_or_digest_and_warn_when_not_asked() {
    use crate::images::probe::{ImagesProbe, MissingImage};
    let mut f = ready();
    assert_eq!(status_of(&f, "images"), Status::Pass);
    let missing = |image: &str, what: &str, wanted: &str| MissingImage {
        image: image.into(),
        what: what.into(),
        wanted: wanted.into(),
    };
    f.images = Some(ImagesProbe {
        registry: "docker.io".into(),
        checked: 36,
        by_digest: false,
        missing: vec![
            missing("docker.io/egovio/a:v1", "tag", "v1"),
            missing("docker.io/egovio/b:v2", "tag", "v2"),
        ],
        unreachable: None,
    });
    let c = check_of(&f, "images");
    assert_eq!(c.status, Status::Fail);
    assert_eq!(
        c.summary,
        "2 of 36 image tags do not exist on docker.io: docker.io/egovio/a:v1 (tag v1 not found); docker.io/egovio/b:v2 (tag v2 not found)"
    );
    assert!(c.hint.unwrap().contains("pin tags that exist"));
    // A missing image outweighs a registry that answered only in part.
    f.images.as_mut().unwrap().unreachable = Some("timeout".into());
    assert_eq!(status_of(&f, "images"), Status::Fail);
    f.images.as_mut().unwrap().missing.clear();
    let c = check_of(&f, "images");
    assert_eq!(c.status, Status::Warn);
    assert!(
        c.summary
            .contains("could not ask docker.io whether the 36 images exist: timeout")
    );
    f.images = None;
    assert_eq!(status_of(&f, "images"), Status::Info);
}

#[test]
fn k3s_support_warns_from_60_days_before_end_of_life_and_after_it() {
    let mut f = ready();
    for (today, want, words) in [
        (
            "2026-11-30",
            Status::Pass,
            "supported upstream until 2027-06-28 (210 days)",
        ),
        (
            "2027-04-28",
            Status::Pass,
            "in maintenance upstream until 2027-06-28 (61 days)",
        ),
        (
            "2027-04-29",
            Status::Warn,
            "reaches upstream end of life on 2027-06-28 (60 days)",
        ),
        (
            "2027-05-01",
            Status::Warn,
            "reaches upstream end of life on 2027-06-28 (58 days)",
        ),
        ("2027-06-28", Status::Warn, "(0 days)"),
        ("2027-06-29", Status::Warn, "reached upstream end of life on 2027-06-28"),
    ] {
        f.today = Some(today.into());
        let c = check_of(&f, "k3s-support");
        assert_eq!(c.status, want, "{today}: {}", c.summary);
        assert!(c.summary.contains(words), "{today}: {}", c.summary);
    }
    f.today = None;
    assert_eq!(status_of(&f, "k3s-support"), Status::Info);
}

#[test]
fn dates_convert_both_ways() {
    use crate::host::facts::{date_of, days_from_date};
    for date in ["1970-01-01", "2000-02-29", "2026-11-30", "2027-06-28", "2100-03-01"] {
        let days = days_from_date(date).unwrap();
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(days as u64 * 86_400 + 3_600);
        assert_eq!(date_of(t), date);
    }
    assert_eq!(days_from_date("1970-01-02"), Some(1));
    assert_eq!(
        days_from_date("2027-6-28").map(|d| d - days_from_date("2026-11-30").unwrap()),
        Some(210)
    );
    assert_eq!(days_from_date("2027-13-01"), None);
    assert_eq!(days_from_date("tomorrow"), None);
}
