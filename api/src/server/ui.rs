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

pub const KEY_COOKIE: &str = "cp_key";
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
    ("dashboard.html", include_str!("../../ui/dashboard.html")),
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
        ("calls_title", pick("Appels", "Calls")),
        ("no_calls", pick("Aucun appel.", "No calls.")),
        ("samples", pick("Échantillons", "Samples")),
        ("sample", pick("Échantillon", "Sample")),
        ("new_sample", pick("Nouvel échantillon", "New sample")),
        ("strata", pick("Strates", "Strata")),
        (
            "per_stratum",
            pick("Appels par strate", "Calls per stratum"),
        ),
        ("min_per", pick("Minimum par strate", "Minimum per stratum")),
        (
            "weight",
            pick("Poids des non-conformités", "Weight of violations"),
        ),
        ("weight_short", pick("poids", "weight")),
        (
            "only_flagged",
            pick(
                "Seulement non conformes / à vérifier",
                "Only violations / needs review",
            ),
        ),
        ("seed", pick("Graine", "Seed")),
        ("draw", pick("Tirer", "Draw")),
        ("created", pick("Créé", "Created")),
        ("progress", pick("Avancement", "Progress")),
        ("reviewed", pick("revus", "reviewed")),
        ("stratum", pick("Strate", "Stratum")),
        ("reviewed_verdict", pick("Verdict revu", "Reviewed verdict")),
        ("review", pick("Revue", "Review")),
        ("call_page", pick("Page de l'appel", "Call page")),
        ("no_decision", pick("Sans avis", "No decision")),
        ("confirm", pick("Confirmer", "Confirm")),
        ("overrule", pick("Infirmer", "Overrule")),
        ("reason", pick("Raison", "Reason")),
        (
            "corrected_time",
            pick("Moment exact (m:ss)", "Correct time (m:ss)"),
        ),
        ("add_finding", pick("Ajouter un constat", "Add a finding")),
        ("outcome", pick("Résultat", "Outcome")),
        ("time", pick("Moment (m:ss)", "Time (m:ss)")),
        (
            "scorecard",
            pick("Grille d'évaluation (0 à 5)", "Scorecard (0 to 5)"),
        ),
        ("comment", pick("Commentaire", "Comment")),
        (
            "submit_review",
            pick("Enregistrer la revue", "Save the review"),
        ),
        (
            "review_saved",
            pick("Revue enregistrée, version ", "Review saved, version "),
        ),
        ("reviews", pick("Revues", "Reviews")),
        ("automatic", pick("automatique", "automatic")),
        ("dashboard", pick("Tableau de bord", "Dashboard")),
        ("show", pick("Afficher", "Show")),
        (
            "export_findings",
            pick("Exporter les constats (CSV)", "Export findings (CSV)"),
        ),
        ("verified_calls", pick("appels vérifiés", "verified calls")),
        ("rate", pick("Taux de non-conformité", "Violation rate")),
        ("count", pick("Nombre", "Count")),
        ("per_rule", pick("Par règle", "Per rule")),
        ("per_agent", pick("Par agent", "Per agent")),
        ("per_campaign", pick("Par campagne", "Per campaign")),
        ("per_week", pick("Par semaine", "Per week")),
        ("week", pick("Semaine", "Week")),
        ("calibration", pick("Calibrage", "Calibration")),
        ("answer", pick("Répondre", "Answer")),
        ("answered", pick("Ont répondu", "Answered")),
        ("pending", pick("En attente", "Pending")),
        ("item", pick("Point", "Item")),
        ("agreement", pick("Accord", "Agreement")),
        (
            "hidden_until_all",
            pick(
                "Les réponses restent cachées jusqu'à ce que tous les évaluateurs aient répondu.",
                "Answers stay hidden until every reviewer has answered.",
            ),
        ),
        (
            "calibrate_with",
            pick("Calibrer avec les clés", "Calibrate with keys"),
        ),
        (
            "start_calibration",
            pick("Lancer un calibrage", "Start a calibration"),
        ),
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

/// The signed-in key of a page request; without a valid one, the page redirects to sign-in.
struct UiKey(ApiKey);

/// The service's caller for a signed-in key.
fn caller(key: &ApiKey) -> Caller {
    Caller::key(key.clone())
}

