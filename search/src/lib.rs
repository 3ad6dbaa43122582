//! Full-text search over call transcripts, with tantivy.
//!
//! One document per transcript segment carries the call's metadata, so that filters (client,
//! campaign, agent, speaker, dates) and words are answered by one query, and hits can be grouped
//! back into calls with the exact segments and times to play. The text is indexed twice, with a
//! French and an English analyzer, because calls are mostly French and sometimes English.
//! The index is derived data: the catalog's transcripts can always rebuild it.

mod pairs;
mod tenant_stats;

use std::collections::{HashMap, HashSet};
use std::ops::Bound;
use std::path::Path;

use callproof_models::{CallHit, CallId, SegmentHit, Speaker, Transcript, Verdict, Verification};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::query::{
    Bm25StatisticsProvider, BooleanQuery, Occur, Query, QueryParser, RangeQuery, TermQuery,
};
use tantivy::schema::{
    DateOptions, DateTimePrecision, Field, IndexRecordOption, NumericOptions, Schema,
    TextFieldIndexing, TextOptions, Value, STORED, STRING,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    TextAnalyzer,
};
use tantivy::{doc, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("could not understand the query {query:?}: {detail}. Use words, \"exact phrases\", AND, OR, NOT or -word")]
    Query { query: String, detail: String },
    #[error("the search index at {path} cannot be opened: {detail}; if it is damaged, remove the folder and run `callproof reindex`")]
    Open { path: String, detail: String },
    #[error("the search index is in use by another callproof process; retry when it has finished")]
    Locked,
    #[error("the search index at {path} was built by an older callproof (its fields differ); remove the folder and run `callproof reindex`")]
    Outdated { path: String },
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
}

/// The longest query text accepted, in characters: a real dispute search is a few words; the
/// query parser's work (and a fuzzy term's automaton) grows with it.
pub const MAX_QUERY_CHARS: usize = 1000;
/// The deepest nesting of parentheses accepted: the query parser recurses once per level, and
/// thousands of levels overflow its stack and abort the process.
pub const MAX_QUERY_DEPTH: usize = 16;

/// What a query text may be, checked before it is parsed. The defaults are the constants above;
/// the binary lets an operator change them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryLimits {
    pub max_chars: usize,
    pub max_depth: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        Self {
            max_chars: MAX_QUERY_CHARS,
            max_depth: MAX_QUERY_DEPTH,
        }
    }
}

impl QueryLimits {
    /// Refuses, before parsing, a query longer or more deeply nested than the limits, or one
    /// using query forms callproof does not offer.
    fn check(&self, q: &str) -> Result<(), SearchError> {
        let refuse = |detail: String| {
            Err(SearchError::Query {
                query: q.chars().take(80).collect::<String>()
                    + if q.chars().count() > 80 { "…" } else { "" },
                detail,
            })
        };
        let (max_chars, max_depth) = (self.max_chars, self.max_depth);
        let chars = q.chars().count();
        if chars > max_chars {
            return refuse(format!(
                "it is {chars} characters long and at most {max_chars} are accepted: keep the words that matter and use filters (client, agent, dates, phone, contract) for the rest"
            ));
        }
        let (mut depth, mut deepest, mut quoted) = (0usize, 0usize, false);
        for c in q.chars() {
            match c {
                '"' => quoted = !quoted,
                '(' if !quoted => {
                    depth += 1;
                    deepest = deepest.max(depth);
                }
                ')' if !quoted => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        if deepest > max_depth {
            return refuse(format!(
                "its parentheses nest {deepest} deep and at most {max_depth} levels are accepted: flatten the query"
            ));
        }
        // Parsed once more by tantivy's grammar (bounded now) to refuse the forms that only
        // fail when run (`client:*` needs a fast field) or cost more than words do.
        if let Ok(ast) = tantivy::query_grammar::parse_query(q) {
            if let Some(form) = unsupported_form(&ast) {
                return refuse(format!(
                    "{form} are not supported in a callproof search: search words and \"phrases\", and use the filters (client, agent, dates, phone, contract, verdict) for the rest"
                ));
            }
        }
        Ok(())
    }
}

/// The first query form of `ast` that callproof refuses, named for the person who wrote it.
fn unsupported_form(ast: &tantivy::query_grammar::UserInputAst) -> Option<&'static str> {
    use tantivy::query_grammar::{UserInputAst, UserInputLeaf};
    match ast {
        UserInputAst::Clause(clauses) => clauses.iter().find_map(|(_, c)| unsupported_form(c)),
        UserInputAst::Boost(inner, _) => unsupported_form(inner),
        UserInputAst::Leaf(leaf) => match leaf.as_ref() {
            UserInputLeaf::Exists { .. } => Some("field:* (exists) queries"),
            UserInputLeaf::Regex { .. } => Some("regular expressions"),
            UserInputLeaf::Range { .. } => Some("ranges ([a TO b])"),
            UserInputLeaf::Set { .. } => Some("sets (IN [a b])"),
            UserInputLeaf::Literal(_) | UserInputLeaf::All => None,
        },
    }
}

/// Filters and paging of a search.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SearchRequest {
    /// Words, phrases and boolean operators. Empty matches every segment (filters only).
    pub query: String,
    pub client: Option<String>,
    pub campaign: Option<String>,
    pub agent: Option<String>,
    pub speaker: Option<Speaker>,
    /// Calls that started at or after this instant.
    pub from: Option<DateTime<FixedOffset>>,
    /// Calls that started before this instant.
    pub to: Option<DateTime<FixedOffset>>,
    /// Maximum number of calls returned (default 20).
    pub limit: Option<usize>,
    /// Let each word match words one edit away (ASR misspellings: "retractation" ~ "rétraction").
    #[serde(default)]
    pub fuzzy: bool,
    /// Calls with this verdict (also `verdict:violation` in the query).
    #[serde(default)]
    pub verdict: Option<Verdict>,
    /// Calls where this rule is broken or needs review (also `rule:withdrawal_14d`).
    #[serde(default)]
    pub rule: Option<String>,
    /// The customer's phone in E.164 ("+33612345678").
    #[serde(default)]
    pub customer_phone: Option<String>,
    /// The contract reference given at ingestion.
    #[serde(default)]
    pub contract_ref: Option<String>,
    /// The tenants the caller may see; None for all. Set by the server from the caller's key,
    /// never from the request, so that isolation holds inside the index query itself.
    #[serde(skip)]
    pub tenants: Option<Vec<String>>,
}

