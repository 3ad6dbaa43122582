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
/// a throwaway database) lives as long as the test.
#[macro_export]
macro_rules! metastore_test_suite {
    ($name:ident, $open:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            macro_rules! case {
                ($t:ident) => {
                    #[test]
                    fn $t() {
                        let (_guard, store) = $open;
                        $crate::conformance::$t(&store);
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
            case!(an_expired_lease_is_claimable_again);
            case!(a_job_whose_worker_keeps_dying_is_dead_lettered);
            case!(failures_retry_then_dead_letter);
        }
    };
}

fn call_of(m: &dyn Metastore, client: &str, sha: &str) -> Result<CallId, MetastoreError> {
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
    })?;
    Ok(id)
}

fn new_call(m: &dyn Metastore, client: &str, sha: &str) -> CallId {
    call_of(m, client, sha).expect("a new call is stored")
}

fn state_of(m: &dyn Metastore, id: CallId) -> CallState {
    m.get(id).unwrap().expect("the call exists").state
}

const LEASE: Duration = Duration::from_secs(60);

pub fn rule_set_versions(m: &dyn Metastore) {
    assert!(m.ruleset("acme", None).unwrap().is_none());
    assert_eq!(m.put_ruleset("acme", None, "h1", "one").unwrap().version, 1);
    // Same content again: nothing new.
    assert_eq!(m.put_ruleset("acme", None, "h1", "one").unwrap().version, 1);
    assert_eq!(m.put_ruleset("acme", None, "h2", "two").unwrap().version, 2);
    assert_eq!(
        m.put_ruleset("acme", Some(7), "h3", "three")
            .unwrap()
            .version,
        7
    );
    // A version number cannot be reused for other content.
    let taken = m.put_ruleset("acme", Some(7), "h4", "four").unwrap_err();
    assert!(
        matches!(
            taken,
            MetastoreError::RuleSetVersionTaken { version: 7, .. }
        ),
        "{taken:?}"
    );
    assert_eq!(taken.kind(), ErrorKind::Conflict);
    let active = m.ruleset("acme", None).unwrap().unwrap();
    assert_eq!((active.version, active.source.as_str()), (7, "three"));
    assert_eq!(m.ruleset("acme", Some(2)).unwrap().unwrap().source, "two");
    assert_eq!(m.ruleset_versions("acme").unwrap().len(), 3);
    assert!(m.ruleset("globex", None).unwrap().is_none());
}

pub fn verifications_are_stored_and_replaced(m: &dyn Metastore) {
    let id = new_call(m, "acme", "s1");
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
    m.put_verification(&v).unwrap();
    v.verdict = Verdict::Compliant;
    m.put_verification(&v).unwrap();
    assert_eq!(
        m.verification(id).unwrap().unwrap().verdict,
        Verdict::Compliant
    );
    assert_eq!(
        m.verdict_counts("acme").unwrap(),
        vec![(Verdict::Compliant, 1)]
    );
    assert!(m.transcribed_calls("acme").unwrap().is_empty());
    let other = Scope::Clients(vec!["globex".into()]);
    assert!(m.verification_in(id, &other).unwrap().is_none());
}

pub fn scoped_reads_hide_other_tenants(m: &dyn Metastore) {
    let a = new_call(m, "acme", "sa");
    let b = new_call(m, "globex", "sb");
    let only_acme = Scope::Clients(vec!["acme".into()]);
    assert!(m.get_in(a, &only_acme).unwrap().is_some());
    assert!(m.get_in(b, &only_acme).unwrap().is_none());
    assert!(m.get_in(b, &Scope::All).unwrap().is_some());
    assert!(m.get_in(a, &Scope::Clients(vec![])).unwrap().is_none());
    let listed = m.list_in(&only_acme, 10).unwrap();
    assert_eq!(listed.iter().map(|c| c.id).collect::<Vec<_>>(), vec![a]);
    assert_eq!(m.list_in(&Scope::All, 10).unwrap().len(), 2);
    assert!(m.object_key_in(b, &only_acme).unwrap().is_none());
}

pub fn transcripts_are_read_within_their_tenant(m: &dyn Metastore) {
    let id = new_call(m, "acme", "t1");
    let t = callproof_models::Transcript {
        call_id: id,
        model: "base".into(),
        model_sha256: "0".into(),
        language: "fr".into(),
        segments: vec![],
    };
    m.put_transcript(&t).unwrap();
    let acme = Scope::Clients(vec!["acme".into()]);
    let globex = Scope::Clients(vec!["globex".into()]);
    assert_eq!(m.transcript_in(id, &acme).unwrap(), Some(t.clone()));
    assert_eq!(m.transcript_in(id, &globex).unwrap(), None);
    assert_eq!(m.transcript_in(id, &Scope::All).unwrap(), Some(t));
    assert_eq!(
        m.transcribed_calls("acme")
            .unwrap()
            .iter()
            .map(|c| c.id)
            .collect::<Vec<_>>(),
        vec![id]
    );
    assert!(m.transcribed_calls("globex").unwrap().is_empty());
}

