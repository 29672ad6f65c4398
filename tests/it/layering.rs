//! The crates' dependencies point one way (ARCHITECTURE.md): a lower crate never depends on a
//! higher one, and each outside engine or framework lives in exactly one crate.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

/// The workspace crates, by layer: a crate may depend only on crates of lower layers.
const LAYERS: &[(&str, u8)] = &[
    ("calendar", 0),
    ("identity", 0),
    ("domain", 1),
    ("kv", 1),
    ("store", 2),
    ("projections", 2),
    ("render", 3),
    ("store-postgres", 3),
    ("live", 3),
    ("demo", 3),
    ("api", 4),
    ("verkstall", 5),
    ("verkstall-tests", 6),
    // What the benchmark tools share; below them, and no product crate depends on it.
    ("bench-common", 5),
    ("bench-store", 6),
    ("bench-projections", 6),
    ("bench-http", 6),
    ("bench-compare", 6),
];

/// Outside crates that may appear in one workspace crate only.
const HOMES: &[(&str, &str)] = &[
    ("redb", "kv"),
    ("sled", "kv"),
    ("clap", "verkstall"),
    ("axum", "api"),
    ("tokio-postgres", "store-postgres"),
];

/// Tools allowed beside a home, each with its reason; the product's crates keep the rule.
const TOOL_EXCEPTIONS: &[(&str, &str)] = &[
    // The baseline of issue 7: a plain PostgreSQL events table, written by a plain client.
    ("tokio-postgres", "bench-compare"),
    // The benchmark tools are command lines of their own, parsed as the product's is.
    ("clap", "bench-common"),
    ("clap", "bench-store"),
    ("clap", "bench-projections"),
    ("clap", "bench-http"),
    ("clap", "bench-compare"),
];

/// What the domain never knows: storage, async, HTTP, the command line.
const NEVER_IN_DOMAIN: &[&str] = &[
    "redb",
    "sled",
    "tokio",
    "async-trait",
    "axum",
    "clap",
    "anyhow",
    "kv",
];

fn workspace_dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(verkstall_tests::workspace_root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).unwrap();
    metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["name"].as_str().unwrap().to_owned())
                .collect();
            (p["name"].as_str().unwrap().to_owned(), deps)
        })
        .collect()
}

fn layer(name: &str) -> Option<u8> {
    LAYERS.iter().find(|(n, _)| *n == name).map(|&(_, l)| l)
}

#[test]
fn every_workspace_crate_has_a_layer() {
    for name in workspace_dependencies().keys() {
        assert!(
            layer(name).is_some(),
            "crate {name} is missing from LAYERS (and from ARCHITECTURE.md?)"
        );
    }
}

#[test]
fn dependencies_point_down() {
    let packages = workspace_dependencies();
    for (name, deps) in &packages {
        let own = layer(name).unwrap();
        for dep in deps.iter().filter(|d| packages.contains_key(*d)) {
            let theirs = layer(dep).unwrap();
            assert!(
                theirs < own,
                "{name} (layer {own}) depends on {dep} (layer {theirs})"
            );
        }
    }
}

#[test]
fn outside_engines_and_frameworks_each_live_in_one_crate() {
    for (name, deps) in workspace_dependencies() {
        for &(outside, home) in HOMES {
            let excepted = TOOL_EXCEPTIONS.contains(&(outside, name.as_str()));
            assert!(
                !deps.contains(outside) || name == home || excepted,
                "{outside} belongs in {home} only, but {name} uses it"
            );
        }
    }
}

#[test]
fn the_domain_knows_nothing_of_storage_http_or_the_command_line() {
    let packages = workspace_dependencies();
    let domain = &packages["domain"];
    for never in NEVER_IN_DOMAIN {
        assert!(!domain.contains(*never), "domain depends on {never}");
    }
}
