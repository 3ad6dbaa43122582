//! The quality manager's pages: samples, the review form, the dashboard, calibrations.

use super::*;

pub(super) async fn samples_page(
    State(ctx): State<Ctx>,
    UiKey(key): UiKey,
    headers: HeaderMap,
) -> Response {
    let l = lang(&headers);
    if !is_staff(&key) {
        return forbidden_page(&key, l);
    }
    samples_view(&ctx, &key, l, None, &BTreeMap::new()).await
}

/// The samples list and the form to draw one; after a refused draw, with the error and every
/// field as the person left it.
pub(super) async fn samples_view(
    ctx: &Ctx,
    key: &ApiKey,
    l: &'static str,
    error: Option<String>,
    form: &BTreeMap<String, String>,
) -> Response {
    let samples = match ctx.app.list_samples(&caller(key)).await {
        Ok(s) => s,
        Err(e) => return error_page(key, l, e),
    };
    let seed = chrono::Utc::now().timestamp() % 100_000;
    render(
        "samples.html",
        merge(
            page_ctx(key, l, &words(l)["samples"]),
            minijinja::context! {
                samples => samples, seed => form.get("seed").cloned().unwrap_or(seed.to_string()),
                error => error, form => form,
                default_client => key.clients.first().cloned().unwrap_or_default(),
            },
        ),
    )
}

pub(super) async fn create_sample(
    State(ctx): State<Ctx>,
    UiKey(key): UiKey,
    headers: HeaderMap,
    Form(f): Form<BTreeMap<String, String>>,
) -> Response {
    let l = lang(&headers);
    if !is_reviewer(&key) {
        return forbidden_page(&key, l);
    }
    let get = |k: &str| f.get(k).map(|s| s.trim()).unwrap_or("");
    let client = get("client").to_string();
    if let Err(e) = crate::service::client_named(&client)
        .and_then(|c| allow(&caller(&key), Permission::SeeClient(&c)))
    {
        return samples_view(&ctx, &key, l, Some(e.to_string()), &f).await;
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
        name: some(get("name")),
    };
    let app = ctx.app.clone();
    let actor = callproof_models::Actor::of(&key);
    match tokio::spawn(async move { app.create_sample(params, &actor).await }).await {
        Ok(Ok(s)) => Redirect::to(&format!("/ui/samples/{}", s.id)).into_response(),
        Ok(Err(e)) => samples_view(&ctx, &key, l, Some(format!("{e:#}")), &f).await,
        Err(e) => internal(e).into_response(),
    }
}

pub(super) async fn sample_page(
    State(ctx): State<Ctx>,
    UiKey(key): UiKey,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let l = lang(&headers);
    if !is_staff(&key) {
        return forbidden_page(&key, l);
    }
    let (sample, reviews) = match ctx.app.sample_with_reviews(&caller(&key), &id).await {
        Ok(s) => s,
        Err(e) => return error_page(&key, l, e),
    };
    let mut reviewed = 0;
    let rows: Vec<minijinja::Value> = sample
        .calls
        .iter()
        .zip(&reviews)
        .map(|(c, (call, latest))| {
            let last = latest.last().map(|r| r.reviewed_verdict.as_str());
            if last.is_some() {
                reviewed += 1;
            }
            let meta = call.as_ref().map(|c| &c.metadata);
            minijinja::context! {
                call_id => c.call_id.to_string(), stratum => c.stratum.clone(),
                verdict => c.verdict.as_str(), reviewed => last,
                deleted => call.is_none(),
                agent => meta.and_then(|m| m.agent.clone()),
                started => meta.and_then(|m| m.started_at).map(when),
            }
        })
        .collect();
    render(
        "sample.html",
        merge(
            page_ctx(&key, l, &words(l)["sample"]),
            minijinja::context! { sample => sample, rows => rows, reviewed => reviewed },
        ),
    )
}

#[derive(Deserialize, Default)]
pub(super) struct ReviewQuery {
    #[serde(default)]
    sample: String,
    #[serde(default)]
    calibration: String,
    #[serde(default)]
    saved: Option<u32>,
}

/// Why a review was not saved: a sentence already in the page's language, or an overruling
/// without its reason (named by the rule's title, which only the page knows).
pub(super) enum ReviewError {
    Text(String),
    ReasonNeeded(String),
}

