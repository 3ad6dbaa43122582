//! The conformance suite every metastore implementation must pass.
//!
//! Behaviour callers rely on — tenant scoping, per-tenant duplicates, rule set versions, the
//! audit chain, the job queue's leases, attempts and dead letters — is written once here, as
//! functions over `&dyn Metastore`, and [`metastore_test_suite!`](crate::metastore_test_suite)
//! turns them into `#[test]`s for one engine. A new engine is done when its invocation passes.

use std::time::Duration;

use callproof_models::{
    Actor, AudioInfo, CallId, CallMetadata, CallState, Role, RuleSetRef, Scope, Verdict,
    Verification,
};

use crate::{AuditFilter, ErrorKind, JobKind, JobState, Metastore, MetastoreError, NewCall};

/// Instantiates the conformance suite for one engine. `$open` is an expression giving a fresh,
/// empty store each time it is evaluated, as `(guard, store)`: the guard (a temporary folder,
/// a throwaway database) lives as long as the test. The invoking crate needs `tokio` (with its
/// macros) among its dev-dependencies.
#[macro_export]
macro_rules! metastore_test_suite {
    ($name:ident, $open:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            macro_rules! case {
                ($t:ident) => {
                    #[tokio::test]
                    async fn $t() {
                        let (_guard, store) = $open;
                        $crate::conformance::$t(&store).await;
                    }
                };
            }
            case!(rule_set_versions);
            case!(verifications_are_stored_and_replaced);
            case!(scoped_reads_hide_other_tenants);
            case!(transcripts_are_read_within_their_tenant);
            case!(audit_entries_filter_by_tenant_and_action);
            case!(duplicates_are_per_tenant);
            case!(keys_are_stored_hashed_and_revocable);
            case!(audit_chain_counts_and_filters);
            case!(a_new_call_is_queued_for_transcription);
            case!(jobs_flow_from_transcription_to_index);
            case!(a_job_is_claimed_once);
            case!(concurrent_claims_take_each_job_once);
            case!(concurrent_audit_entries_form_one_chain);
            case!(index_changes_follow_indexing_and_deletion);
            case!(calls_and_jobs_are_counted_by_state);
            case!(an_expired_lease_is_claimable_again);
            case!(a_job_whose_worker_keeps_dying_is_dead_lettered);
            case!(failures_retry_then_dead_letter);
            case!(sessions_expire_end_and_die_with_their_key);
            case!(pending_objects_are_listed_until_ended);
            case!(a_redacted_recording_replaces_the_original);
            case!(holds_are_kept_and_listed_until_released);
            case!(calls_are_listed_by_page_filter_and_order);
            case!(transcription_work_is_measured_from_claim_to_completion);
        }
    };
}

async fn call_of(m: &dyn Metastore, client: &str, sha: &str) -> Result<CallId, MetastoreError> {
    let id = CallId::new();
    let meta = CallMetadata {
        client: client.into(),
        ..Default::default()
    };
    let audio = AudioInfo {
        format: "wav".into(),
        sample_rate: 8000,
        channels: 2,
        duration_ms: 1000,
    };
    m.insert(&NewCall {
        id,
        metadata: &meta,
        sha256: sha,
        original_name: None,
        size_bytes: 1,
        object_key: "k",
        audio: &audio,
    })
    .await?;
    Ok(id)
}

async fn new_call(m: &dyn Metastore, client: &str, sha: &str) -> CallId {
    call_of(m, client, sha).await.expect("a new call is stored")
}

async fn state_of(m: &dyn Metastore, id: CallId) -> CallState {
    m.get_in(id, &Scope::All)
        .await
        .unwrap()
        .expect("the call exists")
        .state
}

const LEASE: Duration = Duration::from_secs(60);

