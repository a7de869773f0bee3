//! TLS for every request: rustls over ureq's TCP transport, with the built-in Mozilla roots, or
//! with `--cacert`'s certificates as the only roots and one exception for a self-signed server.
//!
//! `openssl req -x509` marks the self-signed certificate it makes as a CA. Given that file,
//! curl trusts the server; webpki does not, because a CA certificate presented as the server's
//! own certificate is `CaUsedAsEndEntity`. [`PinnedOrWebPki`] keeps every webpki check and
//! makes exactly one exception: when webpki's only objection is that rule and the presented
//! certificate is one the user gave, byte for byte. The host name is still checked, webpki had
//! already checked the validity period before it looked at the CA flag, and the handshake
//! signature is always verified with the certificate's key.
//!
//! ureq 3.5 has no hook for a custom rustls verifier (its `TlsConfig` only takes roots), so
//! [`PinningTlsConnector`] is a small ureq `Connector` that wraps the TCP transport in rustls
//! with our own `ClientConfig`, as ureq's own `RustlsConnector` does. It serves the no-`--cacert`
//! case too, so ureq's own TLS glue is never linked.

use std::fmt;
use std::io::{Read, Write};
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{WebPkiServerVerifier, verify_server_name};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{
    ALL_VERSIONS, CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct,
    RootCertStore, SignatureScheme, StreamOwned,
};
use ureq::unversioned::transport::time::{Duration as UreqDuration, Instant as UreqInstant};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport,
    TransportAdapter,
};

/// Why a `--cacert` file cannot be used.
#[derive(Debug)]
pub enum CaFileError {
    /// No certificate in the file is usable as a root (webpki could parse none).
    NoUsableCertificate,
    /// rustls refused to build a verifier or a configuration from the roots.
    Rustls(String),
}

impl fmt::Display for CaFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaFileError::NoUsableCertificate => {
                f.write_str("no certificate in the file can serve as a trusted root")
            }
            CaFileError::Rustls(message) => write!(f, "cannot use the certificates: {message}"),
        }
    }
}

impl std::error::Error for CaFileError {}

