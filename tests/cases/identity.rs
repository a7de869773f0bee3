//! The instance id as Spring Cloud builds it, on every hook: each row of the matrix is a pod
//! environment and the id the app registered with it; prestop must mark that instance, poststart
//! must clear an override on it, and status must show it. Then the fallbacks and diagnoses a
//! user meets when the id is not the one the hook builds.

use crate::support::*;

/// One pod environment and what the app registered with it.
struct Row {
    what: &'static str,
    env: &'static [(&'static str, &'static str)],
    /// The registered app as the registry keys it (`{APP}`).
    app: &'static str,
    id: &'static str,
    host_name: &'static str,
    port: u16,
}

const MATRIX: &[Row] = &[
    Row {
        what: "SERVER_PORT as written",
        env: &[
            ("SPRING_APPLICATION_NAME", "demo-service"),
            ("SERVER_PORT", "9090"),
        ],
        app: "DEMO-SERVICE",
        id: "pod-0:demo-service:9090",
        host_name: "pod-0",
        port: 9090,
    },
    Row {
        what: "SERVER_PORT with a leading zero stays in the id as written",
        env: &[
            ("SPRING_APPLICATION_NAME", "demo-service"),
            ("SERVER_PORT", "08080"),
        ],
        app: "DEMO-SERVICE",
        id: "pod-0:demo-service:08080",
        host_name: "pod-0",
        port: 8080,
    },
    Row {
        what: "SPRING_APPLICATION_INSTANCE_ID beats SERVER_PORT",
        env: &[
            ("SPRING_APPLICATION_NAME", "demo-service"),
            ("SPRING_APPLICATION_INSTANCE_ID", "blue-3"),
            ("SERVER_PORT", "8080"),
        ],
        app: "DEMO-SERVICE",
        id: "pod-0:demo-service:blue-3",
        host_name: "pod-0",
        port: 8080,
    },
    Row {
        what: "no port anywhere: Spring's id is host:app",
        env: &[("SPRING_APPLICATION_NAME", "demo-service")],
        app: "DEMO-SERVICE",
        id: "pod-0:demo-service",
        host_name: "pod-0",
        port: 8080,
    },
    Row {
        what: "server.port only in the app's config file: host:app:port",
        env: &[("SPRING_APPLICATION_NAME", "demo-service")],
        app: "DEMO-SERVICE",
        id: "pod-0:demo-service:8080",
        host_name: "pod-0",
        port: 8080,
    },
    Row {
        what: "PORT gives the port of the first candidate",
        env: &[
            ("SPRING_APPLICATION_NAME", "demo-service"),
            ("PORT", "7000"),
        ],
        app: "DEMO-SERVICE",
        id: "pod-0:demo-service:7000",
        host_name: "pod-0",
        port: 7000,
    },
    Row {
        what: "SERVER_PORT=0: the id keeps :0, the registered port is random",
        env: &[
            ("SPRING_APPLICATION_NAME", "demo-service"),
            ("SERVER_PORT", "0"),
        ],
        app: "DEMO-SERVICE",
        id: "pod-0:demo-service:0",
        host_name: "pod-0",
        port: 41234,
    },
    Row {
        what: "an explicit id beside SERVER_PORT=0",
        env: &[
            ("SPRING_APPLICATION_NAME", "demo-service"),
            ("SERVER_PORT", "0"),
            ("EUREKA_INSTANCE_INSTANCEID", "demo-7f9c"),
        ],
        app: "DEMO-SERVICE",
        id: "demo-7f9c",
        host_name: "pod-0",
        port: 41234,
    },
    Row {
        what: "EUREKA_INSTANCE_INSTANCE_ID, Boot's other spelling",
        env: &[
            ("SPRING_APPLICATION_NAME", "demo-service"),
            ("EUREKA_INSTANCE_INSTANCE_ID", "custom-2"),
        ],
        app: "DEMO-SERVICE",
        id: "custom-2",
        host_name: "pod-0",
        port: 8080,
    },
    Row {
        what: "EUREKA_INSTANCE_APPNAME names the registered app, not the id's",
        env: &[
            ("SPRING_APPLICATION_NAME", "demo-service"),
            ("EUREKA_INSTANCE_APPNAME", "orders-v2"),
            ("SERVER_PORT", "8080"),
        ],
        app: "ORDERS-V2",
        id: "pod-0:demo-service:8080",
        host_name: "pod-0",
        port: 8080,
    },
    Row {
        what: "the id keeps spring.application.name's case",
        env: &[
            ("SPRING_APPLICATION_NAME", "Demo-Service"),
            ("SERVER_PORT", "8080"),
        ],
        app: "DEMO-SERVICE",
        id: "pod-0:Demo-Service:8080",
        host_name: "pod-0",
        port: 8080,
    },
    Row {
        what: "SPRING_CLOUD_CLIENT_HOSTNAME is the host part",
        env: &[
            ("SPRING_APPLICATION_NAME", "demo-service"),
            ("SERVER_PORT", "8080"),
            (
                "SPRING_CLOUD_CLIENT_HOSTNAME",
                "web-0.web.shop.svc.cluster.local",
            ),
        ],
        app: "DEMO-SERVICE",
        id: "web-0.web.shop.svc.cluster.local:demo-service:8080",
        host_name: "web-0.web.shop.svc.cluster.local",
        port: 8080,
    },
    Row {
        what: "a custom id the hook cannot build: the instance with this host and port",
        env: &[("SPRING_APPLICATION_NAME", "demo-service")],
        app: "DEMO-SERVICE",
        id: "demo-service-${random.value}-3b1f",
        host_name: "pod-0",
        port: 8080,
    },
    Row {
        what: "a custom id registered with the host in another case",
        env: &[("SPRING_APPLICATION_NAME", "demo-service")],
        app: "DEMO-SERVICE",
        id: "custom-upper",
        host_name: "POD-0",
        port: 8080,
    },
];

