//! The HTTP API (axum): upload, call state, transcript, findings, original audio with Range,
//! search, and clients' rule sets (store, show, re-run over the archive).
//!
//! Uploads are answered as soon as the recording is stored and catalogued (202); transcription
//! runs on a bounded pool of workers so that requests stay fast while Whisper works. Calls left
//! unfinished by a stop are queued again at start-up.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use crate::app::IngestError;
use anyhow::{Context, Result};
use axum::extract::FromRequestParts;
use axum::extract::{DefaultBodyLimit, Multipart, Path as UrlPath, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use callproof_ingest::DecodeError;
use callproof_models::{CallId, CallMetadata, ClientId, Speaker};
use callproof_search::SearchRequest;
use chrono::{DateTime, FixedOffset};
use clap::Args;
use serde::Deserialize;

use crate::app::{App, Settings};
use crate::service::{allow, client_named, AuditAction, Caller, Permission, ServiceError};

mod audit;
mod calls;
mod compliance;
mod openapi;
mod quality;
mod rules;
mod search;
mod ui;

use audit::*;
use calls::*;
use compliance::*;
use openapi::{openapi_json, ErrorBody, UploadForm};
use quality::*;
use rules::*;
use search::*;

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "CALLPROOF_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Worker processes started beside the server, each transcribing one call at a time with
    /// --threads threads: keep workers × threads at or below the free cores. 0 leaves the work
    /// to `callproof worker` processes started separately (on this machine or others sharing
    /// the data folder).
    #[arg(long, env = "CALLPROOF_WORKERS", default_value_t = 1)]
    pub workers: usize,
    /// Seal the audit log with a signed checkpoint in the object store this often (minutes;
    /// 0: never, leave it to `callproof audit checkpoint`).
    #[arg(
        long = "audit-checkpoint-minutes",
        env = "CALLPROOF_AUDIT_CHECKPOINT_MINUTES",
        default_value_t = 15
    )]
    pub audit_checkpoint_minutes: u64,
}

#[derive(Clone)]
struct Ctx {
    app: Arc<App>,
}

/// An error answered as JSON `{"error": "..."}`.
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response();
        if self.0 == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        resp
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        ServiceError::from(e).into()
    }
}

/// The one place where the service's errors become HTTP statuses.
impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let status = match &e {
            ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
            ServiceError::Forbidden(_) => StatusCode::FORBIDDEN,
            ServiceError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ServiceError::Conflict(_) | ServiceError::NotReady(_) => StatusCode::CONFLICT,
            ServiceError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError(status, e.to_string())
    }
}

/// The authenticated caller of a request: its API key, as the service's [`Caller`].
impl FromRequestParts<Ctx> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &Ctx) -> Result<Self, Self::Rejection> {
        let header_value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.trim()
                    .strip_prefix("Bearer ")
                    .unwrap_or(v)
                    .trim()
                    .to_string()
            })
            .or_else(|| {
                parts
                    .headers
                    .get("x-api-key")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            })
            .map(Credential::Key)
            // The web interface's session cookie (HttpOnly, SameSite=Strict), so that the
            // page's audio element and downloads pass the same checks as any API call.
            .or_else(|| ui::cookie_session(&parts.headers).map(Credential::Session));
        let unauthorized =
            |e: crate::auth::AuthError| ApiError(StatusCode::UNAUTHORIZED, e.to_string());
        let credential =
            header_value.ok_or_else(|| unauthorized(crate::auth::AuthError::Missing))?;
        let app = ctx.app.clone();
        let key = tokio::spawn(async move {
            match credential {
                Credential::Key(token) => app.authenticate(&token).await,
                Credential::Session(token) => app.authenticate_session(&token).await,
            }
        })
        .await
        .map_err(internal)?
        .map_err(unauthorized)?;
        Ok(Caller::key(key))
    }
}

/// How a request says who it is.
enum Credential {
    /// An API key, in `Authorization: Bearer` or `X-Api-Key`.
    Key(String),
    /// A web session id, in the session cookie.
    Session(String),
}

