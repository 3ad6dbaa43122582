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
use callproof_models::{CallId, CallMetadata, Speaker};
use callproof_search::SearchRequest;
use chrono::{DateTime, FixedOffset};
use clap::Args;
use serde::Deserialize;

use crate::app::{App, Settings};
use crate::service::{allow, AuditAction, Caller, Permission, ServiceError};

mod ui;

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
}

#[derive(Clone)]
struct Ctx {
    app: Arc<App>,
}

/// An error answered as JSON `{"error": "..."}`.
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
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
            // The web interface's session cookie (HttpOnly, SameSite=Strict).
            .or_else(|| ui::cookie_key(&parts.headers));
        let unauthorized =
            |e: crate::auth::AuthError| ApiError(StatusCode::UNAUTHORIZED, e.to_string());
        let token = header_value.ok_or_else(|| unauthorized(crate::auth::AuthError::Missing))?;
        let app = ctx.app.clone();
        let key = tokio::task::spawn_blocking(move || app.authenticate(&token))
            .await
            .map_err(internal)?
            .map_err(unauthorized)?;
        Ok(Caller::key(key))
    }
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

pub fn serve(data: &Path, settings: Settings, args: ServeArgs) -> Result<ExitCode> {
    let app = Arc::new(App::open(data, settings)?);
    // Load the model now: a missing model is a start-up error, not a failure per upload.
    app.engine()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        // Transcription (untrusted files through decoders and whisper.cpp) runs in worker
        // processes: one that crashes takes only itself down, and its job is retried, then
        // dead-lettered. Index writes stay here, in the one indexer.
        crate::worker::recover_orphans(&app)?;
        for slot in 0..args.workers {
            tokio::spawn(crate::worker::supervise(slot, app.clone(), data_dir(data)));
        }
        tokio::spawn(crate::worker::indexer(app.clone()));
        let ctx = Ctx { app };
        let router = router(ctx);
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        eprintln!("callproof listening on http://{}", listener.local_addr()?);
        axum::serve(listener, router)
            .with_graceful_shutdown(shutdown())
            .await?;
        Ok(ExitCode::SUCCESS)
    })
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
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/v1/calls", post(upload))
        .route("/api/v1/calls/{id}", get(get_call))
        .route("/api/v1/calls/{id}/transcript", get(get_transcript))
        .route("/api/v1/calls/{id}/audio", get(get_audio))
        .route("/api/v1/calls/{id}/findings", get(get_findings))
        .route(
            "/api/v1/clients/{client}/rules",
            get(get_rules).put(put_rules),
        )
        .route("/api/v1/clients/{client}/verify", post(reverify))
        .route("/api/v1/calls/{id}/evidence", post(create_evidence))
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
        .merge(ui::routes())
        .layer(DefaultBodyLimit::max(1 << 30))
        .with_state(ctx)
}

async fn healthz(State(ctx): State<Ctx>) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "status": "ok",
        "model": ctx.app.settings.model,
    }))
}

