//! The Eureka REST resources behind `/eureka/` and `/eureka/v2/`, routed as Jersey routes
//! `ApplicationsResource`, `ApplicationResource`, `InstanceResource` and `InstancesResource`, with
//! their status codes, bodies and content types. Callers bring the registry lock and the clock.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::flavour::{CachedRead, ServerFlavour};
use crate::lease::Lease;
use crate::pairs;
use crate::registration::{self, Unparsable};
use crate::registry::{Registry, StatusChange};
use crate::render::{Detail, Document, Format};
use crate::reply::Reply;
use crate::response_cache::{CacheKey, Entity};
use crate::status::Status;
use crate::uri;

/// Marks server-to-server traffic; only the exact value `true` counts.
const REPLICATION_HEADER: &str = "x-netflix-discovery-replication";

pub(crate) struct ApiRequest<'a> {
    pub(crate) method: &'a str,
    /// Path and query as received.
    pub(crate) target: &'a str,
    pub(crate) headers: &'a [(String, String)],
    pub(crate) body: &'a str,
}

impl ApiRequest<'_> {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        pairs::get_ignore_case(self.headers, name)
    }
}

/// What an endpoint needs from the request besides the path.
pub(crate) struct Call {
    pub(crate) params: Vec<(String, String)>,
    pub(crate) replication: bool,
    pub(crate) format: Format,
    /// `X-Eureka-Accept`; only the cached reads look at it.
    pub(crate) detail: Detail,
    /// `Accept-Encoding` names gzip; only the cached reads look at it, and only where the
    /// server's flavour compresses them.
    pub(crate) gzip: bool,
    pub(crate) now: i64,
}

impl Call {
    fn param(&self, name: &str) -> Option<&str> {
        pairs::get(&self.params, name)
    }
}

enum Route {
    AllApps,
    Delta,
    App(String),
    Instance(String, String),
    Status(String, String),
    Metadata(String, String),
    InstanceById(String),
}

impl Route {
    /// `{APP}` is upper-cased; ids are exact. A trailing slash is ignored.
    fn parse(path: &str) -> Option<Route> {
        let rest = path.strip_prefix("/eureka/")?;
        let rest = rest.strip_prefix("v2/").unwrap_or(rest);
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let segments: Vec<String> = rest.split('/').map(uri::decode_path_segment).collect();
        if segments.iter().any(String::is_empty) {
            return None;
        }
        let app = |name: &String| name.to_uppercase();
        Some(match segments.as_slice() {
            [apps] if apps == "apps" => Route::AllApps,
            [apps, delta] if apps == "apps" && delta == "delta" => Route::Delta,
            [apps, name] if apps == "apps" => Route::App(app(name)),
            [apps, name, id] if apps == "apps" => Route::Instance(app(name), id.clone()),
            [apps, name, id, status] if apps == "apps" && status == "status" => {
                Route::Status(app(name), id.clone())
            }
            [apps, name, id, metadata] if apps == "apps" && metadata == "metadata" => {
                Route::Metadata(app(name), id.clone())
            }
            [instances, id] if instances == "instances" => Route::InstanceById(id.clone()),
            _ => return None,
        })
    }
}

