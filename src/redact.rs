//! Keeping credentials out of every line we print.
//!
//! Redaction is structural: a password lives in a [`Secret`], whose `Debug` and `Display` print
//! `(redacted)`, and no message ever formats one. A service URL's userinfo is split off before the
//! URL is parsed, and a URL is quoted only as [`shown_url`] renders it (`user:***@host…`).
//!
//! clap quotes the words of a command line it refuses; [`argv_word`] hides the userinfo in each
//! word before clap is asked to word its error (see `cli::refusal_without_userinfo`).
//!
//! Two last resorts cover text we did not write. [`redact_url_text`] takes userinfo out of any URL
//! in a library's message (clap quotes an unexpected argument as given). [`mask`] stars out a
//! registered secret in a log line, but only a secret of at least [`SHORTEST_MASKED`] characters
//! and only where it stands as a whole token: a short or common password (`eureka`, `x`) would
//! otherwise star out ordinary words and paths (`/***/`) and, by where the stars fall, give the
//! password away. Such a password is kept out by structure alone.

use std::ffi::{OsStr, OsString};
use std::fmt;

/// A value that must never be printed: a password.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the one place that needs it: the `Authorization` header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(redacted)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(redacted)")
    }
}

/// HTTP Basic credentials for a Eureka peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: Secret,
}

/// One URL as given, for a message: when it has userinfo (everything between `://`, or the start,
/// and the last `@`), only the user name before the first `:` is kept, as `user:***@`; userinfo
/// without a `:` is all hidden, as `***@`, since it may be a password alone.
pub fn shown_url(text: &str) -> String {
    let (prefix, rest) = match text.find("://") {
        Some(index) => text.split_at(index.saturating_add(3)),
        None => ("", text),
    };
    match rest.rfind('@') {
        Some(at) => {
            let (userinfo, location) = rest.split_at(at);
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{prefix}{user}:***{location}"),
                None => format!("{prefix}***{location}"),
            }
        }
        None => text.to_string(),
    }
}

/// `text` (a library's message) with the userinfo of every URL in it hidden as [`shown_url`]
/// does. A URL is taken to end at a quote, a comma, a line end or the next URL, so a password
/// holding `/`, `?`, `#` or a space is hidden whole.
pub fn redact_url_text(text: &str) -> String {
    let mut redacted = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(scheme_end) = rest.find("://") {
        let start = scheme_end.saturating_add(3);
        redacted.push_str(&rest[..start]);
        rest = &rest[start..];
        let next_url = rest.find("://").unwrap_or(rest.len());
        let end = rest[..next_url]
            .find(['\'', '"', '`', ',', '\n', '\r', '>'])
            .unwrap_or(next_url);
        let url = &rest[..end];
        // Only the `@` before the end counts; a later URL's own `@` is its business.
        redacted.push_str(&shown_url(url));
        rest = &rest[end..];
    }
    redacted.push_str(rest);
    redacted
}

/// A command-line word as it may be shown in clap's own error message: a word holding `@` may
/// carry userinfo (a URL list split by a stray space leaves a URL, or a bare `user:pass@host`, as a
/// word of its own). Unlike in a message, the word's bounds are known, so everything from its
/// first `://` (or its start, when what comes before that is no scheme: then the `://` is in a
/// password) up to its last `@` is hidden but a plain user name, whatever the password holds
/// (`'`, `,`, `/`, `@`, `://`). A list loses its other hosts too: this is only a refused command
/// line. Any other word is kept as it is.
pub fn argv_word(word: &OsStr) -> OsString {
    let text = word.to_string_lossy();
    if !text.contains('@') {
        return word.to_owned();
    }
    OsString::from(match text.split_once("://") {
        Some((before, after)) if is_scheme(flag_value(before)) => {
            format!("{before}://{}", userinfo_hidden(after))
        }
        _ => userinfo_hidden(&text),
    })
}

/// What follows `--flag=` in `word`, or the whole word.
fn flag_value(word: &str) -> &str {
    match word.split_once('=') {
        Some((flag, value)) if flag.starts_with("--") => value,
        _ => word,
    }
}

