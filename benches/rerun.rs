//! Re-run benchmark: the second `install` on a healthy host (every step
//! journaled, nothing to do). The world is the whole-install test world
//! (real registry, Debian's containerd, the real control plane as k3s's
//! cluster, a fake DIGIT); the binary is the release build given in
//! DIGIT_QUICKSTART_BIN (default: cargo's own). A benchmark, not a test:
//! it reports the times and whether they meet the 1 s target.
//!
//!   DIGIT_QUICKSTART_BIN=target/x86_64-unknown-linux-gnu/release/digit-quickstart \
//!     DIGIT_QUICKSTART_CONTROL_PLANE=$(scripts/control-plane) cargo bench --bench rerun
#![allow(clippy::disallowed_methods, clippy::print_stdout)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

fn main() {
    let mut w = support::world::world();
    if let Some(bin) = std::env::var_os("DIGIT_QUICKSTART_BIN") {
        w.bin = std::path::PathBuf::from(bin);
    }
    let first = support::world::install(&w, &[]);
    assert_eq!(first.status.code(), Some(0), "{}", support::world::text(&first).1);
    let mut times = Vec::new();
    for _ in 0..9 {
        let start = Instant::now();
        let wall = std::time::SystemTime::now();
        let out = support::world::install(&w, &[]);
        times.push(start.elapsed().as_secs_f64());
        if std::env::var_os("DQ_BENCH_KEEP").is_some() {
            let since = wall.duration_since(std::time::UNIX_EPOCH).unwrap();
            println!(
                "  run started at {}.{:06} took {:.3} s",
                since.as_secs(),
                since.subsec_micros(),
                start.elapsed().as_secs_f64()
            );
        }
        let (_, stderr) = support::world::text(&out);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(stderr.contains("skipped 4 completed steps"), "{stderr}");
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "second install, healthy host, {} runs: median {:.2} s, min {:.2} s, max {:.2} s ({})",
        times.len(),
        median,
        times[0],
        times[times.len() - 1],
        w.bin.display()
    );
    println!("target <= 1 s: {}", if median <= 1.0 { "met" } else { "MISSED" });
    // Where the last run's time went, from its report.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(w.data.join("report.json")).unwrap()).unwrap();
    for p in report["phases"].as_array().into_iter().flatten() {
        println!(
            "  {:10} {:8} {:.2} s",
            p["id"].as_str().unwrap_or(""),
            p["state"].as_str().unwrap_or(""),
            p["seconds"].as_f64().unwrap_or(0.0)
        );
    }
    println!("  started {} finished {}", report["started_at"], report["finished_at"]);
    if std::env::var_os("DQ_BENCH_KEEP").is_some() {
        println!("  kept: {}", w.data.display());
        std::mem::forget(w);
    }
}
