//! Warnings for set variables that look like misspellings of a variable the hook reads.
//!
//! A defaultZone variable spelled in a way nobody reads is silently ignored and the hook talks
//! to `localhost:8761`; the user only sees a connection error. Names are compared after
//! normalising (upper case, `_` `-` `.` dropped), so `EUREKA_CLIENT_SERVICE_URL_DEFAULTZONE`,
//! `EUREKA_CLIENT_SERVICEURL_DEFAULT-ZONE` and `eureka.client.serviceurl.defaultzone` all meet
//! `EUREKA_CLIENT_SERVICEURL_DEFAULTZONE`; a one-letter slip (`SPRING_APPLICATION_NAM`) is
//! caught by an edit distance of one on names long enough for that not to be a coincidence.
//! Only names with one of our prefixes are looked at, so unrelated variables never warn. A name
//! Spring Boot itself binds to a property the hook reads (`spring.application.name`,
//! `EUREKA_INSTANCE_INSTANCE-ID`: see `spring_env`) is read, so it is no misspelling; a service URL
//! list for a zone other than `defaultZone` gets a warning of its own.

use crate::vars;

/// Spring Cloud's `spring.cloud.inetutils.*` settings, which change the host Spring finds but
/// which the hook does not apply.
const INETUTILS_PREFIX: &str = "SPRINGCLOUDINETUTILS";

/// Names with these (normalised) prefixes are compared; everything else is left alone.
const WATCHED_PREFIXES: &[&str] = &["EUREKA", "SPRING", "SERVER", "PODIP"];

/// Below this normalised length only an exact normalised match counts, because one edit turns
/// short names into each other (`EUREKAAPP`/`EUREKAURL` are two edits apart, but close).
const MIN_LEN_FOR_ONE_EDIT: usize = 12;

/// A variable that is set, not read, and close to one that is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LikelyMisspelling {
    pub set: String,
    pub meant: &'static str,
}

impl std::fmt::Display for LikelyMisspelling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} is set but eureka-hook does not read it: did you mean {}?",
            self.set, self.meant
        )
    }
}

fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '_' | '-' | '.'))
        .flat_map(char::to_uppercase)
        .collect()
}

/// True when `a` becomes `b` by one insertion, deletion, substitution or swap of neighbours.
fn within_one_edit(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let (shorter, longer) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    if longer.len().abs_diff(shorter.len()) > 1 {
        return false;
    }
    let common_prefix = shorter
        .iter()
        .zip(longer.iter())
        .take_while(|(x, y)| x == y)
        .count();
    if shorter.len() == longer.len() {
        let rest_a = &shorter[common_prefix..];
        let rest_b = &longer[common_prefix..];
        rest_a.len() <= 1 && rest_b.len() <= 1 // identical or one substitution at the end
            || rest_a[1..] == rest_b[1..] // one substitution
            || (rest_a.len() >= 2
                && rest_a[0] == rest_b[1]
                && rest_a[1] == rest_b[0]
                && rest_a[2..] == rest_b[2..]) // one swap
    } else {
        shorter[common_prefix..] == longer[common_prefix.saturating_add(1)..] // one insertion
    }
}

/// A warning for each set variable that looks like a misspelling of one in [`vars::READ`],
/// or that is a `spring.cloud.inetutils` setting; `set_names` are the names of the set
/// variables (their values are never looked at).
pub fn warnings<'a>(set_names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let names: Vec<&str> = set_names.into_iter().collect();
    let mut warnings: Vec<String> = likely_misspellings(names.iter().copied())
        .iter()
        .map(ToString::to_string)
        .collect();
    warnings.extend(names.iter().filter_map(|name| zone_warning(name, name)));
    warnings.extend(
        names
            .iter()
            .filter(|name| normalise(name).starts_with(INETUTILS_PREFIX))
            .map(|name| {
                format!(
                    "{name} is set: it changes the host Spring Cloud finds for the instance id, \
                     but eureka-hook does not apply it; if the id's host differs, give it with \
                     SPRING_CLOUD_CLIENT_HOSTNAME or --hostname"
                )
            }),
    );
    warnings
}

/// A warning when `name` sets the service URL list of a zone other than `defaultZone`; `shown`
/// is how the message names where it is set.
fn zone_warning(name: &str, shown: &str) -> Option<String> {
    let zone = vars::other_zone(name)?;
    Some(format!(
        "{shown} is set: it lists the Eureka servers of zone '{zone}', which eureka-hook does \
         not read (Spring Cloud uses a zone's list only when eureka.client.region and \
         eureka.client.availability-zones choose that zone); eureka-hook marks the \
         defaultZone list: give every server to mark with --eureka-url or EUREKA_URL"
    ))
}

/// The same warning for the keys of `SPRING_APPLICATION_JSON` (read from `variable`).
pub fn json_zone_warnings(variable: &str, keys: &[&str]) -> Vec<String> {
    keys.iter()
        .filter_map(|key| zone_warning(key, &format!("{variable} key {key}")))
        .collect()
}

