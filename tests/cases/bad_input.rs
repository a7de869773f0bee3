use std::time::Duration;

use crate::support::*;

/// One bad invocation: its arguments, its environment, and the flag or variable the error must name.
struct BadCase {
    args: &'static [&'static str],
    vars: &'static [(&'static str, &'static str)],
    names: &'static str,
}

const fn case(
    args: &'static [&'static str],
    vars: &'static [(&'static str, &'static str)],
    names: &'static str,
) -> BadCase {
    BadCase { args, vars, names }
}

const CASES: &[BadCase] = &[
    case(&["prestop", "--app", APP, "--bogus"], &[], "--bogus"),
    case(&["prestop"], &[], "--app"),
    case(&["prestop", "--app", ""], &[], "--app"),
    case(&["prestop"], &[("EUREKA_APP", "")], "EUREKA_APP"),
    case(&["prestop", "--app", APP, "--port", "0"], &[], "--port"),
    case(
        &["prestop", "--app", APP],
        &[("SERVER_PORT", "65536")],
        "SERVER_PORT",
    ),
    case(&["prestop", "--app", APP, "--drain", "-5s"], &[], "--drain"),
    case(
        &["prestop", "--app", APP],
        &[("EUREKA_HOOK_DRAIN", "soon")],
        "EUREKA_HOOK_DRAIN",
    ),
    case(
        &["prestop", "--app", APP, "--eureka-url", "ftp://eureka/"],
        &[],
        "--eureka-url",
    ),
    case(
        &["prestop", "--app", APP],
        &[("EUREKA_URL", "http:///eureka/")],
        "EUREKA_URL",
    ),
    case(
        &["prestop", "--app", APP],
        &[("EUREKA_URL", "http://user@host/eureka/")],
        "without a password",
    ),
];

#[test]
fn bad_input_is_rejected_before_any_request_and_without_a_drain() {
    let double = registry_with_instance();
    for BadCase { args, vars, names } in CASES {
        let mut command = hook(args).env("EUREKA_URL", double.base_url());
        for (name, value) in *vars {
            command = command.env(name, *value);
        }
        command
            .run()
            .assert_code(2)
            .assert_stderr_contains(names)
            .assert_took_less_than(Duration::from_secs(5));
    }
    assert!(
        double.requests().is_empty(),
        "bad input sent {:?}",
        double.requests()
    );
}
