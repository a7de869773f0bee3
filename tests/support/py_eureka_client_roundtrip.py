"""A Eureka client we did not write (py-eureka-client) against the double, with eureka-hook in between.

Run by tests/cases/real_client.rs with PYTHONPATH pointing at the library (scripts/test.sh installs
it under target/). The library registers an instance, heartbeats it every second and fetches the
registry (in full, then as deltas, both XML) on the same beat. Then:

1. wait until the library's own discovery shows the instance UP;
2. `eureka-hook prestop --drain 0s`, with the hook's default id missing the library's id
   (`{ip}:{app}:{port}`), so the hook finds the instance by host and port after a 404;
3. wait until the library's discovery no longer shows it UP;
4. `eureka-hook poststart --instance-id ID` (poststart has no host fallback): it removes the
   override, the library's next heartbeat gets 404 and re-registers UP;
5. wait until the library's discovery shows it UP again, then stop the library.

Each wait is bounded. Exit 0 when every step held; otherwise a message on stderr and exit 1.
Usage: py_eureka_client_roundtrip.py EUREKA_URL HOOK_BINARY APP HOST IP PORT
"""

import subprocess
import sys
import time

from py_eureka_client import eureka_client

WAIT_SECONDS = 15


def log(message):
    print(f"roundtrip: {message}", file=sys.stderr, flush=True)


def fail(message):
    log(f"FAILED: {message}")
    sys.exit(1)


def up_ids(client, app):
    """The ids of the app's UP instances, as the library's discovery sees them."""
    return {instance.instanceId for instance in client.applications.get_application(app).up_instances}


def wait_until(what, condition):
    started = time.monotonic()
    while time.monotonic() - started < WAIT_SECONDS:
        if condition():
            log(f"{what} after {time.monotonic() - started:.1f}s")
            return
        time.sleep(0.1)
    fail(f"{what}: not within {WAIT_SECONDS}s")


def run_hook(hook, args):
    log(f"running eureka-hook {' '.join(args)}")
    done = subprocess.run([hook, *args], capture_output=True, text=True, timeout=30)
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        fail(f"eureka-hook {args[0]} exited {done.returncode}")


def main():
    eureka_url, hook, app, host, ip, port = sys.argv[1:]
    client = eureka_client.init(
        eureka_server=eureka_url,
        app_name=app,
        instance_host=host,
        instance_ip=ip,
        instance_port=int(port),
        renewal_interval_in_secs=1,
        duration_in_secs=30,
    )
    # The library's default instanceId.
    instance_id = f"{ip}:{app.lower()}:{port}"
    common = ["--app", app, "--port", port, "--eureka-url", eureka_url, "--request-timeout", "2s"]

    wait_until("the library discovers its instance UP", lambda: instance_id in up_ids(client, app))
    # The hook's default id is HOST:APP:PORT, which the library did not use.
    run_hook(hook, ["prestop", "--drain", "0s", "--hostname", host, *common])
    wait_until("the library no longer discovers it UP", lambda: instance_id not in up_ids(client, app))
    run_hook(hook, ["poststart", "--wait", "5s", "--instance-id", instance_id, *common])
    wait_until("the library discovers it UP again", lambda: instance_id in up_ids(client, app))
    eureka_client.stop()
    log("done")


if __name__ == "__main__":
    main()
