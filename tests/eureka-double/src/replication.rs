//! Peer replication, as a Eureka server's `PeerEurekaNodes` does it: every write a client sent
//! (not one that was itself replicated) that the registry accepted is sent on to every other peer
//! with `x-netflix-discovery-replication: true`, in arrival order, by one thread. As on the real
//! server it is best effort: a peer that cannot be reached misses the write.

use std::io::{Read, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::Duration;

use crate::sync::{Shutdown, lock};

/// How long one replicated request may take.
const PEER_TIMEOUT: Duration = Duration::from_secs(2);

/// One accepted client write, to send on.
pub(crate) struct Write {
    pub(crate) method: String,
    /// Path and query, as received.
    pub(crate) target: String,
    pub(crate) content_type: Option<String>,
    pub(crate) body: String,
}

impl Write {
    /// Whether a request with this method, answered `status`, is a write to send on.
    pub(crate) fn replicable(method: &str, status: u16, replicated: bool) -> bool {
        matches!(method, "POST" | "PUT" | "DELETE") && (200..300).contains(&status) && !replicated
    }
}

/// The peers to replicate to, and the queue of writes.
pub(crate) struct Replicator {
    peers: Mutex<Vec<SocketAddr>>,
    queue: Mutex<Sender<Write>>,
}

impl Replicator {
    /// The replicator, and the receiving end its thread runs [`send_all`] on.
    pub(crate) fn new() -> (Replicator, Receiver<Write>) {
        let (sender, receiver) = channel();
        let replicator = Replicator {
            peers: Mutex::default(),
            queue: Mutex::new(sender),
        };
        (replicator, receiver)
    }

    /// Ends [`send_all`] at once, its queue closed (a write queued later goes nowhere).
    pub(crate) fn stop(&self) {
        *lock(&self.queue) = channel().0;
    }

    pub(crate) fn set_peers(&self, peers: Vec<SocketAddr>) {
        *lock(&self.peers) = peers;
    }

    pub(crate) fn peers(&self) -> Vec<SocketAddr> {
        lock(&self.peers).clone()
    }

    /// Queues `write` when there are peers to send it to.
    pub(crate) fn send_on(&self, write: Write) {
        if !lock(&self.peers).is_empty() {
            // The thread is gone only when the double stops.
            let _ = lock(&self.queue).send(write);
        }
    }
}

/// The replication thread: sends each queued write to every peer until the double stops.
pub(crate) fn send_all(replicator: &Replicator, writes: &Receiver<Write>, shutdown: &Shutdown) {
    while !shutdown.is_triggered() {
        match writes.recv_timeout(Duration::from_millis(100)) {
            Ok(write) => {
                for peer in replicator.peers() {
                    let _ = send(peer, &write);
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

fn send(peer: SocketAddr, write: &Write) -> std::io::Result<()> {
    let mut stream = TcpStream::connect_timeout(&peer, PEER_TIMEOUT)?;
    stream.set_read_timeout(Some(PEER_TIMEOUT))?;
    stream.set_write_timeout(Some(PEER_TIMEOUT))?;
    let content_type = write
        .content_type
        .as_deref()
        .map(|value| format!("Content-Type: {value}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{} {} HTTP/1.1\r\nHost: {peer}\r\nAccept: application/json\r\n\
         x-netflix-discovery-replication: true\r\n{content_type}Content-Length: {}\r\n\
         Connection: close\r\n\r\n{}",
        write.method,
        write.target,
        write.body.len(),
        write.body
    );
    stream.write_all(request.as_bytes())?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    Ok(())
}
