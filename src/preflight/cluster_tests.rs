use super::*;

fn dev() -> Profile {
    crate::profile::parse(crate::profile::EMBEDDED[0].2, "dev").unwrap()
}

fn node(name: &str, cpu: u64, gib: u64) -> NodeFacts {
    NodeFacts {
        name: name.into(),
        arch: "amd64".into(),
        kubelet: "v1.36.4".into(),
        schedulable: true,
        allocatable_milli: cpu * 1000,
        allocatable_memory: gib << 30,
        used_milli: 0,
        used_memory: 0,
    }
}

fn class(name: &str, default: bool, driver: &str) -> Class {
    Class {
        name: name.into(),
        default,
        driver: driver.into(),
    }
}

fn facts(nodes: Vec<NodeFacts>) -> ClusterFacts {
    ClusterFacts {
        server_version: "v1.36.4".into(),
        nodes: Some(nodes),
        pods_counted: true,
        storage_classes: Some(vec![class("local-path", true, "rancher.io/local-path")]),
        ingress_classes: Some(vec![class("traefik", true, "traefik.io/ingress-controller")]),
        access: vec![Access {
            verb: "create".into(),
            group: "apps".into(),
            resource: "deployments".into(),
            namespaced: true,
            allowed: true,
        }],
    }
}

fn status(results: &[CheckResult], id: &str) -> (Status, String) {
    let r = results.iter().find(|r| r.id == id).unwrap();
    (r.status, r.summary.clone())
}

#[test]
fn a_cluster_that_fits_passes_every_line() {
    let f = facts(vec![node("a", 2, 4), node("b", 4, 8), node("c", 4, 16)]);
    let r = checks(&f, &dev(), &Choices::default());
    assert_eq!(r.len(), IDS.len());
    for c in &r {
        assert_eq!(c.status, Status::Pass, "{c:?}");
        assert!(IDS.contains(&c.id.as_str()));
    }
    assert!(status(&r, "storage-class").1.contains("stay on the node"), "{r:?}");
}

#[test]
fn versions_outside_the_skew_fail_and_name_what() {
    let p = dev();
    let mut f = facts(vec![node("a", 8, 32)]);
    f.server_version = "v1.33.2".into();
    let (s, text) = status(&checks(&f, &p, &Choices::default()), "cluster-version");
    assert_eq!(s, Status::Fail, "{text}");
    assert!(text.contains("too old") && text.contains("1.36"), "{text}");
    f.server_version = "v1.34.0".into();
    f.nodes = Some(vec![NodeFacts {
        kubelet: "v1.34.0".into(),
        ..node("a", 8, 32)
    }]);
    assert_eq!(
        status(&checks(&f, &p, &Choices::default()), "cluster-version").0,
        Status::Warn
    );
    f.server_version = "v1.36.1".into();
    f.nodes = Some(vec![NodeFacts {
        kubelet: "v1.32.9".into(),
        ..node("old", 8, 32)
    }]);
    let (s, text) = status(&checks(&f, &p, &Choices::default()), "cluster-version");
    assert_eq!(s, Status::Fail);
    assert!(text.contains("old (v1.32.9)"), "{text}");
}

#[test]
fn too_little_capacity_and_a_pod_larger_than_any_node_fail() {
    let p = dev();
    let (need_cpu, need_mem) = profile_requests(&p);
    // Enough in total, split over nodes each too small for the largest pod.
    let largest = p
        .components
        .iter()
        .map(|c| c.resources.requests.memory.0)
        .max()
        .unwrap();
    let per = largest - 1;
    let n = need_mem / per + 2;
    let nodes: Vec<NodeFacts> = (0..n)
        .map(|i| NodeFacts {
            allocatable_memory: per,
            allocatable_milli: need_cpu,
            ..node(&format!("n{i}"), 0, 0)
        })
        .collect();
    let r = checks(&facts(nodes), &p, &Choices::default());
    assert_eq!(status(&r, "cluster-capacity").0, Status::Pass, "{r:?}");
    let (s, text) = status(&r, "cluster-largest-pod");
    assert_eq!(s, Status::Fail);
    assert!(text.contains("more than any single node"), "{text}");

    let mut small = node("small", 1, 1);
    small.used_memory = 512 << 20;
    let (s, text) = status(
        &checks(&facts(vec![small]), &p, &Choices::default()),
        "cluster-capacity",
    );
    assert_eq!(s, Status::Fail);
    assert!(
        text.contains("memory short by") && text.contains("CPU short by"),
        "{text}"
    );
}

#[test]
fn cordoned_and_arm_nodes_do_not_count() {
    let mut arm = node("arm", 64, 256);
    arm.arch = "arm64".into();
    let mut cordoned = node("off", 64, 256);
    cordoned.schedulable = false;
    let r = checks(&facts(vec![arm, cordoned]), &dev(), &Choices::default());
    assert_eq!(status(&r, "cluster-arch").0, Status::Fail);
    assert_eq!(status(&r, "cluster-capacity").0, Status::Fail);
}

#[test]
fn storage_and_ingress_classes_follow_the_flags_and_defaults() {
    let p = dev();
    let mut f = facts(vec![node("a", 8, 32)]);
    f.storage_classes = Some(vec![class("gp3", false, "ebs.csi.aws.com")]);
    let none = Choices::default();
    let (s, _) = status(&checks(&f, &p, &none), "storage-class");
    assert_eq!(s, Status::Fail);
    let r = checks(&f, &p, &none);
    assert!(
        r.iter()
            .find(|c| c.id == "storage-class")
            .unwrap()
            .hint
            .as_deref()
            .unwrap()
            .contains("gp3")
    );
    let gp3 = Choices {
        storage_class: Some("gp3".into()),
        ..Choices::default()
    };
    assert_eq!(status(&checks(&f, &p, &gp3), "storage-class").0, Status::Pass);
    assert_eq!(chosen_storage(&f, &gp3).as_deref(), Some("gp3"));
    let missing = Choices {
        storage_class: Some("fast".into()),
        ..Choices::default()
    };
    assert_eq!(status(&checks(&f, &p, &missing), "storage-class").0, Status::Fail);

    f.ingress_classes = Some(vec![]);
    assert_eq!(status(&checks(&f, &p, &none), "ingress-class").0, Status::Warn);
    assert_eq!(chosen_ingress(&f, &none), Ingress::None);
    f.ingress_classes = Some(vec![class("nginx", false, "k8s.io/ingress-nginx")]);
    assert_eq!(chosen_ingress(&f, &none), Ingress::Class("nginx".into()));
    f.ingress_classes = Some(vec![class("nginx", false, "x"), class("alb", false, "y")]);
    assert_eq!(chosen_ingress(&f, &none), Ingress::None);
    let alb = Choices {
        ingress_class: Some("alb".into()),
        ..Choices::default()
    };
    assert_eq!(status(&checks(&f, &p, &alb), "ingress-class").0, Status::Pass);
}

#[test]
fn each_denied_permission_is_named() {
    let mut f = facts(vec![node("a", 8, 32)]);
    f.access.push(Access {
        verb: "create".into(),
        group: "rbac.authorization.k8s.io".into(),
        resource: "roles".into(),
        namespaced: true,
        allowed: false,
    });
    let (s, text) = status(&checks(&f, &dev(), &Choices::default()), "permissions");
    assert_eq!(s, Status::Fail);
    assert!(text.contains("create roles.rbac.authorization.k8s.io"), "{text}");
    assert!(text.contains("of 2 checked"), "{text}");
}
