//! Inputs as real pods give them: Helm's empty values, flags beside variables, odd spellings and
//! encodings, passwords with URL delimiters in every channel, odd log files, signals and servers.
//! Each row runs on every hook it names, in text and JSON with --log-file; the runner
//! (`support::matrix`) checks every run for the password and for the drain.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::sync::Arc;
use std::time::Duration;

use crate::support::matrix::{Expect, Row, Started, run_matrix};
use crate::support::*;

const USER: &str = "eureka";

/// Passwords with each URL delimiter, one equal to the user name and a path segment, one of one
/// character.
const PASSWORDS: [&str; 9] = [
    "Slash/Pw-1234",
    "Quest?Pw-1234",
    "Hash#Pw-12345",
    "At@Pw-123456",
    "Colon:Pw-1234",
    "Pct%Pw-12345",
    "Space Pw-1234",
    "eureka",
    "x",
];

fn registered() -> Arc<EurekaDouble> {
    Arc::new(registry_with_instance())
}

/// A double that wants `password` for [`USER`], with this pod's instance registered.
fn secured(password: &str) -> Arc<EurekaDouble> {
    let double = EurekaDouble::builder().basic_auth(USER, password).start();
    double.register(InstanceSpec::new(APP, HOST, 8080));
    Arc::new(double)
}

/// The hook pointed at a healthy registry through `EUREKA_URL`.
fn healthy() -> Started {
    let double = registered();
    let url = double.base_url();
    Started::new(Some(double)).env("EUREKA_URL", url)
}

fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                (byte as char).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

fn with_userinfo(url: &str, userinfo: &str) -> String {
    url.replacen("://", &format!("://{userinfo}@"), 1)
}

fn file(name: &str, content: impl AsRef<[u8]>) -> TempFile {
    TempFile::new(name, content)
}

/// The hook pointed at `double` through `EUREKA_URL`, with [`USER`] and `password` in
/// `EUREKA_USERNAME` and `EUREKA_PASSWORD`.
fn with_user_and_password(double: Arc<EurekaDouble>, password: &str) -> Started {
    let url = double.base_url();
    Started::new(Some(double))
        .env("EUREKA_URL", url)
        .env("EUREKA_USERNAME", USER)
        .env("EUREKA_PASSWORD", password)
}

/// `started` with its registry answering every request with `status`.
fn answering(started: Started, status: u16) -> Started {
    if let Some(double) = &started.double {
        double.script(ScriptedReply::any().status(status));
    }
    started
}

/// A new FIFO's path, beside a file that keeps its name unique while it lives.
fn fifo() -> (String, TempFile) {
    let name_holder = file("fifo", "");
    let fifo = format!("{}.fifo", name_holder.path_str());
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.unwrap().success(), "mkfifo failed");
    (fifo, name_holder)
}

fn not_utf8() -> OsString {
    OsString::from_vec(vec![b'p', 0xe4, b's', b's'])
}

