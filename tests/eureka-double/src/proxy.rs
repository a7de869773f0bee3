//! A TCP proxy in front of a double that counts the bytes it passes both ways, headers included:
//! what a client's requests cost on the wire.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

/// Forwards every connection to its target and counts the bytes; it lives as long as the test.
pub struct CountingProxy {
    addr: SocketAddr,
    bytes: Arc<AtomicU64>,
}

impl CountingProxy {
    /// A proxy on 127.0.0.1 for `target`.
    pub fn start(target: SocketAddr) -> io::Result<CountingProxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let bytes = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&bytes);
        thread::Builder::new().name("proxy".into()).spawn(move || {
            for client in listener.incoming().flatten() {
                // A connection that cannot be forwarded is dropped: the client sees it closed.
                let _ = forward(client, target, &counter);
            }
        })?;
        Ok(CountingProxy { addr, bytes })
    }

    /// The Eureka URL through the proxy.
    pub fn base_url(&self) -> String {
        format!("http://{}/eureka/", self.addr)
    }

    /// The bytes passed so far, both ways.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::SeqCst)
    }
}

fn forward(client: TcpStream, target: SocketAddr, counter: &Arc<AtomicU64>) -> io::Result<()> {
    let server = TcpStream::connect(target)?;
    for (from, to) in [(client.try_clone()?, server.try_clone()?), (server, client)] {
        let counter = Arc::clone(counter);
        thread::Builder::new()
            .name("proxy-pipe".into())
            .spawn(move || pipe(from, to, &counter))?;
    }
    Ok(())
}

fn pipe(mut from: TcpStream, mut to: TcpStream, counter: &AtomicU64) {
    let mut buffer = [0u8; 16 * 1024];
    while let Ok(read @ 1..) = from.read(&mut buffer) {
        counter.fetch_add(read as u64, Ordering::SeqCst);
        if to.write_all(&buffer[..read]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
