//! The web interface over plain HTTP: sign-in with a key kept in an HttpOnly, SameSite=Strict
//! cookie, search results linking to the moment to play, the call page's player, transcript and
//! findings, French by default and English on request, tenant isolation, and the bundle button.
//! (Driving it in a real browser is the next step; see issue "web interface".)

mod common;

use common::*;
use reqwest::blocking::Client;
use reqwest::StatusCode;

/// A client as a browser on this server's pages is: it names the page a form was sent from
/// (Origin: this server's own) and does not follow redirects (the tests look at them).
fn page_has(page: &str, what: &str) -> bool {
    page.contains(what) || {
        eprintln!("{what} not in {page}");
        false
    }
}

fn page_client(base: &str) -> Client {
    let mut origin = reqwest::header::HeaderMap::new();
    origin.insert("origin", base.parse().unwrap());
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(origin)
        .build()
        .unwrap()
}

#[test]
fn sign_in_search_and_call_page() {
    ensure_model("tiny.en");
    let _w = WHISPER.lock().unwrap_or_else(|p| p.into_inner());
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let key_file = d.join("signing.key");
    let sk = key_file.to_str().unwrap();
    ok(d, &["--signing-key", sk, "keys", "init"]);
    let ingested = json(
        d,
        &[
            "--model",
            "tiny.en",
            "ingest",
            fixture("real/en_jfk_16k_mono.wav").to_str().unwrap(),
            "--client",
            "acme",
            "--language",
            "en",
            "--json",
        ],
    );
    let id = ingested[0]["call_id"].as_str().unwrap().to_string();
    let acme = ok(
        d,
        &["keys", "create", "--role", "client", "--client", "acme"],
    );
    let globex = ok(
        d,
        &["keys", "create", "--role", "client", "--client", "globex"],
    );
    let qm1 = ok(
        d,
        &[
            "keys",
            "create",
            "--role",
            "quality_manager",
            "--client",
            "acme",
            "--name",
            "Claire Martin",
        ],
    );
    let qm2 = ok(
        d,
        &[
            "keys",
            "create",
            "--role",
            "quality_manager",
            "--client",
            "acme",
        ],
    );

    let agent = ok(
        d,
        &["keys", "create", "--role", "agent", "--client", "acme"],
    );
    let server = serve(d, &["--signing-key", sk, "--model", "tiny.en"]);
    let base = server.base.clone();
    let url = |p: &str| format!("{base}{p}");
    let http = page_client(&base);

    // Not signed in: sent to the sign-in page, in French.
    let r = http.get(url("/ui/search")).send().unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/ui/login");
    let page = http.get(url("/ui/login")).send().unwrap().text().unwrap();
    assert!(
        page.contains("lang=\"fr\"") && page.contains("Se connecter"),
        "{page}"
    );
    let r = http
        .post(url("/ui/login"))
        .form(&[("key", "cp_nope_nope")])
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let login = |token: &str| -> String {
        let r = http
            .post(url("/ui/login"))
            .form(&[("key", token.trim())])
            .send()
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        // The cookie holds a session of its own, never the key.
        assert!(
            cookie.starts_with("cp_session=cps_") && !cookie.contains(token.trim()),
            "{cookie}"
        );
        assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
        cookie.split(';').next().unwrap().to_string()
    };
    let acme_cookie = login(&acme);
    let get =
        |cookie: &str, path: &str| http.get(url(path)).header("cookie", cookie).send().unwrap();

    // A client lands on its calls: paged, ordered by any column, filtered.
    let r = http
        .post(url("/ui/login"))
        .form(&[("key", acme.trim())])
        .send()
        .unwrap();
    assert_eq!(r.headers()["location"], "/ui/calls");
    let page = get(&acme_cookie, "/ui/calls").text().unwrap();
    assert!(
        page.contains(&format!("/ui/calls/{id}")) && page.contains(">1 appel</p>"),
        "{page}"
    );
    assert!(page.contains("aria-sort=\"descending\""), "{page}");
    let page = get(&acme_cookie, "/ui/calls?agent=nobody").text().unwrap();
    assert!(
        page.contains("Aucun appel ne correspond à ces filtres")
            && !page.contains(&format!("/ui/calls/{id}")),
        "{page}"
    );
    let page = get(&acme_cookie, "/ui/calls?sort=agent&page=zero")
        .text()
        .unwrap();
    assert!(
        page.contains("Numéro de page illisible") && page.contains("aria-sort=\"ascending\""),
        "{page}"
    );
    let page = get(&acme_cookie, "/ui/calls?verdict=pending")
        .text()
        .unwrap();
    assert!(
        !page.contains(&format!("/ui/calls/{id}")),
        "verified: {page}"
    );

    // Search: the hit links to the call at the moment the words are said.
    let page = get(&acme_cookie, "/ui/search?q=country").text().unwrap();
    let link = format!("/ui/calls/{id}#t=");
    let at = page
        .find(&link)
        .unwrap_or_else(|| panic!("no hit link in {page}"));
    let ms: u64 = page[at + link.len()..]
        .split('"')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((5_000..11_000).contains(&ms), "{ms}");
    assert!(page.contains("<b>country</b>"), "{page}");
    assert!(page.contains(">1 appel</p>"), "French singular: {page}");
    // A misheard or misspelt word: nothing, with the reasons; the approximate search finds it.
    let page = get(&acme_cookie, "/ui/search?q=contry").text().unwrap();
    assert!(
        page.contains("id=\"why-empty\"") && page.contains("Recherche approchée"),
        "{page}"
    );
    let page = get(&acme_cookie, "/ui/search?q=contry&fuzzy=1")
        .text()
        .unwrap();
    assert!(page.contains(&link), "fuzzy: {page}");
    let page = get(
        &acme_cookie,
        "/ui/search?q=country&from=2026-05-01&to=2026-04-01",
    )
    .text()
    .unwrap();
    assert!(
        page.contains("La date de début est après la date de fin"),
        "{page}"
    );

    // The call page: player on the original, transcript with seekable times, findings; English.
    let page = get(
        &format!("{acme_cookie}; cp_lang=en"),
        &format!("/ui/calls/{id}"),
    )
    .text()
    .unwrap();
    assert!(
        page.contains(&format!("src=\"/api/v1/calls/{id}/audio\"")),
        "{page}"
    );
    assert!(page.contains("data-seek=") && page.contains("class=\"segment"));
    assert!(page.contains("<h2>Findings</h2>") && page.contains("lang=\"en\""));
    // The header argues the case: the consent line first, findings broken first.
    assert!(page.contains("id=\"consent-line\""), "{page}");
    assert!(page.contains("Consent: <strong>"), "{page}");
    let order: Vec<usize> = ["finding fail", "finding review", "finding pass"]
        .iter()
        .filter_map(|c| page.find(&format!("class=\"{c}\"")))
        .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "findings out of order: {order:?}"
    );
    assert!(
        page.contains("Duration</dt>") && page.contains("id=\"moment-link\""),
        "{page}"
    );
    assert!(page.contains("class=\"skip\" href=\"#main\""), "{page}");
    // Talk time, the longest silence, overtalk, and who spoke when.
    assert!(
        page.contains("Talk time · ")
            && page.contains("Longest silence")
            && page.contains("Overtalk"),
        "{page}"
    );
    assert!(page.contains("<div class=\"strip "), "{page}");
    // The level strip reads the recording itself: one row per channel, levels along the call.
    assert!(page.contains("id=\"energy\""), "{page}");
    let energy: serde_json::Value = http
        .get(url(&format!("/api/v1/calls/{id}/energy?steps=100")))
        .header("cookie", &acme_cookie)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let levels = energy["channels"][0].as_array().unwrap();
    assert_eq!(levels.len(), 100, "{energy}");
    assert!(
        levels.iter().any(|l| l.as_u64().unwrap() > 40),
        "speech is loud: {energy}"
    );
    assert!(energy["step_ms"].as_f64().unwrap() > 50.0, "{energy}");
    let r = http
        .get(url(&format!("/api/v1/calls/{id}/energy?steps=0")))
        .header("cookie", &acme_cookie)
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // The player's audio is served with the session cookie, with Range.
    let r = http
        .get(url(&format!("/api/v1/calls/{id}/audio")))
        .header("cookie", &acme_cookie)
        .header("range", "bytes=0-99")
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    // The bundle button gives a signed bundle that verifies.
    let r = http
        .post(url(&format!("/ui/calls/{id}/evidence")))
        .header("cookie", &acme_cookie)
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let bundle = d.join("bundle.zip");
    std::fs::write(&bundle, r.bytes().unwrap()).unwrap();
    let public = ok(d, &["--signing-key", sk, "keys", "public"]);
    let out = ok(
        d,
        &[
            "evidence",
            "verify",
            bundle.to_str().unwrap(),
            "--public-key",
            public.trim(),
        ],
    );
    assert!(out.starts_with("valid"), "{out}");
    // "Vérifier une preuve": the key, its fingerprint and the exact command, in French.
    let page = get(&acme_cookie, "/ui/verify").text().unwrap();
    assert!(page.contains("Vérifier une preuve"), "{page}");
    assert!(page.contains(public.trim()), "{page}");
    assert!(page.contains("SHA256:"), "{page}");
    assert!(
        page.contains(&format!(
            "callproof evidence verify bundle.zip --public-key {}",
            public.trim()
        )),
        "{page}"
    );

    // Pages a client may not open, and calls it cannot see, answer with a page like the
    // others: styled, in French, with the navigation and a way back.
    let r = get(&acme_cookie, "/ui/samples");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let page = r.text().unwrap();
    assert!(
        page.contains("ne vous est pas ouverte") && page.contains("<nav"),
        "{page}"
    );
    assert!(page.contains("/ui/static/app.css"), "{page}");

    // Another tenant's key: no such call, no search hit.
    let globex_cookie = login(&globex);
    let r = get(&globex_cookie, &format!("/ui/calls/{id}"));
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let page = r.text().unwrap();
    assert!(
        page.contains("Appel introuvable") && page.contains("Retour à la recherche"),
        "{page}"
    );
    assert_eq!(
        get(&globex_cookie, &format!("/ui/calls/{id}")).status(),
        StatusCode::NOT_FOUND
    );
    let page = get(&globex_cookie, "/ui/search?q=country").text().unwrap();
    assert!(!page.contains(&id));
    // Calibration from the pages: answers hidden until both quality managers answered.
    let (c1, c2) = (login(&qm1), login(&qm2));
    let qm2_id = qm2.trim().split('_').nth(1).unwrap().to_string();
    let r = http
        .post(url("/ui/calibrations"))
        .header("cookie", &c1)
        .form(&[("call_id", id.as_str()), ("reviewers", qm2_id.as_str())])
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cal_page = r.headers()["location"].to_str().unwrap().to_string();
    let cal_id = cal_page.rsplit('/').next().unwrap().to_string();
    let answer = |cookie: &str, decision: &str| {
        let r = http
            .post(url(&format!("/ui/calls/{id}/review")))
            .header("cookie", cookie)
            .form(&[
                ("calibration_id", cal_id.as_str()),
                ("d_consent", decision),
                ("r_consent", "listened"),
                ("s_clarity", "4"),
            ])
            .send()
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().unwrap());
    };
    answer(&c1, "confirm");
    let page = get(&c2, &cal_page).text().unwrap();
    assert!(
        page.contains("cachées") && !page.contains("<td>confirm</td>"),
        "{page}"
    );
    answer(&c2, "overrule");
    let page = get(&c2, &cal_page).text().unwrap();
    assert!(
        page.contains("<td>confirm</td>") && page.contains("<td>overrule</td>"),
        "{page}"
    );
    assert!(page.contains("50 %"), "{page}");
    // A client key has no business there.
    assert_eq!(get(&acme_cookie, &cal_page).status(), StatusCode::FORBIDDEN);

    // The review form keeps the reviewer's work: a time that is not one is refused (422) with
    // every choice and comment as they were; so is an overruling without a reason.
    let review = |form: &[(&str, &str)]| {
        http.post(url(&format!("/ui/calls/{id}/review")))
            .header("cookie", &c1)
            .form(form)
            .send()
            .unwrap()
    };
    let r = review(&[
        ("d_consent", "overrule"),
        ("r_consent", "she said yes at the end"),
        ("c_consent", "soon"),
        ("s_clarity", "3"),
        ("comment", "écouté deux fois"),
    ]);
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().unwrap();
    assert!(
        page.contains("Moment illisible") && page.contains("« soon »"),
        "{page}"
    );
    for kept in [
        "value=\"overrule\" checked",
        "value=\"she said yes at the end\"",
        "value=\"soon\"",
        "<option value=\"3\" selected>",
        "écouté deux fois</textarea>",
    ] {
        assert!(page.contains(kept), "{kept} lost: {page}");
    }
    // Reason, actual outcome and time are in the overruling block the page hides otherwise.
    assert!(page.contains("class=\"overrule-only\""), "{page}");
    let r = review(&[("d_consent", "overrule"), ("c_consent", "0:05")]);
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().unwrap();
    assert!(
        page.contains("Pour infirmer un constat")
            && page.contains("« Consentement du client »")
            && page.contains("value=\"0:05\""),
        "{page}"
    );
    // "Confirm the rest": the overruled finding with its actual outcome and time, every other
    // finding confirmed, in one version.
    let r = review(&[
        ("d_consent", "overrule"),
        ("r_consent", "yes at the end"),
        ("o_consent", "met"),
        ("c_consent", "0:05"),
        ("confirm_rest", "1"),
    ]);
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().unwrap());
    let reviews: serde_json::Value = http
        .get(url(&format!("/api/v1/calls/{id}/reviews")))
        .bearer_auth(qm1.trim())
        .send()
        .unwrap()
        .json()
        .unwrap();
    let mine = reviews["reviews"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|r| r["calibration_id"].is_null())
        .unwrap_or_else(|| panic!("{reviews}"))
        .clone();
    let decisions = mine["decisions"].as_array().unwrap();
    let findings: serde_json::Value = http
        .get(url(&format!("/api/v1/calls/{id}/findings")))
        .bearer_auth(qm1.trim())
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        decisions.len(),
        findings["findings"].as_array().unwrap().len(),
        "{mine}"
    );
    let consent = decisions
        .iter()
        .find(|d| d["rule_id"] == "consent")
        .unwrap();
    assert_eq!(consent["decision"], "overrule");
    assert_eq!(consent["corrected_outcome"], "met");
    assert_eq!(consent["corrected_start_ms"], 5000);
    assert!(decisions
        .iter()
        .filter(|d| d["rule_id"] != "consent")
        .all(|d| d["decision"] == "confirm" && d["reason"].is_null()));
    // The call page shows its reviews, by the reviewer's name, and links to the form.
    let page = get(&c1, &format!("/ui/calls/{id}")).text().unwrap();
    assert!(
        page.contains("id=\"reviews\"") && page.contains("<strong>Claire Martin</strong>"),
        "{page}"
    );
    assert!(
        page.contains("infirmé → ") && page.contains("Revoir cet appel"),
        "{page}"
    );
    // A bundle made now carries the review beside the automatic verdict, says so, and always
    // holds the consent moment; its readable page is French, with the customer's phone.
    let r = http
        .post(url(&format!("/ui/calls/{id}/evidence")))
        .header("cookie", &c1)
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let reviewed_bundle = d.join("reviewed.zip");
    std::fs::write(&reviewed_bundle, r.bytes().unwrap()).unwrap();
    let out = ok(
        d,
        &[
            "evidence",
            "verify",
            reviewed_bundle.to_str().unwrap(),
            "--public-key",
            public.trim(),
        ],
    );
    assert!(
        out.contains("review of") && out.contains("a later review is not in it"),
        "{out}"
    );
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&reviewed_bundle).unwrap()).unwrap();
    assert!(archive.by_name("excerpts/consent.wav").is_ok());
    let mut page = String::new();
    std::io::Read::read_to_string(&mut archive.by_name("transcript.html").unwrap(), &mut page)
        .unwrap();
    assert!(
        page.contains("lang=\"fr\"")
            && page.contains("Téléphone du client")
            && page.contains("Revue humaine")
            && page.contains("Par Claire Martin"),
        "{page}"
    );
    // The dashboard counts the call as its reviewer judged it, draws the weekly trend, and
    // exports what it shows (client and period); reversed dates say why nothing is there.
    let page = get(
        &c1,
        "/ui/dashboard?client=acme&from=2000-01-01&to=2100-12-31",
    )
    .text()
    .unwrap();
    assert!(
        page.contains("1 appel vérifié") && page.contains("1 jugé après revue"),
        "{page}"
    );
    assert!(page.contains("id=\"week-trend\""), "{page}");
    assert!(
        page.contains("/api/v1/export/findings.csv?client=acme&amp;from=2000-01-01T00%3A00%3A00%2B00%3A00&amp;to=2101-01-01T00%3A00%3A00%2B00%3A00"),
        "{page}"
    );
    let r = http
        .get(url("/api/v1/export/findings.csv?client=acme&from=2000-01-01T00%3A00%3A00%2B00%3A00&to=2101-01-01T00%3A00%3A00%2B00%3A00"))
        .bearer_auth(qm1.trim())
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().unwrap().contains(&id));
    let page = get(
        &c1,
        "/ui/dashboard?client=acme&from=2026-05-01&to=2026-04-01",
    )
    .text()
    .unwrap();
    assert!(
        page.contains("La date de début est après la date de fin")
            && !page.contains("findings.csv"),
        "{page}"
    );
    // People read who they are signed in as; an agent sees samples but no form to draw one.
    let samples = get(&c1, "/ui/samples").text().unwrap();
    assert!(page_has(&samples, "Claire Martin · responsable qualité"));
    assert!(page_has(&samples, "class=\"sample-form\""));
    let samples = get(&login(&agent), "/ui/samples").text().unwrap();
    assert!(page_has(&samples, "conseiller ADV") && !samples.contains("sample-form"));
    // A client sees neither the reviewers nor a form it cannot use.
    let page = get(&acme_cookie, &format!("/ui/calls/{id}"))
        .text()
        .unwrap();
    assert!(
        !page.contains("Claire Martin") && !page.contains("/review\""),
        "{page}"
    );

    // The language choice belongs to the user: set once, it comes back at the next sign-in.
    let r = http
        .post(url("/ui/lang"))
        .header("cookie", &c1)
        .form(&[("lang", "en")])
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = http
        .post(url("/ui/login"))
        .form(&[("key", qm1.trim())])
        .send()
        .unwrap();
    let cookies: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("cp_lang=en")),
        "{cookies:?}"
    );

    // Behind a TLS proxy the cookie is Secure.
    let r = http
        .post(url("/ui/login"))
        .header("x-forwarded-proto", "https")
        .form(&[("key", acme.trim())])
        .send()
        .unwrap();
    assert!(r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("; Secure"));

    // A form posted from another site, or with no origin at all, is refused even with the
    // cookie; nothing is done.
    let bare = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for origin in [Some("http://evil.example"), None] {
        let mut req = bare
            .post(url(&format!("/ui/calls/{id}/evidence")))
            .header("cookie", &acme_cookie);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let r = req.send().unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "origin {origin:?}");
        let err: serde_json::Value = r.json().unwrap();
        assert!(
            err["error"].as_str().unwrap().contains("cross-site"),
            "{err}"
        );
    }

    // Signing out ends the session on the server: the old cookie opens nothing any more.
    let r = http
        .post(url("/ui/logout"))
        .header("cookie", &acme_cookie)
        .send()
        .unwrap();
    assert!(r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(
        get(&acme_cookie, "/ui/search").headers()["location"],
        "/ui/login"
    );
    let r = http
        .get(url(&format!("/api/v1/calls/{id}")))
        .header("cookie", &acme_cookie)
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Revoking a key ends its sessions.
    assert_eq!(get(&globex_cookie, "/ui/search").status(), StatusCode::OK);
    let globex_id = globex.trim().split('_').nth(1).unwrap().to_string();
    ok(d, &["keys", "revoke", &globex_id]);
    assert_eq!(
        get(&globex_cookie, "/ui/search").headers()["location"],
        "/ui/login"
    );
}