pub async fn rule_set_versions(m: &dyn Metastore) {
    assert!(m.ruleset("acme", None).await.unwrap().is_none());
    assert_eq!(
        m.put_ruleset("acme", None, "h1", "one")
            .await
            .unwrap()
            .version,
        1
    );
    // Same content again: nothing new.
    assert_eq!(
        m.put_ruleset("acme", None, "h1", "one")
            .await
            .unwrap()
            .version,
        1
    );
    assert_eq!(
        m.put_ruleset("acme", None, "h2", "two")
            .await
            .unwrap()
            .version,
        2
    );
    assert_eq!(
        m.put_ruleset("acme", Some(7), "h3", "three")
            .await
            .unwrap()
            .version,
        7
    );
    // A version number cannot be reused for other content.
    let taken = m
        .put_ruleset("acme", Some(7), "h4", "four")
        .await
        .unwrap_err();
    assert!(
        matches!(
            taken,
            MetastoreError::RuleSetVersionTaken { version: 7, .. }
        ),
        "{taken:?}"
    );
    assert_eq!(taken.kind(), ErrorKind::Conflict);
    let active = m.ruleset("acme", None).await.unwrap().unwrap();
    assert_eq!((active.version, active.source.as_str()), (7, "three"));
    assert_eq!(
        m.ruleset("acme", Some(2)).await.unwrap().unwrap().source,
        "two"
    );
    assert_eq!(m.ruleset_versions("acme").await.unwrap().len(), 3);
    assert!(m.ruleset("globex", None).await.unwrap().is_none());
}

pub async fn verifications_are_stored_and_replaced(m: &dyn Metastore) {
    let id = new_call(m, "acme", "s1").await;
    let mut v = Verification {
        call_id: id,
        ruleset: RuleSetRef {
            id: "fr-demarchage".into(),
            version: 1,
            sha256: "x".into(),
            builtin: true,
        },
        verdict: Verdict::Violation,
        findings: vec![],
        verified_at: chrono::Utc::now(),
    };
    m.put_verification(&v).await.unwrap();
    v.verdict = Verdict::Compliant;
    m.put_verification(&v).await.unwrap();
    assert_eq!(
        m.verification_in(id, &Scope::All)
            .await
            .unwrap()
            .unwrap()
            .verdict,
        Verdict::Compliant
    );
    assert_eq!(
        m.verdict_counts("acme").await.unwrap(),
        vec![(Verdict::Compliant, 1)]
    );
    assert!(m.transcribed_calls("acme").await.unwrap().is_empty());
    let other = Scope::Clients(vec!["globex".into()]);
    assert!(m.verification_in(id, &other).await.unwrap().is_none());
}

pub async fn scoped_reads_hide_other_tenants(m: &dyn Metastore) {
    let a = new_call(m, "acme", "sa").await;
    let b = new_call(m, "globex", "sb").await;
    let only_acme = Scope::Clients(vec!["acme".into()]);
    assert!(m.get_in(a, &only_acme).await.unwrap().is_some());
    assert!(m.get_in(b, &only_acme).await.unwrap().is_none());
    assert!(m.get_in(b, &Scope::All).await.unwrap().is_some());
    assert!(m
        .get_in(a, &Scope::Clients(vec![]))
        .await
        .unwrap()
        .is_none());
    let listed = m.list_in(&only_acme, 10).await.unwrap();
    assert_eq!(listed.iter().map(|c| c.id).collect::<Vec<_>>(), vec![a]);
    assert_eq!(m.list_in(&Scope::All, 10).await.unwrap().len(), 2);
    assert!(m.object_key_in(b, &only_acme).await.unwrap().is_none());
}

pub async fn transcripts_are_read_within_their_tenant(m: &dyn Metastore) {
    let id = new_call(m, "acme", "t1").await;
    // What the script check keeps beside the words comes back with them.
    let t = callproof_models::Transcript {
        near_readings: vec![callproof_models::NearReading {
            rule_id: "written_confirmation".into(),
            phrasing: "par courrier".into(),
            speaker: callproof_models::Speaker::Agent,
            channel: 0,
            start_ms: 21_244,
            end_ms: 22_864,
            nats_below: 9.25,
        }],
        call_id: id,
        model: "base".into(),
        model_sha256: "0".into(),
        language: "fr".into(),
        segments: vec![],
    };
    m.put_transcript(&t).await.unwrap();
    let acme = Scope::Clients(vec!["acme".into()]);
    let globex = Scope::Clients(vec!["globex".into()]);
    assert_eq!(m.transcript_in(id, &acme).await.unwrap(), Some(t.clone()));
    assert_eq!(m.transcript_in(id, &globex).await.unwrap(), None);
    assert_eq!(m.transcript_in(id, &Scope::All).await.unwrap(), Some(t));
    assert_eq!(
        m.transcribed_calls("acme")
            .await
            .unwrap()
            .iter()
            .map(|c| c.id)
            .collect::<Vec<_>>(),
        vec![id]
    );
    assert!(m.transcribed_calls("globex").await.unwrap().is_empty());
}