pub fn audit_entries_filter_by_tenant_and_action(m: &dyn Metastore) {
    let key = |tenant: &str| Actor {
        key_id: format!("k-{tenant}"),
        role: Role::Client,
        tenant: Some(tenant.into()),
    };
    m.audit(&key("acme"), "read_call", Some("c1"), "ok")
        .unwrap();
    m.audit(&key("globex"), "read_call", Some("c2"), "ok")
        .unwrap();
    m.audit(&key("acme"), "search", Some("c1"), "ok").unwrap();
    let of = |tenant: Option<&str>, action: Option<&str>| {
        m.audit_entries(&AuditFilter {
            tenant: tenant.map(str::to_string),
            action: action.map(str::to_string),
            ..Default::default()
        })
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect::<Vec<_>>()
    };
    assert_eq!(of(Some("acme"), None), vec![1, 3]);
    assert_eq!(of(Some("acme"), Some("read_call")), vec![1]);
    assert_eq!(of(None, Some("read_call")), vec![1, 2]);
    assert_eq!(m.verify_audit().unwrap(), Ok(3));
}

/// The same recording under two tenants is two calls; under one tenant it is refused, naming
/// only that tenant's call.
pub fn duplicates_are_per_tenant(m: &dyn Metastore) {
    let a = new_call(m, "acme", "same-bytes");
    let b = call_of(m, "globex", "same-bytes").expect("another tenant's copy is no duplicate");
    assert_ne!(a, b);
    assert_eq!(m.find_by_sha256("acme", "same-bytes").unwrap(), Some(a));
    assert_eq!(m.find_by_sha256("globex", "same-bytes").unwrap(), Some(b));
    assert_eq!(m.find_by_sha256("initech", "same-bytes").unwrap(), None);
    match call_of(m, "globex", "same-bytes") {
        Err(MetastoreError::Duplicate { existing }) => assert_eq!(existing, b),
        other => panic!("expected a duplicate of {b}, got {other:?}"),
    }
}

pub fn keys_are_stored_hashed_and_revocable(m: &dyn Metastore) {
    let k = m
        .create_key("k1", "ADV portal", Role::Client, &["acme".into()], "hash")
        .unwrap();
    assert_eq!(k.scope(), Scope::Clients(vec!["acme".into()]));
    let (stored, hash) = m.key("k1").unwrap().unwrap();
    assert_eq!((stored.role, hash.as_str()), (Role::Client, "hash"));
    assert!(stored.revoked_at.is_none());
    assert!(m.revoke_key("k1").unwrap().revoked_at.is_some());
    let missing = m.revoke_key("nope").unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound, "{missing:?}");
    assert_eq!(m.keys().unwrap().len(), 1);
}

