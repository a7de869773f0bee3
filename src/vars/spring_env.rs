//! Which environment variables Spring Boot binds to the properties the hook shares with the app,
//! so the hook reads the same values: pure name matching and `SPRING_APPLICATION_JSON` parsing, no
//! environment access (`vars::ProcessEnv` applies these rules to the real one).
//!
//! Spring Boot's rules, from its sources (`SpringConfigurationPropertySource`,
//! `SystemEnvironmentPropertyMapper`, `DefaultPropertyMapper`, `ConfigurationPropertyName`,
//! `SpringApplicationJsonEnvironmentPostProcessor`):
//! - A variable binds a property when its name, split on `_` or on `.`, gives the property's
//!   elements in their uniform form (ASCII lower case, only letters and digits kept; empty
//!   elements dropped): `SERVER_PORT`, `server.port`, `Server_Port`, `EUREKA_INSTANCE_INSTANCE-ID`;
//!   or when it is the property with every `.` and `-` as `_`, in lower or upper case
//!   (`EUREKA_INSTANCE_IP_ADDRESS`, the "legacy" name).
//! - A map key keeps its spelling only in a dotted name: `eureka.client.serviceUrl.defaultZone`
//!   sets the `defaultZone` entry Spring's client reads; `EUREKA_CLIENT_SERVICEURL_DEFAULTZONE` sets
//!   `defaultzone` (the hook reads it all the same, as it always has).
//! - `SPRING_APPLICATION_JSON` (or `spring.application.json`) holds a JSON object, nested or with
//!   dotted keys, flattened to dotted names; Spring Boot ranks it above every environment variable.
//! - `spring.application.instance_id` is only ever looked up by exact name (it is not a valid
//!   relaxed name), so only `SPRING_APPLICATION_INSTANCE_ID` and that exact spelling bind it.

use serde_json::Value;

/// How a property's name is matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Matching {
    /// Relaxed, element by element.
    Relaxed,
    /// Relaxed up to a map key, which must be spelt exactly (in a dotted name only).
    MapKey(&'static str),
    /// Only the upper-case variable and the exact dotted name.
    Exact,
}

/// A Spring property the hook reads, under the variable name the hook's lists use for it.
struct SpringProperty {
    variable: &'static str,
    /// In Spring's canonical form (lower case, dashed).
    property: &'static str,
    matching: Matching,
}

const PROPERTIES: &[SpringProperty] = &[
    SpringProperty {
        variable: "EUREKA_CLIENT_SERVICEURL_DEFAULTZONE",
        property: "eureka.client.service-url.defaultZone",
        matching: Matching::MapKey("defaultZone"),
    },
    SpringProperty {
        variable: "EUREKA_INSTANCE_APPNAME",
        property: "eureka.instance.appname",
        matching: Matching::Relaxed,
    },
    SpringProperty {
        variable: "SPRING_APPLICATION_NAME",
        property: "spring.application.name",
        matching: Matching::Relaxed,
    },
    SpringProperty {
        variable: "SERVER_PORT",
        property: "server.port",
        matching: Matching::Relaxed,
    },
    SpringProperty {
        variable: "PORT",
        property: "port",
        matching: Matching::Relaxed,
    },
    SpringProperty {
        variable: "SPRING_CLOUD_CLIENT_HOSTNAME",
        property: "spring.cloud.client.hostname",
        matching: Matching::Relaxed,
    },
    SpringProperty {
        variable: "SPRING_APPLICATION_INSTANCE_ID",
        property: "spring.application.instance_id",
        matching: Matching::Exact,
    },
    SpringProperty {
        variable: "EUREKA_INSTANCE_HOSTNAME",
        property: "eureka.instance.hostname",
        matching: Matching::Relaxed,
    },
    SpringProperty {
        variable: "EUREKA_INSTANCE_IPADDRESS",
        property: "eureka.instance.ip-address",
        matching: Matching::Relaxed,
    },
    SpringProperty {
        variable: "EUREKA_INSTANCE_INSTANCEID",
        property: "eureka.instance.instance-id",
        matching: Matching::Relaxed,
    },
];

/// The names Spring Boot reads `SPRING_APPLICATION_JSON` from, in its order.
pub const JSON_VARIABLES: &[&str] = &[
    "spring.application.json",
    "spring_application_json",
    "SPRING.APPLICATION.JSON",
    "SPRING_APPLICATION_JSON",
];