pub async fn audit_entries_filter_by_tenant_and_action(m: &dyn Metastore) {
    let key = |tenant: &str| Actor {
        key_id: format!("k-{tenant}"),
        role: Role::Client,
        tenant: Some(tenant.into()),
    };
    m.audit(&key("acme"), "read_call", Some("c1"), "ok")
        .await
        .unwrap();
    m.audit(&key("globex"), "read_call", Some("c2"), "ok")
        .await
        .unwrap();
    m.audit(&key("acme"), "search", Some("c1"), "ok")
        .await
        .unwrap();
    async fn of(m: &dyn Metastore, tenant: Option<&str>, action: Option<&str>) -> Vec<u64> {
        m.audit_entries(&AuditFilter {
            tenant: tenant.map(str::to_string),
            action: action.map(str::to_string),
            ..Default::default()
        })
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect()
    }
    assert_eq!(of(m, Some("acme"), None).await, vec![1, 3]);
    assert_eq!(of(m, Some("acme"), Some("read_call")).await, vec![1]);
    assert_eq!(of(m, None, Some("read_call")).await, vec![1, 2]);
    assert_eq!(m.verify_audit().await.unwrap(), Ok(3));
}

/// The same recording under two tenants is two calls; under one tenant it is refused, naming
/// only that tenant's call.
pub async fn duplicates_are_per_tenant(m: &dyn Metastore) {
    let a = new_call(m, "acme", "same-bytes").await;
    let b = call_of(m, "globex", "same-bytes")
        .await
        .expect("another tenant's copy is no duplicate");
    assert_ne!(a, b);
    assert_eq!(
        m.find_by_sha256("acme", "same-bytes").await.unwrap(),
        Some(a)
    );
    assert_eq!(
        m.find_by_sha256("globex", "same-bytes").await.unwrap(),
        Some(b)
    );
    assert_eq!(
        m.find_by_sha256("initech", "same-bytes").await.unwrap(),
        None
    );
    match call_of(m, "globex", "same-bytes").await {
        Err(MetastoreError::Duplicate { existing }) => assert_eq!(existing, b),
        other => panic!("expected a duplicate of {b}, got {other:?}"),
    }
}

pub async fn keys_are_stored_hashed_and_revocable(m: &dyn Metastore) {
    let k = m
        .create_key("k1", "ADV portal", Role::Client, &["acme".into()], "hash")
        .await
        .unwrap();
    assert_eq!(k.scope(), Scope::Clients(vec!["acme".into()]));
    let (stored, hash) = m.key("k1").await.unwrap().unwrap();
    assert_eq!((stored.role, hash.as_str()), (Role::Client, "hash"));
    assert!(stored.revoked_at.is_none());
    assert!(m.revoke_key("k1").await.unwrap().revoked_at.is_some());
    let missing = m.revoke_key("nope").await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound, "{missing:?}");
    assert_eq!(m.keys().await.unwrap().len(), 1);
}

