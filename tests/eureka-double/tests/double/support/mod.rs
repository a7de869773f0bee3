//! Shared by the cases: a blocking HTTP client that returns any answer whole, waiting for the
//! double's cache timer, and finding the recorded transcripts.

pub mod ordered_json;

use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ureq::http::Request;

pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body as received (still compressed if it was), as text.
    pub body: String,
    /// The body as received, byte for byte.
    pub bytes: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|error| panic!("answer is not JSON ({error}): {}", self.body))
    }
}

/// Sends one request and returns whatever status came back; panics on transport errors.
pub fn send(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&str>) -> Answer {
    try_send(method, url, headers, body).unwrap_or_else(|error| panic!("{method} {url}: {error}"))
}

pub fn try_send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<Answer, ureq::Error> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let mut request = Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = match body {
        Some(body) => agent.run(request.body(body.to_owned()).expect("valid request"))?,
        None => agent.run(request.body(()).expect("valid request"))?,
    };
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                value.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let bytes = response.body_mut().read_to_vec()?;
    Ok(Answer {
        status: response.status().as_u16(),
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes,
    })
}

pub fn get_json(url: &str) -> Answer {
    send("GET", url, &[("Accept", "application/json")], None)
}

/// A recorded transcript of a real Eureka server, kept in the repository under
/// `tests/fixtures/eureka/{name}`. Panics, naming the path, when it is missing.
pub fn transcript(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/eureka")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "the transcript {} is missing or unreadable ({error})",
            path.display()
        )
    })
}

/// Whether `condition` holds within `within`, looking every 20 ms.
pub fn eventually(within: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        thread::sleep(Duration::from_millis(20));
    }
    condition()
}

/// Sleeps until just after the double's next cache refresh, which runs at multiples of
/// `interval` since the epoch, so that the next steps fall well inside one interval.
pub fn just_after_cache_refresh(interval: Duration) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let until_refresh = interval.as_millis() - now % interval.as_millis();
    thread::sleep(Duration::from_millis(
        u64::try_from(until_refresh).unwrap() + 50,
    ));
}