fn empties_and_spellings() -> Vec<Row> {
    use Expect::Works;
    let mut rows = vec![
        Row::new("EUREKA_URL empty beside a valid defaultZone", Works, |_| {
            let double = registered();
            let url = double.base_url();
            Started::new(Some(double))
                .env("EUREKA_URL", "")
                .env("EUREKA_CLIENT_SERVICEURL_DEFAULTZONE", url)
        }),
        Row::new(
            "EUREKA_USERNAME and EUREKA_PASSWORD empty, auth off",
            Works,
            |_| {
                healthy()
                    .env("EUREKA_USERNAME", "")
                    .env("EUREKA_PASSWORD", "")
            },
        ),
        Row::new(
            "EUREKA_HOOK_LOG_FORMAT and EUREKA_HOOK_LOG_FILE empty",
            Works,
            |_| {
                healthy()
                    .env("EUREKA_HOOK_LOG_FORMAT", "")
                    .env("EUREKA_HOOK_LOG_FILE", "")
                    .own_log()
            },
        ),
        Row::new("EUREKA_HOOK_REQUEST_TIMEOUT empty", Works, |_| {
            healthy().env("EUREKA_HOOK_REQUEST_TIMEOUT", "")
        }),
        Row::new("EUREKA_HOOK_CACERT empty", Works, |_| {
            healthy().env("EUREKA_HOOK_CACERT", "")
        }),
        Row::new("EUREKA_HOOK_CREDENTIALS_FILE empty", Works, |_| {
            healthy().env("EUREKA_HOOK_CREDENTIALS_FILE", "")
        }),
        Row::new(
            "EUREKA_HOOK_VERBOSE and EUREKA_HOOK_QUIET empty",
            Works,
            |_| {
                healthy()
                    .env("EUREKA_HOOK_VERBOSE", "")
                    .env("EUREKA_HOOK_QUIET", "")
            },
        ),
        Row::new(
            "EUREKA_HOOK_DRY_RUN and EUREKA_HOOK_STRICT empty",
            Works,
            |_| {
                healthy()
                    .env("EUREKA_HOOK_DRY_RUN", "")
                    .env("EUREKA_HOOK_STRICT", "")
            },
        ),
        Row::new(
            "EUREKA_INSTANCE_ID empty beside EUREKA_INSTANCE_INSTANCEID",
            Works,
            |_| {
                healthy()
                    .env("EUREKA_INSTANCE_ID", "")
                    .env("EUREKA_INSTANCE_INSTANCEID", DEFAULT_ID)
            },
        ),
        Row::new(
            "EUREKA_APP empty beside SPRING_APPLICATION_NAME",
            Works,
            |_| healthy().env("EUREKA_APP", ""),
        ),
        Row::new("EUREKA_PORT empty beside SERVER_PORT", Works, |_| {
            healthy().env("EUREKA_PORT", "").env("SERVER_PORT", "8080")
        }),
        Row::new("POD_IP empty", Works, |_| healthy().env("POD_IP", "")),
        Row::new(
            "EUREKA_HOOK_DRAIN and EUREKA_HOOK_WAIT empty",
            Works,
            |_| {
                healthy()
                    .env("EUREKA_HOOK_DRAIN", "")
                    .env("EUREKA_HOOK_WAIT", "")
            },
        ),
        Row::new("every variable a Helm chart renders empty", Works, |_| {
            let double = registered();
            let url = double.base_url();
            let mut started = Started::new(Some(double));
            for name in [
                "EUREKA_URL",
                "EUREKA_APP",
                "EUREKA_PORT",
                "EUREKA_INSTANCE_ID",
                "EUREKA_INSTANCE_INSTANCEID",
                "EUREKA_INSTANCE_INSTANCE_ID",
                "EUREKA_HOOK_REQUEST_TIMEOUT",
                "EUREKA_HOOK_CACERT",
                "EUREKA_HOOK_CREDENTIALS_FILE",
                "EUREKA_USERNAME",
                "EUREKA_PASSWORD",
                "EUREKA_HOOK_DRY_RUN",
                "EUREKA_HOOK_VERBOSE",
                "EUREKA_HOOK_QUIET",
                "EUREKA_HOOK_STRICT",
                "POD_IP",
                "SERVER_PORT",
            ] {
                started = started.env(name, "");
            }
            started.env("EUREKA_CLIENT_SERVICEURL_DEFAULTZONE", url)
        }),
        // A flag beats its variable, even a wrong one.
        Row::new("-v beside EUREKA_HOOK_QUIET=true", Works, |_| {
            healthy().arg("-v").env("EUREKA_HOOK_QUIET", "true")
        }),
        Row::new("-q beside EUREKA_HOOK_VERBOSE=true", Works, |_| {
            healthy().arg("-q").env("EUREKA_HOOK_VERBOSE", "true")
        }),
        Row::new(
            "--log-format beside EUREKA_HOOK_LOG_FORMAT=xml",
            Works,
            |_| healthy().env("EUREKA_HOOK_LOG_FORMAT", "xml"),
        ),
        Row::new(
            "--log-file beside an unusable EUREKA_HOOK_LOG_FILE",
            Works,
            |_| healthy().env("EUREKA_HOOK_LOG_FILE", "/nonexistent/dir/hook.log"),
        ),
        Row::new(
            "--request-timeout beside EUREKA_HOOK_REQUEST_TIMEOUT=forever",
            Works,
            |_| {
                healthy()
                    .args(&["--request-timeout", "2s"])
                    .env("EUREKA_HOOK_REQUEST_TIMEOUT", "forever")
            },
        ),
        Row::new("--eureka-url beside EUREKA_URL=ftp://", Works, |_| {
            let double = registered();
            let url = double.base_url();
            Started::new(Some(double))
                .args(&["--eureka-url", &url])
                .env("EUREKA_URL", "ftp://nowhere/")
        }),
        Row::new("--app beside an EUREKA_APP with a space", Works, |_| {
            healthy()
                .args(&["--app", APP])
                .env("EUREKA_APP", "demo service")
        }),
        Row::new("--port beside EUREKA_PORT=http", Works, |_| {
            healthy()
                .args(&["--port", "8080"])
                .env("EUREKA_PORT", "http")
        }),
        // Spellings
        Row::new("a service URL without the trailing slash", Works, |_| {
            let double = registered();
            let url = double.base_url().trim_end_matches('/').to_string();
            Started::new(Some(double)).env("EUREKA_URL", url)
        }),
        Row::new(
            "two service URLs with spaces around the comma",
            Works,
            |_| {
                let (first, second) = (registered(), registered());
                let urls = format!("{} , {}", first.base_url(), second.base_url());
                Started::new(Some(first))
                    .keep(second)
                    .env("EUREKA_URL", urls)
            },
        ),
        Row::new("EUREKA_HOOK_LOG_FORMAT=JSON in capitals", Works, |_| {
            healthy().env("EUREKA_HOOK_LOG_FORMAT", "JSON").own_log()
        }),
        Row::new("EUREKA_HOOK_DRY_RUN=FALSE sends", Works, |_| {
            healthy().env("EUREKA_HOOK_DRY_RUN", "FALSE")
        }),
        Row::new("EUREKA_HOOK_STRICT=0", Works, |_| {
            healthy().env("EUREKA_HOOK_STRICT", "0")
        }),
    ];
    for (name, content) in [
        (
            "a credentials file ending in CRLF",
            "eureka:Crlf-Pass-1234\r\n",
        ),
        (
            "a credentials file without a final newline",
            "eureka:Crlf-Pass-1234",
        ),
    ] {
        rows.push(
            Row::new(name, Works, move |_| {
                let double = secured("Crlf-Pass-1234");
                let url = double.base_url();
                let credentials = file("credentials", content);
                Started::new(Some(double))
                    .env("EUREKA_URL", url)
                    .env("EUREKA_HOOK_CREDENTIALS_FILE", credentials.path_str())
                    .keep(credentials)
            })
            .password("Crlf-Pass-1234"),
        );
    }
    rows
}