pub async fn audit_chain_counts_and_filters(m: &dyn Metastore) {
    let actor = Actor::local();
    for i in 0..5 {
        m.audit(&actor, "read_transcript", Some(&format!("call{i}")), "ok")
            .await
            .unwrap();
    }
    assert_eq!(m.verify_audit().await.unwrap(), Ok(5));
    let last = m.audit_last().await.unwrap().unwrap();
    assert_eq!(last.seq, 5);
    let fourth = m.audit_entry(4).await.unwrap().unwrap();
    assert_eq!(fourth.target.as_deref(), Some("call3"));
    assert_eq!(last.prev_hash, fourth.hash);
    assert!(m.audit_entry(6).await.unwrap().is_none());
    let listed = m
        .audit_entries(&AuditFilter {
            target: Some("call3".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].seq, 4);
    assert_eq!(listed[0].prev_hash, {
        let third = m
            .audit_entries(&AuditFilter {
                target: Some("call2".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        third[0].hash.clone()
    });
}

pub async fn a_new_call_is_queued_for_transcription(m: &dyn Metastore) {
    let id = new_call(m, "acme", "q1").await;
    let jobs = m.jobs_of(id).await.unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(
        (jobs[0].kind, jobs[0].state, jobs[0].attempts),
        (JobKind::Transcribe, JobState::Queued, 0)
    );
    // Enqueuing again while it waits adds nothing.
    m.enqueue(id, JobKind::Transcribe).await.unwrap();
    assert_eq!(m.jobs_of(id).await.unwrap().len(), 1);
    assert_eq!(state_of(m, id).await, CallState::Received);
}

pub async fn jobs_flow_from_transcription_to_index(m: &dyn Metastore) {
    let id = new_call(m, "acme", "f1").await;
    let job = m
        .claim(JobKind::Transcribe, "w1", LEASE, None)
        .await
        .unwrap()
        .expect("the queued job is claimed");
    assert_eq!((job.call_id, job.attempts), (id, 1));
    assert_eq!(state_of(m, id).await, CallState::Transcribing);
    assert!(m.heartbeat(job.id, "w1", LEASE).await.unwrap());
    assert!(
        !m.heartbeat(job.id, "w2", LEASE).await.unwrap(),
        "not w2's job"
    );
    assert!(!m
        .complete(job.id, "w2", Some(JobKind::Index))
        .await
        .unwrap());
    assert!(m
        .complete(job.id, "w1", Some(JobKind::Index))
        .await
        .unwrap());
    assert!(m
        .claim(JobKind::Transcribe, "w1", LEASE, None)
        .await
        .unwrap()
        .is_none());
    let index = m
        .claim(JobKind::Index, "indexer", LEASE, None)
        .await
        .unwrap()
        .expect("an index job follows the transcription");
    assert_eq!(index.call_id, id);
    assert_eq!(state_of(m, id).await, CallState::Transcribing);
    assert!(m.complete(index.id, "indexer", None).await.unwrap());
    assert_eq!(state_of(m, id).await, CallState::Indexed);
    assert!(m
        .jobs(Some(JobState::Running), 10)
        .await
        .unwrap()
        .is_empty());
}

pub async fn a_job_is_claimed_once(m: &dyn Metastore) {
    let a = new_call(m, "acme", "c1").await;
    let b = new_call(m, "acme", "c2").await;
    // A claim for a given call takes that call's job, not the oldest.
    let jb = m
        .claim(JobKind::Transcribe, "w1", LEASE, Some(b))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(jb.call_id, b);
    let ja = m
        .claim(JobKind::Transcribe, "w2", LEASE, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ja.call_id, a);
    assert!(m
        .claim(JobKind::Transcribe, "w3", LEASE, None)
        .await
        .unwrap()
        .is_none());
}

/// Workers claiming at the same moment (on several machines, for a shared catalog) never get
/// the same job, and together they take every job.
pub async fn concurrent_claims_take_each_job_once(m: &dyn Metastore) {
    let mut calls = Vec::new();
    for i in 0..24 {
        calls.push(new_call(m, "acme", &format!("cc{i}")).await);
    }
    let worker = |w: usize| async move {
        let mut got = Vec::new();
        while let Some(job) = m
            .claim(JobKind::Transcribe, &format!("w{w}"), LEASE, None)
            .await
            .unwrap()
        {
            got.push(job.call_id);
            tokio::task::yield_now().await;
        }
        got
    };
    let claimed: Vec<CallId> = futures_util::future::join_all((0..6).map(worker))
        .await
        .into_iter()
        .flatten()
        .collect();
    let mut sorted = claimed.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), claimed.len(), "a job was claimed twice");
    calls.sort();
    assert_eq!(sorted, calls, "every job is claimed");
}

/// Entries appended at the same moment (from several nodes) are numbered in one sequence and
/// chain.
pub async fn concurrent_audit_entries_form_one_chain(m: &dyn Metastore) {
    let one = |i: usize| async move {
        m.audit(&Actor::local(), "read_call", Some(&format!("c{i}")), "ok")
            .await
            .unwrap()
            .seq
    };
    let mut seqs: Vec<u64> = futures_util::future::join_all((0..20).map(one)).await;
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=20).collect::<Vec<u64>>());
    assert_eq!(m.verify_audit().await.unwrap(), Ok(20));
}