/// The prefix of a per-zone service URL list, as uniform elements.
const SERVICE_URL_PREFIX: &[&str] = &["eureka", "client", "serviceurl"];

/// An element in Spring's uniform form.
fn uniform(element: &str) -> String {
    element
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// `element`'s bytes in Spring's uniform form, without building it: a byte of a character
/// outside ASCII is never an ASCII letter or digit, so the bytes give what the characters would.
fn uniform_bytes(element: &[u8]) -> impl Iterator<Item = u8> + '_ {
    element
        .iter()
        .filter(|byte| byte.is_ascii_alphanumeric())
        .map(u8::to_ascii_lowercase)
}

/// Whether `name`, split on `separator` into uniform elements (empty ones dropped), gives the
/// uniform forms of `wanted` (the elements of a property's name), one for one; never when an
/// element would not be a valid name element for Spring (an index, or a `.` in an `_`-split
/// name). Compares byte by byte without allocating: it runs for every set variable against every
/// property the hook reads, and a pod's environment has a few variables per Kubernetes service in
/// its namespace.
fn same_elements<'a>(
    name: &str,
    separator: u8,
    mut wanted: impl Iterator<Item = &'a [u8]>,
) -> bool {
    let mut found = name
        .as_bytes()
        .split(|byte| *byte == separator)
        .filter(|element| element.iter().any(u8::is_ascii_alphanumeric));
    let same = loop {
        match (found.next(), wanted.next()) {
            (None, None) => break true,
            (Some(found), Some(wanted)) if uniform_bytes(found).eq(uniform_bytes(wanted)) => {}
            _ => break false,
        }
    };
    // Checked last: most names differ in their first element.
    same && !name
        .bytes()
        .any(|byte| byte == b'[' || byte == b']' || (separator == b'_' && byte == b'.'))
}

/// Whether `name` is `property` with every `.` and `-` as `_`, in lower case or in upper case.
fn is_underscored(name: &str, property: &str) -> bool {
    let underscored = || {
        property.bytes().map(|byte| match byte {
            b'.' | b'-' => b'_',
            other => other,
        })
    };
    name.bytes().eq(underscored())
        || name
            .bytes()
            .eq(underscored().map(|byte| byte.to_ascii_uppercase()))
}

/// Whether the variable or JSON key `name` binds `property` as Spring Boot binds it.
fn binds(name: &str, property: &SpringProperty) -> bool {
    let wanted = || property.property.as_bytes().split(|byte| *byte == b'.');
    match property.matching {
        Matching::Exact => name == property.variable || name == property.property,
        // The names Spring's environment source also tries by exact name: every `.` and `-` as
        // `_`, in lower or upper case (`EUREKA_INSTANCE_IP_ADDRESS`).
        Matching::Relaxed => {
            is_underscored(name, property.property)
                || [b'_', b'.']
                    .iter()
                    .any(|separator| same_elements(name, *separator, wanted()))
        }
        Matching::MapKey(key) => {
            name == property.variable
                || name.rsplit_once('.').is_some_and(|(prefix, last)| {
                    let before_key = property
                        .property
                        .rsplit_once('.')
                        .map_or("", |(before, _)| before);
                    last == key
                        && same_elements(
                            prefix,
                            b'.',
                            before_key.as_bytes().split(|byte| *byte == b'.'),
                        )
                })
        }
    }
}

fn property_of(variable: &str) -> Option<&'static SpringProperty> {
    PROPERTIES.iter().find(|known| known.variable == variable)
}

/// Whether the hook reads `variable` the way Spring does (through [`env_names_for`]).
pub fn is_spring_variable(variable: &str) -> bool {
    property_of(variable).is_some()
}

/// Whether `name` binds any property the hook reads as Spring's (see [`env_names_for`]).
pub fn binds_a_property(name: &str) -> bool {
    PROPERTIES.iter().any(|property| binds(name, property))
}

