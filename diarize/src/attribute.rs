//! Giving a diarized channel's transcript its speakers: each word takes the speaker who holds
//! most of its time, and a segment is cut where the speaker changes, so that no segment puts
//! two people's words in one mouth.

use callproof_models::{Attribution, Segment};

use crate::Diarization;

/// The segments of one channel, cut at speaker changes, each with the diarized speaker index
/// (`None` where no speech was found under it) and its attribution. The caller turns speaker
/// indexes into roles.
pub fn attribute(segments: Vec<Segment>, d: &Diarization) -> Vec<(Option<usize>, Segment)> {
    let mut out = Vec::new();
    for seg in segments {
        if seg.words.is_empty() {
            let who = d.speaker_of(seg.start_ms, seg.end_ms);
            let mut s = seg;
            s.attribution = Attribution::diarization(who.map_or(0.0, |w| w.1));
            out.push((who.map(|w| w.0), s));
            continue;
        }
        let labels: Vec<Option<(usize, f32)>> = seg
            .words
            .iter()
            .map(|w| d.speaker_of(w.start_ms, w.end_ms.max(w.start_ms + 10)))
            .collect();
        // Runs of words with the same speaker.
        let mut start = 0;
        for i in 1..=labels.len() {
            let same = i < labels.len() && labels[i].map(|l| l.0) == labels[start].map(|l| l.0);
            if same {
                continue;
            }
            let words = seg.words[start..i].to_vec();
            let confidence = labels[start..i]
                .iter()
                .map(|l| l.map_or(0.0, |x| x.1))
                .fold(f32::MAX, f32::min);
            let piece = Segment {
                speaker: seg.speaker,
                channel: seg.channel,
                start_ms: if start == 0 {
                    seg.start_ms
                } else {
                    words[0].start_ms
                },
                end_ms: if i == labels.len() {
                    seg.end_ms
                } else {
                    words.last().map_or(seg.end_ms, |w| w.end_ms)
                },
                text: words
                    .iter()
                    .map(|w| w.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                avg_logprob: seg.avg_logprob,
                no_speech_prob: seg.no_speech_prob,
                words,
                attribution: Attribution::diarization(confidence),
                second_listen: false,
                heard_first: None,
                disputed: false,
            };
            out.push((labels[start].map(|l| l.0), piece));
            start = i;
        }
    }
    out
}

/// One copy of `samples` per speaker, silent except where that speaker talks (turns widened by
/// `pad_ms` on each side so word edges are not clipped). Each copy is then transcribed alone,
/// as a stereo channel is: the recogniser hears one voice at a time, the way it does on stereo
/// calls. Speech the diarization did not place (no speaker within a second) goes to every
/// copy rather than be lost; [`attribute_track`] keeps each word once.
pub fn voice_tracks(samples: &[f32], d: &Diarization, pad_ms: u64) -> Vec<Vec<f32>> {
    let per_frame = crate::mel::HOP;
    let frames = samples.len().div_ceil(per_frame);
    // The speaker of each 10 ms frame: its own label, else the nearest within a second.
    let mut owner: Vec<Option<usize>> = (0..frames)
        .map(|t| d.frames.get(t).copied().flatten().map(|f| f.0))
        .collect();
    let reach = 100;
    let labelled: Vec<(usize, usize)> = owner
        .iter()
        .enumerate()
        .filter_map(|(t, o)| o.map(|s| (t, s)))
        .collect();
    for (t, slot) in owner.iter_mut().enumerate() {
        if slot.is_some() {
            continue;
        }
        let i = labelled.partition_point(|(x, _)| *x < t);
        let near = [i.checked_sub(1), Some(i)]
            .into_iter()
            .flatten()
            .filter_map(|j| labelled.get(j))
            .min_by_key(|(x, _)| x.abs_diff(t));
        if let Some((x, s)) = near {
            if x.abs_diff(t) <= reach {
                *slot = Some(*s);
            }
        }
    }
    let pad = (pad_ms / 10) as usize;
    (0..d.speakers.max(1))
        .map(|k| {
            let mut keep = vec![false; frames];
            for (t, o) in owner.iter().enumerate() {
                if *o == Some(k) || o.is_none() {
                    for x in keep
                        .iter_mut()
                        .take((t + pad + 1).min(frames))
                        .skip(t.saturating_sub(pad))
                    {
                        *x = true;
                    }
                }
            }
            samples
                .iter()
                .enumerate()
                .map(|(i, x)| if keep[i / per_frame] { *x } else { 0.0 })
                .collect()
        })
        .collect()
}

/// The segments transcribed from speaker `k`'s track, cut at speaker changes, keeping only the
/// words diarization gives to `k` (the others were heard in their own speaker's track too, in
/// its padding) and those it gives to nobody.
pub fn attribute_track(
    segments: Vec<Segment>,
    d: &Diarization,
    k: usize,
) -> Vec<(Option<usize>, Segment)> {
    attribute(segments, d)
        .into_iter()
        .filter(|(who, _)| who.is_none_or(|w| w == k))
        .map(|(who, s)| (who.or(Some(k)), s))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use callproof_models::{AttributionSource, Speaker, Word};

    /// Two voices over `frames` 10 ms frames: `a` frames speaker 0, `b` frames speaker 1.
    fn two_voices(
        frames: usize,
        a: std::ops::Range<usize>,
        ca: f32,
        b: std::ops::Range<usize>,
        cb: f32,
    ) -> Diarization {
        let mut d = Diarization {
            speakers: 2,
            frames: vec![None; frames],
            ..Default::default()
        };
        for t in a {
            d.frames[t] = Some((0, ca));
        }
        for t in b {
            d.frames[t] = Some((1, cb));
        }
        d
    }

    /// An undiarized segment of timed words.
    fn segment(words: &[(&str, u64, u64)]) -> Segment {
        Segment {
            speaker: Speaker::Unknown,
            channel: 0,
            start_ms: words[0].1,
            end_ms: words[words.len() - 1].2,
            text: String::new(),
            avg_logprob: -0.2,
            no_speech_prob: 0.01,
            words: words
                .iter()
                .map(|(t, s, e)| Word {
                    text: t.to_string(),
                    start_ms: *s,
                    end_ms: *e,
                    probability: 0.9,
                })
                .collect(),
            attribution: Default::default(),
            second_listen: false,
            heard_first: None,
            disputed: false,
        }
    }

    #[test]
    fn a_segment_spanning_two_voices_is_cut_between_them() {
        let d = two_voices(300, 0..150, 0.9, 160..300, 0.7);
        let seg = segment(&[
            ("Acceptez-vous", 0, 900),
            ("?", 900, 1400),
            ("Oui,", 1650, 2000),
            ("j'accepte.", 2000, 2900),
        ]);
        let out = attribute(vec![seg], &d);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].0, Some(0));
        assert_eq!(out[0].1.text, "Acceptez-vous ?");
        assert_eq!(out[1].0, Some(1));
        assert_eq!(out[1].1.text, "Oui, j'accepte.");
        assert_eq!((out[1].1.start_ms, out[1].1.end_ms), (1650, 2900));
        assert_eq!(out[1].1.attribution.source, AttributionSource::Diarization);
        assert!((out[1].1.attribution.confidence - 0.7).abs() < 1e-6);
        // Every word kept once, in order.
        let words: Vec<_> = out.iter().flat_map(|(_, s)| s.words.iter()).collect();
        assert_eq!(words.len(), 4);
    }

    #[test]
    fn each_voice_track_keeps_its_speaker_and_a_margin() {
        let d = two_voices(100, 0..40, 1.0, 60..100, 1.0);
        let samples = vec![1.0f32; 100 * 160];
        let tracks = voice_tracks(&samples, &d, 50);
        assert_eq!(tracks.len(), 2);
        // Speaker 0's track: its turn, 50 ms after it, and the unplaced pause nearest to it.
        assert_eq!(tracks[0][30 * 160], 1.0);
        assert_eq!(tracks[0][44 * 160], 1.0);
        assert_eq!(tracks[0][80 * 160], 0.0);
        assert_eq!(tracks[1][30 * 160], 0.0);
        assert_eq!(tracks[1][80 * 160], 1.0);
        // Every sample is in at least one track: nothing said is lost.
        assert!((0..samples.len()).all(|i| tracks[0][i] + tracks[1][i] > 0.0));
    }

    #[test]
    fn a_word_heard_in_two_tracks_is_kept_once() {
        let d = two_voices(300, 0..150, 0.9, 150..300, 0.9);
        // Track 0 heard the first word of speaker 1 in its margin, and track 1 heard it too.
        let t0 = attribute_track(
            vec![segment(&[("Bonjour", 0, 1400), ("Oui", 1550, 1800)])],
            &d,
            0,
        );
        let t1 = attribute_track(
            vec![segment(&[("Oui", 1550, 1800), ("merci", 1800, 2500)])],
            &d,
            1,
        );
        let all: Vec<&str> = t0
            .iter()
            .chain(&t1)
            .flat_map(|(_, s)| s.words.iter().map(|w| w.text.as_str()))
            .collect();
        assert_eq!(all, ["Bonjour", "Oui", "merci"]);
    }
}