/// Completing an index job, announcing a change and deleting a call each append to the
/// index's change log, in order; a follower reads from where it stopped.
pub async fn index_changes_follow_indexing_and_deletion(m: &dyn Metastore) {
    assert_eq!(m.last_index_change().await.unwrap(), 0);
    let id = new_call(m, "acme", "ix1").await;
    let t = m
        .claim(JobKind::Transcribe, "w", LEASE, None)
        .await
        .unwrap()
        .unwrap();
    assert!(m.complete(t.id, "w", Some(JobKind::Index)).await.unwrap());
    assert!(
        m.index_changes(0, 10).await.unwrap().is_empty(),
        "not indexed yet"
    );
    let i = m
        .claim(JobKind::Index, "indexer", LEASE, None)
        .await
        .unwrap()
        .unwrap();
    assert!(m.complete(i.id, "indexer", None).await.unwrap());
    m.index_changed(id).await.unwrap();
    m.delete(id).await.unwrap();
    // Deleting what is not there announces nothing.
    m.delete(id).await.unwrap();
    let all = m.index_changes(0, 10).await.unwrap();
    let ops: Vec<(CallId, bool)> = all.iter().map(|c| (c.call_id, c.removed)).collect();
    assert_eq!(ops, vec![(id, false), (id, false), (id, true)]);
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(m.last_index_change().await.unwrap(), all[2].seq);
    let rest = m.index_changes(all[0].seq, 1).await.unwrap();
    assert_eq!(rest, vec![all[1].clone()]);
}

/// Monitoring counts: calls per state, jobs per kind and state.
pub async fn calls_and_jobs_are_counted_by_state(m: &dyn Metastore) {
    assert!(m.state_counts().await.unwrap().is_empty());
    new_call(m, "acme", "n1").await;
    new_call(m, "acme", "n2").await;
    new_call(m, "globex", "n3").await;
    let j = m
        .claim(JobKind::Transcribe, "w", LEASE, None)
        .await
        .unwrap()
        .unwrap();
    assert!(m.complete(j.id, "w", Some(JobKind::Index)).await.unwrap());
    assert_eq!(
        m.state_counts().await.unwrap(),
        vec![("received".to_string(), 2), ("transcribing".to_string(), 1)]
    );
    assert_eq!(
        m.job_counts().await.unwrap(),
        vec![
            (JobKind::Index, JobState::Queued, 1),
            (JobKind::Transcribe, JobState::Done, 1),
            (JobKind::Transcribe, JobState::Queued, 2),
        ]
    );
}

pub async fn an_expired_lease_is_claimable_again(m: &dyn Metastore) {
    let id = new_call(m, "acme", "l1").await;
    let first = m
        .claim(JobKind::Transcribe, "w1", Duration::ZERO, None)
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let second = m
        .claim(JobKind::Transcribe, "w2", LEASE, None)
        .await
        .unwrap()
        .expect("a job whose lease ran out is taken over");
    assert_eq!(
        (second.id, second.call_id, second.attempts),
        (first.id, id, 2)
    );
    // The first worker lost it: it can neither renew nor finish it.
    assert!(!m.heartbeat(first.id, "w1", LEASE).await.unwrap());
    assert!(!m
        .complete(first.id, "w1", Some(JobKind::Index))
        .await
        .unwrap());
    assert!(m
        .complete(second.id, "w2", Some(JobKind::Index))
        .await
        .unwrap());
}