/// Refuses a state-changing request that a browser sent from another site. A request that
/// carries no key of its own (the browser adds the session cookie by itself) must come with an
/// `Origin` (or, failing that, a `Referer`) naming this server; an `Origin` naming another site
/// is refused whatever the request carries. SameSite=Strict cookies are the first line; this is
/// the second, for browsers and proxies that do not honour it.
async fn same_origin(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Result<Response, ApiError> {
    use axum::http::Method;
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(next.run(req).await);
    }
    let h = req.headers();
    let text = |name: header::HeaderName| h.get(name).and_then(|v| v.to_str().ok());
    let host = h
        .get("x-forwarded-host")
        .and_then(|v| v.to_str().ok())
        .or_else(|| text(header::HOST))
        .unwrap_or_default()
        .to_ascii_lowercase();
    let host_of = |url: &str| {
        url.split_once("://").map(|(_, rest)| {
            rest.split('/')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase()
        })
    };
    let origin = text(header::ORIGIN).filter(|o| *o != "null");
    let from = origin.or_else(|| text(header::REFERER)).and_then(host_of);
    let own_key = h.contains_key(header::AUTHORIZATION) || h.contains_key("x-api-key");
    let refused = match &from {
        Some(from) => *from != host,
        None => !own_key,
    };
    if refused {
        return Err(ApiError(
            StatusCode::FORBIDDEN,
            format!(
                "cross-site request refused: a {} from a browser must come from this server's own pages (Origin {}); API clients send their key in the Authorization header",
                req.method(),
                from.as_deref().unwrap_or("missing")
            ),
        ));
    }
    Ok(next.run(req).await)
}

/// Every refusal of the API is JSON `{"error": …}`, including those axum answers itself (a
/// query string or body that does not deserialise, an unknown route, a wrong method), which
/// are plain text or empty otherwise.
async fn json_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let what = format!("{} {}", req.method(), req.uri().path());
    let resp = next.run(req).await;
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !api || is_json || !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 64 << 10)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let text = match (status, text.is_empty()) {
        (StatusCode::NOT_FOUND, true) => {
            format!("no such endpoint: {what}; the README's \"HTTP API\" section lists them")
        }
        (StatusCode::METHOD_NOT_ALLOWED, true) => {
            format!("{what} is not allowed on this endpoint; the README's \"HTTP API\" section lists the methods")
        }
        (_, true) => status
            .canonical_reason()
            .unwrap_or("request refused")
            .to_string(),
        (_, false) => text,
    };
    let mut out = ApiError(status, text).into_response();
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

fn not_found(id: &str) -> ApiError {
    ApiError(StatusCode::NOT_FOUND, format!("no call {id}"))
}

fn parse_id(id: &str) -> Result<CallId, ApiError> {
    id.parse().map_err(|_| not_found(id))
}

pub async fn serve(data: &Path, settings: Settings, args: ServeArgs) -> Result<ExitCode> {
    let app = Arc::new(App::open(data, settings).await?);
    // Load the model now: a missing model is a start-up error, not a failure per upload.
    app.engine()?;
    {
        // Transcription (untrusted files through decoders and whisper.cpp) runs in worker
        // processes: one that crashes takes only itself down, and its job is retried, then
        // dead-lettered. Index writes stay here, in the one indexer.
        crate::worker::recover_orphans(&app).await?;
        app.remove_unfinished_uploads().await?;
        if let Some(why) =
            crate::app::oversubscription(args.workers, app.settings.threads, crate::app::cores())
        {
            tracing::warn!("{why}");
        }
        for slot in 0..args.workers {
            tokio::spawn(crate::worker::supervise(slot, app.clone(), data_dir(data)));
        }
        tokio::spawn(crate::worker::indexer(app.clone()));
        tokio::spawn(crate::retention::janitor(app.clone()));
        if args.audit_checkpoint_minutes > 0 {
            tokio::spawn(crate::checkpoints::checkpointer(
                app.clone(),
                std::time::Duration::from_secs(args.audit_checkpoint_minutes * 60),
            ));
        }
        let ctx_engines = app.settings.engines.describe(data);
        let ctx = Ctx { app };
        let router = router(ctx);
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        eprintln!("{}", ctx_engines);
        eprintln!("callproof listening on http://{}", listener.local_addr()?);
        axum::serve(listener, router)
            .with_graceful_shutdown(shutdown())
            .await?;
        Ok(ExitCode::SUCCESS)
    }
}

