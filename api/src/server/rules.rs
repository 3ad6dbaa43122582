//! Clients' rule sets: read, store (validated), re-verify the archive, and how reviewers
//! judged each rule in the field.

use super::*;

/// The client's active rule set, or the built-in packs that apply when it has none.
#[utoipa::path(get, path = "/api/v1/clients/{client}/rules", params(("client" = String, Path, description = "The client (tenant)")), responses((status = 200, description = "The active rule set: TOML source, version, SHA-256", body = Object), (status = 404, description = "No such client", body = ErrorBody)))]
pub(super) async fn get_rules(
    State(ctx): State<Ctx>,
    caller: Caller,
    UrlPath(client): UrlPath<String>,
) -> Result<Response, ApiError> {
    let client = client_named(&client)?;
    Ok(Json(ctx.app.active_rules(&caller, &client).await?).into_response())
}

/// Validates a rule set (TOML body) and stores it as the client's active one. A malformed
/// file is answered 422 with the line, column and field at fault.
#[utoipa::path(put, path = "/api/v1/clients/{client}/rules", params(("client" = String, Path, description = "The client (tenant)")), request_body(content = String, content_type = "application/toml", description = "The rule set (TOML)"), responses((status = 201, description = "Stored as the next version", body = Object), (status = 409, description = "An explicit version is taken by other content", body = ErrorBody), (status = 422, description = "Malformed: line, column, field and message", body = Object)))]
pub(super) async fn put_rules(
    State(ctx): State<Ctx>,
    caller: Caller,
    UrlPath(client): UrlPath<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let named = client_named(&client);
    if let Err(e) = named
        .as_ref()
        .map_err(|e| ServiceError::NotFound(e.to_string()))
        .and_then(|c| allow(&caller, Permission::ChangeRules(c)))
    {
        let outcome = match e {
            ServiceError::NotFound(_) => "not_found",
            _ => "denied",
        };
        ctx.app
            .record(&caller, AuditAction::PutRules, Some(&client), outcome)
            .await?;
        return Err(e.into());
    }
    let client = named?;
    let source = String::from_utf8(body.to_vec()).map_err(|_| {
        ApiError(
            StatusCode::BAD_REQUEST,
            "the rule set must be UTF-8 TOML text".into(),
        )
    })?;
    let app = ctx.app.clone();
    let c = client.clone();
    let res = tokio::spawn(async move { app.store_rules(&c, &source).await })
        .await
        .map_err(internal)?;
    let outcome = match &res {
        Ok((stored, _)) => format!("ok version {}", stored.version),
        Err(_) => "invalid".to_string(),
    };
    ctx.app
        .record(&caller, AuditAction::PutRules, Some(&client), &outcome)
        .await?;
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

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct VerifyParams {
    #[serde(default)]
    dry_run: bool,
}

/// Re-checks the client's archive with its active rule set; answers the verdicts that changed.
#[utoipa::path(post, path = "/api/v1/clients/{client}/verify", params(("client" = String, Path, description = "The client (tenant)"), VerifyParams), responses((status = 200, description = "The verdicts that changed", body = Object), (status = 404, description = "No such client", body = ErrorBody)))]
pub(super) async fn reverify(
    State(ctx): State<Ctx>,
    caller: Caller,
    UrlPath(client): UrlPath<String>,
    Query(p): Query<VerifyParams>,
) -> Result<Response, ApiError> {
    let client = client_named(&client)?;
    allow(&caller, Permission::ChangeRules(&client))?;
    ctx.app
        .record(&caller, AuditAction::Reverify, Some(&client), "ok")
        .await?;
    let app = ctx.app.clone();
    let report = tokio::spawn(async move {
        app.reverify_client(&client, None, p.dry_run, &|_, _| {})
            .await
    })
    .await
    .map_err(internal)??;
    Ok(Json(report).into_response())
}

#[utoipa::path(get, path = "/api/v1/clients/{client}/rules/report", params(("client" = String, Path, description = "The client (tenant)")), responses((status = 200, description = "Per rule: confirmed, overruled, missed, field precision", body = Object)))]
pub(super) async fn rules_report(
    State(ctx): State<Ctx>,
    caller: Caller,
    UrlPath(client): UrlPath<String>,
) -> Result<Response, ApiError> {
    allow(&caller, Permission::Staff)?;
    let client = client_named(&client)?;
    allow(&caller, Permission::SeeClient(&client))?;
    let report = ctx
        .app
        .rules_field_report(&client)
        .await
        .map_err(internal)?;
    Ok(Json(serde_json::json!({ "client": client, "rules": report })).into_response())
}
