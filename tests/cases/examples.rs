//! The pod specs under examples/kubernetes run as written: every lifecycle exec command, with that
//! container's environment (values, `$(VAR)` expansion, Secret references, mounted Secret files),
//! first as a dry run with exactly its arguments, then for real against a double that asks for the
//! Secret's credentials. Only the Eureka URLs, the `/proc/1/fd/1` log path and the drain length are
//! rewritten. (The image itself is built and run in `image`.)

use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::support::*;

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/kubernetes");
/// What the Downward API would give the container.
const POD_NAME: &str = "demo-service-7d9f8c6b5-x2k4p";
const POD_IP: &str = "10.244.1.17";
/// The Eureka URL variables the test points at the double.
pub(super) const URL_VARS: [&str; 2] = ["EUREKA_URL", "EUREKA_CLIENT_SERVICEURL_DEFAULTZONE"];

/// Every document of every YAML file in the examples folder, with the file it came from.
fn documents() -> Vec<(String, Value)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(EXAMPLES)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "yaml" || ext == "yml")
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no YAML in {EXAMPLES}");
    let mut documents = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        for document in serde_yaml_ng::Deserializer::from_str(&text) {
            let value = Value::deserialize(document).unwrap_or_else(|err| panic!("{name}: {err}"));
            if !value.is_null() {
                documents.push((name.clone(), value));
            }
        }
    }
    documents
}

/// `stringData` of every Secret, by Secret name.
fn secrets(documents: &[(String, Value)]) -> HashMap<String, HashMap<String, String>> {
    documents
        .iter()
        .filter(|(_, doc)| doc["kind"] == "Secret")
        .map(|(_, doc)| {
            let data = doc["stringData"]
                .as_object()
                .expect("example Secrets use stringData")
                .iter()
                .map(|(key, value)| (key.clone(), value.as_str().unwrap().to_string()))
                .collect();
            (doc["metadata"]["name"].as_str().unwrap().to_string(), data)
        })
        .collect()
}

/// One lifecycle exec hook of one container.
struct ExampleHook {
    origin: String,
    phase: &'static str,
    command: Vec<String>,
    env: Vec<(String, String)>,
}

fn example_hooks(documents: &[(String, Value)], scratch: &Path) -> Vec<ExampleHook> {
    let secrets = secrets(documents);
    let mut hooks = Vec::new();
    for (file, doc) in documents {
        let pod = if doc["kind"] == "Pod" {
            &doc["spec"]
        } else {
            &doc["spec"]["template"]["spec"]
        };
        let Some(containers) = pod["containers"].as_array() else {
            continue;
        };
        let volumes = pod["volumes"].as_array().cloned().unwrap_or_default();
        for container in containers {
            let name = container["name"].as_str().unwrap();
            let origin = format!(
                "{file}: {} {}",
                doc["metadata"]["name"].as_str().unwrap(),
                name
            );
            let mounts = materialize_secret_mounts(
                container,
                &volumes,
                &secrets,
                &scratch.join(hooks.len().to_string()),
            );
            let env = container_env(container, &secrets, &mounts);
            for phase in ["postStart", "preStop"] {
                if let Some(command) = container["lifecycle"][phase]["exec"]["command"].as_array() {
                    let command = command
                        .iter()
                        .map(|arg| rewrite_mounted_path(arg.as_str().unwrap(), &mounts))
                        .collect();
                    hooks.push(ExampleHook {
                        origin: origin.clone(),
                        phase,
                        command,
                        env: env.clone(),
                    });
                }
            }
        }
    }
    hooks
}

/// Writes the files of every Secret volume the container mounts; returns (mount path, local dir).
fn materialize_secret_mounts(
    container: &Value,
    volumes: &[Value],
    secrets: &HashMap<String, HashMap<String, String>>,
    scratch: &Path,
) -> Vec<(String, PathBuf)> {
    let mut mounts = Vec::new();
    for mount in container["volumeMounts"].as_array().into_iter().flatten() {
        let volume = volumes
            .iter()
            .find(|volume| volume["name"] == mount["name"])
            .unwrap();
        let Some(secret_name) = volume["secret"]["secretName"].as_str() else {
            continue;
        };
        let dir = scratch.join(mount["name"].as_str().unwrap());
        std::fs::create_dir_all(&dir).unwrap();
        for (key, value) in &secrets[secret_name] {
            std::fs::write(dir.join(key), value).unwrap();
        }
        mounts.push((
            mount["mountPath"]
                .as_str()
                .unwrap()
                .trim_end_matches('/')
                .to_string(),
            dir,
        ));
    }
    mounts
}

fn rewrite_mounted_path(text: &str, mounts: &[(String, PathBuf)]) -> String {
    for (mount_path, local) in mounts {
        if let Some(rest) = text.strip_prefix(mount_path.as_str()) {
            return format!("{}{rest}", local.display());
        }
    }
    text.to_string()
}

