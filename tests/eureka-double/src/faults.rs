//! Byte-level fault peers on raw TCP, for failures an HTTP server library cannot produce: a port
//! that refuses connections, a peer that never answers, a body that trickles forever, and a
//! connection reset. Each listens on 127.0.0.1, counts its connections, and stops (joining its
//! threads) when dropped.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use socket2::{Domain, Socket, Type};

use crate::sync::Shutdown;

/// How long a peer waits for a request's headers before giving up on the connection.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
const TRICKLE_INTERVAL: Duration = Duration::from_millis(200);
/// The `Content-Length` the slow peer announces and never reaches.
const SLOW_BODY_LENGTH: usize = 1 << 20;

pub struct FaultPeer {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    shutdown: Arc<Shutdown>,
    acceptor: Option<JoinHandle<()>>,
    /// [`FaultPeer::refused`]'s socket: bound, never listening, held for as long as the peer lives.
    _bound_not_listening: Option<Socket>,
}

#[derive(Clone, Copy)]
enum Behaviour {
    Hang,
    SlowBody,
    Reset,
}

impl FaultPeer {
    /// A port nothing listens on: a socket bound to it that never listens, so the kernel refuses
    /// every connection, and no other test can be given the port while this peer lives (a port
    /// bound and released again could be).
    pub fn refused() -> FaultPeer {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("a TCP socket");
        socket
            .bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())
            .expect("fault peer binds 127.0.0.1:0");
        let addr = socket
            .local_addr()
            .ok()
            .and_then(|addr| addr.as_socket())
            .expect("a bound socket has an address");
        FaultPeer {
            addr,
            connections: Arc::default(),
            shutdown: Arc::default(),
            acceptor: None,
            _bound_not_listening: Some(socket),
        }
    }

    /// Accepts, reads the request, and never writes a byte.
    pub fn hang() -> FaultPeer {
        FaultPeer::serve(Behaviour::Hang)
    }

    /// Answers `HTTP/1.1 200 OK`, `Content-Type: application/json` and a large `Content-Length`,
    /// then sends one body byte every ~200 ms forever.
    pub fn slow_body() -> FaultPeer {
        FaultPeer::serve(Behaviour::SlowBody)
    }

    /// Accepts, receives the request, and resets the connection.
    pub fn reset() -> FaultPeer {
        FaultPeer::serve(Behaviour::Reset)
    }

    /// `http://127.0.0.1:PORT/eureka/`, like the double's.
    pub fn base_url(&self) -> String {
        format!("http://{}/eureka/", self.addr)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    fn serve(behaviour: Behaviour) -> FaultPeer {
        let listener = bind();
        let addr = local_addr(&listener);
        let connections = Arc::new(AtomicUsize::new(0));
        let shutdown = Arc::new(Shutdown::default());
        let acceptor = thread::Builder::new()
            .name("eureka-fault-peer".to_owned())
            .spawn({
                let (connections, shutdown) = (Arc::clone(&connections), Arc::clone(&shutdown));
                move || accept(&listener, behaviour, &connections, &shutdown)
            })
            .expect("fault peer starts its accept thread");
        FaultPeer {
            addr,
            connections,
            shutdown,
            acceptor: Some(acceptor),
            _bound_not_listening: None,
        }
    }
}

impl Drop for FaultPeer {
    fn drop(&mut self) {
        self.shutdown.trigger();
        if let Some(acceptor) = self.acceptor.take() {
            // Wake the blocking accept with a connection of our own.
            let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
            let _ = acceptor.join();
        }
    }
}

fn bind() -> TcpListener {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("fault peer binds 127.0.0.1:0")
}

fn local_addr(listener: &TcpListener) -> SocketAddr {
    listener
        .local_addr()
        .expect("a bound listener has an address")
}

fn accept(
    listener: &TcpListener,
    behaviour: Behaviour,
    connections: &AtomicUsize,
    shutdown: &Arc<Shutdown>,
) {
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    for stream in listener.incoming() {
        if shutdown.is_triggered() {
            break;
        }
        let Ok(stream) = stream else {
            continue;
        };
        connections.fetch_add(1, Ordering::SeqCst);
        let shutdown = Arc::clone(shutdown);
        let worker = thread::Builder::new()
            .name("eureka-fault-connection".to_owned())
            .spawn(move || behave(stream, behaviour, &shutdown));
        workers.retain(|running| !running.is_finished());
        workers.extend(worker.ok());
    }
    for worker in workers {
        let _ = worker.join();
    }
}

fn behave(mut stream: TcpStream, behaviour: Behaviour, shutdown: &Shutdown) {
    let _ = stream.set_read_timeout(Some(REQUEST_TIMEOUT));
    match behaviour {
        Behaviour::Hang => {
            read_request_head(&mut stream);
            shutdown.wait_forever();
        }
        Behaviour::SlowBody => {
            read_request_head(&mut stream);
            trickle_body(&mut stream, shutdown);
        }
        Behaviour::Reset => {
            // Closing a socket whose received data was never read makes the kernel send RST
            // instead of FIN, so the request is only peeked at.
            wait_for_request_head(&stream);
        }
    }
}

fn trickle_body(stream: &mut TcpStream, shutdown: &Shutdown) {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {SLOW_BODY_LENGTH}\r\n\r\n"
    );
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    let body = br#"{"instance":{"instanceId":"slow","metadata":{"padding":""#
        .iter()
        .copied()
        .chain(std::iter::repeat(b'x'));
    for byte in body.take(SLOW_BODY_LENGTH - 1) {
        if stream.write_all(&[byte]).is_err() || shutdown.wait(TRICKLE_INTERVAL) {
            return;
        }
    }
}

fn read_request_head(stream: &mut TcpStream) {
    let mut head = Vec::new();
    let mut chunk = [0; 4096];
    while !ends_head(&head) && head.len() < 64 * 1024 {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(read) => head.extend_from_slice(&chunk[..read]),
        }
    }
}

fn wait_for_request_head(stream: &TcpStream) {
    let deadline = Instant::now() + REQUEST_TIMEOUT;
    let mut peeked = vec![0; 64 * 1024];
    while Instant::now() < deadline {
        match stream.peek(&mut peeked) {
            Ok(0) | Err(_) => return,
            Ok(available) if ends_head(&peeked[..available]) => return,
            Ok(_) => thread::sleep(Duration::from_millis(5)),
        }
    }
}

fn ends_head(received: &[u8]) -> bool {
    received.windows(4).any(|window| window == b"\r\n\r\n")
}
