//! An HTTPS front for a double: it accepts TLS on 127.0.0.1 with a self-signed certificate made at
//! start (valid for `localhost` and `127.0.0.1`), terminates it with rustls on the ring provider,
//! and forwards the plain bytes to the double, which records and answers them as usual. Nothing
//! about HTTP is known here. Dropping the front stops it and joins its threads.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection};

use crate::server::EurekaDouble;
use crate::sync::Shutdown;

/// How long one side's read waits before the other side gets its turn.
const POLL: Duration = Duration::from_millis(5);

/// `TlsFront::new(&double)`: `https://127.0.0.1:PORT/eureka/` in front of `double`.
pub struct TlsFront {
    addr: SocketAddr,
    ca_pem: String,
    handshakes: Arc<AtomicUsize>,
    shutdown: Arc<Shutdown>,
    acceptor: Option<JoinHandle<()>>,
}

impl TlsFront {
    /// Starts a front forwarding to `double`; panics if no certificate can be made or no port bound.
    pub fn new(double: &EurekaDouble) -> TlsFront {
        TlsFront::try_new(double.addr(), false).expect("TLS front starts")
    }

    /// The same with a self-signed certificate marked as a CA (`CA:TRUE`), as
    /// `openssl req -x509` makes it.
    pub fn with_ca_certificate(double: &EurekaDouble) -> TlsFront {
        TlsFront::try_new(double.addr(), true).expect("TLS front starts")
    }

    fn try_new(upstream: SocketAddr, is_ca: bool) -> io::Result<TlsFront> {
        let names = vec!["localhost".to_owned(), Ipv4Addr::LOCALHOST.to_string()];
        let mut params = rcgen::CertificateParams::new(names).map_err(io::Error::other)?;
        if is_ca {
            params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        }
        let signing_key = rcgen::KeyPair::generate().map_err(io::Error::other)?;
        let cert = params.self_signed(&signing_key).map_err(io::Error::other)?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(signing_key.serialize_der()));
        let certificate: CertificateDer<'static> = cert.der().clone();
        let config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(io::Error::other)?
                .with_no_client_auth()
                .with_single_cert(vec![certificate], key)
                .map_err(io::Error::other)?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let handshakes = Arc::new(AtomicUsize::new(0));
        let shutdown = Arc::new(Shutdown::default());
        let acceptor = thread::Builder::new()
            .name("eureka-tls-front".to_owned())
            .spawn({
                let (handshakes, shutdown) = (Arc::clone(&handshakes), Arc::clone(&shutdown));
                let config = Arc::new(config);
                move || accept(&listener, &config, upstream, &handshakes, &shutdown)
            })?;
        Ok(TlsFront {
            addr,
            ca_pem: cert.pem(),
            handshakes,
            shutdown,
            acceptor: Some(acceptor),
        })
    }

    /// `https://127.0.0.1:PORT/eureka/`, a name the certificate holds.
    pub fn base_url(&self) -> String {
        format!("https://{}/eureka/", self.addr)
    }

    /// The self-signed certificate in PEM, to trust it with `--cacert`.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// TLS handshakes that completed, i.e. clients that trusted the certificate.
    pub fn handshakes(&self) -> usize {
        self.handshakes.load(Ordering::SeqCst)
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.shutdown.trigger();
        if let Some(acceptor) = self.acceptor.take() {
            // Wake the blocking accept with a connection of our own.
            let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
            let _ = acceptor.join();
        }
    }
}

fn accept(
    listener: &TcpListener,
    config: &Arc<ServerConfig>,
    upstream: SocketAddr,
    handshakes: &Arc<AtomicUsize>,
    shutdown: &Arc<Shutdown>,
) {
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    for client in listener.incoming() {
        if shutdown.is_triggered() {
            break;
        }
        let Ok(client) = client else {
            continue;
        };
        let Ok(connection) = ServerConnection::new(Arc::clone(config)) else {
            continue;
        };
        let (handshakes, shutdown) = (Arc::clone(handshakes), Arc::clone(shutdown));
        let worker = thread::Builder::new()
            .name("eureka-tls-connection".to_owned())
            .spawn(move || {
                // A failed handshake or a closed side simply ends the connection.
                let _ = forward(client, connection, upstream, &handshakes, &shutdown);
            });
        workers.retain(|running| !running.is_finished());
        workers.extend(worker.ok());
    }
    for worker in workers {
        let _ = worker.join();
    }
}

/// Pumps bytes between the TLS client and the plain upstream until either side closes.
fn forward(
    mut client: TcpStream,
    mut tls: ServerConnection,
    upstream: SocketAddr,
    handshakes: &AtomicUsize,
    shutdown: &Shutdown,
) -> io::Result<()> {
    let mut plain = TcpStream::connect(upstream)?;
    client.set_read_timeout(Some(POLL))?;
    plain.set_read_timeout(Some(POLL))?;
    let mut counted = false;
    let mut buffer = vec![0; 16 * 1024];
    while !shutdown.is_triggered() {
        match tls.read_tls(&mut client) {
            Ok(0) => return Ok(()),
            Ok(_) => {
                tls.process_new_packets().map_err(io::Error::other)?;
                if !counted && !tls.is_handshaking() {
                    counted = true;
                    handshakes.fetch_add(1, Ordering::SeqCst);
                }
                loop {
                    match tls.reader().read(&mut buffer) {
                        Ok(0) => return Ok(()),
                        Ok(read) => plain.write_all(&buffer[..read])?,
                        Err(err) if err.kind() == ErrorKind::WouldBlock => break,
                        Err(err) => return Err(err),
                    }
                }
            }
            Err(err) if timed_out(&err) => {}
            Err(err) => return Err(err),
        }
        match plain.read(&mut buffer) {
            Ok(0) => {
                tls.send_close_notify();
                flush(&mut tls, &mut client)?;
                return Ok(());
            }
            Ok(read) => tls.writer().write_all(&buffer[..read])?,
            Err(err) if timed_out(&err) => {}
            Err(err) => return Err(err),
        }
        flush(&mut tls, &mut client)?;
    }
    Ok(())
}

fn flush(tls: &mut ServerConnection, client: &mut TcpStream) -> io::Result<()> {
    while tls.wants_write() {
        tls.write_tls(client)?;
    }
    Ok(())
}

fn timed_out(err: &io::Error) -> bool {
    matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}
