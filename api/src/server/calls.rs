//! Calls: upload, the call, its transcript, findings, original audio (Range, excerpts) and
//! its evidence bundle.

use super::*;

/// A file an upload is being written to; removed when the request ends, whatever happens
/// (once stored, the object is a link of its own).
struct TempUpload(std::path::PathBuf);

impl Drop for TempUpload {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `POST /api/v1/calls`: a multipart body with an `audio` file part and a `metadata` JSON
/// part. The caller's right to upload is checked before the body is read (and the client's as
/// soon as the metadata part arrives); the recording streams to a file, never into memory.
#[utoipa::path(post, path = "/api/v1/calls", request_body(content = UploadForm, content_type = "multipart/form-data"), responses((status = 202, description = "Stored and queued for transcription", body = callproof_models::Call), (status = 400, description = "Bad metadata or form", body = ErrorBody), (status = 409, description = "The same recording was already uploaded for this client (names the call)", body = ErrorBody), (status = 413, description = "Past the upload size limit", body = ErrorBody), (status = 415, description = "Not audio, or an unsupported codec", body = ErrorBody), (status = 422, description = "A damaged file, or one past the duration, channel or sample-rate limits", body = ErrorBody), (status = 503, description = "Too many uploads at once: retry after Retry-After", body = ErrorBody)))]
pub(super) async fn upload(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Result<Response, ApiError> {
    let bad = |m: String| ApiError(StatusCode::BAD_REQUEST, m);
    let limits = &ctx.app.settings.limits;
    let max = limits.max_upload_bytes();
    let too_large = |size: String| {
        ApiError(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the upload is {size} and at most {} MB are accepted (--max-upload-mb): split the call or compress it (FLAC, or MP3 for speech)",
                limits.max_upload_mb
            ),
        )
    };
    if let Err(e) = allow(&caller, Permission::UploadAny) {
        return Err(refuse_early(&mut multipart, e.into()).await);
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(n) = declared.filter(|n| *n > max + crate::limits::MAX_METADATA_BYTES as u64 * 2) {
        return Err(too_large(format!("{} MB", n.div_ceil(1_000_000))));
    }
    let Ok(_permit) = ctx.app.uploads.clone().try_acquire_owned() else {
        let busy = ServiceError::Busy(format!(
            "{} uploads are being received already (the limit, --max-concurrent-uploads); retry in a few seconds",
            limits.max_concurrent_uploads
        ));
        return Err(refuse_early(&mut multipart, busy.into()).await);
    };
    let multipart_error = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large("larger than the limit".into())
        } else {
            bad(format!("malformed multipart body: {}", e.body_text()))
        }
    };
    let mut audio: Option<(TempUpload, u64, String, Option<String>)> = None;
    let mut metadata: Option<(CallMetadata, ClientId)> = None;
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("audio") if audio.is_some() => {
                return Err(bad("two \"audio\" parts: send one recording per upload".into()))
            }
            Some("metadata") if metadata.is_some() => {
                return Err(bad("two \"metadata\" parts: send one JSON object".into()))
            }
            Some("audio") => {
                use sha2::{Digest, Sha256};
                use tokio::io::AsyncWriteExt;
                let name = field.file_name().map(str::to_string);
                let path = ctx.app.upload_dir.join(format!(
                    "{}-{}.part",
                    std::process::id(),
                    uuid::Uuid::new_v4()
                ));
                let temp = TempUpload(path);
                let mut file = tokio::fs::File::create(&temp.0).await.map_err(internal)?;
                let (mut hasher, mut size) = (Sha256::new(), 0u64);
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    size += chunk.len() as u64;
                    if size > max {
                        return Err(too_large("larger than the limit".into()));
                    }
                    hasher.update(&chunk);
                    file.write_all(&chunk).await.map_err(internal)?;
                }
                file.flush().await.map_err(internal)?;
                audio = Some((temp, size, hex::encode(hasher.finalize()), name));
            }
            Some("metadata") => {
                let mut raw = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    raw.extend_from_slice(&chunk);
                    if raw.len() > crate::limits::MAX_METADATA_BYTES {
                        return Err(too_large(format!(
                            "a metadata part over {} KB",
                            crate::limits::MAX_METADATA_BYTES >> 10
                        )));
                    }
                }
                let m = parse_metadata(&raw).map_err(bad)?;
                let client = ClientId::new(m.client.clone())
                    .map_err(|e| bad(format!("invalid metadata: {e}")))?;
                // Known before the recording is read: a caller who may not add calls for this
                // client is refused before sending it.
                if let Err(e) = allow(&caller, Permission::Upload(&client)) {
                    return Err(refuse_early(&mut multipart, e.into()).await);
                }
                metadata = Some((m, client));
            }
            Some(other) => {
                return Err(bad(format!(
                    "unexpected part {other:?}: send an \"audio\" file part and a \"metadata\" JSON part"
                )))
            }
            None => {}
        }
    }
    let (metadata, client) = metadata.ok_or_else(|| {
        bad("the \"metadata\" part is missing: a JSON object with at least \"client\"".into())
    })?;
    let (temp, size, sha256, name) =
        audio.ok_or_else(|| bad("the \"audio\" file part is missing".into()))?;
    allow(&caller, Permission::Upload(&client))?;
    // A call the model cannot transcribe (e.g. French with tiny.en) is refused before storing.
    let app = ctx.app.clone();
    let check = move |m: &CallMetadata| app.check_language(m).map_err(|e| format!("{e:#}"));
    let file = crate::app::UploadFile {
        path: &temp.0,
        size,
        sha256,
    };
    match ctx
        .app
        .ingest(file, name.as_deref(), metadata, &check)
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
                IngestError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
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