async fn upload(
    State(ctx): State<Ctx>,
    caller: Caller,
    mut multipart: Multipart,
) -> Result<Response, ApiError> {
    let bad = |m: String| ApiError(StatusCode::BAD_REQUEST, m);
    let mut audio: Option<(Bytes, Option<String>)> = None;
    let mut metadata: Option<CallMetadata> = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| bad(format!("malformed multipart body: {e}")))?
    {
        match field.name() {
            Some("audio") => {
                let name = field.file_name().map(str::to_string);
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| bad(format!("reading the audio part: {e}")))?;
                audio = Some((bytes, name));
            }
            Some("metadata") => {
                let text = field
                    .text()
                    .await
                    .map_err(|e| bad(format!("reading the metadata part: {e}")))?;
                metadata = Some(
                    serde_json::from_str(&text)
                        .map_err(|e| bad(format!("the metadata part is not valid call metadata: {e}")))?,
                );
            }
            Some(other) => {
                return Err(bad(format!(
                    "unexpected part {other:?}: send an \"audio\" file part and a \"metadata\" JSON part"
                )))
            }
            None => {}
        }
    }
    let (bytes, name) = audio.ok_or_else(|| bad("the \"audio\" file part is missing".into()))?;
    let metadata = metadata.ok_or_else(|| {
        bad("the \"metadata\" part is missing: a JSON object with at least \"client\"".into())
    })?;
    allow(&caller, Permission::Upload(&metadata.client))?;
    // A call the model cannot transcribe (e.g. French with tiny.en) is refused before storing.
    let app = ctx.app.clone();
    let check = move |m: &CallMetadata| app.check_language(m).map_err(|e| format!("{e:#}"));
    match ctx
        .app
        .ingest(bytes, name.as_deref(), metadata, &check)
        .await
    {
        Ok(ingested) => {
            let id = ingested.call.id;
            let mut resp = (StatusCode::ACCEPTED, Json(ingested.call)).into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/calls/{id}")) {
                resp.headers_mut().insert(header::LOCATION, v);
            }
            Ok(resp)
        }
        Err(e) => {
            let status = match &e {
                IngestError::Duplicate { .. } => StatusCode::CONFLICT,
                IngestError::Metadata(_) => StatusCode::BAD_REQUEST,
                IngestError::Rejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
                IngestError::Decode(
                    DecodeError::UnsupportedCodec { .. } | DecodeError::NotAudio(_),
                ) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                IngestError::Decode(_) => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            Err(ApiError(status, e.to_string()))
        }
    }
}

async fn get_call(
    State(ctx): State<Ctx>,
    caller: Caller,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    let cid = parse_id(&id)?;
    // The call's metadata holds the customer's phone number: a read of personal data.
    Ok(Json(ctx.app.read_call(&caller, cid)?).into_response())
}

async fn get_transcript(
    State(ctx): State<Ctx>,
    caller: Caller,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    let cid = parse_id(&id)?;
    Ok(Json(ctx.app.read_transcript(&caller, cid)?).into_response())
}

async fn get_findings(
    State(ctx): State<Ctx>,
    caller: Caller,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    let cid = parse_id(&id)?;
    Ok(Json(ctx.app.read_findings(&caller, cid)?).into_response())
}

/// The client's active rule set, or the built-in packs that apply when it has none.
async fn get_rules(
    State(ctx): State<Ctx>,
    caller: Caller,
    UrlPath(client): UrlPath<String>,
) -> Result<Response, ApiError> {
    Ok(Json(ctx.app.active_rules(&caller, &client)?).into_response())
}

/// Validates a rule set (TOML body) and stores it as the client's active one. A malformed
/// file is answered 422 with the line, column and field at fault.
async fn put_rules(
    State(ctx): State<Ctx>,
    caller: Caller,
    UrlPath(client): UrlPath<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    if let Err(e) = allow(&caller, Permission::ChangeRules(&client)) {
        let outcome = match e {
            ServiceError::NotFound(_) => "not_found",
            _ => "denied",
        };
        ctx.app
            .record(&caller, AuditAction::PutRules, Some(&client), outcome)?;
        return Err(e.into());
    }
    let source = String::from_utf8(body.to_vec()).map_err(|_| {
        ApiError(
            StatusCode::BAD_REQUEST,
            "the rule set must be UTF-8 TOML text".into(),
        )
    })?;
    let app = ctx.app.clone();
    let c = client.clone();
    let res = tokio::task::spawn_blocking(move || app.store_rules(&c, &source))
        .await
        .map_err(internal)?;
    let outcome = match &res {
        Ok((stored, _)) => format!("ok version {}", stored.version),
        Err(_) => "invalid".to_string(),
    };
    ctx.app
        .record(&caller, AuditAction::PutRules, Some(&client), &outcome)?;
    match res {
        Ok((stored, book)) => Ok((
            StatusCode::OK,
            Json(serde_json::json!({
                "client": stored.client,
                "version": stored.version,
                "sha256": stored.sha256,
                "created_at": stored.created_at,
                "extends": book.extends,
                "language": book.language,
                "rules": book.rules.iter().map(|r| serde_json::json!({
                    "id": r.id,
                    "kind": r.kind,
                    "description": r.description,
                })).collect::<Vec<_>>(),
                "next": format!("new calls are checked with it; POST /api/v1/clients/{client}/verify re-checks the archive"),
            })),
        )
            .into_response()),
        Err(crate::app::RulesError::Invalid(e)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(serde_json::json!({
                "error": e.to_string(),
                "line": e.line,
                "column": e.column,
                "field": e.field,
                "message": e.message,
            })),
        )
            .into_response()),
        Err(e @ crate::app::RulesError::WrongClient { .. }) => {
            Err(ApiError(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))
        }
        Err(crate::app::RulesError::Catalog(
            e @ callproof_metastore::MetastoreError::RuleSetVersionTaken { .. },
        )) => Err(ApiError(StatusCode::CONFLICT, e.to_string())),
        Err(e) => Err(internal(e)),
    }
}

