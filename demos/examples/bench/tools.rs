//! What the benchmark needs from the machine: the programs of the curl recipe, GNU time for peak
//! RSS, and the shipped binaries: the release files `scripts/dist.sh` writes for each target (built
//! by `scripts/build-static.sh`), checked to be static and for the right architecture.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail, ensure};

/// GNU time: `-f %M` prints the waited child's `ru_maxrss` in KiB.
pub const GNU_TIME: &str = "/usr/bin/time";

/// The repository root.
pub fn repo_root() -> PathBuf {
    eureka_hook_demos::repo_root()
}

/// Fails, with the Debian package to install, when a program the benchmark runs is missing.
pub fn check_programs() -> Result<()> {
    for (program, package) in [
        ("sh", "dash"),
        ("curl", "curl"),
        ("hostname", "hostname"),
        ("sleep", "coreutils"),
        ("bash", "bash"),
    ] {
        if find_in_path(program).is_none() {
            bail!(
                "`{program}` is not on PATH; the curl recipe needs it: apt-get install -y {package}"
            );
        }
    }
    let version = Command::new(GNU_TIME)
        .arg("--version")
        .stdin(Stdio::null())
        .output();
    match version {
        Ok(output) if String::from_utf8_lossy(&output.stdout).contains("GNU") => Ok(()),
        Ok(_) => bail!(
            "{GNU_TIME} is not GNU time (peak RSS is read with its -f %M): apt-get install -y time"
        ),
        Err(_) => {
            bail!("{GNU_TIME} is missing; peak RSS is read with GNU time: apt-get install -y time")
        }
    }
}

pub fn find_in_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// Runs `scripts/build-static.sh` with extra environment (empty for the shipped build) and
/// returns the absolute path of the binary it printed on its last stdout line.
pub fn build_static(env: &[(&str, OsString)]) -> Result<PathBuf> {
    build_static_in(&repo_root(), env)
}

/// [`build_static`] for a copy of the repository at `root`.
pub fn build_static_in(root: &Path, env: &[(&str, OsString)]) -> Result<PathBuf> {
    let output = eureka_hook_demos::nested_cargo("bash")
        .arg(root.join("scripts/build-static.sh"))
        .current_dir(root)
        .envs(env.iter().map(|(name, value)| (name, value)))
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .context("running scripts/build-static.sh")?;
    ensure!(
        output.status.success(),
        "scripts/build-static.sh failed ({})",
        output.status
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let printed = stdout
        .lines()
        .last()
        .context("scripts/build-static.sh printed no path")?;
    let binary = root.join(printed.trim());
    ensure!(
        binary.is_file(),
        "scripts/build-static.sh printed {printed}, which is not a file"
    );
    Ok(binary)
}

/// A target the release files are built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    X86_64,
    Aarch64,
}

impl Target {
    /// Every target `scripts/dist.sh` builds by default, in its order.
    pub const ALL: [Target; 2] = [Target::X86_64, Target::Aarch64];

    pub fn triple(self) -> &'static str {
        match self {
            Target::X86_64 => "x86_64-unknown-linux-musl",
            Target::Aarch64 => "aarch64-unknown-linux-musl",
        }
    }

    /// The machine name (`uname -m`, `std::env::consts::ARCH`).
    pub fn arch(self) -> &'static str {
        match self {
            Target::X86_64 => "x86_64",
            Target::Aarch64 => "aarch64",
        }
    }

    /// The name `scripts/dist.sh` and Docker's `TARGETARCH` use.
    fn docker_arch(self) -> &'static str {
        match self {
            Target::X86_64 => "amd64",
            Target::Aarch64 => "arm64",
        }
    }

    fn elf_machine(self) -> u16 {
        match self {
            Target::X86_64 => goblin::elf::header::EM_X86_64,
            Target::Aarch64 => goblin::elf::header::EM_AARCH64,
        }
    }

    /// The target of the machine the benchmark runs on, if it is one of ours.
    pub fn host() -> Option<Target> {
        Target::ALL
            .into_iter()
            .find(|target| target.arch() == std::env::consts::ARCH)
    }

    /// The files `scripts/build-static.sh` needs to cross-compile for this target from another
    /// machine (ring's C compiler and libc headers), and the Debian packages that hold them.
    fn cross_toolchain(self) -> ([&'static str; 2], &'static str) {
        match self {
            Target::X86_64 => (
                [
                    "/usr/bin/x86_64-linux-gnu-gcc",
                    "/usr/x86_64-linux-gnu/include/stdint.h",
                ],
                "gcc-x86-64-linux-gnu libc6-dev-amd64-cross",
            ),
            Target::Aarch64 => (
                [
                    "/usr/bin/aarch64-linux-gnu-gcc",
                    "/usr/aarch64-linux-gnu/include/stdint.h",
                ],
                "gcc-aarch64-linux-gnu libc6-dev-arm64-cross",
            ),
        }
    }
}

