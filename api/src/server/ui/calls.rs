//! Finding and reading calls: search, the call page (player, transcript, findings), the
//! calls list, the bundle button.

use super::*;
use callproof_metastore::{CallPage, CallSort};
use callproof_models::{CallState, Finding, FindingStatus, RuleKind};

#[derive(Deserialize, Default, serde::Serialize)]
pub(super) struct SearchForm {
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
    /// "1": words within an edit or two also match (misheard or misspelt).
    #[serde(default)]
    fuzzy: String,
}

pub(super) async fn search_page(
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
    let fuzzy = f.fuzzy == "1";
    let w = words(l);
    let mut error: Option<String> = None;
    let mut hits = Vec::new();
    if let (Ok(Some(from)), Ok(Some(to))) = (day(&f.from, "from"), day(&f.to, "to")) {
        if from > to {
            error = Some(w["dates_reversed"].clone());
        }
    }
    if searched && error.is_none() {
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
                fuzzy,
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
                match tokio::spawn(async move { app.search(&actor, &req).await }).await {
                    Ok(Ok(h)) => hits = h,
                    Ok(Err(e)) => error = Some(format!("{e:#}")),
                    Err(e) => error = Some(e.to_string()),
                }
            }
        }
    }
    // Why nothing was found, when nothing was: what the person can change, most likely first.
    let mut reasons: Vec<String> = Vec::new();
    if searched && error.is_none() && hits.is_empty() {
        let named = some(&f.client);
        if let Some(c) = named.as_ref().filter(|c| !key.scope().allows(c)) {
            reasons.push(format!("{} « {c} »", w["why_client_unseen"]));
        }
        if f.q.contains('"') {
            reasons.push(w["why_phrase"].clone());
        }
        if !f.q.trim().is_empty() && !fuzzy {
            reasons.push(w["why_fuzzy"].clone());
        }
        if filtered {
            reasons.push(w["why_filters"].clone());
        }
        if !f.q.trim().is_empty() {
            reasons.push(w["why_redacted"].clone());
        }
    }
    let q = minijinja::context! {
        q => f.q, client => f.client, campaign => f.campaign, agent => f.agent,
        speaker => f.speaker, verdict => f.verdict, rule => f.rule, phone => f.phone,
        contract_ref => f.contract_ref, from => f.from, to => f.to, filtered => filtered,
        fuzzy => fuzzy,
    };
    render(
        "search.html",
        minijinja::context! {
            lang => l, t => words(l), title => words(l)["search"], user => user(&key),
            q => q, hits => hits, searched => searched, error => error, reasons => reasons,
        },
    )
}

/// A stretch of speech on a who-spoke-when strip: left and width in percent of the call, and
/// where it starts (ms).
type Span = (f64, f64, u64);