#[derive(Deserialize)]
struct VerifyParams {
    #[serde(default)]
    dry_run: bool,
}

/// Re-checks the client's archive with its active rule set; answers the verdicts that changed.
async fn reverify(
    State(ctx): State<Ctx>,
    caller: Caller,
    UrlPath(client): UrlPath<String>,
    Query(p): Query<VerifyParams>,
) -> Result<Response, ApiError> {
    allow(&caller, Permission::ChangeRules(&client))?;
    ctx.app
        .record(&caller, AuditAction::Reverify, Some(&client), "ok")?;
    let app = ctx.app.clone();
    let report = tokio::task::spawn_blocking(move || {
        app.reverify_client(&client, None, p.dry_run, &|_, _| {})
    })
    .await
    .map_err(internal)??;
    Ok(Json(report).into_response())
}

#[derive(Deserialize)]
struct EvidenceParams {
    #[serde(default)]
    include_original: bool,
}

/// A signed proof-of-consent bundle (application/zip) for a call the caller may see.
async fn create_evidence(
    State(ctx): State<Ctx>,
    caller: Caller,
    UrlPath(id): UrlPath<String>,
    Query(p): Query<EvidenceParams>,
) -> Result<Response, ApiError> {
    let cid = parse_id(&id)?;
    // The audit log records the canonical id, whatever spelling the caller used.
    let id = cid.to_string();
    let zip = ctx
        .app
        .evidence(cid, &caller.scope(), &caller.actor(), p.include_original)
        .await?
        .ok_or_else(|| not_found(&id))?;
    Ok(bundle_response(&id, zip))
}

#[derive(Deserialize)]
struct AuditParams {
    key_id: Option<String>,
    action: Option<String>,
    tenant: Option<String>,
    target: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<usize>,
}

/// The audit log (administrators only), oldest first, filtered.
async fn list_audit(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(p): Query<AuditParams>,
) -> Result<Response, ApiError> {
    let utc = |n: &str, v: Option<String>| {
        parse_time(n, v).map(|t| t.map(|t| t.with_timezone(&chrono::Utc)))
    };
    let filter = callproof_metastore::AuditFilter {
        key_id: p.key_id,
        action: p.action,
        tenant: p.tenant,
        target: p.target,
        from: utc("from", p.from)?,
        to: utc("to", p.to)?,
        limit: p.limit,
    };
    let entries = ctx.app.audit_log(&caller, &filter)?;
    Ok(Json(serde_json::json!({ "entries": entries })).into_response())
}

/// An application error from a request that could not be honoured as asked (422), or a fault.
fn unprocessable(e: anyhow::Error) -> ApiError {
    crate::service::request_error(e).into()
}

async fn create_sample(
    State(ctx): State<Ctx>,
    caller: Caller,
    body: Result<Json<callproof_models::SampleParams>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(params) = body.map_err(|e| ApiError(StatusCode::BAD_REQUEST, format!("{e}; fields: client, from, to, strata ([\"agent\",\"campaign\"]), per_stratum or percent, min_per_stratum, only, violation_weight, seed, name")))?;
    allow(&caller, Permission::Review)?;
    allow(&caller, Permission::SeeClient(&params.client))?;
    let app = ctx.app.clone();
    let actor = caller.actor();
    let sample = tokio::task::spawn_blocking(move || app.create_sample(params, &actor))
        .await
        .map_err(internal)?
        .map_err(unprocessable)?;
    Ok((StatusCode::CREATED, Json(sample)).into_response())
}

