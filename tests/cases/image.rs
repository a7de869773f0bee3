//! The container image as it ships, for each platform: the Dockerfile's final stage, built by the
//! test command through the same Dockerfile with the dist/ binaries (`--build-arg
//! BINARIES=prebuilt`), runs prestop, poststart and status against the in-process registry double
//! from `docker run --network host`, and holds nothing but the binary.
//!
//! The `-installer` variant, built on a local busybox (Debian's busybox-static) for each platform,
//! copies the binary the way examples/kubernetes/init-container.yaml's init container does.
//!
//! The test command starts a private Docker daemon and sets `EUREKA_HOOK_DOCKER` (the client),
//! `EUREKA_HOOK_DOCKER_HOST`, `EUREKA_HOOK_IMAGES` and `EUREKA_HOOK_INSTALLER_IMAGES`
//! (`platform=image` pairs, space-separated) and `EUREKA_HOOK_DIST_DIR`.

use std::collections::HashMap;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
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

/// The images `EUREKA_HOOK_IMAGES` names: the Dockerfile's final stage.
fn images() -> Vec<Image> {
    images_in("EUREKA_HOOK_IMAGES")
}

/// `platform=image` pairs from the variable `name`, one for each platform.
fn images_in(name: &str) -> Vec<Image> {
    let images: Vec<Image> = required(name)
        .split_whitespace()
        .map(|pair| {
            let (platform, reference) = pair
                .split_once('=')
                .unwrap_or_else(|| panic!("{name}: {pair} is not platform=image"));
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
        "{name} must name both platforms"
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

/// What a hook run from an image must do to this pod's registered instance: exit 0 saying
/// `said`, send exactly one `method` request (to `path`), and leave `status` and `overridden`.
struct Change {
    said: &'static str,
    method: &'static str,
    path: &'static str,
    status: &'static str,
    overridden: &'static str,
}

/// Runs `args` from `image` with `env` and `EUREKA_URL` pointing at `double`, and checks `change`.
fn assert_image_changes(
    image: &Image,
    double: &EurekaDouble,
    env: &[(&str, &str)],
    args: &[&str],
    change: &Change,
) {
    let url = double.base_url();
    let mut env = env.to_vec();
    env.push(("EUREKA_URL", &url));
    run_image(image, &env, args)
        .assert_code(0)
        .assert_stderr_contains(change.said);
    assert_eq!(
        sent(double, change.method),
        [change.path],
        "{}",
        image.platform
    );
    assert_instance(double, DEFAULT_ID, change.status, change.overridden);
}

#[test]
#[ignore = "needs the images and a Docker daemon; scripts/test.sh runs it"]
fn each_image_drains_the_instance_with_prestop() {
    for image in images() {
        assert_image_changes(
            &image,
            &registry_with_instance(),
            &[("EUREKA_HOSTNAME", HOST), ("SERVER_PORT", "8080")],
            &["prestop", "--app", APP, "--drain", "100ms"],
            &Change {
                said: "drain of 100ms held",
                method: "PUT",
                path: "/eureka/apps/DEMO-SERVICE/pod-0:demo-service:8080/status?value=OUT_OF_SERVICE",
                status: "OUT_OF_SERVICE",
                overridden: "OUT_OF_SERVICE",
            },
        );
    }
}

/// The image this machine runs natively: under qemu's user-mode emulation (the other one) there is
/// no sock_diag to watch inbound traffic with.
fn native_image() -> Image {
    let native = match std::env::consts::ARCH {
        "aarch64" => "linux/arm64",
        _ => "linux/amd64",
    };
    images()
        .into_iter()
        .find(|image| image.platform == native)
        .unwrap_or_else(|| panic!("no {native} image in EUREKA_HOOK_IMAGES"))
}

#[test]
#[ignore = "needs the images and a Docker daemon; scripts/test.sh runs it"]
fn the_scratch_image_watches_inbound_traffic_as_its_non_root_user() {
    use crate::support::traffic::{App, Connections, Consumer};
    let image = native_image();
    let app = App::ipv4();
    let double = EurekaDouble::start();
    double.register(InstanceSpec::new(APP, HOST, app.port()));
    // The consumer sends until the hook has exited (`finish`), however long the container takes
    // to start: with a fixed 1.2 s it had once stopped before a slow start's mark.
    let consumer = Consumer::start(
        &app,
        "127.0.0.2",
        Connections::KeepAlive,
        std::time::Duration::from_millis(100),
        std::time::Duration::from_secs(60),
    );
    let url = double.base_url();
    let port = app.port().to_string();
    let outcome = run_image(
        &image,
        &[("EUREKA_HOSTNAME", HOST), ("EUREKA_URL", &url)],
        &[
            "prestop",
            "--app",
            APP,
            "--port",
            &port,
            "--drain",
            "1500ms",
            "--log-format",
            "json",
        ],
    );
    outcome.assert_code(0);
    consumer.finish();
    let inbound: Vec<Value> = outcome
        .stderr
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["event"] == "inbound")
        .collect();
    assert!(
        inbound.iter().any(|line| line["source"] == "127.0.0.2"),
        "{}: no inbound line for 127.0.0.2 as user 65532 in the scratch image\n{}",
        image.platform,
        outcome.stderr
    );
}

#[test]
#[ignore = "needs the images and a Docker daemon; scripts/test.sh runs it"]
fn each_image_clears_a_stale_override_with_poststart() {
    for image in images() {
        let double = registry_with_instance();
        double.set_override(APP, DEFAULT_ID, "OUT_OF_SERVICE");
        assert_image_changes(
            &image,
            &double,
            &[("EUREKA_HOSTNAME", HOST)],
            &["poststart", "--app", APP, "--wait", "5s"],
            &Change {
                said: "removed the OUT_OF_SERVICE override",
                method: "DELETE",
                path: "/eureka/apps/DEMO-SERVICE/pod-0:demo-service:8080/status",
                status: "UNKNOWN",
                overridden: "UNKNOWN",
            },
        );
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
    for image in images() {
        assert_runs_the_hook_as_user_65532(&image);

        let files = only_layer_files(&image.reference);
        let names: Vec<&str> = files.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            ["eureka-hook"],
            "{}: the image's files",
            image.platform
        );
        assert!(
            files["eureka-hook"] == dist_binary(&image),
            "{}: /eureka-hook differs from the dist/ binary",
            image.platform
        );
    }
}

#[test]
#[ignore = "needs the installer images and a Docker daemon; scripts/test.sh runs it"]
fn each_installer_image_copies_a_working_binary_as_the_init_container_example_does() {
    let (command, mount_path) = example_init_container();
    for image in images_in("EUREKA_HOOK_INSTALLER_IMAGES") {
        assert_runs_the_hook_as_user_65532(&image);

        // The emptyDir the init container and the app container share: writable by any user.
        let shared = std::env::temp_dir().join(format!(
            "eureka-hook-installer-{}-{}",
            std::process::id(),
            image.arch()
        ));
        let _ = std::fs::remove_dir_all(&shared);
        std::fs::create_dir_all(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
        let volume = format!("--volume={}:{mount_path}", shared.display());
        let mut args = vec![
            "run",
            "--rm",
            "--platform",
            &image.platform,
            &volume,
            "--entrypoint",
            &command[0],
            &image.reference,
        ];
        args.extend(command[1..].iter().map(String::as_str));
        docker(&args).run().assert_code(0);

        let target = command.last().unwrap();
        let copied = shared.join(
            Path::new(target)
                .strip_prefix(&mount_path)
                .unwrap_or_else(|_| panic!("{target} is not under {mount_path}")),
        );
        let mode = std::fs::metadata(&copied).unwrap().permissions().mode();
        assert_eq!(mode & 0o755, 0o755, "{}: mode {mode:o}", image.platform);
        assert!(
            std::fs::read(&copied).unwrap() == dist_binary(&image),
            "{}: the copy differs from the dist/ binary",
            image.platform
        );
        // The app container runs the copy.
        let double = registry_with_instance();
        let outcome = hook(&["prestop", "--app", APP, "--drain", "100ms"])
            .binary(copied)
            .env("EUREKA_URL", double.base_url())
            .run();
        std::fs::remove_dir_all(&shared).unwrap();
        outcome.assert_code(0);
        assert_instance(&double, DEFAULT_ID, "OUT_OF_SERVICE", "OUT_OF_SERVICE");
    }
}

/// The image's platform, user 65532, the hook as its exec-form entrypoint, and the binary of its
/// target answering `--version` from it.
fn assert_runs_the_hook_as_user_65532(image: &Image) {
    let inspected = docker(&["image", "inspect", &image.reference]).run();
    inspected.assert_code(0);
    let config: Value = serde_json::from_str(&inspected.stdout).unwrap();
    let config = &config[0];
    assert_eq!(config["Os"], "linux", "{}", image.reference);
    assert_eq!(config["Architecture"], image.arch(), "{}", image.reference);
    assert_eq!(
        config["Config"]["User"], "65532:65532",
        "{}",
        image.reference
    );
    assert_eq!(
        config["Config"]["Entrypoint"],
        serde_json::json!(["/eureka-hook"]),
        "{}",
        image.reference
    );
    run_image(image, &[], &["--version"])
        .assert_code(0)
        .assert_stdout_contains(&format!("({})", image.target()));
}

/// The dist/ binary of the image's target.
fn dist_binary(image: &Image) -> Vec<u8> {
    let path = PathBuf::from(required("EUREKA_HOOK_DIST_DIR")).join(format!(
        "eureka-hook-{}-{}",
        env!("CARGO_PKG_VERSION"),
        image.target()
    ));
    std::fs::read(&path).unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()))
}

/// The init container in examples/kubernetes/init-container.yaml: its command and the mount path
/// of the folder it copies into.
fn example_init_container() -> (Vec<String>, String) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/kubernetes/init-container.yaml"
    );
    let text = std::fs::read_to_string(path).unwrap();
    for document in serde_yaml_ng::Deserializer::from_str(&text) {
        let document = Value::deserialize(document).unwrap();
        let Some(init) = document["spec"]["template"]["spec"]["initContainers"].as_array() else {
            continue;
        };
        let command = init[0]["command"]
            .as_array()
            .expect("the init container has a command")
            .iter()
            .map(|arg| arg.as_str().unwrap().to_string())
            .collect();
        let mount_path = init[0]["volumeMounts"][0]["mountPath"]
            .as_str()
            .unwrap()
            .to_string();
        return (command, mount_path);
    }
    panic!("{path} has no init container");
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
