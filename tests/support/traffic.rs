//! A pod's own traffic for the inbound watch: a tiny HTTP app on loopback (IPv4, or dual-stack on
//! `[::]`) and consumers that send it requests from source addresses of their own (bound before
//! connecting: 127.0.0.2, 127.0.0.3, `::1`), over one keep-alive connection or a new connection
//! each time. Each consumer records when it sent each request, so a test can compare the hook's
//! report with what happened.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::FromRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// An HTTP app answering `200 ok` to every request; it closes a connection when asked to
/// (`Connection: close`), as Tomcat does, so that side goes to TIME_WAIT.
pub struct App {
    pub address: SocketAddr,
}

impl App {
    /// On 127.0.0.1.
    pub fn ipv4() -> App {
        App::on("127.0.0.1:0")
    }

    /// On `[::]`, seeing IPv4 clients as `::ffff:a.b.c.d`, as a JVM does.
    pub fn dual_stack() -> App {
        App::on("[::]:0")
    }

    fn on(address: &str) -> App {
        let listener = TcpListener::bind(address)
            .unwrap_or_else(|err| panic!("the test app cannot listen on {address}: {err}"));
        let address = listener.local_addr().unwrap();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                thread::spawn(move || serve(stream));
            }
        });
        App { address }
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Where a client on `source`'s family connects.
    fn target_for(&self, source: IpAddr) -> SocketAddr {
        let ip: IpAddr = if source.is_ipv4() {
            [127, 0, 0, 1].into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        };
        SocketAddr::new(ip, self.port())
    }
}

fn serve(stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut close = false;
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            close |= line.to_ascii_lowercase().starts_with("connection: close");
            if line == "\r\n" {
                break;
            }
        }
        let answer = if close {
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
        } else {
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        };
        if writer.write_all(answer.as_bytes()).is_err() || close {
            return;
        }
    }
}

/// A TCP connection from `source` (port chosen by the kernel) to `target`.
pub fn connect_from(source: IpAddr, target: SocketAddr) -> TcpStream {
    let (family, local) = sockaddr(SocketAddr::new(source, 0));
    let (_, remote) = sockaddr(target);
    // SAFETY: plain socket calls on a descriptor owned by the TcpStream made from it.
    unsafe {
        let fd = libc::socket(family, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let stream = TcpStream::from_raw_fd(fd);
        let len = libc::socklen_t::try_from(size_of::<libc::sockaddr_storage>()).unwrap();
        let bound = libc::bind(fd, (&raw const local).cast(), len);
        assert!(
            bound == 0,
            "binding a client socket to {source}: {} (the test needs this address on lo)",
            std::io::Error::last_os_error()
        );
        let connected = libc::connect(fd, (&raw const remote).cast(), len);
        assert!(
            connected == 0,
            "connecting from {source} to {target}: {}",
            std::io::Error::last_os_error()
        );
        stream
    }
}

fn sockaddr(address: SocketAddr) -> (i32, libc::sockaddr_storage) {
    // SAFETY: all zeros is a valid sockaddr_storage.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    match address {
        SocketAddr::V4(v4) => {
            // SAFETY: sockaddr_storage is large and aligned enough for a sockaddr_in.
            let sin = unsafe { &mut *(&raw mut storage).cast::<libc::sockaddr_in>() };
            sin.sin_family = libc::sa_family_t::try_from(libc::AF_INET).unwrap();
            sin.sin_port = v4.port().to_be();
            sin.sin_addr.s_addr = u32::from(*v4.ip()).to_be();
            (libc::AF_INET, storage)
        }
        SocketAddr::V6(v6) => {
            // SAFETY: sockaddr_storage is large and aligned enough for a sockaddr_in6.
            let sin6 = unsafe { &mut *(&raw mut storage).cast::<libc::sockaddr_in6>() };
            sin6.sin6_family = libc::sa_family_t::try_from(libc::AF_INET6).unwrap();
            sin6.sin6_port = v6.port().to_be();
            sin6.sin6_addr.s6_addr = v6.ip().octets();
            (libc::AF_INET6, storage)
        }
    }
}

/// How a consumer reaches the app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connections {
    /// One connection for every request.
    KeepAlive,
    /// A new connection for each request, closed by the app after its answer, then by the
    /// consumer.
    NewEach,
}

/// A consumer sending `GET /` every `every` from `source` until `stop_after` has passed, keeping
/// its keep-alive connection open until it is finished or dropped.
pub struct Consumer {
    stop: Arc<AtomicBool>,
    sent: Arc<Mutex<Vec<(Instant, usize)>>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Consumer {
    pub fn start(
        app: &App,
        source: &str,
        connections: Connections,
        every: Duration,
        stop_after: Duration,
    ) -> Consumer {
        let source: IpAddr = source.parse().unwrap();
        let target = app.target_for(source);
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let (stopped, log) = (Arc::clone(&stop), Arc::clone(&sent));
        let started = Instant::now();
        let thread = thread::spawn(move || {
            let mut kept: Option<TcpStream> = None;
            while !stopped.load(Ordering::SeqCst) && started.elapsed() < stop_after {
                let request = match connections {
                    Connections::KeepAlive => "GET / HTTP/1.1\r\nHost: app\r\n\r\n",
                    Connections::NewEach => {
                        "GET / HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n"
                    }
                };
                let stream = match (connections, kept.take()) {
                    (Connections::KeepAlive, Some(stream)) => stream,
                    _ => connect_from(source, target),
                };
                log.lock().unwrap().push((Instant::now(), request.len()));
                let mut stream = stream;
                stream.write_all(request.as_bytes()).unwrap();
                let mut answer = [0u8; 256];
                let mut read = 0;
                while !answer[..read].ends_with(b"ok") {
                    match stream.read(&mut answer[read..]) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => read += n,
                    }
                }
                match connections {
                    Connections::KeepAlive => kept = Some(stream),
                    // Waits for the app to close first, as after `Connection: close`, so the
                    // app's side lingers in TIME_WAIT (a client that closes first leaves no trace
                    // on the app's side once the connection is gone).
                    Connections::NewEach => while let Ok(1..) = stream.read(&mut answer) {},
                }
                thread::sleep(every);
            }
            // A pool keeps its idle connection open; the app's side of one closed right after its
            // last request would be gone before the next sample could see that request.
            while !stopped.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(10));
            }
            drop(kept);
        });
        Consumer {
            stop,
            sent,
            thread: Some(thread),
        }
    }

    /// When each request was sent and its size, after the consumer has stopped.
    pub fn finish(mut self) -> Vec<(Instant, usize)> {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
        self.sent.lock().unwrap().clone()
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// A connection from `source` that stays open and sends nothing.
pub fn idle_connection(app: &App, source: &str) -> TcpStream {
    let source: IpAddr = source.parse().unwrap();
    connect_from(source, app.target_for(source))
}