pub async fn a_job_whose_worker_keeps_dying_is_dead_lettered(m: &dyn Metastore) {
    let id = new_call(m, "acme", "d1").await;
    for attempt in 1..=3 {
        let job = m
            .claim(JobKind::Transcribe, "w", LEASE, None)
            .await
            .unwrap()
            .expect("claimable while attempts remain");
        assert_eq!(job.attempts, attempt);
        let released = m
            .release_owner("w", "worker process killed by signal 9 (SIGKILL)")
            .await
            .unwrap();
        assert_eq!(released.len(), 1);
        let want = if attempt < 3 {
            JobState::Queued
        } else {
            JobState::Dead
        };
        assert_eq!(released[0].state, want, "after attempt {attempt}");
    }
    assert!(m
        .claim(JobKind::Transcribe, "w", LEASE, None)
        .await
        .unwrap()
        .is_none());
    let dead = m.jobs(Some(JobState::Dead), 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    let reason = dead[0].last_error.clone().unwrap_or_default();
    assert!(
        reason.contains("3 attempts") && reason.contains("SIGKILL"),
        "{reason}"
    );
    match state_of(m, id).await {
        CallState::Failed(why) => assert!(why.contains("SIGKILL"), "{why}"),
        other => panic!("the call should have failed, not be {other:?}"),
    }
}

pub async fn failures_retry_then_dead_letter(m: &dyn Metastore) {
    let id = new_call(m, "acme", "r1").await;
    let job = m
        .claim(JobKind::Transcribe, "w", LEASE, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        m.fail(job.id, "w", "model busy", true).await.unwrap(),
        JobState::Queued
    );
    assert_eq!(state_of(m, id).await, CallState::Received);
    let job = m
        .claim(JobKind::Transcribe, "w", LEASE, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.attempts, 2);
    // A failure no retry can fix (an undecodable file) is dead at once.
    assert_eq!(
        m.fail(job.id, "w", "the recording is not audio", false)
            .await
            .unwrap(),
        JobState::Dead
    );
    assert_eq!(
        state_of(m, id).await,
        CallState::Failed("the recording is not audio".into())
    );
    // A job whose last attempt never reported back is dead-lettered at the next claim.
    let other = new_call(m, "acme", "r2").await;
    for _ in 0..3 {
        m.claim(JobKind::Transcribe, "w", Duration::ZERO, Some(other))
            .await
            .unwrap()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(m
        .claim(JobKind::Transcribe, "w", LEASE, Some(other))
        .await
        .unwrap()
        .is_none());
    assert!(matches!(state_of(m, other).await, CallState::Failed(_)));
}

pub async fn sessions_expire_end_and_die_with_their_key(m: &dyn Metastore) {
    use chrono::{Duration as Span, Utc};
    for id in ["k1", "k2"] {
        m.create_key(id, "agent", Role::Agent, &["acme".into()], "hash")
            .await
            .unwrap();
    }
    let now = Utc::now();
    m.create_session("s1", "k1", now + Span::hours(1))
        .await
        .unwrap();
    m.create_session("s2", "k1", now + Span::hours(1))
        .await
        .unwrap();
    m.create_session("s3", "k2", now + Span::hours(1))
        .await
        .unwrap();
    m.create_session("old", "k2", now - Span::seconds(1))
        .await
        .unwrap();
    assert_eq!(
        m.session_key("s1", now).await.unwrap().as_deref(),
        Some("k1")
    );
    assert_eq!(m.session_key("old", now).await.unwrap(), None, "expired");
    assert_eq!(m.session_key("nope", now).await.unwrap(), None);
    assert_eq!(
        m.session_key("s1", now + Span::hours(2)).await.unwrap(),
        None,
        "past its expiry"
    );
    // Signing out ends one session; revoking a key ends all of its sessions.
    m.delete_session("s2").await.unwrap();
    assert_eq!(m.session_key("s2", now).await.unwrap(), None);
    m.delete_session("s2").await.unwrap();
    m.revoke_key("k1").await.unwrap();
    assert_eq!(m.session_key("s1", now).await.unwrap(), None);
    assert_eq!(
        m.session_key("s3", now).await.unwrap().as_deref(),
        Some("k2")
    );
}

pub async fn pending_objects_are_listed_until_ended(m: &dyn Metastore) {
    m.begin_object("clients/acme/calls/a/original.wav", "serve:h:1")
        .await
        .unwrap();
    m.begin_object("clients/acme/calls/b/original.wav", "serve:h:2")
        .await
        .unwrap();
    let pending = m.pending_objects().await.unwrap();
    assert_eq!(pending.len(), 2);
    assert_eq!(
        pending[0],
        (
            "clients/acme/calls/a/original.wav".to_string(),
            "serve:h:1".to_string()
        )
    );
    m.end_object("clients/acme/calls/a/original.wav")
        .await
        .unwrap();
    m.end_object("never/begun").await.unwrap();
    let pending = m.pending_objects().await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].0, "clients/acme/calls/b/original.wav");
}

