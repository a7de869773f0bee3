//! Splitting a request target into path and query, and percent-decoding the parts the way Jersey
//! hands them to the resources (path segments decoded, query values decoded with `+` as space).

/// `/eureka/apps/X?value=UP` → (`/eureka/apps/X`, `Some("value=UP")`).
pub(crate) fn split(target: &str) -> (&str, Option<&str>) {
    match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    }
}

/// Embedded Tomcat rejects (400) a path with an encoded `/` before the application sees it
/// (`encodedSolidusHandling="reject"`, its default).
pub(crate) fn has_encoded_slash(path: &str) -> bool {
    path.to_ascii_lowercase().contains("%2f")
}

pub(crate) fn decode_path_segment(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

/// All query parameters in order, decoded (`+` is a space); a name without `=` has an empty value.
pub(crate) fn query_params(query: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pairs::get as param;

    #[test]
    fn path_segments_and_query_values_are_decoded() {
        assert_eq!(
            decode_path_segment("pod-0%3Ademo%3A8080"),
            "pod-0:demo:8080"
        );
        assert_eq!(decode_path_segment("a+b%2"), "a+b%2");
        assert!(
            has_encoded_slash("/eureka/apps/A/a%2fb") && !has_encoded_slash("/eureka/apps/A/a%20b")
        );
        let params = query_params(Some("value=OUT_OF_SERVICE&x=a+b%21&flag"));
        assert_eq!(param(&params, "value"), Some("OUT_OF_SERVICE"));
        assert_eq!(param(&params, "x"), Some("a b!"));
        assert_eq!(param(&params, "flag"), Some(""));
        assert_eq!(param(&params, "missing"), None);
    }
}
