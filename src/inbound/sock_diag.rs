//! One look at this network namespace's TCP connections on one port, asked of the kernel through
//! `sock_diag` (`NETLINK_SOCK_DIAG`; man 7 `sock_diag`): one dump, filtered in the kernel by
//! bytecode (`INET_DIAG_REQ_BYTECODE`), so only the app's connections cross into user space however
//! many the pod has. Each carries `tcp_info` (`INET_DIAG_INFO`): bytes received and the time since
//! data last arrived. It needs no capability in the pod's own namespace. It only reads and parses;
//! what the numbers mean is `accounting`'s job.
//!
//! The request is `inet_diag`'s original `TCPDIAG_GETSOCK` rather than `SOCK_DIAG_BY_FAMILY`: the
//! kernel answers it with IPv4 and IPv6 sockets in one walk of its socket tables, where
//! `SOCK_DIAG_BY_FAMILY` takes one walk per family. The walk, not the answer, is what a sample
//! costs (the tables are the host's, often 2^18 buckets or more), so this halves it.
//!
//! A small reader on `libc` rather than `netlink-packet-sock-diag` 0.5 + `netlink-sys` 0.9:
//! measured on the release binary with the same dump and parse, the crates added 28,080 bytes
//! (and they filter in user space: they have no bytecode type), this reader 6,416. Every read is
//! bounded by `SO_RCVTIMEO`.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

const TCPDIAG_GETSOCK: u16 = 18;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
const INET_DIAG_INFO: u16 = 2;
const INET_DIAG_REQ_BYTECODE: u16 = 1;
const INET_DIAG_BC_JMP: u8 = 1;
const INET_DIAG_BC_S_EQ: u8 = 11;
const INET_DIAG_BC_D_EQ: u8 = 12;
const TCP_FIN_WAIT2: u8 = 5;
const TCP_TIME_WAIT: u8 = 6;
const TCP_LISTEN: u8 = 10;
/// Every TCP state (1 to 12) but LISTEN: a listening socket is never a connection.
const STATES: u32 = ((1 << 13) - 2) & !(1 << TCP_LISTEN);
const HEADER_LEN: usize = 16;
/// `struct inet_diag_msg`.
const DIAG_MSG_LEN: usize = 72;
/// Offsets in `struct tcp_info` (linux/tcp.h): `tcpi_last_data_recv` and `tcpi_bytes_received`
/// (the latter since Linux 4.1; an older kernel's shorter `tcp_info` gives no byte count).
const LAST_DATA_RECV_AT: usize = 52;
const BYTES_RECEIVED_AT: usize = 128;
/// The kernel fills a dump message up to 32 KiB when the reader's buffer allows it.
const BUFFER_LEN: usize = 32 * 1024;

/// One TCP socket whose local or remote port is the watched port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    /// The kernel's id of the socket, kept by its `TIME_WAIT` successor.
    pub cookie: u64,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// The socket's inode (0 once closed), to tell this process's own sockets.
    pub inode: u32,
    /// Closed on this side, only its `TIME_WAIT` (or `FIN_WAIT2`) remains: the kernel keeps a
    /// small socket without `tcp_info` in its place.
    pub closed: bool,
    /// From `tcp_info`: `None` for a socket without it (`TIME_WAIT`, a half-open request).
    pub received: Option<Received>,
}

/// What `tcp_info` says of data received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    /// `tcpi_bytes_received`; `None` on a kernel older than 4.1.
    pub bytes: Option<u64>,
    /// `tcpi_last_data_recv`: how long ago data last arrived.
    pub since_last: Duration,
}

/// An open `NETLINK_SOCK_DIAG` socket.
pub struct SockDiag {
    socket: OwnedFd,
    sequence: u32,
    buffer: Vec<u8>,
}