/// The hook as the pod runs it: the row's environment, this pod's hostname only when the row
/// does not give the host itself.
fn hook_for(row: &Row, double: &EurekaDouble, args: &[&str]) -> Hook {
    let mut hook = hook(args).env("EUREKA_CLIENT_SERVICEURL_DEFAULTZONE", double.base_url());
    if row
        .env
        .iter()
        .any(|(name, _)| *name == "SPRING_CLOUD_CLIENT_HOSTNAME")
    {
        hook = hook.without_env("EUREKA_HOSTNAME");
    }
    for (name, value) in row.env {
        hook = hook.env(name, *value);
    }
    hook
}

/// A double with the row's instance registered, as the app registered it.
fn registry_for(row: &Row) -> EurekaDouble {
    let double = EurekaDouble::start();
    let app = row.app.to_lowercase();
    double.register(InstanceSpec::new(&app, row.host_name, row.port).instance_id(row.id));
    double
}

fn state(double: &EurekaDouble, row: &Row) -> (String, String) {
    let state = double
        .instance(row.app, row.id)
        .unwrap_or_else(|| panic!("{}: {} is not registered", row.what, row.id));
    (state.status, state.overridden_status)
}

#[test]
fn prestop_marks_the_instance_spring_registered_for_every_row() {
    for row in MATRIX {
        let double = registry_for(row);
        hook_for(row, &double, &["prestop", "--drain", "0s"])
            .run()
            .assert_code(0)
            .assert_stderr_contains(&format!("instance {} is OUT_OF_SERVICE on 1 of 1", row.id));
        assert_eq!(
            state(&double, row),
            ("OUT_OF_SERVICE".into(), "OUT_OF_SERVICE".into()),
            "{}",
            row.what
        );
    }
}

#[test]
fn poststart_clears_the_override_on_the_instance_spring_registered_for_every_row() {
    for row in MATRIX {
        let double = registry_for(row);
        assert_eq!(
            double.set_override(row.app, row.id, "OUT_OF_SERVICE"),
            200,
            "{}",
            row.what
        );
        hook_for(row, &double, &["poststart", "--wait", "3s", "--strict"])
            .run()
            .assert_code(0)
            .assert_stderr_contains(&format!(
                "removed the OUT_OF_SERVICE override of instance {}",
                row.id
            ));
        assert_eq!(
            state(&double, row),
            ("UNKNOWN".into(), "UNKNOWN".into()),
            "{}",
            row.what
        );
    }
}

