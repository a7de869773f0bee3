//! Records the target triple so that `--version` can say what the binary was built for.

fn main() {
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown target".into());
    println!("cargo:rustc-env=EUREKA_HOOK_TARGET={target}");
    println!("cargo:rerun-if-changed=build.rs");
}