pub fn audit_chain_counts_and_filters(m: &dyn Metastore) {
    let actor = Actor::local();
    for i in 0..5 {
        m.audit(&actor, "read_transcript", Some(&format!("call{i}")), "ok")
            .unwrap();
    }
    assert_eq!(m.verify_audit().unwrap(), Ok(5));
    let listed = m
        .audit_entries(&AuditFilter {
            target: Some("call3".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].seq, 4);
    assert_eq!(listed[0].prev_hash, {
        let third = m
            .audit_entries(&AuditFilter {
                target: Some("call2".into()),
                ..Default::default()
            })
            .unwrap();
        third[0].hash.clone()
    });
}

pub fn a_new_call_is_queued_for_transcription(m: &dyn Metastore) {
    let id = new_call(m, "acme", "q1");
    let jobs = m.jobs_of(id).unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(
        (jobs[0].kind, jobs[0].state, jobs[0].attempts),
        (JobKind::Transcribe, JobState::Queued, 0)
    );
    // Enqueuing again while it waits adds nothing.
    m.enqueue(id, JobKind::Transcribe).unwrap();
    assert_eq!(m.jobs_of(id).unwrap().len(), 1);
    assert_eq!(state_of(m, id), CallState::Received);
}

pub fn jobs_flow_from_transcription_to_index(m: &dyn Metastore) {
    let id = new_call(m, "acme", "f1");
    let job = m
        .claim(JobKind::Transcribe, "w1", LEASE, None)
        .unwrap()
        .expect("the queued job is claimed");
    assert_eq!((job.call_id, job.attempts), (id, 1));
    assert_eq!(state_of(m, id), CallState::Transcribing);
    assert!(m.heartbeat(job.id, "w1", LEASE).unwrap());
    assert!(!m.heartbeat(job.id, "w2", LEASE).unwrap(), "not w2's job");
    assert!(!m.complete(job.id, "w2", Some(JobKind::Index)).unwrap());
    assert!(m.complete(job.id, "w1", Some(JobKind::Index)).unwrap());
    assert!(m
        .claim(JobKind::Transcribe, "w1", LEASE, None)
        .unwrap()
        .is_none());
    let index = m
        .claim(JobKind::Index, "indexer", LEASE, None)
        .unwrap()
        .expect("an index job follows the transcription");
    assert_eq!(index.call_id, id);
    assert_eq!(state_of(m, id), CallState::Transcribing);
    assert!(m.complete(index.id, "indexer", None).unwrap());
    assert_eq!(state_of(m, id), CallState::Indexed);
    assert!(m.jobs(Some(JobState::Running), 10).unwrap().is_empty());
}

pub fn a_job_is_claimed_once(m: &dyn Metastore) {
    let a = new_call(m, "acme", "c1");
    let b = new_call(m, "acme", "c2");
    // A claim for a given call takes that call's job, not the oldest.
    let jb = m
        .claim(JobKind::Transcribe, "w1", LEASE, Some(b))
        .unwrap()
        .unwrap();
    assert_eq!(jb.call_id, b);
    let ja = m
        .claim(JobKind::Transcribe, "w2", LEASE, None)
        .unwrap()
        .unwrap();
    assert_eq!(ja.call_id, a);
    assert!(m
        .claim(JobKind::Transcribe, "w3", LEASE, None)
        .unwrap()
        .is_none());
}

pub fn an_expired_lease_is_claimable_again(m: &dyn Metastore) {
    let id = new_call(m, "acme", "l1");
    let first = m
        .claim(JobKind::Transcribe, "w1", Duration::ZERO, None)
        .unwrap()
        .unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let second = m
        .claim(JobKind::Transcribe, "w2", LEASE, None)
        .unwrap()
        .expect("a job whose lease ran out is taken over");
    assert_eq!(
        (second.id, second.call_id, second.attempts),
        (first.id, id, 2)
    );
    // The first worker lost it: it can neither renew nor finish it.
    assert!(!m.heartbeat(first.id, "w1", LEASE).unwrap());
    assert!(!m.complete(first.id, "w1", Some(JobKind::Index)).unwrap());
    assert!(m.complete(second.id, "w2", Some(JobKind::Index)).unwrap());
}

pub fn a_job_whose_worker_keeps_dying_is_dead_lettered(m: &dyn Metastore) {
    let id = new_call(m, "acme", "d1");
    for attempt in 1..=3 {
        let job = m
            .claim(JobKind::Transcribe, "w", LEASE, None)
            .unwrap()
            .expect("claimable while attempts remain");
        assert_eq!(job.attempts, attempt);
        let released = m
            .release_owner("w", "worker process killed by signal 9 (SIGKILL)")
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
        .unwrap()
        .is_none());
    let dead = m.jobs(Some(JobState::Dead), 10).unwrap();
    assert_eq!(dead.len(), 1);
    let reason = dead[0].last_error.clone().unwrap_or_default();
    assert!(
        reason.contains("3 attempts") && reason.contains("SIGKILL"),
        "{reason}"
    );
    match state_of(m, id) {
        CallState::Failed(why) => assert!(why.contains("SIGKILL"), "{why}"),
        other => panic!("the call should have failed, not be {other:?}"),
    }
}

pub fn failures_retry_then_dead_letter(m: &dyn Metastore) {
    let id = new_call(m, "acme", "r1");
    let job = m
        .claim(JobKind::Transcribe, "w", LEASE, None)
        .unwrap()
        .unwrap();
    assert_eq!(
        m.fail(job.id, "w", "model busy", true).unwrap(),
        JobState::Queued
    );
    assert_eq!(state_of(m, id), CallState::Received);
    let job = m
        .claim(JobKind::Transcribe, "w", LEASE, None)
        .unwrap()
        .unwrap();
    assert_eq!(job.attempts, 2);
    // A failure no retry can fix (an undecodable file) is dead at once.
    assert_eq!(
        m.fail(job.id, "w", "the recording is not audio", false)
            .unwrap(),
        JobState::Dead
    );
    assert_eq!(
        state_of(m, id),
        CallState::Failed("the recording is not audio".into())
    );
    // A job whose last attempt never reported back is dead-lettered at the next claim.
    let other = new_call(m, "acme", "r2");
    for _ in 0..3 {
        m.claim(JobKind::Transcribe, "w", Duration::ZERO, Some(other))
            .unwrap()
            .unwrap();
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(m
        .claim(JobKind::Transcribe, "w", LEASE, Some(other))
        .unwrap()
        .is_none());
    assert!(matches!(state_of(m, other), CallState::Failed(_)));
}