/// The container's environment as Kubernetes builds it, in order.
pub(super) fn container_env(
    container: &Value,
    secrets: &HashMap<String, HashMap<String, String>>,
    mounts: &[(String, PathBuf)],
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::new();
    for var in container["env"].as_array().into_iter().flatten() {
        let name = var["name"].as_str().unwrap().to_string();
        let value = if let Some(value) = var["value"].as_str() {
            expand(value, &env)
        } else if let Some(reference) = var["valueFrom"]["secretKeyRef"].as_object() {
            let secret = reference["name"].as_str().unwrap();
            secrets[secret][reference["key"].as_str().unwrap()].clone()
        } else {
            match var["valueFrom"]["fieldRef"]["fieldPath"].as_str() {
                Some("metadata.name") => POD_NAME.to_string(),
                Some("status.podIP") => POD_IP.to_string(),
                Some("metadata.namespace") => "default".to_string(),
                other => panic!("{name}: unsupported valueFrom {other:?}"),
            }
        };
        env.push((name, rewrite_mounted_path(&value, mounts)));
    }
    env
}

/// Kubernetes' `$(VAR)` expansion from the variables defined before; `$$` escapes.
fn expand(value: &str, defined: &[(String, String)]) -> String {
    let mut expanded = String::new();
    let mut rest = value;
    while let Some(start) = rest.find('$') {
        expanded.push_str(&rest[..start]);
        rest = &rest[start..];
        if let Some(after) = rest.strip_prefix("$$") {
            expanded.push('$');
            rest = after;
        } else if let Some(end) = rest.strip_prefix("$(").and_then(|r| r.find(')')) {
            let name = &rest[2..2 + end];
            match defined.iter().rev().find(|(known, _)| known == name) {
                Some((_, value)) => expanded.push_str(value),
                None => expanded.push_str(&rest[..3 + end]),
            }
            rest = &rest[3 + end..];
        } else {
            expanded.push('$');
            rest = &rest[1..];
        }
    }
    expanded.push_str(rest);
    expanded
}

