//! The app's pods as the consumers reach them: in-process HTTP endpoints on 127.0.0.1 that answer
//! every request `200 ok` and close the connection, so each request connects anew. A stopped pod
//! closes its listener: a request routed to it afterwards is refused, as one routed to a pod
//! that is gone.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use anyhow::{Context, Result};

/// One running pod.
pub struct Pod {
    pub port: u16,
    stopped: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Pod {
    pub fn start() -> Result<Pod> {
        let listener = TcpListener::bind("127.0.0.1:0").context("binding a pod's port")?;
        let port = listener.local_addr().context("a pod's port")?.port();
        let stopped = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stopped);
        let thread = thread::Builder::new()
            .name(format!("pod-{port}"))
            .stack_size(64 * 1024)
            .spawn(move || serve(&listener, &flag))
            .context("starting a pod's thread")?;
        Ok(Pod {
            port,
            stopped,
            thread: Some(thread),
        })
    }

    /// Closes the listener once the accept loop sees the flag (woken by one last connection).
    pub fn stop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Pod {
    fn drop(&mut self) {
        self.stop();
    }
}

fn serve(listener: &TcpListener, stopped: &AtomicBool) {
    for stream in listener.incoming() {
        if stopped.load(Ordering::SeqCst) {
            return;
        }
        if let Ok(mut stream) = stream {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
            let mut request = [0u8; 2048];
            let _ = stream.read(&mut request);
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    }
}