pub(super) async fn call_page(
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
            .await
        {
            return error_page(&key, l, e);
        }
        return error_page(&key, l, ServiceError::NotFound(format!("no call {id}")));
    };
    let crate::service::CallView {
        call,
        transcript,
        verification,
    } = match ctx.app.view_call(&who, cid).await {
        Ok(v) => v,
        Err(e) => return error_page(&key, l, e),
    };
    let duration_ms = call.audio.as_ref().map(|a| a.duration_ms).unwrap_or(0);
    // What a person disputing the call looks for first: broken rules, then doubtful ones.
    let findings: Vec<Finding> = verification.as_ref().map_or_else(Vec::new, |v| {
        let mut f = v.findings.clone();
        f.sort_by_key(|f| match f.status {
            FindingStatus::Fail => 0,
            FindingStatus::Review => 1,
            FindingStatus::Pass => 2,
        });
        f
    });
    let consent = findings
        .iter()
        .find(|f| f.kind == RuleKind::Consent)
        .cloned();
    // Until it is indexed (or failed), the page says so and reloads itself.
    let processing = matches!(call.state, CallState::Received | CallState::Transcribing);
    let started = call.metadata.started_at.map(when);
    let talk = transcript
        .as_ref()
        .map(|t| callproof_quality::talk_stats(t, duration_ms));
    // Who spoke when, one strip per speaker, positioned in percent of the call.
    let strips: Vec<(String, Vec<Span>)> = match (&transcript, duration_ms) {
        (Some(t), d) if d > 0 => {
            let mut by: std::collections::BTreeMap<
                callproof_models::Speaker,
                Vec<(f64, f64, u64)>,
            > = Default::default();
            for s in &t.segments {
                let left = s.start_ms as f64 * 100.0 / d as f64;
                let width = (s.end_ms.saturating_sub(s.start_ms)) as f64 * 100.0 / d as f64;
                by.entry(s.speaker).or_default().push((
                    (left * 100.0).round() / 100.0,
                    (width.max(0.2) * 100.0).round() / 100.0,
                    s.start_ms,
                ));
            }
            by.into_iter()
                .map(|(k, v)| (k.as_str().to_string(), v))
                .collect()
        }
        _ => Vec::new(),
    };
    // The level strip's rows: one per channel, named by who speaks on it.
    let channel_labels: Vec<&str> = call.audio.as_ref().map_or_else(Vec::new, |a| {
        let n = usize::from(a.channels);
        let roles = call.metadata.channels.clone().unwrap_or_default();
        (0..n).map(|i| roles.speaker_for(i, n).as_str()).collect()
    });
    // The provider's people see the reviews of the call (by whom, what they decided); a client
    // sees the reviewed verdict in its bundle.
    let (reviews, people) = if is_staff(&key) {
        let reviews = match ctx
            .app
            .visible_reviews(call.id, &who.scope(), &who.actor())
            .await
        {
            Ok(r) => r.unwrap_or_default(),
            Err(e) => return error_page(&key, l, e.into()),
        };
        match ctx.app.people(&who).await {
            Ok(p) => (reviews, p),
            Err(e) => return error_page(&key, l, e),
        }
    } else {
        Default::default()
    };
    let titles = rule_titles(&ctx, &call.metadata.client, l).await;
    render(
        "call.html",
        minijinja::context! {
            titles => titles,
            lang => l, t => words(l), title => format!("{} {}", words(l)["call"], call.id),
            user => user(&key), call => call, transcript => transcript,
            verification => verification, duration_ms => duration_ms, findings => findings,
            consent => consent, processing => processing, started => started,
            talk => talk, strips => strips, reviews => reviews, people => people,
            channel_labels => channel_labels,
            reviewer => is_reviewer(&key),
        },
    )
}

/// The bundle download button: the same bundle as `POST /api/v1/calls/{id}/evidence`.
pub(super) async fn evidence(
    State(ctx): State<Ctx>,
    UiKey(key): UiKey,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let Ok(cid) = id.parse::<callproof_models::CallId>() else {
        return error_page(
            &key,
            lang(&headers),
            ServiceError::NotFound(format!("no call {id}")),
        );
    };
    match ctx
        .app
        .evidence(cid, &key.scope(), &callproof_models::Actor::of(&key), false)
        .await
    {
        Ok(Some(zip)) => crate::server::bundle_response(&id, zip),
        Ok(None) => error_page(
            &key,
            lang(&headers),
            ServiceError::NotFound(format!("no call {id}")),
        ),
        Err(e) => error_page(&key, lang(&headers), e.into()),
    }
}

/// The calls list's query: filters, order and page, all optional (newest first, page 1).
#[derive(Deserialize, Default)]
pub(super) struct CallsQuery {
    #[serde(default)]
    agent: String,
    #[serde(default)]
    campaign: String,
    /// A verdict's name, or "pending" for calls not verified yet.
    #[serde(default)]
    verdict: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    dir: String,
    #[serde(default)]
    page: String,
}

/// Calls per page of the list.
const CALLS_PER_PAGE: u64 = 50;

