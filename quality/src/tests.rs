//! Sampling, reviews and statistics on hand-made calls whose numbers are worked out by hand.

use super::*;
use callproof_models::{
    Actor, AddedFinding, CallId, CallMetadata, CallState, Finding, FindingDecision, ReviewId,
    RuleKind, RuleSetRef,
};
use chrono::{DateTime, Utc};

fn finding(rule: &str, status: FindingStatus) -> Finding {
    Finding {
        rule_id: rule.into(),
        kind: RuleKind::Required,
        outcome: if status == FindingStatus::Fail {
            Outcome::Missing
        } else {
            Outcome::Met
        },
        status,
        speaker: None,
        start_ms: None,
        end_ms: None,
        matched: None,
        phrase: None,
        score: None,
        detail: String::new(),
        attribution: None,
        hearing: None,
    }
}

/// A call by `agent` in `campaign` on `day` whose `failing` rules failed (of bloctel, price).
fn call(agent: &str, campaign: &str, day: &str, failing: &[&str]) -> (Call, Verification) {
    let id = CallId::new();
    let findings: Vec<Finding> = ["bloctel", "price"]
        .iter()
        .map(|r| {
            finding(
                r,
                if failing.contains(r) {
                    FindingStatus::Fail
                } else {
                    FindingStatus::Pass
                },
            )
        })
        .collect();
    let started = DateTime::parse_from_rfc3339(&format!("{day}T10:30:00+01:00")).unwrap();
    (
        Call {
            id,
            metadata: CallMetadata {
                client: "acme".into(),
                agent: Some(agent.into()),
                campaign: Some(campaign.into()),
                started_at: Some(started),
                ..Default::default()
            },
            sha256: String::new(),
            original_name: None,
            size_bytes: 0,
            audio: None,
            state: CallState::Indexed,
            received_at: Utc::now(),
            updated_at: Utc::now(),
        },
        Verification {
            call_id: id,
            ruleset: RuleSetRef {
                id: "fr-demarchage".into(),
                version: 1,
                sha256: String::new(),
                builtin: true,
            },
            verdict: callproof_models::Verdict::of(&findings),
            findings,
            verified_at: Utc::now(),
        },
    )
}

fn params(seed: u64) -> SampleParams {
    SampleParams {
        client: "acme".into(),
        from: None,
        to: None,
        strata: vec![StratumKey::Agent],
        per_stratum: Some(3),
        percent: None,
        min_per_stratum: 0,
        only: vec![],
        violation_weight: 1.0,
        seed,
        name: None,
    }
}

fn population() -> Vec<(Call, Verification)> {
    let mut calls = Vec::new();
    for i in 0..10 {
        calls.push(call(
            "julie",
            "hiver",
            "2026-03-02",
            if i < 3 { &["price"] } else { &[] },
        ));
    }
    for _ in 0..5 {
        calls.push(call("marc", "hiver", "2026-03-09", &[]));
    }
    for _ in 0..2 {
        calls.push(call("paul", "ete", "2026-03-09", &["bloctel", "price"]));
    }
    calls
}

