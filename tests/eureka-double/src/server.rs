//! The running double: a tiny_http server on 127.0.0.1 that answers each request on its own
//! thread (scripts first, then what Tomcat and Spring Security reject, then the Eureka API),
//! records every request, runs the server's timers, and gives tests direct access to the
//! registry. Dropping it stops the server and ends its threads, including hanging requests.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use tiny_http::{Header, Response, Server};

use crate::api::{self, ApiRequest, Call};
use crate::clock::{EpochMillis, Time};
use crate::flavour::ServerFlavour;
use crate::housekeeping::{self, Schedule, Timers};
use crate::recording::{RecordedRequest, RequestLog};
use crate::registry::{Registry, RegistryConfig};
use crate::render::{Detail, Format};
use crate::replication::{self, Replicator, Write};
use crate::reply::Reply;
use crate::script::{Outcome, ScriptedReply, Scripts};
use crate::security::Security;
use crate::spec::{InstanceSpec, InstanceState};
use crate::sync::{Shutdown, lock};
use crate::uri;

/// How long `Drop` waits for request threads; one blocked writing to a client that stopped
/// reading is left behind rather than hanging the test.
const HANDLER_GRACE: Duration = Duration::from_secs(2);

/// Settings of a double; see [`EurekaDouble::builder`].
#[derive(Clone)]
pub struct DoubleBuilder {
    port: u16,
    credentials: Option<(String, String)>,
    csrf_protection: bool,
    response_cache_interval: Duration,
    lease_expiry: bool,
    eviction_interval: Duration,
    delta_retention: Duration,
    flavour: ServerFlavour,
    clock: Option<EpochMillis>,
}

