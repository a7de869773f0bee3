//! Runs a Eureka double by hand until killed, printing its base URL:
//! `eureka-double [--port 8761] [--user U --password P] [--response-cache 30s]
//! [--lease-expiry] [--eviction-interval 60s] [--csrf] [--flavour spring-cloud|netflix-war]`.

use std::process::ExitCode;
use std::time::Duration;

use eureka_double::{DoubleBuilder, EurekaDouble};

const USAGE: &str = "usage: eureka-double [--port 8761] [--user U --password P] [--response-cache 30s|0] \
[--lease-expiry] [--eviction-interval 60s] [--csrf] [--flavour spring-cloud|netflix-war]";

fn main() -> ExitCode {
    let builder = match parse(std::env::args().skip(1)) {
        Ok(builder) => builder,
        Err(message) => {
            eprintln!("eureka-double: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match builder.try_start() {
        Ok(eureka) => {
            println!("{}", eureka.base_url());
            loop {
                std::thread::park();
            }
        }
        Err(error) => {
            eprintln!("eureka-double: cannot start: {error}");
            ExitCode::FAILURE
        }
    }
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<DoubleBuilder, String> {
    let mut builder = EurekaDouble::builder().port(8761);
    let mut credentials = (None, None);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        builder = match flag.as_str() {
            "--port" => builder.port(value()?.parse().map_err(|_| "--port needs a port number")?),
            "--user" => {
                credentials.0 = Some(value()?);
                builder
            }
            "--password" => {
                credentials.1 = Some(value()?);
                builder
            }
            "--response-cache" => builder.response_cache_interval(duration(&value()?)?),
            "--eviction-interval" => builder.eviction_interval(duration(&value()?)?),
            "--lease-expiry" => builder.lease_expiry(true),
            "--csrf" => builder.csrf_protection(true),
            "--flavour" => builder.flavour(value()?.parse()?),
            other => return Err(format!("unknown argument {other}")),
        };
    }
    match credentials {
        (Some(user), Some(password)) => Ok(builder.basic_auth(&user, &password)),
        (None, None) => Ok(builder),
        _ => Err("--user and --password go together".to_owned()),
    }
}

/// `250ms`, `30s`, `2m` or `0`.
fn duration(text: &str) -> Result<Duration, String> {
    let invalid = || format!("invalid duration {text:?} (use e.g. 250ms, 30s, 2m or 0)");
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| invalid())?;
    match unit {
        "ms" => Ok(Duration::from_millis(number)),
        "s" => Ok(Duration::from_secs(number)),
        "m" => Ok(Duration::from_secs(number * 60)),
        "" if number == 0 => Ok(Duration::ZERO),
        _ => Err(invalid()),
    }
}