/// Routes one request: 404 for unknown paths, 405 for a known path with another method.
pub(crate) fn handle(
    registry: &mut Registry,
    flavour: ServerFlavour,
    request: &ApiRequest,
    now: i64,
) -> Reply {
    let (path, query) = uri::split(request.target);
    let Some(route) = Route::parse(path) else {
        return Reply::empty(404);
    };
    let compressed = match route {
        Route::AllApps | Route::Delta => flavour.compresses(CachedRead::Registry),
        _ => flavour.compresses(CachedRead::App),
    };
    let call = Call {
        params: uri::query_params(query),
        replication: request.header(REPLICATION_HEADER) == Some("true"),
        format: Format::from_accept(request.header("Accept")),
        detail: Detail::from_header(request.header("X-Eureka-Accept")),
        gzip: compressed
            && request
                .header("Accept-Encoding")
                .is_some_and(|encodings| encodings.contains("gzip")),
        now,
    };
    // Jersey answers HEAD with the GET resource.
    let method = match request.method {
        "HEAD" => "GET",
        other => other,
    };
    match (route, method) {
        (Route::AllApps, "GET") => cached(registry, Entity::AllApps, &call),
        (Route::Delta, "GET") => cached(registry, Entity::Delta, &call),
        (Route::App(app), "GET") => cached(registry, Entity::App(app), &call),
        (Route::App(app), "POST") => register(
            registry,
            &app,
            request.header("Content-Type"),
            request.body,
            &call,
        ),
        (Route::Instance(app, id), "GET") => instance(registry.live_lease(&app, &id, now), &call),
        (Route::Instance(app, id), "PUT") => renew(registry, &app, &id, &call),
        (Route::Instance(app, id), "DELETE") => cancel(registry, &app, &id, &call),
        (Route::Status(app, id), "PUT") => update_status(registry, &app, &id, &call),
        (Route::Status(app, id), "DELETE") => delete_status_override(registry, &app, &id, &call),
        (Route::Metadata(app, id), "PUT") => update_metadata(registry, &app, &id, &call),
        (Route::InstanceById(id), "GET") => {
            instance(registry.first_live_lease_by_id(&id, now), &call)
        }
        _ => Reply::empty(405),
    }
}

/// `GET apps/`, `apps/delta`, `apps/{APP}`: through the response cache; an empty payload is 404.
/// With `call.gzip` the cached payload goes out compressed, as `getGZIP` (or the war's filter)
/// serves it.
fn cached(registry: &mut Registry, entity: Entity, call: &Call) -> Reply {
    let key = CacheKey {
        entity,
        format: call.format,
        detail: call.detail,
    };
    match registry.cached_payload(key.clone(), call.now) {
        Some(payload) if call.gzip => {
            let body = registry.gzipped_payload(&key, &payload, gzip);
            Reply::with_body(200, call.format.content_type(), body)
                .header("Content-Encoding", "gzip")
        }
        Some(payload) => Reply::with_body(200, call.format.content_type(), payload),
        None => Reply::empty(404),
    }
}

fn gzip(payload: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder
        .write_all(payload)
        .and_then(|()| encoder.finish())
        .expect("compressing into memory cannot fail")
}

fn instance(lease: Option<&Lease>, call: &Call) -> Reply {
    match lease {
        Some(lease) => Reply::with_body(
            200,
            call.format.content_type(),
            Document::Instance(lease).render(call.format),
        ),
        None => Reply::empty(404),
    }
}

/// `POST apps/{APP}` (`ApplicationResource.addInstance` behind `DiscoveryJerseyProvider`).
pub(crate) fn register(
    registry: &mut Registry,
    app: &str,
    content_type: Option<&str>,
    body: &str,
    call: &Call,
) -> Reply {
    let Some(media_type) = content_type.map(MediaType::parse) else {
        return Reply::empty(415);
    };
    // The server also reads XML bodies; the double reads JSON only and says so with a 415.
    if media_type.essence != "application/json" || !media_type.has_supported_charset() {
        return Reply::empty(415);
    }
    let instance = match registration::parse_json(body, call.now) {
        Ok(instance) => instance,
        Err(Unparsable) => return cannot_parse(&media_type, content_type.unwrap_or_default()),
    };
    if let Err(text) = registration::validate(&instance, app) {
        return Reply::with_body(400, call.format.content_type(), text);
    }
    registry.register(instance, call.replication, call.now);
    Reply::empty(204)
}

/// `DiscoveryJerseyProvider.createErrorReply`: a JSON message only for exactly
/// `application/json`, otherwise an XML one, typed as the request body was.
fn cannot_parse(media_type: &MediaType, content_type: &str) -> Reply {
    const MESSAGE: &str = "cannot parse request body";
    if media_type.params.is_empty() {
        Reply::with_body(
            400,
            "application/json",
            format!("{{\"error\": \"{MESSAGE}\"}}"),
        )
    } else {
        Reply::with_body(
            400,
            content_type.trim(),
            format!("<error><message>{MESSAGE}</message></error>"),
        )
    }
}