impl SockDiag {
    /// Opens the socket; each read waits at most `read_bound`. Fails where `sock_diag` is missing
    /// or forbidden (EPROTONOSUPPORT, EPERM, EACCES under seccomp).
    pub fn open(read_bound: Duration) -> io::Result<SockDiag> {
        // SAFETY: plain socket(2); the descriptor is owned below.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_SOCK_DIAG,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a new descriptor nothing else owns.
        let socket = unsafe { OwnedFd::from_raw_fd(fd) };
        let timeout = libc::timeval {
            tv_sec: libc::time_t::try_from(read_bound.as_secs()).unwrap_or(1),
            tv_usec: libc::suseconds_t::from(read_bound.subsec_micros()),
        };
        // SAFETY: a valid socket and a timeval that outlives the call.
        let set = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&raw const timeout).cast(),
                socklen::<libc::timeval>(),
            )
        };
        if set != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(SockDiag {
            socket,
            sequence: 0,
            buffer: vec![0; BUFFER_LEN],
        })
    }

    /// Every TCP connection of this namespace, IPv4 and IPv6, whose local or remote port is
    /// `port`, LISTEN sockets left out.
    pub fn connections(&mut self, port: u16) -> io::Result<Vec<Connection>> {
        let mut found = Vec::new();
        self.sequence = self.sequence.wrapping_add(1);
        let request = request(port, self.sequence);
        // SAFETY: all zeros is a valid sockaddr_nl: the kernel's address (pid 0), no groups.
        let mut kernel: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        kernel.nl_family = libc::sa_family_t::try_from(libc::AF_NETLINK).unwrap_or_default();
        // SAFETY: the buffer and address outlive the call; their lengths are theirs.
        let sent = unsafe {
            libc::sendto(
                self.socket.as_raw_fd(),
                request.as_ptr().cast(),
                request.len(),
                0,
                (&raw const kernel).cast(),
                socklen::<libc::sockaddr_nl>(),
            )
        };
        if sent < 0 {
            return Err(io::Error::last_os_error());
        }
        loop {
            // SAFETY: reads at most the buffer's length into it.
            let read = unsafe {
                libc::recv(
                    self.socket.as_raw_fd(),
                    self.buffer.as_mut_ptr().cast(),
                    self.buffer.len(),
                    0,
                )
            };
            let Ok(read) = usize::try_from(read) else {
                return Err(io::Error::last_os_error());
            };
            let received = self.buffer.get(..read).unwrap_or_default();
            if parse_messages(received, self.sequence, &mut found)? == Dump::Done {
                return Ok(found);
            }
        }
    }
}

fn socklen<T>() -> libc::socklen_t {
    libc::socklen_t::try_from(size_of::<T>()).unwrap_or(libc::socklen_t::MAX)
}

/// A dump request for the TCP sockets, IPv4 and IPv6, with `port` as their local or remote port.
fn request(port: u16, sequence: u32) -> Vec<u8> {
    // `inet_diag_bc_op`s, as ss compiles `sport = P or dport = P`: a "yes" goes to the next op,
    // a "no" skips one; the jump (always "no") in between accepts by jumping to the end, and a
    // jump past the end rejects. The port operand is in host order.
    let ops = [
        op(INET_DIAG_BC_S_EQ, 8, 12),
        op(0, 0, port),
        op(INET_DIAG_BC_JMP, 4, 12),
        op(INET_DIAG_BC_D_EQ, 8, 12),
        op(0, 0, port),
    ];
    let bytecode = ops.concat();
    // `struct inet_diag_req`: family 0 (both), no address lengths, the extension, the socket id
    // (zero for a dump, the cookie "none"), the states, and no tables.
    let mut body = Vec::with_capacity(bytecode.len().saturating_add(64));
    body.extend_from_slice(&[0, 0, 0, 1 << (INET_DIAG_INFO - 1)]);
    body.extend_from_slice(&[0; 40]);
    body.extend_from_slice(&[0xff; 8]);
    body.extend_from_slice(&STATES.to_ne_bytes());
    body.extend_from_slice(&0u32.to_ne_bytes());
    let attribute_len = u16::try_from(bytecode.len().saturating_add(4)).unwrap_or_default();
    body.extend_from_slice(&attribute_len.to_ne_bytes());
    body.extend_from_slice(&INET_DIAG_REQ_BYTECODE.to_ne_bytes());
    body.extend_from_slice(&bytecode);
    let mut message = Vec::with_capacity(body.len().saturating_add(HEADER_LEN));
    let total = u32::try_from(body.len().saturating_add(HEADER_LEN)).unwrap_or_default();
    message.extend_from_slice(&total.to_ne_bytes());
    message.extend_from_slice(&TCPDIAG_GETSOCK.to_ne_bytes());
    message.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    message.extend_from_slice(&sequence.to_ne_bytes());
    message.extend_from_slice(&0u32.to_ne_bytes());
    message.extend_from_slice(&body);
    message
}