/// The rustls client configuration for `--cacert`: the file's certificates as the only roots,
/// verified by [`PinnedOrWebPki`].
pub fn client_config(given: &[CertificateDer<'static>]) -> Result<Arc<ClientConfig>, CaFileError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = PinnedOrWebPki::new(given, provider.clone())?;
    let config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(ALL_VERSIONS)
        .map_err(|err| CaFileError::Rustls(err.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// webpki with the given roots, plus trust in a presented certificate identical to a given one.
#[derive(Debug)]
pub struct PinnedOrWebPki {
    webpki: Arc<WebPkiServerVerifier>,
    given: Vec<CertificateDer<'static>>,
}

impl PinnedOrWebPki {
    pub fn new(
        given: &[CertificateDer<'static>],
        provider: Arc<CryptoProvider>,
    ) -> Result<Self, CaFileError> {
        let mut roots = RootCertStore::empty();
        let (added, _ignored) = roots.add_parsable_certificates(given.iter().cloned());
        if added == 0 {
            return Err(CaFileError::NoUsableCertificate);
        }
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|err| CaFileError::Rustls(err.to_string()))?;
        Ok(PinnedOrWebPki {
            webpki,
            given: given.to_vec(),
        })
    }

    fn was_given(&self, presented: &CertificateDer<'_>) -> bool {
        self.given
            .iter()
            .any(|given| given.as_ref() == presented.as_ref())
    }
}

/// True when webpki's objection is that a CA certificate was presented as the server's own.
fn is_ca_used_as_end_entity(err: &rustls::Error) -> bool {
    match err {
        rustls::Error::InvalidCertificate(CertificateError::Other(other)) => matches!(
            other.0.downcast_ref::<webpki::Error>(),
            Some(webpki::Error::CaUsedAsEndEntity)
        ),
        _ => false,
    }
}

impl ServerCertVerifier for PinnedOrWebPki {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            // webpki checks the validity period before the CA flag, so reaching this error
            // means the dates were fine; the name is checked here as webpki would have.
            Err(err) if is_ca_used_as_end_entity(&err) && self.was_given(end_entity) => {
                let parsed = ParsedCertificate::try_from(end_entity)?;
                verify_server_name(&parsed, server_name)?;
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// The roots a TLS connection trusts.
enum Trust {
    /// `--cacert`'s certificates, verified by [`PinnedOrWebPki`].
    Given(Vec<CertificateDer<'static>>),
    /// The built-in Mozilla roots.
    Mozilla,
}

/// A ureq connector that puts rustls, with our own configuration, over the chained transport.
/// The configuration is built on the first TLS connection, once per process, so a run whose
/// peers are all `http://` never builds a root store or a verifier. Without a configuration
/// (rustls refused to build one, which settings already ruled out for a CA file) every TLS
/// connection fails: never a fallback to other roots.
pub struct PinningTlsConnector {
    trust: Trust,
    config: OnceLock<Option<Arc<ClientConfig>>>,
}

impl PinningTlsConnector {
    /// Trusts `given` (the CA file's certificates) or else the Mozilla roots.
    fn new(given: Option<&[CertificateDer<'static>]>) -> Self {
        let trust = given.map_or(Trust::Mozilla, |given| Trust::Given(given.to_vec()));
        PinningTlsConnector {
            trust,
            config: OnceLock::new(),
        }
    }

    fn config(&self) -> Option<Arc<ClientConfig>> {
        self.config
            .get_or_init(|| {
                match &self.trust {
                    Trust::Given(given) => client_config(given),
                    Trust::Mozilla => mozilla_roots_config(),
                }
                .ok()
            })
            .clone()
    }
}

impl fmt::Debug for PinningTlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinningTlsConnector").finish()
    }
}

impl<In: Transport> Connector<In> for PinningTlsConnector {
    type Out = Either<In, TlsTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Ok(None);
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let host = details
            .uri
            .authority()
            .map(ureq::http::uri::Authority::host)
            .ok_or(ureq::Error::Tls(
                "the URL has no host to check the certificate against",
            ))?;
        // `Authority::host()` keeps an IPv6 literal's brackets; rustls wants the bare address.
        let bare_host = host
            .strip_prefix('[')
            .and_then(|inner| inner.strip_suffix(']'))
            .unwrap_or(host);
        let server_name = ServerName::try_from(bare_host.to_string())
            .map_err(|_| ureq::Error::Tls("the host is not a valid name for TLS"))?;

        let config = self.config().ok_or(ureq::Error::Tls(
            "no TLS configuration could be built from the trusted certificates",
        ))?;
        let mut connection = ClientConnection::new(config, server_name)?;
        let mut socket = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        socket.set_timeout(remaining(details));
        connection.complete_io(&mut socket)?;
        let buffers = LazyBuffers::new(
            details.config.input_buffer_size(),
            details.config.output_buffer_size(),
        );
        Ok(Some(Either::B(TlsTransport {
            buffers,
            stream: StreamOwned::new(connection, socket),
        })))
    }
}

/// What is left of the connection's time budget now that TCP has connected: the budget in
/// `details.timeout` was measured from `details.now`, and `TransportAdapter::set_timeout`
/// measures from the moment it is called.
fn remaining(details: &ConnectionDetails) -> NextTimeout {
    let mut timeout = details.timeout;
    if let (UreqInstant::Exact(started), UreqInstant::Exact(now), UreqDuration::Exact(after)) =
        (details.now, (details.current_time)(), timeout.after)
    {
        let elapsed = now.saturating_duration_since(started);
        timeout.after = UreqDuration::Exact(after.saturating_sub(elapsed));
    }
    timeout
}

/// rustls over the chained transport, as ureq's own `RustlsTransport`.
pub struct TlsTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
}

impl fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsTransport").finish()
    }
}

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let amount = self.stream.read(input)?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}

/// The certificate problem behind a failed request, found by type rather than by message text:
/// rustls' handshake errors reach ureq as `io::Error`s whose inner error is a `rustls::Error`.
#[cfg(test)]
fn certificate_error(err: &ureq::Error) -> Option<&CertificateError> {
    let ureq::Error::Io(io) = err else {
        return None;
    };
    match io.get_ref()?.downcast_ref::<rustls::Error>()? {
        rustls::Error::InvalidCertificate(problem) => Some(problem),
        _ => None,
    }
}

/// The rustls client configuration without `--cacert`: Mozilla's roots (webpki-roots, which
/// ureq's `rustls` feature already links), verified by plain webpki as ureq does today.
fn mozilla_roots_config() -> Result<Arc<ClientConfig>, CaFileError> {
    let roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(ALL_VERSIONS)
        .map_err(|err| CaFileError::Rustls(err.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The connector chain for `Agent::with_parts`: TCP, then our TLS, trusting `given` (the CA
/// file's certificates) or else the Mozilla roots.
pub fn connector(
    given: Option<&[CertificateDer<'static>]>,
) -> impl Connector<(), Out = impl Transport> {
    use ureq::unversioned::transport::TcpConnector;
    ().chain(TcpConnector::default())
        .chain(PinningTlsConnector::new(given))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    use rustls::server::{ClientHello, ResolvesServerCert};
    use rustls::sign::CertifiedKey;
    use std::io::BufRead;
    use std::net::TcpListener;
    use std::thread::JoinHandle;

    /// A certificate and the key the server signs the handshake with (not always its own).
    struct ServerIdentity {
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    }

    #[derive(Debug)]
    struct FixedIdentity(Arc<CertifiedKey>);

    impl ResolvesServerCert for FixedIdentity {
        fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
            Some(self.0.clone())
        }
    }

    /// Serves one HTTPS request with 200 "ok" on 127.0.0.1; returns the port.
    fn serve_once(identity: ServerIdentity) -> (u16, JoinHandle<()>) {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let signing_key = provider
            .key_provider
            .load_private_key(identity.key)
            .unwrap();
        // CertifiedKey::new does not check that the key matches the certificate, which the
        // wrong-key test needs.
        let certified = Arc::new(CertifiedKey::new(identity.chain, signing_key));
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(ALL_VERSIONS)
            .unwrap()
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(FixedIdentity(certified)));
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = std::thread::spawn(move || {
            let (tcp, _) = listener.accept().unwrap();
            let connection = rustls::ServerConnection::new(config).unwrap();
            let mut stream = StreamOwned::new(connection, tcp);
            let mut reader = std::io::BufReader::new(&mut stream);
            let mut line = String::new();
            // A failed handshake shows up here as an error: the client has given up.
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                if line == "\r\n" {
                    let _ = stream.write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                    );
                    let _ = stream.flush();
                    stream.conn.send_close_notify();
                    let _ = stream.flush();
                    return;
                }
                line.clear();
            }
        });
        (port, handle)
    }

    fn self_signed(names: &[&str], is_ca: bool) -> (CertificateDer<'static>, KeyPair) {
        let mut params =
            CertificateParams::new(names.iter().map(ToString::to_string).collect::<Vec<_>>())
                .unwrap();
        if is_ca {
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        }
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        (cert.der().clone(), key)
    }

    fn key_der(key: &KeyPair) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()))
    }

    fn trusting(trusted: &[CertificateDer<'static>]) -> ureq::Agent {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(std::time::Duration::from_secs(5)))
            .proxy(None)
            .build();
        ureq::Agent::with_parts(
            config,
            connector(Some(trusted)),
            ureq::unversioned::resolver::DefaultResolver::default(),
        )
    }

    fn get(agent: &ureq::Agent, host: &str, port: u16) -> Result<String, ureq::Error> {
        agent
            .get(&format!("https://{host}:{port}/eureka/apps/"))
            .call()?
            .body_mut()
            .read_to_string()
    }

    fn pem_certificates(pem: &[u8]) -> Vec<CertificateDer<'static>> {
        ureq::tls::parse_pem(pem)
            .filter_map(|item| match item.unwrap() {
                ureq::tls::PemItem::Certificate(cert) => {
                    Some(CertificateDer::from(cert.der().to_vec()))
                }
                _ => None,
            })
            .collect()
    }

    fn pem_key(pem: &[u8]) -> PrivateKeyDer<'static> {
        ureq::tls::parse_pem(pem)
            .find_map(|item| match item.unwrap() {
                ureq::tls::PemItem::PrivateKey(key) => Some(key),
                _ => None,
            })
            .map(|key| PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.der().to_vec())))
            .unwrap()
    }

    fn error_text(result: Result<String, ureq::Error>) -> String {
        match result {
            Ok(body) => panic!("the request succeeded with {body:?}"),
            Err(err) => {
                eprintln!("error seen: {err}");
                err.to_string()
            }
        }
    }

    #[test]
    fn a_self_signed_ca_certificate_given_in_the_file_is_trusted() {
        let (cert, key) = self_signed(&["localhost"], true);
        let (port, server) = serve_once(ServerIdentity {
            chain: vec![cert.clone()],
            key: key_der(&key),
        });
        assert_eq!(get(&trusting(&[cert]), "localhost", port).unwrap(), "ok");
        server.join().unwrap();
    }

    #[test]
    fn the_certificate_openssl_req_x509_makes_is_trusted() {
        let pem = include_bytes!("../../tests/fixtures/openssl-selfsigned.crt");
        let certs = pem_certificates(pem);
        let key = pem_key(include_bytes!(
            "../../tests/fixtures/openssl-selfsigned.key"
        ));
        let (port, server) = serve_once(ServerIdentity {
            chain: certs.clone(),
            key,
        });
        assert_eq!(get(&trusting(&certs), "localhost", port).unwrap(), "ok");
        server.join().unwrap();
    }

    #[test]
    fn without_the_exception_webpki_rejects_it_as_a_ca_used_as_end_entity() {
        let (cert, key) = self_signed(&["localhost"], true);
        let (port, server) = serve_once(ServerIdentity {
            chain: vec![cert.clone()],
            key: key_der(&key),
        });
        let roots = ureq::tls::RootCerts::new_with_certs(&[ureq::tls::Certificate::from_der(
            cert.as_ref(),
        )
        .to_owned()]);
        let plain = ureq::Agent::config_builder()
            .tls_config(ureq::tls::TlsConfig::builder().root_certs(roots).build())
            .build()
            .new_agent();
        let message = error_text(get(&plain, "localhost", port));
        assert!(message.contains("CaUsedAsEndEntity"), "{message}");
        let _ = server.join();
    }

    #[test]
    fn a_different_ca_certificate_with_the_same_name_is_not_trusted() {
        let (given, _) = self_signed(&["localhost"], true);
        let (presented, key) = self_signed(&["localhost"], true);
        let (port, server) = serve_once(ServerIdentity {
            chain: vec![presented],
            key: key_der(&key),
        });
        let message = error_text(get(&trusting(&[given]), "localhost", port));
        assert!(message.contains("invalid peer certificate"), "{message}");
        let _ = server.join();
    }

    #[test]
    fn the_given_certificate_must_still_name_the_host() {
        let (cert, key) = self_signed(&["eureka.example"], true);
        let (port, server) = serve_once(ServerIdentity {
            chain: vec![cert.clone()],
            key: key_der(&key),
        });
        let err = get(&trusting(&[cert]), "localhost", port).unwrap_err();
        assert!(
            matches!(
                certificate_error(&err),
                Some(CertificateError::NotValidForNameContext { .. })
            ),
            "{err}"
        );
        let _ = server.join();
    }

    #[test]
    fn the_handshake_must_be_signed_with_the_given_certificates_key() {
        let (cert, _) = self_signed(&["localhost"], true);
        let (_, other_key) = self_signed(&["localhost"], true);
        let (port, server) = serve_once(ServerIdentity {
            chain: vec![cert.clone()],
            key: key_der(&other_key),
        });
        let message = error_text(get(&trusting(&[cert]), "localhost", port));
        assert!(
            message.contains("BadSignature") || message.contains("signature"),
            "{message}"
        );
        let _ = server.join();
    }

    #[test]
    fn a_leaf_signed_by_the_given_ca_is_verified_as_before() {
        let (ca_params_cert, ca_key) = {
            let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            let key = KeyPair::generate().unwrap();
            let cert = params.self_signed(&key).unwrap();
            ((params, cert), key)
        };
        let (ca_params, ca_cert) = ca_params_cert;
        let issuer = rcgen::Issuer::new(ca_params, &ca_key);
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
        let (port, server) = serve_once(ServerIdentity {
            chain: vec![leaf.der().clone()],
            key: key_der(&leaf_key),
        });
        assert_eq!(
            get(&trusting(&[ca_cert.der().clone()]), "localhost", port).unwrap(),
            "ok"
        );
        server.join().unwrap();
    }

    #[test]
    fn without_a_ca_file_the_mozilla_roots_are_used_and_a_private_certificate_is_refused() {
        let (cert, key) = self_signed(&["localhost"], false);
        let (port, server) = serve_once(ServerIdentity {
            chain: vec![cert],
            key: key_der(&key),
        });
        let config = ureq::Agent::config_builder().proxy(None).build();
        let agent = ureq::Agent::with_parts(
            config,
            connector(None),
            ureq::unversioned::resolver::DefaultResolver::default(),
        );
        let err = get(&agent, "localhost", port).unwrap_err();
        assert!(
            matches!(
                certificate_error(&err),
                Some(CertificateError::UnknownIssuer)
            ),
            "{err}"
        );
        let _ = server.join();
    }

    #[test]
    fn the_configuration_is_built_on_first_use_and_then_kept() {
        let connector = PinningTlsConnector::new(None);
        assert!(
            connector.config.get().is_none(),
            "built before any TLS connection"
        );
        let first = connector.config().unwrap();
        assert!(Arc::ptr_eq(&first, &connector.config().unwrap()));
    }

    #[test]
    fn a_file_without_a_usable_certificate_is_refused() {
        let garbage = CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x00]);
        assert!(matches!(
            client_config(&[garbage]),
            Err(CaFileError::NoUsableCertificate)
        ));
    }
}