#[test]
fn same_seed_same_sample_and_strata_counts() {
    let pop = population();
    let (a, counts) = draw(&params(42), &pop).unwrap();
    let (b, _) = draw(&params(42), &pop).unwrap();
    assert_eq!(a, b);
    // Shuffling the input does not change the draw either.
    let mut shuffled = pop.clone();
    shuffled.reverse();
    assert_eq!(draw(&params(42), &shuffled).unwrap().0, a);
    let per: Vec<(String, usize, usize)> = counts
        .iter()
        .map(|c| (c.stratum.clone(), c.population, c.drawn))
        .collect();
    assert_eq!(
        per,
        vec![
            ("agent=julie".into(), 10, 3),
            ("agent=marc".into(), 5, 3),
            ("agent=paul".into(), 2, 2)
        ]
    );
    assert_eq!(a.len(), 8);
    // Another seed draws other calls (from julie's 10, 3 of them).
    let (c, _) = draw(&params(7), &pop).unwrap();
    assert_ne!(a, c);

    // Percentages round up; a minimum per stratum lifts small ones.
    let mut p = params(1);
    p.per_stratum = None;
    p.percent = Some(20.0);
    p.min_per_stratum = 2;
    let (_, counts) = draw(&p, &pop).unwrap();
    let drawn: Vec<usize> = counts.iter().map(|c| c.drawn).collect();
    assert_eq!(drawn, vec![2, 2, 2]);
    p.min_per_stratum = 0;
    p.percent = Some(50.0);
    let drawn: Vec<usize> = draw(&p, &pop).unwrap().1.iter().map(|c| c.drawn).collect();
    assert_eq!(drawn, vec![5, 3, 1]);

    // Restricted to violations; strata by agent and campaign.
    let mut p = params(3);
    p.only = vec![Verdict::Violation];
    p.strata = vec![StratumKey::Agent, StratumKey::Campaign];
    let (s, counts) = draw(&p, &pop).unwrap();
    assert!(s.iter().all(|c| c.verdict == Verdict::Violation));
    assert_eq!(counts.len(), 2);
    assert_eq!(counts[0].stratum, "agent=julie, campaign=hiver");

    assert!(draw(
        &SampleParams {
            per_stratum: None,
            ..params(1)
        },
        &pop
    )
    .is_err());
}

#[test]
fn weighting_favours_violations() {
    let pop = population();
    let julie_violations = |weight: f64, seed: u64| {
        let mut p = params(seed);
        p.violation_weight = weight;
        draw(&p, &pop)
            .unwrap()
            .0
            .iter()
            .filter(|c| c.stratum == "agent=julie" && c.verdict == Verdict::Violation)
            .count()
    };
    // julie has 3 violations in 10 calls and 3 are drawn: weighted 1000×, all 3 come out.
    for seed in 0..20 {
        assert_eq!(julie_violations(1000.0, seed), 3, "seed {seed}");
    }
    let unweighted: usize = (0..20).map(|s| julie_violations(1.0, s)).sum();
    assert!(unweighted < 40, "{unweighted}");
}

fn review(decisions: Vec<FindingDecision>, added: Vec<AddedFinding>) -> ReviewInput {
    ReviewInput {
        sample_id: None,
        calibration_id: None,
        decisions,
        added,
        scores: Default::default(),
        comment: None,
        confirm_rest: false,
    }
}

fn decide(rule: &str, d: Decision) -> FindingDecision {
    FindingDecision {
        rule_id: rule.into(),
        decision: d,
        reason: (d == Decision::Overrule).then(|| "said at 0:42".into()),
        corrected_outcome: None,
        corrected_start_ms: Some(42_000),
    }
}

#[test]
fn overruling_changes_the_reviewed_verdict_only() {
    let (_, v) = call("julie", "hiver", "2026-03-02", &["price"]);
    assert_eq!(v.verdict, Verdict::Violation);
    let r = review(vec![decide("price", Decision::Overrule)], vec![]);
    assert_eq!(reviewed_verdict(&v, &r), Verdict::Compliant);
    assert_eq!(v.verdict, Verdict::Violation);
    let r = review(vec![decide("price", Decision::Confirm)], vec![]);
    assert_eq!(reviewed_verdict(&v, &r), Verdict::Violation);
    // A compliant call with a finding the rules missed.
    let (_, ok) = call("marc", "hiver", "2026-03-02", &[]);
    let added = AddedFinding {
        rule_id: "consent".into(),
        outcome: Outcome::WrongSpeaker,
        speaker: None,
        start_ms: Some(1000),
        end_ms: None,
        note: None,
    };
    assert_eq!(
        reviewed_verdict(&ok, &review(vec![], vec![added])),
        Verdict::Violation
    );
    // Validation: an overrule needs a reason; a decision needs a finding; scores a criterion.
    let mut no_reason = decide("price", Decision::Overrule);
    no_reason.reason = None;
    assert!(check_review(&v, &review(vec![no_reason], vec![]), &[]).is_err());
    assert!(check_review(
        &v,
        &review(vec![decide("nope", Decision::Confirm)], vec![]),
        &[]
    )
    .is_err());
    let mut scored = review(vec![], vec![]);
    scored.scores.insert("politesse".into(), 5.0);
    scored.scores.insert("clarte_offre".into(), 2.5);
    let card = [
        ("politesse".to_string(), 1.0),
        ("clarte_offre".to_string(), 2.0),
    ];
    // (1 × 5/5 + 2 × 2.5/5) / 3 = 2/3.
    assert_eq!(check_review(&v, &scored, &card), Ok(Some(66.7)));
    scored.scores.insert("humour".into(), 1.0);
    assert!(check_review(&v, &scored, &card).is_err());
}