#[test]
fn status_shows_the_instance_spring_registered_for_every_row() {
    for row in MATRIX {
        let double = registry_for(row);
        hook_for(row, &double, &["status"])
            .run()
            .assert_code(0)
            .assert_stdout_contains(&format!("instance {} of app {}", row.id, row.app));
        assert!(
            sent(&double, "PUT").is_empty() && sent(&double, "DELETE").is_empty(),
            "{}: status changed the registry",
            row.what
        );
    }
}

#[test]
fn each_hook_says_when_it_uses_the_instance_with_this_host_and_port() {
    let row = &MATRIX[MATRIX.len() - 2];
    let double = registry_for(row);
    let matched = format!(
        "{} is the one instance of DEMO-SERVICE registered with host pod-0",
        row.id
    );
    hook_for(row, &double, &["prestop", "--drain", "0s"])
        .run()
        .assert_code(0)
        .assert_stderr_contains(&matched)
        .assert_stderr_contains("marking it instead");
    hook_for(row, &double, &["poststart", "--wait", "2s"])
        .run()
        .assert_code(0)
        .assert_stderr_contains(&matched)
        .assert_stderr_contains(": using it");
    hook_for(row, &double, &["status"])
        .run()
        .assert_code(0)
        .assert_stdout_contains(&matched);
}

#[test]
fn without_an_index_both_candidate_ids_are_tried_at_once_and_directly() {
    let row = &MATRIX[3];
    let double = registry_for(row);
    hook_for(row, &double, &["prestop", "--drain", "0s"])
        .run()
        .assert_code(0);
    let mut puts = sent(&double, "PUT");
    puts.sort();
    assert_eq!(
        puts,
        [
            "/eureka/apps/DEMO-SERVICE/pod-0:demo-service/status?value=OUT_OF_SERVICE",
            "/eureka/apps/DEMO-SERVICE/pod-0:demo-service:8080/status?value=OUT_OF_SERVICE",
        ]
    );
    double.clear_requests();
    hook_for(row, &double, &["status"]).run().assert_code(0);
    assert!(
        sent(&double, "GET")
            .iter()
            .all(|path| path.starts_with("/eureka/apps/DEMO-SERVICE/pod-0:demo-service")),
        "read directly, not from the app listing: {:?}",
        sent(&double, "GET")
    );
}

#[test]
fn dry_run_shows_the_candidate_ids_and_why() {
    let double = EurekaDouble::start();
    for subcommand in ["prestop", "poststart", "status"] {
        let outcome = hook(&[subcommand, "--dry-run"])
            .env("SPRING_APPLICATION_NAME", "demo-service")
            .env("EUREKA_URL", double.base_url())
            .run();
        outcome
            .assert_code(0)
            .assert_stdout_contains(
                "instance id pod-0:demo-service:8080 or pod-0:demo-service, built as Spring Cloud does",
            )
            .assert_stdout_contains("neither SPRING_APPLICATION_INSTANCE_ID nor SERVER_PORT is set")
            .assert_stdout_contains("host pod-0: from EUREKA_HOSTNAME")
            .assert_stdout_contains("/apps/DEMO-SERVICE/pod-0:demo-service:8080")
            .assert_stdout_contains("/apps/DEMO-SERVICE/pod-0:demo-service")
            .assert_stdout_contains(&format!(
                "  if no id is registered and the listing has this pod's instance: {} {}apps/DEMO-SERVICE/(found-id)",
                if subcommand == "prestop" { "PUT" } else { "GET" },
                double.base_url()
            ))
            .assert_stdout_contains(&format!(
                "  if no id is registered and every listing answers 404: GET {}apps/delta",
                double.base_url()
            ));
        if subcommand == "poststart" {
            outcome.assert_stdout_contains(&format!(
                "  then, if registered with a stale status override and any guard refuses: DELETE {}apps/DEMO-SERVICE/(found-id)/status",
                double.base_url()
            ));
        }
    }
    hook(&["status", "--dry-run"])
        .env("SPRING_APPLICATION_NAME", "demo-service")
        .env("EUREKA_INSTANCE_INSTANCEID", "custom-1")
        .run()
        .assert_code(0)
        .assert_stdout_contains("instance id custom-1 from EUREKA_INSTANCE_INSTANCEID");
    assert!(double.requests().is_empty(), "a dry run sends nothing");
}

