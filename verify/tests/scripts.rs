//! The rules on what was said: every labelled script (`tests/calls`, `tests/calls-hard`, and
//! the two sets nobody tuned on, `bench/calls-unseen*`) checked against its built-in pack as
//! if the recogniser had heard each word exactly as written, at the pace the script is
//! rendered. Recognition is then out of the question, so a wrong verdict here is the rules'
//! own (a paraphrase no phrasing covers, an order or a window that does not fit), and the
//! verdicts measured on recordings (`bench/verify-hard.sh`) can be read against this ceiling.

use callproof_models::{
    CallId, CallMetadata, FindingStatus, RuleSetRef, Segment, Speaker, Transcript, Verdict, Word,
};
use callproof_verify::{default_pack, verify, CallFacts, RuleBook};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Silence between two turns, as `tests/scripts/render-call.sh` puts it.
const GAP_MS: u64 = 600;

/// A labelled script: its turns, language, pace, start time and the findings it expects.
struct Script {
    name: String,
    language: String,
    words_per_minute: u64,
    started_at: String,
    turns: Vec<(Speaker, String)>,
    expect: BTreeSet<(String, String)>,
}

fn header<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("# {key}:")))
        .map(str::trim)
}

fn read(path: &Path) -> Script {
    let text = std::fs::read_to_string(path).unwrap();
    let turns = text
        .lines()
        .filter_map(|l| {
            if let Some(t) = l.strip_prefix("A:") {
                Some((Speaker::Agent, t.trim().to_string()))
            } else {
                l.strip_prefix("C:")
                    .map(|t| (Speaker::Customer, t.trim().to_string()))
            }
        })
        .collect();
    let expect = text
        .lines()
        .filter_map(|l| l.strip_prefix("# expect:"))
        .map(|l| {
            let mut w = l.split_whitespace();
            (
                w.next().unwrap_or_default().to_string(),
                w.next().unwrap_or_default().to_string(),
            )
        })
        .collect();
    Script {
        name: path.file_stem().unwrap().to_string_lossy().into_owned(),
        language: header(&text, "language").unwrap_or("fr").to_string(),
        words_per_minute: header(&text, "speed").map_or(150, |s| s.parse().unwrap()),
        started_at: header(&text, "started-at")
            .unwrap_or("2026-03-03T10:30:00+01:00")
            .to_string(),
        turns,
        expect,
    }
}

/// The transcript a perfect recogniser would give: each turn a segment, each word heard for
/// certain and lasting its share of the pace, turns a gap apart.
fn heard_exactly(s: &Script) -> (Transcript, u64) {
    let word_ms = 60_000 / s.words_per_minute.max(1);
    let mut t = 0;
    let segments = s
        .turns
        .iter()
        .map(|(speaker, text)| {
            let start = t;
            let words: Vec<Word> = text
                .split_whitespace()
                .map(|w| {
                    t += word_ms;
                    Word {
                        text: format!(" {w}"),
                        start_ms: t - word_ms,
                        end_ms: t,
                        probability: 0.99,
                    }
                })
                .collect();
            let seg = Segment {
                speaker: *speaker,
                channel: u16::from(*speaker == Speaker::Customer),
                start_ms: start,
                end_ms: t,
                text: text.clone(),
                avg_logprob: -0.1,
                no_speech_prob: 0.0,
                words,
                attribution: Default::default(),
                second_listen: false,
                heard_first: None,
                disputed: false,
            };
            t += GAP_MS;
            seg
        })
        .collect();
    let transcript = Transcript {
        call_id: CallId::new(),
        model: "as written".into(),
        model_sha256: "0".into(),
        language: s.language.clone(),
        segments,
    };
    (transcript, t)
}

/// The verdict a script's expectations amount to, as `bench/verify_report.py` reads them.
fn expected_verdict(expect: &BTreeSet<(String, String)>) -> Verdict {
    if expect.is_empty() {
        Verdict::Compliant
    } else if expect.len() == 1 && expect.contains(&("consent".into(), "refused".into())) {
        Verdict::NoSale
    } else {
        Verdict::Violation
    }
}