#[test]
fn confirm_the_rest_names_every_undecided_finding_once() {
    let (_, v) = call("julie", "hiver", "2026-03-02", &["price"]);
    assert!(v.findings.len() >= 2, "{:?}", v.findings);
    let mut r = review(vec![decide("price", Decision::Overrule)], vec![]);
    r.confirm_rest = true;
    confirm_rest(&v, &mut r);
    assert!(!r.confirm_rest, "applied once, not stored");
    assert_eq!(r.decisions.len(), v.findings.len());
    let price: Vec<_> = r
        .decisions
        .iter()
        .filter(|d| d.rule_id == "price")
        .collect();
    assert_eq!(price.len(), 1);
    assert_eq!(
        price[0].decision,
        Decision::Overrule,
        "a decision made stays"
    );
    assert!(r
        .decisions
        .iter()
        .filter(|d| d.rule_id != "price")
        .all(|d| d.decision == Decision::Confirm && d.reason.is_none()));
    // Without the flag nothing is added.
    let mut r = review(vec![], vec![]);
    confirm_rest(&v, &mut r);
    assert!(r.decisions.is_empty());
}

#[test]
fn stats_match_hand_computed_numbers() {
    let pop = population();
    let s = stats(&pop, &[]);
    assert_eq!(s.calls, 17);
    assert_eq!(s.verdicts[&Verdict::Violation], 5);
    assert_eq!(s.verdicts[&Verdict::Compliant], 12);
    // price failed on julie's 3 and paul's 2: 5 of 17; bloctel on paul's 2.
    let rule = |k: &str| s.per_rule.iter().find(|r| r.key == k).unwrap().clone();
    assert_eq!((rule("price").calls, rule("price").violations), (17, 5));
    assert_eq!(rule("price").rate, 0.2941);
    assert_eq!(
        (rule("bloctel").violations, rule("bloctel").rate),
        (2, 0.1176)
    );
    let agent = |k: &str| s.per_agent.iter().find(|r| r.key == k).unwrap().clone();
    assert_eq!(
        (
            agent("julie").calls,
            agent("julie").violations,
            agent("julie").rate
        ),
        (10, 3, 0.3)
    );
    assert_eq!(agent("marc").rate, 0.0);
    assert_eq!(agent("paul").rate, 1.0);
    let campaign: Vec<(String, usize, usize)> = s
        .per_campaign
        .iter()
        .map(|r| (r.key.clone(), r.calls, r.violations))
        .collect();
    assert_eq!(
        campaign,
        vec![("ete".into(), 2, 2), ("hiver".into(), 15, 3)]
    );
    // 2 March 2026 is in ISO week 10, 9 March in week 11.
    let weeks: Vec<(String, usize, usize)> = s
        .per_week
        .iter()
        .map(|r| (r.key.clone(), r.calls, r.violations))
        .collect();
    assert_eq!(
        weeks,
        vec![("2026-W10".into(), 10, 3), ("2026-W11".into(), 7, 2)]
    );
    let csv = findings_csv(&pop).unwrap();
    assert_eq!(csv.lines().count(), 1 + 17 * 2);
    assert!(csv.lines().next().unwrap().starts_with("call_id,client"));
}

fn stored(v: &Verification, who: &str, input: ReviewInput) -> Review {
    Review {
        id: ReviewId::new(),
        call_id: v.call_id,
        reviewer: Actor {
            key_id: who.into(),
            role: callproof_models::Role::QualityManager,
            tenant: None,
        },
        version: 1,
        automatic_verdict: v.verdict,
        reviewed_verdict: reviewed_verdict(v, &input),
        input,
        score: None,
        created_at: Utc::now(),
    }
}