/// `PUT apps/{APP}/{ID}` (`InstanceResource.renewLease`): the `lastDirtyTimestamp` comparison
/// happens after the lease was renewed.
pub(crate) fn renew(registry: &mut Registry, app: &str, id: &str, call: &Call) -> Reply {
    if !registry.renew(app, id, call.replication, call.now) {
        return Reply::empty(404);
    }
    let Some(timestamp) = call.param("lastDirtyTimestamp") else {
        return Reply::empty(200);
    };
    let Ok(timestamp) = timestamp.parse::<i64>() else {
        return Reply::empty(500);
    };
    let reply = match registry.live_lease(app, id, call.now) {
        Some(lease) if timestamp > lease.holder.last_dirty_timestamp => Reply::empty(404),
        Some(lease) if timestamp < lease.holder.last_dirty_timestamp && call.replication => {
            Reply::with_body(
                409,
                call.format.content_type(),
                Document::Instance(lease).render(call.format),
            )
        }
        _ => Reply::empty(200),
    };
    let replicated_override = call
        .param("overriddenstatus")
        .filter(|status| call.replication && *status != "UNKNOWN" && reply.status == 404);
    match replicated_override.map(Status::value_of) {
        None => reply,
        Some(Some(status)) if registry.store_override_if_required(app, id, status, call.now) => {
            reply
        }
        Some(_) => Reply::empty(500),
    }
}

/// `DELETE apps/{APP}/{ID}`.
fn cancel(registry: &mut Registry, app: &str, id: &str, call: &Call) -> Reply {
    found_or_404(registry.cancel(app, id, call.now))
}

/// `PUT apps/{APP}/{ID}/status?value=S`: 404 first, then 500 for a missing or inexact value.
pub(crate) fn update_status(registry: &mut Registry, app: &str, id: &str, call: &Call) -> Reply {
    if registry.live_lease(app, id, call.now).is_none() {
        return Reply::empty(404);
    }
    let Some(status) = call.param("value").and_then(Status::value_of) else {
        return Reply::empty(500);
    };
    status_reply(registry.update_status(
        app,
        id,
        status,
        call.param("lastDirtyTimestamp"),
        call.now,
    ))
}

/// `DELETE apps/{APP}/{ID}/status[?value=S]`: without a value the status becomes UNKNOWN.
pub(crate) fn delete_status_override(
    registry: &mut Registry,
    app: &str,
    id: &str,
    call: &Call,
) -> Reply {
    if registry.live_lease(app, id, call.now).is_none() {
        return Reply::empty(404);
    }
    let status = match call.param("value") {
        None => Status::Unknown,
        Some(value) => match Status::value_of(value) {
            Some(status) => status,
            None => return Reply::empty(500),
        },
    };
    status_reply(registry.delete_status_override(
        app,
        id,
        status,
        call.param("lastDirtyTimestamp"),
        call.now,
    ))
}

fn status_reply(change: StatusChange) -> Reply {
    Reply::empty(match change {
        StatusChange::Applied => 200,
        StatusChange::NotFound | StatusChange::BadDirtyTimestamp => 500,
    })
}

/// `PUT apps/{APP}/{ID}/metadata?key=value…`.
fn update_metadata(registry: &mut Registry, app: &str, id: &str, call: &Call) -> Reply {
    found_or_404(registry.update_metadata(app, id, &call.params, call.now))
}

fn found_or_404(found: bool) -> Reply {
    Reply::empty(if found { 200 } else { 404 })
}

/// A `Content-Type` value as Jersey's `MediaType` sees it.
struct MediaType {
    /// `type/subtype`, lower case.
    essence: String,
    params: Vec<(String, String)>,
}

impl MediaType {
    fn parse(value: &str) -> MediaType {
        let mut parts = value.split(';');
        let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let params = parts
            .filter_map(|part| part.split_once('='))
            .map(|(name, value)| {
                (
                    name.trim().to_ascii_lowercase(),
                    value.trim().trim_matches('"').to_owned(),
                )
            })
            .collect();
        MediaType { essence, params }
    }

    /// `DiscoveryJerseyProvider.isSupportedCharset`: none, UTF-8 or ISO-8859-1.
    fn has_supported_charset(&self) -> bool {
        pairs::get(&self.params, "charset").is_none_or(|charset| {
            charset.eq_ignore_ascii_case("UTF-8") || charset.eq_ignore_ascii_case("ISO-8859-1")
        })
    }
}