/// Answers a refusal made before the body was read. Up to 1 MB of the body is read and thrown
/// away first (a few seconds at most), so that an ordinary client sending a small upload gets
/// the answer instead of a connection closed under it; a larger body is cut off.
async fn refuse_early(multipart: &mut Multipart, refusal: ApiError) -> ApiError {
    const DRAIN_BYTES: usize = 1 << 20;
    let drain = async {
        let mut seen = 0usize;
        while let Ok(Some(mut field)) = multipart.next_field().await {
            while let Ok(Some(chunk)) = field.chunk().await {
                seen += chunk.len();
                if seen > DRAIN_BYTES {
                    return;
                }
            }
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), drain).await;
    refusal
}

/// The metadata part: UTF-8 (invalid bytes are refused, not replaced) holding one JSON object
/// (an array would be read field by field in order, silently).
fn parse_metadata(raw: &[u8]) -> Result<CallMetadata, String> {
    let text = std::str::from_utf8(raw).map_err(|e| {
        format!(
            "the metadata part is not valid UTF-8 (byte {}): send it as UTF-8 JSON",
            e.valid_up_to()
        )
    })?;
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("the metadata part is not valid JSON: {e}"))?;
    if !value.is_object() {
        return Err(
            "the metadata part must be a JSON object such as {\"client\": \"acme\", \"language\": \"fr\"}"
                .into(),
        );
    }
    serde_json::from_value(value)
        .map_err(|e| format!("the metadata part is not valid call metadata: {e}"))
}

#[utoipa::path(get, path = "/api/v1/calls/{id}", params(("id" = String, Path, description = "The call's id")), responses((status = 200, description = "Metadata, audio facts and state", body = callproof_models::Call), (status = 404, description = "No such call, or another tenant's", body = ErrorBody)))]
pub(super) async fn get_call(
    State(ctx): State<Ctx>,
    caller: Caller,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    let cid = parse_id(&id)?;
    // The call's metadata holds the customer's phone number: a read of personal data.
    Ok(Json(ctx.app.read_call(&caller, cid).await?).into_response())
}

#[utoipa::path(get, path = "/api/v1/calls/{id}/transcript", params(("id" = String, Path, description = "The call's id")), responses((status = 200, description = "Segments with speakers, times and words", body = callproof_models::Transcript), (status = 404, description = "No such call, or another tenant's", body = ErrorBody), (status = 409, description = "Not transcribed yet (says its state)", body = ErrorBody)))]
pub(super) async fn get_transcript(
    State(ctx): State<Ctx>,
    caller: Caller,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    let cid = parse_id(&id)?;
    Ok(Json(ctx.app.read_transcript(&caller, cid).await?).into_response())
}

