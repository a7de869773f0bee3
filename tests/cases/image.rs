//! The container image as it ships, for each platform: the Dockerfile's final stage, built by the
//! test command through the same Dockerfile with the dist/ binaries (`--build-arg
//! BINARIES=prebuilt`), runs prestop, poststart and status against the in-process registry double
//! from `docker run --network host`, and holds nothing but the binary.
//!
//! The test command starts a private Docker daemon and sets `EUREKA_HOOK_DOCKER` (the client),
//! `EUREKA_HOOK_DOCKER_HOST`, `EUREKA_HOOK_IMAGES` (`platform=image` pairs, space-separated) and
//! `EUREKA_HOOK_DIST_DIR`.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::*;

const NEEDS: &str = "scripts/test.sh builds the images with its own Docker daemon and sets it";

/// An image under test and the platform it was built for.
struct Image {
    platform: String,
    reference: String,
}

impl Image {
    /// `linux/arm64` → `arm64`, the name Docker and the Dockerfile's TARGETARCH use.
    fn arch(&self) -> &str {
        self.platform.rsplit('/').next().unwrap()
    }

    fn target(&self) -> &'static str {
        match self.arch() {
            "amd64" => "x86_64-unknown-linux-musl",
            "arm64" => "aarch64-unknown-linux-musl",
            other => panic!("no eureka-hook target for the platform {other}"),
        }
    }
}

fn required(name: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| panic!("{name} is not set: {NEEDS}"))
}

fn images() -> Vec<Image> {
    let images: Vec<Image> = required("EUREKA_HOOK_IMAGES")
        .split_whitespace()
        .map(|pair| {
            let (platform, reference) = pair
                .split_once('=')
                .unwrap_or_else(|| panic!("EUREKA_HOOK_IMAGES: {pair} is not platform=image"));
            Image {
                platform: platform.into(),
                reference: reference.into(),
            }
        })
        .collect();
    let platforms: Vec<&str> = images.iter().map(|image| image.platform.as_str()).collect();
    assert_eq!(
        platforms,
        ["linux/amd64", "linux/arm64"],
        "EUREKA_HOOK_IMAGES must name both platforms"
    );
    if std::env::consts::ARCH != "aarch64" {
        assert!(
            Path::new("/proc/sys/fs/binfmt_misc/qemu-aarch64").exists(),
            "the arm64 image needs qemu's binfmt_misc handler: scripts/qemu-binfmt.sh enable"
        );
    }
    images
}

/// The docker client talking to the test command's daemon.
fn docker(args: &[&str]) -> Hook {
    hook(args)
        .binary(PathBuf::from(required("EUREKA_HOOK_DOCKER")))
        .without_env("EUREKA_HOSTNAME")
        .env("DOCKER_HOST", required("EUREKA_HOOK_DOCKER_HOST"))
}

/// `eureka-hook ARGS` from the image, on the host's network, with the container environment `env`.
fn run_image(image: &Image, env: &[(&str, &str)], args: &[&str]) -> Outcome {
    let env_flags: Vec<String> = env
        .iter()
        .map(|(name, value)| format!("--env={name}={value}"))
        .collect();
    let mut command = vec![
        "run",
        "--rm",
        "--network=host",
        "--platform",
        &image.platform,
    ];
    command.extend(env_flags.iter().map(String::as_str));
    command.push(&image.reference);
    command.extend(args);
    docker(&command).run()
}

#[test]
#[ignore = "needs the images and a Docker daemon; scripts/test.sh runs it"]
fn each_image_drains_the_instance_with_prestop() {
    for image in images() {
        let double = registry_with_instance();
        let url = double.base_url();
        run_image(
            &image,
            &[("EUREKA_URL", &url), ("EUREKA_HOSTNAME", HOST)],
            &["prestop", "--app", APP, "--drain", "100ms"],
        )
        .assert_code(0)
        .assert_stderr_contains("drain of 100ms held");
        assert_eq!(
            sent(&double, "PUT"),
            ["/eureka/apps/DEMO-SERVICE/pod-0:demo-service:8080/status?value=OUT_OF_SERVICE"],
            "{}",
            image.platform
        );
        assert_instance(&double, DEFAULT_ID, "OUT_OF_SERVICE", "OUT_OF_SERVICE");
    }
}