pub(super) async fn review_view(
    ctx: &Ctx,
    key: &ApiKey,
    l: &'static str,
    id: &str,
    q: &ReviewQuery,
    error: Option<ReviewError>,
    form: &BTreeMap<String, String>,
) -> Response {
    let who = caller(key);
    let Ok(cid) = id.parse::<callproof_models::CallId>() else {
        return error_page(key, l, ServiceError::NotFound(format!("no call {id}")));
    };
    let view = match ctx.app.view_call(&who, cid).await {
        Ok(v) => v,
        Err(e) => return error_page(key, l, e),
    };
    let call = view.call;
    let (Some(transcript), Some(verification)) = (view.transcript, view.verification) else {
        return error_page(
            key,
            l,
            ServiceError::NotReady(format!("call {id} is not verified yet")),
        );
    };
    let book = match ctx
        .app
        .rules_for(&call.metadata.client, &transcript.language)
        .await
    {
        Ok((b, _)) => b,
        // A rule set that no longer loads is a fault to show, not an empty scorecard.
        Err(e) => return error_page(key, l, e.into()),
    };
    let scorecard: Vec<minijinja::Value> = book
        .scorecard
        .iter()
        .map(|c| {
            minijinja::context! {
                criterion => c.criterion.clone(), title => c.title(), weight => c.weight,
                description => c.description.clone(),
            }
        })
        .collect();
    let rule_ids: Vec<&str> = book.rules.iter().map(|r| r.id.as_str()).collect();
    let titles = rule_titles(ctx, &call.metadata.client, l).await;
    let error = error.map(|e| match e {
        ReviewError::Text(t) => t,
        ReviewError::ReasonNeeded(rule) => format!(
            "{} « {} »",
            words(l)["reason_needed"],
            titles.get(&rule).unwrap_or(&rule)
        ),
    });
    let people = match ctx.app.people(&who).await {
        Ok(p) => p,
        Err(e) => return error_page(key, l, e),
    };
    let reviews = match ctx
        .app
        .visible_reviews(call.id, &who.scope(), &who.actor())
        .await
    {
        Ok(r) => r.unwrap_or_default(),
        Err(e) => return error_page(key, l, e.into()),
    };
    let message = q.saved.map(|v| format!("{}{v}", words(l)["review_saved"]));
    render(
        "review.html",
        merge(
            page_ctx(key, l, &words(l)["review"]),
            minijinja::context! {
                call => call, transcript => transcript, verification => verification,
                scorecard => scorecard, reviews => reviews, message => message, error => error,
                sample_id => q.sample.clone(), calibration_id => q.calibration.clone(),
                form => form, outcomes => REVIEW_OUTCOMES, rule_ids => rule_ids, people => people,
                titles => titles,
            },
        ),
    )
}

pub(super) async fn review_page(
    State(ctx): State<Ctx>,
    UiKey(key): UiKey,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
    Query(q): Query<ReviewQuery>,
) -> Response {
    let l = lang(&headers);
    if !is_reviewer(&key) {
        return forbidden_page(&key, l);
    }
    review_view(&ctx, &key, l, &id, &q, None, &BTreeMap::new()).await
}

/// What a reviewer may say was really heard instead of the automatic outcome.
const REVIEW_OUTCOMES: [&str; 7] = [
    "met",
    "missing",
    "forbidden_said",
    "out_of_window",
    "wrong_speaker",
    "refused",
    "not_checkable",
];