#[test]
fn stats_take_the_newest_review_of_a_call_and_sort_worst_first() {
    let pop = population();
    // Rules worst first: price (5 of 17) before bloctel (2 of 17).
    let keys = |s: &Stats| s.per_rule.iter().map(|r| r.key.clone()).collect::<Vec<_>>();
    assert_eq!(keys(&stats(&pop, &[])), ["price", "bloctel"]);
    // paul's first call: both failures overruled, newest review; an older review confirmed them.
    let v = &pop[15].1;
    assert_eq!(pop[15].0.metadata.agent.as_deref(), Some("paul"));
    let mut older = stored(
        v,
        "qm2",
        review(
            vec![
                decide("price", Decision::Confirm),
                decide("bloctel", Decision::Confirm),
            ],
            vec![],
        ),
    );
    older.created_at -= chrono::Duration::hours(1);
    let newer = stored(
        v,
        "qm1",
        review(
            vec![
                decide("price", Decision::Overrule),
                decide("bloctel", Decision::Overrule),
            ],
            vec![],
        ),
    );
    let s = stats(&pop, &[newer, older]);
    assert_eq!(s.reviewed, 1);
    assert_eq!(s.verdicts[&Verdict::Violation], 4);
    assert_eq!(s.verdicts[&Verdict::Compliant], 13);
    let rule = |k: &str| s.per_rule.iter().find(|r| r.key == k).unwrap().clone();
    assert_eq!(rule("price").violations, 4);
    assert_eq!(rule("bloctel").violations, 1);
    let paul = s.per_agent.iter().find(|r| r.key == "paul").unwrap();
    assert_eq!((paul.calls, paul.violations), (2, 1));
    // Agents worst first: paul (1/2), julie (3/10), marc (0/5).
    let agents: Vec<&str> = s.per_agent.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(agents, ["paul", "julie", "marc"]);
}

#[test]
fn field_precision_and_calibration_agreement() {
    let (_, v1) = call("julie", "hiver", "2026-03-02", &["price"]);
    let (_, v2) = call("julie", "hiver", "2026-03-02", &["price", "bloctel"]);
    let r1 = stored(
        &v1,
        "qm1",
        review(vec![decide("price", Decision::Overrule)], vec![]),
    );
    let r2 = stored(
        &v2,
        "qm1",
        review(
            vec![
                decide("price", Decision::Confirm),
                decide("bloctel", Decision::Confirm),
            ],
            vec![],
        ),
    );
    let report = rules_report(&[(v1.clone(), r1.clone()), (v2.clone(), r2)]);
    let price = report.iter().find(|r| r.rule_id == "price").unwrap();
    assert_eq!(
        (price.confirmed, price.overruled, price.precision),
        (1, 1, Some(0.5))
    );
    let bloctel = report.iter().find(|r| r.rule_id == "bloctel").unwrap();
    assert_eq!(bloctel.precision, Some(1.0));

    let mut a = review(vec![decide("price", Decision::Overrule)], vec![]);
    a.scores.insert("politesse".into(), 4.0);
    let mut b = review(vec![decide("price", Decision::Overrule)], vec![]);
    b.scores.insert("politesse".into(), 4.0);
    let mut c = review(vec![decide("price", Decision::Confirm)], vec![]);
    c.scores.insert("politesse".into(), 2.0);
    let (ra, rb, rc) = (
        stored(&v1, "qm1", a),
        stored(&v1, "qm2", b),
        stored(&v1, "qm3", c),
    );
    let ag = agreement(&[&ra, &rb, &rc]);
    let price = ag.iter().find(|x| x.item == "finding price").unwrap();
    assert_eq!(price.agreement, 0.667);
    assert_eq!(price.answers["qm3"], "confirm");
    let polite = ag.iter().find(|x| x.item == "criterion politesse").unwrap();
    assert_eq!(polite.agreement, 0.667);
    // Latest versions only.
    let mut newer = r1.clone();
    newer.version = 2;
    newer.id = ReviewId::new();
    let newest = newer.id.clone();
    let all = [r1, newer];
    let latest = latest_reviews(&all);
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0].id, newest);
}
