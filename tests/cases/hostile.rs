//! A hostile-server fuzzer: every hook against a small raw-TCP server whose answers come from a
//! seeded random generator (status lines, `Retry-After`, `Content-Length`, `Content-Encoding` and
//! other headers; bodies that are Eureka's, another service's, garbage, truncated or huge; a slow
//! drip, an early close, silence).
//!
//! Every case checks the same invariants, whatever the server did: no panic, a documented exit
//! code (0 to 4), the run ended within the documented bound, prestop held its drain, the sentinel
//! password in the URL shows in no output, no output line holds a raw control character, and no
//! peer got more than [`MOST_REQUESTS_PER_RUN`] requests. A fixed set of seeds runs in every
//! `cargo test`; `EUREKA_HOOK_FUZZ_CASES=N` runs N seeds from `EUREKA_HOOK_FUZZ_SEED` (default
//! [`FIXED_SEEDS`]' end) instead, and prints every failing seed.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::support::*;

/// Seeds every `cargo test` runs: each one is three hook runs, in parallel (odd seeds with no app
/// name).
const FIXED_SEEDS: std::ops::Range<u64> = 0..12;
/// `--request-timeout` of every run.
const TIMEOUT: Duration = Duration::from_millis(600);
/// `--drain` of prestop and `--wait` of poststart.
const DRAIN: Duration = Duration::from_millis(200);
/// Process start and scheduling with a dozen hooks at once on two loaded cores.
const SLACK: Duration = Duration::from_secs(3);
/// The password in every run's URL; it must show in no output.
const PASSWORD: &str = "Hostile-Sentinel-Pw-93c1";
/// How many hooks run at once.
const PARALLEL: usize = 12;
/// A peer's requests in one run: the phases' requests (each at most
/// `MOST_ATTEMPTS_PER_REQUEST`), both candidate ids, the fallback and the watch. Far below what a
/// retry storm sends.
const MOST_REQUESTS_PER_RUN: usize = 40;
/// The most any answer takes to deliver; the hooks give up long before.
const LONGEST_DELIVERY: Duration = Duration::from_millis(1500);

#[test]
fn hooks_keep_their_promises_whatever_a_hostile_server_answers() {
    let seeds: Vec<u64> = match std::env::var("EUREKA_HOOK_FUZZ_CASES") {
        Ok(count) if !count.is_empty() => {
            let count: u64 = count
                .parse()
                .expect("EUREKA_HOOK_FUZZ_CASES must be a number of cases");
            let first: u64 = std::env::var("EUREKA_HOOK_FUZZ_SEED")
                .ok()
                .filter(|seed| !seed.is_empty())
                .map_or(FIXED_SEEDS.end, |seed| {
                    seed.parse()
                        .expect("EUREKA_HOOK_FUZZ_SEED must be a number")
                });
            (first..first + count).collect()
        }
        _ => FIXED_SEEDS.collect(),
    };
    let started = Instant::now();
    let cases: Vec<(u64, HookKind)> = seeds
        .iter()
        .flat_map(|seed| HookKind::ALL.map(|kind| (*seed, kind)))
        .collect();
    let mut failures = Vec::new();
    for batch in cases.chunks(PARALLEL) {
        let handles: Vec<_> = batch
            .iter()
            .map(|&(seed, kind)| thread::spawn(move || (seed, kind, run_case(seed, kind))))
            .collect();
        for handle in handles {
            let (seed, kind, problems) = handle.join().unwrap();
            failures.extend(
                problems
                    .into_iter()
                    .map(|problem| format!("seed {seed} {}: {problem}", kind.name())),
            );
        }
    }
    eprintln!(
        "hostile-fuzz: {} cases ({} seeds x 3 hooks) in {} ms, {} failure(s)",
        cases.len(),
        seeds.len(),
        started.elapsed().as_millis(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "the hooks broke a promise:\n{}",
        failures.join("\n\n")
    );
}

#[derive(Clone, Copy, Debug)]
enum HookKind {
    Prestop,
    Poststart,
    Status,
}

impl HookKind {
    const ALL: [HookKind; 3] = [HookKind::Prestop, HookKind::Poststart, HookKind::Status];

    fn name(self) -> &'static str {
        match self {
            HookKind::Prestop => "prestop",
            HookKind::Poststart => "poststart",
            HookKind::Status => "status",
        }
    }

    /// The documented bound: three request timeouts on the registry, then the drain or wait;
    /// with no app name, one more for the look-up.
    fn bound(self, named: bool) -> Duration {
        let look_up = if named { Duration::ZERO } else { TIMEOUT };
        3 * TIMEOUT + look_up + DRAIN + SLACK
    }

    /// The hook's command line; with no app name when not `named`.
    fn command(self, url: &str, named: bool) -> Hook {
        let timeout = format!("{}ms", TIMEOUT.as_millis());
        let window = format!("{}ms", DRAIN.as_millis());
        let mut args = vec![self.name(), "--request-timeout", &timeout];
        if named {
            args.extend(["--app", APP]);
        }
        match self {
            HookKind::Prestop => args.extend(["--drain", &window]),
            HookKind::Poststart => args.extend(["--wait", &window]),
            HookKind::Status => {}
        }
        args.extend(["--eureka-url", url]);
        hook(&args).env("SERVER_PORT", "8080")
    }
}

