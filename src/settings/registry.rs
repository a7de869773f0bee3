//! What reaches the registry: the peers with the credentials each sends, the request timeout and
//! the certificates trusted. Credentials live here only, on each [`Peer`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use rustls::pki_types::CertificateDer;
use ureq::tls::{Certificate, PemItem, parse_pem};

use crate::bounded_read;
use crate::cli::CommonArgs;
use crate::eureka::{Peer, tls};
use crate::exit::BadInput;
use crate::redact::{Credentials, Secret};
use crate::values::{self, ServiceUrl};
use crate::vars::{self, EnvLookup, first_env, path_from, source_name};

/// Spring Cloud's default `defaultZone`.
pub const DEFAULT_EUREKA_URL: &str = "http://localhost:8761/eureka/";
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// A service URL as given, with the credentials its userinfo held.
pub type GivenUrl = (ServiceUrl, Option<Credentials>);

#[derive(Debug)]
pub struct Registry {
    /// From --eureka-url or its variables, or Spring's default.
    pub peers: Vec<Peer>,
    /// From --request-timeout or its variable, or 5 s; bounds each peer's request,
    /// retries included.
    pub request_timeout: Duration,
    /// From --cacert or its variable: certificates trusted instead of the built-in roots.
    pub ca_certificates: Option<Vec<Certificate<'static>>>,
}