/// "1:05" or "65" (seconds) → milliseconds.
pub(super) fn parse_clock(s: &str) -> Option<u64> {
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

pub(super) async fn submit_review(
    State(ctx): State<Ctx>,
    UiKey(key): UiKey,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
    Form(f): Form<BTreeMap<String, String>>,
) -> Response {
    let l = lang(&headers);
    if !is_reviewer(&key) {
        return forbidden_page(&key, l);
    }
    let get = |k: &str| f.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
    let some = |s: String| (!s.is_empty()).then_some(s);
    let outcome = |s: String| -> Option<callproof_models::Outcome> {
        serde_json::from_value(serde_json::Value::String(s)).ok()
    };
    // A time that does not read as one is refused with the form kept, never dropped: the
    // reviewer meant something by it.
    let mut bad_times = Vec::new();
    let mut time = |field: &str, what: String| -> Option<u64> {
        let text = get(field);
        let ms = parse_clock(&text);
        if ms.is_none() && !text.is_empty() {
            bad_times.push(format!("{what} « {text} »"));
        }
        ms
    };
    let confirm_rest = get("confirm_rest") == "1";
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
        // Reason, corrected outcome and time belong to an overruling only (the page hides them
        // otherwise); a confirmation keeps the finding as it is.
        let overrule = decision == callproof_models::Decision::Overrule;
        decisions.push(callproof_models::FindingDecision {
            rule_id: rule.to_string(),
            decision,
            reason: some(get(&format!("r_{rule}"))).filter(|_| overrule),
            corrected_outcome: outcome(get(&format!("o_{rule}"))).filter(|_| overrule),
            corrected_start_ms: if overrule {
                time(
                    &format!("c_{rule}"),
                    format!("{} ({rule})", words(l)["corrected_time"]),
                )
            } else {
                None
            },
        });
    }
    let mut added = Vec::new();
    if let Some(rule) = some(get("add_rule")) {
        added.push(callproof_models::AddedFinding {
            rule_id: rule,
            outcome: outcome(get("add_outcome")).unwrap_or(callproof_models::Outcome::Missing),
            speaker: None,
            start_ms: time("add_time", words(l)["time"].clone()),
            end_ms: None,
            note: None,
        });
    }
    let scores = f
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("s_")?.to_string(), v.parse::<f32>().ok()?)))
        .collect();
    let (sample_id, calibration_id) = match (
        some(get("sample_id")).map(|s| s.parse()).transpose(),
        some(get("calibration_id")).map(|s| s.parse()).transpose(),
    ) {
        (Ok(s), Ok(c)) => (s, c),
        (Err(e), _) | (_, Err(e)) => return error_page(&key, l, ServiceError::Invalid(e)),
    };
    let input = callproof_models::ReviewInput {
        sample_id,
        calibration_id,
        decisions,
        added,
        scores,
        comment: some(get("comment")),
        confirm_rest,
    };
    let q = ReviewQuery {
        sample: get("sample_id"),
        calibration: get("calibration_id"),
        saved: None,
    };
    let Ok(cid) = id.parse::<callproof_models::CallId>() else {
        return error_page(&key, l, ServiceError::NotFound("no such call".into()));
    };
    let kept = |error: ReviewError| {
        let (ctx, key, id, q, f) = (&ctx, &key, &id, &q, &f);
        async move {
            let mut resp = review_view(ctx, key, l, id, q, Some(error), f).await;
            *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            resp
        }
    };
    if !bad_times.is_empty() {
        return kept(ReviewError::Text(format!(
            "{} {}",
            words(l)["bad_time"],
            bad_times.join(", ")
        )))
        .await;
    }
    let app = ctx.app.clone();
    let (scope, actor) = (key.scope(), callproof_models::Actor::of(&key));
    match tokio::spawn(async move { app.submit_review(cid, &scope, &actor, input).await }).await {
        Ok(Ok(Some(r))) => Redirect::to(&format!(
            "/ui/calls/{id}/review?sample={}&calibration={}&saved={}",
            q.sample, q.calibration, r.version
        ))
        .into_response(),
        Ok(Ok(None)) => error_page(&key, l, ServiceError::NotFound("no such call".into())),
        Ok(Err(e)) => {
            kept(match e.downcast_ref::<callproof_quality::QualityError>() {
                // The refusal a person meets in this form, in the page's language.
                Some(callproof_quality::QualityError::ReasonNeeded { rule }) => {
                    ReviewError::ReasonNeeded(rule.clone())
                }
                _ => ReviewError::Text(format!("{e:#}")),
            })
            .await
        }
        Err(e) => internal(e).into_response(),
    }
}