/// Runs `kind` against a hostile server seeded with `seed`; returns every broken promise.
fn run_case(seed: u64, kind: HookKind) -> Vec<String> {
    let server = HostileServer::start(seed);
    let url = server
        .base_url()
        .replace("://", &format!("://eureka:{PASSWORD}@"));
    // Odd seeds run with no app name: the look-up in the whole registry meets the same server.
    let named = seed.is_multiple_of(2);
    let running = kind.command(&url, named).spawn();
    // `wait` checks for the password and a panic itself: its failure is a broken promise too.
    let outcome = match catch_unwind(AssertUnwindSafe(|| running.wait())) {
        Ok(outcome) => outcome,
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|text| text.to_string()))
                .unwrap_or_default();
            return vec![format!("{message}\nserver log: {:?}", server.log())];
        }
    };
    let mut problems = Vec::new();
    let mut broken = |promise: &str| {
        problems.push(format!(
            "{promise}: exit {:?} after {:?}\nserver log: {:?}\n--- stdout\n{}--- stderr\n{}---",
            outcome.code,
            outcome.elapsed,
            server.log(),
            outcome.stdout,
            outcome.stderr
        ));
    };
    if !matches!(outcome.code, Some(0..=4)) {
        broken("an exit code outside 0-4 (134 or 101 is a panic)");
    }
    if outcome.elapsed >= kind.bound(named) {
        broken(&format!("ran past its bound of {:?}", kind.bound(named)));
    }
    if matches!(kind, HookKind::Prestop) && outcome.code != Some(2) && outcome.elapsed < DRAIN {
        broken("prestop ended before its drain");
    }
    if let Some(line) = outcome
        .stdout
        .lines()
        .chain(outcome.stderr.lines())
        .find(|line| line.chars().any(char::is_control))
    {
        broken(&format!("a raw control character in the line {line:?}"));
    }
    if server.requests() > MOST_REQUESTS_PER_RUN {
        broken(&format!(
            "{} requests to one peer (at most {MOST_REQUESTS_PER_RUN})",
            server.requests()
        ));
    }
    problems
}

/// A raw-TCP server whose answer to each request comes from `seed`, the request's method and path,
/// and how many times that request came before; it logs what it answered.
struct HostileServer {
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    requests: Arc<AtomicUsize>,
    log: Arc<Mutex<Vec<String>>>,
    acceptor: Option<JoinHandle<()>>,
}