/// One script checked: what it expects and what verification found.
struct Checked {
    name: String,
    verdict: Verdict,
    expected: Verdict,
    flagged: BTreeSet<(String, String)>,
    expect: BTreeSet<(String, String)>,
    details: Vec<String>,
}

impl Checked {
    fn right(&self) -> bool {
        self.verdict == self.expected && self.flagged == self.expect
    }

    fn describe(&self) -> String {
        format!(
            "{}: verdict {:?}, expected {:?}; flagged {:?}, expected {:?}\n    {}",
            self.name,
            self.verdict,
            self.expected,
            self.flagged,
            self.expect,
            self.details.join("\n    ")
        )
    }
}

/// Checks every script of `dirs` against its language's built-in pack.
fn check(dirs: &[&str]) -> Vec<Checked> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut paths: Vec<PathBuf> = dirs
        .iter()
        .flat_map(|d| std::fs::read_dir(root.join(d)).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let s = read(path);
            let book = RuleBook::pack(default_pack(&s.language))
                .and_then(|b| b.for_language(&s.language))
                .unwrap();
            let (transcript, duration_ms) = heard_exactly(&s);
            let metadata = CallMetadata {
                client: "isosell".into(),
                language: Some(s.language.clone()),
                started_at: Some(chrono::DateTime::parse_from_rfc3339(&s.started_at).unwrap()),
                ..Default::default()
            };
            let v = verify(
                &book,
                &RuleSetRef {
                    id: "pack".into(),
                    version: 1,
                    sha256: book.sha256.clone(),
                    builtin: true,
                },
                &transcript,
                &CallFacts {
                    call_id: transcript.call_id,
                    metadata: &metadata,
                    duration_ms: Some(duration_ms),
                },
            );
            let flags: Vec<&callproof_models::Finding> = v
                .findings
                .iter()
                .filter(|f| f.status != FindingStatus::Pass)
                .collect();
            Checked {
                name: s.name,
                verdict: v.verdict,
                expected: expected_verdict(&s.expect),
                flagged: flags
                    .iter()
                    .map(|f| (f.rule_id.clone(), f.outcome.as_str().to_string()))
                    .collect(),
                expect: s.expect,
                details: flags
                    .iter()
                    .map(|f| format!("{} {}: {}", f.rule_id, f.outcome.as_str(), f.detail))
                    .collect(),
            }
        })
        .collect()
}

/// The scripts the packs were written and tuned on: each verdict and each flagged finding as
/// labelled.
#[test]
fn the_labelled_scripts_get_their_verdicts_when_heard_exactly() {
    let checked = check(&["tests/calls", "tests/calls-hard"]);
    assert!(checked.len() >= 43, "{} scripts", checked.len());
    let wrong: Vec<String> = checked
        .iter()
        .filter(|c| !c.right())
        .map(Checked::describe)
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {}:\n{}",
        wrong.len(),
        checked.len(),
        wrong.join("\n")
    );
}

/// The scripts written after the packs, never tuned on: phrasings they lack may send a call to
/// review, but heard exactly no breach goes unflagged and no verdict crosses from compliant to
/// violation or back.
#[test]
fn the_unseen_scripts_are_never_misjudged_when_heard_exactly() {
    let checked = check(&["bench/calls-unseen", "bench/calls-unseen-2"]);
    assert!(checked.len() >= 26, "{} scripts", checked.len());
    for c in &checked {
        assert!(
            c.expect.is_subset(&c.flagged),
            "a breach missed: {}",
            c.describe()
        );
        let crossed = matches!(
            (c.expected, c.verdict),
            (Verdict::Compliant, Verdict::Violation)
                | (Verdict::Violation | Verdict::NoSale, Verdict::Compliant)
                | (Verdict::NoSale, Verdict::Violation)
        );
        assert!(!crossed, "{}", c.describe());
    }
    let wrong: Vec<String> = checked
        .iter()
        .filter(|c| !c.right())
        .map(Checked::describe)
        .collect();
    eprintln!(
        "heard exactly, {} of {} unseen scripts as labelled; the others:\n{}",
        checked.len() - wrong.len(),
        checked.len(),
        wrong.join("\n")
    );
}
