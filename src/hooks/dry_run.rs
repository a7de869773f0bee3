//! --dry-run: print the requests a hook would send to each peer, from the flow's own plan; send
//! nothing and sleep not at all.

use std::fmt::Write as _;
use std::io::Write;

use anyhow::{Context, Result};

use super::plan::Plan;
use super::{poststart, prestop, status};
use crate::settings::{Hook, Peer, Settings};

/// Prints what the hook would send, sends nothing and sleeps not at all.
pub fn dry_run(settings: &Settings, out: &mut dyn Write) -> Result<()> {
    let plan = match &settings.hook {
        Hook::Prestop { drain, watch } => prestop::plan(settings, *drain, *watch),
        Hook::Poststart { wait, strict } => poststart::plan(settings, *wait, *strict),
        Hook::Status => status::plan(settings),
    };
    let text = render(
        &plan,
        &settings.identity.explain(),
        &settings.registry.peers,
    );
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("writing the dry-run plan to stdout")
}

fn render(plan: &Plan, identity: &str, peers: &[Peer]) -> String {
    let mut text = format!("dry run: nothing is sent\n{identity}\n");
    // Writing to a String cannot fail, hence the ignored results.
    for peer in peers {
        let auth = peer
            .credentials()
            .map(|credentials| format!("  [Authorization: Basic {}:***]", credentials.username))
            .unwrap_or_default();
        for planned in &plan.requests {
            if let Some(when) = planned.when {
                let _ = write!(text, "  {when}: ");
            }
            let mut headers = String::new();
            for (name, value) in planned.request.extra_headers() {
                let _ = write!(headers, "  [{name}: {value}]");
            }
            let _ = writeln!(
                text,
                "{} {}{auth}{headers}{}",
                planned.request.verb().method(),
                planned.request.url(&peer.url),
                planned.note
            );
        }
    }
    if let Some(afterwards) = &plan.afterwards {
        let _ = writeln!(text, "{afterwards}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::test_support::settings_for;

    fn printed(args: &[&str]) -> String {
        let settings = settings_for("http://u:pw@eureka:8761/eureka/", args);
        let mut out = Vec::new();
        dry_run(&settings, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    const TWO_IDS: &str = "instance id pod-0:demo:8080 or pod-0:demo, built as Spring Cloud \
        does: neither SPRING_APPLICATION_INSTANCE_ID nor SERVER_PORT is set, so the index is \
        server.port from the app's own config file, or missing; both are tried; host pod-0: the \
        kernel hostname (this machine has no non-loopback IPv4 address)";

    #[test]
    fn prestop_plan_names_the_listing_the_puts_the_watch_and_how_the_drain_ends() {
        assert_eq!(
            printed(&[
                "prestop",
                "--app",
                "demo",
                "--drain",
                "100s",
                "--after-propagation",
                "70s"
            ]),
            format!(
                "dry run: nothing is sent\n{TWO_IDS}\n\
                 GET http://eureka:8761/eureka/apps/DEMO  [Authorization: Basic u:***]  [X-Eureka-Accept: compact]  [Accept-Encoding: gzip]  (before the mark: puts the listing in the response cache; on 404, this pod's instance is looked for in it)\n\
                 PUT http://eureka:8761/eureka/apps/DEMO/pod-0:demo:8080/status?value=OUT_OF_SERVICE  [Authorization: Basic u:***]\n\
                 PUT http://eureka:8761/eureka/apps/DEMO/pod-0:demo/status?value=OUT_OF_SERVICE  [Authorization: Basic u:***]\n\
                 \x20 during the drain, where accepted: GET http://eureka:8761/eureka/apps/DEMO  [Authorization: Basic u:***]  [X-Eureka-Accept: compact]  [Accept-Encoding: gzip]  (every 1s until the instance shows OUT_OF_SERVICE or is gone)\n\
                 \x20 if the instance is still listed: GET http://eureka:8761/eureka/apps/DEMO/pod-0:demo:8080  [Authorization: Basic u:***]  (35s after the mark: its live record; if the override is gone, the PUT once more)\n\
                 then hold the pod for at most 1m 40s (drain), ending 1m 10s after the last peer shows OUT_OF_SERVICE (--after-propagation); the full 1m 40s if a peer cannot be watched or is marked again\n"
            )
        );
        let plan = printed(&["prestop", "--app", "demo", "--server-cache", "5s"]);
        assert!(plan.contains("(10s after the mark"), "{plan}");
        assert!(
            plan.ends_with("then hold the pod for 30s (drain)\n"),
            "{plan}"
        );
    }

    #[test]
    fn prestop_plan_without_a_drain_is_the_puts_and_the_listing_after_a_404() {
        assert_eq!(
            printed(&["prestop", "--app", "demo", "--drain", "0s"]),
            format!(
                "dry run: nothing is sent\n{TWO_IDS}\n\
                 PUT http://eureka:8761/eureka/apps/DEMO/pod-0:demo:8080/status?value=OUT_OF_SERVICE  [Authorization: Basic u:***]\n\
                 PUT http://eureka:8761/eureka/apps/DEMO/pod-0:demo/status?value=OUT_OF_SERVICE  [Authorization: Basic u:***]\n\
                 \x20 on 404: GET http://eureka:8761/eureka/apps/DEMO  [Authorization: Basic u:***]  [X-Eureka-Accept: compact]  [Accept-Encoding: gzip], to find this pod's instance by host and port\n\
                 then hold the pod for 0s (drain)\n"
            )
        );
    }

    #[test]
    fn poststart_and_status_plans_read_the_instance() {
        let args = ["--app", "demo", "--instance-id", "web-1"];
        assert_eq!(
            printed(&[&["poststart", "--wait", "10s", "--strict"][..], &args].concat()),
            "dry run: nothing is sent\n\
             instance id web-1 from --instance-id; host pod-0: the kernel hostname (this machine has no non-loopback IPv4 address)\n\
             GET http://eureka:8761/eureka/apps/DEMO/web-1  [Authorization: Basic u:***]  (every 1s until registered)\n\
             \x20 if no id is registered: GET http://eureka:8761/eureka/apps/DEMO  [Authorization: Basic u:***]  [X-Eureka-Accept: compact]  [Accept-Encoding: gzip], to find this pod's instance by host and port\n\
             \x20 then, if the instance carries a status override: DELETE http://eureka:8761/eureka/apps/DEMO/web-1/status  [Authorization: Basic u:***]\n\
             waiting at most 10s for the instance to register (strict: failures exit non-zero)\n"
        );
        assert_eq!(
            printed(&["status", "--app", "demo"]),
            format!(
                "dry run: nothing is sent\n{TWO_IDS}\n\
                 GET http://eureka:8761/eureka/apps/DEMO/pod-0:demo:8080  [Authorization: Basic u:***]\n\
                 GET http://eureka:8761/eureka/apps/DEMO/pod-0:demo  [Authorization: Basic u:***]\n\
                 \x20 if no id is registered: GET http://eureka:8761/eureka/apps/DEMO  [Authorization: Basic u:***]  [X-Eureka-Accept: compact]  [Accept-Encoding: gzip], to find this pod's instance by host and port\n"
            )
        );
    }
}
