//! Typed values and their parsers, shared by flags (as clap value parsers) and environment variables
//! (in `settings`), so a value is checked the same way wherever it comes from.
//!
//! Parsers return a `String` message that says what is wrong and what a valid value looks like; the
//! caller adds which flag or variable it came from. Nothing here does I/O. Parsers never echo a
//! password: a service URL's userinfo is split off before anything else looks at the URL, and a
//! URL is only ever quoted as `user:***@host…`.

use std::fmt;
use std::time::Duration;

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};
use ureq::http::Uri;

use crate::redact::{Credentials, Secret, shown_url};

/// The longest drain or wait we accept; longer values are typing mistakes, not grace periods.
pub const MAX_HOLD: Duration = Duration::from_secs(24 * 60 * 60);
/// The longest request timeout we accept.
pub const MAX_REQUEST_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// The longest service URL accepted, and the longest app name and instance id once
/// percent-encoded. A Eureka server on Tomcat refuses a request whose request line and headers
/// exceed 8 KiB (`maxHttpHeaderSize`) with a bare 400; with these limits the longest request the
/// hook sends, `PUT {url}apps/{APP}/{ID}/status?value=OUT_OF_SERVICE`, stays under 4 KiB.
pub const MAX_SERVICE_URL: usize = 2048;
pub const MAX_APP_NAME: usize = 512;
pub const MAX_INSTANCE_ID: usize = 1024;
/// The longest `user:password` accepted: its Basic header must fit beside the request line.
pub const MAX_CREDENTIALS: usize = 1024;

/// Characters that must be escaped in one path segment (RFC 3986 `pchar` allows `:` and `@`,
/// which Eureka instance ids use).
const PATH_SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// `segment` percent-encoded for use as one URL path segment.
pub fn encode_path_segment(segment: &str) -> String {
    utf8_percent_encode(segment, PATH_SEGMENT).to_string()
}

/// The Spring application name, in the case it was given (Spring's default instanceId keeps it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppName(String);

impl AppName {
    pub fn parse(text: &str) -> Result<Self, String> {
        check_token(text, "an application name such as demo-service")?;
        check_encoded_length(text, MAX_APP_NAME)?;
        Ok(AppName(text.into()))
    }

    /// Stands in a `--dry-run` plan for an app only the registry's listing can tell.
    pub fn placeholder_for_dry_run() -> Self {
        AppName("(found-app)".into())
    }

    /// The name as given, for the default instanceId.
    pub fn as_given(&self) -> &str {
        &self.0
    }

    /// The name as the registry keys it: Eureka upper-cases `{APP}`.
    pub fn registry_name(&self) -> String {
        self.0.to_uppercase()
    }
}

/// A Eureka instanceId; exact and case-sensitive on the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceId(String);

impl InstanceId {
    pub fn parse(text: &str) -> Result<Self, String> {
        check_token(text, "an instance id such as pod-0:demo-service:8080")?;
        check_encoded_length(text, MAX_INSTANCE_ID)?;
        Ok(InstanceId(text.into()))
    }

    /// Stands in a `--dry-run` plan for an id only the registry's listing can tell.
    pub fn placeholder_for_dry_run() -> Self {
        InstanceId("(found-id)".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Refuses a path segment too long to send (see [`MAX_INSTANCE_ID`]).
fn check_encoded_length(text: &str, limit: usize) -> Result<(), String> {
    let length = encode_path_segment(text).len();
    if length > limit {
        return Err(format!(
            "is too long to send: {length} bytes once percent-encoded, at most {limit}"
        ));
    }
    Ok(())
}

fn check_token(text: &str, example: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err(format!("is empty: give {example}"));
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "'{}' contains white space or control characters: give {example}",
            text.escape_debug()
        ));
    }
    Ok(())
}

/// A TCP port, 1 to 65535.
pub fn parse_port(text: &str) -> Result<u16, String> {
    match text.trim().parse::<u32>() {
        Ok(number) => u16::try_from(number)
            .ok()
            .filter(|port| *port != 0)
            .ok_or_else(|| format!("'{text}' is out of range: a port is 1 to 65535")),
        Err(_) => Err(format!(
            "'{}' is not a port number: give a number from 1 to 65535",
            text.escape_debug()
        )),
    }
}

