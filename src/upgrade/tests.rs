use super::*;

fn dev_text() -> &'static str {
    crate::profile::EMBEDDED[0].2
}

/// dev with one image changed (egov-otp's app), one added (a new
/// component), and the k3s patch bumped.
pub fn upgraded(text: &str) -> String {
    let t = text
        .replace(
            "docker.io/egovio/egov-otp:v2.9.2-4a60f20",
            "docker.io/egovio/egov-otp:v2.9.3-5b71f31",
        )
        .replace("version: v1.36.4+k3s1", "version: v1.36.5+k3s1");
    format!(
        "{t}  - name: digit-docs\n    description: \"docs\"\n    kind: ui\n    images:\n      - {{ref: docker.io/egovio/digit-docs:v1, role: app, compressed: 10Mi, unpacked: 30Mi}}\n    resources:\n      requests: {{cpu: 10m, memory: 32Mi}}\n      limits: {{memory: 32Mi}}\n    ports: [80]\n"
    )
}

#[test]
fn the_plan_diff_names_each_image_object_seed_and_version_that_changes() {
    let old = crate::profile::parse(dev_text(), "dev").unwrap();
    let new = crate::profile::parse(&upgraded(dev_text()), "dev-next").unwrap();
    let d = diff(&old, &new);
    assert_eq!(d.k3s, Some(("v1.36.4+k3s1".into(), "v1.36.5+k3s1".into())));
    assert_eq!(d.images_added, vec!["docker.io/egovio/digit-docs:v1".to_owned()]);
    assert_eq!(d.images_changed.len(), 1);
    assert!(
        d.objects_changed.contains(&"Deployment/egov-otp".to_owned()),
        "{:?}",
        d.objects_changed
    );
    assert!(d.objects_added.contains(&"Deployment/digit-docs".to_owned()));
    assert!(d.images_removed.is_empty() && d.objects_removed.is_empty());
    insta::assert_snapshot!(render(&d));
    // The same profile: nothing to do.
    assert!(diff(&old, &old).is_empty());
    assert_eq!(render(&diff(&old, &old)), "no change\n");
}

#[test]
fn k3s_moves_one_minor_at_a_time_and_never_back() {
    assert!(check_k3s_step("v1.36.4+k3s1", "v1.36.5+k3s1").is_ok());
    assert!(check_k3s_step("v1.36.4+k3s1", "v1.37.0+k3s1").is_ok());
    assert!(check_k3s_step("v1.36.4+k3s1", "v1.36.4+k3s1").is_ok());
    assert!(matches!(
        check_k3s_step("v1.36.4+k3s1", "v1.38.1+k3s1"),
        Err(UpgradeError::MinorJump { .. })
    ));
    assert!(matches!(
        check_k3s_step("v1.36.4+k3s1", "v1.35.9+k3s1"),
        Err(UpgradeError::Downgrade { .. })
    ));
    assert!(matches!(
        check_k3s_step("v1.36.4+k3s1", "latest"),
        Err(UpgradeError::BadVersion(_))
    ));
    assert_eq!(k3s_triple("v1.36.4+k3s1"), Some((1, 36, 4)));
}