/// The names to read `variable`'s property from, in Spring's order: `variable` itself (set or
/// not), then the names of `set_names` that also bind it, sorted. For `defaultZone`, the dotted
/// names (which set the exact key Spring's client reads) come before `variable`.
pub fn env_names_for<'a>(variable: &'a str, set_names: &'a [String]) -> Vec<&'a str> {
    let Some(property) = property_of(variable) else {
        return vec![variable];
    };
    let mut others: Vec<&str> = set_names
        .iter()
        .map(String::as_str)
        .filter(|name| *name != variable && binds(name, property))
        .collect();
    others.sort_unstable();
    match property.matching {
        Matching::MapKey(_) => others.into_iter().chain([variable]).collect(),
        _ => [variable].into_iter().chain(others).collect(),
    }
}

/// The value `SPRING_APPLICATION_JSON`'s flattened `entries` give `variable`'s property, with the
/// key it came from: the canonical key first, then the others in key order.
pub fn json_value_for<'a>(
    variable: &str,
    entries: &'a [(String, String)],
) -> Option<&'a (String, String)> {
    let property = property_of(variable)?;
    entries
        .iter()
        .find(|(key, _)| key == property.property)
        .or_else(|| {
            entries
                .iter()
                .find(|(key, _)| key != variable && binds(key, property))
        })
}

/// Whether Spring would bind the variable `name` to a property the hook reads, or it is where
/// `SPRING_APPLICATION_JSON` is read from: such a name is no misspelling.
pub fn is_read(name: &str) -> bool {
    JSON_VARIABLES.contains(&name) || PROPERTIES.iter().any(|property| binds(name, property))
}

/// The zone a variable or JSON key sets a service URL list for, when it is not `defaultZone`:
/// `EUREKA_CLIENT_SERVICEURL_ZONE1` gives `zone1`, `eureka.client.serviceUrl.east` gives `east`.
pub fn other_zone(name: &str) -> Option<String> {
    if name == "EUREKA_CLIENT_SERVICEURL_DEFAULTZONE" {
        return None;
    }
    let (separator, byte) = if name.contains('.') {
        ('.', b'.')
    } else {
        ('_', b'_')
    };
    let (prefix, zone) = name.rsplit_once(separator)?;
    if !same_elements(
        prefix,
        byte,
        SERVICE_URL_PREFIX.iter().map(|e| e.as_bytes()),
    ) {
        return None;
    }
    let zone = if separator == '_' {
        zone.to_ascii_lowercase()
    } else {
        zone.to_string()
    };
    // A spelling of defaultZone Spring does not read is a misspelling, reported as one.
    (!zone.is_empty() && uniform(&zone) != "defaultzone").then_some(zone)
}

/// What is wrong with a `SPRING_APPLICATION_JSON` value; the message never quotes the value,
/// which may hold a password.
pub fn parse_json(text: &str) -> Result<Vec<(String, String)>, String> {
    let value: Value = serde_json::from_str(text).map_err(|err| {
        format!(
            "is not valid JSON (line {}, column {}): Spring Boot would not start with it either",
            err.line(),
            err.column()
        )
    })?;
    let Value::Object(map) = value else {
        return Err(
            "is not a JSON object ({…}): Spring Boot would not start with it either".into(),
        );
    };
    let mut entries = Vec::new();
    for (key, value) in map {
        flatten(key, value, &mut entries);
    }
    Ok(entries)
}

