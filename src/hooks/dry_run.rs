//! --dry-run: print the requests a hook would send to each peer, from the flow's own plan; send
//! nothing and sleep not at all.

use std::fmt::Write as _;
use std::io::Write;

use anyhow::{Context, Result};

use super::locate::by_address::sought;
use super::plan::{Plan, PlannedRequest};
use super::requests::clients_registry;
use super::{poststart, prestop, status};
use crate::settings::{Hook, Peer, Settings, Unnamed};
use crate::values::{AppName, InstanceId};

/// Prints what the hook would send, sends nothing and sleeps not at all.
pub fn dry_run(settings: &Settings, out: &mut dyn Write) -> Result<()> {
    print(&format!("{HEADING}{}", planned(settings)), out)
}

/// --dry-run with no app name: the registry look-up, then the hook's plan for the instance it
/// would find, its app and id shown as placeholders.
pub fn dry_run_unnamed(settings: Settings<Unnamed>, out: &mut dyn Write) -> Result<()> {
    let look_up = Plan {
        requests: vec![PlannedRequest::always(
            clients_registry(),
            "  (one peer after another, until one lists this pod's instance)",
        )],
        afterwards: None,
    };
    let sought = format!(
        "no app name: looking in the registry for {}",
        sought(&settings.identity)
    );
    let found = settings.identity.clone().found(
        AppName::placeholder_for_dry_run(),
        InstanceId::placeholder_for_dry_run(),
        "the one the look-up above finds".into(),
    );
    let look_up = render(&look_up, &sought, &settings.registry.peers);
    let named = settings.with(found);
    let text = format!(
        "{HEADING}{look_up}then, for the instance found:\n{}",
        planned(&named)
    );
    print(&text, out)
}

const HEADING: &str = "dry run: nothing is sent\n";

fn print(text: &str, out: &mut dyn Write) -> Result<()> {
    out.write_all(crate::log::escaped_lines(text).as_bytes())
        .and_then(|()| out.flush())
        .context("writing the dry-run plan to stdout")
}

/// The named hook's plan as text, with the identity it acts on.
fn planned(settings: &Settings) -> String {
    let mut text = render(
        &plan_of(settings),
        &settings.identity.explain(),
        &settings.registry.peers,
    );
    if let Hook::Prestop { drain, .. } = settings.hook
        && !drain.is_zero()
    {
        text += &crate::inbound::planned(settings.identity.pod.port.known(), &settings.inbound);
    }
    text
}

/// The chosen hook's plan.
fn plan_of(settings: &Settings) -> Plan<'_> {
    match &settings.hook {
        Hook::Prestop { drain, watch } => prestop::plan(settings, *drain, *watch),
        Hook::Poststart {
            wait,
            strict,
            fast_return,
        } => poststart::plan(settings, *wait, *strict, fast_return),
        Hook::Status => status::plan(settings),
    }
}