/// Runs `scripts/dist.sh` for every target and inspects the release files it wrote to `dist/`
/// (with the crate list `cargo auditable` embeds: the files that ship). When a cross build fails
/// for want of its C toolchain, the error says which Debian packages to install.
pub fn build_dist() -> Result<Vec<BinaryInfo>> {
    let root = repo_root();
    let output = eureka_hook_demos::nested_cargo("bash")
        .arg(root.join("scripts/dist.sh"))
        .args(Target::ALL.map(Target::docker_arch))
        .current_dir(&root)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .context("running scripts/dist.sh")?;
    if !output.status.success() {
        if let Some(missing) = missing_cross_toolchain(Target::host(), |file| file.exists()) {
            bail!("scripts/dist.sh failed ({}): {missing}", output.status);
        }
        bail!("scripts/dist.sh failed ({})", output.status);
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let printed: Vec<&str> = stdout.lines().map(str::trim).collect();
    Target::ALL
        .into_iter()
        .map(|target| {
            let line = printed
                .iter()
                .find(|line| line.ends_with(target.triple()))
                .with_context(|| {
                    format!(
                        "scripts/dist.sh printed no file for {}: {printed:?}",
                        target.triple()
                    )
                })?;
            let info = inspect(&root.join(line))?;
            ensure!(
                info.target == Some(target),
                "{line} is not an {} executable",
                target.arch()
            );
            ensure!(
                info.crate_list,
                "{line} has no .dep-v0 section (the crate list cargo auditable embeds)"
            );
            Ok(info)
        })
        .collect()
}

/// What to install when the cross C toolchain of a target other than `host` is missing (`exists`
/// says whether a file is there), or `None` when nothing is.
fn missing_cross_toolchain(host: Option<Target>, exists: impl Fn(&Path) -> bool) -> Option<String> {
    let missing: Vec<Target> = Target::ALL
        .into_iter()
        .filter(|target| Some(*target) != host)
        .filter(|target| {
            let (files, _) = target.cross_toolchain();
            files.iter().any(|file| !exists(Path::new(file)))
        })
        .collect();
    if missing.is_empty() {
        return None;
    }
    let triples: Vec<&str> = missing.iter().map(|target| target.triple()).collect();
    let packages: Vec<&str> = missing
        .iter()
        .map(|target| target.cross_toolchain().1)
        .collect();
    Some(format!(
        "the cross C toolchain for {} is missing; install it with `apt-get install -y {}` (as \
         scripts/test.sh does) and run the benchmark again",
        triples.join(" and "),
        packages.join(" ")
    ))
}

/// What the benchmark reports about a binary file.
#[derive(Clone, Debug)]
pub struct BinaryInfo {
    pub path: PathBuf,
    pub bytes: u64,
    /// `static-pie` (ET_DYN without PT_INTERP) or `static` (ET_EXEC); anything else fails.
    pub kind: &'static str,
    /// No `.symtab`.
    pub stripped: bool,
    /// From the ELF machine field; `None` for another architecture.
    pub target: Option<Target>,
    /// Has the `.dep-v0` section (the crate list `cargo auditable` embeds).
    pub crate_list: bool,
}

impl BinaryInfo {
    pub fn mib(&self) -> f64 {
        self.bytes as f64 / (1024.0 * 1024.0)
    }

    /// The path relative to the repository root.
    pub fn shown_path(&self) -> &Path {
        self.path.strip_prefix(repo_root()).unwrap_or(&self.path)
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "path": self.shown_path(),
            "target": self.target.map(Target::triple),
            "bytes": self.bytes,
            "mib": (self.mib() * 1000.0).round() / 1000.0,
            "linking": self.kind,
            "pt_interp": false,
            "dt_needed": [],
            "stripped": self.stripped,
            "crate_list_dep_v0": self.crate_list,
        })
    }
}