#[test]
fn poststart_says_when_the_app_itself_reports_out_of_service() {
    let double = EurekaDouble::start();
    double.register(InstanceSpec::new(APP, HOST, 8080).status("OUT_OF_SERVICE"));
    hook(&["poststart", "--app", APP, "--wait", "2s", "--strict"])
        .env("EUREKA_URL", double.base_url())
        .env("SERVER_PORT", "8080")
        .run()
        .assert_code(0)
        .assert_stderr_contains(&format!(
            "warning: instance {DEFAULT_ID} is OUT_OF_SERVICE by its own report, with no status override: no override is to blame and nothing was removed"
        ));
    assert!(sent(&double, "DELETE").is_empty(), "nothing to remove");
    assert_instance(&double, DEFAULT_ID, "OUT_OF_SERVICE", "UNKNOWN");
}

#[test]
fn a_url_without_the_eureka_path_is_named_as_the_likely_cause_on_every_hook() {
    let double = registry_with_instance();
    let root = double.base_url().replace("/eureka/", "/");
    let cause = format!(
        "{root} (try {root}eureka/) does not answer GET apps/delta as a Eureka server does: the URL is probably missing the /eureka/ path"
    );
    for (args, code) in [
        (&["prestop", "--drain", "0s"][..], 3),
        (&["poststart", "--wait", "1s", "--strict"][..], 3),
        (&["status"][..], 3),
    ] {
        hook(args)
            .env("SPRING_APPLICATION_NAME", APP)
            .env("SERVER_PORT", "8080")
            .env("EUREKA_URL", &root)
            .run()
            .assert_code(code)
            .assert_stderr_contains(&cause);
    }
    assert_instance(&double, DEFAULT_ID, "UP", "UNKNOWN");
}

#[test]
fn a_misspelled_variable_gets_a_warning_naming_it() {
    let double = registry_with_instance();
    hook(&["status"])
        .env("SPRING_APPLICATION_NAME", APP)
        .env("SERVER_PORT", "8080")
        .env("EUREKA_URL", double.base_url())
        .env("EUREKA_CLIENT_SERVICE_URL_DEFAULTZONE", "http://elsewhere:8761/eureka/")
        .run()
        .assert_code(0)
        .assert_stderr_contains(
            "warning: EUREKA_CLIENT_SERVICE_URL_DEFAULTZONE is set but eureka-hook does not read it: did you mean EUREKA_CLIENT_SERVICEURL_DEFAULTZONE?",
        );
    // Without the app name the registry is asked which instance has this pod's host (pod-0),
    // and the warning still says why the name was missed.
    let outcome = hook(&["prestop", "--drain", "0s"])
        .env("SPRING_APPLICATION_NAM", APP)
        .env("EUREKA_URL", double.base_url())
        .run();
    outcome
        .assert_code(0)
        .assert_stderr_contains("did you mean SPRING_APPLICATION_NAME?")
        .assert_stderr_contains("no app name: looking in the registry");
    assert_eq!(
        sent(&double, "PUT"),
        [format!(
            "/eureka/apps/DEMO-SERVICE/{DEFAULT_ID}/status?value=OUT_OF_SERVICE"
        )]
    );
}

#[test]
fn a_peer_listed_twice_is_asked_once() {
    let double = registry_with_instance();
    let with_slash = double.base_url();
    let without_slash = with_slash.trim_end_matches('/').to_string();
    hook(&["prestop", "--drain", "0s"])
        .env("SPRING_APPLICATION_NAME", APP)
        .env("SERVER_PORT", "8080")
        .env(
            "EUREKA_CLIENT_SERVICEURL_DEFAULTZONE",
            format!("{with_slash},{without_slash}"),
        )
        .run()
        .assert_code(0)
        .assert_stderr_contains("OUT_OF_SERVICE on 1 of 1 peer")
        .assert_stderr_contains("is listed more than once");
    assert_eq!(sent(&double, "PUT").len(), 1);
}