fn bad_inputs() -> Vec<Row> {
    use Expect::BadInput;
    let mut rows = vec![
        Row::new("EUREKA_URL=ftp://", BadInput("EUREKA_URL"), |_| {
            healthy().env("EUREKA_URL", "ftp://eureka/")
        }),
        Row::new("--eureka-url given empty", BadInput("--eureka-url"), |_| {
            healthy().args(&["--eureka-url", ""])
        }),
        Row::new(
            "EUREKA_HOOK_REQUEST_TIMEOUT=forever",
            BadInput("EUREKA_HOOK_REQUEST_TIMEOUT"),
            |_| healthy().env("EUREKA_HOOK_REQUEST_TIMEOUT", "forever"),
        ),
        Row::new(
            "--request-timeout soon (a clap error)",
            BadInput("--request-timeout"),
            |_| healthy().args(&["--request-timeout", "soon"]),
        ),
        Row::new("--port 0 (a clap error)", BadInput("--port"), |_| {
            healthy().args(&["--port", "0"])
        }),
        Row::new("SERVER_PORT=70000", BadInput("SERVER_PORT"), |_| {
            healthy().env("SERVER_PORT", "70000")
        }),
        Row::new(
            "EUREKA_HOOK_LOG_FORMAT=xml",
            BadInput("EUREKA_HOOK_LOG_FORMAT"),
            |_| healthy().env("EUREKA_HOOK_LOG_FORMAT", "xml").own_log(),
        ),
        Row::new(
            "--log-format xml (a clap error)",
            BadInput("--log-format"),
            |_| healthy().args(&["--log-format", "xml"]),
        ),
        Row::new(
            "EUREKA_PASSWORD not valid UTF-8",
            BadInput("EUREKA_PASSWORD"),
            |_| {
                healthy()
                    .env("EUREKA_USERNAME", USER)
                    .env("EUREKA_PASSWORD", not_utf8())
            },
        ),
        Row::new(
            "SPRING_APPLICATION_NAME not valid UTF-8",
            BadInput("SPRING_APPLICATION_NAME"),
            |_| healthy().env("SPRING_APPLICATION_NAME", not_utf8()),
        ),
        Row::new(
            "EUREKA_CLIENT_SERVICEURL_DEFAULTZONE not valid UTF-8",
            BadInput("EUREKA_CLIENT_SERVICEURL_DEFAULTZONE"),
            |_| {
                let double = registered();
                Started::new(Some(double)).env("EUREKA_CLIENT_SERVICEURL_DEFAULTZONE", not_utf8())
            },
        ),
        Row::new(
            "an --instance-id too long to send",
            BadInput("--instance-id"),
            |_| healthy().args(&["--instance-id", &"i".repeat(2000)]),
        ),
        Row::new(
            "an EUREKA_INSTANCE_INSTANCEID too long to send",
            BadInput("EUREKA_INSTANCE_INSTANCEID"),
            |_| healthy().env("EUREKA_INSTANCE_INSTANCEID", "/".repeat(600)),
        ),
        Row::new(
            "an EUREKA_URL too long to send",
            BadInput("EUREKA_URL"),
            |_| {
                let double = registered();
                let url = format!("{}{}/", double.base_url(), "p".repeat(3000));
                Started::new(Some(double)).env("EUREKA_URL", url)
            },
        ),
        Row::new(
            "an instance id with a space",
            BadInput("EUREKA_INSTANCE_INSTANCEID"),
            |_| healthy().env("EUREKA_INSTANCE_INSTANCEID", "pod 0:demo:8080"),
        ),
        Row::new(
            "EUREKA_USERNAME set, EUREKA_PASSWORD empty",
            BadInput("EUREKA_PASSWORD"),
            |_| {
                healthy()
                    .env("EUREKA_USERNAME", USER)
                    .env("EUREKA_PASSWORD", "")
            },
        ),
        Row::new("--cacert given empty", BadInput("--cacert"), |_| {
            healthy().args(&["--cacert", ""])
        }),
        Row::new("--cacert that is not PEM", BadInput("--cacert"), |_| {
            let not_pem = file("ca.pem", "not a certificate\n");
            healthy()
                .args(&["--cacert", not_pem.path_str()])
                .keep(not_pem)
        }),
        Row::new(
            "EUREKA_HOOK_VERBOSE and EUREKA_HOOK_QUIET both on",
            BadInput("EUREKA_HOOK_QUIET"),
            |_| {
                healthy()
                    .env("EUREKA_HOOK_VERBOSE", "1")
                    .env("EUREKA_HOOK_QUIET", "1")
            },
        ),
        Row::new(
            "a service URL whose userinfo has no password",
            BadInput("EUREKA_URL"),
            |_| {
                let double = registered();
                let url = with_userinfo(&double.base_url(), "Only-User-Or-Pw");
                Started::new(Some(double)).env("EUREKA_URL", url)
            },
        )
        .password("Only-User-Or-Pw"),
        Row::new(
            "a URL with a password as an unexpected argument",
            BadInput("unexpected argument"),
            |password| {
                let double = registered();
                let url = with_userinfo(&double.base_url(), &format!("{USER}:{password}"));
                healthy().arg(url).keep(double)
            },
        )
        .password("Positional-Pw-77"),
        Row::new(
            "credentials in the URL and in EUREKA_PASSWORD",
            BadInput("more than one way"),
            |password| {
                let double = registered();
                let url = with_userinfo(&double.base_url(), &format!("{USER}:{password}"));
                Started::new(Some(double))
                    .env("EUREKA_URL", url)
                    .env("EUREKA_USERNAME", USER)
                    .env("EUREKA_PASSWORD", password)
            },
        )
        .password("Twice-Given-Pw-5"),
        Row::new(
            "an unencoded ',' in a URL password",
            BadInput("EUREKA_URL"),
            |password| {
                let (first, second) = (registered(), registered());
                let urls = format!(
                    "{},{}",
                    with_userinfo(&first.base_url(), &format!("{USER}:{password}")),
                    second.base_url()
                );
                Started::new(Some(first))
                    .keep(second)
                    .env("EUREKA_URL", urls)
            },
        )
        .password("Comma,Pw-98765"),
    ];
    for (name, content, flag) in [
        (
            "a credentials file with a byte-order mark",
            &b"\xef\xbb\xbfeureka:File-Pw-123456\n"[..],
            true,
        ),
        (
            "a credentials file with a second line",
            b"eureka:File-Pw-123456\nother:line\n",
            false,
        ),
        (
            "a credentials file that is a comment",
            b"# eureka:File-Pw-123456\n",
            false,
        ),
        ("an empty credentials file", b"", true),
        (
            "a credentials file not in UTF-8",
            b"eureka:File-Pw-12345\xe4\n",
            false,
        ),
    ] {
        let names = if flag {
            "--credentials-file"
        } else {
            "EUREKA_HOOK_CREDENTIALS_FILE"
        };
        rows.push(
            Row::new(name, BadInput(names), move |_| {
                let credentials = file("credentials", content);
                let started = if flag {
                    healthy().args(&["--credentials-file", credentials.path_str()])
                } else {
                    healthy().env("EUREKA_HOOK_CREDENTIALS_FILE", credentials.path_str())
                };
                started.keep(credentials)
            })
            .password("File-Pw-12345"),
        );
    }
    rows
}

