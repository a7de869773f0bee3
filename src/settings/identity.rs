//! What identifies this instance in the registry: the app it registered under, the instance id
//! (or the two ids Spring Cloud may have used) and where it came from, and the host, addresses
//! and port it registered with; all from the inputs the app itself reads.
//!
//! Order: the hook's own flags and variables, then Spring's variables, then Spring Cloud's own
//! look-up on this machine (`host`). The machine is injected ([`Machine`]).

use std::fmt::{self, Write as _};
use std::net::Ipv4Addr;
use std::sync::OnceLock;

use anyhow::Result;

use super::host::{HostSource, looked_up_host, spring_address};
use super::machine::{Machine, SharedMachine};
use super::spring_id::{RegisteredPort, SpringIds, spring_ids, spring_port};
use crate::cli::CommonArgs;
use crate::exit::BadInput;
use crate::values::{self, AppName, InstanceId};
use crate::vars::{self, EnvLookup, set};

const DEFAULT_PORT: u16 = 8080;

/// Where the instance id came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdSource {
    /// Given outright by the flag or variable named.
    Given(&'static str),
    /// Spring Cloud's `{host}:{app}:{index}`, with the index from the variable named (none when
    /// the port is random and no variable gives one).
    Spring { index_from: Option<&'static str> },
    /// Spring Cloud's rule with no index in the environment: `{host}:{app}:{port}` when the
    /// app's config file sets `server.port`, else `{host}:{app}`; both are tried.
    SpringWithOrWithoutPort,
    /// No app name: the instance the registry lists with this pod's address and port, and how
    /// it was found.
    Found(String),
}

/// Where this pod is and which port it serves, as the registry may have recorded it: the
/// `hostName`, `ipAddr` and `port` to recognise this pod's instance by.
#[derive(Clone, Debug)]
pub struct ThisPod {
    /// The host the id is built on and the registry may show as `hostName`; `None` only if an id
    /// was given and the machine could not say.
    pub hostname: Option<String>,
    /// Where the host came from.
    pub host_source: Option<HostSource>,
    /// From `$POD_IP` (the Downward API convention): matched against `ipAddr` after a 404.
    pub pod_ip: Option<String>,
    /// This machine's first non-loopback IPv4 address, the one Spring Cloud registers as `ipAddr`.
    pub interface_address: InterfaceAddressOnDemand,
    /// From `EUREKA_INSTANCE_HOSTNAME` and `EUREKA_INSTANCE_IPADDRESS`: the `hostName` and
    /// `ipAddr` the app registers instead of its own, when set.
    pub registered_as: Vec<String>,
    /// From --port, `EUREKA_PORT`, `SERVER_PORT`, `PORT`, or 8080, as Spring Cloud registers it.
    pub port: RegisteredPort,
    /// The flag or variable `port` came from; `None` when it is Spring's default, which the
    /// app's own config file may change.
    pub port_from: Option<&'static str>,
}

impl ThisPod {
    /// The host names and IP addresses this instance may have registered with.
    pub fn addresses(&self) -> impl Iterator<Item = &str> {
        let mut seen: Vec<&str> = Vec::new();
        for address in self
            .hostname
            .iter()
            .chain(&self.pod_ip)
            .map(String::as_str)
            .chain(self.interface_address.get())
            .chain(self.registered_as.iter().map(String::as_str))
        {
            if !seen.iter().any(|known| known.eq_ignore_ascii_case(address)) {
                seen.push(address);
            }
        }
        seen.into_iter()
    }

    /// The port an instance of this pod must have, when something says: the flag or a variable
    /// (a random `server.port` says any port; Spring's default of 8080 says nothing, as the
    /// app's config file may set another).
    pub fn stated_port(&self) -> Option<u16> {
        self.port_from.and(self.port.known())
    }
}

#[derive(Clone, Debug)]
pub struct Identity {
    /// The app as registered: --app or its variables (`EUREKA_APP`, `EUREKA_INSTANCE_APPNAME`,
    /// `SPRING_APPLICATION_NAME`), or found in the registry.
    pub app: AppName,
    /// The id to try first: given, built as Spring Cloud builds it, or found in the registry.
    pub instance_id: InstanceId,
    /// The id to try as well when the environment does not say which of Spring's two it is.
    pub other_candidate: Option<InstanceId>,
    pub id_source: IdSource,
    pub pod: ThisPod,
}

/// Who this pod is: its app and id(s) when the environment names the app, else only what the
/// registry can recognise it by (`hooks::locate::by_address` finds the rest).
#[derive(Clone, Debug)]
pub enum Whom {
    Named(Identity),
    Unnamed(Unnamed),
}

/// This pod without an app name.
#[derive(Clone, Debug)]
pub struct Unnamed {
    pub pod: ThisPod,
    /// --instance-id or its variables, with the name that gave it.
    pub given_id: Option<(InstanceId, &'static str)>,
}

impl Unnamed {
    /// The identity of the instance found in the registry as this pod's.
    pub fn found(self, app: AppName, id: InstanceId, how: String) -> Identity {
        Identity {
            app,
            instance_id: id,
            other_candidate: None,
            id_source: IdSource::Found(how),
            pod: self.pod,
        }
    }
}

impl Whom {
    pub fn resolve(
        common: &CommonArgs,
        env: EnvLookup,
        machine: &SharedMachine,
        warnings: &mut Vec<String>,
    ) -> Result<Whom> {
        let app = registered_app(common, env)?;
        let port = registered_port(common.port, env);
        let (hostname, host_source, interface_address) = id_host(common, env, machine, warnings)?;
        let given_id = vars::pick_named(
            common.instance_id.clone(),
            "--instance-id",
            vars::INSTANCE_ID,
            env,
            InstanceId::parse,
        )?;
        // A port the id does not need is no reason to fail: it only narrows the fallback.
        let (port, port_from) = match (port, &given_id) {
            (Ok(port), _) => port,
            (Err(err), Some(_)) if err.is::<BadInput>() => {
                warnings.push(format!(
                    "{err:#}; the instance id is given, so the fallback matches any port"
                ));
                (RegisteredPort::Random, None)
            }
            (Err(err), _) => return Err(err),
        };
        let pod = ThisPod {
            hostname,
            host_source,
            pod_ip: set(env, vars::POD_IP),
            interface_address,
            registered_as: vars::REGISTERED_ADDRESSES
                .iter()
                .filter_map(|var| set(env, var))
                .collect(),
            port,
            port_from,
        };
        let Some(app) = app else {
            if pod.addresses().next().is_none() {
                return Err(BadInput::new(format!(
                    "no application name, and no address of this pod to find its instance                      by: pass --app NAME (or set {}), or --hostname",
                    vars::APP.join(" or ")
                ))
                .into());
            }
            return Ok(Whom::Unnamed(Unnamed { pod, given_id }));
        };
        let (instance_id, other_candidate, id_source) = if let Some((id, from)) = given_id {
            (id, None, IdSource::Given(from))
        } else {
            let host = pod.hostname.as_deref().ok_or_else(|| {
                BadInput::new(
                    "cannot build the default instance id: this machine has no \
                     non-loopback IPv4 address and its hostname cannot be read: pass \
                     --hostname or --instance-id",
                )
            })?;
            spring_default(host, &app, common, env, port)?
        };
        Ok(Whom::Named(Identity {
            app,
            instance_id,
            other_candidate,
            id_source,
            pod,
        }))
    }
}

impl Identity {
    /// The ids to look up, in order.
    pub fn candidates(&self) -> Vec<&InstanceId> {
        std::iter::once(&self.instance_id)
            .chain(&self.other_candidate)
            .collect()
    }

    /// The candidate ids for a message: `a` or `a (or b)`.
    pub fn shown_ids(&self) -> String {
        match &self.other_candidate {
            Some(other) => format!("{} (or {other})", self.instance_id),
            None => self.instance_id.to_string(),
        }
    }

    /// The host names and IP addresses this instance may have registered with.
    pub fn addresses(&self) -> impl Iterator<Item = &str> {
        self.pod.addresses()
    }

    /// Which id(s) the hook uses and why, for --dry-run and the first log line.
    pub fn explain(&self) -> String {
        let mut text = match &self.id_source {
            IdSource::Given(from) => format!("instance id {} from {from}", self.instance_id),
            IdSource::Spring {
                index_from: Some(index_from),
            } => format!(
                "instance id {} built as Spring Cloud does, {{host}}:{{app}}:{{index}} with the \
                 index from {index_from}",
                self.instance_id
            ),
            IdSource::Spring { index_from: None } => format!(
                "instance id {} built as Spring Cloud does, {{host}}:{{app}} (the port is random \
                 and neither {} nor {} is set)",
                self.instance_id,
                vars::SPRING_INSTANCE_INDEX,
                vars::SERVER_PORT
            ),
            IdSource::SpringWithOrWithoutPort => format!(
                "instance id {} or {}, built as Spring Cloud does: neither {} nor {} is set, so \
                 the index is server.port from the app's own config file, or missing; both are tried",
                self.instance_id,
                self.other_candidate.as_ref().map_or("", InstanceId::as_str),
                vars::SPRING_INSTANCE_INDEX,
                vars::SERVER_PORT,
            ),
            IdSource::Found(how) => format!(
                "instance id {} of app {}, found in the registry: {how}",
                self.instance_id,
                self.app.registry_name()
            ),
        };
        if let (Some(host), Some(source)) = (&self.pod.hostname, &self.pod.host_source) {
            // Writing to a String cannot fail.
            let _ = write!(text, "; host {host}: {}", source.describe());
        }
        text
    }
}

/// The registered app: --app, else the first of its variables that is set; `None` when none
/// is (the registry is then asked which instance is this pod's).
fn registered_app(common: &CommonArgs, env: EnvLookup) -> Result<Option<AppName>> {
    if let Some(app) = &common.app {
        return Ok(Some(app.clone()));
    }
    Ok(vars::first_env_named(vars::APP, env, AppName::parse)?.map(|(app, _)| app))
}

/// The host the id is built on and where it came from: --hostname or its variables, else what
/// Spring Cloud's `InetUtils` finds for this machine's interface address, else the kernel
/// hostname; and that interface address, read now only if the host needed it.
fn id_host(
    common: &CommonArgs,
    env: EnvLookup,
    machine: &SharedMachine,
    warnings: &mut Vec<String>,
) -> Result<(Option<String>, Option<HostSource>, InterfaceAddressOnDemand)> {
    let given_host = vars::pick_named(
        common.hostname.clone(),
        "--hostname",
        vars::HOSTNAME,
        env,
        values::parse_hostname,
    )?;
    if let Some((host, from)) = given_host {
        return Ok((
            Some(host),
            Some(HostSource::Given(from)),
            InterfaceAddressOnDemand::read_when_asked(machine.clone()),
        ));
    }
    let interface_address = first_interface_address(machine.as_ref());
    let hosts_file = match machine.hosts_file() {
        Ok(text) => Some(text),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        // Java's name service skips a hosts file it cannot use and asks DNS; so does the hook,
        // which has no DNS reverse lookup: the address then names itself.
        Err(err) => {
            warnings.push(format!(
                "{}: {err}; it is taken to name no host, so the instance id's host is this \
                 machine's address (pass --hostname if Spring finds another name)",
                crate::hosts_file::HOSTS_FILE
            ));
            None
        }
    };
    let kernel = || machine.hostname().ok().filter(|name| !name.is_empty());
    let (hostname, host_source) = looked_up_host(hosts_file.as_deref(), interface_address, kernel)
        .map_or((None, None), |(host, source)| (Some(host), Some(source)));
    Ok((
        hostname,
        host_source,
        InterfaceAddressOnDemand::known(interface_address),
    ))
}

/// The interface address Spring Cloud registers as `ipAddr`, if the machine can list one.
fn first_interface_address(machine: &dyn Machine) -> Option<Ipv4Addr> {
    machine
        .ipv4_addresses()
        .ok()
        .and_then(|addresses| spring_address(&addresses))
}

/// This machine's interface address (as [`first_interface_address`]), read from the machine the
/// first time it is asked for. With the host given, only matching an instance by address (after
/// a 404) needs it, and listing the network interfaces is a measurable part of a run.
#[derive(Clone)]
pub struct InterfaceAddressOnDemand {
    machine: Option<SharedMachine>,
    address: OnceLock<Option<String>>,
}

impl InterfaceAddressOnDemand {
    /// An address already read (or known to be missing).
    pub fn known(address: Option<Ipv4Addr>) -> Self {
        InterfaceAddressOnDemand {
            machine: None,
            address: OnceLock::from(address.map(|address| address.to_string())),
        }
    }

    /// The address of `machine`, read when first asked for.
    pub fn read_when_asked(machine: SharedMachine) -> Self {
        InterfaceAddressOnDemand {
            machine: Some(machine),
            address: OnceLock::new(),
        }
    }

    pub fn get(&self) -> Option<&str> {
        self.address
            .get_or_init(|| {
                let machine = self.machine.as_deref()?;
                first_interface_address(machine).map(|address| address.to_string())
            })
            .as_deref()
    }
}

impl fmt::Debug for InterfaceAddressOnDemand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.address.get() {
            Some(address) => address.fmt(f),
            None => f.write_str("(not read yet)"),
        }
    }
}

