//! Every environment variable a setting is read from, each name written once, and the helpers
//! that read them: a flag wins, else the first of its variables that is set, else the default.
//! An empty variable is unset (Kubernetes and Helm render an unset value as `""`), and a value
//! that is not valid UTF-8 is bad input naming the variable, never altered ([`ProcessEnv`]).
//!
//! `--help` shows each flag's variables from [`BY_FLAG`] (`cli::command`); a test below proves that
//! every flag has its entry there.

use std::cell::{OnceCell, RefCell};
use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::Result;

mod spring_env;

use crate::exit::BadInput;
use crate::values;
pub use spring_env::{is_read, other_zone};

pub const EUREKA_URL: &[&str] = &["EUREKA_URL", "EUREKA_CLIENT_SERVICEURL_DEFAULTZONE"];
/// The registered app; Spring's own order after the hook's variable.
pub const APP: &[&str] = &["EUREKA_APP", "EUREKA_INSTANCE_APPNAME", SPRING_APP_NAME];
/// The registered port; after the hook's variable, Spring's `server.port`, then `port`.
pub const PORT: &[&str] = &["EUREKA_PORT", SERVER_PORT, "PORT"];
pub const HOSTNAME: &[&str] = &["EUREKA_HOSTNAME", "SPRING_CLOUD_CLIENT_HOSTNAME"];
/// Spring's `spring.application.name`: the `{app}` of the instance id.
pub const SPRING_APP_NAME: &str = "SPRING_APPLICATION_NAME";
/// Spring's `spring.application.instance_id`: the `{index}` of the instance id when set.
pub const SPRING_INSTANCE_INDEX: &str = "SPRING_APPLICATION_INSTANCE_ID";
/// Spring's `server.port`: the `{index}` of the instance id otherwise, as written.
pub const SERVER_PORT: &str = "SERVER_PORT";
/// Spring's `eureka.instance.hostname` and `eureka.instance.ip-address`: what the instance
/// registers as `hostName` and `ipAddr` when set; no flag (only the fallback compares them).
pub const REGISTERED_ADDRESSES: &[&str] =
    &["EUREKA_INSTANCE_HOSTNAME", "EUREKA_INSTANCE_IPADDRESS"];
pub const INSTANCE_ID: &[&str] = &[
    "EUREKA_INSTANCE_ID",
    "EUREKA_INSTANCE_INSTANCEID",
    "EUREKA_INSTANCE_INSTANCE_ID",
];
pub const REQUEST_TIMEOUT: &[&str] = &["EUREKA_HOOK_REQUEST_TIMEOUT"];
pub const CACERT: &[&str] = &["EUREKA_HOOK_CACERT"];
pub const CREDENTIALS_FILE: &[&str] = &["EUREKA_HOOK_CREDENTIALS_FILE"];
pub const LOG_FILE: &[&str] = &["EUREKA_HOOK_LOG_FILE"];
pub const LOG_FORMAT: &[&str] = &["EUREKA_HOOK_LOG_FORMAT"];
pub const DRY_RUN: &[&str] = &["EUREKA_HOOK_DRY_RUN"];
pub const VERBOSE: &[&str] = &["EUREKA_HOOK_VERBOSE"];
pub const QUIET: &[&str] = &["EUREKA_HOOK_QUIET"];
pub const DRAIN: &[&str] = &["EUREKA_HOOK_DRAIN"];
pub const AFTER_PROPAGATION: &[&str] = &["EUREKA_HOOK_AFTER_PROPAGATION"];
pub const SERVER_CACHE: &[&str] = &["EUREKA_HOOK_SERVER_CACHE"];
pub const UNTIL_QUIET: &[&str] = &["EUREKA_HOOK_UNTIL_QUIET"];
pub const IGNORE_SOURCES: &[&str] = &["EUREKA_HOOK_IGNORE_SOURCES"];
pub const WAIT: &[&str] = &["EUREKA_HOOK_WAIT"];
pub const STRICT: &[&str] = &["EUREKA_HOOK_STRICT"];
pub const FAST_RETURN: &[&str] = &["EUREKA_HOOK_FAST_RETURN"];
pub const HEALTH_URL: &[&str] = &["EUREKA_HOOK_HEALTH_URL"];
/// HTTP Basic credentials for every peer without its own; no flag (a password on the command line
/// would be visible to `ps`).
pub const USERNAME: &str = "EUREKA_USERNAME";
pub const PASSWORD: &str = "EUREKA_PASSWORD";
/// The pod's IP address, by the Downward API convention; no flag.
pub const POD_IP: &str = "POD_IP";