/// A call still being transcribed says so, reloads itself, and offers no bundle yet.
#[test]
fn a_call_in_progress_says_so_and_offers_no_bundle() {
    ensure_model("tiny.en");
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let queued = json(
        d,
        &[
            "ingest",
            "--queue-only",
            fixture("real/en_jfk_16k_mono.wav").to_str().unwrap(),
            "--client",
            "acme",
            "--language",
            "en",
            "--json",
        ],
    );
    assert_eq!(queued[0]["state"], "queued", "{queued}");
    let id = queued[0]["call_id"].as_str().unwrap().to_string();
    let token = ok(d, &["keys", "create", "--role", "admin"]);
    // No workers: the call stays queued while the page is read.
    let server = serve_with(d, &["--model", "tiny.en"], &["--workers", "0"]);
    let base = server.base.clone();
    let http = page_client(&base);
    let r = http
        .post(format!("{base}/ui/login"))
        .form(&[("key", token.trim())])
        .send()
        .unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_string();
    let page = http
        .get(format!("{base}/ui/calls/{id}"))
        .header("cookie", &cookie)
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(page.contains("Transcription en cours"), "{page}");
    assert!(page.contains("http-equiv=\"refresh\""), "{page}");
    assert!(!page.contains("/evidence\""), "no bundle yet: {page}");
}
