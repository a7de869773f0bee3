//! `--size-lab`: what the binary would weigh, and how fast and lean the hook would be, under other
//! release-profile settings, rustc flags and dependency features.
//!
//! Profile and rustc-flag variants are the shipped build (`scripts/build-static.sh`) with
//! `CARGO_PROFILE_RELEASE_*` or `RUSTFLAGS` set; feature variants build a scratch copy of the
//! repository under the temporary directory whose Cargo.toml has one line changed. Each variant
//! builds into its own `target/size-lab/<variant>/`, so nobody's `target/` is disturbed and a
//! second run only relinks what changed. All binaries are then copied to
//! `target/size-lab/measured/` and measured round-robin against one double: size, ELF kind, wall
//! time of `prestop --drain 0s` and peak RSS. Variants marked "not
//! shippable" only show what a part costs. The results go to the `size_lab` key of
//! `docs/benchmark.json`.
//!
//! The lab builds with plain `cargo build`, so its binaries lack the crate list (`.dep-v0`, under
//! 1 KiB) that `cargo auditable` adds to the release files. The cost of TLS and of the built-in
//! roots is no longer a one-line manifest change (the code uses rustls and webpki-roots
//! directly), so the lab no longer measures those.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::Options;
use crate::report;
use crate::scenario::{Scenario, Subject};
use crate::stats::{Summary, show};
use crate::tools::{self, BinaryInfo, repo_root};

/// What the main benchmark's notes say it would take to meet a missed target. They summarise this
/// lab's results and experiments on scratch copies of the code (Debian bookworm VM, 2 vCPUs); rerun
/// `--size-lab` and update them when the dependencies or the profile change.
pub const SIZE_REMEDY: &str = "Profile and linker options are measured by --size-lab (x86_64): \
    on the 2,143,016 B binary of 2026-11-25 the smallest shippable variant, opt-level z + static \
    non-PIE + rust-lld --icf=all, was 7.2% smaller (opt-level z is shipped since issue 15), and TLS (rustls, ring, the compiled-in Mozilla \
    roots) was about 1 MB of it; clap's features are already trimmed and LTO already drops the log \
    calls. Beyond those options it takes code changes, estimated from cargo bloat's .text per \
    crate at the time: a hand-written argument parser instead of clap (~180-230 KB: clap_builder \
    157 KB plus the derived code), and a small HTTP/1.1 client over rustls instead of ureq (ureq, \
    http and ureq-proto are ~180 KB of .text).";
pub const RSS_REMEDY: &str = "The hook's peak RSS is mostly its own executable's pages \
    (file-backed, mapped in 64 KiB fault-around blocks; ~150 KiB is heap and stacks), so it \
    follows the binary: static non-PIE linking measured ~190 KiB less (size lab), and a smaller \
    binary (see the size note) lowers it further.";
pub const SPEED_REMEDY: &str = "Most of the hook's time is kernel work: exec and page faults of \
    a 2 MiB binary (see eureka-hook --version in the breakdown) and musl malloc's mmap/munmap \
    churn; the PUT itself, sent from a process already running, is a fraction of it (breakdown). \
    The load average moves the ratio: it slows the recipe's four processes more than the hook's \
    one. A plain-HTTP prestop with a given host already skips the TLS configuration, the lookup \
    thread for an IP address and the interface list (see docs/benchmark.md). Measured earlier on scratch \
    copies, round-robin against the same double: an arena allocator (bump over a 1 MiB .bss \
    arena, falling back to the system allocator) took 17% off; static non-PIE linking a few \
    percent (size lab); opt-level 2, 3 or z nothing beyond noise.";

const STATIC_NOT_PIE: &str = "-C relocation-model=static";

/// The ureq and clap lines of Cargo.toml as they are; a feature variant replaces one of them.
const UREQ_LINE: &str =
    r#"ureq = { version = "3.5", default-features = false, features = ["rustls"] }"#;
const CLAP_LINE: &str = r#"clap = { version = "4.6", default-features = false, features = ["derive", "env", "std", "help", "usage", "error-context"] }"#;
const LOG_OFF: &str = r#"log = { version = "0.4", features = ["release_max_level_off"] }"#;

struct Variant {
    slug: &'static str,
    what: &'static str,
    opt_level: Option<&'static str>,
    rustflags: Vec<String>,
    /// `(file, text, replacement)` in a scratch copy; non-empty means building that copy.
    edits: Vec<(&'static str, &'static str, String)>,
    /// `false` for variants that only show what a part costs.
    shippable: bool,
}