fn render(plan: &Plan, identity: &str, peers: &[Peer]) -> String {
    let mut text = format!("{identity}\n");
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
    use crate::clock::SystemClock;
    use crate::clock::fake::FakeClock;
    use crate::eureka::EurekaClient;
    use crate::hooks::test_support::settings_for;
    use eureka_double::{EurekaDouble, InstanceSpec};

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

    /// The fallback's listing, when the flow has not read it before.
    const LISTING_AFTER_404S: &str = "  if no id is registered: GET http://eureka:8761/eureka/apps/DEMO  [Authorization: Basic u:***]  [X-Eureka-Accept: compact]  [Accept-Encoding: gzip]  (to find the instance with this pod's host or address and port)\n";
    /// The fallback's check that the URL is a Eureka server's.
    const EUREKA_CHECK: &str = "  if no id is registered and every listing answers 404: GET http://eureka:8761/eureka/apps/delta  [Authorization: Basic u:***]  (once: whether the URL is a Eureka server's; without its /eureka/ path it is not)\n";
    const FOUND: &str = "  if no id is registered and the listing has this pod's instance: ";

    #[test]
    fn prestop_plan_names_the_listing_the_puts_the_fallback_the_watch_and_how_the_drain_ends() {
        let live_read = |id: &str| {
            format!(
                "  if marked and still listed: GET http://eureka:8761/eureka/apps/DEMO/{id}  [Authorization: Basic u:***]  (35s after the mark: its live record; if the override is gone, its PUT once more)\n"
            )
        };
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
                 GET http://eureka:8761/eureka/apps/DEMO  [Authorization: Basic u:***]  [X-Eureka-Accept: compact]  [Accept-Encoding: gzip]  (before the mark: puts the listing in the response cache; if no id is registered, this pod's instance is looked for in it)\n\
                 GET http://eureka:8761/eureka/apps/delta  [Authorization: Basic u:***]  [Accept-Encoding: gzip]  (before the mark: puts the delta, as Spring clients read it, in the response cache; the drain watches whichever of the two cost fewer bytes)\n\
                 PUT http://eureka:8761/eureka/apps/DEMO/pod-0:demo:8080/status?value=OUT_OF_SERVICE  [Authorization: Basic u:***]\n\
                 PUT http://eureka:8761/eureka/apps/DEMO/pod-0:demo/status?value=OUT_OF_SERVICE  [Authorization: Basic u:***]\n\
                 {FOUND}PUT http://eureka:8761/eureka/apps/DEMO/(found-id)/status?value=OUT_OF_SERVICE  [Authorization: Basic u:***]\n\
                 {EUREKA_CHECK}\
                 \x20 during the drain, where the listing is watched: GET http://eureka:8761/eureka/apps/DEMO  [Authorization: Basic u:***]  [X-Eureka-Accept: compact]  [Accept-Encoding: gzip]  (every 1s until the instance shows OUT_OF_SERVICE or is gone, then every 5s until the drain ends)\n\
                 \x20 during the drain, where the delta is watched: GET http://eureka:8761/eureka/apps/delta  [Authorization: Basic u:***]  [Accept-Encoding: gzip]  (every 1s until the instance shows OUT_OF_SERVICE or is gone, then every 5s until the drain ends)\n\
                 {}{}{}\
                 then hold the pod for at most 1m 40s (drain), ending 1m 10s after the last peer shows OUT_OF_SERVICE (--after-propagation); the full 1m 40s if a peer cannot be watched or is marked again\n\
                 \x20 during the drain: inbound TCP traffic to port 8080 watched (sock_diag, every 500ms or less often where a sample is slow), every source counted; who sent data after the mark is logged at the end\n",
                live_read("pod-0:demo:8080"),
                live_read("pod-0:demo"),
                live_read("(found-id)"),
            )
        );
        let plan = printed(&["prestop", "--app", "demo", "--server-cache", "5s"]);
        assert!(plan.contains("(10s after the mark"), "{plan}");
        assert!(
            plan.contains("then hold the pod for 30s (drain)\n"),
            "{plan}"
        );
        let plan = printed(&[
            "prestop",
            "--app",
            "demo",
            "--after-propagation",
            "20s",
            "--until-quiet",
            "5s",
            "--ignore-source",
            "10.0.0.0/8,fd00::1",
        ]);
        assert!(
            plan.ends_with(
                "  during the drain: inbound TCP traffic to port 8080 watched (sock_diag, every \
                 500ms or less often where a sample is slow), not counting 10.0.0.0/8, fd00::1; who sent data after the mark is logged \
                 at the end; the drain ends only after 5s without it (--until-quiet), never past \
                 --drain\n"
            ),
            "{plan}"
        );
    }

    #[test]
    fn prestop_plan_without_a_drain_is_the_puts_and_the_fallback_after_a_404() {
        assert_eq!(
            printed(&["prestop", "--app", "demo", "--drain", "0s"]),
            format!(
                "dry run: nothing is sent\n{TWO_IDS}\n\
                 PUT http://eureka:8761/eureka/apps/DEMO/pod-0:demo:8080/status?value=OUT_OF_SERVICE  [Authorization: Basic u:***]\n\
                 PUT http://eureka:8761/eureka/apps/DEMO/pod-0:demo/status?value=OUT_OF_SERVICE  [Authorization: Basic u:***]\n\
                 {LISTING_AFTER_404S}\
                 {FOUND}PUT http://eureka:8761/eureka/apps/DEMO/(found-id)/status?value=OUT_OF_SERVICE  [Authorization: Basic u:***]\n\
                 {EUREKA_CHECK}\
                 then hold the pod for 0s (drain)\n"
            )
        );
    }

    /// poststart's two ways of removing a stale override of `id`, each under its condition.
    fn removal(id: &str) -> String {
        format!(
            "  then, if registered with a stale status override, the record is this pod's, registered after PID 1 started, and the health check answers 2xx: DELETE http://eureka:8761/eureka/apps/DEMO/{id}/status?value=UP  [Authorization: Basic u:***]  (fast return: UP at once)\n\
             \x20 then, if registered with a stale status override and any guard refuses: DELETE http://eureka:8761/eureka/apps/DEMO/{id}/status  [Authorization: Basic u:***]\n"
        )
    }

    #[test]
    fn poststart_and_status_plans_read_the_instance_then_the_one_found_by_host_and_port() {
        let args = ["--app", "demo", "--instance-id", "web-1"];
        assert_eq!(
            printed(&[&["poststart", "--wait", "10s", "--strict"][..], &args].concat()),
            format!(
                "dry run: nothing is sent\n\
                 instance id web-1 from --instance-id; host pod-0: the kernel hostname (this machine has no non-loopback IPv4 address)\n\
                 GET http://eureka:8761/eureka/apps/DEMO/web-1  [Authorization: Basic u:***]  (every 1s until registered)\n\
                 {LISTING_AFTER_404S}\
                 {FOUND}GET http://eureka:8761/eureka/apps/DEMO/(found-id)  [Authorization: Basic u:***]\n\
                 {EUREKA_CHECK}\
                 {}{}\
                 health check for the fast return: GET the record's healthCheckUrl (only if on this pod), once, no credentials, within the request timeout\n\
                 waiting at most 10s for the instance to register (strict: failures exit non-zero)\n",
                removal("web-1"),
                removal("(found-id)"),
            )
        );
        let plan = printed(
            &[
                &["poststart", "--health-url", "http://127.0.0.1:8080/h"][..],
                &args,
            ]
            .concat(),
        );
        assert!(
            plan.contains(
                "health check for the fast return: GET http://127.0.0.1:8080/h from this pod"
            ),
            "{plan}"
        );
        let plan = printed(&[&["poststart", "--no-fast-return"][..], &args].concat());
        assert!(!plan.contains("value=UP"), "{plan}");
        assert!(
            plan.contains(
                "  then, if registered with a stale status override: DELETE http://eureka:8761/eureka/apps/DEMO/web-1/status  [Authorization: Basic u:***]\n"
            ) && plan.contains("fast return off"),
            "{plan}"
        );
        assert_eq!(
            printed(&["status", "--app", "demo"]),
            format!(
                "dry run: nothing is sent\n{TWO_IDS}\n\
                 GET http://eureka:8761/eureka/apps/DEMO/pod-0:demo:8080  [Authorization: Basic u:***]\n\
                 GET http://eureka:8761/eureka/apps/DEMO/pod-0:demo  [Authorization: Basic u:***]\n\
                 {LISTING_AFTER_404S}\
                 {FOUND}GET http://eureka:8761/eureka/apps/DEMO/(found-id)  [Authorization: Basic u:***]\n\
                 {EUREKA_CHECK}"
            )
        );
    }

    /// Runs the hook `args` choose against `double` (at `url`, its base or another path on it),
    /// and fails for any request it sent that its plan does not list, `(found-id)` read as
    /// `custom-7`. Returns what it sent.
    fn sent_only_what_the_plan_lists(
        double: &EurekaDouble,
        url: &str,
        args: &[&str],
    ) -> Vec<String> {
        let settings = settings_for(url, args);
        let planned: Vec<String> = plan_of(&settings)
            .requests
            .iter()
            .map(|planned| {
                let url = planned.request.url(&settings.registry.peers[0].url);
                let path = url.splitn(4, '/').nth(3).unwrap_or_default();
                let path = path.replace("(found-id)", "custom-7");
                format!("{} /{path}", planned.request.verb().method())
            })
            .collect();
        run_the_flow(&settings);
        let sent: Vec<String> = double
            .requests()
            .iter()
            .map(|request| match &request.query {
                Some(query) => format!("{} {}?{query}", request.method, request.path),
                None => format!("{} {}", request.method, request.path),
            })
            .collect();
        for request in &sent {
            assert!(
                planned.contains(request),
                "{args:?} sent {request}, which its plan does not list: {planned:#?}"
            );
        }
        double.clear_requests();
        sent
    }

    /// The flow `settings` choose, against the registry, without waiting; a failure is fine.
    fn run_the_flow(settings: &Settings) {
        let client = EurekaClient::new(None, &SystemClock);
        let _ = match &settings.hook {
            Hook::Prestop { drain, watch } => {
                let clock: &'static FakeClock = Box::leak(Box::new(
                    FakeClock::new().signal_at(std::time::Duration::ZERO),
                ));
                let client = EurekaClient::new(None, clock);
                prestop::prestop(settings, &client, clock, *drain, *watch)
            }
            Hook::Poststart {
                wait,
                strict,
                fast_return,
            } => {
                let clock = FakeClock::new();
                let client = EurekaClient::new(None, &clock);
                let pod_start = Ok(std::time::UNIX_EPOCH);
                let guards = crate::hooks::Guards {
                    settings: fast_return,
                    pod_start: &pod_start,
                };
                poststart::poststart(settings, &client, &clock, *wait, *strict, guards)
            }
            Hook::Status => status::status(settings, &client, &Err(String::new()), &mut Vec::new()),
        };
    }

    #[test]
    fn every_request_a_flow_sends_is_in_its_plan() {
        let double = EurekaDouble::start();
        double.register(
            InstanceSpec::new("demo", "pod-0", 8080)
                .instance_id("custom-7")
                .overridden_status("OUT_OF_SERVICE"),
        );
        let base = double.base_url();
        let flows: [&[&str]; 4] = [
            &["prestop", "--drain", "1s"],
            &["prestop", "--drain", "0s"],
            &["poststart", "--wait", "0s"],
            &["status"],
        ];
        for flow in flows {
            let args = [flow, &["--app", "demo"]].concat();
            let sent = sent_only_what_the_plan_lists(&double, &base, &args);
            assert!(
                sent.iter().any(|request| request.contains("/custom-7")),
                "{flow:?} went on to the instance found by host and port: {sent:?}"
            );
            // Marked or cleared by the flow before: as it was for the next one.
            double.register(
                InstanceSpec::new("demo", "pod-0", 8080)
                    .instance_id("custom-7")
                    .overridden_status("OUT_OF_SERVICE"),
            );
        }
        let without_eureka_path = base.replace("/eureka/", "/");
        for flow in flows {
            let args = [flow, &["--app", "demo"]].concat();
            let sent = sent_only_what_the_plan_lists(&double, &without_eureka_path, &args);
            assert!(
                sent.contains(&"GET /apps/delta".to_string()),
                "{flow:?} checked for a Eureka server: {sent:?}"
            );
        }
    }
}