/// `url` with each comma-separated entry's host, port and path replaced by the double's, keeping
/// any `user:password@` the example puts there.
pub(super) fn point_at(url: &str, double: &EurekaDouble) -> String {
    let base = double.base_url();
    let authority = base.trim_start_matches("http://");
    url.split(',')
        .map(|entry| {
            let after_scheme = entry.split_once("://").map_or(entry, |(_, rest)| rest);
            let host_start = after_scheme.find('/').unwrap_or(after_scheme.len());
            match after_scheme[..host_start].rfind('@') {
                Some(at) => format!("http://{}@{authority}", &after_scheme[..at]),
                None => base.clone(),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

pub(super) fn env_value<'a>(env: &'a [(String, String)], name: &str) -> Option<&'a str> {
    env.iter()
        .find(|(known, _)| known == name)
        .map(|(_, value)| value.as_str())
}

/// The instance id the app in this container registers with, as Spring computes it.
pub(super) fn expected_instance_id(env: &[(String, String)]) -> (String, String, u16) {
    let app = env_value(env, "SPRING_APPLICATION_NAME")
        .expect("examples name the app")
        .to_string();
    let port: u16 = env_value(env, "SERVER_PORT").map_or(8080, |port| port.parse().unwrap());
    let host = spring_host_of_this_machine();
    let id = [
        "EUREKA_INSTANCE_ID",
        "EUREKA_INSTANCE_INSTANCEID",
        "EUREKA_INSTANCE_INSTANCE_ID",
    ]
    .iter()
    .find_map(|name| env_value(env, name))
    .map_or_else(|| format!("{host}:{app}:{port}"), str::to_string);
    (app, id, port)
}

/// The host Spring Cloud puts in the id on this machine (InetUtils): the `/etc/hosts` name of the
/// first non-loopback IPv4 address (`ip` lists them by interface index), else that address, else
/// the kernel hostname. In a pod, kubelet's hosts file names the pod IP after the pod.
fn spring_host_of_this_machine() -> String {
    let listing = std::process::Command::new("ip")
        .args(["-4", "-o", "addr", "show", "up"])
        .output()
        .expect("`ip` (iproute2) is needed to model the host Spring Cloud finds");
    let listing = String::from_utf8(listing.stdout).unwrap();
    let address = listing
        .lines()
        .filter_map(|line| line.split_whitespace().nth(3)?.split('/').next())
        .find(|address| !address.starts_with("127."));
    let Some(address) = address else {
        return hostname::get().unwrap().to_string_lossy().into_owned();
    };
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    hosts
        .lines()
        .map(|line| line.split('#').next().unwrap())
        .find_map(|line| {
            let mut fields = line.split_whitespace();
            (fields.next() == Some(address)).then(|| fields.next().unwrap_or(address).to_string())
        })
        .unwrap_or_else(|| address.to_string())
}

/// A double that wants the Secret's credentials when the example configures any.
fn double_for(env: &[(String, String)]) -> EurekaDouble {
    let from_env = env_value(env, "EUREKA_USERNAME").zip(env_value(env, "EUREKA_PASSWORD"));
    let from_file = env_value(env, "EUREKA_HOOK_CREDENTIALS_FILE").map(|path| {
        let content = std::fs::read_to_string(path).unwrap();
        let (user, password) = content.trim_end().split_once(':').unwrap();
        (user.to_string(), password.to_string())
    });
    match (from_env, from_file) {
        (Some((user, password)), _) => EurekaDouble::builder().basic_auth(user, password).start(),
        (None, Some((user, password))) => {
            EurekaDouble::builder().basic_auth(&user, &password).start()
        }
        (None, None) => EurekaDouble::start(),
    }
}

#[test]
fn every_lifecycle_hook_in_the_examples_runs_as_written() {
    let scratch = std::env::temp_dir().join(format!("eureka-hook-examples-{}", std::process::id()));
    let documents = documents();
    let hooks = example_hooks(&documents, &scratch);
    assert!(
        hooks.len() >= 6,
        "expected postStart and preStop hooks in every example, found {}",
        hooks.len()
    );
    let password = secrets(&documents)["eureka-credentials"]["password"].clone();

    for hook_spec in &hooks {
        let (program, args) = hook_spec.command.split_first().unwrap();
        assert!(
            program.ends_with("/eureka-hook"),
            "{}: runs {program}",
            hook_spec.origin
        );
        let double = double_for(&hook_spec.env);
        let (app, id, port) = expected_instance_id(&hook_spec.env);
        let log_file = scratch.join(format!("log-{}-{}", hook_spec.phase, double.addr().port()));

        let prepare = |dry_run: bool| {
            let mut args: Vec<String> = args.to_vec();
            if dry_run {
                args.push("--dry-run".into());
            } else {
                for (index, arg) in args.clone().iter().enumerate() {
                    match arg.as_str() {
                        "--drain" => args[index + 1] = "100ms".into(),
                        "/proc/1/fd/1" => args[index] = log_file.display().to_string(),
                        _ => {}
                    }
                }
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let mut command = hook(&args).command();
            // Only the container's own environment: the hostname is this machine's, as in a pod.
            command.env_remove("EUREKA_HOSTNAME");
            for (name, value) in &hook_spec.env {
                let value = if URL_VARS.contains(&name.as_str()) {
                    point_at(value, &double)
                } else {
                    value.clone()
                };
                command.env(name, value);
            }
            command
        };

        // Exactly the arguments, as a dry run: valid, nothing sent.
        let (stdout, _) = run_example(prepare(true), &hook_spec.origin, &password);
        assert!(
            stdout.contains("dry run: nothing is sent"),
            "{}: {stdout}",
            hook_spec.origin
        );
        assert!(
            double.requests().is_empty(),
            "{}: the dry run sent requests",
            hook_spec.origin
        );

        // For real, against the double.
        let mut instance = InstanceSpec::new(&app, &host_of(&id), port).instance_id(&id);
        instance.host_name = spring_host_of_this_machine();
        double.register(instance);
        if hook_spec.phase == "postStart" {
            double.set_override(&app, &id, "OUT_OF_SERVICE");
        }
        run_example(prepare(false), &hook_spec.origin, &password);
        let state = double.instance(&app, &id).unwrap();
        let expected = if hook_spec.phase == "preStop" {
            "OUT_OF_SERVICE"
        } else {
            "UNKNOWN"
        };
        assert_eq!(
            state.overridden_status, expected,
            "{} {}",
            hook_spec.origin, hook_spec.phase
        );
        let logged = std::fs::read_to_string(&log_file).unwrap_or_default();
        assert!(
            logged.contains("eureka-hook: info:"),
            "{}: nothing in the --log-file copy",
            hook_spec.origin
        );
        assert!(!logged.contains(&password));
    }
    std::fs::remove_dir_all(&scratch).ok();
}

/// Runs one example hook; it must exit 0 and never print the password. Returns stdout and stderr.
fn run_example(command: std::process::Command, origin: &str, password: &str) -> (String, String) {
    let (stdout, stderr) = run_to_exit_0(command, origin);
    assert!(
        !stdout.contains(password) && !stderr.contains(password),
        "password shown: {origin}\n--- stdout\n{stdout}--- stderr\n{stderr}"
    );
    (stdout, stderr)
}

/// Runs a command taken from the docs in a process group of its own; it must exit 0. Returns
/// stdout and stderr.
pub(super) fn run_to_exit_0(mut command: std::process::Command, origin: &str) -> (String, String) {
    let mut running = KilledOnDrop(
        command
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap(),
    );
    let (stdout_pipe, stderr_pipe) = (running.0.stdout.take(), running.0.stderr.take());
    let (stdout, stderr) = std::thread::scope(|scope| {
        let stdout = scope.spawn(|| read_all(stdout_pipe));
        let stderr = read_all(stderr_pipe);
        (stdout.join().unwrap(), stderr)
    });
    let status = running.0.wait().unwrap();
    let report = format!("{origin}: {command:?}\n--- stdout\n{stdout}--- stderr\n{stderr}");
    assert_eq!(status.code(), Some(0), "{report}");
    (stdout, stderr)
}

fn read_all(pipe: Option<impl std::io::Read>) -> String {
    let mut text = String::new();
    if let Some(mut pipe) = pipe {
        pipe.read_to_string(&mut text).unwrap();
    }
    text
}

fn host_of(id: &str) -> String {
    id.split(':').next().unwrap().to_string()
}