/// The calls the signed-in key may see, a page at a time, filtered by agent, campaign and
/// verdict and ordered by any column: a client's portal home.
pub(super) async fn calls_page(
    State(ctx): State<Ctx>,
    UiKey(key): UiKey,
    headers: HeaderMap,
    Query(q): Query<CallsQuery>,
) -> Response {
    let l = lang(&headers);
    let w = words(l);
    let mut error = None;
    let sort = match q.sort.as_str() {
        "" | "received" => CallSort::Received,
        "started" => CallSort::Started,
        "agent" => CallSort::Agent,
        "campaign" => CallSort::Campaign,
        "verdict" => CallSort::Verdict,
        other => {
            error = Some(format!("{} « {other} »", w["bad_sort"]));
            CallSort::Received
        }
    };
    let verdict = match q.verdict.as_str() {
        "" => None,
        "pending" => Some(None),
        v => match v.parse::<callproof_models::Verdict>() {
            Ok(v) => Some(Some(v)),
            Err(_) => {
                error = Some(format!("{} « {v} »", w["bad_verdict"]));
                None
            }
        },
    };
    let page_no = match q.page.trim() {
        "" => 1,
        p => match p.parse::<u64>() {
            Ok(n) if n >= 1 => n,
            _ => {
                error = Some(format!("{} « {p} »", w["bad_page"]));
                1
            }
        },
    };
    // Dates sort newest first unless asked otherwise; names and verdicts A to Z.
    let ascending = match q.dir.as_str() {
        "asc" => true,
        "desc" => false,
        _ => !matches!(sort, CallSort::Received | CallSort::Started),
    };
    let page = CallPage {
        agent: some(&q.agent),
        campaign: some(&q.campaign),
        verdict,
        sort,
        ascending,
        offset: (page_no - 1).saturating_mul(CALLS_PER_PAGE),
        limit: CALLS_PER_PAGE,
    };
    let (calls, total) = match ctx.app.list_calls(&caller(&key), &page).await {
        Ok(c) => c,
        Err(e) => return error_page(&key, l, e),
    };
    let rows: Vec<minijinja::Value> = calls
        .iter()
        .map(|crate::service::CallRow { call: c, verdict }| {
            minijinja::context! {
                id => c.id.to_string(),
                started => c.metadata.started_at.map(when),
                received => when(c.received_at),
                client => c.metadata.client.clone(),
                campaign => c.metadata.campaign.clone(),
                agent => c.metadata.agent.clone(),
                contract => c.metadata.contract_ref.clone(),
                phone => c.metadata.customer_phone.clone(),
                verdict => verdict.map(|v| v.as_str()),
                state => c.state.name(),
            }
        })
        .collect();
    // Links keep every filter and change one thing: the page, or the order.
    let link = |sort: &str, dir: &str, page: u64| {
        let mut query: Vec<(&str, String)> = Vec::new();
        for (k, v) in [
            ("agent", &q.agent),
            ("campaign", &q.campaign),
            ("verdict", &q.verdict),
        ] {
            if !v.trim().is_empty() {
                query.push((k, v.trim().to_string()));
            }
        }
        if !sort.is_empty() {
            query.push(("sort", sort.to_string()));
        }
        if !dir.is_empty() {
            query.push(("dir", dir.to_string()));
        }
        if page > 1 {
            query.push(("page", page.to_string()));
        }
        format!(
            "/ui/calls?{}",
            serde_urlencoded::to_string(&query).unwrap_or_default()
        )
    };
    let current = if q.sort.is_empty() {
        "received"
    } else {
        q.sort.as_str()
    };
    let dir_word = if ascending { "asc" } else { "desc" };
    let columns: Vec<minijinja::Value> = ["started", "agent", "campaign", "verdict"]
        .iter()
        .map(|c| {
            let active = *c == current || (*c == "started" && current == "received");
            // A second click on the ordering column reverses it.
            let next = if active && !ascending { "asc" } else if active { "desc" } else { "" };
            minijinja::context! {
                name => *c, href => link(c, next, 1), active => active,
                sort => if active { if ascending { "ascending" } else { "descending" } } else { "none" },
            }
        })
        .collect();
    let pages = total.div_ceil(CALLS_PER_PAGE).max(1);
    let first = if total == 0 { 0 } else { page.offset + 1 };
    let last = (page.offset + rows.len() as u64).min(total);
    let keep_sort = if q.sort.is_empty() { "" } else { current };
    let keep_dir = if q.dir.is_empty() { "" } else { dir_word };
    render(
        "calls.html",
        merge(
            page_ctx(&key, l, &w["calls_title"]),
            minijinja::context! {
                calls => rows, total => total, first => first, last => last,
                page => page_no, pages => pages, columns => columns, error => error,
                prev => (page_no > 1).then(|| link(keep_sort, keep_dir, page_no - 1)),
                next => (page_no < pages).then(|| link(keep_sort, keep_dir, page_no + 1)),
                f => minijinja::context! { agent => q.agent.trim(), campaign => q.campaign.trim(), verdict => q.verdict.trim() },
                filtered => !(q.agent.trim().is_empty() && q.campaign.trim().is_empty() && q.verdict.trim().is_empty()),
                verdicts => ["violation", "needs_review", "compliant", "no_sale", "pending"],
                staff => is_staff(&key),
            },
        ),
    )
}
