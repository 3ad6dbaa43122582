//! BM25 statistics computed over the caller's tenants only.
//!
//! BM25 weighs a word by how rare it is in the whole collection and a segment by its length
//! against the average. Computed over the whole index, a tenant's scores — and so the order of
//! its results and the snippet chosen — would move whenever another tenant ingests calls: a
//! side channel on another tenant's data. A search limited to some tenants therefore counts
//! documents, tokens and document frequencies over those tenants' live documents only. The
//! set of a tenant's documents and its token totals are kept per reader generation, so only
//! the per-term counts are paid per query.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tantivy::query::Bm25StatisticsProvider;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocSet, Searcher, Term, TERMINATED};

/// The live documents of some tenants, per segment, and what BM25 needs of them.
pub(crate) struct TenantView {
    /// Per segment (in the searcher's order), whether each document belongs to the tenants.
    members: Vec<Vec<bool>>,
    num_docs: u64,
    tokens: Mutex<HashMap<Field, u64>>,
}

/// The views of one reader generation, by sorted tenant list.
type Views = (u64, HashMap<Vec<String>, Arc<TenantView>>);

/// Views computed for the current reader generation, by tenant list.
#[derive(Default)]
pub(crate) struct ViewCache {
    generation: Mutex<Option<Views>>,
}

impl ViewCache {
    pub(crate) fn view(
        &self,
        searcher: &Searcher,
        client: Field,
        tenants: &[String],
    ) -> tantivy::Result<Arc<TenantView>> {
        let generation = searcher.generation().generation_id();
        let mut key = tenants.to_vec();
        key.sort();
        key.dedup();
        let mut guard = self.generation.lock().unwrap_or_else(|p| p.into_inner());
        if guard.as_ref().is_none_or(|(g, _)| *g != generation) {
            *guard = Some((generation, HashMap::new()));
        }
        let Some((_, views)) = guard.as_mut() else {
            unreachable!("set just above")
        };
        if let Some(v) = views.get(&key) {
            return Ok(v.clone());
        }
        let v = Arc::new(TenantView::new(searcher, client, &key)?);
        views.insert(key, v.clone());
        Ok(v)
    }
}

impl TenantView {
    fn new(searcher: &Searcher, client: Field, tenants: &[String]) -> tantivy::Result<Self> {
        let mut members = Vec::new();
        let mut num_docs = 0;
        for segment in searcher.segment_readers() {
            let mut inside = vec![false; segment.max_doc() as usize];
            let inverted = segment.inverted_index(client)?;
            for t in tenants {
                let term = Term::from_field_text(client, t);
                if let Some(mut postings) =
                    inverted.read_postings(&term, IndexRecordOption::Basic)?
                {
                    let mut doc = postings.doc();
                    while doc != TERMINATED {
                        if !segment.is_deleted(doc) && !inside[doc as usize] {
                            inside[doc as usize] = true;
                            num_docs += 1;
                        }
                        doc = postings.advance();
                    }
                }
            }
            members.push(inside);
        }
        Ok(Self {
            members,
            num_docs,
            tokens: Mutex::new(HashMap::new()),
        })
    }

    /// BM25 statistics of this view, for one searcher of the same generation.
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

impl Bm25StatisticsProvider for Stats<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        let mut cache = self.view.tokens.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = cache.get(&field) {
            return Ok(*n);
        }
        let mut total = 0u64;
        for (segment, inside) in self
            .searcher
            .segment_readers()
            .iter()
            .zip(&self.view.members)
        {
            let Some(norms) = segment.fieldnorms_readers().get_field(field)? else {
                continue;
            };
            for (doc, member) in inside.iter().enumerate() {
                if *member {
                    total += u64::from(norms.fieldnorm(doc as u32));
                }
            }
        }
        cache.insert(field, total);
        Ok(total)
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(self.view.num_docs)
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        let mut n = 0u64;
        for (segment, inside) in self
            .searcher
            .segment_readers()
            .iter()
            .zip(&self.view.members)
        {
            let inverted = segment.inverted_index(term.field())?;
            if let Some(mut postings) = inverted.read_postings(term, IndexRecordOption::Basic)? {
                let mut doc = postings.doc();
                while doc != TERMINATED {
                    if inside.get(doc as usize).copied().unwrap_or(false) {
                        n += 1;
                    }
                    doc = postings.advance();
                }
            }
        }
        Ok(n)
    }
}