impl Registry {
    /// The service URLs, each server once; a warning when the command line carries credentials
    /// or a URL is listed twice.
    pub fn service_urls(
        common: &CommonArgs,
        env: EnvLookup,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<GivenUrl>> {
        let urls = Registry::listed_urls(common, env, warnings)?;
        let mut distinct: Vec<GivenUrl> = Vec::with_capacity(urls.len());
        for (url, credentials) in urls {
            match distinct
                .iter_mut()
                .find(|(known, _)| known.is_same_as(&url))
            {
                Some((known, known_credentials)) => {
                    warnings.push(format!(
                        "{known} is listed more than once (with or without a trailing slash, or \
                         in another case): it is asked once"
                    ));
                    if known_credentials.is_none() {
                        *known_credentials = credentials;
                    }
                }
                None => distinct.push((url, credentials)),
            }
        }
        Ok(distinct)
    }

    fn listed_urls(
        common: &CommonArgs,
        env: EnvLookup,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<GivenUrl>> {
        let Some(text) = &common.eureka_url else {
            return Ok(
                first_env(vars::EUREKA_URL, env, values::parse_service_urls)?
                    .map_or_else(|| values::parse_service_urls(DEFAULT_EUREKA_URL), Ok)
                    .map_err(BadInput::new)?,
            );
        };
        let urls = values::parse_service_urls(text)
            .map_err(|message| BadInput::new(format!("--eureka-url: {message}")))?;
        if urls.iter().any(|(_, credentials)| credentials.is_some()) {
            warnings.push(format!(
                "credentials in --eureka-url are visible to `ps` in the container: \
                 use {}/{} or --credentials-file instead",
                vars::USERNAME,
                vars::PASSWORD
            ));
        }
        Ok(urls)
    }

    pub fn resolve(urls: Vec<GivenUrl>, common: &CommonArgs, env: EnvLookup) -> Result<Registry> {
        let request_timeout = vars::pick(
            common.request_timeout,
            vars::REQUEST_TIMEOUT,
            env,
            values::parse_request_timeout,
        )?
        .unwrap_or(DEFAULT_REQUEST_TIMEOUT);
        let peers = assign_credentials(urls, common.credentials_file.as_ref(), env)?;
        let cacert = common.cacert.as_ref();
        let ca_certificates = match path_from(cacert, "--cacert", vars::CACERT, env)? {
            Some(path) => Some(read_ca_file(
                &path,
                source_name(cacert, "--cacert", vars::CACERT),
            )?),
            None => None,
        };
        Ok(Registry {
            peers,
            request_timeout,
            ca_certificates,
        })
    }

    /// Every password these peers send, for the logger to mask.
    pub fn secrets(&self) -> Vec<Secret> {
        self.peers
            .iter()
            .filter_map(Peer::credentials)
            .map(|credentials| credentials.password.clone())
            .collect()
    }
}

/// Gives every peer the credentials it will send, and rejects credentials given two ways at once.
fn assign_credentials(
    urls: Vec<GivenUrl>,
    credentials_file: Option<&PathBuf>,
    env: EnvLookup,
) -> Result<Vec<Peer>> {
    let from_env = env_credentials(env)?;
    let file_source = source_name(
        credentials_file,
        "--credentials-file",
        vars::CREDENTIALS_FILE,
    );
    let from_file = match path_from(
        credentials_file,
        "--credentials-file",
        vars::CREDENTIALS_FILE,
        env,
    )? {
        Some(path) => Some(read_credentials_file(&path, file_source)?),
        None => None,
    };
    let from_url = urls.iter().find_map(|(_, credentials)| credentials.clone());
    let env_source = format!("{}/{}", vars::USERNAME, vars::PASSWORD);
    let given: Vec<&str> = [
        from_url
            .as_ref()
            .map(|_| "user:password@ in the Eureka URL"),
        from_env.as_ref().map(|_| env_source.as_str()),
        from_file.as_ref().map(|_| file_source),
    ]
    .into_iter()
    .flatten()
    .collect();
    if given.len() > 1 {
        return Err(BadInput::new(format!(
            "credentials are given more than one way ({}): keep exactly one",
            given.join(" and ")
        ))
        .into());
    }
    // As Spring does, the first credentials found serve every peer that has none of its own.
    let shared = from_url.or(from_env).or(from_file);
    Ok(urls
        .into_iter()
        .map(|(url, own)| {
            let in_url = own.is_some();
            Peer::new(url, own.or_else(|| shared.clone()), in_url)
        })
        .collect())
}

fn env_credentials(env: EnvLookup) -> Result<Option<Credentials>> {
    match (
        vars::set(env, vars::USERNAME),
        vars::set(env, vars::PASSWORD),
    ) {
        (Some(username), Some(password)) => {
            check_credentials_length(
                &username,
                &password,
                &format!("{}/{}", vars::USERNAME, vars::PASSWORD),
            )?;
            Ok(Some(Credentials {
                username,
                password: Secret::new(password),
            }))
        }
        (None, None) => Ok(None),
        _ => Err(BadInput::new(format!(
            "{} and {} must be set together (an empty one counts as unset)",
            vars::USERNAME,
            vars::PASSWORD
        ))
        .into()),
    }
}

/// The file at `path`, read within `cap`; any refusal is bad input naming `source` and the path.
fn read_bounded(path: &Path, source: &str, cap: u64) -> Result<Vec<u8>> {
    bounded_read::read_regular_file(path, cap)
        .with_context(|| BadInput::new(format!("{source}: {}", path.display())))
}

fn read_credentials_file(path: &Path, source: &str) -> Result<Credentials> {
    let content = read_bounded(path, source, bounded_read::CREDENTIALS_FILE_CAP)?;
    let (username, password) = parse_credentials_file(&content)
        .map_err(|problem| BadInput::new(format!("{source}: {}: {problem}", path.display())))?;
    check_credentials_length(&username, &password, source)?;
    Ok(Credentials {
        username,
        password: Secret::new(password),
    })
}

/// Basic credentials must fit in a request header beside the longest request line; see
/// `values::MAX_CREDENTIALS`.
fn check_credentials_length(username: &str, password: &str, source: &str) -> Result<()> {
    let length = username
        .len()
        .saturating_add(1)
        .saturating_add(password.len());
    if length > values::MAX_CREDENTIALS {
        return Err(BadInput::new(format!(
            "{source}: user:password is {length} bytes, at most {} fit in a request header",
            values::MAX_CREDENTIALS
        ))
        .into());
    }
    Ok(())
}

/// What is wrong with a credentials file; no variant carries any of its content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CredentialsFileError {
    NotUtf8,
    ByteOrderMark,
    Empty,
    MoreThanOneLine,
    Comment,
    NoColon,
    EmptyUsername,
    EmptyPassword,
    ControlCharacter,
}

impl fmt::Display for CredentialsFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let problem = match self {
            CredentialsFileError::NotUtf8 => "it is not valid UTF-8",
            CredentialsFileError::ByteOrderMark => {
                "it starts with a byte-order mark (save it as UTF-8 without BOM)"
            }
            CredentialsFileError::Empty => "it is empty",
            CredentialsFileError::MoreThanOneLine => "it has more than one line",
            CredentialsFileError::Comment => "it is a comment line",
            CredentialsFileError::NoColon => "the line has no ':' between user and password",
            CredentialsFileError::EmptyUsername => "the user name is empty",
            CredentialsFileError::EmptyPassword => "the password is empty",
            CredentialsFileError::ControlCharacter => {
                "the line holds a control character (a tab or a stray carriage return?)"
            }
        };
        write!(f, "{problem}: it must hold exactly one line, user:password")
    }
}