/// Every variable the hook reads, each list above once (the order misspellings are matched in).
pub const READ: &[&[&str]] = &[
    EUREKA_URL,
    APP,
    PORT,
    HOSTNAME,
    INSTANCE_ID,
    &[SPRING_INSTANCE_INDEX],
    REGISTERED_ADDRESSES,
    &[USERNAME, PASSWORD],
    DRAIN,
    AFTER_PROPAGATION,
    SERVER_CACHE,
    UNTIL_QUIET,
    IGNORE_SOURCES,
    WAIT,
    STRICT,
    FAST_RETURN,
    HEALTH_URL,
    VERBOSE,
    QUIET,
    LOG_FORMAT,
    LOG_FILE,
    CACERT,
    CREDENTIALS_FILE,
    REQUEST_TIMEOUT,
    DRY_RUN,
    &[POD_IP],
];

/// The names in [`READ`], one by one.
pub fn read_names() -> impl Iterator<Item = &'static str> {
    READ.iter().flat_map(|names| names.iter().copied())
}

/// Each flag (by its long name) and the variables it falls back to, in order: `--help` shows them
/// from here (`cli::command`).
pub const BY_FLAG: &[(&str, &[&str])] = &[
    ("eureka-url", EUREKA_URL),
    ("app", APP),
    ("port", PORT),
    ("hostname", HOSTNAME),
    ("instance-id", INSTANCE_ID),
    ("request-timeout", REQUEST_TIMEOUT),
    ("cacert", CACERT),
    ("credentials-file", CREDENTIALS_FILE),
    ("log-file", LOG_FILE),
    ("log-format", LOG_FORMAT),
    ("dry-run", DRY_RUN),
    ("verbose", VERBOSE),
    ("quiet", QUIET),
    ("drain", DRAIN),
    ("after-propagation", AFTER_PROPAGATION),
    ("server-cache", SERVER_CACHE),
    ("until-quiet", UNTIL_QUIET),
    ("ignore-source", IGNORE_SOURCES),
    ("wait", WAIT),
    ("strict", STRICT),
    ("no-fast-return", FAST_RETURN),
    ("health-url", HEALTH_URL),
];

/// Reads one environment variable; `None` when unset or empty.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Reads one variable as the operating system holds it; `std::env::var_os` outside tests.
pub type RawEnvLookup = Box<dyn Fn(&str) -> Option<OsString>>;

/// The names of the variables set, as the operating system holds them; from `std::env::vars_os`
/// outside tests.
pub type RawEnvNames = Box<dyn Fn() -> Vec<OsString>>;

