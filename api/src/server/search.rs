//! Search: words, phrases and filters, within the caller's tenants.

use super::*;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct SearchParams {
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

#[utoipa::path(get, path = "/api/v1/search", params(SearchParams), responses((status = 200, description = "Calls with their verdict and matching segments: {\"calls\": [CallHit]}", body = Object), (status = 400, description = "A query that does not parse or is past the limits", body = ErrorBody)))]
pub(super) async fn search(
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
    let hits = tokio::spawn(async move { app.search(&actor, &req).await })
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