impl HostileServer {
    fn start(seed: u64) -> HostileServer {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        let stopping = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(AtomicUsize::new(0));
        let log = Arc::new(Mutex::new(Vec::new()));
        let acceptor = thread::spawn({
            let (stopping, requests, log) = (stopping.clone(), requests.clone(), log.clone());
            move || {
                let seen = Arc::new(Mutex::new(HashMap::<String, u64>::new()));
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (requests, log, seen) = (requests.clone(), log.clone(), seen.clone());
                    thread::spawn(move || serve(stream, seed, &requests, &log, &seen));
                }
            }
        });
        HostileServer {
            addr,
            stopping,
            requests,
            log,
            acceptor: Some(acceptor),
        }
    }

    fn base_url(&self) -> String {
        format!("http://{}/eureka/", self.addr)
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// Reads one request's head and sends the seeded answer to it.
fn serve(
    mut stream: TcpStream,
    seed: u64,
    requests: &AtomicUsize,
    log: &Mutex<Vec<String>>,
    seen: &Mutex<HashMap<String, u64>>,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut head = Vec::new();
    let mut buffer = [0u8; 4096];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") && head.len() < 65536 {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(read) => head.extend_from_slice(&buffer[..read]),
        }
    }
    let request_line = String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    let key: String = request_line
        .split(' ')
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    let nth = {
        let mut seen = seen.lock().unwrap();
        let count = seen.entry(key.clone()).or_default();
        *count += 1;
        *count
    };
    requests.fetch_add(1, Ordering::SeqCst);
    // A third of the servers answer a request the same way every time, as a broken proxy does:
    // that is what turns a retry policy into a storm.
    let occurrence = if seed.is_multiple_of(3) { 1 } else { nth };
    let mut rng = fastrand::Rng::with_seed(mix(seed, &key, occurrence));
    let reply = Reply::generate(&mut rng);
    log.lock()
        .unwrap()
        .push(format!("{key} #{nth}: {}", reply.summary()));
    reply.deliver(&mut stream);
}

