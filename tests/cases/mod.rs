//! The end-to-end cases, one module per subject.

/// prestop: marking OUT_OF_SERVICE, peers, the instanceId fallback, the drain, signals.
mod prestop;

/// The pod's own inbound traffic during the drain: the report, --ignore-source, --until-quiet.
mod inbound;

/// The instance id as Spring Cloud builds it, on every hook; the fallbacks and diagnoses around it.
mod identity;

/// No app name: each hook finds this pod's instance in the whole registry by its address and port.
mod unnamed;

/// poststart: waiting for registration and clearing stale overrides.
mod poststart;

/// poststart's fast return (DELETE …/status?value=UP) and each guard that refuses it.
mod fast_return;

/// status: what each peer says, for a person.
mod status;

/// Bad input is rejected with exit 2 before any request.
mod bad_input;

/// The static musl release binary in an empty root.
mod static_binary;

/// The release files in dist/: checksums and the crate list each binary carries.
mod dist;

/// The image, for each platform, built from the Dockerfile and run against the double.
mod image;

/// Every fault a registry can show: bounded time, the drain held, the right exit code, no secret shown.
mod faults;

/// A Eureka client library we did not write registers against the double; the hook drains it.
mod real_client;

/// The pod specs in examples/ run as written.
mod examples;

/// The eureka-hook command lines in README.md's code blocks run as written, as dry runs.
mod readme;

/// --log-file and --log-format.
mod logging;

/// The kubelet's order on termination: OUT_OF_SERVICE, drain, then SIGTERM, within the grace period.
mod kubelet;

/// At least 60 inputs as real pods give them (spellings, empties, encodings, passwords, files,
/// signals, odd servers), each on every hook, in both log formats, checked for passwords.
mod real_world;

/// A seeded hostile server against every hook: no answer may crash a hook, hang it, skip the
/// drain, print a secret or a raw control character.
mod hostile;

/// Issue 14's answers, races and drain as a user hits them: no answer panics a hook or storms a
/// peer, a login page is no mark, registry text forges no line.
mod robust;
