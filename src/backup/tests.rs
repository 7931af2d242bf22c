use super::archive::{self, Staged};
use super::*;

fn staged(dir: &Path, files: &[(&str, &[u8])]) -> (Manifest, Vec<Staged>) {
    let mut staged = Vec::new();
    for (name, bytes) in files {
        let path = dir.join(name.replace('/', "_"));
        std::fs::write(&path, bytes).unwrap();
        staged.push(Staged {
            name: (*name).to_owned(),
            path,
        });
    }
    let members = staged.iter().map(|s| archive::member_of(s).unwrap()).collect();
    let m = Manifest {
        schema: SCHEMA,
        name: "t".into(),
        created: "20261130T101010Z".into(),
        profile: "dev".into(),
        digit_release: "v2.9.2".into(),
        k3s: "v1.36.4+k3s1".into(),
        namespace: "egov".into(),
        tool: "0".into(),
        members,
    };
    (m, staged)
}

#[test]
fn an_archive_round_trips_and_its_manifest_is_the_first_member() {
    let dir = tempfile::tempdir().unwrap();
    let (m, s) = staged(
        dir.path(),
        &[
            (DATABASE, b"PGDMP..."),
            ("minio/b/o/xl.meta", b"xl"),
            (SECRETS, b"a=b\n"),
        ],
    );
    let out = dir.path().join("x.tar");
    archive::write(&out, &m, &s).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(archive::manifest(&out).unwrap(), m);
    let into = dir.path().join("u");
    assert_eq!(archive::unpack_verified(&out, &into).unwrap(), m);
    assert_eq!(std::fs::read(into.join("minio/b/o/xl.meta")).unwrap(), b"xl");
    assert_eq!(list(dir.path())[0].name, "t");
}

#[test]
fn a_changed_missing_or_added_member_is_refused_and_nothing_is_left_unpacked() {
    let dir = tempfile::tempdir().unwrap();
    let (m, s) = staged(dir.path(), &[(DATABASE, b"PGDMP-original-bytes"), (SECRETS, b"a=b\n")]);
    let out = dir.path().join("x.tar");
    archive::write(&out, &m, &s).unwrap();
    let good = std::fs::read(&out).unwrap();

    let mut bad = good.clone();
    let at = bad.windows(5).position(|w| w == b"PGDMP").unwrap() + 6;
    bad[at] = b'X';
    std::fs::write(&out, &bad).unwrap();
    let into = dir.path().join("u");
    let e = archive::unpack_verified(&out, &into).unwrap_err();
    assert!(
        matches!(&e, BackupError::Mismatch { member, .. } if member == DATABASE),
        "{e}"
    );
    assert!(!into.exists());

    // The manifest lists a member the archive lacks.
    let (mut m2, s2) = staged(dir.path(), &[(DATABASE, b"PGDMP-original-bytes")]);
    m2.members.push(Member {
        path: SECRETS.into(),
        size: 4,
        sha256: "00".repeat(32),
    });
    archive::write(&out, &m2, &s2).unwrap();
    let e = archive::unpack_verified(&out, &into).unwrap_err();
    assert!(e.to_string().contains("secrets.yaml"), "{e}");

    // A member the manifest does not list (appended after the fact).
    let (m3, _) = staged(dir.path(), &[(DATABASE, b"PGDMP-original-bytes")]);
    let file = std::fs::File::create(&out).unwrap();
    let mut tar = tar::Builder::new(file);
    let doc = serde_json::to_vec(&m3).unwrap();
    for (name, bytes) in [
        (MANIFEST, doc.as_slice()),
        (DATABASE, b"PGDMP-original-bytes"),
        ("extra", b"x"),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o600);
        tar.append_data(&mut h, name, bytes).unwrap();
    }
    tar.finish().unwrap();
    drop(tar);
    let e = archive::unpack_verified(&out, &into).unwrap_err();
    assert!(
        matches!(&e, BackupError::BadMember { member, .. } if member == "extra"),
        "{e}"
    );
    assert!(!into.exists());
}

#[test]
fn names_that_could_escape_the_folder_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (mut m, s) = staged(dir.path(), &[(DATABASE, b"x")]);
    m.members[0].path = "../../etc/passwd".into();
    let out = dir.path().join("x.tar");
    // Written by hand: the writer trusts its caller, the reader does not.
    let file = std::fs::File::create(&out).unwrap();
    let mut tar = tar::Builder::new(file);
    let doc = serde_json::to_vec(&m).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_size(doc.len() as u64);
    h.set_mode(0o600);
    tar.append_data(&mut h, MANIFEST, doc.as_slice()).unwrap();
    tar.finish().unwrap();
    let _ = s;
    let e = archive::manifest(&out).unwrap_err();
    assert!(matches!(e, BackupError::BadMember { .. }), "{e}");
    for bad in ["", ".hidden", "a/b", "x y", "ä"] {
        assert!(check_name(bad).is_err(), "{bad}");
    }
    for good in ["lesson-3", "before_upgrade", "dev-20261130T101010Z", "v1.2"] {
        assert!(check_name(good).is_ok(), "{good}");
    }
}

#[test]
fn a_backup_for_another_profile_or_release_is_named_as_such() {
    let p = crate::profile::parse(crate::profile::EMBEDDED[0].2, "dev").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (mut m, _) = staged(dir.path(), &[]);
    m.digit_release = p.digit.release.clone();
    assert!(check_fits(Path::new("x.tar"), &m, &p).is_ok());
    m.digit_release = "v2.8".into();
    let e = check_fits(Path::new("x.tar"), &m, &p).unwrap_err();
    assert!(
        e.to_string().contains("DIGIT v2.8") && e.to_string().contains(&p.digit.release),
        "{e}"
    );
    m.profile = "other".into();
    let e = check_fits(Path::new("x.tar"), &m, &p).unwrap_err();
    assert!(e.to_string().contains("profile `other`"), "{e}");
}

#[test]
fn the_password_statement_quotes_what_it_is_given() {
    assert_eq!(
        cluster::set_password_sql("egov", "a'b\"c"),
        "ALTER ROLE \"egov\" PASSWORD 'a''b\"c';\n\\q\n"
    );
    assert_eq!(
        cluster::set_password_sql("e\"v", "p"),
        "ALTER ROLE \"e\"\"v\" PASSWORD 'p';\n\\q\n"
    );
}