/// A host name or IP address as Eureka records it in `hostName` / `ipAddr`.
pub fn parse_hostname(text: &str) -> Result<String, String> {
    let valid = !text.is_empty()
        && text.len() <= 253
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | ':'));
    if valid {
        Ok(text.to_string())
    } else {
        Err(format!(
            "'{}' is not a host name: use letters, digits, '-', '.' (at most 253 characters)",
            text.escape_debug()
        ))
    }
}

/// A humantime duration (`30s`, `1m30s`, `500ms`) from zero to [`MAX_HOLD`]: a drain or a wait.
pub fn parse_hold(text: &str) -> Result<Duration, String> {
    parse_duration_up_to(text, MAX_HOLD)
}

/// A humantime duration above zero and up to [`MAX_REQUEST_TIMEOUT`].
pub fn parse_request_timeout(text: &str) -> Result<Duration, String> {
    let timeout = parse_duration_up_to(text, MAX_REQUEST_TIMEOUT)?;
    if timeout.is_zero() {
        return Err("must be greater than zero, e.g. 5s".into());
    }
    Ok(timeout)
}

fn parse_duration_up_to(text: &str, max: Duration) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text.trim()).map_err(|err| {
        format!(
            "'{}' is not a duration ({err}): use a form like 30s, 1m30s or 500ms",
            text.escape_debug()
        )
    })?;
    if duration > max {
        return Err(format!(
            "'{}' is too long: at most {}",
            text.escape_debug(),
            humantime::format_duration(max)
        ));
    }
    Ok(duration)
}

/// A boolean environment variable: `1/true/yes/on` or `0/false/no/off` (any case), or empty for false.
pub fn parse_bool(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "" | "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(format!(
            "'{}' is not a boolean: use true or false",
            text.escape_debug()
        )),
    }
}

/// A `--health-url`: an http(s) URL with a host and no userinfo (the health check is sent with
/// no credentials, and a password on the command line would show in `ps`).
pub fn parse_health_url(text: &str) -> Result<String, String> {
    let shown = shown_url(text);
    if text.len() > MAX_SERVICE_URL {
        return Err(format!(
            "a URL of {} bytes is too long: at most {MAX_SERVICE_URL}",
            text.len()
        ));
    }
    let example = "e.g. http://127.0.0.1:8080/actuator/health";
    let uri: Uri = text
        .parse()
        .map_err(|err| format!("'{shown}' is not a URL ({err}): {example}"))?;
    let http = uri.scheme_str().is_some_and(|scheme| {
        ["http", "https"]
            .iter()
            .any(|known| scheme.eq_ignore_ascii_case(known))
    });
    if !http || uri.host().is_none_or(str::is_empty) {
        return Err(format!(
            "'{shown}' must be http(s)://host:port/path, {example}"
        ));
    }
    if uri
        .authority()
        .is_some_and(|authority| authority.as_str().contains('@'))
    {
        return Err(format!(
            "'{shown}' must not hold credentials: the health check is sent without any"
        ));
    }
    Ok(text.to_string())
}

/// One Eureka service URL as Spring's `defaultZone` gives it, with its userinfo taken out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceUrl {
    scheme: String,
    /// `host[:port]`, without userinfo.
    host_port: String,
    /// Always ends with `/`, as Spring appends one.
    path: String,
}

