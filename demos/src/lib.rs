//! What the demo programs (this crate's examples) share: where the repository is, how they build
//! the hook they run, and where their results go unless they are asked to update the committed
//! ones under `docs/`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root (this crate sits in `demos/` inside it).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from(".."), Path::to_path_buf)
}

/// The variables `cargo run` gives the program it runs about its package (`CARGO_PKG_*`,
/// `CARGO_MANIFEST_*`, …), as opposed to cargo's own settings (`CARGO_HOME`, `CARGO_TARGET_DIR`).
fn set_by_cargo_run(name: &OsStr) -> bool {
    let name = name.to_string_lossy();
    ["CARGO_PKG_", "CARGO_MANIFEST_"]
        .iter()
        .any(|prefix| name.starts_with(prefix))
        || [
            "CARGO_CRATE_NAME",
            "CARGO_BIN_NAME",
            "CARGO_PRIMARY_PACKAGE",
        ]
        .contains(&&*name)
}

/// A command for cargo, or for a script that runs it, started from an example under `cargo run`,
/// without the variables `cargo run` gives the example about its package: ring's build script
/// tracks several (`CARGO_PKG_NAME`, `CARGO_MANIFEST_DIR`), so a nested build that inherits the
/// demos' values would rebuild ring and everything above it (the release files in `dist/`
/// included), and the next plain build again.
pub fn nested_cargo(program: impl AsRef<OsStr>) -> Command {
    let mut command = Command::new(program);
    for (name, _) in std::env::vars_os().filter(|(name, _)| set_by_cargo_run(name)) {
        command.env_remove(name);
    }
    command
}

/// The `cargo build` that builds `eureka-hook` in the running example's profile, and the path of
/// the binary it writes; the caller runs it (with its own time bound, if any).
pub fn hook_build() -> Result<(Command, PathBuf), String> {
    let example = std::env::current_exe()
        .map_err(|err| format!("cannot locate this example's binary: {err}"))?;
    // target/<profile>/examples/<name> -> target/<profile>/eureka-hook
    let profile_dir = example
        .parent()
        .and_then(|examples| examples.parent())
        .ok_or("cannot locate the target directory")?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = nested_cargo(cargo);
    build
        .args(["build", "--quiet", "--bin", "eureka-hook"])
        .current_dir(repo_root());
    if profile_dir.ends_with("release") {
        build.arg("--release");
    }
    Ok((build, profile_dir.join("eureka-hook")))
}

/// Where a run's results go: `docs/{name}` in the repository when `update_docs`, else
/// `demos/{name}` in the target directory the running example was built in, so that an ordinary
/// run leaves tracked files alone.
pub fn results_path(name: &str, update_docs: bool) -> PathBuf {
    if update_docs {
        repo_root().join("docs").join(name)
    } else {
        target_dir().join("demos").join(name)
    }
}

/// `target/` (or `CARGO_TARGET_DIR`): the running program is `<target>/<profile>/examples/<name>`.
fn target_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_path_buf()))
        .unwrap_or_else(|| repo_root().join("target"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_stay_under_the_target_directory_unless_the_docs_are_to_be_updated() {
        let root = repo_root();
        assert!(root.join("Cargo.toml").is_file() && root.join("demos").is_dir());
        // This test runs as `<target>/<profile>/deps/<name>`, one level deep like an example.
        let exe = std::env::current_exe().unwrap();
        let target = exe.parent().unwrap().parent().unwrap().parent().unwrap();
        assert_eq!(
            results_path("benchmark.json", false),
            target.join("demos/benchmark.json")
        );
        assert_eq!(
            results_path("rolling-update", true),
            root.join("docs/rolling-update")
        );
    }
}
