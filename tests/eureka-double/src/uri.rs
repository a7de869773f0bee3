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
    percent_decode(segment, false)
}

/// All query parameters in order, decoded; a name without `=` has an empty value.
pub(crate) fn query_params(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name, true), percent_decode(value, true))
        })
        .collect()
}

fn percent_decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        let escaped = (byte == b'%')
            .then(|| text.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(value) => {
                decoded.push(value);
                index += 3;
            }
            None => {
                decoded.push(if plus_is_space && byte == b'+' {
                    b' '
                } else {
                    byte
                });
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
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