impl Variant {
    fn new(slug: &'static str, what: &'static str) -> Variant {
        Variant {
            slug,
            what,
            opt_level: None,
            rustflags: Vec::new(),
            edits: Vec::new(),
            shippable: true,
        }
    }

    fn opt(mut self, level: &'static str) -> Variant {
        self.opt_level = Some(level);
        self
    }

    fn rustflags(mut self, flags: &str) -> Variant {
        self.rustflags.push(flags.to_owned());
        self
    }

    fn edit(mut self, file: &'static str, text: &'static str, replacement: String) -> Variant {
        self.edits.push((file, text, replacement));
        self
    }

    fn not_shippable(mut self) -> Variant {
        self.shippable = false;
        self
    }

    fn env(&self) -> Vec<(&'static str, OsString)> {
        let mut env = vec![(
            "CARGO_TARGET_DIR",
            repo_root().join("target/size-lab").join(self.slug).into(),
        )];
        if let Some(level) = self.opt_level {
            env.push(("CARGO_PROFILE_RELEASE_OPT_LEVEL", level.into()));
        }
        if !self.rustflags.is_empty() {
            env.push(("RUSTFLAGS", self.rustflags.join(" ").into()));
        }
        env
    }
}

/// Links with the rust-lld that rustup ships (through gcc's `-B`, which works on stable) and folds
/// identical functions.
fn lld_icf() -> Result<String> {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .context("running rustc --print sysroot")?;
    let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_owned();
    let gcc_ld = Path::new(&sysroot).join("lib/rustlib/x86_64-unknown-linux-gnu/bin/gcc-ld");
    if !gcc_ld.join("ld.lld").is_file() {
        bail!("{} has no ld.lld", gcc_ld.display());
    }
    Ok(format!(
        "-C link-arg=-fuse-ld=lld -C link-arg=-B{} -C link-arg=-Wl,--icf=all",
        gcc_ld.display()
    ))
}

fn variants() -> Result<Vec<Variant>> {
    let lld_icf = lld_icf()?;
    Ok(vec![
        Variant::new(
            "shipped",
            "shipped: opt-level z, fat LTO, 1 CGU, panic unwind, strip; static-pie",
        ),
        Variant::new("opt-s", "opt-level s").opt("s"),
        Variant::new("opt-3", "opt-level 3").opt("3"),
        Variant::new("opt-2", "opt-level 2").opt("2"),
        Variant::new("static", "static, not PIE (-C relocation-model=static)")
            .rustflags(STATIC_NOT_PIE),
        Variant::new("lld-icf", "rust-lld with --icf=all").rustflags(&lld_icf),
        Variant::new("static-lld-icf", "static not PIE, rust-lld --icf=all")
            .rustflags(STATIC_NOT_PIE)
            .rustflags(&lld_icf),
        Variant::new(
            "log-off",
            "log: release_max_level_off (compiles out ureq's and rustls' log calls)",
        )
        .edit("Cargo.toml", UREQ_LINE, format!("{UREQ_LINE}\n{LOG_OFF}")),
        Variant::new(
            "clap-default-features",
            "what the trimmed clap features save: clap with its default features",
        )
        .edit(
            "Cargo.toml",
            CLAP_LINE,
            r#"clap = { version = "4.6", features = ["derive", "env"] }"#.to_owned(),
        )
        .not_shippable(),
    ])
}

struct Built {
    variant: Variant,
    binary: Result<BinaryInfo>,
    walls: Vec<std::time::Duration>,
    rss_kib: Vec<u64>,
    failures: Vec<String>,
}