/// One `inet_diag_bc_op`.
fn op(code: u8, yes: u8, no: u16) -> [u8; 4] {
    let no = no.to_ne_bytes();
    [code, yes, no[0], no[1]]
}

#[derive(Debug, PartialEq, Eq)]
enum Dump {
    More,
    Done,
}

/// Takes in the netlink messages of one `recv`; those of another sequence (a dump abandoned
/// after a timeout) are skipped.
fn parse_messages(
    mut bytes: &[u8],
    sequence: u32,
    found: &mut Vec<Connection>,
) -> io::Result<Dump> {
    while bytes.len() >= HEADER_LEN {
        let length = usize::try_from(u32_at(bytes, 0)).unwrap_or(usize::MAX);
        if length < HEADER_LEN || length > bytes.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "a sock_diag message overruns its buffer",
            ));
        }
        let kind = u16::from_ne_bytes([bytes[4], bytes[5]]);
        let payload = &bytes[HEADER_LEN..length];
        if u32_at(bytes, 8) == sequence {
            match kind {
                NLMSG_DONE => return Ok(Dump::Done),
                NLMSG_ERROR => {
                    let errno = i32::from_ne_bytes(array_at(payload, 0));
                    return Err(io::Error::from_raw_os_error(errno.saturating_neg()));
                }
                TCPDIAG_GETSOCK => found.extend(connection(payload)),
                _ => {}
            }
        }
        bytes = bytes.get(align(length)..).unwrap_or_default();
    }
    Ok(Dump::More)
}

/// One `inet_diag_msg` and its attributes; `None` when too short or not a connection.
fn connection(message: &[u8]) -> Option<Connection> {
    let header = message.get(..DIAG_MSG_LEN)?;
    let (family, state) = (header[0], header[1]);
    if state == TCP_LISTEN {
        return None;
    }
    let local_port = u16::from_be_bytes([header[4], header[5]]);
    let remote_port = u16::from_be_bytes([header[6], header[7]]);
    let local = address(family, &header[8..24])?;
    let remote = address(family, &header[24..40])?;
    let cookie = u64::from(u32_at(header, 44)) | (u64::from(u32_at(header, 48)) << 32);
    let mut received: Option<Received> = None;
    let mut attributes = &message[DIAG_MSG_LEN..];
    while attributes.len() >= 4 {
        let length = usize::from(u16::from_ne_bytes([attributes[0], attributes[1]]));
        let kind = u16::from_ne_bytes([attributes[2], attributes[3]]);
        let value = attributes.get(4..length)?;
        if kind == INET_DIAG_INFO {
            received = tcp_received(value);
        }
        attributes = attributes.get(align(length.max(4))..).unwrap_or_default();
    }
    Some(Connection {
        cookie,
        local: SocketAddr::new(local, local_port),
        remote: SocketAddr::new(remote, remote_port),
        inode: u32_at(header, 68),
        closed: received.is_none() && matches!(state, TCP_FIN_WAIT2 | TCP_TIME_WAIT),
        received,
    })
}

/// The received side of a `tcp_info`.
fn tcp_received(info: &[u8]) -> Option<Received> {
    let since_last = info.get(LAST_DATA_RECV_AT..LAST_DATA_RECV_AT + 4)?;
    let bytes = info
        .get(BYTES_RECEIVED_AT..BYTES_RECEIVED_AT + 8)
        .map(|bytes| u64::from_ne_bytes(array_at(bytes, 0)));
    Some(Received {
        bytes,
        since_last: Duration::from_millis(u64::from(u32_at(since_last, 0))),
    })
}

/// An address as the kernel writes it; an IPv4-mapped IPv6 address as the IPv4 address.
fn address(family: u8, bytes: &[u8]) -> Option<IpAddr> {
    match i32::from(family) {
        libc::AF_INET => Some(IpAddr::V4(Ipv4Addr::from(array_at::<4>(bytes, 0)))),
        libc::AF_INET6 => Some(IpAddr::V6(Ipv6Addr::from(array_at::<16>(bytes, 0))).to_canonical()),
        _ => None,
    }
}

fn align(length: usize) -> usize {
    length.saturating_add(3) & !3
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(array_at(bytes, at))
}

