//! The log of every request the double received, in arrival order, with what it answered.

use std::net::SocketAddr;
use std::time::Instant;

/// One request as received.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    /// The raw path as received, not decoded, without the query.
    pub path: String,
    /// The raw query, without `?`.
    pub query: Option<String>,
    /// As received, names in their original case.
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The status the double answered; 0 while unanswered (still in progress, or hanging).
    pub status: u16,
    /// The length of the answer's body as sent (compressed when gzip was asked for); 0 while
    /// unanswered. Status line and headers are not counted.
    pub response_body_bytes: usize,
    pub at: Instant,
    /// When it arrived by the double's clock (its own, if the test gave it one), in epoch
    /// milliseconds.
    pub epoch_ms: i64,
    /// The client's address and port: requests with the same one came over the same connection.
    pub client: Option<SocketAddr>,
}

impl RecordedRequest {
    /// The first value of a header, name compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        crate::pairs::get_ignore_case(&self.headers, name)
    }
}

/// Entries carry a sequence number so that an answer finds its request even after the log was
/// cleared in between.
#[derive(Default)]
pub(crate) struct RequestLog {
    entries: Vec<(u64, RecordedRequest)>,
    last_sequence: u64,
}

impl RequestLog {
    pub(crate) fn record(&mut self, request: RecordedRequest) -> u64 {
        self.last_sequence += 1;
        self.entries.push((self.last_sequence, request));
        self.last_sequence
    }

    pub(crate) fn answered(&mut self, sequence: u64, status: u16, body_bytes: usize) {
        if let Some((_, request)) = self
            .entries
            .iter_mut()
            .find(|(entry, _)| *entry == sequence)
        {
            request.status = status;
            request.response_body_bytes = body_bytes;
        }
    }

    pub(crate) fn snapshot(&self) -> Vec<RecordedRequest> {
        self.entries
            .iter()
            .map(|(_, request)| request.clone())
            .collect()
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }
}
