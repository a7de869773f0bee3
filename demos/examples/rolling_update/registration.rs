//! A service instance's side of Eureka, as Spring Cloud Netflix's DiscoveryClient does it over
//! HTTP: register (`POST apps/{APP}` with the JSON body Spring Cloud sends), renew the lease
//! (`PUT apps/{APP}/{ID}?status=UP&lastDirtyTimestamp=T`, registering again on 404) and cancel
//! (`DELETE apps/{APP}/{ID}`) on shutdown.

use crate::discovery::registry_agent;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use eureka_double::InstanceSpec;
use ureq::Agent;

use crate::cli::{APP, HOST};

/// The instance id Spring Cloud gives the instance listening on `port`: `{host}:{app}:{port}`.
pub fn instance_id(port: u16) -> String {
    InstanceSpec::new(APP, HOST, port).id()
}

pub struct Registration {
    agent: Agent,
    spec: InstanceSpec,
    /// `apps/{APP}` under the service URL.
    app_url: String,
    /// `apps/{APP}/{ID}` under the service URL.
    instance_url: String,
    /// The `lastDirtyTimestamp` of the last registration body; heartbeats repeat it.
    dirty_timestamp: String,
}

impl Registration {
    /// For the instance listening on `port`, renewing every `heartbeat` (lease: three of them).
    pub fn new(eureka_url: &str, port: u16, heartbeat: Duration) -> Registration {
        let spec = InstanceSpec::new(APP, HOST, port)
            .ip_addr(HOST)
            .lease(whole_seconds(heartbeat * 3), whole_seconds(heartbeat));
        let app_url = format!("{eureka_url}apps/{}", APP.to_uppercase());
        let instance_url = format!("{app_url}/{}", spec.id());
        let agent = registry_agent();
        Registration {
            agent,
            spec,
            app_url,
            instance_url,
            dirty_timestamp: String::new(),
        }
    }

    pub fn id(&self) -> String {
        self.spec.id()
    }

    /// `POST apps/{APP}`; the server answers 204.
    pub fn register(&mut self) -> Result<()> {
        let body = self.spec.to_json();
        let status = self
            .agent
            .post(&self.app_url)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .send(body.to_string())
            .with_context(|| format!("registering at {}", self.app_url))?
            .status()
            .as_u16();
        if status != 204 {
            bail!("registering at {} was answered {status}", self.app_url);
        }
        self.dirty_timestamp = body["instance"]["lastDirtyTimestamp"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        Ok(())
    }

    /// One heartbeat; on 404 (the registry does not know the instance, or asks it to register
    /// again) it registers, as DiscoveryClient.renew does.
    pub fn renew(&mut self) -> Result<()> {
        let url = format!(
            "{}?status=UP&lastDirtyTimestamp={}",
            self.instance_url, self.dirty_timestamp
        );
        let status = self
            .agent
            .put(&url)
            .header("Accept", "application/json")
            .send_empty()
            .with_context(|| format!("renewing at {url}"))?
            .status()
            .as_u16();
        match status {
            200 => Ok(()),
            404 => self.register(),
            other => bail!("renewing at {url} was answered {other}"),
        }
    }

    /// `DELETE apps/{APP}/{ID}`; the server answers 200.
    pub fn cancel(&self) -> Result<()> {
        let status = self
            .agent
            .delete(&self.instance_url)
            .header("Accept", "application/json")
            .call()
            .with_context(|| format!("cancelling at {}", self.instance_url))?
            .status()
            .as_u16();
        if status != 200 {
            bail!("cancelling at {} was answered {status}", self.instance_url);
        }
        Ok(())
    }
}

/// Seconds rounded up, at least one: the registration body's lease fields are whole seconds.
fn whole_seconds(duration: Duration) -> u32 {
    let rounded_up = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    u32::try_from(rounded_up).unwrap_or(u32::MAX).max(1)
}