impl std::fmt::Debug for DoubleBuilder {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("DoubleBuilder")
            .field("port", &self.port)
            .field("response_cache_interval", &self.response_cache_interval)
            .field("flavour", &self.flavour)
            .field("test_clock", &self.clock.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for DoubleBuilder {
    /// The real server's defaults, with lease expiry off (a test does not wait 90 s anyway).
    fn default() -> DoubleBuilder {
        DoubleBuilder {
            port: 0,
            credentials: None,
            csrf_protection: false,
            response_cache_interval: Duration::from_secs(30),
            lease_expiry: false,
            eviction_interval: Duration::from_secs(60),
            delta_retention: Duration::from_secs(180),
            flavour: ServerFlavour::SpringCloud,
            clock: None,
        }
    }
}

impl DoubleBuilder {
    /// Requires HTTP Basic credentials on every request, as a Spring Security secured server does.
    pub fn basic_auth(mut self, user: &str, password: &str) -> DoubleBuilder {
        self.credentials = Some((user.to_owned(), password.to_owned()));
        self
    }

    /// Leaves CSRF protection on: every POST, PUT and DELETE gets 403.
    pub fn csrf_protection(mut self, enabled: bool) -> DoubleBuilder {
        self.csrf_protection = enabled;
        self
    }

    /// `response-cache-update-interval-ms` (30 s by default); `Duration::ZERO` means
    /// `use-read-only-response-cache=false`, so cached reads only lag behind renewals.
    pub fn response_cache_interval(mut self, interval: Duration) -> DoubleBuilder {
        self.response_cache_interval = interval;
        self
    }

    /// Whether leases expire and get evicted (off by default, as under self-preservation).
    pub fn lease_expiry(mut self, enabled: bool) -> DoubleBuilder {
        self.lease_expiry = enabled;
        self
    }

    /// `eviction-interval-timer-in-ms` (60 s by default).
    pub fn eviction_interval(mut self, interval: Duration) -> DoubleBuilder {
        self.eviction_interval = interval;
        self
    }

    /// How long the delta keeps a change (180 s by default). The cleanup runs every 30 s, or
    /// every `retention` when that is shorter.
    pub fn delta_retention(mut self, retention: Duration) -> DoubleBuilder {
        self.delta_retention = retention;
        self
    }

    /// Which server's compression to copy ([`ServerFlavour::SpringCloud`] by default).
    pub fn flavour(mut self, flavour: ServerFlavour) -> DoubleBuilder {
        self.flavour = flavour;
        self
    }

    /// The double's time in epoch milliseconds (the wall clock by default): its timestamps, and
    /// when its timers run. With a test's clock (a hook's fake clock, or a [`ManualClock`]) the
    /// read-only cache refreshes, leases expire and the delta forgets as that clock says, each
    /// due timer running just before the next request or direct call.
    ///
    /// [`ManualClock`]: crate::ManualClock
    pub fn clock(mut self, now_ms: impl Fn() -> i64 + Send + Sync + 'static) -> DoubleBuilder {
        self.clock = Some(Arc::new(now_ms));
        self
    }

    /// The port on 127.0.0.1; 0 (the default) picks a free one.
    pub fn port(mut self, port: u16) -> DoubleBuilder {
        self.port = port;
        self
    }

    /// Starts the double; panics if the port cannot be bound.
    pub fn start(self) -> EurekaDouble {
        let port = self.port;
        self.try_start().unwrap_or_else(|error| {
            panic!("eureka double cannot listen on 127.0.0.1:{port}: {error}")
        })
    }

    pub fn try_start(self) -> io::Result<EurekaDouble> {
        let server = Server::from_listener(listener(self.port)?, None).map_err(io::Error::other)?;
        let addr = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| io::Error::other("tiny_http did not bind an IP address"))?;
        let cache_refresh =
            Some(self.response_cache_interval).filter(|interval| !interval.is_zero());
        let registry = Registry::new(RegistryConfig {
            use_read_only_cache: cache_refresh.is_some(),
            lease_expiration_enabled: self.lease_expiry,
            eviction_interval_ms: housekeeping::millis(self.eviction_interval),
            delta_retention_ms: housekeeping::millis(self.delta_retention),
        });
        let (replicator, writes) = Replicator::new();
        let timers = Timers {
            cache_refresh,
            eviction: self.lease_expiry.then_some(self.eviction_interval),
            delta_cleanup: self.delta_retention.min(Duration::from_secs(30)),
        };
        let time = self.clock.map_or(Time::Wall, Time::Test);
        let timers_on_calls = match time {
            Time::Wall => None,
            Time::Test(_) => Some(Mutex::new(Schedule::new(timers, time.now_ms()))),
        };
        let shared = Arc::new(Shared {
            registry: Mutex::new(registry),
            time,
            timers_on_calls,
            log: Mutex::default(),
            scripts: Mutex::default(),
            security: Security {
                credentials: self.credentials,
                csrf_protection: self.csrf_protection,
            },
            shutdown: Shutdown::default(),
            handlers: Mutex::default(),
            flavour: self.flavour,
            replicator,
        });
        let server = Arc::new(server);
        let mut threads = vec![
            spawn("eureka-double-accept", {
                let (server, shared) = (Arc::clone(&server), Arc::clone(&shared));
                move || accept_requests(&server, &shared)
            })?,
            spawn("eureka-double-replication", {
                let shared = Arc::clone(&shared);
                move || replication::send_all(&shared.replicator, &writes, &shared.shutdown)
            })?,
        ];
        if shared.timers_on_calls.is_none() {
            threads.push(spawn("eureka-double-timers", {
                let shared = Arc::clone(&shared);
                move || housekeeping::run(&shared.registry, &shared.shutdown, timers)
            })?);
        }
        Ok(EurekaDouble {
            addr,
            shared,
            server,
            threads,
        })
    }
}

/// An in-process Eureka server on 127.0.0.1; dropping it stops it and joins its threads, and fails
/// the test (panics, unless it is panicking already) if a [`ScriptedReply`] never fired.
pub struct EurekaDouble {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: Arc<Server>,
    threads: Vec<JoinHandle<()>>,
}

struct Shared {
    registry: Mutex<Registry>,
    time: Time,
    /// On a test's clock, the timers, run when a call comes.
    timers_on_calls: Option<Mutex<Schedule>>,
    log: Mutex<RequestLog>,
    scripts: Mutex<Scripts>,
    security: Security,
    shutdown: Shutdown,
    handlers: Mutex<Vec<JoinHandle<()>>>,
    flavour: ServerFlavour,
    replicator: Replicator,
}

impl Shared {
    /// The registry, its due timers run, and the time now.
    fn registry(&self) -> (MutexGuard<'_, Registry>, i64) {
        let mut registry = lock(&self.registry);
        let now = self.time.now_ms();
        if let Some(schedule) = &self.timers_on_calls {
            lock(schedule).run_due(&mut registry, now);
        }
        (registry, now)
    }
}

impl EurekaDouble {
    /// On a free port, without authentication, with the real server's 30 s read-only cache.
    pub fn start() -> EurekaDouble {
        EurekaDouble::builder().start()
    }