fn data_dir(data: &Path) -> std::path::PathBuf {
    std::path::absolute(data).unwrap_or_else(|_| data.to_path_buf())
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return ctrl_c.await.unwrap_or(()),
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

fn router(ctx: Ctx) -> Router {
    // The largest body: one recording at the upload limit and its metadata part.
    let body_limit = ctx
        .app
        .settings
        .limits
        .max_upload_bytes()
        .saturating_add(2 * crate::limits::MAX_METADATA_BYTES as u64);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/v1/calls", post(upload))
        .route("/api/v1/calls/{id}", get(get_call))
        .route("/api/v1/calls/{id}/transcript", get(get_transcript))
        .route("/api/v1/calls/{id}/audio", get(get_audio))
        .route("/api/v1/calls/{id}/energy", get(get_energy))
        .route("/api/v1/calls/{id}/findings", get(get_findings))
        .route(
            "/api/v1/clients/{client}/rules",
            get(get_rules).put(put_rules),
        )
        .route("/api/v1/clients/{client}/verify", post(reverify))
        .route("/api/v1/calls/{id}/evidence", post(create_evidence))
        .route("/api/v1/evidence/public-key", get(evidence_key))
        .route("/api/v1/audit", get(list_audit))
        .route("/api/v1/samples", get(list_samples).post(create_sample))
        .route("/api/v1/samples/{id}", get(get_sample))
        .route(
            "/api/v1/calls/{id}/reviews",
            get(get_reviews).post(post_review),
        )
        .route("/api/v1/calibrations", post(post_calibration))
        .route("/api/v1/calibrations/{id}", get(get_calibration))
        .route("/api/v1/stats", get(get_stats))
        .route("/api/v1/clients/{client}/rules/report", get(rules_report))
        .route("/api/v1/export/findings.csv", get(export_findings))
        .route("/api/v1/export/reviews.csv", get(export_reviews))
        .route("/api/v1/search", get(search))
        .route("/api/v1/holds", get(list_holds).post(place_hold))
        .route("/api/v1/holds/{id}/release", post(release_hold))
        .route("/api/v1/erasures", post(erase))
        .route("/api/v1/openapi.json", get(openapi_json))
        .merge(ui::routes())
        .layer(axum::middleware::from_fn(same_origin))
        .layer(axum::middleware::from_fn(json_errors))
        .layer(axum::middleware::from_fn(count_requests))
        .layer(DefaultBodyLimit::max(
            usize::try_from(body_limit).unwrap_or(usize::MAX),
        ))
        .with_state(ctx)
}

/// Counts every answered request under its route template (`/api/v1/calls/{id}`, or
/// `unmatched` for a path no route has: the raw path would let any caller grow the labels).
async fn count_requests(
    matched: Option<axum::extract::MatchedPath>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let route = matched.map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let method = req.method().as_str().to_string();
    let resp = next.run(req).await;
    crate::metrics::request(&route, &method, resp.status().as_u16());
    resp
}

/// `GET /metrics`: Prometheus metrics, for an administrator's key (Prometheus sends it as its
/// bearer token).
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus (OpenMetrics) text: calls by state, jobs by kind and state, transcription seconds per audio second, requests by route and status, search latency", content_type = "application/openmetrics-text", body = String), (status = 403, description = "Not an administrator's key", body = ErrorBody)))]
async fn metrics(State(ctx): State<Ctx>, caller: Caller) -> Result<Response, ApiError> {
    let ops = ctx.app.operations(&caller).await?;
    let body = crate::metrics::render(&ops).map_err(internal)?;
    let mut resp = body.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    Ok(resp)
}

#[utoipa::path(get, path = "/healthz", security(()), responses((status = 200, description = "Alive; the model in use", body = Object)))]
async fn healthz(State(ctx): State<Ctx>) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "status": "ok",
        "model": ctx.app.settings.model,
    }))
}

/// A file to download: `body` with its content type and a file name.
fn attachment(body: impl IntoResponse, content_type: &'static str, name: &str) -> Response {
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Only a safe file name reaches the header, whatever the caller named.
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

fn csv_response(body: String, name: &str) -> Response {
    attachment(body, "text/csv; charset=utf-8", name)
}

/// An evidence bundle as the API and the web page's button both answer it.
fn bundle_response(id: &str, zip: Vec<u8>) -> Response {
    attachment(zip, "application/zip", &format!("evidence-{id}.zip"))
}

/// RFC 3339, forgiving the `+` of an offset that arrived unencoded (it decodes as a space).
fn parse_time(
    name: &str,
    value: Option<String>,
) -> Result<Option<DateTime<FixedOffset>>, ApiError> {
    value
        .map(|v| {
            DateTime::parse_from_rfc3339(&v.replace(' ', "+")).map_err(|e| {
                ApiError(
                    StatusCode::BAD_REQUEST,
                    format!("{name}={v:?} is not an RFC 3339 time ({e}); example: 2026-03-02T10:15:00%2B01:00"),
                )
            })
        })
        .transpose()
}
