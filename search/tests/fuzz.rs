//! Property tests: whatever a person types in the search box, the answer is hits or a query
//! error that says what is wrong — never a panic, never an internal error (a 500), never a
//! stack overflow. CI runs a few hundred cases (PROPTEST_CASES sets more: the hour-long run by
//! hand is in the README).

use callproof_models::{CallId, CallMetadata, Segment, Speaker, Transcript, Word};
use callproof_search::{SearchError, SearchIndex, SearchRequest};
use proptest::prelude::*;

fn index() -> (tempfile::TempDir, SearchIndex) {
    let dir = tempfile::tempdir().unwrap();
    let idx = SearchIndex::open(dir.path()).unwrap();
    for (client, text) in [
        (
            "acme",
            "bonjour je suis Julie de la société Isosell je confirme mon accord",
        ),
        (
            "globex",
            "hello this call is recorded do you agree yes I agree",
        ),
    ] {
        let words = text
            .split_whitespace()
            .enumerate()
            .map(|(i, w)| Word {
                text: w.into(),
                start_ms: i as u64 * 300,
                end_ms: i as u64 * 300 + 300,
                probability: 0.9,
            })
            .collect::<Vec<_>>();
        let t = Transcript {
            near_readings: Vec::new(),
            call_id: CallId::new(),
            model: "test".into(),
            model_sha256: "0".into(),
            language: if client == "acme" { "fr" } else { "en" }.into(),
            segments: vec![Segment {
                speaker: Speaker::Agent,
                channel: 0,
                start_ms: 0,
                end_ms: words.len() as u64 * 300,
                text: text.into(),
                avg_logprob: -0.2,
                no_speech_prob: 0.0,
                words,
                attribution: Default::default(),
                second_listen: false,
                heard_first: None,
                disputed: false,
            }],
        };
        let meta = CallMetadata {
            client: client.into(),
            ..Default::default()
        };
        idx.index_call(&t, &meta, None).unwrap();
    }
    (dir, idx)
}

/// Query text built from the pieces of the query language and its abuses.
fn query() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("accord".to_string()),
        Just("agree".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("\"".to_string()),
        Just(" AND ".to_string()),
        Just(" OR ".to_string()),
        Just(" NOT ".to_string()),
        Just("-".to_string()),
        Just("+".to_string()),
        Just("*".to_string()),
        Just("~".to_string()),
        Just("^".to_string()),
        Just(":".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just(" TO ".to_string()),
        Just(" IN ".to_string()),
        Just("/".to_string()),
        Just("\\".to_string()),
        Just("client".to_string()),
        Just("text_fr".to_string()),
        Just("verdict".to_string()),
        Just("rule".to_string()),
        Just("speaker".to_string()),
        Just("started_at".to_string()),
        Just("NaN".to_string()),
        Just("1e308".to_string()),
        Just(" ".to_string()),
        "[a-zé0-9]{1,12}",
        any::<char>().prop_map(|c| c.to_string()),
    ];
    prop::collection::vec(token, 0..60).prop_map(|t| t.concat())
}

proptest! {
    #[test]
    fn any_query_is_answered_or_refused_by_name(
        q in query(),
        fuzzy in any::<bool>(),
        depth in 0usize..40,
    ) {
        let (_dir, idx) = index();
        let text = format!("{}{q}{}", "(".repeat(depth), ")".repeat(depth));
        let tenants = Some(vec!["acme".to_string()]);
        let answer = idx.search(&SearchRequest {
            query: text.clone(),
            fuzzy,
            tenants,
            ..Default::default()
        });
        match answer {
            Ok(hits) => prop_assert!(hits.iter().all(|h| h.client == "acme")),
            Err(SearchError::Query { .. }) => {}
            Err(other) => prop_assert!(false, "{text:?}: {other}"),
        }
    }
}
