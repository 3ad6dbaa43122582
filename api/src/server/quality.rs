//! Quality audits over HTTP: samples, reviews, calibrations, statistics and CSV exports.

use super::*;

/// An application error from a request that could not be honoured as asked (422), or a fault.
pub(super) fn unprocessable(e: anyhow::Error) -> ApiError {
    crate::service::request_error(e).into()
}

#[utoipa::path(post, path = "/api/v1/samples", request_body = callproof_models::SampleParams, responses((status = 201, description = "The sample drawn and stored", body = callproof_models::Sample), (status = 400, description = "Malformed body", body = ErrorBody), (status = 422, description = "Parameters that cannot draw a sample", body = ErrorBody)))]
pub(super) async fn create_sample(
    State(ctx): State<Ctx>,
    caller: Caller,
    body: Result<Json<callproof_models::SampleParams>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(params) = body.map_err(|e| ApiError(StatusCode::BAD_REQUEST, format!("{e}; fields: client, from, to, strata ([\"agent\",\"campaign\"]), per_stratum or percent, min_per_stratum, only, violation_weight, seed, name")))?;
    allow(&caller, Permission::Review)?;
    allow(
        &caller,
        Permission::SeeClient(&client_named(&params.client)?),
    )?;
    let app = ctx.app.clone();
    let actor = caller.actor();
    let sample = tokio::spawn(async move { app.create_sample(params, &actor).await })
        .await
        .map_err(internal)?
        .map_err(unprocessable)?;
    Ok((StatusCode::CREATED, Json(sample)).into_response())
}

#[utoipa::path(get, path = "/api/v1/samples", responses((status = 200, description = "Stored samples: {\"samples\": [...]}", body = Object)))]
pub(super) async fn list_samples(
    State(ctx): State<Ctx>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let samples = ctx.app.list_samples(&caller).await?;
    Ok(Json(serde_json::json!({ "samples": samples })).into_response())
}