/// Spring Cloud's id, or its two candidates, on `host`.
fn spring_default(
    host: &str,
    app: &AppName,
    common: &CommonArgs,
    env: EnvLookup,
    port: RegisteredPort,
) -> Result<(InstanceId, Option<InstanceId>, IdSource)> {
    // The id keeps spring.application.name as the app has it; the hook's own app setting stands
    // in for it when it is only in the app's config file.
    let spring_name = vars::first_env_named(&[vars::SPRING_APP_NAME], env, AppName::parse)?;
    let app_part = match (&spring_name, &common.app, set(env, vars::APP[0])) {
        (Some((name, _)), _, _) => Some(name.as_given().to_string()),
        (None, Some(flag), _) => Some(flag.as_given().to_string()),
        (None, None, Some(_)) => Some(app.as_given().to_string()),
        // Only EUREKA_INSTANCE_APPNAME: Spring has no application name for the id.
        (None, None, None) => None,
    };
    let index = [vars::SPRING_INSTANCE_INDEX, vars::SERVER_PORT]
        .into_iter()
        .find_map(|var| set(env, var).map(|text| (text, var)));
    let ids = spring_ids(
        host,
        app_part.as_deref(),
        index.as_ref().map(|(text, _)| text.as_str()),
        port,
    );
    let checked = |text: &str, blame: &str| {
        InstanceId::parse(text).map_err(|message| {
            BadInput::new(format!("{blame}: the instance id it makes {message}"))
        })
    };
    let blame = index.as_ref().map_or("--hostname", |(_, var)| var);
    Ok(match ids {
        SpringIds::Known(id) => (
            checked(&id, blame)?,
            None,
            IdSource::Spring {
                index_from: index.map(|(_, var)| var),
            },
        ),
        SpringIds::EitherOf {
            with_port,
            without_port,
        } => (
            checked(&with_port, blame)?,
            Some(checked(&without_port, blame)?),
            IdSource::SpringWithOrWithoutPort,
        ),
    })
}

