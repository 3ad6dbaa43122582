//! Signing in and out, and the interface language.

use super::*;

pub(super) async fn login_page(headers: HeaderMap) -> Response {
    let l = lang(&headers);
    render(
        "login.html",
        minijinja::context! { lang => l, t => words(l), title => words(l)["sign_in"] },
    )
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    key: String,
}

pub(super) async fn login(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let l = lang(&headers);
    let token = f.key.trim().to_string();
    let app = ctx.app.clone();
    let t = token.clone();
    match tokio::spawn(async move { app.authenticate(&t).await }).await {
        Ok(Ok(key)) => {
            // The browser gets a session of its own, never the key: signing out or revoking
            // the key ends it, and a stolen cookie is not a key.
            let session = match ctx.app.open_session(&key).await {
                Ok(s) => s,
                Err(e) => return error_page(&key, l, e),
            };
            let mut resp = Redirect::to(home(&key)).into_response();
            let secure = if over_tls(&headers) { "; Secure" } else { "" };
            if let Ok(v) = HeaderValue::from_str(&format!(
                "{SESSION_COOKIE}={session}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
                crate::auth::SESSION_HOURS * 3600
            )) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            // The language is the user's (their key's) choice, wherever they sign in.
            if let Ok(Some(pref)) = ctx.app.language_of_key(&caller(&key)).await {
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

/// Signing out ends the session on the server (the id is useless afterwards, wherever a copy
/// of the cookie went) and clears the cookie.
pub(super) async fn logout(State(ctx): State<Ctx>, headers: HeaderMap) -> Response {
    if let Some(token) = cookie_session(&headers) {
        if let Err(e) = ctx.app.close_session(&token).await {
            return internal(e).into_response();
        }
    }
    let mut resp = Redirect::to("/ui/login").into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("cp_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    resp
}

#[derive(Deserialize)]
pub(super) struct LangForm {
    lang: String,
}

pub(super) async fn set_lang(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Form(f): Form<LangForm>,
) -> Response {
    let l = if f.lang == "en" { "en" } else { "fr" };
    // Signed in: remembered for the key, so it follows the user to other browsers.
    if let Some(token) = cookie_session(&headers) {
        let app = ctx.app.clone();
        let _ = tokio::spawn(async move {
            if let Ok(key) = app.authenticate_session(&token).await {
                let _ = app.set_language_of_key(&caller(&key), l).await;
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