#[utoipa::path(get, path = "/api/v1/calls/{id}/findings", params(("id" = String, Path, description = "The call's id")), responses((status = 200, description = "The verdict and one finding per rule, with its evidence", body = callproof_models::Verification), (status = 404, description = "No such call, or another tenant's", body = ErrorBody), (status = 409, description = "Not verified yet", body = ErrorBody)))]
pub(super) async fn get_findings(
    State(ctx): State<Ctx>,
    caller: Caller,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    let cid = parse_id(&id)?;
    Ok(Json(ctx.app.read_findings(&caller, cid).await?).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct EvidenceParams {
    #[serde(default)]
    include_original: bool,
}

/// A signed proof-of-consent bundle (application/zip) for a call the caller may see.
#[utoipa::path(post, path = "/api/v1/calls/{id}/evidence", params(("id" = String, Path, description = "The call's id"), EvidenceParams), responses((status = 200, description = "The signed proof-of-consent bundle", content_type = "application/zip", body = Vec<u8>), (status = 404, description = "No such call, or another tenant's", body = ErrorBody), (status = 409, description = "Not verified yet", body = ErrorBody), (status = 503, description = "Busy: retry after Retry-After", body = ErrorBody)))]
pub(super) async fn create_evidence(
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

/// The evidence signing key, published: the key a client checks bundles with.
#[utoipa::path(get, path = "/api/v1/evidence/public-key", responses((status = 200, description = "The public key bundles are signed with, its fingerprint and the command to verify a bundle", body = Object)))]
pub(super) async fn evidence_key(
    State(ctx): State<Ctx>,
    caller: Caller,
) -> Result<Response, ApiError> {
    Ok(Json(ctx.app.evidence_key(&caller)?).into_response())
}

pub(super) fn content_type(format: &str) -> &'static str {
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

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ExcerptParams {
    from_ms: Option<u64>,
    to_ms: Option<u64>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct EnergyParams {
    steps: Option<usize>,
}

/// How loud each channel is along the call (`steps` steps, 600 by default, at most 4,000): the
/// call page's level strip. A read of the recording, audited as one.
#[utoipa::path(get, path = "/api/v1/calls/{id}/energy", params(("id" = String, Path, description = "The call's id"), EnergyParams), responses((status = 200, description = "How loud each channel is along the call", body = callproof_quality::EnergyProfile), (status = 400, description = "steps outside 1..=4000", body = ErrorBody), (status = 404, description = "No such call, or another tenant's", body = ErrorBody)))]
pub(super) async fn get_energy(
    State(ctx): State<Ctx>,
    caller: Caller,
    UrlPath(id): UrlPath<String>,
    Query(p): Query<EnergyParams>,
) -> Result<Response, ApiError> {
    let cid = parse_id(&id)?;
    let id = cid.to_string();
    let steps = p.steps.unwrap_or(600);
    if !(1..=4000).contains(&steps) {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!("steps={steps}: give a number of steps from 1 to 4000"),
        ));
    }
    ctx.app
        .call_for(&caller, cid, AuditAction::ReadAudio)
        .await?;
    let profile = ctx
        .app
        .energy(cid, &caller.scope(), steps)
        .await?
        .ok_or_else(|| not_found(&id))?;
    ctx.app
        .record(&caller, AuditAction::ReadAudio, Some(&id), "ok energy")
        .await?;
    Ok(Json(profile).into_response())
}

#[utoipa::path(get, path = "/api/v1/calls/{id}/audio", params(("id" = String, Path, description = "The call's id"), ExcerptParams), responses((status = 200, description = "The stored recording (Range supported), or the excerpt as WAV", content_type = "audio/*", body = Vec<u8>), (status = 206, description = "The range asked for", content_type = "audio/*", body = Vec<u8>), (status = 404, description = "No such call, or another tenant's", body = ErrorBody), (status = 416, description = "A range or excerpt outside the recording", body = ErrorBody)))]
pub(super) async fn get_audio(
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
        let call = ctx
            .app
            .call_for(&caller, cid, AuditAction::ReadAudio)
            .await?;
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
        ctx.app
            .record(
                &caller,
                AuditAction::ReadAudio,
                Some(&format!("{id}#{from}-{to}")),
                "ok",
            )
            .await?;
        let mut resp = (StatusCode::OK, wav).into_response();
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/wav"));
        return Ok(resp);
    }
    let (call, key, size) = ctx.app.original(&caller, cid).await?;
    let ctype = content_type(call.audio.as_ref().map(|a| a.format.as_str()).unwrap_or(""));
    let asked = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let range = asked.map(|v| {
        http_range_header::parse_range_header(v)
            .map_err(|_| {
                format!("the Range header {v:?} is not a byte range: ask for bytes=START-END (or bytes=START-)")
            })
            .and_then(|r| {
                r.validate(size).map_err(|_| {
                    format!("the requested range {v:?} is outside the recording ({size} bytes)")
                })
            })
    });
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
        Some(Err(why)) => {
            let mut resp = ApiError(StatusCode::RANGE_NOT_SATISFIABLE, why).into_response();
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