#[test]
#[ignore = "needs the images and a Docker daemon; scripts/test.sh runs it"]
fn each_image_clears_a_stale_override_with_poststart() {
    for image in images() {
        let double = registry_with_instance();
        double.set_override(APP, DEFAULT_ID, "OUT_OF_SERVICE");
        let url = double.base_url();
        run_image(
            &image,
            &[("EUREKA_URL", &url), ("EUREKA_HOSTNAME", HOST)],
            &["poststart", "--app", APP, "--wait", "5s"],
        )
        .assert_code(0)
        .assert_stderr_contains("removed the OUT_OF_SERVICE override");
        assert_eq!(
            sent(&double, "DELETE"),
            ["/eureka/apps/DEMO-SERVICE/pod-0:demo-service:8080/status"],
            "{}",
            image.platform
        );
        assert_instance(&double, DEFAULT_ID, "UNKNOWN", "UNKNOWN");
    }
}

#[test]
#[ignore = "needs the images and a Docker daemon; scripts/test.sh runs it"]
fn each_image_reports_status_and_its_exit_codes() {
    for image in images() {
        let double = registry_with_instance();
        double.set_override(APP, DEFAULT_ID, "OUT_OF_SERVICE");
        let url = double.base_url();
        run_image(
            &image,
            &[("EUREKA_URL", &url), ("EUREKA_HOSTNAME", HOST)],
            &["status", "--app", APP],
        )
        .assert_code(0)
        .assert_stdout_contains("instance pod-0:demo-service:8080 of app DEMO-SERVICE")
        .assert_stdout_contains("OUT_OF_SERVICE   OUT_OF_SERVICE");
        // docker run passes the hook's own exit code on: 3 for an instance no peer knows.
        run_image(
            &image,
            &[("EUREKA_URL", &url), ("EUREKA_HOSTNAME", "pod-9")],
            &["status", "--app", APP],
        )
        .assert_code(3);
        assert!(
            sent(&double, "PUT").is_empty() && sent(&double, "DELETE").is_empty(),
            "{}: status changed the registry",
            image.platform
        );
    }
}

#[test]
#[ignore = "needs the images and a Docker daemon; scripts/test.sh runs it"]
fn each_image_is_the_dist_binary_alone_run_as_user_65532() {
    let dist = PathBuf::from(required("EUREKA_HOOK_DIST_DIR"));
    for image in images() {
        let inspected = docker(&["image", "inspect", &image.reference]).run();
        inspected.assert_code(0);
        let config: Value = serde_json::from_str(&inspected.stdout).unwrap();
        let config = &config[0];
        assert_eq!(config["Os"], "linux");
        assert_eq!(config["Architecture"], image.arch(), "{}", image.platform);
        assert_eq!(config["Config"]["User"], "65532:65532");
        assert_eq!(
            config["Config"]["Entrypoint"],
            serde_json::json!(["/eureka-hook"])
        );

        let files = only_layer_files(&image.reference);
        let names: Vec<&str> = files.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            ["eureka-hook"],
            "{}: the image's files",
            image.platform
        );
        let shipped = std::fs::read(dist.join(format!(
            "eureka-hook-{}-{}",
            env!("CARGO_PKG_VERSION"),
            image.target()
        )))
        .unwrap();
        assert!(
            files["eureka-hook"] == shipped,
            "{}: /eureka-hook differs from the dist/ binary",
            image.platform
        );

        run_image(&image, &[], &["--version"])
            .assert_code(0)
            .assert_stdout_contains(&format!("({})", image.target()));
    }
}

/// The files of the image's single layer, from `docker save`, by path.
fn only_layer_files(reference: &str) -> HashMap<String, Vec<u8>> {
    let saved = docker(&["save", reference])
        .command()
        .output()
        .expect("docker save runs");
    assert!(
        saved.status.success(),
        "docker save {reference}: {}",
        String::from_utf8_lossy(&saved.stderr)
    );
    let archive = tar_files(&saved.stdout);
    let manifest: Value = serde_json::from_slice(&archive["manifest.json"]).unwrap();
    let layers = manifest[0]["Layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1, "{reference}: one layer, {layers:?}");
    tar_files(&archive[layers[0].as_str().unwrap()])
}

fn tar_files(bytes: &[u8]) -> HashMap<String, Vec<u8>> {
    let mut files = HashMap::new();
    for entry in tar::Archive::new(bytes).entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        files.insert(path, content);
    }
    files
}