const FR: &str = "callproof_fr";
const EN: &str = "callproof_en";
/// Matching segments gathered before grouping, per call asked for: enough to fill the page
/// with calls, few enough that loading stored segments stays fast on large indexes.
const SEGMENTS_PER_CALL: usize = 10;
const MAX_SEGMENTS: usize = 2000;

#[derive(Clone, Copy)]
struct Fields {
    call_id: Field,
    client: Field,
    campaign: Field,
    agent: Field,
    speaker: Field,
    start_ms: Field,
    end_ms: Field,
    started_at: Field,
    /// The call's UTC offset, so hits show the start time as it was on the caller's clock.
    started_offset_s: Field,
    text_fr: Field,
    text_en: Field,
    /// Adjacent word pairs, for exact phrases (see `pairs`).
    text_pairs: Field,
    words: Field,
    /// The call's verdict, on every segment so filters and words combine in one query.
    verdict: Field,
    /// Rules the call broke or that need review.
    rule: Field,
    customer_phone: Field,
    contract_ref: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |tokenizer: &str, stored: bool| {
        let opts = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        if stored {
            opts.set_stored()
        } else {
            opts
        }
    };
    let num = NumericOptions::default()
        .set_indexed()
        .set_stored()
        .set_fast();
    let fields = Fields {
        call_id: b.add_text_field("call_id", STRING | STORED),
        client: b.add_text_field("client", STRING | STORED),
        campaign: b.add_text_field("campaign", STRING | STORED),
        agent: b.add_text_field("agent", STRING | STORED),
        speaker: b.add_text_field("speaker", STRING | STORED),
        start_ms: b.add_u64_field("start_ms", num.clone()),
        end_ms: b.add_u64_field("end_ms", num),
        started_at: b.add_date_field(
            "started_at",
            DateOptions::default()
                .set_indexed()
                .set_stored()
                .set_fast()
                .set_precision(DateTimePrecision::Seconds),
        ),
        started_offset_s: b.add_i64_field("started_offset_s", STORED),
        text_fr: b.add_text_field("text_fr", text(FR, true)),
        text_en: b.add_text_field("text_en", text(EN, false)),
        text_pairs: b.add_text_field(pairs::PAIRS_FIELD, text(pairs::PAIRS, false)),
        words: b.add_text_field("words", STORED),
        verdict: b.add_text_field("verdict", STRING | STORED),
        rule: b.add_text_field("rule", STRING),
        customer_phone: b.add_text_field("customer_phone", STRING),
        contract_ref: b.add_text_field("contract_ref", STRING | STORED),
    };
    (b.build(), fields)
}

fn analyzer(language: Language) -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(language))
        .build()
}

/// The commit payload's prefix for the change-log position.
const FOLLOWED: &str = "followed=";

/// The segment index of one data folder.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    f: Fields,
    /// Which documents of each segment belong to which tenants, for per-tenant BM25.
    views: tenant_stats::ViewCache,
    query_limits: QueryLimits,
}

/// Adds calls to the index; nothing is visible until [`BulkIndexer::commit`].
pub struct BulkIndexer {
    writer: IndexWriter,
    f: Fields,
}

impl BulkIndexer {
    /// Adds a call's segments, replacing any it had.
    pub fn replace_call(
        &mut self,
        t: &Transcript,
        meta: &callproof_models::CallMetadata,
        verification: Option<&Verification>,
    ) -> Result<(), SearchError> {
        self.writer.delete_term(Term::from_field_text(
            self.f.call_id,
            &t.call_id.to_string(),
        ));
        self.add_call(t, meta, verification)
    }

