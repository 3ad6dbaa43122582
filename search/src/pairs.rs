//! Exact phrases answered from an index of adjacent word pairs.
//!
//! A phrase query over single words reads the positions of every segment holding all its words;
//! in sales calls the words of a consent phrase ("je confirme mon accord") are among the most
//! frequent, so at millions of segments that reading dominated search time. Indexing each pair
//! of adjacent words as one term ("confirme mon", "mon accord") makes a two-word phrase a single
//! term lookup and a longer one a phrase over much rarer pair terms.
//!
//! Pairs are lowercased and accent-folded but not stemmed: a quoted phrase means these words in
//! this order, whatever the call's language, which is also what a dispute needs.

use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, PreTokenizedStream, PreTokenizedString, RemoveLongFilter,
    SimpleTokenizer, TextAnalyzer, Token, Tokenizer,
};

/// Name under which the pair tokenizer is registered with the index.
pub(crate) const PAIRS: &str = "callproof_pairs";
/// The indexed field that holds the pairs; quoted phrases are routed to it.
pub(crate) const PAIRS_FIELD: &str = "text_pairs";

fn words() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// Emits one token per pair of adjacent words, at the position of the pair's first word.
#[derive(Clone)]
pub(crate) struct WordPairs {
    words: TextAnalyzer,
}

impl Default for WordPairs {
    fn default() -> Self {
        Self { words: words() }
    }
}

impl Tokenizer for WordPairs {
    type TokenStream<'a> = PreTokenizedStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        let mut single: Vec<Token> = Vec::new();
        self.words
            .token_stream(text)
            .process(&mut |t| single.push(t.clone()));
        let tokens = single
            .windows(2)
            .enumerate()
            .map(|(position, w)| Token {
                offset_from: w[0].offset_from,
                offset_to: w[1].offset_to,
                position,
                text: format!("{} {}", w[0].text, w[1].text),
                position_length: 1,
            })
            .collect();
        PreTokenizedStream::from(PreTokenizedString {
            text: String::new(),
            tokens,
        })
    }
}

/// Rewrites each quoted phrase of two words or more to address the pair field, so the query
/// parser builds it from pair terms. Phrases already given a field, with a slop (`"…"~2`) or as
/// a prefix (`"…"*`) keep their meaning and are left as typed. `None` when nothing was routed.
pub(crate) fn route_phrases(query: &str) -> Option<String> {
    let mut words = words();
    let mut out = String::with_capacity(query.len() + 16);
    let mut rest = query;
    let mut routed = false;
    while let Some(open) = rest.find('"') {
        let (before, after_open) = (&rest[..open], &rest[open + 1..]);
        let Some(close) = after_open.find('"') else {
            break;
        };
        let (inner, tail) = (&after_open[..close], &after_open[close + 1..]);
        let plain = !before.ends_with(':') && !tail.starts_with(['~', '*']);
        let mut n = 0;
        words.token_stream(inner).process(&mut |_| n += 1);
        out.push_str(before);
        if plain && n >= 2 {
            out.push_str(PAIRS_FIELD);
            out.push(':');
            routed = true;
        }
        out.push('"');
        out.push_str(inner);
        out.push('"');
        rest = tail;
    }
    out.push_str(rest);
    routed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::tokenizer::TokenStream;

    fn pairs(text: &str) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        WordPairs::default()
            .token_stream(text)
            .process(&mut |t| out.push((t.text.clone(), t.position)));
        out
    }

    #[test]
    fn adjacent_words_become_folded_pairs() {
        assert_eq!(
            pairs("Je confirme, mon ACCORD d'Électricité"),
            vec![
                ("je confirme".to_string(), 0),
                ("confirme mon".to_string(), 1),
                ("mon accord".to_string(), 2),
                ("accord d".to_string(), 3),
                ("d electricite".to_string(), 4),
            ]
        );
        assert!(pairs("oui").is_empty());
    }

    #[test]
    fn only_plain_phrases_of_two_words_or_more_are_routed() {
        assert_eq!(
            route_phrases("\"confirme mon accord\" -\"ne suis pas\" contrat").as_deref(),
            Some("text_pairs:\"confirme mon accord\" -text_pairs:\"ne suis pas\" contrat")
        );
        assert_eq!(route_phrases("contrat \"accord\""), None);
        assert_eq!(route_phrases("text_fr:\"mon accord\""), None);
        assert_eq!(route_phrases("\"mon accord\"~1 \"mon acc\"*"), None);
        assert_eq!(route_phrases("\"unclosed phrase"), None);
        assert_eq!(
            route_phrases("\"mon accord\" \"unclosed").as_deref(),
            Some("text_pairs:\"mon accord\" \"unclosed")
        );
    }
}
