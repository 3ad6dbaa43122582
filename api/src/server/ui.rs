//! The web interface, served by `callproof serve` on the same origin as the API.
//!
//! Server-rendered HTML (minijinja templates compiled into the binary) and one small script for
//! the player; no CDN, no external fonts. Signing in with an API key stores it in a session
//! cookie (HttpOnly, SameSite=Strict) that the API accepts too, so the page's audio element and
//! downloads go through the same tenant checks as any API call. French by default, English on
//! request (a `cp_lang` cookie).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::service::{allow, AuditAction, Caller, Permission, ServiceError};
use axum::extract::{Form, Path as UrlPath, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use callproof_models::ApiKey;
use callproof_search::SearchRequest;
use serde::Deserialize;

use super::{internal, Ctx};

mod calls;
mod quality;
mod session;

use calls::*;
use quality::*;
use session::*;

/// The web session cookie: a random session id, never the API key.
pub const SESSION_COOKIE: &str = "cp_session";
const LANG_COOKIE: &str = "cp_lang";

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../ui/base.html")),
    ("login.html", include_str!("../../ui/login.html")),
    ("search.html", include_str!("../../ui/search.html")),
    ("call.html", include_str!("../../ui/call.html")),
    ("calls.html", include_str!("../../ui/calls.html")),
    ("samples.html", include_str!("../../ui/samples.html")),
    ("sample.html", include_str!("../../ui/sample.html")),
    ("review.html", include_str!("../../ui/review.html")),
    ("reviews.html", include_str!("../../ui/reviews.html")),
    ("dashboard.html", include_str!("../../ui/dashboard.html")),
    ("verify.html", include_str!("../../ui/verify.html")),
    ("error.html", include_str!("../../ui/error.html")),
    (
        "calibration.html",
        include_str!("../../ui/calibration.html"),
    ),
];
const APP_JS: &str = include_str!("../../ui/static/app.js");
const APP_CSS: &str = include_str!("../../ui/static/app.css");

fn env() -> &'static minijinja::Environment<'static> {
    static ENV: OnceLock<minijinja::Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = minijinja::Environment::new();
        for (name, src) in TEMPLATES {
            // The templates are part of the binary and checked by the tests.
            if let Err(e) = env.add_template(name, src) {
                tracing::error!("template {name}: {e}");
            }
        }
        env.add_filter("clock", |ms: u64| crate::cli::clock(ms));
        // Timestamps reach templates as RFC 3339 text (serde): shown in the one format.
        env.add_filter("when", |s: String| {
            chrono::DateTime::parse_from_rfc3339(&s)
                .map(when)
                .unwrap_or(s)
        });
        env
    })
}

/// The one way pages show an instant: local to the call (or UTC), with its offset, so that two
/// people reading the same page over the phone agree on the time.
pub(super) fn when<Tz: chrono::TimeZone>(t: chrono::DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    t.format("%Y-%m-%d %H:%M (UTC%:z)").to_string()
}

fn words(lang: &str) -> &'static BTreeMap<String, String> {
    crate::i18n::words(lang)
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The session id in a request's cookie, if any.
pub fn cookie_session(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE).map(str::to_string)
}

/// Whether the browser reached us over TLS (directly or through a proxy that says so): the
/// session cookie is then marked `Secure`.
fn over_tls(headers: &HeaderMap) -> bool {
    let says = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().contains("https"))
    };
    says("x-forwarded-proto") || says("forwarded")
}

fn lang(headers: &HeaderMap) -> &'static str {
    match cookie(headers, LANG_COOKIE) {
        Some("en") => "en",
        _ => "fr",
    }
}

fn render(name: &str, ctx: minijinja::Value) -> Response {
    match env().get_template(name).and_then(|t| t.render(ctx)) {
        Ok(html) => Html(html).into_response(),
        Err(e) => internal(format!("page {name}: {e}")).into_response(),
    }
}

/// The signed-in key of a page request; without a valid one, the page redirects to sign-in.
struct UiKey(ApiKey);

/// The service's caller for a signed-in key.
fn caller(key: &ApiKey) -> Caller {
    Caller::key(key.clone())
}

/// The one place where the service's errors become pages: styled like every page, in the
/// reader's language, with the navigation, the status and what to do.
fn error_page(key: &ApiKey, l: &'static str, e: ServiceError) -> Response {
    let w = words(l);
    let (status, text) = match &e {
        ServiceError::NotFound(_) => (StatusCode::NOT_FOUND, w["not_found"].to_string()),
        ServiceError::Forbidden(_) => return forbidden_page(key, l),
        ServiceError::Invalid(m) => (StatusCode::UNPROCESSABLE_ENTITY, m.clone()),
        ServiceError::Conflict(m) => (StatusCode::CONFLICT, m.clone()),
        ServiceError::NotReady(_) => (StatusCode::CONFLICT, w["no_transcript"].to_string()),
        ServiceError::Busy(m) => (StatusCode::SERVICE_UNAVAILABLE, m.clone()),
        ServiceError::Internal(m) => (StatusCode::INTERNAL_SERVER_ERROR, m.clone()),
    };
    status_page(key, l, status, text)
}