impl ServiceUrl {
    /// The URL, and the credentials its userinfo held (percent-decoded), which the caller keeps.
    ///
    /// The userinfo is everything between `://` and the last `@`, split off before the rest is
    /// parsed, so a password holding `/ ? # @ :` or a space is taken whole rather than cut into a
    /// host and a path, and no parser ever sees (or quotes) it. Messages show `user:***@`.
    pub fn parse(text: &str) -> Result<(Self, Option<Credentials>), String> {
        let shown = shown_url(text);
        if text.len() > MAX_SERVICE_URL {
            return Err(format!(
                "a URL of {} bytes is too long to send: at most {MAX_SERVICE_URL}",
                text.len()
            ));
        }
        // The scheme is case-insensitive (RFC 3986), as Java's URL takes it: `HTTP://` is http.
        let scheme_and_rest = text.split_once("://").and_then(|(scheme, rest)| {
            ["http", "https"]
                .into_iter()
                .find(|known| scheme.eq_ignore_ascii_case(known))
                .map(|known| (known, rest))
        });
        let Some((scheme, rest)) = scheme_and_rest else {
            return Err(format!(
                "'{shown}' must start with http:// or https://, e.g. http://eureka:8761/eureka/"
            ));
        };
        let (userinfo, location) = match rest.rsplit_once('@') {
            Some((userinfo, location)) => (Some(userinfo), location),
            None => (None, rest),
        };
        let uri: Uri = format!("{scheme}://{location}").parse().map_err(|err| {
            format!("'{shown}' is not a URL ({err}): give http(s)://host:port/eureka/")
        })?;
        let host_port = uri
            .authority()
            .map(ureq::http::uri::Authority::as_str)
            .unwrap_or_default();
        let host = uri.host().unwrap_or_default();
        if host.is_empty() || host_port.contains('@') {
            return Err(format!("'{shown}' has no host"));
        }
        if let Some(port_text) = host_port[host.len()..].strip_prefix(':') {
            parse_port(port_text).map_err(|err| format!("'{shown}': the port {err}"))?;
        }
        if uri.query().is_some() || location.contains('#') {
            return Err(format!(
                "'{shown}' must not have a query or fragment: give the base URL, e.g. http://eureka:8761/eureka/"
            ));
        }
        let mut path = uri.path().to_string();
        if !path.ends_with('/') {
            path.push('/');
        }
        let credentials = userinfo
            .map(|userinfo| parse_userinfo(userinfo).map_err(|err| format!("'{shown}' {err}")))
            .transpose()?;
        let url = ServiceUrl {
            scheme: scheme.to_string(),
            host_port: host_port.to_string(),
            path,
        };
        Ok((url, credentials))
    }

    /// Whether both name the same server path: the host in any case, the path exactly (a
    /// trailing slash is already added to both).
    pub fn is_same_as(&self, other: &ServiceUrl) -> bool {
        self.scheme == other.scheme
            && self.host_port.eq_ignore_ascii_case(&other.host_port)
            && self.path == other.path
    }

    /// The URL with `user:***@` in front of the host.
    pub fn shown_with_user(&self, user: &str) -> String {
        format!(
            "{}://{user}:***@{}{}",
            self.scheme, self.host_port, self.path
        )
    }

    /// The URL of `segments` (each percent-encoded) below this base, with an optional raw query.
    pub fn endpoint(&self, segments: &[&str], query: Option<&str>) -> String {
        let mut url = format!("{}://{}{}", self.scheme, self.host_port, self.path);
        let encoded: Vec<String> = segments.iter().map(|s| encode_path_segment(s)).collect();
        url.push_str(&encoded.join("/"));
        if let Some(query) = query {
            url.push('?');
            url.push_str(query);
        }
        url
    }
}

/// Shows the URL without userinfo.
impl fmt::Display for ServiceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}{}", self.scheme, self.host_port, self.path)
    }
}

fn parse_userinfo(userinfo: &str) -> Result<Credentials, String> {
    let Some((user, password)) = userinfo.split_once(':') else {
        return Err(
            "has a username without a password: give user:password, or use EUREKA_USERNAME and EUREKA_PASSWORD"
                .into(),
        );
    };
    let decode = |part: &str| {
        percent_decode_str(part)
            .decode_utf8()
            .map(std::borrow::Cow::into_owned)
            .map_err(|_| "has userinfo that is not valid UTF-8 once percent-decoded".to_string())
    };
    let username = decode(user)?;
    let password = decode(password)?;
    if username.is_empty() {
        return Err("has a password without a username: give user:password".into());
    }
    if password.is_empty() {
        return Err("has a username without a password: give user:password".into());
    }
    Ok(Credentials {
        username,
        password: Secret::new(password),
    })
}