/// kubelet's `/etc/hosts` for a StatefulSet pod behind a headless service, naming `address`,
/// and a Eureka peer whose name is written in another case than in its URL.
fn kubelet_hosts_file(address: &str) -> TempFile {
    TempFile::new(
        "hosts",
        format!(
            "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n\
             {address}\tweb-0.web.shop.svc.cluster.local\tweb-0\n\n\
             # Entries added by HostAliases.\n127.0.0.1\tEureka-Peer.Example\n"
        ),
    )
}

/// The network a hook sees in [`in_pod_namespaces`].
#[derive(Clone, Copy, PartialEq)]
enum Network {
    /// This machine's.
    Machine,
    /// A namespace of its own whose only address (besides loopback) is `10.244.1.17`, as a pod's.
    PodAddress,
    /// A namespace of its own with loopback only.
    LoopbackOnly,
}

/// `binary args…` run by `unshare` in a mount namespace of its own (and a network namespace as
/// `network` says), with `hosts` mounted on `/etc/hosts`: the real files and system calls, as in
/// a pod. Needs root, `unshare` and `ip`.
fn in_pod_namespaces(hosts: &TempFile, network: Network, binary: &str, args: &[&str]) -> Hook {
    assert!(
        running_as_root(),
        "this test needs root (unshare and mount); CI and the dev machines run as root"
    );
    let unshare = find_on_path("unshare");
    let ip = find_on_path("ip");
    let mount = find_on_path("mount");
    let ip = ip.display();
    // InetUtils only counts an interface that is up *and* running; a veth gets its carrier a
    // moment after both ends are up, so wait for it (at most 2 s) before the hook looks.
    let wait_for_carrier = format!(
        "i=0; until {ip} link show v0 | grep -q 'state UP'; do \
         i=$((i+1)); [ $i -lt 200 ] || break; sleep 0.01; done; "
    );
    let setup = match network {
        Network::Machine => String::new(),
        Network::PodAddress => format!(
            "{ip} link set lo up && {ip} link add v0 type veth peer name v1 && \
             {ip} addr add 10.244.1.17/24 dev v0 && {ip} link set v1 up && {ip} link set v0 up && \
             {wait_for_carrier}"
        ),
        Network::LoopbackOnly => format!("{ip} link set lo up && "),
    };
    let script = format!(
        "{setup}{} --bind \"$0\" /etc/hosts && exec \"$@\"",
        mount.display()
    );
    let namespaces = if network == Network::Machine {
        "-m"
    } else {
        "-mn"
    };
    let mut command = vec![
        namespaces,
        "/bin/sh",
        "-c",
        &script,
        hosts.path_str(),
        binary,
    ];
    command.extend(args);
    hook(&command)
        .binary(unshare)
        .without_env("EUREKA_HOSTNAME")
        .env("SPRING_APPLICATION_NAME", APP)
        .env("SERVER_PORT", "8080")
}

/// This machine's first non-loopback IPv4 address, as `ip` lists them (by interface index).
fn first_address() -> String {
    let listing = std::process::Command::new(find_on_path("ip"))
        .args(["-4", "-o", "addr", "show", "up"])
        .output()
        .unwrap();
    String::from_utf8(listing.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| line.split_whitespace().nth(3)?.split('/').next())
        .find(|address| !address.starts_with("127."))
        .expect("this machine has a non-loopback IPv4 address")
        .to_string()
}