    pub fn builder() -> DoubleBuilder {
        DoubleBuilder::default()
    }

    /// `http://127.0.0.1:PORT/eureka/`, with the trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}/eureka/", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn flavour(&self) -> ServerFlavour {
        self.shared.flavour
    }

    /// Every request received so far, in arrival order, including rejected and scripted ones.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.log).snapshot()
    }

    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    /// Replicates every client write this double accepts to `peers` (other doubles), as
    /// replicated Eureka peers do; the direct writes below (`register`, `heartbeat`, …) count as
    /// client writes too. Empty: no replication (the default).
    pub fn replicate_to(&self, peers: &[&EurekaDouble]) {
        self.shared
            .replicator
            .set_peers(peers.iter().map(|peer| peer.addr()).collect());
    }

    /// Makes `peers` replicated peers of each other: every one replicates to all the others.
    pub fn replicate_among(peers: &[&EurekaDouble]) {
        for (index, peer) in peers.iter().enumerate() {
            let others: Vec<&EurekaDouble> = peers
                .iter()
                .enumerate()
                .filter(|(other, _)| *other != index)
                .map(|(_, other)| *other)
                .collect();
            peer.replicate_to(&others);
        }
    }

    /// Sends a direct write on to the peers, as if it had come over HTTP.
    fn send_on(&self, method: &str, target: String, body: String, status: u16) {
        if Write::replicable(method, status, false) {
            self.shared.replicator.send_on(Write {
                method: method.to_owned(),
                target,
                content_type: Some("application/json".to_owned()).filter(|_| !body.is_empty()),
                body,
            });
        }
    }

    /// Registers as the client's `POST apps/{APP}` would, without going over HTTP or being
    /// recorded; returns the instance id. Panics if the server would reject the body.
    pub fn register(&self, instance: InstanceSpec) -> String {
        let (mut registry, now) = self.shared.registry();
        let body = instance.to_json_at(now).to_string();
        let app = instance.app.to_uppercase();
        let reply = api::register(
            &mut registry,
            &app,
            Some("application/json"),
            &body,
            &direct_call(Vec::new(), now),
        );
        drop(registry);
        assert_eq!(
            reply.status,
            204,
            "registration rejected: {}",
            String::from_utf8_lossy(&reply.body)
        );
        self.send_on("POST", format!("/eureka/apps/{app}"), body, reply.status);
        instance.id()
    }

    /// The instance as the registry holds it (expired or not, until evicted); `app` in any case.
    pub fn instance(&self, app: &str, id: &str) -> Option<InstanceState> {
        self.shared
            .registry()
            .0
            .lease(&app.to_uppercase(), id)
            .map(InstanceState::from)
    }

    /// Sets the lease's `registrationTimestamp` (epoch ms), as if the instance had registered then
    /// and renewed ever since: a lease older than the process asking about it. Returns whether the
    /// lease exists.
    pub fn set_registration_timestamp(&self, app: &str, id: &str, epoch_ms: i64) -> bool {
        let (mut registry, _) = self.shared.registry();
        match registry.lease_mut(&app.to_uppercase(), id) {
            Some(lease) => {
                lease.registration_timestamp = epoch_ms;
                true
            }
            None => false,
        }
    }

    /// A heartbeat as `PUT apps/{APP}/{ID}` without parameters; returns the status it would get.
    pub fn heartbeat(&self, app: &str, id: &str) -> u16 {
        let app = app.to_uppercase();
        let (mut registry, now) = self.shared.registry();
        let status = api::renew(&mut registry, &app, id, &direct_call(Vec::new(), now)).status;
        drop(registry);
        self.send_on(
            "PUT",
            format!("/eureka/apps/{app}/{id}"),
            String::new(),
            status,
        );
        status
    }

    /// An override as `PUT apps/{APP}/{ID}/status?value=S`; returns the status it would get.
    pub fn set_override(&self, app: &str, id: &str, status: &str) -> u16 {
        let app = app.to_uppercase();
        let (mut registry, now) = self.shared.registry();
        let call = direct_call(vec![("value".to_owned(), status.to_owned())], now);
        let answer = api::update_status(&mut registry, &app, id, &call).status;
        drop(registry);
        let target = format!("/eureka/apps/{app}/{id}/status?value={status}");
        self.send_on("PUT", target, String::new(), answer);
        answer
    }

    /// Registers `count` instances of `app` (hosts `{app}-{n}`, port 8080, addresses 10.x.y.z
    /// counted from `first`), as a fleet's clients would; returns their ids.
    pub fn register_many(&self, app: &str, first: u32, count: u32) -> Vec<String> {
        (first..first.saturating_add(count))
            .map(|n| {
                let ip = format!("10.{}.{}.{}", (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
                self.register(InstanceSpec::new(app, &format!("{app}-{n}"), 8080).ip_addr(&ip))
            })
            .collect()
    }

    /// Takes every change made so far out of the delta, as the retention timer does once they
    /// are older than the retention: `apps/delta` then lists only what changes next (a registry
    /// whose instances registered long ago, without the wait).
    pub fn forget_recent_changes(&self) {
        self.shared.registry().0.prune_recent_changes(i64::MAX);
    }

    /// The override removal `DELETE apps/{APP}/{ID}/status` (without a value: the status becomes
    /// UNKNOWN); returns the status it would get.
    pub fn remove_override(&self, app: &str, id: &str) -> u16 {
        let app = app.to_uppercase();
        let (mut registry, now) = self.shared.registry();
        let status =
            api::delete_status_override(&mut registry, &app, id, &direct_call(Vec::new(), now))
                .status;
        drop(registry);
        self.send_on(
            "DELETE",
            format!("/eureka/apps/{app}/{id}/status"),
            String::new(),
            status,
        );
        status
    }

    /// What the instance's own client does after an override removal: its next heartbeat gets 404
    /// (the server will not renew an UNKNOWN instance), so it registers again with `spec`'s
    /// status. Returns the heartbeat's status; the instance ends up listed with `spec`'s status.
    pub fn lose_override(&self, spec: &InstanceSpec) -> u16 {
        let id = spec.id();
        self.remove_override(&spec.app, &id);
        let heartbeat = self.heartbeat(&spec.app, &id);
        if heartbeat == 404 {
            self.register(spec.clone());
        }
        heartbeat
    }

    /// Adds a scripted fault; see [`ScriptedReply`].
    pub fn script(&self, rule: ScriptedReply) {
        lock(&self.shared.scripts).add(rule);
    }
}

impl Drop for EurekaDouble {
    fn drop(&mut self) {
        self.shared.shutdown.trigger();
        self.shared.replicator.stop();
        self.server.unblock();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
        let deadline = Instant::now() + HANDLER_GRACE;
        for handler in std::mem::take(&mut *lock(&self.shared.handlers)) {
            while !handler.is_finished() && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(5));
            }
            if handler.is_finished() {
                let _ = handler.join();
            }
        }
        let never_fired = lock(&self.shared.scripts).never_fired();
        if !never_fired.is_empty() && !thread::panicking() {
            panic!(
                "the double was dropped with scripted replies no request used: {}",
                never_fired.join("; ")
            );
        }
    }
}

