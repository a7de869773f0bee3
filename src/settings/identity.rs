//! What identifies this instance in the registry: its app, its instance id (and where that came
//! from), the host and addresses it registered with, and its port.

use anyhow::{Context, Result};

use super::vars::{self, EnvLookup, first_env};
use crate::cli::CommonArgs;
use crate::exit::BadInput;
use crate::values::{self, AppName, InstanceId};

const DEFAULT_PORT: u16 = 8080;

/// The machine's hostname, asked only when no flag or variable gives one.
pub type HostnameLookup<'a> = &'a dyn Fn() -> std::io::Result<String>;

/// Where the instance id came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdSource {
    /// --instance-id or one of its variables.
    Given,
    /// Built as Spring Cloud does by default: `{hostname}:{app}:{port}`.
    SpringDefault,
}

#[derive(Clone, Debug)]
pub struct Identity {
    /// From --app or its variables; required.
    pub app: AppName,
    /// From --instance-id or its variables, else `{hostname}:{app}:{port}`.
    pub instance_id: InstanceId,
    pub id_source: IdSource,
    /// From --hostname or its variable, or the machine; `None` only if an id was given and the
    /// machine could not say.
    pub hostname: Option<String>,
    /// From `$POD_IP` (the Downward API convention): matched against `ipAddr` after a 404.
    pub pod_ip: Option<String>,
    /// From --port or its variables, or 8080.
    pub port: u16,
}

impl Identity {
    pub fn resolve(
        common: &CommonArgs,
        env: EnvLookup,
        machine_hostname: HostnameLookup,
    ) -> Result<Identity> {
        let app = match common.app.clone() {
            Some(app) => app,
            None => first_env(vars::APP, env, AppName::parse)?.ok_or_else(|| {
                BadInput::new(format!(
                    "no application name: pass --app NAME or set {}",
                    vars::APP.join(" or ")
                ))
            })?,
        };
        let port =
            vars::pick(common.port, vars::PORT, env, values::parse_port)?.unwrap_or(DEFAULT_PORT);
        let given_hostname = vars::pick(
            common.hostname.clone(),
            vars::HOSTNAME,
            env,
            values::parse_hostname,
        )?;
        let given_id = vars::pick(
            common.instance_id.clone(),
            vars::INSTANCE_ID,
            env,
            InstanceId::parse,
        )?;
        let (hostname, instance_id, id_source) = match (given_hostname, given_id) {
            (hostname, Some(id)) => (
                hostname.or_else(|| machine_hostname().ok()),
                id,
                IdSource::Given,
            ),
            (given_hostname, None) => {
                let hostname = match given_hostname {
                    Some(hostname) => hostname,
                    None => checked_machine_hostname(machine_hostname)?,
                };
                let id = InstanceId::spring_default(&hostname, &app, port);
                (Some(hostname), id, IdSource::SpringDefault)
            }
        };
        Ok(Identity {
            app,
            instance_id,
            id_source,
            hostname,
            pod_ip: env(vars::POD_IP).filter(|ip| !ip.trim().is_empty()),
            port,
        })
    }

    /// The host names and IP addresses this instance may have registered with.
    pub fn addresses(&self) -> impl Iterator<Item = &str> {
        self.hostname.iter().chain(&self.pod_ip).map(String::as_str)
    }
}

fn checked_machine_hostname(machine_hostname: HostnameLookup) -> Result<String> {
    let hostname = machine_hostname()
        .context("reading this machine's hostname")
        .and_then(|name| values::parse_hostname(&name).map_err(anyhow::Error::msg))
        .map_err(|err| {
            BadInput::new(format!(
                "cannot build the default instance id from this machine's hostname ({err:#}): \
                 pass --hostname or --instance-id"
            ))
        })?;
    Ok(hostname)
}