/// Every password in every channel: variables, a file, a URL as written, a URL percent-encoded.
fn passwords() -> Vec<Row> {
    let mut rows = Vec::new();
    for password in PASSWORDS {
        rows.push(
            Row::new(
                format!("EUREKA_PASSWORD={password:?}"),
                Expect::Works,
                |password| with_user_and_password(secured(password), password),
            )
            .password(password),
        );
        rows.push(
            Row::new(
                format!("credentials file with password {password:?}"),
                Expect::Works,
                |password| {
                    let double = secured(password);
                    let url = double.base_url();
                    let credentials = file("credentials", format!("{USER}:{password}\n"));
                    Started::new(Some(double))
                        .env("EUREKA_URL", url)
                        .args(&["--credentials-file", credentials.path_str()])
                        .keep(credentials)
                },
            )
            .password(password),
        );
        rows.push(
            Row::new(
                format!("defaultZone with password {password:?} as written"),
                Expect::Works,
                |password| {
                    let double = secured(password);
                    let url = with_userinfo(&double.base_url(), &format!("{USER}:{password}"));
                    Started::new(Some(double)).env("EUREKA_CLIENT_SERVICEURL_DEFAULTZONE", url)
                },
            )
            .password(password),
        );
        rows.push(
            Row::new(
                format!("EUREKA_URL with password {password:?} percent-encoded"),
                Expect::Works,
                |password| {
                    let double = secured(password);
                    let userinfo = format!("{USER}:{}", percent_encoded(password));
                    let url = with_userinfo(&double.base_url(), &userinfo);
                    Started::new(Some(double)).env("EUREKA_URL", url)
                },
            )
            .password(password),
        );
    }
    rows
}

