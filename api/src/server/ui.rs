//! The web interface, served by `callproof serve` on the same origin as the API.
//!
//! Server-rendered HTML (minijinja templates compiled into the binary) and one small script for
//! the player; no CDN, no external fonts. Signing in with an API key stores it in a session
//! cookie (HttpOnly, SameSite=Strict) that the API accepts too, so the page's audio element and
//! downloads go through the same tenant checks as any API call. French by default, English on
//! request (a `cp_lang` cookie).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::extract::{Form, Path as UrlPath, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use callproof_models::ApiKey;
use callproof_search::SearchRequest;
use serde::Deserialize;

use super::{internal, Ctx};

pub const KEY_COOKIE: &str = "cp_key";
const LANG_COOKIE: &str = "cp_lang";

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../ui/base.html")),
    ("login.html", include_str!("../../ui/login.html")),
    ("search.html", include_str!("../../ui/search.html")),
    ("call.html", include_str!("../../ui/call.html")),
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
        env
    })
}

/// The words of the interface in French (default) and English.
fn words(lang: &str) -> BTreeMap<&'static str, &'static str> {
    let fr = lang != "en";
    let pick = |f: &'static str, e: &'static str| if fr { f } else { e };
    BTreeMap::from([
        ("nav", pick("Navigation", "Navigation")),
        ("search", pick("Recherche", "Search")),
        ("logout", pick("Se déconnecter", "Sign out")),
        ("language", pick("Langue", "Language")),
        ("sign_in", pick("Se connecter", "Sign in")),
        ("api_key", pick("Clé d'API", "API key")),
        (
            "key_hint",
            pick(
                "Votre administrateur vous remet une clé (callproof keys create).",
                "Your administrator gives you a key (callproof keys create).",
            ),
        ),
        ("bad_key", pick("Clé refusée : ", "Key refused: ")),
        ("words", pick("Mots ou phrase", "Words or phrase")),
        ("filters", pick("Filtres", "Filters")),
        ("client", pick("Client", "Client")),
        ("campaign", pick("Campagne", "Campaign")),
        ("agent", pick("Agent", "Agent")),
        ("customer", pick("Client final", "Customer")),
        ("unknown", pick("Inconnu", "Unknown")),
        ("speaker", pick("Locuteur", "Speaker")),
        ("verdict", pick("Verdict", "Verdict")),
        ("violation", pick("Non conforme", "Violation")),
        ("needs_review", pick("À vérifier", "Needs review")),
        ("compliant", pick("Conforme", "Compliant")),
        ("rule", pick("Règle", "Rule")),
        ("phone", pick("Téléphone client", "Customer phone")),
        ("contract", pick("Référence contrat", "Contract reference")),
        ("from", pick("Du", "From")),
        ("to", pick("Au", "To")),
        ("calls", pick("appels", "calls")),
        ("call", pick("Appel", "Call")),
        ("started", pick("Début", "Started")),
        ("ruleset", pick("Règles", "Rule set")),
        ("recording", pick("Enregistrement", "Recording")),
        (
            "bundle",
            pick(
                "Preuve de consentement (ZIP signé)",
                "Proof of consent (signed ZIP)",
            ),
        ),
        (
            "excerpt",
            pick("Extrait audio (30 s)", "Audio excerpt (30 s)"),
        ),
        ("transcript", pick("Transcription", "Transcript")),
        (
            "no_transcript",
            pick("Pas encore de transcription.", "No transcript yet."),
        ),
        ("findings", pick("Constats", "Findings")),
        ("met", pick("respecté", "met")),
        ("missing", pick("manquant", "missing")),
        ("forbidden_said", pick("propos interdit", "forbidden said")),
        ("out_of_window", pick("hors délai / ordre", "out of window")),
        ("wrong_speaker", pick("mauvais locuteur", "wrong speaker")),
        ("refused", pick("refus", "refused")),
        ("outside_hours", pick("hors horaires", "outside hours")),
        ("too_short", pick("trop court", "too short")),
        ("not_checkable", pick("non vérifiable", "not checkable")),
        ("not_found", pick("Appel introuvable.", "No such call.")),
    ])
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

/// The API key in a request's session cookie, if any.
pub fn cookie_key(headers: &HeaderMap) -> Option<String> {
    cookie(headers, KEY_COOKIE).map(str::to_string)
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

/// The signed-in key, or a redirect to the sign-in page.
async fn signed_in(ctx: &Ctx, headers: &HeaderMap) -> Result<ApiKey, Response> {
    let Some(token) = cookie_key(headers) else {
        return Err(Redirect::to("/ui/login").into_response());
    };
    let app = ctx.app.clone();
    match tokio::task::spawn_blocking(move || crate::auth::authenticate(&app.catalog, &token)).await
    {
        Ok(Ok(key)) => Ok(key),
        _ => Err(Redirect::to("/ui/login").into_response()),
    }
}

fn user(key: &ApiKey) -> minijinja::Value {
    minijinja::context! { role => key.role.as_str(), clients => key.clients.clone() }
}

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui/search") }))
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
}

async fn login_page(headers: HeaderMap) -> Response {
    let l = lang(&headers);
    render(
        "login.html",
        minijinja::context! { lang => l, t => words(l), title => words(l)["sign_in"] },
    )
}

#[derive(Deserialize)]
struct LoginForm {
    key: String,
}

async fn login(State(ctx): State<Ctx>, headers: HeaderMap, Form(f): Form<LoginForm>) -> Response {
    let l = lang(&headers);
    let token = f.key.trim().to_string();
    let app = ctx.app.clone();
    let t = token.clone();
    match tokio::task::spawn_blocking(move || crate::auth::authenticate(&app.catalog, &t)).await {
        Ok(Ok(_)) => {
            let mut resp = Redirect::to("/ui/search").into_response();
            if let Ok(v) = HeaderValue::from_str(&format!(
                "{KEY_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200"
            )) {
                resp.headers_mut().insert(header::SET_COOKIE, v);
            }
            resp
        }
        Ok(Err(e)) => {
            let w = words(l);
            let error = format!("{}{e}", w["bad_key"]);
            let mut resp = render(
                "login.html",
                minijinja::context! { lang => l, t => w, title => "callproof", error => error },
            );
            *resp.status_mut() = StatusCode::UNAUTHORIZED;
            resp
        }
        Err(e) => internal(e).into_response(),
    }
}

async fn logout() -> Response {
    let mut resp = Redirect::to("/ui/login").into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("cp_key=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    resp
}

#[derive(Deserialize)]
struct LangForm {
    lang: String,
}

async fn set_lang(headers: HeaderMap, Form(f): Form<LangForm>) -> Response {
    let l = if f.lang == "en" { "en" } else { "fr" };
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.find("/ui/").map(|i| r[i..].to_string()))
        .unwrap_or_else(|| "/ui/search".into());
    let mut resp = Redirect::to(&back).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LANG_COOKIE}={l}; SameSite=Strict; Path=/; Max-Age=31536000"
    )) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