fn status_page(key: &ApiKey, l: &'static str, status: StatusCode, text: String) -> Response {
    let title = format!("{} {}", status.as_u16(), words(l)["error"]);
    let mut resp = render(
        "error.html",
        merge(
            page_ctx(key, l, &title),
            minijinja::context! { status => status.as_u16(), message => text },
        ),
    );
    *resp.status_mut() = status;
    resp
}

impl axum::extract::FromRequestParts<Ctx> for UiKey {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        ctx: &Ctx,
    ) -> Result<Self, Self::Rejection> {
        let to_login = || Redirect::to("/ui/login").into_response();
        let token = cookie_session(&parts.headers).ok_or_else(to_login)?;
        let app = ctx.app.clone();
        match tokio::spawn(async move { app.authenticate_session(&token).await }).await {
            Ok(Ok(key)) => Ok(UiKey(key)),
            _ => Err(to_login()),
        }
    }
}

fn user(key: &ApiKey) -> minijinja::Value {
    minijinja::context! {
        role => key.role.as_str(),
        name => key.name.clone(),
        clients => key.clients.clone(),
        staff => is_staff(key),
        // Quality work (drawing samples, reviewing): the forms are shown only to those who may.
        reviewer => is_reviewer(key),
        home => home(key),
    }
}

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route(
            "/",
            get(|UiKey(key): UiKey| async move { Redirect::to(home(&key)) }),
        )
        .route(
            "/ui/static/app.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                    APP_JS,
                )
            }),
        )
        .route(
            "/ui/static/app.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], APP_CSS) }),
        )
        .route("/ui/login", get(login_page).post(login))
        .route("/ui/logout", post(logout))
        .route("/ui/lang", post(set_lang))
        .route("/ui/search", get(search_page))
        .route("/ui/calls/{id}", get(call_page))
        .route("/ui/calls/{id}/evidence", post(evidence))
        .route("/ui/calls", get(calls_page))
        .route("/ui/samples", get(samples_page).post(create_sample))
        .route("/ui/samples/{id}", get(sample_page))
        .route(
            "/ui/calls/{id}/review",
            get(review_page).post(submit_review),
        )
        .route("/ui/dashboard", get(dashboard))
        .route("/ui/verify", get(verify_page))
        .route("/ui/calibrations", post(create_calibration))
        .route("/ui/calibrations/{id}", get(calibration_page))
}

