//! The release files `scripts/dist.sh` writes: SHA256SUMS checks out with the command the README
//! gives users, and each binary carries the crate list vulnerability scanners read (`.dep-v0`).
//!
//! `EUREKA_HOOK_DIST_DIR` names the folder; the test command writes it and sets the variable.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use auditable_info::{Limits, audit_info_from_file};
use auditable_serde::DependencyKind;

use super::static_binary::elf_machine;

const TARGETS: [&str; 2] = ["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"];

fn dist_dir() -> PathBuf {
    let dir = std::env::var_os("EUREKA_HOOK_DIST_DIR")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .expect("EUREKA_HOOK_DIST_DIR is not set: run scripts/dist.sh and point it at dist/ (scripts/test.sh does)");
    assert!(dir.is_dir(), "{} is not a folder", dir.display());
    dir
}

fn binary_name(target: &str) -> String {
    format!("eureka-hook-{}-{target}", env!("CARGO_PKG_VERSION"))
}

#[test]
#[ignore = "needs dist/ from scripts/dist.sh; scripts/test.sh runs it"]
fn sha256sums_lists_every_binary_and_checks_out_with_sha256sum() {
    let dir = dist_dir();
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    let listed: BTreeSet<&str> = sums
        .lines()
        .map(|line| line.split_once("  ").expect("`<sha256>  <name>` lines").1)
        .collect();
    let expected: BTreeSet<String> = TARGETS.iter().map(|target| binary_name(target)).collect();
    assert_eq!(
        listed,
        expected.iter().map(String::as_str).collect(),
        "SHA256SUMS:\n{sums}"
    );

    let check = Command::new("sha256sum")
        .args(["--check", "--strict", "SHA256SUMS"])
        .current_dir(&dir)
        .output()
        .expect("sha256sum (coreutils) runs");
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success(),
        "sha256sum -c failed:\n{report}{}",
        String::from_utf8_lossy(&check.stderr)
    );
    for name in &expected {
        assert!(report.contains(&format!("{name}: OK")), "{report}");
    }
}

#[test]
#[ignore = "needs dist/ from scripts/dist.sh; scripts/test.sh runs it"]
fn each_binary_is_static_for_its_target_and_carries_its_crate_list() {
    let dir = dist_dir();
    for target in TARGETS {
        let path = dir.join(binary_name(target));
        let bytes = std::fs::read(&path)
            .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
        let elf = goblin::elf::Elf::parse(&bytes).unwrap();
        assert_eq!(elf.header.e_machine, elf_machine(target), "{target}");
        assert!(
            elf.interpreter.is_none() && elf.libraries.is_empty(),
            "{target} is not static"
        );

        let audit = audit_info_from_file(&path, Limits::default())
            .unwrap_or_else(|err| panic!("no crate list in {}: {err}", path.display()));
        let root: Vec<_> = audit
            .packages
            .iter()
            .filter(|package| package.root)
            .collect();
        assert_eq!(root.len(), 1, "{target}: one root package");
        assert_eq!(root[0].name, "eureka-hook");
        assert_eq!(root[0].version.to_string(), env!("CARGO_PKG_VERSION"));
        let shipped: BTreeSet<&str> = audit
            .packages
            .iter()
            .filter(|package| package.kind == DependencyKind::Runtime)
            .map(|package| package.name.as_str())
            .collect();
        for name in ["ureq", "rustls", "clap", "ring", "webpki-roots"] {
            assert!(
                shipped.contains(name),
                "{target}: {name} is missing from {shipped:?}"
            );
        }
        // Test-only crates are not in the binary, so they are not in its list either.
        for name in ["tiny_http", "goblin", "eureka-double"] {
            assert!(!shipped.contains(name), "{target}: lists {name}");
        }
    }
}