fn direct_call(params: Vec<(String, String)>, now: i64) -> Call {
    Call {
        params,
        replication: false,
        format: Format::Json,
        detail: Detail::Full,
        gzip: false,
        now,
    }
}

/// A listener on 127.0.0.1:`port` whose connections send each write at once (`TCP_NODELAY`, which
/// accepted sockets inherit on Linux): tiny_http writes an answer's head and body apart, and a
/// small body would otherwise wait for the client's delayed ACK of the head, 40 ms on a
/// kept-alive connection (a poll a second of a hook on virtual time would spend its real time
/// there).
fn listener(port: u16) -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.set_tcp_nodelay(true)?;
    socket.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, port)).into())?;
    socket.listen(128)?;
    Ok(socket.into())
}

fn spawn(name: &str, work: impl FnOnce() + Send + 'static) -> io::Result<JoinHandle<()>> {
    thread::Builder::new().name(name.to_owned()).spawn(work)
}

fn accept_requests(server: &Server, shared: &Arc<Shared>) {
    // `recv` fails once `unblock` was called (or the listener died).
    while let Ok(request) = server.recv() {
        if shared.shutdown.is_triggered() {
            break;
        }
        let for_handler = Arc::clone(shared);
        if let Ok(handler) = spawn("eureka-double-request", move || {
            answer(&for_handler, request)
        }) {
            let mut handlers = lock(&shared.handlers);
            handlers.retain(|running| !running.is_finished());
            handlers.push(handler);
        }
    }
}