pub fn run(options: &Options) -> Result<()> {
    tools::check_programs()?;
    let source = tools::source_state();
    let mut built = Vec::new();
    for variant in variants()? {
        eprintln!("size-lab: building {} ({})", variant.slug, variant.what);
        let binary = build(&variant)
            .and_then(|path| tools::inspect(&path))
            .and_then(|info| measured_copy(&info, variant.slug));
        if let Err(error) = &binary {
            eprintln!("size-lab: {} could not be built: {error:#}", variant.slug);
        }
        built.push(Built {
            variant,
            binary,
            walls: Vec::new(),
            rss_kib: Vec::new(),
            failures: Vec::new(),
        });
    }
    let Some(first) = built.iter().find_map(|b| b.binary.as_ref().ok()) else {
        bail!("no variant could be built");
    };
    let mut scenario = Scenario::start(&first.path)?;
    let load_before = crate::machine::load_average();
    eprintln!(
        "size-lab: measuring prestop --drain 0s of each, round-robin: {} warm-up, {} timed, {} \
         under GNU time",
        options.warmup, options.iterations, options.rss_runs
    );
    for round in 0..options.warmup + options.iterations + options.rss_runs {
        let rss = round >= options.warmup + options.iterations;
        for entry in &mut built {
            let Ok(binary) = &entry.binary else { continue };
            scenario.set_hook(&binary.path);
            let run = scenario.run(Subject::Hook, rss)?;
            if let Some(failure) = run.failure {
                entry.failures.push(format!("round {round}: {failure}"));
            }
            if rss {
                entry.rss_kib.extend(run.peak_rss_kib);
            } else if round >= options.warmup {
                entry.walls.push(run.wall);
            }
        }
    }
    let crates = bloat_crates();

    let shipped_bytes = built
        .first()
        .and_then(|b| b.binary.as_ref().ok())
        .map(|binary| binary.bytes);
    let header = [
        "variant",
        "bytes",
        "MiB",
        "vs shipped",
        "ELF",
        "wall median",
        "wall p90",
        "peak RSS max",
        "runs ok",
    ];
    let mut rows = Vec::new();
    let mut records = Vec::new();
    for entry in &built {
        let slug = format!(
            "{}{}",
            entry.variant.slug,
            if entry.variant.shippable {
                ""
            } else {
                " (not shippable)"
            }
        );
        let binary = match &entry.binary {
            Ok(binary) => binary,
            Err(error) => {
                rows.push(vec![slug, "build failed".to_owned()]);
                records.push(json!({
                    "variant": entry.variant.slug,
                    "what": entry.variant.what,
                    "error": format!("{error:#}"),
                }));
                continue;
            }
        };
        let wall = Summary::of(&entry.walls);
        let rss = entry.rss_kib.iter().copied().max();
        let delta = shipped_bytes.map(|shipped| {
            let delta = binary.bytes as i64 - shipped as i64;
            format!(
                "{delta:+} B ({:+.1}%)",
                delta as f64 * 100.0 / shipped as f64
            )
        });
        let runs = entry.walls.len() + entry.rss_kib.len() + options.warmup;
        rows.push(vec![
            slug,
            binary.bytes.to_string(),
            format!("{:.3}", binary.mib()),
            delta.clone().unwrap_or_default(),
            binary.kind.to_owned(),
            wall.map(|w| show(w.median)).unwrap_or_default(),
            wall.map(|w| show(w.p90)).unwrap_or_default(),
            rss.map(crate::kib).unwrap_or_default(),
            format!("{}/{runs}", runs - entry.failures.len()),
        ]);
        records.push(json!({
            "variant": entry.variant.slug,
            "what": entry.variant.what,
            "shippable": entry.variant.shippable,
            "opt_level": entry.variant.opt_level.unwrap_or("z"),
            "rustflags": entry.variant.rustflags.join(" "),
            "edits": entry.variant.edits.iter()
                .map(|(file, from, to)| json!({"file": file, "from": from, "to": to}))
                .collect::<Vec<_>>(),
            "bytes": binary.bytes,
            "mib": (binary.mib() * 1000.0).round() / 1000.0,
            "vs_shipped": delta,
            "linking": binary.kind,
            "wall_ms": wall.map(Summary::to_json),
            "peak_rss_kib_max": rss,
            "peak_rss_kib_runs": entry.rss_kib,
            "failures": entry.failures,
        }));
    }
    println!();
    report::print_table(&header, &rows);
    if let Some(crates) = &crates {
        println!("\n.text by crate (cargo bloat --crates, shipped profile with strip off):");
        for krate in crates.as_array().into_iter().flatten().take(15) {
            println!(
                "  {:>8} B  {}",
                krate["size"],
                krate["name"].as_str().unwrap_or("?")
            );
        }
    }
    let mut machine = crate::machine::describe();
    machine["load_average_before"] = load_before.into();
    machine["load_average_after"] = crate::machine::load_average().into();
    let lab = json!({
        "generated_by": "cargo run --release --example bench -- --size-lab",
        "machine": machine,
        "source": source,
        "method": "each variant built by scripts/build-static.sh into target/size-lab/<variant> \
                   (feature variants from a scratch copy with the Cargo.toml edit shown); then \
                   `prestop --drain 0s` of every variant round-robin against one double, as in \
                   the main benchmark",
        "iterations": options.iterations,
        "warmup_runs_discarded": options.warmup,
        "rss_runs": options.rss_runs,
        "variants": records,
        "text_by_crate_shipped": crates,
    });
    let path = report::update_json(options.update_docs, |map| {
        map.insert("size_lab".to_owned(), lab);
    })?;
    println!("written to the size_lab key of {}", path.display());
    Ok(())
}