    /// Adds a call's segments, for a call known not to be indexed yet.
    pub fn add_call(
        &mut self,
        t: &Transcript,
        meta: &callproof_models::CallMetadata,
        verification: Option<&Verification>,
    ) -> Result<(), SearchError> {
        let f = self.f;
        for seg in &t.segments {
            let words: Vec<StoredWord> = seg
                .words
                .iter()
                .map(|w| StoredWord {
                    t: w.text.clone(),
                    s: w.start_ms,
                    e: w.end_ms,
                })
                .collect();
            let mut d = doc!(
                f.call_id => t.call_id.to_string(),
                f.client => meta.client.clone(),
                f.speaker => seg.speaker.as_str(),
                f.start_ms => seg.start_ms,
                f.end_ms => seg.end_ms,
                f.text_fr => seg.text.clone(),
                f.text_en => seg.text.clone(),
                f.text_pairs => seg.text.clone(),
                f.words => serde_json::to_string(&words).unwrap_or_default(),
            );
            if let Some(c) = &meta.campaign {
                d.add_text(f.campaign, c);
            }
            if let Some(a) = &meta.agent {
                d.add_text(f.agent, a);
            }
            if let Some(p) = &meta.customer_phone {
                d.add_text(f.customer_phone, p);
            }
            if let Some(c) = &meta.contract_ref {
                d.add_text(f.contract_ref, c);
            }
            if let Some(s) = meta.started_at {
                d.add_date(
                    f.started_at,
                    tantivy::DateTime::from_timestamp_secs(s.timestamp()),
                );
                d.add_i64(f.started_offset_s, s.offset().local_minus_utc() as i64);
            }
            if let Some(v) = verification {
                d.add_text(f.verdict, v.verdict.as_str());
                for r in v.flagged_rules() {
                    d.add_text(f.rule, r);
                }
            }
            self.writer.add_document(d)?;
        }
        Ok(())
    }

    /// Removes every document of a call.
    pub fn remove_call(&mut self, call: callproof_models::CallId) {
        self.writer
            .delete_term(Term::from_field_text(self.f.call_id, &call.to_string()));
    }

    /// Makes everything added visible to `index`'s searches. The position in the catalog's
    /// change log that the index has followed to is kept as it was.
    pub fn commit(self, index: &SearchIndex) -> Result<(), SearchError> {
        // This writer holds the index's lock: no other commit can come in between.
        let followed = index.followed()?;
        self.commit_followed(index, followed)
    }

    /// Commits, recording that the index now reflects the catalog's change log up to
    /// `followed`: the documents and the position are written in one commit, so a node that
    /// stops in between neither skips nor loses a change.
    pub fn commit_followed(
        mut self,
        index: &SearchIndex,
        followed: u64,
    ) -> Result<(), SearchError> {
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(&format!("{FOLLOWED}{followed}"));
        prepared.commit()?;
        self.writer.wait_merging_threads()?;
        index.reader.reload()?;
        Ok(())
    }
}

/// A search as tantivy queries.
struct Built {
    /// What runs: words, routed phrases and filters.
    run: Box<dyn Query>,
    /// The user's words parsed against the text fields alone: phrases run on word pairs, but
    /// snippets and play-from times are found in the words.
    words: Box<dyn Query>,
}

