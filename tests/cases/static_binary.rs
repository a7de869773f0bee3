//! The release binary as it ships: static musl, run in a root that holds nothing else.
//!
//! `EUREKA_HOOK_STATIC_BIN` names the binary and `EUREKA_HOOK_STATIC_TARGET` its target (default
//! x86_64-unknown-linux-musl); the test command runs these for the aarch64 binary too, under qemu.

use std::path::PathBuf;

use goblin::elf::header::{EM_AARCH64, EM_X86_64};

use crate::support::*;

/// The target the binary under test was built for.
fn static_target() -> String {
    std::env::var("EUREKA_HOOK_STATIC_TARGET")
        .ok()
        .filter(|target| !target.is_empty())
        .unwrap_or_else(|| "x86_64-unknown-linux-musl".into())
}

/// The binary `scripts/dist.sh` (through `scripts/build-static.sh`) builds; the test command
/// builds it first.
pub fn static_binary() -> PathBuf {
    let path = std::env::var_os("EUREKA_HOOK_STATIC_BIN")
        .filter(|path| !path.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join(format!("target/{}/release/eureka-hook", static_target()))
        });
    assert!(
        path.is_file(),
        "no static release binary at {}: build it with scripts/build-static.sh (scripts/test.sh does)",
        path.display()
    );
    path
}

/// The ELF machine a musl target triple runs on.
pub fn elf_machine(target: &str) -> u16 {
    match target.split('-').next() {
        Some("x86_64") => EM_X86_64,
        Some("aarch64") => EM_AARCH64,
        _ => panic!("no ELF machine known for the target {target}"),
    }
}

#[test]
#[ignore = "needs the static release binary; scripts/test.sh builds it and runs this"]
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
    assert_eq!(elf.header.e_machine, elf_machine(&static_target()));
}

#[test]
#[ignore = "needs the static release binary; scripts/test.sh builds it and runs this"]
fn release_binary_reports_its_target() {
    hook(&["--version"])
        .binary(static_binary())
        .run()
        .assert_code(0)
        .assert_stdout_contains(&format!(
            "eureka-hook {} ({})",
            env!("CARGO_PKG_VERSION"),
            static_target()
        ));
}

#[test]
#[ignore = "needs root for chroot and the static release binary; scripts/test.sh runs it"]
fn release_binary_runs_prestop_in_an_empty_root() {
    assert!(
        running_as_root(),
        "this test needs root for chroot (CI and the dev machines run as root)"
    );
    let root = std::env::temp_dir().join(format!("eureka-hook-empty-root-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    // Copied by a `cp` process, not by this one: a write descriptor open here would be inherited by
    // whatever another test thread forks meanwhile, and exec'ing the copy would then fail with
    // ETXTBSY ("Text file busy") until that child exec'd in turn.
    let copied = std::process::Command::new(find_on_path("cp"))
        .arg(static_binary())
        .arg(root.join("eureka-hook"))
        .status()
        .unwrap();
    assert!(copied.success(), "cp of the static binary failed: {copied}");
    let entries: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries, ["eureka-hook"], "the root holds only the binary");

    let double = registry_with_instance();
    // No libc, no shell, no CA store, no /etc/hosts or resolv.conf: only the binary. (An aarch64
    // binary runs through the binfmt_misc handler, whose qemu the kernel opened beforehand.)
    let outcome = hook(&[
        root.to_str().unwrap(),
        "/eureka-hook",
        "prestop",
        "--app",
        APP,
        "--drain",
        "100ms",
    ])
    .binary(find_on_path("chroot"))
    .env("EUREKA_URL", double.base_url())
    .run();
    std::fs::remove_dir_all(&root).unwrap();
    outcome
        .assert_code(0)
        .assert_stderr_contains("drain of 100ms held");
    assert_instance(&double, DEFAULT_ID, "OUT_OF_SERVICE", "OUT_OF_SERVICE");
}
