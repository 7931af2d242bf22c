//! The real-VM workflow cannot run here; keep it correct: GitHub's workflow
//! schema (check-jsonschema's vendored copy, offline) and the steps the
//! issue asks for, in order.
#![allow(clippy::disallowed_methods)]

use std::process::Command;

const WORKFLOW: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/.github/workflows/e2e.yml");

#[test]
fn the_e2e_workflow_matches_githubs_schema() {
    let out = Command::new("check-jsonschema")
        .args(["--builtin-schema", "vendor.github-workflows", WORKFLOW])
        .output()
        .expect("check-jsonschema is installed by .ci/run (pip install check-jsonschema)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The checker can fail: an unknown key under a job is rejected.
    let bad = std::env::temp_dir().join(format!("bad-workflow-{}.yml", std::process::id()));
    std::fs::write(
        &bad,
        "on: push\njobs:\n  a:\n    runs-onn: ubuntu-24.04\n    steps: [{run: true}]\n",
    )
    .unwrap();
    let out = Command::new("check-jsonschema")
        .args(["--builtin-schema", "vendor.github-workflows"])
        .arg(&bad)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&bad);
    assert!(!out.status.success());
}

#[test]
fn the_e2e_workflow_runs_the_whole_lifecycle_in_order() {
    let text = std::fs::read_to_string(WORKFLOW).unwrap();
    let doc: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    let steps = doc["jobs"]["install"]["steps"].as_array().unwrap();
    let runs: Vec<String> = steps
        .iter()
        .map(|s| s["run"].as_str().unwrap_or(s["uses"].as_str().unwrap_or("")).to_owned())
        .collect();
    let at = |needle: &str| {
        runs.iter()
            .position(|r| r.contains(needle))
            .unwrap_or_else(|| panic!("no step runs `{needle}`"))
    };
    let order = [
        "crt-static",
        "digit-quickstart install --yes",
        "digit-quickstart status",
        "skipped 4 completed steps",
        "reset --redeploy --yes",
        "doctor --dir",
        "upload-artifact",
        "uninstall --yes",
    ];
    let positions: Vec<usize> = order.iter().map(|n| at(n)).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{order:?} at {positions:?}");
    assert_eq!(doc["jobs"]["install"]["runs-on"], "ubuntu-24.04");
}

const RELEASE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/.github/workflows/release.yml");

#[test]
fn the_release_workflow_matches_githubs_schema_and_runs_scripts_release() {
    let out = Command::new("check-jsonschema")
        .args(["--builtin-schema", "vendor.github-workflows", RELEASE])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let text = std::fs::read_to_string(RELEASE).unwrap();
    let doc: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    assert_eq!(doc["on"]["push"]["tags"][0], "v*.*.*");
    let job = &doc["jobs"]["release"];
    for p in ["contents", "id-token", "attestations"] {
        assert_eq!(job["permissions"][p], "write", "{p}");
    }
    let steps = job["steps"].as_array().unwrap();
    let all: Vec<String> = steps.iter().map(|s| s.to_string()).collect();
    let at = |needle: &str| {
        all.iter()
            .position(|r| r.contains(needle))
            .unwrap_or_else(|| panic!("no step with `{needle}`"))
    };
    let order = [
        "cargo install cargo-auditable",
        "minisign -R",
        "scripts/release",
        "actions/attest-build-provenance@",
        "gh release create",
    ];
    let positions: Vec<usize> = order.iter().map(|n| at(n)).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{order:?} at {positions:?}");
    // The release's install.sh names this repository's release URL.
    assert!(text.contains("https://github.com/${{ github.repository }}/releases/download/${{ github.ref_name }}"));
}

#[test]
fn every_third_party_action_is_pinned_by_a_full_commit_sha() {
    for file in [WORKFLOW, RELEASE] {
        let text = std::fs::read_to_string(file).unwrap();
        let uses: Vec<&str> = text
            .lines()
            .filter_map(|l| l.trim().trim_start_matches("- ").strip_prefix("uses: "))
            .collect();
        assert!(!uses.is_empty(), "{file}");
        for u in uses {
            let (_, reference) = u.split_once('@').unwrap_or_else(|| panic!("{file}: `{u}` has no @ref"));
            assert!(
                reference.len() == 40 && reference.chars().all(|c| c.is_ascii_hexdigit()),
                "{file}: `{u}` is not pinned by commit sha"
            );
        }
    }
}
