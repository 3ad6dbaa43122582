//! Legal holds and erasure requests over HTTP (quality managers and administrators).

use super::*;
use callproof_models::HoldTarget;

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct HoldRequest {
    client: String,
    call_id: Option<CallId>,
    customer_phone: Option<String>,
    contract_ref: Option<String>,
    reason: String,
}

#[utoipa::path(post, path = "/api/v1/holds", request_body = HoldRequest, responses((status = 201, description = "The hold placed", body = callproof_models::LegalHold)))]
pub(super) async fn place_hold(
    State(ctx): State<Ctx>,
    caller: Caller,
    Json(r): Json<HoldRequest>,
) -> Result<Response, ApiError> {
    let client = client_named(&r.client)?;
    let target = match (r.call_id, r.customer_phone, r.contract_ref) {
        (Some(c), None, None) => HoldTarget::Call(c),
        (None, Some(p), None) => HoldTarget::CustomerPhone(p),
        (None, None, Some(k)) => HoldTarget::ContractRef(k),
        _ => {
            return Err(ApiError(
                StatusCode::BAD_REQUEST,
                "name one thing to hold: \"call_id\", \"customer_phone\" or \"contract_ref\""
                    .into(),
            ))
        }
    };
    let hold = ctx
        .app
        .place_hold(&caller, None, &client, target, &r.reason)
        .await?;
    Ok((StatusCode::CREATED, Json(hold)).into_response())
}

/// The first call asks for the release; a call by another key confirms it.
#[utoipa::path(post, path = "/api/v1/holds/{id}/release", params(("id" = String, Path, description = "The hold's id")), responses((status = 200, description = "The hold: release asked by a first person, or released by a second", body = callproof_models::LegalHold)))]
pub(super) async fn release_hold(
    State(ctx): State<Ctx>,
    caller: Caller,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    Ok(Json(ctx.app.release_hold(&caller, None, &id).await?).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct HoldsParams {
    #[serde(default)]
    all: bool,
}

#[utoipa::path(get, path = "/api/v1/holds", params(HoldsParams), responses((status = 200, description = "Legal holds", body = Vec<callproof_models::LegalHold>)))]
pub(super) async fn list_holds(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(p): Query<HoldsParams>,
) -> Result<Response, ApiError> {
    Ok(Json(ctx.app.list_holds(&caller, !p.all).await?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct ErasureRequest {
    client: String,
    customer_phone: Option<String>,
    contract_ref: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/erasures", request_body = ErasureRequest, responses((status = 200, description = "The calls erased, and those kept under a hold", body = Object)))]
pub(super) async fn erase(
    State(ctx): State<Ctx>,
    caller: Caller,
    Json(r): Json<ErasureRequest>,
) -> Result<Response, ApiError> {
    let client = client_named(&r.client)?;
    let report = ctx
        .app
        .erase_subject(
            &caller,
            &client,
            r.customer_phone.as_deref(),
            r.contract_ref.as_deref(),
        )
        .await?;
    Ok(Json(report).into_response())
}