/// Records the request, decides the reply and sends it. A hanging request is dropped only when
/// the double stops (tiny_http then answers 500 on its own).
fn answer(shared: &Shared, mut request: tiny_http::Request) {
    let at = Instant::now();
    let method = request.method().as_str().to_owned();
    let target = request.url().to_owned();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|header| {
            (
                header.field.as_str().as_str().to_owned(),
                header.value.as_str().to_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    // A body cut short is handled as whatever part of it arrived.
    let _ = request.as_reader().read_to_end(&mut body);
    let body = String::from_utf8_lossy(&body).into_owned();
    let (path, query) = uri::split(&target);
    let sequence = lock(&shared.log).record(RecordedRequest {
        method: method.clone(),
        path: path.to_owned(),
        query: query.map(str::to_owned),
        headers: headers.clone(),
        body: body.clone(),
        status: 0,
        response_body_bytes: 0,
        at,
        epoch_ms: shared.time.now_ms(),
        client: request.remote_addr().copied(),
    });
    let api_request = ApiRequest {
        method: &method,
        target: &target,
        headers: &headers,
        body: &body,
    };
    let Some(reply) = decide(shared, &api_request) else {
        return;
    };
    lock(&shared.log).answered(sequence, reply.status, reply.body.len());
    let replicated = api_request.header("x-netflix-discovery-replication") == Some("true");
    if Write::replicable(&method, reply.status, replicated) {
        shared.replicator.send_on(Write {
            method: method.clone(),
            target: target.clone(),
            content_type: api_request.header("Content-Type").map(str::to_owned),
            body: body.clone(),
        });
    }
    let _ = request.respond(into_response(reply));
}

/// `None` when the request must not be answered (a hang, or the double stopping meanwhile).
fn decide(shared: &Shared, request: &ApiRequest) -> Option<Reply> {
    let scripted = lock(&shared.scripts).take(request.method, request.target);
    if let Some((delay, outcome)) = scripted {
        if !delay.is_zero() && shared.shutdown.wait(delay) {
            return None;
        }
        match outcome {
            Outcome::Normal => {}
            Outcome::Respond(reply) => return Some(reply),
            Outcome::Hang => {
                shared.shutdown.wait_forever();
                return None;
            }
        }
    }
    let now = shared.time.now_ms();
    let (path, _) = uri::split(request.target);
    if uri::has_encoded_slash(path) {
        return Some(Reply::empty(400));
    }
    let authorization = request.header("Authorization");
    if let Some(rejection) = shared
        .security
        .reject(request.method, path, authorization, now)
    {
        return Some(rejection);
    }
    let (mut registry, now) = shared.registry();
    Some(api::handle(&mut registry, shared.flavour, request, now))
}

fn into_response(reply: Reply) -> Response<io::Cursor<Vec<u8>>> {
    let mut response = Response::from_data(reply.body)
        .with_status_code(reply.status)
        // Always a Content-Length, never chunked, whatever the size.
        .with_chunked_threshold(usize::MAX);
    for (name, value) in &reply.headers {
        if let Ok(header) = Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            response.add_header(header);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FaultPeer;

    #[test]
    fn doubles_and_fault_peers_can_be_shared_with_other_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<EurekaDouble>();
        shareable::<FaultPeer>();
    }
}