/// `SPRING_APPLICATION_JSON` flattened to (key, value) pairs, with the name it was read from.
type SpringJson = (&'static str, Vec<(String, String)>);

/// The environment as the settings read it. An empty value reads as unset. A value that is not
/// valid UTF-8 reads as unset too, and its variable is remembered so that [`ProcessEnv::check`]
/// reports it as bad input: such a value is never altered (a lossy conversion would send a
/// different password than the one given).
///
/// A variable of Spring's is read as Spring Boot reads its property ([`spring_env`]): from
/// `SPRING_APPLICATION_JSON` first, else from the variable, else from another name Spring binds to
/// the same property (`spring.application.name`); where the value came from is kept for
/// [`ProcessEnv::notes`].
pub struct ProcessEnv {
    raw: RawEnvLookup,
    raw_names: RawEnvNames,
    not_utf8: RefCell<Vec<String>>,
    /// The names set that bind one of Spring's properties the hook reads, found in one pass:
    /// each read of such a property looks among these only (a pod's environment has a few
    /// variables per Kubernetes service in its namespace, which bind none).
    binding_names: OnceCell<Vec<String>>,
    /// `SPRING_APPLICATION_JSON` flattened, with the name it was read from; parsed once.
    spring_json: OnceCell<Option<SpringJson>>,
    json_problem: RefCell<Option<String>>,
    /// (variable asked for, where its value came from) when those differ.
    read_from: RefCell<Vec<(String, String)>>,
}

impl ProcessEnv {
    pub fn new(
        raw: impl Fn(&str) -> Option<OsString> + 'static,
        raw_names: impl Fn() -> Vec<OsString> + 'static,
    ) -> Self {
        ProcessEnv {
            raw: Box::new(raw),
            raw_names: Box::new(raw_names),
            not_utf8: RefCell::new(Vec::new()),
            binding_names: OnceCell::new(),
            spring_json: OnceCell::new(),
            json_problem: RefCell::new(None),
            read_from: RefCell::new(Vec::new()),
        }
    }

    /// This process's environment.
    pub fn of_this_process() -> Self {
        ProcessEnv::new(
            |name| std::env::var_os(name),
            || std::env::vars_os().map(|(name, _)| name).collect(),
        )
    }

    /// The names of the variables set, empty ones included (for the misspelling warnings; no
    /// value is read). A name that is not UTF-8 is shown with replacement characters.
    pub fn names(&self) -> Vec<String> {
        (self.raw_names)()
            .into_iter()
            .map(|name| name.to_string_lossy().into_owned())
            .collect()
    }

    /// The value of `name`; for a variable of Spring's, as Spring Boot would find it.
    pub fn get(&self, name: &str) -> Option<String> {
        if !spring_env::is_spring_variable(name) {
            return self.get_raw(name);
        }
        if let Some((json_variable, entries)) = self.spring_json()
            && let Some((key, value)) = spring_env::json_value_for(name, entries)
            && !value.is_empty()
        {
            self.note(name, format!("{json_variable} (key {key})"));
            return Some(value.clone());
        }
        let binding_names = self.binding_names.get_or_init(|| {
            let mut names = self.names();
            names.retain(|name| spring_env::binds_a_property(name));
            names
        });
        for source in spring_env::env_names_for(name, binding_names) {
            if let Some(value) = self.get_raw(source) {
                if source != name {
                    self.note(name, source.to_string());
                }
                return Some(value);
            }
        }
        None
    }

    fn note(&self, asked: &str, source: String) {
        let mut read_from = self.read_from.borrow_mut();
        if !read_from.iter().any(|(known, _)| known == asked) {
            read_from.push((asked.to_string(), source));
        }
    }

    /// `SPRING_APPLICATION_JSON`, flattened, from the first of the names Spring reads it from that
    /// is set; a value that is not a JSON object is kept as a problem for [`ProcessEnv::check`].
    fn spring_json(&self) -> Option<&SpringJson> {
        self.spring_json
            .get_or_init(|| {
                let (variable, text) = spring_env::JSON_VARIABLES
                    .iter()
                    .find_map(|variable| Some((*variable, self.get_raw(variable)?)))?;
                match spring_env::parse_json(&text) {
                    Ok(entries) => Some((variable, entries)),
                    Err(problem) => {
                        *self.json_problem.borrow_mut() = Some(format!("{variable}: {problem}"));
                        None
                    }
                }
            })
            .as_ref()
    }

    /// The keys of `SPRING_APPLICATION_JSON` once flattened, with the name it was read from
    /// (for the warnings about what it sets that the hook does not read).
    pub fn spring_json_keys(&self) -> Option<(&'static str, Vec<&str>)> {
        let (variable, entries) = self.spring_json()?;
        Some((
            *variable,
            entries.iter().map(|(key, _)| key.as_str()).collect(),
        ))
    }

    /// One line for each variable of Spring's whose value came from another name, as Spring
    /// Boot reads it.
    pub fn notes(&self) -> Vec<String> {
        self.read_from
            .borrow()
            .iter()
            .map(|(asked, source)| {
                format!("{asked} is read from {source}, as Spring Boot reads it")
            })
            .collect()
    }

    fn get_raw(&self, name: &str) -> Option<String> {
        let value = (self.raw)(name)?;
        match value.into_string() {
            Ok(text) if text.is_empty() => None,
            Ok(text) => Some(text),
            Err(_) => {
                self.not_utf8.borrow_mut().push(name.to_string());
                None
            }
        }
    }

    /// Bad input naming the first variable read so far whose value is not valid UTF-8; reported
    /// in preference to any error its absence caused.
    pub fn check(&self) -> Result<()> {
        if let Some(name) = self.not_utf8.borrow().first() {
            return Err(BadInput::new(format!(
                "{name}: the value is not valid UTF-8; it was not used (give it in UTF-8)"
            ))
            .into());
        }
        match self.json_problem.borrow().as_ref() {
            Some(problem) => Err(BadInput::new(problem.clone()).into()),
            None => Ok(()),
        }
    }
}

/// The flag's value, else the first of `vars` that is set, parsed; else `None`.
pub fn pick<T>(
    flag: Option<T>,
    vars: &[&str],
    env: EnvLookup,
    parse: fn(&str) -> Result<T, String>,
) -> Result<Option<T>> {
    match flag {
        Some(value) => Ok(Some(value)),
        None => first_env(vars, env, parse),
    }
}

/// The first variable of `vars` that is set, parsed; a parse error names that variable.
pub fn first_env<T>(
    vars: &[&str],
    env: EnvLookup,
    parse: fn(&str) -> Result<T, String>,
) -> Result<Option<T>> {
    Ok(first_env_named(vars, env, parse)?.map(|(value, _)| value))
}

/// The flag's value with `flag_name`, else the first of `vars` that is set, parsed, with its name.
pub fn pick_named<'n, T>(
    flag: Option<T>,
    flag_name: &'n str,
    vars: &[&'n str],
    env: EnvLookup,
    parse: fn(&str) -> Result<T, String>,
) -> Result<Option<(T, &'n str)>> {
    match flag {
        Some(value) => Ok(Some((value, flag_name))),
        None => first_env_named(vars, env, parse),
    }
}

/// The first of `vars` that is set, parsed, with its name; a parse error names the variable.
pub fn first_env_named<'n, T>(
    vars: &[&'n str],
    env: EnvLookup,
    parse: fn(&str) -> Result<T, String>,
) -> Result<Option<(T, &'n str)>> {
    for var in vars {
        if let Some(text) = set(env, var) {
            return parse(&text)
                .map(|value| Some((value, *var)))
                .map_err(|message| BadInput::new(format!("{var}: {message}")).into());
        }
    }
    Ok(None)
}

/// A variable's value, `None` when unset or empty.
pub fn set(env: EnvLookup, var: &str) -> Option<String> {
    env(var).filter(|value| !value.is_empty())
}

/// A switch: on when its flag is given or its variable is true.
pub fn flag_or_env_bool(flag: bool, vars: &[&str], env: EnvLookup) -> Result<bool> {
    Ok(flag || first_env(vars, env, values::parse_bool)?.unwrap_or(false))
}

/// A path from its flag or variable (an empty variable is unset); an empty flag is bad input.
pub fn path_from(
    flag: Option<&PathBuf>,
    flag_name: &str,
    vars: &[&str],
    env: EnvLookup,
) -> Result<Option<PathBuf>> {
    let from_env = || vars.iter().find_map(|var| set(env, var)).map(PathBuf::from);
    match flag.cloned().or_else(from_env) {
        Some(path) if path.as_os_str().is_empty() => {
            let name = source_name(flag, flag_name, vars);
            Err(BadInput::new(format!(
                "{name}: the path is empty: give a file path or unset it"
            ))
            .into())
        }
        other => Ok(other),
    }
}

/// The name to quote in a message: the flag when it was given, else the (first) variable.
pub fn source_name<'a, T>(flag: Option<&T>, flag_name: &'a str, vars: &[&'a str]) -> &'a str {
    match (flag, vars.first()) {
        (None, Some(var)) => var,
        _ => flag_name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names in `[env: A, B]` of a flag's help text.
    fn env_list(help: &str) -> Option<Vec<String>> {
        let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
        let start = help.find("[env: ")? + "[env: ".len();
        let end = start + help[start..].find(']')?;
        Some(help[start..end].split(", ").map(str::to_string).collect())
    }

    #[test]
    fn every_flags_help_lists_exactly_the_variables_it_is_read_from() {
        let command = crate::cli::command();
        let mut documented = Vec::new();
        for cmd in std::iter::once(&command).chain(command.get_subcommands()) {
            for arg in cmd.get_arguments() {
                let (Some(flag), Some(help)) = (arg.get_long(), arg.get_help()) else {
                    continue;
                };
                assert!(
                    ["help", "version"].contains(&flag)
                        || BY_FLAG.iter().any(|(listed, _)| *listed == flag),
                    "--{flag} has no entry in BY_FLAG: every flag has an environment twin"
                );
                assert!(
                    help.to_string().matches("[env: ").count() <= 1,
                    "--{flag}: its doc comment spells [env: …] again"
                );
                let help = arg.get_long_help().unwrap_or(help).to_string();
                if let Some(names) = env_list(&help) {
                    documented.push((flag.to_string(), names));
                }
            }
        }
        documented.sort();
        documented.dedup();
        let mut table: Vec<(String, Vec<String>)> = BY_FLAG
            .iter()
            .map(|(flag, vars)| {
                let names = vars.iter().map(|var| (*var).to_string()).collect();
                ((*flag).to_string(), names)
            })
            .collect();
        table.sort();
        assert_eq!(documented, table);
    }

    #[test]
    fn every_variable_a_setting_is_read_from_is_listed_once_in_read() {
        for (flag, names) in BY_FLAG {
            assert!(READ.contains(names), "--{flag}: {names:?} is not in READ");
        }
        for name in [
            USERNAME,
            PASSWORD,
            POD_IP,
            SPRING_APP_NAME,
            SPRING_INSTANCE_INDEX,
        ]
        .into_iter()
        .chain([SERVER_PORT])
        .chain(REGISTERED_ADDRESSES.iter().copied())
        {
            assert!(
                read_names().any(|read| read == name),
                "{name} is not in READ"
            );
        }
        let mut names: Vec<&str> = read_names().collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "a name is listed twice in READ");
    }

    #[test]
    fn the_first_variable_set_wins_and_a_bad_value_names_it() {
        let env = |name: &str| (name != "A").then(|| format!("{name}-value"));
        let parse: fn(&str) -> Result<String, String> = |text| Ok(text.to_string());
        assert_eq!(
            first_env(&["A", "B", "C"], &env, parse).unwrap(),
            Some("B-value".into())
        );
        let refuse: fn(&str) -> Result<String, String> = |_| Err("no".into());
        let err = first_env(&["A", "B"], &env, refuse).unwrap_err();
        assert_eq!(format!("{err:#}"), "B: no");
    }

    #[test]
    fn an_empty_variable_is_unset() {
        let env = |name: &str| {
            Some(if name == "A" {
                String::new()
            } else {
                "b".into()
            })
        };
        let parse: fn(&str) -> Result<String, String> = |text| Ok(text.to_string());
        assert_eq!(
            first_env(&["A", "B"], &env, parse).unwrap(),
            Some("b".into())
        );
        let empty = |_: &str| Some(String::new());
        assert_eq!(path_from(None, "--x", &["A"], &empty).unwrap(), None);
    }

    #[test]
    fn a_value_that_is_not_utf8_reads_as_unset_and_is_reported_by_name() {
        use std::os::unix::ffi::OsStringExt;
        let raw = |name: &str| match name {
            "EMPTY" => Some(OsString::new()),
            "GOOD" => Some("demo".into()),
            "LATIN1" => Some(OsString::from_vec(vec![b'p', 0xe4, b's', b's'])),
            _ => None,
        };
        let env = ProcessEnv::new(raw, Vec::new);
        assert_eq!(env.get("EMPTY"), None);
        assert_eq!(env.get("GOOD"), Some("demo".into()));
        assert!(env.check().is_ok());
        assert_eq!(env.get("LATIN1"), None);
        let message = format!("{:#}", env.check().unwrap_err());
        assert!(
            message.starts_with("LATIN1: the value is not valid UTF-8"),
            "{message}"
        );
        assert!(!message.contains("pss"));
    }

    #[test]
    fn names_lists_every_set_variable_empty_ones_included() {
        use std::os::unix::ffi::OsStringExt;
        let env = ProcessEnv::new(
            |_| None,
            || {
                vec![
                    OsString::from("EMPTY"),
                    OsString::from("EUREKA_URL"),
                    OsString::from_vec(vec![b'A', 0xe4]),
                ]
            },
        );
        assert_eq!(env.names(), ["EMPTY", "EUREKA_URL", "A\u{fffd}"]);
    }
}

/// Property test of the environment map: a variable of Spring's reads as Spring Boot would
/// find it, `SPRING_APPLICATION_JSON` first, and never a value that was not given.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;
    use std::rc::Rc;

    fn env_of(vars: HashMap<String, String>) -> ProcessEnv {
        let vars = Rc::new(vars);
        let names = Rc::clone(&vars);
        ProcessEnv::new(
            move |name| vars.get(name).map(OsString::from),
            move || names.keys().map(OsString::from).collect(),
        )
    }

    proptest! {
        #[test]
        fn spring_application_name_reads_as_spring_boot_finds_it(
            upper in proptest::option::of("[a-z]{0,4}"),
            dotted in proptest::option::of("[a-z]{0,4}"),
            json_name in proptest::option::of(proptest::option::of("[a-z]{0,4}")),
            other in "[A-Z]{1,8}",
        ) {
            let mut vars = HashMap::new();
            vars.insert(other.clone(), "unrelated".to_string());
            if let Some(value) = &upper { vars.insert("SPRING_APPLICATION_NAME".into(), value.clone()); }
            if let Some(value) = &dotted { vars.insert("spring.application.name".into(), value.clone()); }
            if let Some(name) = &json_name {
                let json = match name {
                    Some(value) => serde_json::json!({"spring": {"application": {"name": value}}}),
                    None => serde_json::json!({"server.port": 1}),
                };
                vars.insert("SPRING_APPLICATION_JSON".into(), json.to_string());
            }
            let non_empty = |value: &Option<String>| value.clone().filter(|value| !value.is_empty());
            let expected = non_empty(&json_name.clone().flatten())
                .or_else(|| non_empty(&upper))
                .or_else(|| non_empty(&dotted));
            let env = env_of(vars);
            prop_assert_eq!(env.get("SPRING_APPLICATION_NAME"), expected);
            prop_assert!(env.check().is_ok());
        }
    }
}
