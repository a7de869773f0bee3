//! The consumer's copy of the registry, kept as Eureka's DiscoveryClient keeps it: a full fetch
//! (`GET apps/`) at start, then every fetch interval a delta (`GET apps/delta`) applied to the
//! copy; when the copy's reconcile hash code then differs from the one the delta carries, a full
//! fetch replaces it. Both reads are served from the server's read-only response cache. Readers
//! get only the app's UP instances (`eureka.client.filter-only-up-instances`).

use std::collections::BTreeMap;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::Value;
use ureq::Agent;

/// Where a consumer sends requests for one instance.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Endpoint {
    pub id: String,
    pub host: String,
    pub port: u16,
}

/// The ids of `endpoints`, sorted, to compare what two parties route to.
pub fn sorted_ids(endpoints: &[Endpoint]) -> Vec<String> {
    let mut ids: Vec<String> = endpoints
        .iter()
        .map(|endpoint| endpoint.id.clone())
        .collect();
    ids.sort();
    ids
}

/// An instance as a registry document lists it.
#[derive(Clone, Debug)]
struct Listed {
    /// Upper case, as the registry writes it.
    app: String,
    endpoint: Endpoint,
    status: String,
    /// `ADDED`, `MODIFIED` or `DELETED` in a delta.
    action: String,
}

/// An `applications` document: the full registry or a delta.
struct Applications {
    /// `apps__hashcode`: the full registry's reconcile hash code when the document was made.
    hash_code: String,
    instances: Vec<Listed>,
}

/// The local copy, keyed by app and instance id.
#[derive(Default)]
struct LocalRegistry {
    instances: BTreeMap<(String, String), Listed>,
}

impl LocalRegistry {
    fn replace(&mut self, full: Applications) {
        self.instances = full
            .instances
            .into_iter()
            .map(|listed| (key(&listed), listed))
            .collect();
    }

    /// `DiscoveryClient.updateDelta`: DELETED removes, ADDED and MODIFIED put.
    fn apply(&mut self, delta: &Applications) {
        for listed in &delta.instances {
            if listed.action == "DELETED" {
                self.instances.remove(&key(listed));
            } else {
                self.instances.insert(key(listed), listed.clone());
            }
        }
    }

    /// `Applications.getReconcileHashCode`: `STATUS_count_` per status, in name order.
    fn reconcile_hash_code(&self) -> String {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for listed in self.instances.values() {
            *counts.entry(&listed.status).or_default() += 1;
        }
        counts
            .into_iter()
            .map(|(status, count)| format!("{status}_{count}_"))
            .collect()
    }
}

fn key(listed: &Listed) -> (String, String) {
    (listed.app.clone(), listed.endpoint.id.clone())
}

/// A reader's handle on the copy.
#[derive(Clone, Default)]
pub struct RegistryView(Arc<Mutex<LocalRegistry>>);

impl RegistryView {
    /// The app's UP instances, as `DiscoveryClient.getInstances` gives them.
    pub fn up_instances(&self, app: &str) -> Vec<Endpoint> {
        let app = app.to_uppercase();
        self.lock()
            .instances
            .values()
            .filter(|listed| listed.app == app && listed.status == "UP")
            .map(|listed| listed.endpoint.clone())
            .collect()
    }

    fn lock(&self) -> MutexGuard<'_, LocalRegistry> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The copy and the thread that refreshes it; dropping it stops the thread.
pub struct RegistryCopy {
    view: RegistryView,
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl RegistryCopy {
    /// Fetches the full registry from `eureka_url`, then refreshes the copy every `interval`.
    pub fn start(eureka_url: &str, interval: Duration) -> Result<RegistryCopy> {
        let fetcher = Fetcher::new(eureka_url);
        let view = RegistryView::default();
        view.lock().replace(fetcher.full_registry()?);
        let (stop, stopped) = mpsc::channel::<()>();
        let refreshed = view.clone();
        let thread = thread::Builder::new()
            .name("registry-fetch".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
                    // As DiscoveryClient does, a failed fetch keeps the copy as it was.
                    if let Err(err) = fetcher.refresh(&refreshed) {
                        eprintln!("consumer: registry fetch failed: {err:#}");
                    }
                }
            })
            .context("starting the registry fetch thread")?;
        Ok(RegistryCopy {
            view,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    pub fn view(&self) -> RegistryView {
        self.view.clone()
    }
}

impl Drop for RegistryCopy {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Fetcher {
    agent: Agent,
    /// The service URL, with its trailing slash.
    eureka_url: String,
}

impl Fetcher {
    fn new(eureka_url: &str) -> Fetcher {
        let agent = registry_agent();
        Fetcher {
            agent,
            eureka_url: eureka_url.to_owned(),
        }
    }

    /// `DiscoveryClient.getAndUpdateDelta`.
    fn refresh(&self, view: &RegistryView) -> Result<()> {
        let delta = self.read("apps/delta")?;
        let reconciled = {
            let mut copy = view.lock();
            copy.apply(&delta);
            copy.reconcile_hash_code() == delta.hash_code
        };
        if !reconciled {
            let full = self.full_registry()?;
            view.lock().replace(full);
        }
        Ok(())
    }

    fn full_registry(&self) -> Result<Applications> {
        self.read("apps/")
    }

    fn read(&self, path: &str) -> Result<Applications> {
        let url = format!("{}{path}", self.eureka_url);
        let mut response = self
            .agent
            .get(&url)
            .header("Accept", "application/json")
            .call()
            .with_context(|| format!("GET {url}"))?;
        let status = response.status().as_u16();
        if status != 200 {
            bail!("GET {url} was answered {status}");
        }
        let body = response
            .body_mut()
            .read_to_string()
            .with_context(|| format!("reading the answer to GET {url}"))?;
        parse_applications(&body).with_context(|| format!("reading the answer to GET {url}"))
    }
}

fn parse_applications(body: &str) -> Result<Applications> {
    let document: Value = serde_json::from_str(body).context("not JSON")?;
    let applications = &document["applications"];
    let hash_code = applications["apps__hashcode"]
        .as_str()
        .context("no apps__hashcode")?
        .to_owned();
    let mut instances = Vec::new();
    for application in one_or_many(&applications["application"]) {
        for instance in one_or_many(&application["instance"]) {
            instances.push(parse_instance(instance)?);
        }
    }
    Ok(Applications {
        hash_code,
        instances,
    })
}

fn parse_instance(instance: &Value) -> Result<Listed> {
    let text = |field: &str| {
        instance[field]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("an instance without {field}"))
    };
    let port = instance["port"]["$"]
        .as_u64()
        .and_then(|port| u16::try_from(port).ok())
        .context("an instance without a port")?;
    Ok(Listed {
        app: text("app")?,
        endpoint: Endpoint {
            id: text("instanceId")?,
            host: text("hostName")?,
            port,
        },
        status: text("status")?,
        action: text("actionType").unwrap_or_default(),
    })
}

/// The registry writes a list, but its readers also take a single object.
fn one_or_many(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(values) => values.iter().collect(),
        Value::Null => Vec::new(),
        single => vec![single],
    }
}

/// Time limit for one request to the registry, from a service instance or the consumer.
const REGISTRY_TIMEOUT: Duration = Duration::from_secs(2);

/// The HTTP agent every talker to the registry uses: answers of any status, no proxy, bounded.
pub fn registry_agent() -> Agent {
    Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(REGISTRY_TIMEOUT))
        .proxy(None)
        .build()
        .new_agent()
}
