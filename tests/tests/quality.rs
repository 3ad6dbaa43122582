//! Quality audits against a real server: reproducible samples with honoured strata, reviews
//! that change the reviewed verdict but keep the automatic one, calibration answers hidden
//! until everyone answered, tenant isolation for reviewers, statistics and CSV export.

mod common;

use common::*;
use reqwest::blocking::Client;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn client(token: &str) -> Client {
    bearer_client(token)
}

#[test]
fn samples_reviews_calibration_and_stats() {
    ensure_model("tiny.en");
    let _w = WHISPER.lock().unwrap_or_else(|p| p.into_inner());
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    // Three acme calls (agents a1, a1, a2) and one globex call, transcribed by tiny.en.
    for (file, client, agent, day) in [
        ("real/en_jfk_16k_mono.wav", "acme", "a1", "2026-03-02"),
        ("real/en_jfk_16k.mp3", "acme", "a1", "2026-03-03"),
        (
            "real/en_jfk_44k1_stereo_24bit.flac",
            "acme",
            "a2",
            "2026-03-10",
        ),
        ("formats/pcm_s16_16k.wav", "globex", "g1", "2026-03-02"),
    ] {
        let started = format!("{day}T10:30:00+01:00");
        ok(
            d,
            &[
                "--model",
                "tiny.en",
                "ingest",
                fixture(file).to_str().unwrap(),
                "--client",
                client,
                "--agent",
                agent,
                "--campaign",
                "spring",
                "--language",
                "en",
                "--started-at",
                &started,
            ],
        );
    }
    let key = |role: &str, client: &str| {
        let mut args = vec!["keys", "create", "--role", role];
        if !client.is_empty() {
            args.extend(["--client", client]);
        }
        ok(d, &args).trim().to_string()
    };
    let qm1_token = key("quality_manager", "acme");
    let qm2_token = key("quality_manager", "acme");
    let (qm1, qm2) = (client(&qm1_token), client(&qm2_token));
    let qm_globex_token = key("quality_manager", "globex");
    let qm_globex = client(&qm_globex_token);
    let acme_client = client(&key("client", "acme"));
    let key_id = |t: &str| t.split('_').nth(1).unwrap().to_string();

    let server = serve(d, &["--model", "tiny.en"]);
    let base = server.base.clone();
    let url = |p: &str| format!("{base}{p}");

    // The client's own rule set, with a scorecard; the archive re-checked with it.
    let rules = "[ruleset]\nlanguage = \"en\"\n\n[[rule]]\nid = \"greeting\"\nkind = \"required\"\nspeaker = \"any\"\nsay = [\"my fellow americans\"]\n\n[[scorecard]]\ncriterion = \"clarity\"\nweight = 2\n\n[[scorecard]]\ncriterion = \"courtesy\"\nweight = 1\n";
    let r = qm1
        .put(url("/api/v1/clients/acme/rules"))
        .body(rules)
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().unwrap());
    let report: Value = qm1
        .post(url("/api/v1/clients/acme/verify"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(report["calls"], 3, "{report}");

    // Samples: one call per agent; the same seed draws the same calls.
    let params = json!({"client": "acme", "strata": ["agent"], "per_stratum": 1, "seed": 5});
    let draw = |c: &Client, p: &Value| c.post(url("/api/v1/samples")).json(p).send().unwrap();
    let s1: Value = draw(&qm1, &params).json().unwrap();
    let s2: Value = draw(&qm2, &params).json().unwrap();
    assert_ne!(s1["id"], s2["id"]);
    assert_eq!(s1["calls"], s2["calls"]);
    let strata: Vec<(String, u64, u64)> = s1["strata"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["stratum"].as_str().unwrap().to_string(),
                s["population"].as_u64().unwrap(),
                s["drawn"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        strata,
        vec![("agent=a1".into(), 2, 1), ("agent=a2".into(), 1, 1)]
    );
    // A reviewer of another client cannot sample, open or review acme's calls; clients review nothing.
    assert_eq!(draw(&qm_globex, &params).status(), StatusCode::NOT_FOUND);
    let sid = s1["id"].as_str().unwrap();
    assert_eq!(
        qm_globex
            .get(url(&format!("/api/v1/samples/{sid}")))
            .send()
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    let call = s1["calls"][0]["call_id"].as_str().unwrap().to_string();
    let review = |c: &Client, body: Value| {
        c.post(url(&format!("/api/v1/calls/{call}/reviews")))
            .json(&body)
            .send()
            .unwrap()
    };
    let overrule = json!({
        "sample_id": sid,
        "decisions": [{"rule_id": "greeting", "decision": "overrule",
                       "reason": "the greeting was cut: only 'fellow' is audible", "corrected_outcome": "missing"}],
        "scores": {"clarity": 4, "courtesy": 5},
        "comment": "listened twice"
    });
    assert_eq!(
        review(&qm_globex, overrule.clone()).status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        review(&acme_client, overrule.clone()).status(),
        StatusCode::FORBIDDEN
    );
    let bad = json!({"decisions": [{"rule_id": "greeting", "decision": "overrule"}]});
    let r = review(&qm1, bad);
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().unwrap().contains("reason"));

    // The overruled finding changes the reviewed verdict; the automatic one is kept.
    let r = review(&qm1, overrule.clone());
    assert_eq!(r.status(), StatusCode::CREATED);
    let stored: Value = r.json().unwrap();
    assert_eq!(stored["automatic_verdict"], "compliant", "{stored}");
    assert_eq!(stored["reviewed_verdict"], "violation");
    assert_eq!(stored["version"], 1);
    // (2 × 4/5 + 1 × 5/5) / 3 = 86.7 %.
    assert_eq!(stored["score"], 86.7);
    let again: Value = review(&qm1, overrule).json().unwrap();
    assert_eq!(again["version"], 2);
    let findings: Value = qm1
        .get(url(&format!("/api/v1/calls/{call}/findings")))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(findings["verdict"], "compliant");
    let progress: Value = qm1
        .get(url(&format!("/api/v1/samples/{sid}")))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(progress["reviewed"], 1, "{progress}");
    let report: Value = qm1
        .get(url("/api/v1/clients/acme/rules/report"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(report["rules"][0]["rule_id"], "greeting");
    assert_eq!(report["rules"][0]["missed"], 1, "{report}");

    // A calibration cannot name another tenant's reviewer, and the refusal says nothing about
    // that key (the same words as for a key that does not exist).
    let refused = |reviewer: &str| {
        let r = qm1
            .post(url("/api/v1/calibrations"))
            .json(&json!({"call_id": call, "reviewers": [key_id(&qm1_token), reviewer]}))
            .send()
            .unwrap();
        let status = r.status();
        (status, r.text().unwrap().replace(reviewer, "KEY"))
    };
    let other_tenant = refused(&key_id(&qm_globex_token));
    assert!(other_tenant.0.is_client_error(), "{other_tenant:?}");
    assert_eq!(other_tenant, refused("0badc0de"));
    assert!(
        !other_tenant.1.contains("quality_manager key"),
        "{other_tenant:?}"
    );

    // Calibration: answers hidden from each other until both reviewers answered.
    let cal: Value = qm1
        .post(url("/api/v1/calibrations"))
        .json(&json!({"call_id": call, "reviewers": [key_id(&qm1_token), key_id(&qm2_token)]}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let cal_id = cal["id"].as_str().unwrap().to_string();
    let answer = |c: &Client, decision: &str, clarity: u32| {
        let body = json!({
            "calibration_id": cal_id,
            "decisions": [{"rule_id": "greeting", "decision": decision, "reason": "heard it"}],
            "scores": {"clarity": clarity}
        });
        let r = review(c, body);
        assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().unwrap());
    };
    answer(&qm1, "confirm", 4);
    // The reviews export hides the pending answer too (it used to hand it out).
    let pending_csv = |c: &Client| {
        c.get(url("/api/v1/export/reviews.csv"))
            .query(&[("client", "acme")])
            .send()
            .unwrap()
            .text()
            .unwrap()
    };
    assert!(
        !pending_csv(&qm2).contains(&cal_id),
        "{}",
        pending_csv(&qm2)
    );
    assert!(
        pending_csv(&qm1).contains(&cal_id),
        "a reviewer sees its own answer"
    );
    let view = |c: &Client| -> Value {
        c.get(url(&format!("/api/v1/calibrations/{cal_id}")))
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let v = view(&qm2);
    assert_eq!(v["complete"], false);
    assert!(v["reviews"].as_array().unwrap().is_empty(), "{v}");
    let visible: Value = qm2
        .get(url(&format!("/api/v1/calls/{call}/reviews")))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(visible["reviews"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["calibration_id"].is_null()));
    answer(&qm2, "overrule", 4);
    let v = view(&qm2);
    assert_eq!(v["complete"], true);
    assert_eq!(v["reviews"].as_array().unwrap().len(), 2);
    let agreement: Vec<(String, f64)> = v["agreement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["item"].as_str().unwrap().to_string(),
                a["agreement"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        agreement,
        vec![
            ("criterion clarity".into(), 1.0),
            ("finding greeting".into(), 0.5)
        ]
    );

    // Statistics and CSV, per client only.
    let stats: Value = qm1
        .get(url("/api/v1/stats"))
        .query(&[("client", "acme")])
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(stats["calls"], 3, "{stats}");
    let mut agents: Vec<(String, u64)> = stats["per_agent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap().to_string(),
                r["calls"].as_u64().unwrap(),
            )
        })
        .collect();
    // Worst first on the page; here only the counts matter.
    agents.sort();
    assert_eq!(agents, vec![("a1".into(), 2), ("a2".into(), 1)]);
    assert_eq!(
        qm_globex
            .get(url("/api/v1/stats"))
            .query(&[("client", "acme")])
            .send()
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    let csv = qm1
        .get(url("/api/v1/export/findings.csv"))
        .query(&[("client", "acme")])
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(csv.lines().count(), 1 + 3, "{csv}");
    let csv = qm1
        .get(url("/api/v1/export/reviews.csv"))
        .query(&[("client", "acme")])
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(csv.lines().count(), 1 + 4, "{csv}");
    // Every review is in the audit log.
    let log = ok(d, &["audit", "list", "--action", "submit_review", "--json"]);
    let log: Value = serde_json::from_str(&log).unwrap();
    assert_eq!(
        log.as_array()
            .unwrap()
            .iter()
            .filter(|e| e["outcome"].as_str().unwrap().starts_with("ok"))
            .count(),
        4
    );
}