/// The one place where the service's errors become pages.
fn error_page(l: &'static str, e: ServiceError) -> Response {
    let w = words(l);
    let (status, text) = match &e {
        ServiceError::NotFound(_) => (StatusCode::NOT_FOUND, w["not_found"].to_string()),
        ServiceError::Forbidden(_) => return forbidden_page(l),
        ServiceError::Invalid(m) => (StatusCode::UNPROCESSABLE_ENTITY, m.clone()),
        ServiceError::Conflict(m) => (StatusCode::CONFLICT, m.clone()),
        ServiceError::NotReady(_) => (StatusCode::CONFLICT, w["no_transcript"].to_string()),
        ServiceError::Internal(m) => (StatusCode::INTERNAL_SERVER_ERROR, m.clone()),
    };
    let mut resp = Html(format!(
        "<!doctype html><html lang=\"{l}\"><meta charset=\"utf-8\"><title>{}</title><p>{}</p><p><a href=\"/ui/search\">{}</a></p></html>",
        status.as_u16(),
        callproof_evidence::html_escape(&text),
        w["search"]
    ))
    .into_response();
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
        let token = cookie_key(&parts.headers).ok_or_else(to_login)?;
        let app = ctx.app.clone();
        match tokio::task::spawn_blocking(move || app.authenticate(&token)).await {
            Ok(Ok(key)) => Ok(UiKey(key)),
            _ => Err(to_login()),
        }
    }
}