#[derive(Deserialize, Default, serde::Serialize)]
struct SearchForm {
    #[serde(default)]
    q: String,
    #[serde(default)]
    client: String,
    #[serde(default)]
    campaign: String,
    #[serde(default)]
    agent: String,
    #[serde(default)]
    speaker: String,
    #[serde(default)]
    verdict: String,
    #[serde(default)]
    rule: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    contract_ref: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
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

async fn search_page(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Query(f): Query<SearchForm>,
) -> Response {
    let key = match signed_in(&ctx, &headers).await {
        Ok(k) => k,
        Err(r) => return r,
    };
    let l = lang(&headers);
    let searched = headers_has_query(&f);
    let filtered = [
        &f.client,
        &f.campaign,
        &f.agent,
        &f.speaker,
        &f.verdict,
        &f.rule,
        &f.phone,
        &f.contract_ref,
        &f.from,
        &f.to,
    ]
    .iter()
    .any(|v| !v.trim().is_empty());
    let mut error: Option<String> = None;
    let mut hits = Vec::new();
    if searched {
        let req = (|| -> Result<SearchRequest, String> {
            Ok(SearchRequest {
                query: f.q.clone(),
                client: some(&f.client),
                campaign: some(&f.campaign),
                agent: some(&f.agent),
                speaker: some(&f.speaker).map(|s| s.parse()).transpose()?,
                from: day(&f.from, "from")?,
                to: day(&f.to, "to")?.map(|t| t + chrono::Duration::days(1)),
                limit: Some(50),
                fuzzy: false,
                verdict: some(&f.verdict).map(|v| v.parse()).transpose()?,
                rule: some(&f.rule),
                customer_phone: some(&f.phone)
                    .map(|p| callproof_ingest::normalise_phone(&p))
                    .transpose()?,
                contract_ref: some(&f.contract_ref),
                tenants: key.scope().clients().map(<[String]>::to_vec),
            })
        })();
        match req {
            Err(e) => error = Some(e),
            Ok(req) => {
                let app = ctx.app.clone();
                match tokio::task::spawn_blocking(move || app.index.search(&req)).await {
                    Ok(Ok(h)) => hits = h,
                    Ok(Err(e)) => error = Some(e.to_string()),
                    Err(e) => error = Some(e.to_string()),
                }
            }
        }
    }
    let q = minijinja::context! {
        q => f.q, client => f.client, campaign => f.campaign, agent => f.agent,
        speaker => f.speaker, verdict => f.verdict, rule => f.rule, phone => f.phone,
        contract_ref => f.contract_ref, from => f.from, to => f.to, filtered => filtered,
    };
    render(
        "search.html",
        minijinja::context! {
            lang => l, t => words(l), title => words(l)["search"], user => user(&key),
            q => q, hits => hits, searched => searched, error => error,
        },
    )
}

fn headers_has_query(f: &SearchForm) -> bool {
    [
        &f.q,
        &f.client,
        &f.campaign,
        &f.agent,
        &f.speaker,
        &f.verdict,
        &f.rule,
        &f.phone,
        &f.contract_ref,
        &f.from,
        &f.to,
    ]
    .iter()
    .any(|v| !v.trim().is_empty())
}

async fn call_page(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let key = match signed_in(&ctx, &headers).await {
        Ok(k) => k,
        Err(r) => return r,
    };
    let l = lang(&headers);
    let actor = callproof_models::Actor::of(&key);
    let scope = key.scope();
    let call = match id.parse::<callproof_models::CallId>() {
        Ok(cid) => ctx.app.catalog.get_in(cid, &scope).ok().flatten(),
        Err(_) => None,
    };
    let Some(call) = call else {
        let _ = ctx
            .app
            .audit(&actor, "read_transcript", Some(&id), "not_found");
        let w = words(l);
        let mut resp = Html(format!(
            "<!doctype html><html lang=\"{l}\"><meta charset=\"utf-8\"><title>404</title><p>{}</p><p><a href=\"/ui/search\">{}</a></p></html>",
            w["not_found"], w["search"]
        ))
        .into_response();
        *resp.status_mut() = StatusCode::NOT_FOUND;
        return resp;
    };
    let transcript = ctx.app.catalog.transcript(call.id).ok().flatten();
    let verification = ctx.app.catalog.verification(call.id).ok().flatten();
    if ctx
        .app
        .audit(&actor, "read_transcript", Some(&id), "ok")
        .is_err()
    {
        return internal("the audit log cannot be written").into_response();
    }
    let duration_ms = call.audio.as_ref().map(|a| a.duration_ms).unwrap_or(0);
    render(
        "call.html",
        minijinja::context! {
            lang => l, t => words(l), title => format!("{} {}", words(l)["call"], call.id),
            user => user(&key), call => call, transcript => transcript,
            verification => verification, duration_ms => duration_ms,
        },
    )
}

/// The bundle download button: the same bundle as `POST /api/v1/calls/{id}/evidence`.
async fn evidence(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let key = match signed_in(&ctx, &headers).await {
        Ok(k) => k,
        Err(r) => return r,
    };
    let Ok(cid) = id.parse::<callproof_models::CallId>() else {
        return (StatusCode::NOT_FOUND, "no such call").into_response();
    };
    match ctx
        .app
        .evidence(cid, &key.scope(), &callproof_models::Actor::of(&key), false)
        .await
    {
        Ok(Some(zip)) => {
            let mut resp = (StatusCode::OK, zip).into_response();
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/zip"),
            );
            if let Ok(v) =
                HeaderValue::from_str(&format!("attachment; filename=\"evidence-{id}.zip\""))
            {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            resp
        }
        Ok(None) => (StatusCode::NOT_FOUND, "no such call").into_response(),
        Err(e) => (StatusCode::CONFLICT, format!("{e:#}")).into_response(),
    }
}