/// `user:password` from a credentials file's bytes. One final `\n` or `\r\n` is allowed (editors
/// and `echo` add it; `kubectl create secret --from-literal` does not); the password is everything
/// after the first `:` and may itself hold `:`. Nothing is trimmed: a space may be part of a
/// password.
fn parse_credentials_file(bytes: &[u8]) -> Result<(String, String), CredentialsFileError> {
    let text = std::str::from_utf8(bytes).map_err(|_| CredentialsFileError::NotUtf8)?;
    if text.starts_with('\u{feff}') {
        return Err(CredentialsFileError::ByteOrderMark);
    }
    let line = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(text);
    if line.is_empty() {
        return Err(CredentialsFileError::Empty);
    }
    if line.contains('\n') {
        return Err(CredentialsFileError::MoreThanOneLine);
    }
    if line.trim_start().starts_with('#') {
        return Err(CredentialsFileError::Comment);
    }
    if line.chars().any(char::is_control) {
        return Err(CredentialsFileError::ControlCharacter);
    }
    let (username, password) = line.split_once(':').ok_or(CredentialsFileError::NoColon)?;
    if username.is_empty() {
        return Err(CredentialsFileError::EmptyUsername);
    }
    if password.is_empty() {
        return Err(CredentialsFileError::EmptyPassword);
    }
    Ok((username.to_string(), password.to_string()))
}