/// Whether `text` is a URL scheme (RFC 3986: a letter, then letters, digits, `+`, `-`, `.`).
fn is_scheme(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// `text` (what follows a `://`, or a bare `user:pass@host`) with everything up to its last `@`
/// hidden but the user name before the first `:` when it is a plain name.
fn userinfo_hidden(text: &str) -> String {
    match text.rfind('@') {
        Some(at) => {
            let (userinfo, location) = text.split_at(at);
            match userinfo.split_once(':') {
                Some((user, _)) if !user.contains(['/', ',', '@', ' ']) => {
                    format!("{user}:***{location}")
                }
                _ => format!("***{location}"),
            }
        }
        None => text.to_string(),
    }
}

/// Secrets shorter than this are never masked by text search (see the module comment).
pub const SHORTEST_MASKED: usize = 8;

/// `line` with every whole-token occurrence of each secret of [`SHORTEST_MASKED`] characters or
/// more replaced by `***`.
pub fn mask(line: &str, secrets: &[Secret]) -> String {
    let mut masked = line.to_string();
    for secret in secrets {
        let secret = secret.expose();
        if secret.chars().count() < SHORTEST_MASKED {
            continue;
        }
        let mut result = String::with_capacity(masked.len());
        let mut rest = masked.as_str();
        while let Some(index) = rest.find(secret) {
            let before = rest[..index].chars().next_back();
            let after = rest[index.saturating_add(secret.len())..].chars().next();
            let whole = !before.is_some_and(char::is_alphanumeric)
                && !after.is_some_and(char::is_alphanumeric);
            result.push_str(&rest[..index]);
            result.push_str(if whole { "***" } else { secret });
            rest = &rest[index.saturating_add(secret.len())..];
        }
        result.push_str(rest);
        masked = result;
    }
    masked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_formats_its_value() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret} {secret:?}"), "(redacted) (redacted)");
        let credentials = Credentials {
            username: "eureka".into(),
            password: secret,
        };
        assert!(!format!("{credentials:?}").contains("hunter2"));
    }

    #[test]
    fn url_text_loses_its_password_but_keeps_the_user() {
        assert_eq!(
            redact_url_text("http://user:s3cret@eureka:8761/eureka/"),
            "http://user:***@eureka:8761/eureka/"
        );
        assert_eq!(
            redact_url_text("ftp://u:p@a/,http://v:q@b:1"),
            "ftp://u:***@a/,http://v:***@b:1"
        );
        assert_eq!(redact_url_text("http://user@host/"), "http://***@host/");
        assert_eq!(redact_url_text("no url here"), "no url here");
    }

    #[test]
    fn url_text_hides_a_password_with_delimiters_whole() {
        for password in ["p@ss", "pa/ss", "pa?ss", "pa#ss", "pa ss", "pa:ss"] {
            let text =
                format!("error: unexpected argument 'http://user:{password}@host/eureka/' found");
            let redacted = redact_url_text(&text);
            assert_eq!(
                redacted, "error: unexpected argument 'http://user:***@host/eureka/' found",
                "{password}"
            );
        }
    }

    #[test]
    fn a_shown_url_keeps_only_the_user() {
        assert_eq!(shown_url("https://u:a/b@h:1/e/"), "https://u:***@h:1/e/");
        assert_eq!(shown_url("u:pw@h/e/"), "u:***@h/e/");
        assert_eq!(shown_url("http://onlysecret@h/"), "http://***@h/");
        assert_eq!(shown_url("http://h:8761/eureka/"), "http://h:8761/eureka/");
    }

    #[test]
    fn an_argv_word_loses_every_password_it_holds() {
        for (word, shown) in [
            ("http://u:p'w@b/eureka/", "http://u:***@b/eureka/"),
            ("u:Bare,Pw@b/eureka/", "u:***@b/eureka/"),
            (
                "--eureka-url=http://u:p@a/,https://v:q/@b/",
                "--eureka-url=http://u:***@b/",
            ),
            (
                "http://eureka:Pw9://x@b/eureka/",
                "http://eureka:***@b/eureka/",
            ),
            ("eureka:Pw9://x@b/eureka/", "eureka:***@b/eureka/"),
            ("http://a/eureka/,http://u:p@b/", "http://***@b/"),
            ("http://a/eureka/", "http://a/eureka/"),
            ("prestop", "prestop"),
        ] {
            assert_eq!(argv_word(OsStr::new(word)), OsStr::new(shown), "{word}");
        }
    }

    #[test]
    fn mask_replaces_long_secrets_as_whole_tokens_only() {
        let secrets = [
            Secret::new("long-password"),
            Secret::new("eureka"),
            Secret::new("x"),
            Secret::new(""),
        ];
        assert_eq!(
            mask("a long-password b http://h/eureka/ x", &secrets),
            "a *** b http://h/eureka/ x"
        );
    }
}

/// Property test: no command-line word shows the password it carries, whatever the password
/// holds and however the word is built.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn an_argv_word_never_shows_its_password(
            tail in "[a-zA-Z0-9/?#@:%, '\"!$&()*+;=~.-]{0,24}",
            form in 0usize..5,
        ) {
            // Userinfo alone (no user) is a password only without a ':'; with one it is user:pass.
            let password = if form == 4 { format!("Pw9{}", tail.replace(':', "")) } else { format!("Pw9{tail}") };
            let word = match form {
                0 => format!("http://eureka:{password}@host:8761/eureka/"),
                1 => format!("eureka:{password}@host/eureka/"),
                2 => format!("--eureka-url=http://a/eureka/,https://eureka:{password}@b/eureka/"),
                3 => format!("http://eureka:{password}@a/eureka/,http://eureka:{password}@b/"),
                _ => format!("{password}@host"),
            };
            let shown = argv_word(OsStr::new(&word)).to_string_lossy().into_owned();
            // Not even its start: every password here begins with `Pw9`.
            prop_assert!(!shown.contains("Pw9"), "{} became {}", word, shown);
        }
    }
}