/// Stored per segment so a hit can say which word matched and when.
#[derive(Serialize, Deserialize)]
struct StoredWord {
    t: String,
    s: u64,
    e: u64,
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it on first use.
    pub fn open(dir: &Path) -> Result<Self, SearchError> {
        let open_err = |detail: String| SearchError::Open {
            path: dir.display().to_string(),
            detail,
        };
        std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        let (schema, f) = schema();
        let directory =
            tantivy::directory::MmapDirectory::open(dir).map_err(|e| open_err(e.to_string()))?;
        let index = match Index::open_or_create(directory, schema) {
            Ok(i) => i,
            Err(tantivy::TantivyError::SchemaError(_)) => {
                return Err(SearchError::Outdated {
                    path: dir.display().to_string(),
                })
            }
            Err(e) => return Err(open_err(e.to_string())),
        };
        index.tokenizers().register(FR, analyzer(Language::French));
        index.tokenizers().register(EN, analyzer(Language::English));
        index
            .tokenizers()
            .register(pairs::PAIRS, pairs::WordPairs::default());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::OnCommitWithDelay)
            .try_into()?;
        Ok(Self {
            index,
            reader,
            f,
            views: Default::default(),
            query_limits: QueryLimits::default(),
        })
    }

    fn writer(&self, threads: usize, heap_bytes: usize) -> Result<IndexWriter, SearchError> {
        match self.index.writer_with_num_threads(threads, heap_bytes) {
            Ok(w) => Ok(w),
            Err(tantivy::TantivyError::LockFailure(..)) => Err(SearchError::Locked),
            Err(e) => Err(e.into()),
        }
    }

    /// Indexes (or re-indexes) one call's transcript with its metadata; visible on return.
    pub fn index_call(
        &self,
        t: &Transcript,
        meta: &callproof_models::CallMetadata,
        verification: Option<&Verification>,
    ) -> Result<(), SearchError> {
        let mut bulk = BulkIndexer {
            writer: self.writer(1, 32_000_000)?,
            f: self.f,
        };
        bulk.replace_call(t, meta, verification)?;
        bulk.commit(self)
    }

    /// Removes every document of a call (erasure, retention); gone from searches on return.
    pub fn remove_call(&self, call: callproof_models::CallId) -> Result<(), SearchError> {
        let bulk = BulkIndexer {
            writer: self.writer(1, 32_000_000)?,
            f: self.f,
        };
        bulk.writer
            .delete_term(Term::from_field_text(self.f.call_id, &call.to_string()));
        bulk.commit(self)
    }

    /// A writer for loading many calls at once (re-indexing, benchmarks): one commit at the end
    /// instead of one per call.
    pub fn bulk(&self, threads: usize, heap_bytes: usize) -> Result<BulkIndexer, SearchError> {
        Ok(BulkIndexer {
            writer: self.writer(threads, heap_bytes)?,
            f: self.f,
        })
    }

    /// The position in the catalog's change log that this index reflects (0 for a new index).
    pub fn followed(&self) -> Result<u64, SearchError> {
        let payload = self.index.load_metas()?.payload;
        Ok(payload
            .as_deref()
            .and_then(|p| p.strip_prefix(FOLLOWED))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0))
    }

    /// Changes the limits every query text is checked against.
    pub fn set_query_limits(&mut self, limits: QueryLimits) {
        self.query_limits = limits;
    }

    /// Number of indexed segments.
    pub fn segment_count(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    fn build_query(&self, req: &SearchRequest) -> Result<Built, SearchError> {
        let f = self.f;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut words: Box<dyn Query> = Box::new(tantivy::query::EmptyQuery);
        let q = req.query.trim();
        self.query_limits.check(q)?;
        if !q.is_empty() {
            // `verdict:` and `rule:` address the call's verification; words go to the text.
            let mut parser = QueryParser::for_index(&self.index, vec![f.text_fr, f.text_en]);
            parser.set_conjunction_by_default();
            if req.fuzzy {
                parser.set_field_fuzzy(f.text_fr, false, 1, true);
                parser.set_field_fuzzy(f.text_en, false, 1, true);
            }
            let parse = |text: &str| {
                parser.parse_query(text).map_err(|e| SearchError::Query {
                    query: q.to_string(),
                    detail: e.to_string(),
                })
            };
            words = parse(q)?;
            let run = match pairs::route_phrases(q) {
                Some(routed) => parse(&routed)?,
                None => words.box_clone(),
            };
            clauses.push((Occur::Must, run));
        }
        let term = |field: Field, v: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, v),
                IndexRecordOption::Basic,
            ))
        };
        for (field, value) in [
            (f.client, req.client.as_deref()),
            (f.campaign, req.campaign.as_deref()),
            (f.agent, req.agent.as_deref()),
            (f.speaker, req.speaker.map(Speaker::as_str)),
            (f.verdict, req.verdict.map(Verdict::as_str)),
            (f.rule, req.rule.as_deref()),
            (f.customer_phone, req.customer_phone.as_deref()),
            (f.contract_ref, req.contract_ref.as_deref()),
        ] {
            if let Some(v) = value {
                clauses.push((Occur::Must, term(field, v)));
            }
        }
        if let Some(tenants) = &req.tenants {
            let allowed: Vec<(Occur, Box<dyn Query>)> = tenants
                .iter()
                .map(|t| (Occur::Should, term(f.client, t)))
                .collect();
            // No tenant at all matches nothing.
            clauses.push((
                Occur::Must,
                if allowed.is_empty() {
                    Box::new(tantivy::query::EmptyQuery)
                } else {
                    Box::new(BooleanQuery::new(allowed))
                },
            ));
        }
        if req.from.is_some() || req.to.is_some() {
            let bound = |t: Option<DateTime<FixedOffset>>, inclusive: bool| match t {
                None => Bound::Unbounded,
                Some(t) => {
                    let term = Term::from_field_date_for_search(
                        f.started_at,
                        tantivy::DateTime::from_timestamp_secs(t.timestamp()),
                    );
                    if inclusive {
                        Bound::Included(term)
                    } else {
                        Bound::Excluded(term)
                    }
                }
            };
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(bound(req.from, true), bound(req.to, false))),
            ));
        }
        if clauses.is_empty() {
            return Ok(Built {
                run: Box::new(tantivy::query::AllQuery),
                words,
            });
        }
        Ok(Built {
            run: Box::new(BooleanQuery::new(clauses)),
            words,
        })
    }

    /// Runs a search and groups matching segments by call, best call first.
    pub fn search(&self, req: &SearchRequest) -> Result<Vec<CallHit>, SearchError> {
        let f = self.f;
        let Built {
            run: query,
            words: words_query,
        } = self.build_query(req)?;
        let searcher = self.reader.searcher();
        let limit = req.limit.unwrap_or(20).max(1);
        let wanted = (limit * SEGMENTS_PER_CALL).min(MAX_SEGMENTS);
        let collector = TopDocs::with_limit(wanted).order_by_score();
        // A search limited to tenants is scored, and its snippets chosen, with statistics of
        // those tenants' documents only: nothing it shows may depend on another tenant's data.
        let view = match &req.tenants {
            Some(t) => Some(self.views.view(&searcher, f.client, t)?),
            None => None,
        };
        let stats = view.as_ref().map(|v| v.stats(&searcher));
        let top = match &stats {
            Some(stats) => searcher.search_with_statistics_provider(&*query, &collector, stats)?,
            None => searcher.search(&*query, &collector)?,
        };

        // Terms the query looks for, to find the first matching word of each segment.
        let mut fr_terms = HashSet::new();
        let mut en_terms = HashSet::new();
        words_query.query_terms(&mut |t: &Term, _| {
            if let Some(s) = t.value().as_str() {
                if t.field() == f.text_fr {
                    fr_terms.insert(s.to_string());
                } else if t.field() == f.text_en {
                    en_terms.insert(s.to_string());
                }
            }
        });
        let mut snippets = match &stats {
            None => SnippetGenerator::create(&searcher, &*words_query, f.text_fr)?,
            Some(stats) => {
                // As SnippetGenerator::create, with the tenants' document frequencies.
                let mut terms = std::collections::BTreeMap::new();
                let mut wanted_terms = Vec::new();
                words_query.query_terms(&mut |t: &Term, _| {
                    if t.field() == f.text_fr {
                        wanted_terms.push(t.clone());
                    }
                });
                for t in wanted_terms {
                    let Some(text) = t.value().as_str().map(str::to_string) else {
                        continue;
                    };
                    let df = stats.doc_freq(&t)?;
                    if df > 0 {
                        terms.insert(text, 1.0 / (1.0 + df as f32));
                    }
                }
                SnippetGenerator::new(
                    terms,
                    self.index.tokenizer_for_field(f.text_fr)?,
                    f.text_fr,
                    240,
                )
            }
        };
        snippets.set_max_num_chars(240);
        let mut fr = analyzer(Language::French);
        let mut en = analyzer(Language::English);

        let mut order: Vec<String> = Vec::new();
        let mut calls: HashMap<String, CallHit> = HashMap::new();
        for (score, addr) in top {
            let d: TantivyDocument = searcher.doc(addr)?;
            let text_of = |field: Field| {
                d.get_first(field)
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            };
            let u64_of = |field: Field| d.get_first(field).and_then(|v| v.as_u64()).unwrap_or(0);
            let Some(call_id) = text_of(f.call_id) else {
                continue;
            };
            let Ok(id) = call_id.parse::<CallId>() else {
                continue;
            };
            let text = text_of(f.text_fr).unwrap_or_default();
            let start_ms = u64_of(f.start_ms);
            let words: Vec<StoredWord> = text_of(f.words)
                .and_then(|w| serde_json::from_str(&w).ok())
                .unwrap_or_default();
            let matches = |a: &mut TextAnalyzer, set: &HashSet<String>, w: &str| {
                let mut stream = a.token_stream(w);
                let mut hit = false;
                while stream.advance() {
                    hit |= set.contains(&stream.token().text);
                }
                hit
            };
            // Where to start playing: the start of the longest run of consecutive matching
            // words (a phrase), else the first matching word. "D'accord, … je confirme mon
            // accord" plays from "confirme" for the phrase "confirme mon accord".
            let hit: Vec<bool> = words
                .iter()
                .map(|w| matches(&mut fr, &fr_terms, &w.t) || matches(&mut en, &en_terms, &w.t))
                .collect();
            let mut best: Option<(usize, usize)> = None;
            let mut i = 0;
            while i < hit.len() {
                if hit[i] {
                    let run = hit[i..].iter().take_while(|h| **h).count();
                    if best.is_none_or(|(_, len)| run > len) {
                        best = Some((i, run));
                    }
                    i += run;
                } else {
                    i += 1;
                }
            }
            let match_ms = best.map(|(i, _)| words[i].s).unwrap_or(start_ms);
            let snippet = {
                let s = snippets.snippet(&text);
                if s.is_empty() {
                    html_escape(&text)
                } else {
                    s.to_html()
                }
            };
            let seg = SegmentHit {
                speaker: text_of(f.speaker)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(Speaker::Unknown),
                start_ms,
                end_ms: u64_of(f.end_ms),
                match_ms,
                text,
                snippet,
                score,
            };
            let entry = calls.entry(call_id.clone()).or_insert_with(|| {
                order.push(call_id.clone());
                CallHit {
                    call_id: id,
                    client: text_of(f.client).unwrap_or_default(),
                    campaign: text_of(f.campaign),
                    agent: text_of(f.agent),
                    started_at: d
                        .get_first(f.started_at)
                        .and_then(|v| v.as_datetime())
                        .and_then(|t| {
                            let offset = d
                                .get_first(f.started_offset_s)
                                .and_then(|v| v.as_i64())
                                .and_then(|o| FixedOffset::east_opt(o as i32))
                                .or_else(|| FixedOffset::east_opt(0))?;
                            chrono::DateTime::from_timestamp(t.into_timestamp_secs(), 0)
                                .map(|utc| utc.with_timezone(&offset))
                        }),
                    verdict: text_of(f.verdict).and_then(|v| v.parse().ok()),
                    contract_ref: text_of(f.contract_ref),
                    score,
                    segments: Vec::new(),
                }
            });
            entry.score = entry.score.max(score);
            entry.segments.push(seg);
        }
        let mut out: Vec<CallHit> = order
            .into_iter()
            .filter_map(|id| calls.remove(&id))
            .take(limit)
            .collect();
        for c in &mut out {
            c.segments.sort_by_key(|s| s.start_ms);
        }
        Ok(out)
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use callproof_models::{CallMetadata, Segment, Word};

    fn seg(speaker: Speaker, start: u64, text: &str) -> Segment {
        let mut t = start;
        let words = text
            .split_whitespace()
            .map(|w| {
                t += 300;
                Word {
                    text: w.to_string(),
                    start_ms: t - 300,
                    end_ms: t,
                    probability: 0.9,
                }
            })
            .collect();
        Segment {
            speaker,
            channel: 0,
            start_ms: start,
            end_ms: t,
            text: text.to_string(),
            avg_logprob: -0.2,
            no_speech_prob: 0.0,
            words,
            attribution: Default::default(),
            second_listen: false,
            heard_first: None,
            disputed: false,
        }
    }

    fn call(client: &str, started: &str, segs: Vec<Segment>) -> (Transcript, CallMetadata) {
        let id = CallId::new();
        (
            Transcript {
                near_readings: Vec::new(),
                call_id: id,
                model: "test".into(),
                model_sha256: "0".into(),
                language: "fr".into(),
                segments: segs,
            },
            CallMetadata {
                client: client.into(),
                campaign: Some("hiver".into()),
                agent: Some("a1".into()),
                started_at: Some(DateTime::parse_from_rfc3339(started).unwrap()),
                ..Default::default()
            },
        )
    }

    /// 2,500 nested parentheses used to overflow the parser's stack and abort the server.
    #[test]
    fn queries_past_the_limits_are_refused_not_parsed() {
        let dir = tempfile::tempdir().unwrap();
        let idx = SearchIndex::open(dir.path()).unwrap();
        let ask = |q: String| {
            idx.search(&SearchRequest {
                query: q,
                ..Default::default()
            })
        };
        let deep = format!("{}accord{}", "(".repeat(2500), ")".repeat(2500));
        let err = ask(deep).unwrap_err().to_string();
        assert!(err.contains("characters long"), "{err}");
        let nested = format!("{}accord{}", "(".repeat(40), ")".repeat(40));
        let err = ask(nested).unwrap_err().to_string();
        assert!(err.contains("nest 40 deep"), "{err}");
        assert!(ask("x".repeat(100_000)).is_err());
        // Within the limits, and parentheses inside quotes do not count.
        let fine = format!("{}accord{}", "(".repeat(16), ")".repeat(16));
        assert!(ask(fine).is_ok());
        assert!(ask(format!("\"{}\"", "(".repeat(30))).is_ok());
        // Forms that failed only when run (a 500) or cost more than words are refused by name.
        for (q, gist) in [
            ("client:*", "exists"),
            ("text_fr:*", "exists"),
            ("IN [a b]", "sets"),
            ("client:[a TO z]", "ranges"),
        ] {
            let err = ask(q.into()).unwrap_err().to_string();
            assert!(err.contains(gist), "{q}: {err}");
        }
        // The limits are settings.
        let mut idx = idx;
        idx.set_query_limits(QueryLimits {
            max_chars: 10,
            max_depth: 1,
        });
        let err = idx
            .search(&SearchRequest {
                query: "accord client".into(),
                ..Default::default()
            })
            .unwrap_err()
            .to_string();
        assert!(err.contains("at most 10"), "{err}");
    }

    /// What a tenant sees — scores, order, snippets — does not move when another tenant adds
    /// calls (the whole index's BM25 statistics used to leak into it).
    #[test]
    fn scores_do_not_depend_on_other_tenants() {
        let dir = tempfile::tempdir().unwrap();
        let idx = SearchIndex::open(dir.path()).unwrap();
        let (t1, m1) = call(
            "acme",
            "2026-03-02T10:00:00+01:00",
            vec![
                seg(
                    Speaker::Customer,
                    0,
                    "je confirme mon accord pour le contrat",
                ),
                seg(
                    Speaker::Agent,
                    4000,
                    "merci pour votre accord et bonne journée",
                ),
            ],
        );
        let (t2, m2) = call(
            "acme",
            "2026-03-03T10:00:00+01:00",
            vec![seg(
                Speaker::Customer,
                0,
                "le contrat ne me convient pas du tout",
            )],
        );
        idx.index_call(&t1, &m1, None).unwrap();
        idx.index_call(&t2, &m2, None).unwrap();
        let ask = || {
            idx.search(&SearchRequest {
                query: "contrat".into(),
                tenants: Some(vec!["acme".into()]),
                ..Default::default()
            })
            .unwrap()
            .into_iter()
            .map(|c| {
                let segs: Vec<_> = c
                    .segments
                    .iter()
                    .map(|s| (s.score, s.snippet.clone()))
                    .collect();
                (c.call_id, c.score, segs)
            })
            .collect::<Vec<_>>()
        };
        let before = ask();
        assert_eq!(before.len(), 2);
        // Another tenant says "contrat" everywhere, in long segments.
        for i in 0..30 {
            let (t, m) = call(
                "globex",
                "2026-03-04T10:00:00+01:00",
                vec![seg(
                    Speaker::Agent,
                    0,
                    &format!("contrat contrat numéro {i} avec un texte beaucoup plus long que les autres segments de la base"),
                )],
            );
            idx.index_call(&t, &m, None).unwrap();
        }
        assert_eq!(ask(), before);
        // Without a tenant limit (an administrator), the whole index counts, as before.
        let all = idx
            .search(&SearchRequest {
                query: "contrat".into(),
                ..Default::default()
            })
            .unwrap();
        assert!(all.len() > 2);
    }

    #[test]
    fn words_phrases_filters_and_grouping() {
        let dir = tempfile::tempdir().unwrap();
        let idx = SearchIndex::open(dir.path()).unwrap();
        let (t1, m1) = call(
            "acme",
            "2026-03-02T10:00:00+01:00",
            vec![
                seg(
                    Speaker::Agent,
                    0,
                    "Bonjour, je vous appelle de la part d'Électricité du Centre",
                ),
                seg(
                    Speaker::Customer,
                    5000,
                    "Oui je confirme mon accord pour les contrats",
                ),
            ],
        );
        let (t2, m2) = call(
            "globex",
            "2026-04-02T10:00:00+02:00",
            vec![seg(Speaker::Customer, 1000, "Non, je refuse ce contrat")],
        );
        idx.index_call(&t1, &m1, None).unwrap();
        idx.index_call(&t2, &m2, None).unwrap();
        assert_eq!(idx.segment_count(), 3);

        // Stemming and accent folding: "contrat" finds "contrats", "electricite" finds "Électricité".
        let hits = idx
            .search(&SearchRequest {
                query: "contrat".into(),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(hits.len(), 2);
        let hits = idx
            .search(&SearchRequest {
                query: "electricite".into(),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].segments[0].speaker, Speaker::Agent);
        assert!(
            hits[0].segments[0].snippet.contains("<b>"),
            "{}",
            hits[0].segments[0].snippet
        );

        // Phrase: the exact order matters.
        let phrase = |q: &str| {
            idx.search(&SearchRequest {
                query: q.into(),
                ..Default::default()
            })
            .unwrap()
        };
        assert_eq!(phrase("\"confirme mon accord\"").len(), 1);
        assert_eq!(phrase("\"accord mon confirme\"").len(), 0);
        // Phrases run on word pairs: two words are one pair, case and accents do not matter,
        // the words must be adjacent, and the words are still highlighted.
        assert_eq!(phrase("\"Confirmé MON\"").len(), 1);
        assert_eq!(phrase("\"confirme accord\"").len(), 0);
        assert_eq!(phrase("\"confirme mon accord\" -\"je refuse\"").len(), 1);
        let hit = &phrase("\"mon accord\"")[0].segments[0];
        assert!(hit.snippet.contains("<b>mon</b>"), "{}", hit.snippet);
        assert_eq!(hit.match_ms, 5900);
        // The hit says where the matched word is said: "accord" is the 5th word, at 6200 ms.
        assert_eq!(phrase("accord")[0].segments[0].match_ms, 6200);

        // Filters.
        let only = |r: SearchRequest| idx.search(&r).unwrap();
        let r = only(SearchRequest {
            query: "contrat".into(),
            client: Some("globex".into()),
            ..Default::default()
        });
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].call_id, t2.call_id);
        let r = only(SearchRequest {
            query: "contrat".into(),
            speaker: Some(Speaker::Agent),
            ..Default::default()
        });
        assert!(r.is_empty());
        let r = only(SearchRequest {
            query: "contrat".into(),
            from: Some(DateTime::parse_from_rfc3339("2026-03-15T00:00:00Z").unwrap()),
            ..Default::default()
        });
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].client, "globex");
        // Start times come back on the caller's clock.
        assert_eq!(
            r[0].started_at.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-04-02T10:00:00+02:00")
        );
        // Fuzzy: a misspelling one edit away still finds the word.
        assert_eq!(phrase("refusse").len(), 0);
        let r = only(SearchRequest {
            query: "refusse".into(),
            fuzzy: true,
            ..Default::default()
        });
        assert_eq!(r.len(), 1);
        // A tenant restriction holds whatever the query asks for.
        let r = only(SearchRequest {
            query: "contrat".into(),
            client: Some("globex".into()),
            tenants: Some(vec!["acme".into()]),
            ..Default::default()
        });
        assert!(r.is_empty());
        let r = only(SearchRequest {
            query: "contrat".into(),
            tenants: Some(vec!["acme".into()]),
            ..Default::default()
        });
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].client, "acme");
        assert!(only(SearchRequest {
            query: "contrat".into(),
            tenants: Some(vec![]),
            ..Default::default()
        })
        .is_empty());
        // Boolean operators.
        assert_eq!(phrase("contrat -refuse").len(), 1);
        assert_eq!(phrase("refuse OR electricite").len(), 2);

        // Re-indexing a call replaces its segments instead of duplicating them.
        idx.index_call(&t1, &m1, None).unwrap();
        assert_eq!(idx.segment_count(), 3);
    }

    /// The change-log position is written with the documents, kept by commits that do not
    /// move it, and read back after reopening.
    #[test]
    fn the_followed_position_survives_commits_and_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let idx = SearchIndex::open(dir.path()).unwrap();
        assert_eq!(idx.followed().unwrap(), 0);
        let (t1, m1) = call(
            "acme",
            "2026-03-02T10:00:00+01:00",
            vec![seg(Speaker::Customer, 0, "oui je confirme")],
        );
        let mut bulk = idx.bulk(1, 16 << 20).unwrap();
        bulk.replace_call(&t1, &m1, None).unwrap();
        bulk.commit_followed(&idx, 7).unwrap();
        assert_eq!(idx.followed().unwrap(), 7);
        idx.index_call(&t1, &m1, None).unwrap();
        assert_eq!(
            idx.followed().unwrap(),
            7,
            "a plain commit keeps the position"
        );
        assert_eq!(idx.segment_count(), 1, "replacing does not duplicate");
        let mut bulk = idx.bulk(1, 16 << 20).unwrap();
        bulk.remove_call(t1.call_id);
        bulk.commit_followed(&idx, 9).unwrap();
        assert_eq!(idx.segment_count(), 0);
        drop(idx);
        assert_eq!(
            SearchIndex::open(dir.path()).unwrap().followed().unwrap(),
            9
        );
    }

    #[test]
    fn dispute_lookup_by_phone_and_contract() {
        let dir = tempfile::tempdir().unwrap();
        let idx = SearchIndex::open(dir.path()).unwrap();
        let (t1, mut m1) = call(
            "acme",
            "2026-03-02T10:00:00+01:00",
            vec![seg(Speaker::Customer, 0, "oui je confirme mon accord")],
        );
        m1.customer_phone = Some("+33612345678".into());
        m1.contract_ref = Some("EDC-1".into());
        let (t2, mut m2) = call(
            "acme",
            "2026-03-03T10:00:00+01:00",
            vec![seg(Speaker::Customer, 0, "oui je confirme mon accord")],
        );
        m2.customer_phone = Some("+33700000000".into());
        idx.index_call(&t1, &m1, None).unwrap();
        idx.index_call(&t2, &m2, None).unwrap();
        let by = |phone: Option<&str>, contract: Option<&str>| {
            idx.search(&SearchRequest {
                query: "accord".into(),
                customer_phone: phone.map(str::to_string),
                contract_ref: contract.map(str::to_string),
                ..Default::default()
            })
            .unwrap()
        };
        let r = by(Some("+33612345678"), None);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].call_id, t1.call_id);
        assert_eq!(r[0].contract_ref.as_deref(), Some("EDC-1"));
        assert_eq!(by(None, Some("EDC-1")).len(), 1);
        assert!(by(Some("+33612345678"), Some("other")).is_empty());
        assert_eq!(by(None, None).len(), 2);
    }

    #[test]
    fn phrase_hits_play_from_the_phrase() {
        let dir = tempfile::tempdir().unwrap();
        let idx = SearchIndex::open(dir.path()).unwrap();
        let (t, m) = call(
            "acme",
            "2026-03-02T10:00:00+01:00",
            vec![seg(
                Speaker::Customer,
                1000,
                "D'accord, c'est bien. Oui je confirme mon accord",
            )],
        );
        idx.index_call(&t, &m, None).unwrap();
        let hits = idx
            .search(&SearchRequest {
                query: "\"confirme mon accord\"".into(),
                ..Default::default()
            })
            .unwrap();
        // "confirme" is the 6th word: 1000 + 5 × 300 ms; "D'accord" (first word) is not it.
        assert_eq!(hits[0].segments[0].match_ms, 2500);
    }

    #[test]
    fn bad_query_is_explained() {
        let dir = tempfile::tempdir().unwrap();
        let idx = SearchIndex::open(dir.path()).unwrap();
        let err = idx
            .search(&SearchRequest {
                query: "\"unclosed".into(),
                ..Default::default()
            })
            .err();
        if let Some(e) = err {
            assert!(e.to_string().contains("could not understand"), "{e}");
        }
    }

    #[test]
    fn index_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let (t, m) = call(
            "acme",
            "2026-03-02T10:00:00+01:00",
            vec![seg(Speaker::Agent, 0, "rétractation de quatorze jours")],
        );
        SearchIndex::open(dir.path())
            .unwrap()
            .index_call(&t, &m, None)
            .unwrap();
        let idx = SearchIndex::open(dir.path()).unwrap();
        assert_eq!(
            idx.search(&SearchRequest {
                query: "retractation".into(),
                ..Default::default()
            })
            .unwrap()
            .len(),
            1
        );
    }
}