/// The weekly trend as an SVG line (drawn by the server: no script, prints, scales): one point
/// per ISO week with its rate, the weeks in order, the axis at 0 and at the highest rate.
fn week_chart(weeks: &[crate::quality::Rate]) -> Option<minijinja::Value> {
    if weeks.is_empty() {
        return None;
    }
    let (w, h, left, right, top, bottom) = (640.0, 200.0, 48.0, 16.0, 16.0, 40.0);
    let top_rate = weeks
        .iter()
        .map(|r| r.rate)
        .fold(0.0_f64, f64::max)
        .max(0.1);
    let step = if weeks.len() > 1 {
        (w - left - right) / (weeks.len() - 1) as f64
    } else {
        0.0
    };
    let points: Vec<minijinja::Value> = weeks
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let x = left
                + step * i as f64
                + if weeks.len() == 1 {
                    (w - left - right) / 2.0
                } else {
                    0.0
                };
            let y = top + (h - top - bottom) * (1.0 - r.rate / top_rate);
            minijinja::context! {
                x => (x * 10.0).round() / 10.0, y => (y * 10.0).round() / 10.0,
                week => r.key.clone(), pct => (r.rate * 1000.0).round() / 10.0,
                violations => r.violations, calls => r.calls,
            }
        })
        .collect();
    let line = points
        .iter()
        .map(|p| {
            format!(
                "{},{}",
                p.get_attr("x").unwrap_or_default(),
                p.get_attr("y").unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join(" ");
    Some(minijinja::context! {
        width => w, height => h, left => left, right => w - right, top => top,
        base => h - bottom, top_pct => (top_rate * 1000.0).round() / 10.0,
        points => points, line => line, label_y => h - bottom + 18.0,
        // Every label when they fit, otherwise every other one.
        label_every => if weeks.len() > 12 { 2 } else { 1 },
    })
}

#[derive(Deserialize, Default)]
pub(super) struct DashboardQuery {
    #[serde(default)]
    client: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// Violation rates as bar tables (HTML and CSS only: readable without script, by screen
/// readers, and printable), with the counts behind every bar.
pub(super) async fn dashboard(
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
    let mut trend = None;
    let mut exports = None;

    if !client.is_empty() {
        let named = crate::service::client_named(&client)
            .and_then(|c| allow(&caller(&key), Permission::SeeClient(&c)).map(|()| c));
        if let Err(e) = &named {
            error = Some(e.to_string());
        } else if let Ok(client) = named {
            match (day(&q.from, "from"), day(&q.to, "to")) {
                (Ok(from), Ok(to)) => {
                    let utc = |t: Option<chrono::DateTime<chrono::FixedOffset>>| {
                        t.map(|t| t.with_timezone(&chrono::Utc))
                    };
                    let (from, to) = (utc(from), utc(to.map(|t| t + chrono::Duration::days(1))));
                    if let (Some(f), Some(t)) = (from, to) {
                        if f >= t {
                            error = Some(w["dates_reversed"].clone());
                        }
                    }
                    // The exports carry the same client and period as the page.
                    let mut query = vec![("client", client.to_string())];
                    query.extend(from.map(|f| ("from", f.to_rfc3339())));
                    query.extend(to.map(|t| ("to", t.to_rfc3339())));
                    exports = serde_urlencoded::to_string(&query).ok();
                    match ctx.app.stats(&caller(&key), &client, from, to).await {
                        Ok(_) if error.is_some() => {}
                        Ok(s) => {
                            trend = week_chart(&s.per_week);
                            for (title, keyname, rows) in [
                                (&w["per_rule"], &w["rule"], &s.per_rule),
                                (&w["per_agent"], &w["agent"], &s.per_agent),
                                (&w["per_campaign"], &w["campaign"], &s.per_campaign),
                                (&w["per_week"], &w["week"], &s.per_week),
                            ] {
                                charts.push(minijinja::context! {
                                    title => title, key => keyname, rows => rows.clone(),
                                    rules => std::ptr::eq(rows, &s.per_rule),
                                });
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
    // Only once the caller was allowed to see the client (its statistics are there).
    let titles = if stats.is_some() {
        rule_titles(&ctx, &client, l).await
    } else {
        BTreeMap::new()
    };
    render(
        "dashboard.html",
        merge(
            page_ctx(&key, l, &w["dashboard"]),
            minijinja::context! {
                client => client, from => q.from, to => q.to, stats => stats,
                charts => charts, error => error, trend => trend, exports => exports,
                titles => titles,
                staff => is_staff(&key),
            },
        ),
    )
}

#[derive(Deserialize)]
pub(super) struct CalibrationForm {
    call_id: String,
    reviewers: String,
}

/// Starts a calibration of a call between the signed-in reviewer and the keys given.
pub(super) async fn create_calibration(
    State(ctx): State<Ctx>,
    UiKey(key): UiKey,
    headers: HeaderMap,
    Form(f): Form<CalibrationForm>,
) -> Response {
    let l = lang(&headers);
    if !is_reviewer(&key) {
        return forbidden_page(&key, l);
    }
    let Ok(cid) = f.call_id.parse::<callproof_models::CallId>() else {
        return error_page(&key, l, ServiceError::NotFound("no such call".into()));
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
    match ctx
        .app
        .create_calibration(
            cid,
            &key.scope(),
            &callproof_models::Actor::of(&key),
            reviewers,
        )
        .await
    {
        Ok(Some(c)) => Redirect::to(&format!("/ui/calibrations/{}", c.id)).into_response(),
        Ok(None) => error_page(&key, l, ServiceError::NotFound("no such call".into())),
        Err(e) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Html(callproof_evidence::html_escape(&format!("{e:#}"))),
        )
            .into_response(),
    }
}

pub(super) async fn calibration_page(
    State(ctx): State<Ctx>,
    UiKey(key): UiKey,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let l = lang(&headers);
    if !is_staff(&key) {
        return forbidden_page(&key, l);
    }
    match ctx
        .app
        .calibration_view(&id, &key.scope(), &callproof_models::Actor::of(&key))
        .await
    {
        Ok(Some(view)) => render(
            "calibration.html",
            merge(
                page_ctx(&key, l, &words(l)["calibration"]),
                minijinja::context! { view => view },
            ),
        ),
        Ok(None) => error_page(
            &key,
            l,
            ServiceError::NotFound("no such calibration".into()),
        ),
        Err(e) => internal(e).into_response(),
    }
}
