//! End-to-end tests: the real `eureka-hook` binary against the in-process Eureka server double.
#![allow(clippy::unwrap_used)]

/// Running the binary and checking what it printed.
mod support;

/// One module per subject; each test names the behaviour it proves.
mod cases;