/// A comma-separated list of service URLs (Spring's `defaultZone` form), at least one, each with
/// the credentials its userinfo held.
pub fn parse_service_urls(list: &str) -> Result<Vec<(ServiceUrl, Option<Credentials>)>, String> {
    if list.trim().is_empty() {
        return Err("is empty: give http(s)://host:port/eureka/[,URL...]".into());
    }
    let entries: Vec<&str> = list.split(',').map(str::trim).collect();
    // A ',' in a password splits it across two entries, where neither looks like userinfo any
    // more; so when the list holds credentials, a broken entry is named by number only.
    let holds_credentials = list.contains('@');
    entries
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            let number = index.saturating_add(1);
            if entry.is_empty() {
                return Err(format!(
                    "entry {number} of the list is empty (a stray comma?)"
                ));
            }
            ServiceUrl::parse(entry).map_err(|err| {
                if holds_credentials && entries.len() > 1 {
                    format!(
                        "entry {number} of the list is not a valid service URL (not shown: the \
                         list holds credentials; a ',' in a password must be written %2C)"
                    )
                } else {
                    err
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_outside_1_to_65535_are_rejected() {
        assert_eq!(parse_port("8080"), Ok(8080));
        assert_eq!(parse_port("65535"), Ok(65535));
        for bad in ["0", "65536", "-1", "http", ""] {
            assert!(parse_port(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn durations_are_humantime_and_bounded() {
        assert_eq!(parse_hold("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_hold("0s"), Ok(Duration::ZERO));
        assert!(parse_hold("-5s").is_err());
        assert!(parse_hold("30").unwrap_err().contains("30s"));
        assert!(parse_hold("2days").is_err());
        assert!(
            parse_request_timeout("0s")
                .unwrap_err()
                .contains("greater than zero")
        );
        assert_eq!(
            parse_request_timeout("500ms"),
            Ok(Duration::from_millis(500))
        );
    }

    #[test]
    fn booleans_accept_the_usual_spellings() {
        assert_eq!(parse_bool("TRUE"), Ok(true));
        assert_eq!(parse_bool("0"), Ok(false));
        assert!(parse_bool("maybe").is_err());
    }

    #[test]
    fn app_names_and_ids_must_be_non_empty_tokens() {
        assert!(AppName::parse("").is_err());
        assert!(AppName::parse("demo service").is_err());
        assert_eq!(
            AppName::parse("demo-Service").map(|a| a.registry_name()),
            Ok("DEMO-SERVICE".into())
        );
        assert!(InstanceId::parse("a\tb").is_err());
    }

    #[test]
    fn hostnames_are_dns_like() {
        assert!(parse_hostname("pod-0.web.ns.svc.cluster.local").is_ok());
        assert!(parse_hostname("10.244.1.17").is_ok());
        assert!(parse_hostname("").is_err());
        assert!(parse_hostname("a b").is_err());
        assert!(parse_hostname("a/b").is_err());
    }

    #[test]
    fn service_url_gets_a_trailing_slash_and_loses_its_userinfo() {
        let (url, credentials) =
            ServiceUrl::parse("http://user:p%40ss@eureka:8761/eureka").unwrap();
        assert_eq!(url.to_string(), "http://eureka:8761/eureka/");
        assert_eq!(
            url.shown_with_user("user"),
            "http://user:***@eureka:8761/eureka/"
        );
        let credentials = credentials.unwrap();
        assert_eq!(credentials.username, "user");
        assert_eq!(credentials.password.expose(), "p@ss");
        assert_eq!(
            url.endpoint(
                &["apps", "DEMO", "pod 0:demo:8080", "status"],
                Some("value=UP")
            ),
            "http://eureka:8761/eureka/apps/DEMO/pod%200:demo:8080/status?value=UP"
        );
    }

    #[test]
    fn an_upper_case_scheme_is_the_same_scheme() {
        for (given, shown) in [
            ("HTTP://eureka:8761/eureka/", "http://eureka:8761/eureka/"),
            ("Https://eureka/eureka", "https://eureka/eureka/"),
        ] {
            assert_eq!(ServiceUrl::parse(given).unwrap().0.to_string(), shown);
        }
        assert!(ServiceUrl::parse("HTTPX://eureka/").is_err());
    }

    #[test]
    fn path_segments_escape_slashes_and_percent() {
        assert_eq!(encode_path_segment("a/b%c?d#e"), "a%2Fb%25c%3Fd%23e");
        assert_eq!(encode_path_segment("pod-0:demo:8080"), "pod-0:demo:8080");
    }

    #[test]
    fn bad_service_urls_are_rejected_without_showing_the_password() {
        let cases = [
            ("ftp://u:sekrit@eureka/", "http://"),
            ("eureka:8761/eureka/", "must start with http://"),
            ("http://", "not a URL"),
            ("http://u:sekrit@eureka:99999/eureka/", "port"),
            ("http://u:sekrit@eureka/eureka/?x=1", "query"),
            ("http://u:sekrit@eureka/eureka/#top", "fragment"),
            ("http://user@eureka/eureka/", "without a password"),
            ("http://:sekrit@eureka/eureka/", "without a username"),
            ("http://u:sekrit@ eureka/", "not a URL"),
            ("u:sekrit@eureka:8761/eureka/", "http://"),
            ("http://u:sek/rit@ eureka/", "not a URL"),
            ("http://sekrit@eureka/eureka/", "without a password"),
        ];
        for (text, expected) in cases {
            let err = ServiceUrl::parse(text).unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
            assert!(!err.contains("sekrit"), "{text}: {err}");
        }
    }

    #[test]
    fn a_password_with_url_delimiters_is_taken_whole_up_to_the_last_at() {
        for password in [
            "pa/ss", "pa?ss", "pa#ss", "pa@ss", "pa:ss", "pa ss", "p%ss", "/", "eureka",
        ] {
            let text = format!("http://eureka:{password}@registry:8761/eureka/");
            let (url, credentials) = ServiceUrl::parse(&text).unwrap();
            assert_eq!(
                url.to_string(),
                "http://registry:8761/eureka/",
                "{password}"
            );
            let credentials = credentials.unwrap();
            assert_eq!(credentials.username, "eureka");
            assert_eq!(credentials.password.expose(), password);
        }
        let (_, credentials) = ServiceUrl::parse("http://u:p%2Fs%40s@h/eureka/").unwrap();
        assert_eq!(credentials.unwrap().password.expose(), "p/s@s");
    }

    #[test]
    fn a_comma_in_a_password_is_never_quoted() {
        let err = parse_service_urls("http://u:sek,rit@a/eureka/").unwrap_err();
        assert!(err.contains("entry 1") && !err.contains("sek"), "{err}");
    }

    #[test]
    fn values_too_long_to_send_are_refused() {
        assert!(InstanceId::parse(&"i".repeat(MAX_INSTANCE_ID)).is_ok());
        assert!(
            InstanceId::parse(&"i".repeat(MAX_INSTANCE_ID + 1))
                .unwrap_err()
                .contains("too long")
        );
        assert!(
            InstanceId::parse(&"/".repeat(MAX_INSTANCE_ID / 2)).is_err(),
            "encoded length counts"
        );
        assert!(AppName::parse(&"a".repeat(MAX_APP_NAME + 1)).is_err());
        let long_url = format!("http://h/{}/", "p".repeat(MAX_SERVICE_URL));
        assert!(
            ServiceUrl::parse(&long_url)
                .unwrap_err()
                .contains("too long")
        );
    }

    #[test]
    fn service_url_lists_are_comma_separated_like_default_zone() {
        let urls = parse_service_urls("http://a:8761/eureka/, https://b/eureka").unwrap();
        assert_eq!(urls.len(), 2);
        assert_eq!(urls[1].0.to_string(), "https://b/eureka/");
        assert!(
            parse_service_urls("http://a/,,http://b/")
                .unwrap_err()
                .contains("entry 2")
        );
        assert!(parse_service_urls("  ").is_err());
        assert!(parse_service_urls("http://[::1]:8761/eureka/").is_ok());
    }
}

/// Property tests: every parser of input, on any text, returns a value or a message, never
/// panics, and never puts a password in a message.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// A password with every character a URL parser cares about, and a marker that makes it
    /// unlike any other part of the URL.
    fn password() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9/?#@:%, '\\\"\\[\\]!$&()*+;=~.-]{0,24}".prop_map(|tail| format!("Pw9{tail}"))
    }

    fn any_text() -> impl Strategy<Value = String> {
        prop_oneof![any::<String>(), "[ -~]{0,40}", "[0-9a-z.:/@ -]{0,40}"]
    }

    proptest! {
        #[test]
        fn durations_are_bounded_or_refused(text in any_text()) {
            if let Ok(hold) = parse_hold(&text) {
                prop_assert!(hold <= MAX_HOLD);
            }
            if let Ok(timeout) = parse_request_timeout(&text) {
                prop_assert!(!timeout.is_zero() && timeout <= MAX_REQUEST_TIMEOUT);
            }
        }

        #[test]
        fn durations_written_by_humantime_read_back(millis in 0u64..=MAX_HOLD.as_secs() * 1000) {
            let duration = Duration::from_millis(millis);
            let text = humantime::format_duration(duration).to_string();
            prop_assert_eq!(parse_hold(&text), Ok(duration));
        }

        #[test]
        fn ports_are_1_to_65535_and_read_back(text in any_text(), port in 1u16..) {
            if let Ok(parsed) = parse_port(&text) {
                prop_assert!(parsed >= 1);
            }
            prop_assert_eq!(parse_port(&port.to_string()), Ok(port));
        }

        #[test]
        fn app_names_and_ids_are_tokens_kept_as_given(text in any_text()) {
            for parsed in [AppName::parse(&text).map(|app| app.as_given().to_string()),
                           InstanceId::parse(&text).map(|id| id.as_str().to_string())] {
                match parsed {
                    Ok(kept) => {
                        prop_assert_eq!(&kept, &text);
                        prop_assert!(!text.is_empty());
                        prop_assert!(!text.chars().any(|c| c.is_whitespace() || c.is_control()));
                    }
                    Err(message) => prop_assert!(!message.chars().any(char::is_control), "{}", message),
                }
            }
        }

        #[test]
        fn hostnames_and_booleans_never_panic(text in any_text()) {
            let _ = parse_hostname(&text);
            let _ = parse_bool(&text);
        }

        #[test]
        fn a_service_url_never_shows_its_password(
            user in "[a-z]{1,8}",
            password in password(),
            host in "[a-z]{1,10}(:[0-9]{1,6})?",
            path in "(/[a-z?#]{0,8}){0,3}",
            scheme in "(http|HTTPS|ftp|)(://)?",
        ) {
            let url = format!("{scheme}{user}:{password}@{host}{path}");
            for list in [url.clone(), format!("http://a/eureka/,{url}"), format!("{url}, {url}")] {
                match parse_service_urls(&list) {
                    Ok(urls) => {
                        for (parsed, _) in &urls {
                            prop_assert!(!parsed.to_string().contains(&password));
                        }
                    }
                    Err(message) => prop_assert!(!message.contains(&password), "{}", message),
                }
            }
        }

        #[test]
        fn a_parsed_service_url_gives_back_its_credentials_decoded(
            user in "[a-z]{1,8}",
            password in "[a-zA-Z0-9]{1,16}",
            host in "[a-z]{1,10}",
        ) {
            let (url, credentials) = ServiceUrl::parse(&format!("http://{user}:{password}@{host}/eureka")).unwrap();
            prop_assert_eq!(url.to_string(), format!("http://{host}/eureka/"));
            let credentials = credentials.unwrap();
            prop_assert_eq!(credentials.username, user);
            prop_assert_eq!(credentials.password.expose(), password.as_str());
        }
    }
}