/// `N` bytes from `at`, zeros where `bytes` is shorter (callers check lengths first).
fn array_at<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut array = [0; N];
    if let Some(slice) = bytes.get(at..at.saturating_add(N)) {
        array.copy_from_slice(slice);
    }
    array
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};

    fn find(connections: &[Connection], local: SocketAddr, remote: SocketAddr) -> &Connection {
        connections
            .iter()
            .find(|connection| connection.local == local && connection.remote == remote)
            .unwrap_or_else(|| panic!("{local} <- {remote} not in {connections:?}"))
    }

    #[test]
    fn a_dump_finds_the_connections_on_the_port_with_bytes_received_and_never_the_listener() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, from) = listener.accept().unwrap();
        client.write_all(&[7; 1234]).unwrap();
        let mut read = vec![0; 1234];
        server.read_exact(&mut read).unwrap();
        let other = TcpListener::bind("127.0.0.1:0").unwrap();
        let _elsewhere = TcpStream::connect(other.local_addr().unwrap()).unwrap();

        let mut diag = SockDiag::open(Duration::from_millis(500)).unwrap();
        let connections = diag.connections(port).unwrap();
        // The listener (remote port 0) is never there; a TIME_WAIT socket an earlier test left
        // with this port may be.
        assert!(
            connections
                .iter()
                .all(|connection| connection.remote.port() != 0),
            "{connections:?}"
        );
        assert!(
            connections
                .iter()
                .all(|connection| connection.local.port() == port
                    || connection.remote.port() == port),
            "{connections:?}"
        );
        let inbound = find(&connections, server.local_addr().unwrap(), from);
        let received = inbound.received.unwrap();
        assert_eq!(received.bytes, Some(1234));
        assert!(received.since_last < Duration::from_secs(5));
        assert!(!inbound.closed && inbound.inode != 0);
        // The client's side: its remote port is the watched one.
        let outbound = find(&connections, from, server.local_addr().unwrap());
        assert_eq!(outbound.received.unwrap().bytes, Some(0));
        assert_ne!(inbound.cookie, outbound.cookie);
    }

    #[test]
    fn ipv4_clients_of_a_dual_stack_listener_are_reported_as_ipv4() {
        let Ok(listener) = TcpListener::bind("[::]:0") else {
            panic!("this machine cannot listen on [::]: IPv6 is needed for this test");
        };
        let port = listener.local_addr().unwrap().port();
        let client = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (_server, _) = listener.accept().unwrap();
        let connections = SockDiag::open(Duration::from_millis(500))
            .unwrap()
            .connections(port)
            .unwrap();
        let inbound: Vec<_> = connections
            .iter()
            .filter(|connection| connection.remote == client.local_addr().unwrap())
            .collect();
        assert_eq!(inbound.len(), 1, "{connections:?}");
        assert_eq!(inbound[0].remote.ip(), IpAddr::from([127, 0, 0, 1]));
        assert_eq!(inbound[0].local.ip(), IpAddr::from([127, 0, 0, 1]));
    }

    #[test]
    fn messages_of_another_dump_and_an_error_are_told_apart() {
        let mut message = vec![0u8; HEADER_LEN + 4];
        message[..4].copy_from_slice(&20u32.to_ne_bytes());
        message[4..6].copy_from_slice(&NLMSG_ERROR.to_ne_bytes());
        message[8..12].copy_from_slice(&7u32.to_ne_bytes());
        message[16..20].copy_from_slice(&(-libc::EPERM).to_ne_bytes());
        let mut found = Vec::new();
        assert_eq!(parse_messages(&message, 8, &mut found).unwrap(), Dump::More);
        let err = parse_messages(&message, 7, &mut found).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EPERM));
        message[..4].copy_from_slice(&200u32.to_ne_bytes());
        assert_eq!(
            parse_messages(&message, 7, &mut found).unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
    }

    #[test]
    fn a_short_tcp_info_gives_no_byte_count() {
        let mut info = vec![0u8; 104];
        info[LAST_DATA_RECV_AT..LAST_DATA_RECV_AT + 4].copy_from_slice(&1500u32.to_ne_bytes());
        assert_eq!(
            tcp_received(&info),
            Some(Received {
                bytes: None,
                since_last: Duration::from_millis(1500)
            })
        );
        assert_eq!(tcp_received(&info[..20]), None);
    }
}