/// A server presenting a CA:TRUE certificate the hook was not given: a registry failure.
const CA_CERTIFICATE_REFUSED: Expect = Expect::Codes {
    prestop: 1,
    poststart: 0,
    status: 1,
    says: "presents a CA certificate",
};

fn files_signals_and_servers() -> Vec<Row> {
    use Expect::{Codes, DrainCutBySignal, Works};
    let own_log = |path: &str| healthy().args(&["--log-file", path]).own_log();
    vec![
        Row::new("--log-file is a FIFO nobody reads", Works, move |_| {
            let (fifo, name_holder) = fifo();
            own_log(&fifo).keep(RemoveOnDrop(fifo)).keep(name_holder)
        }),
        Row::new(
            "--log-file is a FIFO whose reader never reads",
            Works,
            move |_| {
                use std::os::unix::fs::OpenOptionsExt;
                let (fifo, name_holder) = fifo();
                let stalled_reader = std::fs::OpenOptions::new()
                    .read(true)
                    .custom_flags(libc::O_NONBLOCK)
                    .open(&fifo)
                    .unwrap();
                // Fill the pipe first, so every line the hook writes finds it full.
                let mut filler = std::fs::OpenOptions::new()
                    .write(true)
                    .custom_flags(libc::O_NONBLOCK)
                    .open(&fifo)
                    .unwrap();
                while std::io::Write::write(&mut filler, &[b'.'; 4096]).is_ok() {}
                own_log(&fifo)
                    .keep(stalled_reader)
                    .keep(filler)
                    .keep(RemoveOnDrop(fifo))
                    .keep(name_holder)
            },
        ),
        Row::new(
            "--log-file in a directory that does not exist",
            Works,
            move |_| own_log("/nonexistent/dir/hook.log"),
        ),
        Row::new("--log-file is a directory", Works, move |_| {
            own_log(std::env::temp_dir().to_str().unwrap())
        }),
        Row::new("SIGTERM during the drain", DrainCutBySignal, |_| {
            healthy().signal("TERM", Duration::from_millis(400))
        })
        .only(&["prestop"]),
        Row::new("SIGINT during the drain", DrainCutBySignal, |_| {
            healthy().signal("INT", Duration::from_millis(400))
        })
        .only(&["prestop"]),
        Row::new(
            "the registry refuses the password (401)",
            Codes {
                prestop: 4,
                poststart: 0,
                status: 4,
                says: "401",
            },
            |password| with_user_and_password(secured("Right-Pw-123456"), password),
        )
        .password("Wrong-Pw-654321"),
        Row::new(
            "the registry forbids the request (403)",
            Codes {
                prestop: 4,
                poststart: 0,
                status: 4,
                says: "403",
            },
            |_| answering(healthy(), 403),
        ),
        Row::new(
            "the registry answers 500",
            Codes {
                prestop: 1,
                poststart: 0,
                status: 1,
                says: "500",
            },
            |_| answering(healthy().args(&["--request-timeout", "500ms"]), 500),
        ),
        Row::new(
            "the instance is not registered",
            Codes {
                prestop: 3,
                poststart: 0,
                status: 3,
                says: "not registered",
            },
            |_| {
                let double = Arc::new(EurekaDouble::start());
                let url = double.base_url();
                Started::new(Some(double)).env("EUREKA_URL", url)
            },
        ),
        Row::new(
            "the registry refuses connections",
            Codes {
                prestop: 1,
                poststart: 0,
                status: 1,
                says: "refused",
            },
            |_| {
                let peer = FaultPeer::refused();
                Started::new(None)
                    .env("EUREKA_URL", peer.base_url())
                    .args(&["--request-timeout", "500ms"])
                    .keep(peer)
            },
        ),
        Row::new("one peer hangs, another answers", Works, |_| {
            let (hanging, double) = (FaultPeer::hang(), registered());
            let urls = format!("{},{}", hanging.base_url(), double.base_url());
            Started::new(Some(double))
                .env("EUREKA_URL", urls)
                .args(&["--request-timeout", "500ms"])
                .keep(hanging)
        }),
        Row::new(
            "HTTPS with a CA:TRUE self-signed certificate given in --cacert",
            Works,
            |_| {
                let double = registered();
                let front = TlsFront::with_ca_certificate(&double);
                let ca = file("ca.pem", front.ca_pem());
                Started::new(Some(double))
                    .env("EUREKA_URL", front.base_url())
                    .args(&["--cacert", ca.path_str()])
                    .keep(front)
                    .keep(ca)
            },
        ),
        Row::new(
            "HTTPS with a CA:TRUE self-signed certificate, no --cacert",
            CA_CERTIFICATE_REFUSED,
            |_| {
                let double = registered();
                let front = TlsFront::with_ca_certificate(&double);
                Started::new(Some(double))
                    .env("EUREKA_URL", front.base_url())
                    .keep(front)
            },
        ),
        Row::new(
            "HTTPS with a CA:TRUE certificate, another one in --cacert",
            CA_CERTIFICATE_REFUSED,
            |_| {
                let double = registered();
                let front = TlsFront::with_ca_certificate(&double);
                let other = TlsFront::with_ca_certificate(&double);
                let ca = file("ca.pem", other.ca_pem());
                Started::new(Some(double))
                    .env("EUREKA_URL", front.base_url())
                    .args(&["--cacert", ca.path_str()])
                    .keep(front)
                    .keep(other)
                    .keep(ca)
            },
        ),
        Row::new("status into a closed stdout", Works, |_| {
            healthy().close_stdout()
        })
        .only(&["status"]),
    ]
}