#[test]
#[ignore = "needs root (unshare and mount for a pod-like namespace); scripts/test.sh runs it"]
fn the_host_part_is_the_etc_hosts_name_of_the_pods_first_address() {
    let hosts = kubelet_hosts_file("10.244.1.17");
    let binary = env!("CARGO_BIN_EXE_eureka-hook");
    for subcommand in ["prestop", "poststart", "status"] {
        in_pod_namespaces(&hosts, Network::PodAddress, binary, &[subcommand, "--dry-run"])
            .run()
            .assert_code(0)
            .assert_stdout_contains(
                "instance id web-0.web.shop.svc.cluster.local:demo-service:8080 built as Spring Cloud does",
            )
            .assert_stdout_contains("the /etc/hosts name of 10.244.1.17, this machine's first non-loopback IPv4 address");
    }
    let unnamed = TempFile::new("hosts-without-the-pod", "127.0.0.1\tlocalhost\n");
    in_pod_namespaces(
        &unnamed,
        Network::PodAddress,
        binary,
        &["status", "--dry-run"],
    )
    .run()
    .assert_code(0)
    .assert_stdout_contains("instance id 10.244.1.17:demo-service:8080")
    .assert_stdout_contains("which /etc/hosts does not name");
    let kernel = hostname::get().unwrap().to_string_lossy().into_owned();
    in_pod_namespaces(
        &hosts,
        Network::LoopbackOnly,
        binary,
        &["status", "--dry-run"],
    )
    .run()
    .assert_code(0)
    .assert_stdout_contains(&format!("instance id {kernel}:demo-service:8080"))
    .assert_stdout_contains("the kernel hostname (this machine has no non-loopback IPv4 address)");
}

#[test]
fn bad_spring_values_are_bad_input_naming_the_variable_on_every_hook() {
    let double = registry_with_instance();
    for (var, value, message) in [
        (
            "SERVER_PORT",
            "http",
            "SERVER_PORT: 'http' is not a port number",
        ),
        ("PORT", "70000", "PORT: '70000' is not a port number"),
        (
            "SPRING_APPLICATION_INSTANCE_ID",
            "blue 3",
            "SPRING_APPLICATION_INSTANCE_ID: the instance id it makes 'pod-0:demo-service:blue 3' contains white space",
        ),
        (
            "SPRING_CLOUD_CLIENT_HOSTNAME",
            "web 0",
            "SPRING_CLOUD_CLIENT_HOSTNAME: 'web 0' is not a host name",
        ),
    ] {
        for args in [
            &["prestop", "--drain", "5s"][..],
            &["poststart", "--wait", "5s"],
            &["status"],
        ] {
            let mut hook = hook(args);
            if var == "SPRING_CLOUD_CLIENT_HOSTNAME" {
                // EUREKA_HOSTNAME would win over it.
                hook = hook.without_env("EUREKA_HOSTNAME");
            }
            hook.env("SPRING_APPLICATION_NAME", APP)
                .env("EUREKA_URL", double.base_url())
                .env(var, value)
                .run()
                .assert_code(2)
                .assert_stderr_contains(message)
                .assert_took_less_than(std::time::Duration::from_secs(2));
        }
    }
    assert!(double.requests().is_empty(), "bad input sends nothing");
}

/// A real prestop in a pod-like mount namespace: the id's host from `/etc/hosts`, and the peer's
/// name found there although its case differs.
fn prestop_in_a_pod(binary: &str) {
    let double = EurekaDouble::start();
    let fqdn = "web-0.web.shop.svc.cluster.local";
    double.register(InstanceSpec::new(APP, fqdn, 8080));
    let hosts = kubelet_hosts_file(&first_address());
    let url = double
        .base_url()
        .replace("127.0.0.1", "eureka-peer.EXAMPLE");
    in_pod_namespaces(
        &hosts,
        Network::Machine,
        binary,
        &["prestop", "--drain", "0s"],
    )
    .env("EUREKA_CLIENT_SERVICEURL_DEFAULTZONE", url)
    .run()
    .assert_code(0)
    .assert_stderr_contains(&format!(
        "instance {fqdn}:demo-service:8080 is OUT_OF_SERVICE on 1 of 1 peer"
    ));
    assert_instance(
        &double,
        &format!("{fqdn}:demo-service:8080"),
        "OUT_OF_SERVICE",
        "OUT_OF_SERVICE",
    );
}

#[test]
#[ignore = "needs root (unshare and mount for a pod-like namespace); scripts/test.sh runs it"]
fn prestop_in_a_pod_marks_the_fqdn_id_and_finds_the_peer_in_any_case() {
    prestop_in_a_pod(env!("CARGO_BIN_EXE_eureka-hook"));
}

