//! One `GET /` from a source address of its own (127.0.0.2), as a consumer in another pod sends
//! it, so the instance's `eureka-hook prestop` can tell it from the other consumer by address. A
//! new connection for each request (`Connection: close`), read to its end, so the instance closes
//! first and its side of the connection stays visible (TIME_WAIT) to the hook's inbound watch.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::os::fd::FromRawFd;
use std::time::Duration;

/// Sends `GET /` to `target` from `source`; `Err` with the reason when it did not get a 2xx.
pub fn get_from(source: IpAddr, target: SocketAddr, timeout: Duration) -> Result<(), String> {
    let mut stream = connect_from(source, target).map_err(|err| err.to_string())?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|err| err.to_string())?;
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: instance\r\nConnection: close\r\n\r\n")
        .map_err(|err| err.to_string())?;
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .map_err(|err| format!("reading the answer: {err}"))?;
    if answer.starts_with(b"HTTP/1.1 2") || answer.starts_with(b"HTTP/1.0 2") {
        Ok(())
    } else {
        let status_line = answer
            .split(|&byte| byte == b'\r')
            .next()
            .unwrap_or_default();
        Err(format!("answered {}", String::from_utf8_lossy(status_line)))
    }
}

/// A TCP connection to `target` from `source`, port chosen by the kernel. Loopback only, so a
/// blocking connect is refused or accepted at once.
fn connect_from(source: IpAddr, target: SocketAddr) -> std::io::Result<TcpStream> {
    let (IpAddr::V4(source), SocketAddr::V4(target)) = (source, target) else {
        return Err(std::io::Error::other("IPv4 only"));
    };
    let address = |ip: std::net::Ipv4Addr, port: u16| libc::sockaddr_in {
        sin_family: libc::sa_family_t::try_from(libc::AF_INET).unwrap_or_default(),
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(ip).to_be(),
        },
        sin_zero: [0; 8],
    };
    let (local, remote) = (address(source, 0), address(*target.ip(), target.port()));
    let len = libc::socklen_t::try_from(size_of::<libc::sockaddr_in>()).unwrap_or_default();
    // SAFETY: plain socket calls; the descriptor is owned by the TcpStream made from it at once.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let stream = TcpStream::from_raw_fd(fd);
        if libc::bind(fd, (&raw const local).cast(), len) != 0
            || libc::connect(fd, (&raw const remote).cast(), len) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
        Ok(stream)
    }
}
