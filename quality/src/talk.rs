//! Who talked how long: talk time per speaker, the longest silence and overtalk, from a
//! transcript's segments. What a quality manager looks at before listening (a call where the
//! customer hardly spoke, a minute of dead air, an agent talking over the customer).

use std::collections::BTreeMap;

use callproof_models::{Speaker, Transcript};
use serde::Serialize;

/// Talk statistics of one call, in milliseconds.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TalkStats {
    /// Time each speaker was speaking (their own overlapping segments counted once).
    pub talk_ms: BTreeMap<Speaker, u64>,
    /// The longest stretch inside the call where nobody spoke, and where it starts.
    pub longest_silence_ms: u64,
    pub longest_silence_at_ms: u64,
    /// Time two or more speakers spoke at once.
    pub overtalk_ms: u64,
    /// Each speaker's share of the talk time, in percent (rounded).
    pub share_pct: BTreeMap<Speaker, u64>,
}

/// Merged [start, end) spans, sorted.
fn merge(mut spans: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    spans.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(spans.len());
    for (s, e) in spans {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

fn total(spans: &[(u64, u64)]) -> u64 {
    spans.iter().map(|(s, e)| e - s).sum()
}

/// The statistics of `t` over a call of `duration_ms` (silence at the start and the end of the
/// recording counts as silence).
pub fn talk_stats(t: &Transcript, duration_ms: u64) -> TalkStats {
    let mut per: BTreeMap<Speaker, Vec<(u64, u64)>> = BTreeMap::new();
    for s in &t.segments {
        if s.end_ms > s.start_ms {
            per.entry(s.speaker)
                .or_default()
                .push((s.start_ms, s.end_ms));
        }
    }
    let per: BTreeMap<Speaker, Vec<(u64, u64)>> =
        per.into_iter().map(|(k, v)| (k, merge(v))).collect();
    let talk_ms: BTreeMap<Speaker, u64> = per.iter().map(|(k, v)| (*k, total(v))).collect();
    let all = merge(per.values().flatten().copied().collect());
    // Overtalk: the sum of each speaker's talk minus the union counts every instant once per
    // extra voice; with two voices (the usual case) it is the overlap itself.
    let overtalk_ms = talk_ms.values().sum::<u64>() - total(&all);
    let end = duration_ms.max(all.last().map_or(0, |s| s.1));
    let (mut longest, mut at, mut cursor) = (0, 0, 0);
    for &(s, e) in all.iter().chain(std::iter::once(&(end, end))) {
        if s > cursor && s - cursor > longest {
            longest = s - cursor;
            at = cursor;
        }
        cursor = cursor.max(e);
    }
    let sum: u64 = talk_ms.values().sum();
    let share_pct = talk_ms
        .iter()
        .map(|(k, v)| (*k, (v * 100 + sum / 2).checked_div(sum).unwrap_or(0)))
        .collect();
    TalkStats {
        talk_ms,
        longest_silence_ms: longest,
        longest_silence_at_ms: at,
        overtalk_ms,
        share_pct,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use callproof_models::{CallId, Segment};

    fn seg(speaker: Speaker, start_ms: u64, end_ms: u64) -> Segment {
        Segment {
            speaker,
            channel: 0,
            start_ms,
            end_ms,
            text: String::new(),
            avg_logprob: 0.0,
            no_speech_prob: 0.0,
            words: Vec::new(),
            attribution: Default::default(),
            second_listen: false,
            heard_first: None,
            disputed: false,
        }
    }

    #[test]
    fn talk_silence_and_overtalk_are_counted_by_hand() {
        let t = Transcript {
            near_readings: Vec::new(),
            call_id: CallId::new(),
            model: String::new(),
            model_sha256: String::new(),
            language: "fr".into(),
            segments: vec![
                seg(Speaker::Agent, 1_000, 5_000),
                // The agent's own overlapping segments count once.
                seg(Speaker::Agent, 4_000, 6_000),
                // The customer talks over the agent for 1 s (5–6 s).
                seg(Speaker::Customer, 5_000, 8_000),
                // 12 s of silence (8–20 s), the longest.
                seg(Speaker::Agent, 20_000, 25_000),
            ],
        };
        let s = talk_stats(&t, 30_000);
        assert_eq!(s.talk_ms[&Speaker::Agent], 10_000);
        assert_eq!(s.talk_ms[&Speaker::Customer], 3_000);
        assert_eq!(s.overtalk_ms, 1_000);
        assert_eq!(
            (s.longest_silence_ms, s.longest_silence_at_ms),
            (12_000, 8_000)
        );
        assert_eq!(s.share_pct[&Speaker::Agent], 77);
        assert_eq!(s.share_pct[&Speaker::Customer], 23);
        // Silence at the end of the recording counts too.
        let s = talk_stats(&t, 60_000);
        assert_eq!(
            (s.longest_silence_ms, s.longest_silence_at_ms),
            (35_000, 25_000)
        );
        // No speech at all: one silence, the whole call.
        let empty = Transcript {
            segments: Vec::new(),
            ..t
        };
        let s = talk_stats(&empty, 9_000);
        assert_eq!((s.longest_silence_ms, s.overtalk_ms), (9_000, 0));
    }
}