/// The hook pointed at a registry holding only `id` of `app` (as Spring registered it) on another
/// host, so that the host-and-port fallback cannot find it: only the exact id works.
fn registered_only_as(app: &str, port: u16, id: &str) -> Started {
    let double = EurekaDouble::start();
    double.register(InstanceSpec::new(app, "another-host", port).instance_id(id));
    let double = Arc::new(double);
    let url = double.base_url();
    Started::new(Some(double)).env("EUREKA_URL", url)
}

/// Spring Cloud's instance id from the pod's own variables: each row registers the one id Spring
/// would, where the fallback by host cannot find it, so every hook exits 0 only on the exact id.
fn spring_ids() -> Vec<Row> {
    use Expect::Works;
    vec![
        Row::new(
            "SPRING_APPLICATION_INSTANCE_ID is the id's index",
            Works,
            |_| {
                registered_only_as(APP, 8080, "pod-0:demo-service:blue-3")
                    .env("SPRING_APPLICATION_INSTANCE_ID", "blue-3")
                    .env("SERVER_PORT", "8080")
            },
        ),
        Row::new("no SERVER_PORT: the id without a port", Works, |_| {
            registered_only_as(APP, 8080, "pod-0:demo-service")
        }),
        Row::new("no SERVER_PORT: the id with 8080", Works, |_| {
            registered_only_as(APP, 8080, "pod-0:demo-service:8080")
        }),
        Row::new("SERVER_PORT 9090", Works, |_| {
            registered_only_as(APP, 9090, "pod-0:demo-service:9090").env("SERVER_PORT", "9090")
        }),
        Row::new(
            "SERVER_PORT written 08080 stays so in the id",
            Works,
            |_| {
                registered_only_as(APP, 8080, "pod-0:demo-service:08080")
                    .env("SERVER_PORT", "08080")
            },
        ),
        Row::new(
            "EUREKA_INSTANCE_INSTANCE_ID, Boot's legacy spelling",
            Works,
            |_| {
                registered_only_as(APP, 8080, "custom-7")
                    .env("EUREKA_INSTANCE_INSTANCE_ID", "custom-7")
            },
        ),
        Row::new(
            "SERVER_PORT=0 (a random port) beside an explicit id",
            Works,
            |_| {
                registered_only_as(APP, 41234, "custom-8")
                    .env("EUREKA_INSTANCE_INSTANCEID", "custom-8")
                    .env("SERVER_PORT", "0")
            },
        ),
        Row::new(
            "EUREKA_INSTANCE_APPNAME registers another app; the id keeps the Spring name",
            Works,
            |_| {
                registered_only_as("billing", 8080, "pod-0:demo-service:8080")
                    .env("EUREKA_INSTANCE_APPNAME", "billing")
                    .env("SERVER_PORT", "8080")
            },
        ),
        Row::new(
            "SPRING_CLOUD_CLIENT_HOSTNAME beside EUREKA_HOSTNAME",
            Works,
            |_| {
                registered_only_as(APP, 8080, "pod-0:demo-service:8080")
                    .env(
                        "SPRING_CLOUD_CLIENT_HOSTNAME",
                        "web-0.web.shop.svc.cluster.local",
                    )
                    .env("SERVER_PORT", "8080")
            },
        ),
    ]
}

