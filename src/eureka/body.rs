//! An answer's body as text: gunzipped when the server sent it gzip-compressed (only the app
//! listing asks for that), and never more than [`MAX_BODY_BYTES`] once decoded, so a small
//! compressed answer cannot unpack into something huge.

use std::io::{self, ErrorKind, Read};

use crate::bounded_read::read_at_most;

/// The most of an answer we read, compressed or not; an application document with hundreds of
/// instances fits.
pub const MAX_BODY_BYTES: u64 = 4 * 1024 * 1024;
/// The most of the whole registry (`GET apps/`, full form) we read once decoded: about 10,000
/// instances of about 1.5 KB each.
pub const MAX_REGISTRY_BYTES: u64 = 16 * 1024 * 1024;

/// `bytes` as text, gunzipped first when `gzipped`; at most `cap` bytes once decoded.
pub fn decoded(bytes: Vec<u8>, gzipped: bool, cap: u64) -> Result<String, ureq::Error> {
    let bytes = if gzipped {
        gunzipped(&bytes, cap)?
    } else {
        bytes
    };
    String::from_utf8(bytes).map_err(|_| {
        ureq::Error::Io(io::Error::new(
            ErrorKind::InvalidData,
            "the body is not UTF-8 text",
        ))
    })
}

// Never inlined: the decoder's state (tens of KiB) would otherwise be a local of every request's
// frame, whose pages the stack probes touch on each call, gzip or not: 56 KiB of peak RSS.
#[inline(never)]
fn gunzipped(compressed: &[u8], cap: u64) -> Result<Vec<u8>, ureq::Error> {
    read_at_most(flate2::read::GzDecoder::new(compressed), cap)
        .map_err(|err| {
            ureq::Error::Io(io::Error::new(
                ErrorKind::InvalidData,
                format!("its gzip encoding does not decode: {err}"),
            ))
        })?
        .ok_or(ureq::Error::BodyExceedsLimit(cap))
}

/// At most `cap` bytes of an answer's body as it came over the wire; more is
/// `BodyExceedsLimit`, and a failure while reading is ureq's own error again (a timeout stays a
/// timeout).
pub fn read_body(body: impl Read, cap: u64) -> Result<Vec<u8>, ureq::Error> {
    read_at_most(body, cap)
        .map_err(ureq_error)?
        .ok_or(ureq::Error::BodyExceedsLimit(cap))
}

/// The inverse of ureq's `Error::into_io`, which its body reader applies: a ureq error wrapped in
/// an I/O error comes back out, a plain I/O error becomes `Error::Io`.
fn ureq_error(err: io::Error) -> ureq::Error {
    err.downcast::<ureq::Error>()
        .unwrap_or_else(ureq::Error::Io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn gzip_bodies_are_decoded_and_plain_ones_kept() {
        let text = r#"{"application":{"name":"DEMO","instance":[]}}"#;
        assert_eq!(
            decoded(gzip(text.as_bytes()), true, MAX_BODY_BYTES).unwrap(),
            text
        );
        assert_eq!(
            decoded(text.as_bytes().to_vec(), false, MAX_BODY_BYTES).unwrap(),
            text
        );
    }

    #[test]
    fn a_body_that_unpacks_past_the_limit_or_does_not_decode_is_an_error() {
        let bomb = gzip(&vec![b' '; usize::try_from(MAX_BODY_BYTES).unwrap() + 1]);
        assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
        assert!(matches!(
            decoded(bomb, true, MAX_BODY_BYTES),
            Err(ureq::Error::BodyExceedsLimit(MAX_BODY_BYTES))
        ));
        assert!(matches!(
            decoded(b"not gzip".to_vec(), true, MAX_BODY_BYTES),
            Err(ureq::Error::Io(_))
        ));
        assert!(decoded(vec![0xff, 0xfe], false, MAX_BODY_BYTES).is_err());
    }
}
