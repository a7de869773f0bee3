//! The release binary as it ships: static musl, run in a root that holds nothing else.

use std::path::PathBuf;
use std::process::Command;

use crate::support::*;

const TARGET: &str = "x86_64-unknown-linux-musl";

/// The binary `scripts/build-static.sh` builds (the test command runs it first).
fn static_binary() -> PathBuf {
    let path = std::env::var_os("EUREKA_HOOK_STATIC_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join(format!("target/{TARGET}/release/eureka-hook"))
        });
    assert!(
        path.is_file(),
        "no static release binary at {}: build it with scripts/build-static.sh (scripts/test.sh does)",
        path.display()
    );
    path
}

#[test]
fn release_binary_is_statically_linked() {
    let bytes = std::fs::read(static_binary()).unwrap();
    let elf = goblin::elf::Elf::parse(&bytes).unwrap();
    assert!(
        elf.interpreter.is_none(),
        "has a dynamic loader: {:?}",
        elf.interpreter
    );
    assert!(
        elf.libraries.is_empty(),
        "needs shared libraries: {:?}",
        elf.libraries
    );
    assert_eq!(elf.header.e_machine, goblin::elf::header::EM_X86_64);
}

#[test]
fn release_binary_reports_its_target() {
    hook(&["--version"])
        .binary(static_binary())
        .run()
        .assert_code(0)
        .assert_stdout_contains(&format!("eureka-hook 0.1.0 ({TARGET})"));
}

#[test]
fn release_binary_runs_prestop_in_an_empty_root() {
    assert!(
        Command::new("id")
            .arg("-u")
            .output()
            .map(|out| out.stdout == b"0\n")
            .unwrap_or(false),
        "this test needs root for chroot (CI and the dev machines run as root)"
    );
    let root = std::env::temp_dir().join(format!("eureka-hook-empty-root-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    std::fs::copy(static_binary(), root.join("eureka-hook")).unwrap();
    let entries: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries, ["eureka-hook"], "the root holds only the binary");

    let double = registry_with_instance();
    // No libc, no shell, no CA store, no /etc/hosts or resolv.conf: only the binary.
    let chroot = PathBuf::from("/usr/sbin/chroot");
    let outcome = hook(&[
        root.to_str().unwrap(),
        "/eureka-hook",
        "prestop",
        "--app",
        APP,
        "--drain",
        "100ms",
    ])
    .binary(chroot)
    .env("EUREKA_URL", double.base_url())
    .run();
    std::fs::remove_dir_all(&root).unwrap();
    outcome
        .assert_code(0)
        .assert_stderr_contains("drain of 100ms held");
    assert_instance(&double, DEFAULT_ID, "OUT_OF_SERVICE", "OUT_OF_SERVICE");
}