fn some(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

fn day(s: &str, name: &str) -> Result<Option<chrono::DateTime<chrono::FixedOffset>>, String> {
    match some(s) {
        None => Ok(None),
        Some(d) => chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
            .map_err(|_| format!("{name}: {d:?} is not a date (YYYY-MM-DD)"))
            .and_then(|d| {
                d.and_hms_opt(0, 0, 0)
                    .map(|t| t.and_utc().fixed_offset())
                    .ok_or_else(|| format!("{name}: {d} is not a date"))
            })
            .map(Some),
    }
}

/// "Check a proof": the key that signs bundles, its fingerprint and the exact command, so that
/// a client never has to trust the key a bundle names.
async fn verify_page(State(ctx): State<Ctx>, UiKey(key): UiKey, headers: HeaderMap) -> Response {
    let l = lang(&headers);
    match ctx.app.evidence_key(&caller(&key)) {
        Ok(k) => render(
            "verify.html",
            merge(
                page_ctx(&key, l, &words(l)["verify_title"]),
                minijinja::context! { key => k },
            ),
        ),
        Err(e) => error_page(&key, l, e),
    }
}

fn page_ctx(key: &ApiKey, l: &'static str, title: &str) -> minijinja::Value {
    minijinja::context! { lang => l, t => words(l), title => title, user => user(key) }
}

fn merge(a: minijinja::Value, b: minijinja::Value) -> minijinja::Value {
    minijinja::context! { ..a, ..b }
}

fn forbidden_page(key: &ApiKey, l: &'static str) -> Response {
    status_page(
        key,
        l,
        StatusCode::FORBIDDEN,
        words(l)["forbidden"].to_string(),
    )
}

/// The names of a client's rules for its pages, in the page's language `l`: from its rule
/// sets in both languages (its calls may be in either; the page's language last, so that its
/// pack decides; a client's own rule set serves both), each rule's title, else its
/// description, else its id. A rule set that does not load names nothing: the pages then show
/// ids.
async fn rule_titles(ctx: &Ctx, client: &str, l: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let other = if l == "en" { "fr" } else { "en" };
    for language in [other, l] {
        if let Ok((book, set)) = ctx.app.rules_for(client, language).await {
            for r in &book.rules {
                out.insert(r.id.clone(), r.title_in(l).to_string());
            }
            // A client's own rule set is the same whatever the language: read it once.
            if !set.builtin {
                break;
            }
        }
    }
    out
}

fn is_reviewer(key: &ApiKey) -> bool {
    allow(&caller(key), Permission::Review).is_ok()
}

fn is_staff(key: &ApiKey) -> bool {
    allow(&caller(key), Permission::Staff).is_ok()
}

/// Where a person lands: an ordering client on its calls (it has no archive to search blind),
/// the provider's people on the search.
fn home(key: &ApiKey) -> &'static str {
    if is_staff(key) {
        "/ui/search"
    } else {
        "/ui/calls"
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    #[test]
    fn both_languages_have_every_word() {
        let fr: BTreeMap<String, String> =
            toml::from_str(include_str!("../../ui/i18n/fr.toml")).expect("fr.toml parses");
        let en: BTreeMap<String, String> =
            toml::from_str(include_str!("../../ui/i18n/en.toml")).expect("en.toml parses");
        assert!(fr.len() > 50, "{}", fr.len());
        assert_eq!(
            fr.keys().collect::<Vec<_>>(),
            en.keys().collect::<Vec<_>>(),
            "fr.toml and en.toml must name the same words"
        );
        assert_eq!(super::words("fr")["search"], "Recherche");
        assert_eq!(super::words("en")["search"], "Search");
    }

    /// Words heard with low confidence are marked, and so is a very short customer turn that
    /// the recogniser was unsure of (the "oui" that may never have been said).
    #[test]
    fn doubtful_words_and_likely_invented_turns_are_marked() {
        use callproof_models::{
            AudioInfo, Call, CallId, CallMetadata, CallState, Segment, Speaker, Transcript, Word,
        };
        let word = |text: &str, start_ms: u64, probability: f32| Word {
            text: text.into(),
            start_ms,
            end_ms: start_ms + 300,
            probability,
        };
        let seg = |speaker, start_ms, words: Vec<Word>, avg_logprob| Segment {
            speaker,
            channel: 0,
            start_ms,
            end_ms: start_ms + 1_000,
            text: words
                .iter()
                .map(|w| w.text.clone())
                .collect::<Vec<_>>()
                .join(" "),
            avg_logprob,
            no_speech_prob: 0.1,
            words,
            attribution: Default::default(),
            second_listen: false,
            heard_first: None,
            disputed: false,
        };
        let id = CallId::new();
        let transcript = Transcript {
            near_readings: Vec::new(),
            call_id: id,
            model: "base".into(),
            model_sha256: String::new(),
            language: "fr".into(),
            segments: vec![
                seg(
                    Speaker::Agent,
                    0,
                    vec![word("Bonjour", 0, 0.95), word("Bloctel", 400, 0.2)],
                    -0.3,
                ),
                seg(
                    Speaker::Customer,
                    2_000,
                    vec![word("oui", 2_000, 0.4)],
                    -1.2,
                ),
                seg(
                    Speaker::Customer,
                    4_000,
                    vec![word("non", 4_000, 0.9)],
                    -0.2,
                ),
            ],
        };
        let call = Call {
            id,
            metadata: CallMetadata {
                client: "acme".into(),
                ..Default::default()
            },
            sha256: String::new(),
            original_name: None,
            size_bytes: 1,
            audio: Some(AudioInfo {
                format: "wav".into(),
                sample_rate: 8000,
                channels: 2,
                duration_ms: 6_000,
            }),
            state: CallState::Indexed,
            received_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        };
        let talk = callproof_quality::talk_stats(&transcript, 6_000);
        let html = super::env()
            .get_template("call.html")
            .unwrap()
            .render(minijinja::context! {
                lang => "fr", t => super::words("fr"), title => "x", call => call,
                transcript => transcript, duration_ms => 6_000u64, findings => Vec::<u8>::new(),
                talk => talk, strips => Vec::<u8>::new(), processing => false,
            })
            .unwrap();
        let marked = html.matches("word doubtful-word\" data-seek").count();
        assert_eq!(marked, 2, "Bloctel and the doubtful oui: {html}");
        assert_eq!(
            html.matches("segment customer likely-invented").count(),
            1,
            "{html}"
        );
        assert!(html.contains("Temps de parole · Agent"), "{html}");
    }
}