/// Reads the ELF headers: a static binary has no PT_INTERP and no DT_NEEDED.
pub fn inspect(path: &Path) -> Result<BinaryInfo> {
    use goblin::elf::{Elf, header};

    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let elf = Elf::parse(&bytes).with_context(|| format!("{} is not ELF", path.display()))?;
    if let Some(interpreter) = elf.interpreter {
        bail!(
            "{} is dynamically linked (PT_INTERP {interpreter})",
            path.display()
        );
    }
    ensure!(
        elf.libraries.is_empty(),
        "{} needs shared libraries: {:?}",
        path.display(),
        elf.libraries
    );
    let kind = match elf.header.e_type {
        header::ET_DYN => "static-pie",
        header::ET_EXEC => "static",
        other => bail!("{}: unexpected ELF type {other}", path.display()),
    };
    let has_section = |name: &str| {
        elf.section_headers
            .iter()
            .any(|section| elf.shdr_strtab.get_at(section.sh_name) == Some(name))
    };
    Ok(BinaryInfo {
        path: path.to_owned(),
        bytes: bytes.len() as u64,
        kind,
        stripped: !has_section(".symtab"),
        target: Target::ALL
            .into_iter()
            .find(|target| target.elf_machine() == elf.header.e_machine),
        crate_list: has_section(".dep-v0"),
    })
}

/// The first line a program prints for `args`, for the machine description.
pub fn first_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
        .and_then(|output| {
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .next()
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The commit the binary was built from, and any uncommitted change to what goes into it (the
/// working tree is shared, so a result may include someone's edit in progress).
pub fn source_state() -> serde_json::Value {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(repo_root())
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let uncommitted: Vec<String> = git(&[
        "status",
        "--porcelain",
        "--",
        "Cargo.toml",
        "Cargo.lock",
        "build.rs",
        "src",
    ])
    .unwrap_or_default()
    .lines()
    .map(|line| line.trim().to_owned())
    .collect();
    if !uncommitted.is_empty() {
        eprintln!("bench: note: the binary includes uncommitted changes: {uncommitted:?}");
    }
    serde_json::json!({
        "commit": git(&["rev-parse", "HEAD"]).map(|commit| commit.trim().to_owned()),
        "uncommitted_changes": uncommitted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_cross_toolchain_names_the_debian_packages_to_install() {
        let on_x86_64 = missing_cross_toolchain(Some(Target::X86_64), |file| {
            !file.starts_with("/usr/aarch64-linux-gnu")
        });
        assert_eq!(
            on_x86_64.as_deref(),
            Some(
                "the cross C toolchain for aarch64-unknown-linux-musl is missing; install it with \
                 `apt-get install -y gcc-aarch64-linux-gnu libc6-dev-arm64-cross` (as \
                 scripts/test.sh does) and run the benchmark again"
            )
        );
        let on_aarch64 = missing_cross_toolchain(Some(Target::Aarch64), |_| false);
        assert!(on_aarch64.as_deref().is_some_and(|text| {
            text.contains("gcc-x86-64-linux-gnu libc6-dev-amd64-cross") && !text.contains("arm64")
        }));
        assert_eq!(
            missing_cross_toolchain(Some(Target::X86_64), |_| true),
            None
        );
    }
}