#[test]
#[ignore = "needs root (unshare and mount) and the static release binary (EUREKA_HOOK_STATIC_BIN); scripts/test.sh runs it"]
fn the_static_binary_finds_hosts_file_names_in_any_case_although_musl_does_not() {
    let binary = crate::cases::static_binary::static_binary();
    prestop_in_a_pod(binary.to_str().unwrap());
}

#[test]
fn the_fallback_recognises_the_instance_by_this_machines_address_without_pod_ip() {
    let double = EurekaDouble::start();
    let address = first_address();
    double.register(
        InstanceSpec::new(APP, "registered-by-ip", 8080)
            .instance_id("by-address-1")
            .ip_addr(&address),
    );
    hook(&["prestop", "--drain", "0s"])
        .env("SPRING_APPLICATION_NAME", APP)
        .env("EUREKA_URL", double.base_url())
        .run()
        .assert_code(0)
        .assert_stderr_contains(&format!(
            "by-address-1 is the one instance of DEMO-SERVICE registered with host pod-0 or {address} and port 8080"
        ));
    assert_instance(&double, "by-address-1", "OUT_OF_SERVICE", "OUT_OF_SERVICE");
}

/// A pod spec or compose file that names Spring's properties as they are written in
/// application.yml: Spring Boot binds such variables, so the hook reads them too.
#[test]
fn dotted_property_names_in_the_environment_reach_the_registry_they_name() {
    let double = registry_with_instance();
    let outcome = hook(&["prestop", "--drain", "0s"])
        .env("eureka.client.serviceUrl.defaultZone", double.base_url())
        .env("spring.application.name", APP)
        .env("server.port", "8080")
        .run();
    outcome
        .assert_code(0)
        .assert_stderr_contains("OUT_OF_SERVICE on 1 of 1 peer")
        .assert_stderr_contains(
            "EUREKA_CLIENT_SERVICEURL_DEFAULTZONE is read from eureka.client.serviceUrl.defaultZone",
        );
    assert!(
        !outcome.stderr.contains("localhost:8761"),
        "{}",
        outcome.stderr
    );
    assert!(
        !outcome.stderr.contains("does not read it"),
        "{}",
        outcome.stderr
    );
    assert_instance(&double, DEFAULT_ID, "OUT_OF_SERVICE", "OUT_OF_SERVICE");
}

#[test]
fn spring_application_json_outranks_the_plain_variables_as_in_spring_boot() {
    let double = registry_with_instance();
    let json = format!(
        r#"{{"spring":{{"application":{{"name":"{APP}"}}}},"server.port":8080,
            "eureka":{{"client":{{"serviceUrl":{{"defaultZone":"{}","east":"http://east/eureka/"}}}}}}}}"#,
        double.base_url()
    );
    hook(&["prestop", "--drain", "0s"])
        .env("SPRING_APPLICATION_JSON", json)
        .env("SPRING_APPLICATION_NAME", "not-this-app")
        .env("SERVER_PORT", "9999")
        .run()
        .assert_code(0)
        .assert_stderr_contains("OUT_OF_SERVICE on 1 of 1 peer")
        .assert_stderr_contains(
            "SPRING_APPLICATION_NAME is read from SPRING_APPLICATION_JSON (key spring.application.name)",
        )
        .assert_stderr_contains(
            "warning: SPRING_APPLICATION_JSON key eureka.client.serviceUrl.east is set: it lists the Eureka servers of zone 'east'",
        );
    assert_instance(&double, DEFAULT_ID, "OUT_OF_SERVICE", "OUT_OF_SERVICE");
}

#[test]
fn an_upper_case_scheme_is_http_and_a_zone_list_the_hook_does_not_read_is_named() {
    let double = registry_with_instance();
    hook(&["status"])
        .env("SPRING_APPLICATION_NAME", APP)
        .env("SERVER_PORT", "8080")
        .env("EUREKA_URL", double.base_url().replacen("http://", "HTTP://", 1))
        .env("EUREKA_CLIENT_SERVICEURL_ZONE1", "http://zone1:8761/eureka/")
        .run()
        .assert_code(0)
        .assert_stdout_contains(" UP ")
        .assert_stderr_contains(
            "warning: EUREKA_CLIENT_SERVICEURL_ZONE1 is set: it lists the Eureka servers of zone 'zone1'",
        );
}