/// The set variables that look like misspellings of [`vars::READ`], in the order given.
pub fn likely_misspellings<'a>(
    set_names: impl IntoIterator<Item = &'a str>,
) -> Vec<LikelyMisspelling> {
    // Normalised only once a set name needs comparing: most runs have none.
    let mut known: Vec<(&'static str, String)> = Vec::new();
    let mut found = Vec::new();
    for set in set_names {
        if vars::read_names().any(|name| name == set) || vars::is_read(set) {
            continue;
        }
        let normalised = normalise(set);
        if !WATCHED_PREFIXES
            .iter()
            .any(|prefix| normalised.starts_with(prefix))
        {
            continue;
        }
        if known.is_empty() {
            known = vars::read_names()
                .map(|name| (name, normalise(name)))
                .collect();
        }
        let meant = known.iter().find_map(|(name, known)| {
            let close = *known == normalised
                || (known.len() >= MIN_LEN_FOR_ONE_EDIT && within_one_edit(known, &normalised));
            close.then_some(*name)
        });
        if let Some(meant) = meant {
            found.push(LikelyMisspelling {
                set: set.to_string(),
                meant,
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meant_for(name: &str) -> Option<&'static str> {
        likely_misspellings([name]).first().map(|found| found.meant)
    }

    #[test]
    fn the_reported_spellings_are_caught() {
        for (set, meant) in [
            (
                "EUREKA_CLIENT_SERVICE_URL_DEFAULTZONE",
                "EUREKA_CLIENT_SERVICEURL_DEFAULTZONE",
            ),
            (
                "EUREKA_CLIENT_SERVICEURL_DEFAULT_ZONE",
                "EUREKA_CLIENT_SERVICEURL_DEFAULTZONE",
            ),
            (
                "EUREKA_CLIENT_SERVICEURL_DEFAULT-ZONE",
                "EUREKA_CLIENT_SERVICEURL_DEFAULTZONE",
            ),
            (
                "eureka.client.serviceurl.defaultzone",
                "EUREKA_CLIENT_SERVICEURL_DEFAULTZONE",
            ),
            (
                "EUREKA_CLIENT_SERVICEURL_DEFAULTZOEN",
                "EUREKA_CLIENT_SERVICEURL_DEFAULTZONE",
            ),
            ("SPRING_APPLICATION_NAM", "SPRING_APPLICATION_NAME"),
            ("SPRING_APPLICATIONNAME", "SPRING_APPLICATION_NAME"),
            ("EUREKA_INSTANCE_INSTANCEIDD", "EUREKA_INSTANCE_INSTANCEID"),
            ("SERVERPORT", "SERVER_PORT"),
            ("EUREKA_HOOK_LOGFILE", "EUREKA_HOOK_LOG_FILE"),
            (
                "EUREKA_HOOK_CREDENTIAL_FILE",
                "EUREKA_HOOK_CREDENTIALS_FILE",
            ),
        ] {
            assert_eq!(meant_for(set), Some(meant), "{set}");
        }
    }

    #[test]
    fn names_the_hook_reads_and_unrelated_names_never_warn() {
        for name in vars::read_names()
            .chain([
                "PATH",
                "HOME",
                "JAVA_OPTS",
                "SPRING_PROFILES_ACTIVE",
                "EUREKA_CLIENT_ENABLED",
            ])
            .chain([
                "SERVER_SERVLET_CONTEXT_PATH",
                "SPRING_DATASOURCE_URL",
                "EUREKA_DEBUG",
            ])
        {
            assert_eq!(meant_for(name), None, "{name}");
        }
    }

    #[test]
    fn names_spring_binds_are_read_not_misspelt() {
        for name in [
            "eureka.client.serviceUrl.defaultZone",
            "spring.application.name",
            "server.port",
            "EUREKA_INSTANCE_INSTANCE-ID",
            "SPRING_APPLICATION_JSON",
        ] {
            assert_eq!(meant_for(name), None, "{name}");
            assert!(
                warnings([name]).is_empty(),
                "{name}: {:?}",
                warnings([name])
            );
        }
    }

    #[test]
    fn a_zone_other_than_the_default_is_named_as_not_read() {
        let found = warnings([
            "EUREKA_CLIENT_SERVICEURL_ZONE1",
            "eureka.client.serviceUrl.east",
        ]);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].starts_with(
                "EUREKA_CLIENT_SERVICEURL_ZONE1 is set: it lists the Eureka servers of zone 'zone1'"
            ),
            "{found:?}"
        );
        assert!(
            found[1].contains("zone 'east'") && found[1].contains("--eureka-url"),
            "{found:?}"
        );
    }

    #[test]
    fn short_names_need_an_exact_normalised_match() {
        assert_eq!(meant_for("EUREKA_AP"), None);
        assert_eq!(meant_for("EUREKA-APP"), Some("EUREKA_APP"));
    }

    #[test]
    fn one_edit_means_exactly_one() {
        assert!(within_one_edit("ABCDEF", "ABCDEF"));
        assert!(within_one_edit("ABCDEF", "ABCDE"));
        assert!(within_one_edit("ABCDEF", "ABXDEF"));
        assert!(within_one_edit("ABCDEF", "ABDCEF"));
        assert!(within_one_edit("ABCDEF", "XABCDEF"));
        assert!(!within_one_edit("ABCDEF", "ABDCFE"));
        assert!(!within_one_edit("ABCDEF", "ABCD"));
        assert!(!within_one_edit("ABCDEF", "XBCDEY"));
    }

    #[test]
    fn inetutils_settings_are_named_as_not_applied() {
        let found = warnings(["SPRING_CLOUD_INETUTILS_PREFERREDNETWORKS", "PATH"]);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].starts_with("SPRING_CLOUD_INETUTILS_PREFERREDNETWORKS is set")
                && found[0].contains("--hostname"),
            "{}",
            found[0]
        );
    }

    #[test]
    fn the_warning_names_both_variables() {
        let found = likely_misspellings(["SPRING_APPLICATION_NAM"]);
        assert_eq!(
            found[0].to_string(),
            "SPRING_APPLICATION_NAM is set but eureka-hook does not read it: \
             did you mean SPRING_APPLICATION_NAME?"
        );
    }
}