/// --port or `EUREKA_PORT` (1 to 65535), else Spring's `SERVER_PORT`, then `PORT` (as Spring
/// parses them; 0 is a random port), else 8080.
/// With the flag or variable that gave it (`None` for the default).
fn registered_port(
    flag: Option<u16>,
    env: EnvLookup,
) -> Result<(RegisteredPort, Option<&'static str>)> {
    if let Some((port, from)) =
        vars::pick_named(flag, "--port", &vars::PORT[..1], env, values::parse_port)?
    {
        return Ok((RegisteredPort::Known(port), Some(from)));
    }
    for var in &vars::PORT[1..] {
        if let Some(text) = set(env, var) {
            let port = spring_port(&text).ok_or_else(|| {
                BadInput::new(format!(
                    "{var}: '{}' is not a port number: give a number from 0 (a random port) to 65535",
                    text.escape_debug()
                ))
            })?;
            return Ok((port, Some(*var)));
        }
    }
    Ok((RegisteredPort::Known(DEFAULT_PORT), None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use crate::settings::machine::fake::FakeMachine;
    use clap::Parser;
    use std::collections::HashMap;

    const HOSTS: &str = "127.0.0.1\tlocalhost\n\
        10.244.1.17\tweb-0.web.shop.svc.cluster.local\tweb-0\n";

    /// A named identity, with the warnings its resolution gave.
    #[derive(Debug)]
    struct Resolved {
        identity: Identity,
        warnings: Vec<String>,
    }

    impl std::ops::Deref for Resolved {
        type Target = Identity;
        fn deref(&self) -> &Identity {
            &self.identity
        }
    }

    fn resolve(args: &[&str], vars: &[(&str, &str)], machine: &FakeMachine) -> Result<Resolved> {
        let cli = Cli::try_parse_from(["eureka-hook", "status"].iter().chain(args)).unwrap();
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut warnings = Vec::new();
        match Whom::resolve(
            &cli.common,
            &|name| vars.get(name).cloned(),
            &machine.shared(),
            &mut warnings,
        )? {
            Whom::Named(identity) => Ok(Resolved { identity, warnings }),
            Whom::Unnamed(_) => panic!("no app name"),
        }
    }

    fn ids(args: &[&str], vars: &[(&str, &str)]) -> Vec<String> {
        let machine = FakeMachine::named("kernel-name").with_address("10.244.1.17", HOSTS);
        let identity = resolve(args, vars, &machine).unwrap();
        identity
            .candidates()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    const FQDN: &str = "web-0.web.shop.svc.cluster.local";

    #[test]
    fn a_hosts_file_that_cannot_be_used_names_no_host_and_says_so() {
        let vars = [("EUREKA_APP", "demo"), ("SERVER_PORT", "8080")];
        let mut odd = FakeMachine::named("kernel-name").with_address("10.244.1.17", HOSTS);
        odd.hosts_file_error = Some(std::io::ErrorKind::InvalidData);
        let identity = resolve(&[], &vars, &odd).unwrap();
        assert_eq!(identity.instance_id.as_str(), "10.244.1.17:demo:8080");
        assert_eq!(identity.warnings.len(), 1, "{:?}", identity.warnings);
        assert!(
            identity.warnings[0]
                .starts_with("/etc/hosts: refused by this fake; it is taken to name no host"),
            "{:?}",
            identity.warnings
        );
        let mut missing = FakeMachine::named("kernel-name").with_address("10.244.1.17", HOSTS);
        missing.hosts_file = None;
        let identity = resolve(&[], &vars, &missing).unwrap();
        assert_eq!(identity.instance_id.as_str(), "10.244.1.17:demo:8080");
        assert!(identity.warnings.is_empty(), "{:?}", identity.warnings);
    }

    #[test]
    fn an_explicit_id_wins_and_names_where_it_came_from() {
        for (vars, from) in [
            (
                &[
                    ("EUREKA_INSTANCE_INSTANCEID", "a"),
                    ("EUREKA_INSTANCE_INSTANCE_ID", "b"),
                ][..],
                "EUREKA_INSTANCE_INSTANCEID",
            ),
            (
                &[("EUREKA_INSTANCE_INSTANCE_ID", "b")][..],
                "EUREKA_INSTANCE_INSTANCE_ID",
            ),
            (
                &[
                    ("EUREKA_INSTANCE_ID", "c"),
                    ("EUREKA_INSTANCE_INSTANCEID", "a"),
                ][..],
                "EUREKA_INSTANCE_ID",
            ),
        ] {
            let machine = FakeMachine::named("k");
            let mut all = vars.to_vec();
            all.extend([("SPRING_APPLICATION_NAME", "demo"), ("SERVER_PORT", "0")]);
            let identity = resolve(&[], &all, &machine).unwrap();
            assert_eq!(identity.id_source, IdSource::Given(from));
            assert_eq!(identity.candidates().len(), 1);
            assert_eq!(
                identity.pod.port,
                RegisteredPort::Random,
                "SERVER_PORT=0 is no reason to fail"
            );
        }
        assert_eq!(
            ids(
                &["--instance-id", "flag-id", "--app", "demo"],
                &[("EUREKA_INSTANCE_ID", "x")]
            ),
            ["flag-id"]
        );
    }

    #[test]
    fn the_index_is_the_spring_instance_id_else_server_port_as_written() {
        let app = ("SPRING_APPLICATION_NAME", "demo-Service");
        assert_eq!(
            ids(
                &[],
                &[
                    app,
                    ("SPRING_APPLICATION_INSTANCE_ID", "blue-3"),
                    ("SERVER_PORT", "9090")
                ]
            ),
            [format!("{FQDN}:demo-Service:blue-3")]
        );
        assert_eq!(
            ids(&[], &[app, ("SERVER_PORT", "08080")]),
            [format!("{FQDN}:demo-Service:08080")]
        );
        assert_eq!(
            ids(&[], &[app, ("SERVER_PORT", "0")]),
            [format!("{FQDN}:demo-Service:0")]
        );
    }

    #[test]
    fn without_an_index_both_of_springs_ids_are_candidates() {
        assert_eq!(
            ids(&[], &[("SPRING_APPLICATION_NAME", "demo")]),
            [format!("{FQDN}:demo:8080"), format!("{FQDN}:demo")]
        );
        // --port gives the port of the first candidate, not an index.
        assert_eq!(
            ids(&["--port", "9000"], &[("SPRING_APPLICATION_NAME", "demo")]),
            [format!("{FQDN}:demo:9000"), format!("{FQDN}:demo")]
        );
        assert_eq!(
            ids(
                &[],
                &[("SPRING_APPLICATION_NAME", "demo"), ("PORT", "7000")]
            ),
            [format!("{FQDN}:demo:7000"), format!("{FQDN}:demo")]
        );
        // A random port cannot be part of a candidate.
        let machine = FakeMachine::named("k");
        let random = resolve(
            &[],
            &[("SPRING_APPLICATION_NAME", "demo"), ("PORT", "0")],
            &machine,
        )
        .unwrap();
        assert_eq!(random.candidates(), [&InstanceId::parse("k:demo").unwrap()]);
        assert!(
            random
                .explain()
                .contains("{host}:{app} (the port is random"),
            "{}",
            random.explain()
        );
    }

    #[test]
    fn the_registered_app_and_the_ids_app_part_follow_spring() {
        let machine = FakeMachine::named("pod-0");
        let spring_name = |name| ("SPRING_APPLICATION_NAME", name);
        let appname = |name| ("EUREKA_INSTANCE_APPNAME", name);
        for (args, vars, registered_app, id) in [
            (
                &[][..],
                &[appname("orders-v2"), spring_name("Orders")][..],
                "ORDERS-V2",
                "pod-0:Orders:8080",
            ),
            // Only EUREKA_INSTANCE_APPNAME: Spring has no application name for the id.
            (&[], &[appname("orders")], "ORDERS", "pod-0:8080"),
            (&["--app", "orders"], &[], "ORDERS", "pod-0:orders:8080"),
            (
                &["--app", "ORDERS"],
                &[spring_name("orders")],
                "ORDERS",
                "pod-0:orders:8080",
            ),
        ] {
            let mut all = vars.to_vec();
            all.push(("SERVER_PORT", "8080"));
            let identity = resolve(args, &all, &machine).unwrap();
            assert_eq!(
                (identity.app.registry_name(), identity.instance_id.as_str()),
                (registered_app.to_string(), id),
                "{args:?} {vars:?}"
            );
        }
    }

    #[test]
    fn the_host_follows_the_flag_then_spring_then_the_hosts_file_then_the_address() {
        let machine = FakeMachine::named("kernel-name").with_address("10.244.1.17", HOSTS);
        let app = ("SPRING_APPLICATION_NAME", "demo");
        let port = ("SERVER_PORT", "8080");
        let host = |args: &[&str], vars: &[(&str, &str)]| {
            let mut all = vec![app, port];
            all.extend_from_slice(vars);
            let identity = resolve(args, &all, &machine).unwrap();
            (
                identity.identity.pod.hostname.unwrap(),
                identity.identity.pod.host_source.unwrap(),
            )
        };
        assert_eq!(
            host(&["--hostname", "flag"], &[("EUREKA_HOSTNAME", "var")]),
            ("flag".into(), HostSource::Given("--hostname"))
        );
        assert_eq!(
            host(
                &[],
                &[
                    ("EUREKA_HOSTNAME", "var"),
                    ("SPRING_CLOUD_CLIENT_HOSTNAME", "s")
                ]
            ),
            ("var".into(), HostSource::Given("EUREKA_HOSTNAME"))
        );
        assert_eq!(
            host(&[], &[("SPRING_CLOUD_CLIENT_HOSTNAME", "spring-host")]),
            (
                "spring-host".into(),
                HostSource::Given("SPRING_CLOUD_CLIENT_HOSTNAME")
            )
        );
        let address = "10.244.1.17".parse().unwrap();
        assert_eq!(
            host(&[], &[]),
            (FQDN.into(), HostSource::HostsFile(address))
        );

        let unnamed = FakeMachine::named("kernel-name").with_address("10.244.1.99", HOSTS);
        let identity = resolve(&[], &[app, port], &unnamed).unwrap();
        assert_eq!(identity.instance_id.as_str(), "10.244.1.99:demo:8080");

        let no_address = FakeMachine::named("kernel-name");
        let identity = resolve(&[], &[app, port], &no_address).unwrap();
        assert_eq!(identity.instance_id.as_str(), "kernel-name:demo:8080");
        assert_eq!(identity.pod.host_source, Some(HostSource::KernelHostname));
    }

    #[test]
    fn the_interface_address_and_pod_ip_are_addresses_of_this_pod_once_each() {
        let machine = FakeMachine::named("k").with_address("10.244.1.17", HOSTS);
        let identity = resolve(
            &["--app", "demo"],
            &[
                ("POD_IP", "10.244.1.17"),
                ("EUREKA_HOSTNAME", "Web-0"),
                ("EUREKA_INSTANCE_HOSTNAME", "web-0"),
                ("EUREKA_INSTANCE_IPADDRESS", "192.168.9.9"),
            ],
            &machine,
        )
        .unwrap();
        assert_eq!(
            identity.addresses().collect::<Vec<_>>(),
            ["Web-0", "10.244.1.17", "192.168.9.9"]
        );
    }

    #[test]
    fn a_given_host_leaves_the_interfaces_unread_until_an_address_is_wanted() {
        let machine = FakeMachine::named("k").with_address("10.244.1.17", HOSTS);
        let identity = resolve(
            &["--app", "demo"],
            &[("EUREKA_HOSTNAME", "web-0")],
            &machine,
        )
        .unwrap();
        assert_eq!(machine.interface_reads(), 0);
        assert_eq!(
            identity.addresses().collect::<Vec<_>>(),
            ["web-0", "10.244.1.17"]
        );
        assert_eq!(identity.addresses().count(), 2);
        assert_eq!(machine.interface_reads(), 1, "read once, then kept");

        let looked_up = FakeMachine::named("k").with_address("10.244.1.17", HOSTS);
        let identity = resolve(&["--app", "demo"], &[], &looked_up).unwrap();
        assert_eq!(
            identity.pod.hostname.as_deref(),
            Some("web-0.web.shop.svc.cluster.local")
        );
        assert_eq!(
            looked_up.interface_reads(),
            1,
            "the host rule needs the address"
        );
        assert!(identity.addresses().any(|address| address == "10.244.1.17"));
        assert_eq!(looked_up.interface_reads(), 1);
    }

    #[test]
    fn bad_spring_values_are_bad_input_naming_the_variable() {
        let machine = FakeMachine::named("k");
        for (var, value) in [
            ("SERVER_PORT", "http"),
            ("SERVER_PORT", " 80"),
            ("PORT", "70000"),
            ("EUREKA_PORT", "0"),
            ("SPRING_APPLICATION_INSTANCE_ID", "a b"),
            ("SPRING_CLOUD_CLIENT_HOSTNAME", "bad host"),
            ("SPRING_APPLICATION_NAME", "two words"),
        ] {
            let err = resolve(&["--app", "demo"], &[(var, value)], &machine).unwrap_err();
            assert!(err.downcast_ref::<BadInput>().is_some(), "{var}: {err:#}");
            assert!(format!("{err:#}").starts_with(var), "{var}: {err:#}");
        }
    }

    #[test]
    fn a_bad_port_beside_a_given_id_is_only_a_warning() {
        let machine = FakeMachine::named("k");
        let identity = resolve(
            &["--app", "demo"],
            &[
                ("SERVER_PORT", "${PORT}"),
                ("EUREKA_INSTANCE_INSTANCEID", "demo-1"),
            ],
            &machine,
        )
        .unwrap();
        assert_eq!(identity.pod.port, RegisteredPort::Random);
        assert!(
            identity.warnings[0].starts_with("SERVER_PORT: '${PORT}' is not a port number")
                && identity.warnings[0].ends_with("the fallback matches any port"),
            "{:?}",
            identity.warnings
        );
    }

    #[test]
    fn no_host_at_all_is_bad_input_unless_an_id_is_given() {
        let nothing = FakeMachine::default();
        let err = resolve(&["--app", "demo"], &[], &nothing).unwrap_err();
        assert!(
            format!("{err:#}").contains("--hostname or --instance-id"),
            "{err:#}"
        );
        let identity = resolve(&["--app", "demo", "--instance-id", "x"], &[], &nothing).unwrap();
        assert_eq!(identity.pod.hostname, None);
    }

    #[test]
    fn the_explanation_says_which_ids_and_why() {
        let machine = FakeMachine::named("k").with_address("10.244.1.17", HOSTS);
        let identity = resolve(&[], &[("SPRING_APPLICATION_NAME", "demo")], &machine).unwrap();
        let text = identity.explain();
        assert!(
            text.starts_with(&format!(
                "instance id {FQDN}:demo:8080 or {FQDN}:demo, built as Spring Cloud does"
            )),
            "{text}"
        );
        assert!(
            text.contains("SPRING_APPLICATION_INSTANCE_ID nor SERVER_PORT"),
            "{text}"
        );
        assert!(text.contains("/etc/hosts name of 10.244.1.17"), "{text}");
    }
}
