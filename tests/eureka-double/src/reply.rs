//! An answer before it goes on the wire: status, headers, body.

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    /// No body and no `Content-Type`, as Jersey answers `Response.status(code).build()`.
    pub(crate) fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub(crate) fn with_body(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply::empty(status)
            .header("Content-Type", content_type)
            .body(body)
    }

    pub(crate) fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers
            .retain(|(existing, _)| !existing.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub(crate) fn body(mut self, body: impl Into<Vec<u8>>) -> Reply {
        self.body = body.into();
        self
    }
}