fn read_ca_file(path: &Path, source: &str) -> Result<Vec<Certificate<'static>>> {
    let pem = read_bounded(path, source, bounded_read::CA_FILE_CAP)?;
    let mut certificates = Vec::new();
    for item in parse_pem(&pem) {
        match item {
            Ok(PemItem::Certificate(certificate)) => certificates.push(certificate),
            Ok(_) => {}
            Err(err) => {
                return Err(BadInput::new(format!(
                    "{source}: {} is not a valid PEM file ({err})",
                    path.display()
                ))
                .into());
            }
        }
    }
    if certificates.is_empty() {
        return Err(BadInput::new(format!(
            "{source}: {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        ))
        .into());
    }
    let ders: Vec<_> = certificates
        .iter()
        .map(|certificate| CertificateDer::from(certificate.der().to_vec()))
        .collect();
    tls::client_config(&ders)
        .map_err(|problem| BadInput::new(format!("{source}: {}: {problem}", path.display())))?;
    Ok(certificates)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::Parser;

    #[test]
    fn a_server_listed_twice_is_asked_once_with_a_warning() {
        let cli = Cli::try_parse_from(["eureka-hook", "status"]).unwrap();
        let list =
            "http://a:8761/eureka,http://A:8761/eureka/,http://b/eureka/,http://a:8761/Eureka/";
        let env = |name: &str| (name == "EUREKA_URL").then(|| list.to_string());
        let mut warnings = Vec::new();
        let urls = Registry::service_urls(&cli.common, &env, &mut warnings).unwrap();
        let shown: Vec<String> = urls.iter().map(|(url, _)| url.to_string()).collect();
        assert_eq!(
            shown,
            [
                "http://a:8761/eureka/",
                "http://b/eureka/",
                "http://a:8761/Eureka/"
            ],
            "the path is case-sensitive, the host is not"
        );
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("http://a:8761/eureka/ is listed more than once"));
    }

    #[test]
    fn a_peer_shows_the_user_only_when_its_own_url_carried_the_credentials() {
        let urls = values::parse_service_urls("http://u:pw@a/eureka/,http://b/eureka/").unwrap();
        let peers = assign_credentials(urls, None, &|_| None).unwrap();
        let shown: Vec<String> = peers.iter().map(Peer::to_string).collect();
        assert_eq!(shown, ["http://u:***@a/eureka/", "http://b/eureka/"]);
        assert!(
            peers
                .iter()
                .all(|peer| peer.credentials().is_some_and(|c| c.username == "u"))
        );
    }

    #[test]
    fn a_credentials_file_is_one_user_colon_password_line() {
        for (content, expected) in [
            (&b"eureka:s3cret"[..], ("eureka", "s3cret")),
            (b"eureka:s3cret\n", ("eureka", "s3cret")),
            (b"eureka:s3cret\r\n", ("eureka", "s3cret")),
            (b"eureka:pa:ss /?#@%", ("eureka", "pa:ss /?#@%")),
            (b"eureka: leading space", ("eureka", " leading space")),
        ] {
            let (user, password) = parse_credentials_file(content).unwrap();
            assert_eq!((user.as_str(), password.as_str()), expected);
        }
    }

    #[test]
    fn anything_else_in_a_credentials_file_is_bad_input() {
        for (content, expected) in [
            (
                &b"\xef\xbb\xbfeureka:s3cret\n"[..],
                CredentialsFileError::ByteOrderMark,
            ),
            (
                b"eureka:s3cret\nsecond:line\n",
                CredentialsFileError::MoreThanOneLine,
            ),
            (b"eureka:s3cret\n\n", CredentialsFileError::MoreThanOneLine),
            (b"# user:password\n", CredentialsFileError::Comment),
            (b"", CredentialsFileError::Empty),
            (b"\n", CredentialsFileError::Empty),
            (b"only-a-user\n", CredentialsFileError::NoColon),
            (b":s3cret", CredentialsFileError::EmptyUsername),
            (b"eureka:", CredentialsFileError::EmptyPassword),
            (b"eureka:s3cret\r", CredentialsFileError::ControlCharacter),
            (b"eureka:s3\tcret", CredentialsFileError::ControlCharacter),
            (b"eureka:s\xe4cret", CredentialsFileError::NotUtf8),
        ] {
            assert_eq!(
                parse_credentials_file(content),
                Err(expected),
                "{content:?}"
            );
            assert!(!expected.to_string().contains("s3cret"));
        }
    }
}

/// Property tests of the credentials file parser: any bytes give credentials or a problem that
/// holds none of the file's content.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_bytes_give_credentials_or_a_problem_without_content(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            match parse_credentials_file(&bytes) {
                Ok((user, password)) => {
                    prop_assert!(!user.is_empty() && !password.is_empty());
                    let line = format!("{user}:{password}");
                    prop_assert!(!line.chars().any(char::is_control));
                }
                Err(problem) => {
                    let text = problem.to_string();
                    // Every message is one of the fixed texts, so it cannot quote the file.
                    prop_assert!(text.ends_with("it must hold exactly one line, user:password"));
                }
            }
        }

        #[test]
        fn a_user_colon_password_line_reads_back(
            user in "[^:\\p{Cc}\u{feff}#]{1,12}",
            password in "[^\\p{Cc}]{1,24}",
            ending in prop_oneof![Just(""), Just("\n"), Just("\r\n")],
        ) {
            prop_assume!(!user.trim_start().starts_with('#'));
            let line = format!("{user}:{password}{ending}");
            prop_assert_eq!(parse_credentials_file(line.as_bytes()), Ok((user, password)));
        }
    }
}
