//! Search at scale: builds an index of synthetic call segments (10 million by default) with
//! realistic vocabulary and metadata, then reports indexing throughput and search latency
//! (p50/p99) for word, phrase, filtered and fuzzy queries.
//!
//!     cargo bench -p callproof-search --bench scale                 # 10 M segments
//!     SCALE_SEGMENTS=1000000 cargo bench -p callproof-search --bench scale
//!
//! The index is kept in `target/scale-index-<N>` and reused by later runs (delete it to
//! re-measure indexing). Not run by CI.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use callproof_models::{CallId, CallMetadata, Segment, Speaker, Transcript, Word};
use callproof_search::{SearchIndex, SearchRequest};
use chrono::{DateTime, FixedOffset, TimeZone};

/// Deterministic xorshift: the same index every run, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const AGENT_FR: &[&str] = &[
    "bonjour madame je suis {name} de la société isosell",
    "je vous appelle de la part d'électricité du centre",
    "il s'agit d'un appel commercial",
    "vous pouvez vous inscrire sur la liste bloctel",
    "notre offre coûte {num} euros par mois",
    "vous disposez d'un délai de rétractation de quatorze jours",
    "je vous envoie le contrat par courrier pour signature",
    "acceptez-vous cette offre",
    "le prix est garanti pendant deux ans",
    "l'installation est gratuite et le technicien passe la semaine prochaine",
    "merci beaucoup et bonne journée",
    "puis-je vous rappeler le mois prochain",
];
const CUSTOMER_FR: &[&str] = &[
    "oui je vous écoute",
    "d'accord c'est intéressant",
    "oui je confirme mon accord pour cette offre",
    "non merci je ne suis pas intéressé",
    "je refuse merci de ne plus m'appeler",
    "combien cela coûte-t-il",
    "il faut que j'en parle à mon mari",
    "envoyez-moi le devis par courrier",
    "qui êtes-vous exactement",
    "et si je change d'avis après la signature",
];
const AGENT_EN: &[&str] = &[
    "good morning my name is {name} calling on behalf of bright energy",
    "this is a sales call and it is being recorded",
    "the price is {num} pounds per month",
    "you have a fourteen day cancellation period",
    "this offer expires today",
    "would you like to switch to this tariff today",
];
const CUSTOMER_EN: &[&str] = &[
    "yes i agree to switch to the new tariff",
    "no thank you i am not interested",
    "what does that include",
    "please remove my number from your list",
    "that sounds reasonable",
];
const NAMES: &[&str] = &[
    "julie martin",
    "thomas petit",
    "sophie bernard",
    "marc durand",
    "claire moreau",
    "sarah collins",
];

fn segment_text(rng: &mut Rng, speaker: Speaker, english: bool) -> String {
    let pool = match (speaker, english) {
        (Speaker::Agent, false) => AGENT_FR,
        (Speaker::Agent, true) => AGENT_EN,
        (_, false) => CUSTOMER_FR,
        (_, true) => CUSTOMER_EN,
    };
    rng.pick(pool)
        .replace("{name}", rng.pick(NAMES))
        .replace("{num}", &(10 + rng.next() % 90).to_string())
}