/// `value` under `name`, as Spring flattens it: objects by `.`, arrays by `[index]`; `null` and
/// empty objects or arrays give nothing (the hook takes an empty value as unset).
fn flatten(name: String, value: Value, entries: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                flatten(format!("{name}.{key}"), value, entries);
            }
        }
        Value::Array(items) => {
            for (index, value) in items.into_iter().enumerate() {
                flatten(format!("{name}[{index}]"), value, entries);
            }
        }
        Value::Null => {}
        Value::String(text) => entries.push((name, text)),
        Value::Bool(flag) => entries.push((name, flag.to_string())),
        Value::Number(number) => entries.push((name, number.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `name` split on `separator` into uniform elements, empty ones dropped; `None` when an element
    /// would not be a valid name element for Spring (an index, or a `.` in an `_`-split name).
    fn elements(name: &str, separator: char) -> Option<Vec<String>> {
        if name.contains(['[', ']']) || (separator == '_' && name.contains('.')) {
            return None;
        }
        Some(
            name.split(separator)
                .map(uniform)
                .filter(|element| !element.is_empty())
                .collect(),
        )
    }

    /// [`other_zone`] on lists of uniform elements.
    pub(super) fn other_zone_by_lists(name: &str) -> Option<String> {
        if name == "EUREKA_CLIENT_SERVICEURL_DEFAULTZONE" {
            return None;
        }
        let separator = if name.contains('.') { '.' } else { '_' };
        let (prefix, zone) = name.rsplit_once(separator)?;
        let prefix_matches =
            elements(prefix, separator).is_some_and(|found| found == SERVICE_URL_PREFIX);
        let zone = if separator == '_' {
            zone.to_ascii_lowercase()
        } else {
            zone.to_string()
        };
        (prefix_matches && !zone.is_empty() && uniform(&zone) != "defaultzone").then_some(zone)
    }

    /// [`binds`] as Spring's rules read, on lists of uniform elements (what it computes without
    /// them).
    pub(super) fn binds_by_lists(name: &str, property: &SpringProperty) -> bool {
        let wanted: Vec<String> = property.property.split('.').map(uniform).collect();
        match property.matching {
            Matching::Exact => name == property.variable || name == property.property,
            Matching::Relaxed => {
                let underscored = property.property.replace(['.', '-'], "_");
                name == underscored
                    || name == underscored.to_ascii_uppercase()
                    || ['_', '.'].iter().any(|separator| {
                        elements(name, *separator).is_some_and(|found| found == wanted)
                    })
            }
            Matching::MapKey(key) => {
                name == property.variable
                    || name.rsplit_once('.').is_some_and(|(prefix, last)| {
                        last == key
                            && elements(prefix, '.')
                                .is_some_and(|found| found == wanted[..wanted.len() - 1])
                    })
            }
        }
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn relaxed_names_bind_as_spring_boot_binds_them() {
        for (name, variable) in [
            ("SPRING_APPLICATION_NAME", "SPRING_APPLICATION_NAME"),
            ("spring.application.name", "SPRING_APPLICATION_NAME"),
            ("Spring.Application.Name", "SPRING_APPLICATION_NAME"),
            ("spring_application_name", "SPRING_APPLICATION_NAME"),
            ("server.port", "SERVER_PORT"),
            ("port", "PORT"),
            ("eureka.instance.instance-id", "EUREKA_INSTANCE_INSTANCEID"),
            ("eureka.instance.instanceId", "EUREKA_INSTANCE_INSTANCEID"),
            ("EUREKA_INSTANCE_INSTANCE-ID", "EUREKA_INSTANCE_INSTANCEID"),
            ("eureka.instance.ip-address", "EUREKA_INSTANCE_IPADDRESS"),
            ("eureka.instance.ipAddress", "EUREKA_INSTANCE_IPADDRESS"),
            ("EUREKA_INSTANCE_IP_ADDRESS", "EUREKA_INSTANCE_IPADDRESS"),
            ("eureka_instance_ip_address", "EUREKA_INSTANCE_IPADDRESS"),
            ("EUREKA_INSTANCE_INSTANCE_ID", "EUREKA_INSTANCE_INSTANCEID"),
            (
                "eureka.client.serviceUrl.defaultZone",
                "EUREKA_CLIENT_SERVICEURL_DEFAULTZONE",
            ),
            (
                "eureka.client.service-url.defaultZone",
                "EUREKA_CLIENT_SERVICEURL_DEFAULTZONE",
            ),
            (
                "spring.application.instance_id",
                "SPRING_APPLICATION_INSTANCE_ID",
            ),
        ] {
            let set = names(&[name]);
            let found = env_names_for(variable, &set);
            assert!(
                found.contains(&name) && found.contains(&variable),
                "{name} should bind {variable}: {found:?}"
            );
            assert!(is_read(name), "{name}");
        }
    }

    #[test]
    fn service_link_variables_bind_no_property() {
        for name in [
            "KUBERNETES_PORT_443_TCP_PORT",
            "WEB_SERVICE_HOST",
            "WEB_PORT",
            "WEB_PORT_8080_TCP_ADDR",
        ] {
            assert!(!binds_a_property(name), "{name}");
        }
        for name in [
            "server.port",
            "SERVER_PORT",
            "PORT",
            "Spring_Application_Name",
        ] {
            assert!(binds_a_property(name), "{name}");
        }
    }

    #[test]
    fn names_spring_does_not_bind_are_not_read() {
        for (name, variable) in [
            ("SERVERPORT", "SERVER_PORT"),
            ("SPRING_APPLICATION_NAM", "SPRING_APPLICATION_NAME"),
            ("spring.application", "SPRING_APPLICATION_NAME"),
            ("spring.application.name.x", "SPRING_APPLICATION_NAME"),
            (
                "EUREKA_CLIENT_SERVICEURL_DEFAULT_ZONE",
                "EUREKA_CLIENT_SERVICEURL_DEFAULTZONE",
            ),
            (
                "eureka.client.serviceUrl.defaultzone",
                "EUREKA_CLIENT_SERVICEURL_DEFAULTZONE",
            ),
            (
                "eureka_client_serviceUrl_defaultZone",
                "EUREKA_CLIENT_SERVICEURL_DEFAULTZONE",
            ),
            (
                "spring.application.instance-id",
                "SPRING_APPLICATION_INSTANCE_ID",
            ),
            ("server.port[0]", "SERVER_PORT"),
            ("Eureka_Instance_Ip_Address", "EUREKA_INSTANCE_IPADDRESS"),
        ] {
            let set = names(&[name]);
            assert_eq!(
                env_names_for(variable, &set),
                [variable],
                "{name} must not bind {variable}"
            );
        }
    }

    #[test]
    fn the_upper_case_name_comes_first_except_for_the_default_zone() {
        let set = names(&["spring.application.name", "PATH"]);
        assert_eq!(
            env_names_for("SPRING_APPLICATION_NAME", &set),
            ["SPRING_APPLICATION_NAME", "spring.application.name"]
        );
        let set = names(&["eureka.client.serviceUrl.defaultZone"]);
        assert_eq!(
            env_names_for("EUREKA_CLIENT_SERVICEURL_DEFAULTZONE", &set),
            [
                "eureka.client.serviceUrl.defaultZone",
                "EUREKA_CLIENT_SERVICEURL_DEFAULTZONE"
            ]
        );
        assert_eq!(
            env_names_for("EUREKA_URL", &names(&["EUREKA_URL"])),
            ["EUREKA_URL"]
        );
    }

    #[test]
    fn spring_application_json_is_flattened_as_spring_flattens_it() {
        let entries = parse_json(
            r#"{"spring":{"application":{"name":"from-json"}},"server.port":8081,
                "eureka":{"client":{"serviceUrl":{"defaultZone":"http://a/eureka/"}}},
                "list":[1,{"x":true}],"gone":null}"#,
        )
        .unwrap();
        let get =
            |variable: &str| json_value_for(variable, &entries).map(|(_, value)| value.as_str());
        assert_eq!(get("SPRING_APPLICATION_NAME"), Some("from-json"));
        assert_eq!(get("SERVER_PORT"), Some("8081"));
        assert_eq!(
            get("EUREKA_CLIENT_SERVICEURL_DEFAULTZONE"),
            Some("http://a/eureka/")
        );
        assert_eq!(get("PORT"), None);
        assert!(entries.contains(&("list[1].x".into(), "true".into())));
        assert!(!entries.iter().any(|(key, _)| key == "gone"));
    }

    #[test]
    fn spring_application_json_that_is_not_an_object_is_refused_without_quoting_it() {
        for text in ["[1]", "\"s3cret\"", "{\"a\":", "s3cret", "{} x"] {
            let err = parse_json(text).unwrap_err();
            assert!(!err.contains("s3cret"), "{err}");
        }
    }

    #[test]
    fn zone_lists_other_than_the_default_are_recognised() {
        assert_eq!(
            other_zone("EUREKA_CLIENT_SERVICEURL_ZONE1").as_deref(),
            Some("zone1")
        );
        assert_eq!(
            other_zone("eureka.client.serviceUrl.east").as_deref(),
            Some("east")
        );
        assert_eq!(other_zone("eureka.client.serviceUrl.defaultZone"), None);
        assert_eq!(other_zone("EUREKA_CLIENT_SERVICEURL_DEFAULTZONE"), None);
        assert_eq!(other_zone("EUREKA_CLIENT_REGION"), None);
        assert_eq!(other_zone("EUREKA_CLIENT_SERVICEURL_DEFAULT-ZONE"), None);
    }
}

/// Property tests: every spelling Spring Boot binds is read, no other; any JSON text is flattened
/// or refused without being quoted.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;
    use tests::{binds_by_lists, other_zone_by_lists};

    /// `element` as someone may write it: any case, dashes inside.
    fn respelt(element: &'static str) -> impl Strategy<Value = String> {
        proptest::collection::vec((any::<bool>(), any::<bool>()), element.len()).prop_map(
            move |choices| {
                element
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .zip(choices)
                    .enumerate()
                    .map(|(index, (c, (upper, dash)))| {
                        let c = if upper { c.to_ascii_uppercase() } else { c };
                        if dash && index > 0 {
                            format!("-{c}")
                        } else {
                            c.to_string()
                        }
                    })
                    .collect()
            },
        )
    }

    fn spelling_of(property: &'static str) -> impl Strategy<Value = String> {
        let elements: Vec<_> = property.split('.').map(respelt).collect();
        (elements, prop_oneof![Just('.'), Just('_')])
            .prop_map(|(elements, separator)| elements.join(&separator.to_string()))
    }

    proptest! {
        #[test]
        fn every_relaxed_spelling_binds_its_property(
            name in spelling_of("spring.application.name"),
            port in spelling_of("server.port"),
            id in spelling_of("eureka.instance.instance-id"),
        ) {
            for (name, variable) in [(name, "SPRING_APPLICATION_NAME"), (port, "SERVER_PORT"), (id, "EUREKA_INSTANCE_INSTANCEID")] {
                let set = vec![name.clone()];
                prop_assert!(env_names_for(variable, &set).contains(&name.as_str()), "{} {}", name, variable);
                prop_assert!(is_read(&name));
                let longer = vec![format!("{name}.x")];
                prop_assert_eq!(env_names_for(variable, &longer), vec![variable]);
            }
        }

        #[test]
        fn a_zone_key_binds_only_when_spelt_exactly(prefix in spelling_of("eureka.client.service-url"), key in respelt("defaultZone")) {
            let name = format!("{}.{key}", prefix.replace('_', "."));
            let set = vec![name.clone()];
            let binds = env_names_for("EUREKA_CLIENT_SERVICEURL_DEFAULTZONE", &set).contains(&name.as_str());
            prop_assert_eq!(binds, key == "defaultZone", "{}", name);
        }

        #[test]
        fn binding_compares_as_the_lists_of_uniform_elements_would(
            parts in proptest::collection::vec(
                (
                    proptest::sample::select(vec![
                        "eureka", "EUREKA", "client", "serviceUrl", "service-url", "defaultZone",
                        "DEFAULTZONE", "instance", "Instance", "instance-id", "instance_id",
                        "ip-address", "ipAddress", "IP", "address", "hostname", "spring", "Spring",
                        "application", "name", "NAME", "server", "port", "PORT", "cloud", "x", "",
                        "[0]", "é", "east", "serviceurl", "SERVICEURL", "zone1",
                    ]),
                    proptest::sample::select(vec!["_", ".", "-", "__", ""]),
                ),
                1..6,
            ),
        ) {
            let name: String = parts.iter().flat_map(|(element, separator)| [*element, *separator]).collect();
            for property in PROPERTIES {
                prop_assert_eq!(binds(&name, property), binds_by_lists(&name, property), "{} {}", name, property.variable);
            }
            prop_assert_eq!(other_zone(&name), other_zone_by_lists(&name), "{}", name);
        }

        #[test]
        fn any_text_is_flattened_or_refused_without_quoting_it(text in any::<String>()) {
            match parse_json(&text) {
                Ok(_) => prop_assert!(matches!(serde_json::from_str::<Value>(&text), Ok(Value::Object(_)))),
                Err(problem) => prop_assert!(
                    problem.starts_with("is not valid JSON (line ") || problem.starts_with("is not a JSON object"),
                    "{}", problem
                ),
            }
        }

        #[test]
        fn nested_or_dotted_json_keys_give_the_same_value(value in "[a-z0-9-]{1,12}", split in 0usize..3) {
            let elements = ["spring", "application", "name"];
            let (outer, inner) = elements.split_at(split);
            let mut json = serde_json::json!({ inner.join("."): value });
            for element in outer.iter().rev() {
                json = serde_json::json!({ *element: json });
            }
            let entries = parse_json(&json.to_string()).unwrap();
            prop_assert_eq!(json_value_for("SPRING_APPLICATION_NAME", &entries).map(|(_, v)| v.as_str()), Some(value.as_str()));
        }
    }
}