/// One seed per (seed, request, occurrence), stable across runs.
fn mix(seed: u64, key: &str, nth: u64) -> u64 {
    let mut hash = seed ^ 0x9e37_79b9_7f4a_7c15;
    for byte in key.bytes().chain(nth.to_le_bytes()) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// How an answer's bytes reach the hook.
#[derive(Debug, Clone, Copy)]
enum Delivery {
    /// All at once, then the connection stays open for a while (a short body hangs the reader).
    Whole { linger_ms: u64 },
    /// A few bytes at a time.
    Drip { chunk: usize, pause_ms: u64 },
    /// Only the first bytes, then the connection closes.
    CutAfter(usize),
    /// Nothing at all for a while.
    Silent { ms: u64 },
}

struct Reply {
    head: String,
    body: Vec<u8>,
    delivery: Delivery,
    description: String,
}

impl Reply {
    fn generate(rng: &mut fastrand::Rng) -> Reply {
        let status = pick(
            rng,
            &[
                200, 200, 200, 200, 204, 201, 301, 302, 400, 401, 403, 404, 404, 409, 429, 500,
                502, 503, 503, 503, 504, 599, 100, 199, 600, 999,
            ],
        );
        let (body_kind, body) = body(rng);
        let mut body = body;
        let mut headers = Vec::new();
        let mut description = format!("{status} {body_kind} ({} bytes)", body.len());
        if rng.u8(0..3) == 0 || status >= 500 {
            let value = pick(
                rng,
                &[
                    "0",
                    "1",
                    "2",
                    "7",
                    "120",
                    "86400",
                    "4294967296",
                    "18446744073709551615",
                    "99999999999999999999",
                    "-5",
                    "1.5",
                    "Wed, 21 Oct 2015 07:28:00 GMT",
                    "soon",
                ],
            );
            description.push_str(&format!(" Retry-After: {value}"));
            headers.push(format!("Retry-After: {value}"));
        }
        headers.push(format!(
            "Content-Type: {}",
            pick(
                rng,
                &[
                    "application/json",
                    "application/json;charset=UTF-8",
                    "text/html",
                    "application/xml",
                    "text/plain",
                ]
            )
        ));
        match rng.u8(0..8) {
            0 => {
                body = gzip(&body);
                headers.push("Content-Encoding: gzip".into());
                description.push_str(" gzip");
            }
            1 => {
                let encoding = pick(rng, &["gzip", "br", "deflate", "gzip, gzip", "x\u{7f}"]);
                headers.push(format!("Content-Encoding: {encoding}"));
                description.push_str(&format!(" Content-Encoding: {encoding} (body plain)"));
            }
            _ => {}
        }
        let length = match rng.u8(0..10) {
            0 => Some((body.len() + rng.usize(1..100_000)).to_string()),
            1 => Some(body.len().saturating_sub(rng.usize(1..50)).to_string()),
            2 => Some(pick(rng, &["abc", "-1", "99999999999999999999999", "1, 2"]).to_string()),
            3 => None,
            _ => Some(body.len().to_string()),
        };
        if let Some(length) = length {
            description.push_str(&format!(" Content-Length: {length}"));
            headers.push(format!("Content-Length: {length}"));
        }
        if rng.bool() {
            headers.push("Connection: close".into());
        }
        if (300..400).contains(&status) || rng.u8(0..10) == 0 {
            headers.push(format!(
                "Location: {}",
                pick(
                    rng,
                    &[
                        "http://elsewhere.invalid/eureka/",
                        "/login",
                        "http://user:pass@elsewhere.invalid/",
                        "",
                    ]
                )
            ));
        }
        if rng.u8(0..10) == 0 {
            headers.push(format!("X-Filler: {}", "f".repeat(rng.usize(1..20_000))));
        }
        let status_line = match rng.u8(0..30) {
            0 => "HTTP/1.1 OK\r\n".to_string(),
            1 => "NOT-HTTP\r\n".to_string(),
            2 => format!("HTTP/1.0 {status} Whatever\r\n"),
            _ => format!("HTTP/1.1 {status} Reason\r\n"),
        };
        let head = format!("{status_line}{}\r\n\r\n", headers.join("\r\n"));
        let delivery = match rng.u8(0..12) {
            0 => Delivery::Drip {
                chunk: rng.usize(1..64),
                pause_ms: rng.u64(5..60),
            },
            1 => Delivery::CutAfter(rng.usize(0..head.len() + body.len() + 1)),
            2 => Delivery::Silent {
                ms: rng.u64(0..1500),
            },
            _ => Delivery::Whole {
                linger_ms: pick(rng, &[0, 0, 0, 50, 800]),
            },
        };
        description.push_str(&format!(" {delivery:?}"));
        Reply {
            head,
            body,
            delivery,
            description,
        }
    }

    fn summary(&self) -> &str {
        &self.description
    }

    fn deliver(&self, stream: &mut TcpStream) {
        let mut bytes = self.head.clone().into_bytes();
        bytes.extend_from_slice(&self.body);
        let started = Instant::now();
        match self.delivery {
            Delivery::Whole { linger_ms } => {
                let _ = stream.write_all(&bytes);
                thread::sleep(Duration::from_millis(linger_ms));
            }
            Delivery::Drip { chunk, pause_ms } => {
                for piece in bytes.chunks(chunk) {
                    if stream.write_all(piece).is_err() || started.elapsed() > LONGEST_DELIVERY {
                        break;
                    }
                    thread::sleep(Duration::from_millis(pause_ms));
                }
            }
            Delivery::CutAfter(cut) => {
                let _ = stream.write_all(&bytes[..cut.min(bytes.len())]);
            }
            Delivery::Silent { ms } => thread::sleep(Duration::from_millis(ms)),
        }
    }
}

fn pick<T: Clone>(rng: &mut fastrand::Rng, items: &[T]) -> T {
    items[rng.usize(0..items.len())].clone()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A body of a random kind, named.
fn body(rng: &mut fastrand::Rng) -> (&'static str, Vec<u8>) {
    match rng.u8(0..14) {
        0..=2 => (
            "instance",
            json!({ "instance": instance(rng) }).to_string().into_bytes(),
        ),
        3..=4 => {
            let instances: Vec<Value> = (0..rng.usize(0..4)).map(|_| instance(rng)).collect();
            (
                "application",
                json!({"application": {"name": "DEMO-SERVICE", "instance": instances}})
                    .to_string()
                    .into_bytes(),
            )
        }
        5 => {
            let applications: Vec<Value> = (0..rng.usize(0..3))
                .map(|_| {
                    let name = ["DEMO-SERVICE", "", "A\u{1b}[31m", "ORDERS"][rng.usize(0..4)];
                    let instances: Vec<Value> =
                        (0..rng.usize(0..3)).map(|_| instance(rng)).collect();
                    json!({"name": name, "instance": instances})
                })
                .collect();
            (
                "applications",
                json!({"applications": {"versions__delta": "1", "apps__hashcode": "",
                    "application": applications}})
                .to_string()
                .into_bytes(),
            )
        }
        6 => (
            "empty",
            Vec::new(),
        ),
        7 => (
            "html",
            b"<!DOCTYPE html><html><head><title>Sign in</title></head><body><form action=\"/login\">\
              </form></body></html>"
                .to_vec(),
        ),
        8 => (
            "spring-error",
            br#"{"timestamp":"2026-12-01T00:00:00.000+00:00","status":404,"error":"Not Found","path":"/x"}"#
                .to_vec(),
        ),
        9 => (
            "xml",
            b"<?xml version=\"1.0\"?><instance><instanceId>pod-0:demo-service:8080</instanceId>\
              <status>UP</status></instance>"
                .to_vec(),
        ),
        10 => {
            let length = rng.usize(1..2000);
            ("garbage", (0..length).map(|_| rng.u8(..)).collect())
        }
        11 => ("huge", vec![b' '; 4 * 1024 * 1024 + rng.usize(1..1000)]),
        12 => (
            "other-json",
            br#"{"status":"UP","components":{"db":{"status":"UP"}},"message":"\u001b[31mred\n"}"#
                .to_vec(),
        ),
        _ => {
            let text = json!({ "instance": instance(rng) }).to_string();
            let cut = rng.usize(0..text.len());
            ("truncated-instance", text.as_bytes()[..cut].to_vec())
        }
    }
}

/// A Eureka instance record, with fields a real server writes and some it never would.
fn instance(rng: &mut fastrand::Rng) -> Value {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let timestamp = |rng: &mut fastrand::Rng| -> Value {
        match rng.u8(0..10) {
            0 => json!(now_ms.saturating_mul(1000)),
            1 => json!(u64::MAX),
            2 => json!(253_402_300_800_000u64),
            3 => json!(i64::MAX.to_string()),
            4 => json!(-1),
            5 => json!("soon"),
            6 => json!(1.5e300),
            _ => json!(now_ms.to_string()),
        }
    };
    let status = |rng: &mut fastrand::Rng| {
        pick(
            rng,
            &[
                "UP",
                "DOWN",
                "OUT_OF_SERVICE",
                "STARTING",
                "UNKNOWN",
                "UP\u{1b}[2J",
            ],
        )
    };
    json!({
        "instanceId": pick(rng, &[
            DEFAULT_ID, DEFAULT_ID, DEFAULT_ID, "pod-0:demo-service",
            "forged\neureka-hook: info: all good", "pod-0:demo-service:8080\u{1b}[31m",
        ]),
        "hostName": pick(rng, &["pod-0", "pod-0", "other-pod", "pod-0\r\u{7}"]),
        "app": "DEMO-SERVICE",
        "ipAddr": "10.0.0.7",
        "status": status(rng),
        "overriddenStatus": status(rng),
        "port": pick(rng, &[json!({"$": 8080, "@enabled": "true"}), json!(8080), json!(70000), json!("x")]),
        "lastUpdatedTimestamp": timestamp(rng),
        "lastDirtyTimestamp": timestamp(rng),
    })
}