fn synthetic_call(rng: &mut Rng, n_segments: usize) -> (Transcript, CallMetadata) {
    let english = rng.next().is_multiple_of(5);
    let base: DateTime<FixedOffset> = FixedOffset::east_opt(3600)
        .and_then(|tz| tz.with_ymd_and_hms(2025, 1, 1, 9, 0, 0).single())
        .expect("valid date");
    let started = base + chrono::Duration::minutes((rng.next() % (2 * 365 * 24 * 60)) as i64);
    let mut t = 0u64;
    let segments = (0..n_segments)
        .map(|i| {
            let speaker = if i % 2 == 0 {
                Speaker::Agent
            } else {
                Speaker::Customer
            };
            let text = segment_text(rng, speaker, english);
            let start = t;
            let words: Vec<Word> = text
                .split_whitespace()
                .map(|w| {
                    t += 350;
                    Word {
                        text: w.into(),
                        start_ms: t - 350,
                        end_ms: t,
                        probability: 0.9,
                    }
                })
                .collect();
            t += 600;
            Segment {
                speaker,
                channel: (i % 2) as u16,
                start_ms: start,
                end_ms: t,
                text,
                avg_logprob: -0.3,
                no_speech_prob: 0.01,
                words,
                attribution: Default::default(),
                second_listen: false,
                heard_first: None,
                disputed: false,
            }
        })
        .collect();
    let meta = CallMetadata {
        client: format!("client-{:02}", rng.next() % 50),
        campaign: Some(format!("campaign-{:03}", rng.next() % 200)),
        agent: Some(format!("agent-{:04}", rng.next() % 2000)),
        started_at: Some(started),
        language: Some(if english { "en" } else { "fr" }.into()),
        ..Default::default()
    };
    let transcript = Transcript {
        near_readings: Vec::new(),
        call_id: CallId::new(),
        model: "synthetic".into(),
        model_sha256: String::new(),
        language: meta.language.clone().unwrap_or_default(),
        segments,
    };
    (transcript, meta)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn main() {
    let total: usize = std::env::var("SCALE_SEGMENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../target/scale-index-{total}"));
    let fresh = !dir.join("meta.json").exists();
    let index = SearchIndex::open(&dir).expect("open index");
    if fresh || index.segment_count() < total as u64 {
        let started = Instant::now();
        let mut bulk = index.bulk(2, 1 << 30).expect("writer");
        let mut rng = Rng(0x5eed_ca11);
        let mut done = 0usize;
        while done < total {
            let n = (14 + rng.next() % 14) as usize;
            let n = n.min(total - done);
            let (t, m) = synthetic_call(&mut rng, n);
            bulk.add_call(&t, &m, None).expect("add");
            done += n;
            if done % 1_000_000 < n {
                eprintln!(
                    "  {done} segments, {:.0} s",
                    started.elapsed().as_secs_f64()
                );
            }
        }
        bulk.commit(&index).expect("commit");
        let secs = started.elapsed().as_secs_f64();
        println!(
            "indexed {total} segments in {secs:.1} s: {:.0} segments/s",
            total as f64 / secs
        );
    } else {
        println!(
            "reusing the index of {} segments in {}",
            index.segment_count(),
            dir.display()
        );
    }
    let size: u64 = std::fs::read_dir(&dir)
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);
    println!(
        "index size: {:.2} GB, {} segments",
        size as f64 / 1e9,
        index.segment_count()
    );

    let from = DateTime::parse_from_rfc3339("2025-06-01T00:00:00+02:00").ok();
    let to = DateTime::parse_from_rfc3339("2025-07-01T00:00:00+02:00").ok();
    let cases: Vec<(&str, Vec<SearchRequest>)> = vec![
        (
            "word",
            ["rétractation", "bloctel", "tariff", "courrier", "mari"]
                .iter()
                .map(|q| SearchRequest {
                    query: q.to_string(),
                    ..Default::default()
                })
                .collect(),
        ),
        (
            "phrase",
            [
                "\"confirme mon accord\"",
                "\"offer expires today\"",
                "\"liste bloctel\"",
                "\"ne suis pas intéressé\"",
            ]
            .iter()
            .map(|q| SearchRequest {
                query: q.to_string(),
                ..Default::default()
            })
            .collect(),
        ),
        (
            "filtered",
            (0..10)
                .map(|i| SearchRequest {
                    query: "accord".into(),
                    client: Some(format!("client-{:02}", i * 3)),
                    speaker: Some(Speaker::Customer),
                    from,
                    to,
                    ..Default::default()
                })
                .collect(),
        ),
        (
            "fuzzy",
            ["retractation", "blocktel", "tarif", "couriers"]
                .iter()
                .map(|q| SearchRequest {
                    query: q.to_string(),
                    fuzzy: true,
                    ..Default::default()
                })
                .collect(),
        ),
        (
            // As a client or agent key asks: scored with its tenants' statistics only.
            "tenant",
            (0..10)
                .map(|i| SearchRequest {
                    query: ["accord", "rétractation"][i % 2].into(),
                    tenants: Some(vec![format!("client-{:02}", i * 3)]),
                    ..Default::default()
                })
                .collect(),
        ),
    ];
    println!("| query | runs | p50 (ms) | p99 (ms) | calls returned (first query) |");
    println!("|---|---|---|---|---|");
    for (name, requests) in cases {
        // Warm the caches the way a running server would be. The first query of a tenant
        // after a commit finds which documents are its own (per segment): timed apart.
        let mut cold = Vec::new();
        for r in &requests {
            let t = Instant::now();
            let _ = index.search(r);
            cold.push(t.elapsed());
        }
        if name == "tenant" {
            cold.sort();
            println!(
                "| tenant, first query of each tenant (its documents found) | {} | {:.1} | {:.1} | |",
                cold.len(),
                percentile(&cold, 0.5),
                percentile(&cold, 0.99)
            );
        }
        let mut times = Vec::new();
        let mut first_hits = 0;
        for round in 0..40 {
            for r in &requests {
                let t = Instant::now();
                let hits = index.search(r).expect("search");
                times.push(t.elapsed());
                if round == 0 && first_hits == 0 {
                    first_hits = hits.len();
                }
            }
        }
        times.sort();
        println!(
            "| {name} | {} | {:.1} | {:.1} | {first_hits} |",
            times.len(),
            percentile(&times, 0.5),
            percentile(&times, 0.99)
        );
    }
}
