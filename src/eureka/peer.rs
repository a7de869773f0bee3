//! One Eureka server to talk to: its service URL and the credentials sent to it, which are never
//! shown (a URL that carried them displays `user:***@`). Settings build the peers; the client
//! only reads them.

use std::fmt;

use crate::redact::Credentials;
use crate::values::ServiceUrl;

/// One Eureka server to talk to.
#[derive(Clone, Debug)]
pub struct Peer {
    pub url: ServiceUrl,
    credentials: Option<Credentials>,
    /// True when the credentials came from this peer's own URL, which then displays `user:***@`.
    credentials_in_url: bool,
}

impl Peer {
    /// `url` with the credentials it sends; `credentials_in_url` when they came from the URL's own
    /// userinfo (it then displays `user:***@`).
    pub fn new(
        url: ServiceUrl,
        credentials: Option<Credentials>,
        credentials_in_url: bool,
    ) -> Peer {
        Peer {
            url,
            credentials,
            credentials_in_url,
        }
    }

    /// What is sent as HTTP Basic auth to this peer.
    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }
}

/// The URL as given, with `user:***@` when it carried credentials.
impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.credentials {
            Some(credentials) if self.credentials_in_url => {
                f.write_str(&self.url.shown_with_user(&credentials.username))
            }
            _ => self.url.fmt(f),
        }
    }
}