/// Every variant runs from a copy written the same way, so that how the linker happened to write
/// the file (and so its page-cache folios, which set how much fault-around maps) does not differ
/// between variants.
fn measured_copy(info: &BinaryInfo, slug: &str) -> Result<BinaryInfo> {
    let dir = repo_root().join("target/size-lab/measured");
    std::fs::create_dir_all(&dir)?;
    let copy = dir.join(slug);
    let _ = std::fs::remove_file(&copy);
    std::fs::copy(&info.path, &copy)
        .with_context(|| format!("copying {} to {}", info.path.display(), copy.display()))?;
    Ok(BinaryInfo {
        path: copy,
        ..info.clone()
    })
}

fn build(variant: &Variant) -> Result<PathBuf> {
    if variant.edits.is_empty() {
        return tools::build_static(&variant.env());
    }
    let scratch = std::env::temp_dir()
        .join("eureka-hook-size-lab")
        .join(variant.slug);
    copy_repository(&scratch)?;
    for (file, text, replacement) in &variant.edits {
        let path = scratch.join(file);
        let content = std::fs::read_to_string(&path)?;
        if !content.contains(text) {
            bail!(
                "{file} no longer has `{}`; update the size lab",
                text.trim()
            );
        }
        std::fs::write(&path, content.replacen(text, replacement, 1))?;
    }
    // Records the changed dependencies of eureka-hook in the copy's Cargo.lock, leaving every
    // other locked version as it is (it may download crates the variant adds).
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["update", "--workspace", "--quiet"])
        .current_dir(&scratch)
        .stdin(Stdio::null())
        .status()
        .context("running cargo update in the scratch copy")?;
    if !status.success() {
        bail!("cargo update in {} failed ({status})", scratch.display());
    }
    tools::build_static_in(&scratch, &variant.env())
}

/// Copies what building eureka-hook needs: the manifest and lock file, build.rs, src/, the build
/// script, and the other workspace members' manifests and sources (the double, the demos and
/// their examples).
fn copy_repository(to: &Path) -> Result<()> {
    let root = repo_root();
    if to.exists() {
        std::fs::remove_dir_all(to).with_context(|| format!("clearing {}", to.display()))?;
    }
    for path in [
        "Cargo.toml",
        "Cargo.lock",
        "build.rs",
        "src",
        "scripts/build-static.sh",
        "tests/eureka-double/Cargo.toml",
        "tests/eureka-double/src",
        "demos/Cargo.toml",
        "demos/src",
        // The demos' manifest names its examples, so cargo wants their files too.
        "demos/examples",
    ] {
        copy(&root.join(path), &to.join(path))?;
    }
    Ok(())
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    if from.is_dir() {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            copy(&entry.path(), &to.join(entry.file_name()))?;
        }
    } else {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(from, to)
            .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    }
    Ok(())
}

/// `.text` bytes by crate from `cargo bloat --crates` for the shipped profile (symbols kept), or
/// `None` when cargo-bloat is not installed (`cargo install cargo-bloat --locked`).
fn bloat_crates() -> Option<Value> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let installed = Command::new(&cargo)
        .args(["bloat", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !installed {
        eprintln!("size-lab: cargo-bloat is not installed; skipping the per-crate breakdown");
        return None;
    }
    eprintln!("size-lab: cargo bloat --crates on the shipped profile (strip off)");
    let output = Command::new(&cargo)
        .args([
            "bloat",
            "--release",
            "--locked",
            "--target",
            "x86_64-unknown-linux-musl",
            "-p",
            "eureka-hook",
            "--crates",
            "-n",
            "25",
            "--message-format",
            "json",
        ])
        .current_dir(repo_root())
        .env(
            "CARGO_TARGET_DIR",
            repo_root().join("target/size-lab/bloat"),
        )
        .env("CARGO_PROFILE_RELEASE_STRIP", "false")
        .env(
            "CC_x86_64_unknown_linux_musl",
            if tools::find_in_path("musl-gcc").is_some() {
                "musl-gcc"
            } else {
                "gcc"
            },
        )
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .ok()?;
    let report: Value = serde_json::from_slice(&output.stdout).ok()?;
    Some(report.get("crates")?.clone())
}