/// A sample with its review progress: how many reviews each call has.
#[utoipa::path(get, path = "/api/v1/samples/{id}", params(("id" = String, Path, description = "The sample's id")), responses((status = 200, description = "The sample with each call's review progress", body = Object), (status = 404, description = "No such sample", body = ErrorBody)))]
pub(super) async fn get_sample(
    State(ctx): State<Ctx>,
    caller: Caller,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    let (sample, reviews) = ctx.app.sample_with_reviews(&caller, &id).await?;
    let mut progress = Vec::new();
    for (c, (call, latest)) in sample.calls.iter().zip(&reviews) {
        progress.push(serde_json::json!({
            "call_id": c.call_id,
            "stratum": c.stratum,
            "verdict": c.verdict,
            "agent": call.as_ref().and_then(|c| c.metadata.agent.clone()),
            "started_at": call.as_ref().and_then(|c| c.metadata.started_at),
            "deleted": call.is_none(),
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

#[utoipa::path(post, path = "/api/v1/calls/{id}/reviews", params(("id" = String, Path, description = "The call's id")), request_body = callproof_models::ReviewInput, responses((status = 201, description = "The review stored, with the reviewed verdict", body = callproof_models::Review), (status = 400, description = "Malformed body", body = ErrorBody), (status = 404, description = "No such call, or another tenant's", body = ErrorBody), (status = 422, description = "A decision on no finding, an overruling without a reason, an unknown criterion", body = ErrorBody)))]
pub(super) async fn post_review(
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
    let review = tokio::spawn(async move { app.submit_review(cid, &scope, &actor, input).await })
        .await
        .map_err(internal)?
        .map_err(unprocessable)?
        .ok_or_else(|| not_found(&id))?;
    Ok((StatusCode::CREATED, Json(review)).into_response())
}

#[utoipa::path(get, path = "/api/v1/calls/{id}/reviews", params(("id" = String, Path, description = "The call's id")), responses((status = 200, description = "Reviews of the call: {\"reviews\": [Review]}", body = Object), (status = 404, description = "No such call, or another tenant's", body = ErrorBody)))]
pub(super) async fn get_reviews(
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
        .await
        .map_err(internal)?
        .ok_or_else(|| not_found(&id))?;
    Ok(Json(serde_json::json!({ "reviews": reviews })).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct CalibrationRequest {
    call_id: String,
    reviewers: Vec<String>,
}

#[utoipa::path(post, path = "/api/v1/calibrations", request_body = CalibrationRequest, responses((status = 201, description = "The calibration", body = callproof_models::Calibration)))]
pub(super) async fn post_calibration(
    State(ctx): State<Ctx>,
    caller: Caller,
    Json(req): Json<CalibrationRequest>,
) -> Result<Response, ApiError> {
    allow(&caller, Permission::Review)?;
    let cid = parse_id(&req.call_id)?;
    let c = ctx
        .app
        .create_calibration(cid, &caller.scope(), &caller.actor(), req.reviewers)
        .await
        .map_err(unprocessable)?
        .ok_or_else(|| not_found(&req.call_id))?;
    Ok((StatusCode::CREATED, Json(c)).into_response())
}

#[utoipa::path(get, path = "/api/v1/calibrations/{id}", params(("id" = String, Path, description = "The calibration's id")), responses((status = 200, description = "Status, answers and agreement once everyone answered", body = callproof_quality::CalibrationView), (status = 404, description = "No such calibration", body = ErrorBody)))]
pub(super) async fn get_calibration(
    State(ctx): State<Ctx>,
    caller: Caller,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    allow(&caller, Permission::Staff)?;
    let view = ctx
        .app
        .calibration_view(&id, &caller.scope(), &caller.actor())
        .await
        .map_err(internal)?
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no calibration {id}")))?;
    Ok(Json(view).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct PeriodParams {
    client: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// A client and a period `[from, to)`.
pub(super) type Period = (
    ClientId,
    Option<chrono::DateTime<chrono::Utc>>,
    Option<chrono::DateTime<chrono::Utc>>,
);

pub(super) fn period(caller: &Caller, p: PeriodParams) -> Result<Period, ApiError> {
    let client = match (p.client, caller.scope().clients()) {
        (Some(c), _) => client_named(&c)?,
        (None, Some([only])) => client_named(only)?,
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
#[utoipa::path(get, path = "/api/v1/stats", params(PeriodParams), responses((status = 200, description = "Violation rates per rule, agent, campaign and ISO week, after reviews", body = callproof_quality::Stats)))]
pub(super) async fn get_stats(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(p): Query<PeriodParams>,
) -> Result<Response, ApiError> {
    let (client, from, to) = period(&caller, p)?;
    Ok(Json(ctx.app.stats(&caller, &client, from, to).await?).into_response())
}

#[utoipa::path(get, path = "/api/v1/export/findings.csv", params(PeriodParams), responses((status = 200, description = "One row per finding", content_type = "text/csv", body = String)))]
pub(super) async fn export_findings(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(p): Query<PeriodParams>,
) -> Result<Response, ApiError> {
    let (client, from, to) = period(&caller, p)?;
    let calls = ctx.app.verified_calls(&caller, &client, from, to).await?;
    let csv = crate::quality::findings_csv(&calls).map_err(internal)?;
    ctx.app
        .record(&caller, AuditAction::ExportFindings, Some(&client), "ok")
        .await?;
    Ok(csv_response(csv, &format!("findings-{client}.csv")))
}

#[utoipa::path(get, path = "/api/v1/export/reviews.csv", params(PeriodParams), responses((status = 200, description = "One row per review decision", content_type = "text/csv", body = String)))]
pub(super) async fn export_reviews(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(p): Query<PeriodParams>,
) -> Result<Response, ApiError> {
    allow(&caller, Permission::Staff)?;
    let (client, _, _) = period(&caller, p)?;
    let reviews = ctx
        .app
        .exportable_reviews(&client, &caller.actor())
        .await
        .map_err(internal)?;
    let csv = crate::quality::reviews_csv(&reviews).map_err(internal)?;
    ctx.app
        .record(&caller, AuditAction::ExportReviews, Some(&client), "ok")
        .await?;
    Ok(csv_response(csv, &format!("reviews-{client}.csv")))
}