pub async fn a_redacted_recording_replaces_the_original(m: &dyn Metastore) {
    use callproof_models::{PiiKind, Redaction, RedactionAudio, RedactionSpan, Speaker};
    let id = call_of(m, "acme", "sha-original").await.unwrap();
    m.replace_original(
        id,
        "clients/acme/calls/x/redacted.wav",
        "wav/pcm_s16le",
        1234,
    )
    .await
    .unwrap();
    let call = m.get_in(id, &Scope::All).await.unwrap().unwrap();
    assert_eq!(call.audio.as_ref().unwrap().format, "wav/pcm_s16le");
    assert_eq!(call.size_bytes, 1234);
    assert_eq!(
        call.sha256, "sha-original",
        "still known by what was uploaded"
    );
    assert_eq!(
        m.object_key_in(id, &Scope::All).await.unwrap().as_deref(),
        Some("clients/acme/calls/x/redacted.wav")
    );
    assert_eq!(
        m.find_by_sha256("acme", "sha-original").await.unwrap(),
        Some(id)
    );
    let r = Redaction {
        call_id: id,
        spans: vec![RedactionSpan {
            kind: PiiKind::Card,
            speaker: Speaker::Customer,
            channel: 1,
            start_ms: 1000,
            end_ms: 5000,
            reason: "payment context: carte".into(),
        }],
        audio: RedactionAudio::Silence,
        original_sha256: "sha-original".into(),
        redacted_sha256: Some("sha-redacted".into()),
        original_kept: false,
        at: chrono::Utc::now(),
    };
    m.put_redaction(&r).await.unwrap();
    assert_eq!(
        m.redaction_in(id, &Scope::All).await.unwrap(),
        Some(r.clone())
    );
    let acme = Scope::Clients(vec!["acme".into()]);
    let globex = Scope::Clients(vec!["globex".into()]);
    assert!(m.redaction_in(id, &acme).await.unwrap().is_some());
    assert_eq!(m.redaction_in(id, &globex).await.unwrap(), None);
    let other = call_of(m, "acme", "sha-other").await.unwrap();
    assert_eq!(m.redaction_in(other, &Scope::All).await.unwrap(), None);
    // A recording deleted at the end of its retention period leaves an empty key.
    m.replace_original(other, "", "deleted", 0).await.unwrap();
    assert_eq!(
        m.object_key_in(other, &Scope::All)
            .await
            .unwrap()
            .as_deref(),
        Some("")
    );
}

pub async fn holds_are_kept_and_listed_until_released(m: &dyn Metastore) {
    use callproof_models::{HoldTarget, LegalHold};
    let now = chrono::Utc::now();
    let mut h = LegalHold {
        id: "h1".into(),
        client: "acme".into(),
        target: HoldTarget::CustomerPhone("+33612345678".into()),
        reason: "dispute 42".into(),
        placed_by: "k1".into(),
        placed_at: now,
        release_requested_by: None,
        release_requested_at: None,
        released_by: None,
        released_at: None,
    };
    m.put_hold(&h).await.unwrap();
    let other = LegalHold {
        id: "h2".into(),
        client: "globex".into(),
        ..h.clone()
    };
    m.put_hold(&other).await.unwrap();
    assert_eq!(m.hold("h1").await.unwrap(), Some(h.clone()));
    assert_eq!(m.holds(Some("acme"), true).await.unwrap(), vec![h.clone()]);
    assert_eq!(m.holds(None, true).await.unwrap().len(), 2);
    h.released_by = Some("k2".into());
    h.released_at = Some(now);
    m.put_hold(&h).await.unwrap();
    assert!(m.holds(Some("acme"), true).await.unwrap().is_empty());
    assert_eq!(m.holds(Some("acme"), false).await.unwrap(), vec![h]);
    assert_eq!(m.hold("nope").await.unwrap(), None);
}