/// Removes a path (a FIFO) when the run is over.
struct RemoveOnDrop(String);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn real_world_inputs_keep_every_promise_on_every_hook_in_both_log_formats() {
    let rows: Vec<Row> = [
        empties_and_spellings(),
        bad_inputs(),
        passwords(),
        files_signals_and_servers(),
        spring_ids(),
    ]
    .into_iter()
    .flatten()
    .collect();
    let count = rows.len();
    assert!(
        count >= 60,
        "the matrix asks for at least 60 inputs, has {count}"
    );
    let runs = run_matrix(rows);
    eprintln!("real-world matrix: {count} inputs, {runs} runs");
}

/// The README's promise: a flag may come before the subcommand, a subcommand's own flags
/// included (`eureka-hook --drain 5s prestop`, `eureka-hook -v status`).
#[test]
fn flags_before_the_subcommand_work_as_after_it() {
    let double = registry_with_instance();
    let url = double.base_url();
    let started = std::time::Instant::now();
    hook(&[
        "--drain",
        "300ms",
        "--eureka-url",
        &url,
        "--app",
        APP,
        "prestop",
        "--port",
        "8080",
    ])
    .run()
    .assert_code(0)
    .assert_stderr_contains("drain of 300ms held");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_instance(&double, DEFAULT_ID, "OUT_OF_SERVICE", "OUT_OF_SERVICE");
    hook(&[
        "--wait=1s",
        "--strict",
        "--eureka-url",
        &url,
        "poststart",
        "--app",
        APP,
    ])
    .run()
    .assert_code(0);
    // Without a value, the DELETE leaves UNKNOWN until the app's next heartbeat.
    assert_instance(&double, DEFAULT_ID, "UNKNOWN", "UNKNOWN");
    hook(&["-v", "status", "--app", APP, "--eureka-url", &url])
        .run()
        .assert_code(0)
        .assert_stderr_contains("debug: GET");
    // A subcommand's flag before another subcommand is still refused, naming it.
    hook(&[
        "--drain",
        "1s",
        "status",
        "--app",
        APP,
        "--eureka-url",
        &url,
    ])
    .run()
    .assert_code(2)
    .assert_stderr_contains("--drain");
}
