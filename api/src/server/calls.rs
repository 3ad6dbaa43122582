//! Calls: upload, the call, its transcript, findings, original audio (Range, excerpts) and
//! its evidence bundle.

use super::*;

pub(super) async fn upload(
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
    let client = ClientId::new(metadata.client.clone())
        .map_err(|e| ApiError(StatusCode::BAD_REQUEST, format!("invalid metadata: {e}")))?;
    allow(&caller, Permission::Upload(&client))?;
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

pub(super) async fn get_call(
    State(ctx): State<Ctx>,
    caller: Caller,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    let cid = parse_id(&id)?;
    // The call's metadata holds the customer's phone number: a read of personal data.
    Ok(Json(ctx.app.read_call(&caller, cid).await?).into_response())
}

pub(super) async fn get_transcript(
    State(ctx): State<Ctx>,
    caller: Caller,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    let cid = parse_id(&id)?;
    Ok(Json(ctx.app.read_transcript(&caller, cid).await?).into_response())
}

pub(super) async fn get_findings(
    State(ctx): State<Ctx>,
    caller: Caller,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    let cid = parse_id(&id)?;
    Ok(Json(ctx.app.read_findings(&caller, cid).await?).into_response())
}

#[derive(Deserialize)]
pub(super) struct EvidenceParams {
    #[serde(default)]
    include_original: bool,
}

/// A signed proof-of-consent bundle (application/zip) for a call the caller may see.
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

#[derive(Deserialize)]
pub(super) struct ExcerptParams {
    from_ms: Option<u64>,
    to_ms: Option<u64>,
}

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