async fn list_samples(State(ctx): State<Ctx>, caller: Caller) -> Result<Response, ApiError> {
    let samples = ctx.app.list_samples(&caller)?;
    Ok(Json(serde_json::json!({ "samples": samples })).into_response())
}

/// A sample with its review progress: how many reviews each call has.
async fn get_sample(
    State(ctx): State<Ctx>,
    caller: Caller,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    let (sample, reviews) = ctx.app.sample_with_reviews(&caller, &id)?;
    let mut progress = Vec::new();
    for (c, latest) in sample.calls.iter().zip(&reviews) {
        progress.push(serde_json::json!({
            "call_id": c.call_id,
            "stratum": c.stratum,
            "verdict": c.verdict,
            "reviews": latest.len(),
            "reviewed_verdict": latest.last().map(|r| r.reviewed_verdict),
        }));
    }
    let reviewed = progress.iter().filter(|p| p["reviews"] != 0).count();
    Ok(Json(serde_json::json!({
        "sample": sample,
        "reviewed": reviewed,
        "calls": progress,
    }))
    .into_response())
}

async fn post_review(
    State(ctx): State<Ctx>,
    caller: Caller,
    UrlPath(id): UrlPath<String>,
    body: Result<Json<callproof_models::ReviewInput>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let cid = parse_id(&id)?;
    // The audit log records the canonical id, whatever spelling the caller used.
    let id = cid.to_string();
    allow(&caller, Permission::Review)?;
    let Json(input) = body.map_err(|e| ApiError(StatusCode::BAD_REQUEST, format!("{e}; fields: decisions [{{rule_id, decision: confirm|overrule, reason, corrected_outcome, corrected_start_ms}}], added [{{rule_id, outcome, speaker, start_ms, end_ms, note}}], scores {{criterion: 0..5}}, comment, sample_id, calibration_id")))?;
    let app = ctx.app.clone();
    let (scope, actor) = (caller.scope(), caller.actor());
    let review = tokio::task::spawn_blocking(move || app.submit_review(cid, &scope, &actor, input))
        .await
        .map_err(internal)?
        .map_err(unprocessable)?
        .ok_or_else(|| not_found(&id))?;
    Ok((StatusCode::CREATED, Json(review)).into_response())
}

async fn get_reviews(
    State(ctx): State<Ctx>,
    caller: Caller,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    let cid = parse_id(&id)?;
    // The audit log records the canonical id, whatever spelling the caller used.
    let id = cid.to_string();
    allow(&caller, Permission::Staff)?;
    let reviews = ctx
        .app
        .visible_reviews(cid, &caller.scope(), &caller.actor())
        .map_err(internal)?
        .ok_or_else(|| not_found(&id))?;
    Ok(Json(serde_json::json!({ "reviews": reviews })).into_response())
}

#[derive(Deserialize)]
struct CalibrationRequest {
    call_id: String,
    reviewers: Vec<String>,
}

async fn post_calibration(
    State(ctx): State<Ctx>,
    caller: Caller,
    Json(req): Json<CalibrationRequest>,
) -> Result<Response, ApiError> {
    allow(&caller, Permission::Review)?;
    let cid = parse_id(&req.call_id)?;
    let c = ctx
        .app
        .create_calibration(cid, &caller.scope(), &caller.actor(), req.reviewers)
        .map_err(unprocessable)?
        .ok_or_else(|| not_found(&req.call_id))?;
    Ok((StatusCode::CREATED, Json(c)).into_response())
}

async fn get_calibration(
    State(ctx): State<Ctx>,
    caller: Caller,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    allow(&caller, Permission::Staff)?;
    let view = ctx
        .app
        .calibration_view(&id, &caller.scope(), &caller.actor())
        .map_err(internal)?
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no calibration {id}")))?;
    Ok(Json(view).into_response())
}

