//! BM25 statistics computed over the caller's tenants only.
//!
//! BM25 weighs a word by how rare it is in the whole collection and a segment by its length
//! against the average. Computed over the whole index, a tenant's scores — and so the order of
//! its results and the snippet chosen — would move whenever another tenant ingests calls: a
//! side channel on another tenant's data. A search limited to some tenants therefore counts
//! documents, tokens and document frequencies over those tenants' live documents only.
//!
//! Which documents of a tantivy segment belong to the tenants, and their token totals, are
//! kept per segment (a segment is immutable; its deletions are part of the key): a commit adds
//! a small segment to scan, not the whole index again. Per-term counts are paid per query.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tantivy::query::Bm25StatisticsProvider;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocSet, Searcher, SegmentReader, Term, TERMINATED};

/// One segment's documents of some tenants.
struct SegmentPart {
    /// Whether each document belongs to the tenants (and is alive), one bit each: 1.25 MB per
    /// 10 million segments and tenant list.
    members: Bits,
    docs: u64,
    /// Token totals per text field, computed on first use.
    tokens: Mutex<HashMap<Field, u64>>,
}

/// A segment as it was read: its id and how many of its documents were deleted then.
type SegmentKey = (tantivy::index::SegmentId, u32, Vec<String>);

/// Parts computed so far, for the segments still in use.
#[derive(Default)]
pub(crate) struct ViewCache {
    parts: Mutex<HashMap<SegmentKey, Arc<SegmentPart>>>,
}

/// The tenants' documents in every segment of one searcher.
pub(crate) struct TenantView {
    parts: Vec<Arc<SegmentPart>>,
}

impl ViewCache {
    pub(crate) fn view(
        &self,
        searcher: &Searcher,
        client: Field,
        tenants: &[String],
    ) -> tantivy::Result<TenantView> {
        let mut list = tenants.to_vec();
        list.sort();
        list.dedup();
        let mut cache = self.parts.lock().unwrap_or_else(|p| p.into_inner());
        let mut parts = Vec::new();
        let mut live = std::collections::HashSet::new();
        for segment in searcher.segment_readers() {
            let key = (
                segment.segment_id(),
                segment.num_deleted_docs(),
                list.clone(),
            );
            live.insert((key.0, key.1));
            let part = match cache.get(&key) {
                Some(p) => p.clone(),
                None => {
                    let p = Arc::new(SegmentPart::new(segment, client, &list)?);
                    cache.insert(key, p.clone());
                    p
                }
            };
            parts.push(part);
        }
        // Segments merged away (or with more deletions since) are not asked for again.
        cache.retain(|(id, deleted, _), _| live.contains(&(*id, *deleted)));
        Ok(TenantView { parts })
    }
}

/// A fixed-size set of document numbers.
struct Bits(Vec<u64>);

impl Bits {
    fn new(len: u32) -> Self {
        Bits(vec![0; (len as usize).div_ceil(64)])
    }
    fn get(&self, i: u32) -> bool {
        self.0
            .get(i as usize / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }
    fn set(&mut self, i: u32) {
        if let Some(w) = self.0.get_mut(i as usize / 64) {
            *w |= 1 << (i % 64);
        }
    }
    fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().enumerate().flat_map(|(k, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let bit = w.trailing_zeros();
                w &= w - 1;
                Some(k as u32 * 64 + bit)
            })
        })
    }
}

impl SegmentPart {
    fn new(segment: &SegmentReader, client: Field, tenants: &[String]) -> tantivy::Result<Self> {
        let mut members = Bits::new(segment.max_doc());
        let mut docs = 0;
        let inverted = segment.inverted_index(client)?;
        for t in tenants {
            let term = Term::from_field_text(client, t);
            if let Some(mut postings) = inverted.read_postings(&term, IndexRecordOption::Basic)? {
                let mut doc = postings.doc();
                while doc != TERMINATED {
                    if !segment.is_deleted(doc) && !members.get(doc) {
                        members.set(doc);
                        docs += 1;
                    }
                    doc = postings.advance();
                }
            }
        }
        Ok(Self {
            members,
            docs,
            tokens: Mutex::new(HashMap::new()),
        })
    }

    fn tokens(&self, segment: &SegmentReader, field: Field) -> tantivy::Result<u64> {
        let mut cache = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = cache.get(&field) {
            return Ok(*n);
        }
        let mut total = 0u64;
        if let Some(norms) = segment.fieldnorms_readers().get_field(field)? {
            for doc in self.members.iter() {
                total += u64::from(norms.fieldnorm(doc));
            }
        }
        cache.insert(field, total);
        Ok(total)
    }
}

impl TenantView {
    /// BM25 statistics of this view, for the searcher it was made from.
    pub(crate) fn stats<'a>(&'a self, searcher: &'a Searcher) -> Stats<'a> {
        Stats {
            view: self,
            searcher,
        }
    }
}

pub(crate) struct Stats<'a> {
    view: &'a TenantView,
    searcher: &'a Searcher,
}

impl Stats<'_> {
    fn segments(&self) -> impl Iterator<Item = (&SegmentReader, &SegmentPart)> {
        self.searcher
            .segment_readers()
            .iter()
            .zip(self.view.parts.iter().map(|p| &**p))
    }
}

impl Bm25StatisticsProvider for Stats<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        let mut total = 0;
        for (segment, part) in self.segments() {
            total += part.tokens(segment, field)?;
        }
        Ok(total)
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(self.view.parts.iter().map(|p| p.docs).sum())
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        let mut n = 0u64;
        for (segment, part) in self.segments() {
            let inverted = segment.inverted_index(term.field())?;
            if let Some(mut postings) = inverted.read_postings(term, IndexRecordOption::Basic)? {
                let mut doc = postings.doc();
                while doc != TERMINATED {
                    if part.members.get(doc) {
                        n += 1;
                    }
                    doc = postings.advance();
                }
            }
        }
        Ok(n)
    }
}