pub async fn calls_are_listed_by_page_filter_and_order(m: &dyn Metastore) {
    use crate::{CallPage, CallSort};
    let audio = AudioInfo {
        format: "wav".into(),
        sample_rate: 8000,
        channels: 2,
        duration_ms: 1000,
    };
    // Five acme calls (agents b, a, c, a, b; two campaigns) and one globex call.
    let mut ids = Vec::new();
    for (i, (client, agent, campaign)) in [
        ("acme", "b", "hiver"),
        ("acme", "a", "ete"),
        ("acme", "c", "hiver"),
        ("acme", "a", "hiver"),
        ("acme", "b", "ete"),
        ("globex", "a", "hiver"),
    ]
    .into_iter()
    .enumerate()
    {
        let id = CallId::new();
        let meta = CallMetadata {
            client: client.into(),
            agent: Some(agent.into()),
            campaign: Some(campaign.into()),
            ..Default::default()
        };
        m.insert(&NewCall {
            id,
            metadata: &meta,
            sha256: &format!("page{i}"),
            original_name: None,
            size_bytes: 1,
            object_key: "k",
            audio: &audio,
        })
        .await
        .unwrap();
        ids.push(id);
        // Distinct arrival times, in order.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    for (i, verdict) in [
        (0, Verdict::Violation),
        (2, Verdict::Compliant),
        (3, Verdict::Violation),
    ] {
        m.put_verification(&Verification {
            call_id: ids[i],
            ruleset: RuleSetRef {
                id: "fr-demarchage".into(),
                version: 1,
                sha256: "x".into(),
                builtin: true,
            },
            verdict,
            findings: vec![],
            verified_at: chrono::Utc::now(),
        })
        .await
        .unwrap();
    }
    let acme = &Scope::Clients(vec!["acme".into()]);
    let page = |p: CallPage| async move {
        let (rows, total) = m.calls_page(acme, &p).await.unwrap();
        (
            rows.into_iter().map(|(c, v)| (c.id, v)).collect::<Vec<_>>(),
            total,
        )
    };
    // Newest first by default, in pages that neither overlap nor skip; the total is all.
    let (first, total) = page(CallPage {
        limit: 2,
        ..Default::default()
    })
    .await;
    let (second, _) = page(CallPage {
        limit: 2,
        offset: 2,
        ..Default::default()
    })
    .await;
    let (third, _) = page(CallPage {
        limit: 2,
        offset: 4,
        ..Default::default()
    })
    .await;
    assert_eq!(total, 5, "the other tenant's call is not counted");
    let listed: Vec<CallId> = [first, second, third]
        .concat()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(listed, vec![ids[4], ids[3], ids[2], ids[1], ids[0]]);
    // Filters, with the verdict of each call.
    let (rows, total) = page(CallPage {
        agent: Some("a".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(total, 2);
    assert_eq!(
        rows,
        vec![(ids[3], Some(Verdict::Violation)), (ids[1], None)]
    );
    let (rows, _) = page(CallPage {
        verdict: Some(Some(Verdict::Violation)),
        campaign: Some("hiver".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(
        rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        vec![ids[3], ids[0]]
    );
    let (rows, total) = page(CallPage {
        verdict: Some(None),
        ..Default::default()
    })
    .await;
    assert_eq!((rows.len(), total), (2, 2), "not verified yet");
    // Ordered by agent, ascending; ties newest-first would be arbitrary, so by id.
    let (rows, _) = page(CallPage {
        sort: CallSort::Agent,
        ascending: true,
        ..Default::default()
    })
    .await;
    let agents: Vec<CallId> = rows.iter().map(|r| r.0).collect();
    assert_eq!(
        agents[..2]
            .iter()
            .collect::<std::collections::BTreeSet<_>>(),
        [ids[1], ids[3]].iter().collect()
    );
    assert_eq!(agents[4], ids[2]);
    let (rows, _) = page(CallPage {
        sort: CallSort::Verdict,
        ascending: false,
        ..Default::default()
    })
    .await;
    assert!(
        rows[..2].iter().all(|r| r.1 == Some(Verdict::Violation)),
        "{rows:?}"
    );
}

pub async fn transcription_work_is_measured_from_claim_to_completion(m: &dyn Metastore) {
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    assert_eq!(m.transcription_work(before).await.unwrap().jobs, 0);
    // Two calls of one second of audio each (call_of's), each transcribed in at least 120 ms.
    for sha in ["w1", "w2"] {
        new_call(m, "acme", sha).await;
        let job = m
            .claim(JobKind::Transcribe, "w", LEASE, None)
            .await
            .unwrap()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert!(m.complete(job.id, "w", Some(JobKind::Index)).await.unwrap());
    }
    // Index jobs are not transcription work.
    let index = m
        .claim(JobKind::Index, "w", LEASE, None)
        .await
        .unwrap()
        .unwrap();
    assert!(m.complete(index.id, "w", None).await.unwrap());
    let work = m.transcription_work(before).await.unwrap();
    assert_eq!((work.jobs, work.audio_ms), (2, 2000), "{work:?}");
    assert!((240..10_000).contains(&work.work_ms), "{work:?}");
    let speed = work.seconds_per_audio_second().unwrap();
    assert!((0.12..5.0).contains(&speed), "{speed}");
    // Nothing finished after now.
    let later = chrono::Utc::now() + chrono::Duration::seconds(5);
    assert_eq!(m.transcription_work(later).await.unwrap().jobs, 0);
}