#[derive(Deserialize)]
struct PeriodParams {
    client: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// A client and a period `[from, to)`.
type Period = (
    String,
    Option<chrono::DateTime<chrono::Utc>>,
    Option<chrono::DateTime<chrono::Utc>>,
);

fn period(caller: &Caller, p: PeriodParams) -> Result<Period, ApiError> {
    let client = match (p.client, caller.scope().clients()) {
        (Some(c), _) => c,
        (None, Some([only])) => only.clone(),
        _ => {
            return Err(ApiError(
                StatusCode::BAD_REQUEST,
                "give client=<tenant>".into(),
            ))
        }
    };
    allow(caller, Permission::SeeClient(&client))?;
    let utc = |n: &str, v: Option<String>| {
        parse_time(n, v).map(|t| t.map(|t| t.with_timezone(&chrono::Utc)))
    };
    Ok((client, utc("from", p.from)?, utc("to", p.to)?))
}

/// Violation rates per rule, agent, campaign and ISO week, with the counts behind them.
async fn get_stats(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(p): Query<PeriodParams>,
) -> Result<Response, ApiError> {
    let (client, from, to) = period(&caller, p)?;
    let calls = ctx.app.verified_calls(&caller, &client, from, to)?;
    Ok(Json(crate::quality::stats(&calls)).into_response())
}

async fn rules_report(
    State(ctx): State<Ctx>,
    caller: Caller,
    UrlPath(client): UrlPath<String>,
) -> Result<Response, ApiError> {
    allow(&caller, Permission::Staff)?;
    allow(&caller, Permission::SeeClient(&client))?;
    let report = ctx.app.rules_field_report(&client).map_err(internal)?;
    Ok(Json(serde_json::json!({ "client": client, "rules": report })).into_response())
}

/// A file to download: `body` with its content type and a file name.
fn attachment(body: impl IntoResponse, content_type: &'static str, name: &str) -> Response {
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
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

async fn export_findings(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(p): Query<PeriodParams>,
) -> Result<Response, ApiError> {
    let (client, from, to) = period(&caller, p)?;
    let calls = ctx.app.verified_calls(&caller, &client, from, to)?;
    let csv = crate::quality::findings_csv(&calls).map_err(internal)?;
    ctx.app
        .record(&caller, AuditAction::ExportFindings, Some(&client), "ok")?;
    Ok(csv_response(csv, &format!("findings-{client}.csv")))
}

async fn export_reviews(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(p): Query<PeriodParams>,
) -> Result<Response, ApiError> {
    allow(&caller, Permission::Staff)?;
    let (client, _, _) = period(&caller, p)?;
    let reviews = ctx
        .app
        .exportable_reviews(&client, &caller.actor())
        .map_err(internal)?;
    let csv = crate::quality::reviews_csv(&reviews).map_err(internal)?;
    ctx.app
        .record(&caller, AuditAction::ExportReviews, Some(&client), "ok")?;
    Ok(csv_response(csv, &format!("reviews-{client}.csv")))
}

fn content_type(format: &str) -> &'static str {
    match format.split('/').next().unwrap_or_default() {
        "wav" => "audio/wav",
        "mp3" => "audio/mpeg",
        "flac" => "audio/flac",
        "ogg" => "audio/ogg",
        "mp4" => "audio/mp4",
        "aac" => "audio/aac",
        "aiff" => "audio/aiff",
        _ => "application/octet-stream",
    }
}

#[derive(Deserialize)]
struct ExcerptParams {
    from_ms: Option<u64>,
    to_ms: Option<u64>,
}

async fn get_audio(
    State(ctx): State<Ctx>,
    caller: Caller,
    UrlPath(id): UrlPath<String>,
    Query(excerpt): Query<ExcerptParams>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let cid = parse_id(&id)?;
    // The audit log records the canonical id, whatever spelling the caller used.
    let id = cid.to_string();
    if excerpt.from_ms.is_some() || excerpt.to_ms.is_some() {
        let call = ctx.app.call_for(&caller, cid, AuditAction::ReadAudio)?;
        let duration = call.audio.as_ref().map_or(0, |a| a.duration_ms);
        let from = excerpt.from_ms.unwrap_or(0);
        let to = excerpt.to_ms.unwrap_or(duration).min(duration);
        if to <= from {
            return Err(ApiError(
                StatusCode::RANGE_NOT_SATISFIABLE,
                format!("from_ms {from} to to_ms {to} is empty or outside the recording ({duration} ms)"),
            ));
        }
        let wav = ctx
            .app
            .audio_excerpt(cid, &caller.scope(), from, to)
            .await?
            .ok_or_else(|| not_found(&id))?;
        ctx.app.record(
            &caller,
            AuditAction::ReadAudio,
            Some(&format!("{id}#{from}-{to}")),
            "ok",
        )?;
        let mut resp = (StatusCode::OK, wav).into_response();
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/wav"));
        return Ok(resp);
    }
    let (call, key, size) = ctx.app.original(&caller, cid).await?;
    let ctype = content_type(call.audio.as_ref().map(|a| a.format.as_str()).unwrap_or(""));
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|v| http_range_header::parse_range_header(v).and_then(|r| r.validate(size)));
    let mut resp = match range {
        Some(Ok(ranges)) if ranges.len() == 1 => {
            let r = &ranges[0];
            let (start, end) = (*r.start(), *r.end());
            let body = ctx.app.original_bytes(&key, Some(start..end + 1)).await?;
            let mut resp = (StatusCode::PARTIAL_CONTENT, body).into_response();
            resp.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes {start}-{end}/{size}")).map_err(internal)?,
            );
            resp
        }
        Some(Err(_)) => {
            let mut resp = ApiError(
                StatusCode::RANGE_NOT_SATISFIABLE,
                format!("the requested range is outside the recording ({size} bytes)"),
            )
            .into_response();
            resp.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{size}")).map_err(internal)?,
            );
            return Ok(resp);
        }
        // No Range, or several ranges (answered whole, which HTTP allows).
        _ => (StatusCode::OK, ctx.app.original_bytes(&key, None).await?).into_response(),
    };
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    Ok(resp)
}

