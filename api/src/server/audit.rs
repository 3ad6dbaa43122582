//! The audit log, for administrators.

use super::*;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct AuditParams {
    key_id: Option<String>,
    action: Option<String>,
    tenant: Option<String>,
    target: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<usize>,
}

/// The audit log (administrators only), oldest first, filtered.
#[utoipa::path(get, path = "/api/v1/audit", params(AuditParams), responses((status = 200, description = "Audit entries (administrators)", body = Object), (status = 403, description = "Not an administrator", body = ErrorBody)))]
pub(super) async fn list_audit(
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
    let entries = ctx.app.audit_log(&caller, &filter).await?;
    Ok(Json(serde_json::json!({ "entries": entries })).into_response())
}
