//! The OpenAPI document of the HTTP API, generated (utoipa) from the handlers' annotations and
//! the very types they exchange (`callproof-models`, `callproof-quality`), served at
//! `/api/v1/openapi.json` and kept in `docs/openapi.json`. A test checks that it names exactly
//! the routes the router serves, method by method, and that the checked-in copy is current.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use super::*;

/// Every error of the API: what was wrong and what to do.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(super) struct ErrorBody {
    /// What was wrong and what to do, in words a person can act on.
    error: String,
}

/// The upload's multipart form.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(super) struct UploadForm {
    /// The recording (WAV, FLAC, MP3, Ogg/Opus, AAC…); 8 kHz stereo with the agent on one
    /// channel and the customer on the other is the norm.
    #[schema(value_type = String, format = Binary)]
    audio: Vec<u8>,
    /// The call's metadata as JSON.
    metadata: callproof_models::CallMetadata,
}

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key: callproof keys create --role …"))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "callproof",
        description = "Recorded sales calls as searchable, verifiable evidence. Every /api/v1 route needs `Authorization: Bearer <key>`; errors are JSON `{\"error\": …}`: 401 without a valid key, 403 when the role may not, 404 for what does not exist or belongs to another tenant, 503 with Retry-After when busy."
    ),
    paths(
        super::healthz,
        super::metrics,
        openapi_json,
        calls::upload,
        calls::get_call,
        calls::get_transcript,
        calls::get_audio,
        calls::get_energy,
        calls::get_findings,
        calls::create_evidence,
        calls::evidence_key,
        rules::get_rules,
        rules::put_rules,
        rules::reverify,
        rules::rules_report,
        audit::list_audit,
        quality::list_samples,
        quality::create_sample,
        quality::get_sample,
        quality::get_reviews,
        quality::post_review,
        quality::post_calibration,
        quality::get_calibration,
        quality::get_stats,
        quality::export_findings,
        quality::export_reviews,
        search::search,
        compliance::list_holds,
        compliance::place_hold,
        compliance::release_hold,
        compliance::erase,
    ),
    components(schemas(ErrorBody, UploadForm)),
    modifiers(&Bearer),
    security(("bearer" = []))
)]
pub(super) struct ApiDoc;

/// The document itself.
#[utoipa::path(get, path = "/api/v1/openapi.json", security(()),
    responses((status = 200, description = "This API's OpenAPI 3.1 document", body = Object)))]
pub(super) async fn openapi_json() -> Response {
    Json(ApiDoc::openapi()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// (method, path) of every route the router serves outside the pages, read from its
    /// definition in `server.rs`.
    fn served() -> BTreeSet<(String, String)> {
        let src = include_str!("../server.rs");
        let start = src.find("Router::new()").expect("the router");
        let end = src[start..]
            .find(".merge(ui::routes())")
            .expect("the router's end")
            + start;
        let mut out = BTreeSet::new();
        let mut rest = &src[start..end];
        while let Some(at) = rest.find(".route(") {
            rest = &rest[at + 7..];
            let close = rest.find(")\n").unwrap_or(rest.len());
            let call = &rest[..close + 1];
            let path = call.split('"').nth(1).expect("a path").to_string();
            for method in ["get", "post", "put", "delete", "patch"] {
                if call.contains(&format!("{method}(")) {
                    out.insert((method.to_string(), path.clone()));
                }
            }
        }
        out
    }

    #[test]
    fn the_document_names_exactly_the_routes_served() {
        let doc = ApiDoc::openapi();
        let mut documented = BTreeSet::new();
        for (path, item) in &doc.paths.paths {
            for (method, op) in [
                ("get", &item.get),
                ("post", &item.post),
                ("put", &item.put),
                ("delete", &item.delete),
                ("patch", &item.patch),
            ] {
                if op.is_some() {
                    documented.insert((method.to_string(), path.clone()));
                }
            }
        }
        let served = served();
        assert!(served.len() > 25, "{served:?}");
        let missing: Vec<_> = served.difference(&documented).collect();
        let extra: Vec<_> = documented.difference(&served).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "served but not documented: {missing:?}; documented but not served: {extra:?}"
        );
    }

    #[test]
    fn the_checked_in_document_is_current() {
        let now = ApiDoc::openapi()
            .to_pretty_json()
            .expect("the document serialises");
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json");
        if std::env::var_os("CALLPROOF_WRITE_OPENAPI").is_some() {
            std::fs::write(&path, format!("{now}\n")).expect("docs/openapi.json written");
        }
        let kept = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            kept.trim_end() == now.trim_end(),
            "docs/openapi.json is out of date: run CALLPROOF_WRITE_OPENAPI=1 cargo test -p callproof openapi"
        );
    }
}