#[derive(Deserialize)]
struct SearchParams {
    #[serde(default)]
    q: String,
    client: Option<String>,
    campaign: Option<String>,
    agent: Option<String>,
    speaker: Option<Speaker>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<usize>,
    #[serde(default)]
    fuzzy: bool,
    verdict: Option<String>,
    rule: Option<String>,
    phone: Option<String>,
    contract_ref: Option<String>,
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

async fn search(
    State(ctx): State<Ctx>,
    caller: Caller,
    params: Result<Query<SearchParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = params.map_err(|e| {
        ApiError(
            StatusCode::BAD_REQUEST,
            format!("{e}; parameters: q, client, campaign, agent, speaker (agent|customer|unknown), from, to (RFC 3339), limit, fuzzy, verdict (compliant|violation|needs_review), rule, phone, contract_ref"),
        )
    })?;
    let app = ctx.app.clone();
    let req = SearchRequest {
        query: p.q,
        client: p.client,
        campaign: p.campaign,
        agent: p.agent,
        speaker: p.speaker,
        from: parse_time("from", p.from)?,
        to: parse_time("to", p.to)?,
        limit: p.limit,
        fuzzy: p.fuzzy,
        verdict: p
            .verdict
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e: String| ApiError(StatusCode::BAD_REQUEST, e))?,
        rule: p.rule,
        customer_phone: p
            .phone
            .as_deref()
            .map(callproof_ingest::normalise_phone)
            .transpose()
            .map_err(|e| ApiError(StatusCode::BAD_REQUEST, format!("phone: {e}")))?,
        contract_ref: p.contract_ref,
        tenants: caller.scope().clients().map(<[String]>::to_vec),
    };
    let actor = caller.actor();
    let hits = tokio::task::spawn_blocking(move || app.search(&actor, &req))
        .await
        .map_err(internal)?
        .map_err(
            |e| match e.downcast_ref::<callproof_search::SearchError>() {
                Some(q @ callproof_search::SearchError::Query { .. }) => {
                    ApiError(StatusCode::BAD_REQUEST, q.to_string())
                }
                _ => internal(format!("{e:#}")),
            },
        )?;
    Ok(Json(serde_json::json!({ "calls": hits })).into_response())
}