fn user(key: &ApiKey) -> minijinja::Value {
    minijinja::context! {
        role => key.role.as_str(),
        clients => key.clients.clone(),
        staff => is_staff(key),
    }
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
        .route("/ui/calls", get(calls_page))
        .route("/ui/samples", get(samples_page).post(create_sample))
        .route("/ui/samples/{id}", get(sample_page))
        .route(
            "/ui/calls/{id}/review",
            get(review_page).post(submit_review),
        )
        .route("/ui/dashboard", get(dashboard))
        .route("/ui/calibrations", post(create_calibration))
        .route("/ui/calibrations/{id}", get(calibration_page))
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
    match tokio::task::spawn_blocking(move || app.authenticate(&t)).await {
        Ok(Ok(key)) => {
            let mut resp = Redirect::to("/ui/search").into_response();
            if let Ok(v) = HeaderValue::from_str(&format!(
                "{KEY_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200"
            )) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            // The language is the user's (their key's) choice, wherever they sign in.
            if let Ok(Some(pref)) = ctx.app.language_of_key(&caller(&key)) {
                let l = if pref == "en" { "en" } else { "fr" };
                if let Ok(v) = HeaderValue::from_str(&format!(
                    "{LANG_COOKIE}={l}; SameSite=Strict; Path=/; Max-Age=31536000"
                )) {
                    resp.headers_mut().append(header::SET_COOKIE, v);
                }
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

async fn set_lang(State(ctx): State<Ctx>, headers: HeaderMap, Form(f): Form<LangForm>) -> Response {
    let l = if f.lang == "en" { "en" } else { "fr" };
    // Signed in: remembered for the key, so it follows the user to other browsers.
    if let Some(token) = cookie_key(&headers) {
        let app = ctx.app.clone();
        let _ = tokio::task::spawn_blocking(move || {
            if let Ok(key) = app.authenticate(&token) {
                let _ = app.set_language_of_key(&caller(&key), l);
            }
        })
        .await;
    }
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
    UiKey(key): UiKey,
    headers: HeaderMap,
    Query(f): Query<SearchForm>,
) -> Response {
    let l = lang(&headers);
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
    let searched = filtered || !f.q.trim().is_empty();
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
                let actor = callproof_models::Actor::of(&key);
                match tokio::task::spawn_blocking(move || app.search(&actor, &req)).await {
                    Ok(Ok(h)) => hits = h,
                    Ok(Err(e)) => error = Some(format!("{e:#}")),
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

async fn call_page(
    State(ctx): State<Ctx>,
    UiKey(key): UiKey,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let l = lang(&headers);
    let who = caller(&key);
    let Ok(cid) = id.parse::<callproof_models::CallId>() else {
        if let Err(e) = ctx
            .app
            .record(&who, AuditAction::ReadTranscript, Some(&id), "not_found")
        {
            return error_page(l, e);
        }
        return error_page(l, ServiceError::NotFound(format!("no call {id}")));
    };
    let crate::service::CallView {
        call,
        transcript,
        verification,
    } = match ctx.app.view_call(&who, cid) {
        Ok(v) => v,
        Err(e) => return error_page(l, e),
    };
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
    UiKey(key): UiKey,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let Ok(cid) = id.parse::<callproof_models::CallId>() else {
        return error_page(
            lang(&headers),
            ServiceError::NotFound(format!("no call {id}")),
        );
    };
    match ctx
        .app
        .evidence(cid, &key.scope(), &callproof_models::Actor::of(&key), false)
        .await
    {
        Ok(Some(zip)) => super::bundle_response(&id, zip),
        Ok(None) => error_page(
            lang(&headers),
            ServiceError::NotFound(format!("no call {id}")),
        ),
        Err(e) => error_page(lang(&headers), e.into()),
    }
}

fn page_ctx(key: &ApiKey, l: &'static str, title: &str) -> minijinja::Value {
    minijinja::context! { lang => l, t => words(l), title => title, user => user(key) }
}

fn merge(a: minijinja::Value, b: minijinja::Value) -> minijinja::Value {
    minijinja::context! { ..a, ..b }
}

fn forbidden_page(l: &str) -> Response {
    (
        StatusCode::FORBIDDEN,
        Html(format!(
            "<!doctype html><html lang=\"{l}\"><meta charset=\"utf-8\"><p>{}</p></html>",
            if l == "en" {
                "This page is for quality managers."
            } else {
                "Cette page est réservée aux responsables qualité."
            }
        )),
    )
        .into_response()
}

/// The calls the signed-in key may see, newest first: a client's portal home.
async fn calls_page(State(ctx): State<Ctx>, UiKey(key): UiKey, headers: HeaderMap) -> Response {
    let l = lang(&headers);
    let calls = match ctx.app.list_calls(&caller(&key), 200) {
        Ok(c) => c,
        Err(e) => return error_page(l, e),
    };
    let rows: Vec<minijinja::Value> = calls
        .iter()
        .map(|crate::service::CallRow { call: c, verdict }| {
            minijinja::context! {
                id => c.id.to_string(),
                started => c.metadata.started_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()),
                received => c.received_at.format("%Y-%m-%d %H:%M").to_string(),
                client => c.metadata.client.clone(),
                campaign => c.metadata.campaign.clone(),
                agent => c.metadata.agent.clone(),
                contract => c.metadata.contract_ref.clone(),
                verdict => verdict.map(|v| v.as_str()),
                state => c.state.name(),
            }
        })
        .collect();
    render(
        "calls.html",
        merge(
            page_ctx(&key, l, words(l)["calls_title"]),
            minijinja::context! { calls => rows },
        ),
    )
}

fn is_reviewer(key: &ApiKey) -> bool {
    allow(&caller(key), Permission::Review).is_ok()
}

fn is_staff(key: &ApiKey) -> bool {
    allow(&caller(key), Permission::Staff).is_ok()
}

async fn samples_page(State(ctx): State<Ctx>, UiKey(key): UiKey, headers: HeaderMap) -> Response {
    let l = lang(&headers);
    if !is_staff(&key) {
        return forbidden_page(l);
    }
    samples_view(&ctx, &key, l, None)
}

fn samples_view(ctx: &Ctx, key: &ApiKey, l: &'static str, error: Option<String>) -> Response {
    let samples = match ctx.app.list_samples(&caller(key)) {
        Ok(s) => s,
        Err(e) => return error_page(l, e),
    };
    let seed = chrono::Utc::now().timestamp() % 100_000;
    render(
        "samples.html",
        merge(
            page_ctx(key, l, words(l)["samples"]),
            minijinja::context! {
                samples => samples, seed => seed, error => error,
                default_client => key.clients.first().cloned().unwrap_or_default(),
            },
        ),
    )
}

async fn create_sample(
    State(ctx): State<Ctx>,
    UiKey(key): UiKey,
    headers: HeaderMap,
    Form(f): Form<BTreeMap<String, String>>,
) -> Response {
    let l = lang(&headers);
    if !is_reviewer(&key) {
        return forbidden_page(l);
    }
    let get = |k: &str| f.get(k).map(|s| s.trim()).unwrap_or("");
    let client = get("client").to_string();
    if let Err(e) = allow(&caller(&key), Permission::SeeClient(&client)) {
        return samples_view(&ctx, &key, l, Some(e.to_string()));
    }
    let strata = get("by")
        .split(',')
        .filter_map(|s| match s {
            "agent" => Some(callproof_models::StratumKey::Agent),
            "campaign" => Some(callproof_models::StratumKey::Campaign),
            _ => None,
        })
        .collect();
    let params = callproof_models::SampleParams {
        client,
        from: None,
        to: None,
        strata,
        per_stratum: get("per").parse().ok(),
        percent: None,
        min_per_stratum: get("min_per").parse().unwrap_or(0),
        only: if get("only_flagged") == "1" {
            vec![
                callproof_models::Verdict::Violation,
                callproof_models::Verdict::NeedsReview,
            ]
        } else {
            Vec::new()
        },
        violation_weight: get("weight").parse().unwrap_or(1.0),
        seed: get("seed").parse().unwrap_or(0),
        name: None,
    };
    let app = ctx.app.clone();
    let actor = callproof_models::Actor::of(&key);
    match tokio::task::spawn_blocking(move || app.create_sample(params, &actor)).await {
        Ok(Ok(s)) => Redirect::to(&format!("/ui/samples/{}", s.id)).into_response(),
        Ok(Err(e)) => samples_view(&ctx, &key, l, Some(format!("{e:#}"))),
        Err(e) => internal(e).into_response(),
    }
}

async fn sample_page(
    State(ctx): State<Ctx>,
    UiKey(key): UiKey,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let l = lang(&headers);
    if !is_staff(&key) {
        return forbidden_page(l);
    }
    let (sample, reviews) = match ctx.app.sample_with_reviews(&caller(&key), &id) {
        Ok(s) => s,
        Err(e) => return error_page(l, e),
    };
    let mut reviewed = 0;
    let rows: Vec<minijinja::Value> = sample
        .calls
        .iter()
        .zip(&reviews)
        .map(|(c, latest)| {
            let last = latest.last().map(|r| r.reviewed_verdict.as_str());
            if last.is_some() {
                reviewed += 1;
            }
            minijinja::context! {
                call_id => c.call_id.to_string(), stratum => c.stratum.clone(),
                verdict => c.verdict.as_str(), reviewed => last,
            }
        })
        .collect();
    render(
        "sample.html",
        merge(
            page_ctx(&key, l, words(l)["sample"]),
            minijinja::context! { sample => sample, rows => rows, reviewed => reviewed },
        ),
    )
}

#[derive(Deserialize, Default)]
struct ReviewQuery {
    #[serde(default)]
    sample: String,
    #[serde(default)]
    calibration: String,
    #[serde(default)]
    saved: Option<u32>,
}

fn review_view(
    ctx: &Ctx,
    key: &ApiKey,
    l: &'static str,
    id: &str,
    q: &ReviewQuery,
    error: Option<String>,
) -> Response {
    let who = caller(key);
    let Ok(cid) = id.parse::<callproof_models::CallId>() else {
        return error_page(l, ServiceError::NotFound(format!("no call {id}")));
    };
    let view = match ctx.app.view_call(&who, cid) {
        Ok(v) => v,
        Err(e) => return error_page(l, e),
    };
    let call = view.call;
    let (Some(transcript), Some(verification)) = (view.transcript, view.verification) else {
        return error_page(
            l,
            ServiceError::NotReady(format!("call {id} is not verified yet")),
        );
    };
    let scorecard: Vec<minijinja::Value> = ctx
        .app
        .rules_for(&call.metadata.client, &transcript.language)
        .map(|(b, _)| {
            b.scorecard
                .iter()
                .map(|c| minijinja::context! { criterion => c.criterion.clone(), weight => c.weight })
                .collect()
        })
        .unwrap_or_default();
    let reviews = match ctx.app.visible_reviews(call.id, &who.scope(), &who.actor()) {
        Ok(r) => r.unwrap_or_default(),
        Err(e) => return error_page(l, e.into()),
    };
    let message = q.saved.map(|v| format!("{}{v}", words(l)["review_saved"]));
    render(
        "review.html",
        merge(
            page_ctx(key, l, words(l)["review"]),
            minijinja::context! {
                call => call, transcript => transcript, verification => verification,
                scorecard => scorecard, reviews => reviews, message => message, error => error,
                sample_id => q.sample.clone(), calibration_id => q.calibration.clone(),
            },
        ),
    )
}

async fn review_page(
    State(ctx): State<Ctx>,
    UiKey(key): UiKey,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
    Query(q): Query<ReviewQuery>,
) -> Response {
    let l = lang(&headers);
    if !is_reviewer(&key) {
        return forbidden_page(l);
    }
    review_view(&ctx, &key, l, &id, &q, None)
}

/// "1:05" or "65" (seconds) → milliseconds.
fn parse_clock(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    match s.split_once(':') {
        Some((m, sec)) => {
            Some((m.parse::<u64>().ok()? * 60 + sec.parse::<f64>().ok()? as u64) * 1000)
        }
        None => Some((s.parse::<f64>().ok()? * 1000.0) as u64),
    }
}

async fn submit_review(
    State(ctx): State<Ctx>,
    UiKey(key): UiKey,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
    Form(f): Form<BTreeMap<String, String>>,
) -> Response {
    let l = lang(&headers);
    if !is_reviewer(&key) {
        return forbidden_page(l);
    }
    let get = |k: &str| f.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
    let some = |s: String| (!s.is_empty()).then_some(s);
    let mut decisions = Vec::new();
    for (k, v) in &f {
        let Some(rule) = k.strip_prefix("d_") else {
            continue;
        };
        let decision = match v.as_str() {
            "confirm" => callproof_models::Decision::Confirm,
            "overrule" => callproof_models::Decision::Overrule,
            _ => continue,
        };
        decisions.push(callproof_models::FindingDecision {
            rule_id: rule.to_string(),
            decision,
            reason: some(get(&format!("r_{rule}"))),
            corrected_outcome: None,
            corrected_start_ms: parse_clock(&get(&format!("c_{rule}"))),
        });
    }
    let mut added = Vec::new();
    if let Some(rule) = some(get("add_rule")) {
        let outcome: Option<callproof_models::Outcome> =
            serde_json::from_value(serde_json::Value::String(get("add_outcome"))).ok();
        added.push(callproof_models::AddedFinding {
            rule_id: rule,
            outcome: outcome.unwrap_or(callproof_models::Outcome::Missing),
            speaker: None,
            start_ms: parse_clock(&get("add_time")),
            end_ms: None,
            note: None,
        });
    }
    let scores = f
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("s_")?.to_string(), v.parse::<f32>().ok()?)))
        .collect();
    let input = callproof_models::ReviewInput {
        sample_id: some(get("sample_id")),
        calibration_id: some(get("calibration_id")),
        decisions,
        added,
        scores,
        comment: some(get("comment")),
    };
    let q = ReviewQuery {
        sample: get("sample_id"),
        calibration: get("calibration_id"),
        saved: None,
    };
    let Ok(cid) = id.parse::<callproof_models::CallId>() else {
        return (StatusCode::NOT_FOUND, "no such call").into_response();
    };
    let app = ctx.app.clone();
    let (scope, actor) = (key.scope(), callproof_models::Actor::of(&key));
    match tokio::task::spawn_blocking(move || app.submit_review(cid, &scope, &actor, input)).await {
        Ok(Ok(Some(r))) => Redirect::to(&format!(
            "/ui/calls/{id}/review?sample={}&calibration={}&saved={}",
            q.sample, q.calibration, r.version
        ))
        .into_response(),
        Ok(Ok(None)) => (StatusCode::NOT_FOUND, "no such call").into_response(),
        Ok(Err(e)) => {
            let mut resp = review_view(&ctx, &key, l, &id, &q, Some(format!("{e:#}")));
            *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            resp
        }
        Err(e) => internal(e).into_response(),
    }
}

#[derive(Deserialize, Default)]
struct DashboardQuery {
    #[serde(default)]
    client: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// Violation rates as bar tables (HTML and CSS only: readable without script, by screen
/// readers, and printable), with the counts behind every bar.
async fn dashboard(
    State(ctx): State<Ctx>,
    UiKey(key): UiKey,
    headers: HeaderMap,
    Query(q): Query<DashboardQuery>,
) -> Response {
    let l = lang(&headers);
    let w = words(l);
    let client = if q.client.trim().is_empty() {
        key.clients.first().cloned().unwrap_or_default()
    } else {
        q.client.trim().to_string()
    };
    let mut error = None;
    let mut stats = None;
    let mut charts = Vec::new();
    if !client.is_empty() {
        if let Err(e) = allow(&caller(&key), Permission::SeeClient(&client)) {
            error = Some(e.to_string());
        } else {
            match (day(&q.from, "from"), day(&q.to, "to")) {
                (Ok(from), Ok(to)) => {
                    let utc = |t: Option<chrono::DateTime<chrono::FixedOffset>>| {
                        t.map(|t| t.with_timezone(&chrono::Utc))
                    };
                    match ctx.app.verified_calls(
                        &caller(&key),
                        &client,
                        utc(from),
                        utc(to.map(|t| t + chrono::Duration::days(1))),
                    ) {
                        Ok(calls) => {
                            let s = crate::quality::stats(&calls);
                            for (title, keyname, rows) in [
                                (w["per_rule"], w["rule"], &s.per_rule),
                                (w["per_agent"], w["agent"], &s.per_agent),
                                (w["per_campaign"], w["campaign"], &s.per_campaign),
                                (w["per_week"], w["week"], &s.per_week),
                            ] {
                                charts.push(minijinja::context! { title => title, key => keyname, rows => rows.clone() });
                            }
                            stats = Some(s);
                        }
                        Err(e) => error = Some(e.to_string()),
                    }
                }
                (Err(e), _) | (_, Err(e)) => error = Some(e),
            }
        }
    }
    render(
        "dashboard.html",
        merge(
            page_ctx(&key, l, w["dashboard"]),
            minijinja::context! {
                client => client, from => q.from, to => q.to, stats => stats,
                charts => charts, error => error,
            },
        ),
    )
}

#[derive(Deserialize)]
struct CalibrationForm {
    call_id: String,
    reviewers: String,
}

/// Starts a calibration of a call between the signed-in reviewer and the keys given.
async fn create_calibration(
    State(ctx): State<Ctx>,
    UiKey(key): UiKey,
    headers: HeaderMap,
    Form(f): Form<CalibrationForm>,
) -> Response {
    let l = lang(&headers);
    if !is_reviewer(&key) {
        return forbidden_page(l);
    }
    let Ok(cid) = f.call_id.parse::<callproof_models::CallId>() else {
        return (StatusCode::NOT_FOUND, "no such call").into_response();
    };
    let mut reviewers = vec![key.id.clone()];
    for r in f
        .reviewers
        .split([',', ' '])
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        if !reviewers.iter().any(|x| x == r) {
            reviewers.push(r.to_string());
        }
    }
    match ctx.app.create_calibration(
        cid,
        &key.scope(),
        &callproof_models::Actor::of(&key),
        reviewers,
    ) {
        Ok(Some(c)) => Redirect::to(&format!("/ui/calibrations/{}", c.id)).into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "no such call").into_response(),
        Err(e) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Html(callproof_evidence::html_escape(&format!("{e:#}"))),
        )
            .into_response(),
    }
}

async fn calibration_page(
    State(ctx): State<Ctx>,
    UiKey(key): UiKey,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let l = lang(&headers);
    if !is_staff(&key) {
        return forbidden_page(l);
    }
    match ctx
        .app
        .calibration_view(&id, &key.scope(), &callproof_models::Actor::of(&key))
    {
        Ok(Some(view)) => render(
            "calibration.html",
            merge(
                page_ctx(&key, l, words(l)["calibration"]),
                minijinja::context! { view => view },
            ),
        ),
        Ok(None) => (StatusCode::NOT_FOUND, "no such calibration").into_response(),
        Err(e) => internal(e).into_response(),
    }
}
