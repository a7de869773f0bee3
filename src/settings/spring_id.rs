//! Spring Cloud's own rules for the instance id and the registered port, as pure functions of
//! inputs already read (a flag beats its variable; empty is unset). No I/O here.
//!
//! Spring Cloud Netflix sets `eureka.instance.instance-id`, when it is not configured, to
//! spring-cloud-commons' `IdUtils.getDefaultInstanceId`:
//! `combine(combine(spring.cloud.client.hostname, spring.application.name),
//!          spring.application.instance_id ?: server.port)`, where `combine` joins two parts with
//! `:` and drops a missing part together with its `:`. The index is the property *as written*
//! (`SERVER_PORT=08080` gives `…:08080`, `SERVER_PORT=0` gives `…:0`).
//!
//! `server.port` may also come from the application's own config file, which the hook cannot
//! read. When the environment gives no index, the id is one of two candidates, and the hook
//! tries both.

/// The id(s) Spring Cloud may have registered, in the order to try them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpringIds {
    /// The environment gives the index.
    Known(String),
    /// It does not: `{host}:{app}:{port}` if the app's config file sets `server.port`, else
    /// `{host}:{app}`.
    EitherOf {
        with_port: String,
        without_port: String,
    },
}

/// Spring's `IdUtils.combineParts`: both parts joined by `:`, or whichever one exists.
fn combine(first: Option<&str>, second: Option<&str>) -> Option<String> {
    match (first, second) {
        (Some(first), Some(second)) => Some(format!("{first}:{second}")),
        (Some(only), None) | (None, Some(only)) => Some(only.to_string()),
        (None, None) => None,
    }
}

/// The id Spring Cloud builds from `host`, the app name it has (`spring.application.name`) and
/// the index (`spring.application.instance_id`, else `server.port`, as written); without an
/// index, both candidates, the one with `port` first (none when the port is random).
pub fn spring_ids(
    host: &str,
    app_name: Option<&str>,
    index: Option<&str>,
    port: RegisteredPort,
) -> SpringIds {
    let name_part = combine(Some(host), app_name).unwrap_or_else(|| host.to_string());
    match (index, port) {
        (Some(index), _) => SpringIds::Known(format!("{name_part}:{index}")),
        (None, RegisteredPort::Known(port)) => SpringIds::EitherOf {
            with_port: format!("{name_part}:{port}"),
            without_port: name_part,
        },
        (None, RegisteredPort::Random) => SpringIds::Known(name_part),
    }
}

/// The port Spring Cloud registers as the instance's `port`: `server.port`, else the plain
/// `port` property (env `PORT`), else 8080 (`EurekaClientAutoConfiguration`). `server.port=0`
/// asks for a random port, which the app registers once bound and the hook cannot know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegisteredPort {
    Known(u16),
    /// `0`: match instances without comparing ports.
    Random,
}

impl RegisteredPort {
    /// The port, when it is known (not random).
    pub fn known(self) -> Option<u16> {
        match self {
            RegisteredPort::Known(port) => Some(port),
            RegisteredPort::Random => None,
        }
    }
}

impl std::fmt::Display for RegisteredPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RegisteredPort::Known(port) => write!(f, "{port}"),
            RegisteredPort::Random => f.write_str("any (server.port is 0, a random port)"),
        }
    }
}

/// The registered port from Spring's spelling of it, parsed as Java's `Integer.parseInt` does
/// (a leading `+` and leading zeros are fine, nothing else); `None` when the app itself could not
/// start with it.
pub fn spring_port(text: &str) -> Option<RegisteredPort> {
    match text.strip_prefix('+').unwrap_or(text).parse::<u32>() {
        Ok(0) => Some(RegisteredPort::Random),
        Ok(port) => u16::try_from(port).ok().map(RegisteredPort::Known),
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "web-0.web.ns.svc.cluster.local";

    #[test]
    fn the_index_is_used_exactly_as_written() {
        for written in ["9090", "08080", "0", "+8080", "blue-3"] {
            assert_eq!(
                spring_ids("h", Some("app"), Some(written), RegisteredPort::Known(1)),
                SpringIds::Known(format!("h:app:{written}"))
            );
        }
    }

    #[test]
    fn an_unknown_index_gives_both_candidates_with_the_port_first() {
        assert_eq!(
            spring_ids(
                HOST,
                Some("demo-Service"),
                None,
                RegisteredPort::Known(8080)
            ),
            SpringIds::EitherOf {
                with_port: format!("{HOST}:demo-Service:8080"),
                without_port: format!("{HOST}:demo-Service"),
            }
        );
        assert_eq!(
            spring_ids(HOST, Some("demo"), None, RegisteredPort::Random),
            SpringIds::Known(format!("{HOST}:demo"))
        );
    }

    #[test]
    fn a_missing_app_name_is_dropped_with_its_colon() {
        assert_eq!(
            spring_ids(HOST, None, Some("8081"), RegisteredPort::Known(8081)),
            SpringIds::Known(format!("{HOST}:8081"))
        );
        assert_eq!(
            spring_ids(HOST, None, None, RegisteredPort::Known(8080)),
            SpringIds::EitherOf {
                with_port: format!("{HOST}:8080"),
                without_port: HOST.into(),
            }
        );
    }

    #[test]
    fn ports_parse_as_java_parses_them_and_zero_is_random() {
        assert_eq!(spring_port("9090"), Some(RegisteredPort::Known(9090)));
        assert_eq!(spring_port("08080"), Some(RegisteredPort::Known(8080)));
        assert_eq!(spring_port("+8080"), Some(RegisteredPort::Known(8080)));
        assert_eq!(spring_port("0"), Some(RegisteredPort::Random));
        for bad in [" 80", "http", "70000", "-1", ""] {
            assert_eq!(spring_port(bad), None, "{bad:?}");
        }
    }
}
