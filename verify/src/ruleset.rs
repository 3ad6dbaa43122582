//! Rule set files: parsing, validation with line-precise errors, built-in packs, `extends`.
//!
//! A rule set is a TOML file a quality manager edits by hand, so every mistake is reported with
//! its line, the field and what was expected, before anything is stored. A client's file usually
//! extends a built-in pack (`extends = "fr-demarchage"`) and only adds, replaces (same `id`) or
//! disables (`disable = [...]`) rules.

use std::collections::{BTreeMap, HashMap, HashSet};

use callproof_models::{RuleKind, Speaker};
use chrono::{NaiveTime, Weekday};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::calendar::{parse_weekday, Holidays, Range};
use super::matcher::{PatTok, PatWord, Pattern};
use super::meaning::Meaning;
use super::text::normalise;

/// A rule set file that cannot be used, with where and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize)]
#[error("rule set, line {line}, column {column}{}: {message}", field.as_ref().map(|f| format!(", field `{f}`")).unwrap_or_default())]
pub struct RuleSetError {
    /// 1-based; 0 when the error is not tied to a place in the file.
    pub line: usize,
    pub column: usize,
    pub field: Option<String>,
    /// What is wrong and what is expected.
    pub message: String,
}

/// The built-in packs, by name: TOML files compiled into the binary.
pub const PACKS: &[(&str, &str)] = &[
    ("fr-demarchage", include_str!("../packs/fr-demarchage.toml")),
    ("en-sales", include_str!("../packs/en-sales.toml")),
];

/// The pack used for a call whose client has no rule set, by the call's language.
pub fn default_pack(language: &str) -> &'static str {
    if language == "fr" {
        "fr-demarchage"
    } else {
        "en-sales"
    }
}

pub fn pack_source(name: &str) -> Option<&'static str> {
    PACKS.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    ruleset: toml::Spanned<RawHeader>,
    #[serde(default)]
    rule: Vec<toml::Spanned<RawRule>>,
    #[serde(default)]
    scorecard: Vec<Criterion>,
    /// What is redacted from this client's calls (default: every kind, silence, no
    /// unredacted original kept).
    #[serde(default)]
    redaction: Option<callproof_models::RedactionPolicy>,
    /// How long this client's recordings and analyses are kept (default: 183 and 365 days).
    #[serde(default)]
    retention: Option<callproof_models::RetentionPolicy>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    client: Option<String>,
    #[serde(default)]
    version: Option<u32>,
    #[serde(default)]
    extends: Option<String>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    review_below: Option<f32>,
    #[serde(default)]
    absent_below: Option<f32>,
    #[serde(default)]
    disable: Vec<String>,
    #[serde(default)]
    description: Option<String>,
    /// Words the calls are likely to hold that a recogniser may not know: brands, sellers,
    /// products, legal terms. Added to the pack's.
    #[serde(default)]
    vocabulary: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum RawSpeaker {
    Agent,
    Customer,
    Any,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    kind: RuleKind,
    /// What people read, per interface language: `title = { fr = "…", en = "…" }`.
    #[serde(default)]
    title: BTreeMap<String, String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    speaker: Option<RawSpeaker>,
    #[serde(default)]
    say: Vec<String>,
    #[serde(default)]
    heard_as: Vec<String>,
    #[serde(default)]
    within_s: Option<u64>,
    #[serde(default)]
    after: Vec<String>,
    #[serde(default)]
    before: Vec<String>,
    #[serde(default)]
    revoked_by: Vec<String>,
    #[serde(default)]
    agent_says: Vec<String>,
    /// Forbidden statements by what they mean: groups of words said together in one clause
    /// ([`crate::meaning`]).
    #[serde(default)]
    means: Vec<Vec<String>>,
    #[serde(default)]
    timezone: Option<String>,
    #[serde(default)]
    days: Option<Vec<String>>,
    #[serde(default)]
    hours: Option<Vec<String>>,
    #[serde(default)]
    holidays: Option<String>,
    #[serde(default)]
    min_s: Option<u64>,
}

/// A scorecard criterion quality reviewers score calls on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    pub criterion: String,
    #[serde(default = "one")]
    pub weight: f32,
    /// The name reviewers read ("Clarté de l'offre"); the id, made readable, without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

impl Criterion {
    /// What a reviewer reads: the title, or the id with its underscores as spaces and a capital.
    pub fn title(&self) -> String {
        if let Some(t) = self.title.as_deref().filter(|t| !t.trim().is_empty()) {
            return t.trim().to_string();
        }
        let spaced = self.criterion.replace(['_', '-'], " ");
        let mut chars = spaced.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => spaced,
        }
    }
}

fn one() -> f32 {
    1.0
}

/// Calling hours of a `calling_hours` rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Hours {
    pub timezone: chrono_tz::Tz,
    pub days: Vec<Weekday>,
    pub ranges: Vec<Range>,
    pub holidays: Holidays,
}

/// One rule, ready to evaluate.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: String,
    pub kind: RuleKind,
    /// Its name for people, by interface language ("fr", "en").
    pub title: BTreeMap<String, String>,
    pub description: Option<String>,
    /// Who must (or must not) say it; `None` = anyone.
    pub speaker: Option<Speaker>,
    pub patterns: Vec<Pattern>,
    /// The `say` phrasings as words a person would say (optional words with and without,
    /// `{number}` phrasings left out): the script readings tried against the recording where
    /// the transcript leaves a finding in doubt (see [`crate::script_readings`]). `heard_as`
    /// entries are mishearings, never a reading of the script.
    pub script: Vec<String>,
    /// The `{number}` phrasings, as said ("{number} euros"): read where the item was expected
    /// with the number the recording finds likeliest there (see [`crate::number_places`]).
    pub number_script: Vec<String>,
    pub within_ms: Option<u64>,
    pub after: Vec<String>,
    pub before: Vec<String>,
    pub revoked_by: Vec<Pattern>,
    pub agent_says: Vec<Pattern>,
    /// A forbidden rule's statements, or a required rule's item, by what they mean, besides
    /// its phrasings.
    pub means: Vec<Meaning>,
    pub hours: Option<Hours>,
    pub min_ms: Option<u64>,
}

/// The phrasings of `say` as spoken text, `[optional]` words with and without: those without a
/// `{number}`, or (`numbers`) those with one, which only the recording can fill.
fn script_texts(say: &[String], numbers: bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    // A name is whatever the seller says there: no reading can fill it.
    for p in say
        .iter()
        .filter(|p| p.contains("{number}") == numbers && !p.contains("{name}"))
    {
        let with: String = p.chars().filter(|c| !matches!(c, '[' | ']')).collect();
        let mut without = String::new();
        let mut depth = 0;
        for c in p.chars() {
            match c {
                '[' => depth += 1,
                ']' => depth -= 1,
                _ if depth == 0 => without.push(c),
                _ => {}
            }
        }
        for t in [with, without] {
            let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
            if !t.is_empty() && !out.contains(&t) {
                out.push(t);
            }
        }
    }
    out
}

/// The interface languages a rule's title may be given in.
pub const TITLE_LANGUAGES: [&str; 2] = ["fr", "en"];
const MAX_TITLE_CHARS: usize = 120;

impl Rule {
    /// Whether `phrasing` is one of the rule's phrasings as said, whatever its letters' case:
    /// readings are made in the recogniser's spelling ("Bloctel", "I accept"), and one made
    /// before the rule set changed may no longer be one.
    pub fn says(&self, phrasing: &str) -> bool {
        let words = |s: &str| -> Vec<String> {
            s.split_whitespace()
                .map(|w| w.trim_matches(['.', ',', '?', '!']).to_lowercase())
                .collect()
        };
        let said = words(phrasing);
        self.script
            .iter()
            .chain(&self.number_script)
            .any(|p| words(p) == said)
    }

    /// Its name for a person reading `lang`: the title in that language, or in the other one,
    /// or its description, or its id.
    pub fn title_in(&self, lang: &str) -> &str {
        self.title
            .get(lang)
            .or_else(|| self.title.values().next())
            .map(String::as_str)
            .or(self.description.as_deref())
            .unwrap_or(&self.id)
    }
}

/// A parsed, validated rule set with its pack merged in.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleBook {
    /// The client it names, if any.
    pub client: Option<String>,
    pub name: Option<String>,
    pub version: Option<u32>,
    pub extends: Option<String>,
    pub description: Option<String>,
    pub language: String,
    pub review_below: f32,
    pub absent_below: f32,
    /// Rules in evaluation order (every rule after those its `after`/`before` name).
    pub rules: Vec<Rule>,
    pub scorecard: Vec<Criterion>,
    /// The client's redaction policy (`[redaction]`), or its pack's, or the default.
    pub redaction: callproof_models::RedactionPolicy,
    /// The client's retention periods (`[retention]`), or its pack's, or the default.
    pub retention: callproof_models::RetentionPolicy,
    /// SHA-256 of the source text, hex.
    pub sha256: String,
    /// The client's words and its pack's (`vocabulary`), for the recogniser.
    pub vocabulary: Vec<String>,
    /// The words this rule set lists itself, without its pack's: the client's names, which
    /// reach the recogniser in whatever language a call is (see [`RuleBook::for_language`]).
    own_vocabulary: Vec<String>,
    /// The words of the rules' language, where the system has a list of them: what tells a
    /// word the recogniser heard from one it made up (see [`crate::lexicon`]). Set by whoever
    /// reads the lists; none after parsing.
    pub lexicon: Option<crate::Lexicon>,
}

/// Words in the prompt when the vocabulary leaves room for the phrasings' words.
const PROMPT_WORDS: usize = 16;

/// Vocabulary entries a rule set may hold, its pack's included: the prompt that carries them
/// to Whisper is short (see [`RuleBook::prompt`]).
pub const MAX_VOCABULARY: usize = 40;

impl RuleBook {
    /// The text given to Whisper before the call's speech, so that it spells the client's
    /// words as the rules do: the vocabulary, then the distinctive words of the phrasings the
    /// agent must say (longer words first, each once). Short: a long prompt makes Whisper
    /// repeat it, and costs decoding time.
    /// The prompt for one channel's speech: the seller's, or a channel whose voices are not
    /// told apart, gets [`RuleBook::prompt`]; the customer's gets none. The vocabulary and the
    /// phrasings' words are what the seller says; before a customer's short answers they only
    /// lean the recogniser towards them — the script's words of agreement ("accepte") heard
    /// in a customer's mouth would be consent nobody gave. (On the benchmark calls customers'
    /// word error rate was within one run's spread either way: BENCHMARKS.md, stage (o).)
    pub fn prompt_for(&self, speaker: callproof_models::Speaker) -> Option<String> {
        (speaker != callproof_models::Speaker::Customer).then(|| self.prompt())
    }

    pub fn prompt(&self) -> String {
        let mut words: Vec<String> = self.vocabulary.clone();
        let mut phrasing_words: Vec<String> = self
            .rules
            .iter()
            .filter(|r| {
                matches!(
                    r.kind,
                    callproof_models::RuleKind::Required | callproof_models::RuleKind::Consent
                )
            })
            .flat_map(|r| r.patterns.iter().map(|p| p.source.clone()))
            .flat_map(|p| {
                p.split(|c: char| c.is_whitespace() || c == '[' || c == ']')
                    .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_string())
                    .collect::<Vec<_>>()
            })
            .filter(|w| w.chars().count() >= 7 && !w.contains('{'))
            .collect();
        phrasing_words.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
        for w in phrasing_words {
            if words.len() >= PROMPT_WORDS.max(self.vocabulary.len()) {
                break;
            }
            let folded = w.to_lowercase();
            if !words.iter().any(|v| v.to_lowercase().contains(&folded)) {
                words.push(w);
            }
        }
        if words.is_empty() {
            return String::new();
        }
        format!("{}.", words.join(", "))
    }
}

fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

pub fn sha256_hex(source: &str) -> String {
    hex::encode(Sha256::digest(source.as_bytes()))
}

/// Compiles one phrasing: `[optional words]`, `{number}`, `{name}` (one to three words: a
/// person's or a company's name, "this is {name} from"), everything else normalised.
pub fn compile_phrase(source: &str, language: &str) -> Result<Pattern, String> {
    let mut toks = Vec::new();
    let mut rest = source;
    while !rest.is_empty() {
        let (chunk, optional, tail) = if let Some(r) = rest.strip_prefix('[') {
            let end = r
                .find(']')
                .ok_or_else(|| format!("phrasing {source:?} opens a '[' it never closes"))?;
            (&r[..end], true, &r[end + 1..])
        } else {
            let end = rest.find('[').unwrap_or(rest.len());
            (&rest[..end], false, &rest[end..])
        };
        if chunk.contains(']') || (optional && chunk.contains('[')) {
            return Err(format!(
                "phrasing {source:?} has unbalanced brackets: write optional words as [like this]"
            ));
        }
        let mut text = chunk;
        while !text.is_empty() {
            match text.find('{') {
                Some(open) => {
                    push_words(&text[..open], optional, language, &mut toks);
                    let close = text[open..].find('}').ok_or_else(|| {
                        format!("phrasing {source:?} opens a '{{' it never closes")
                    })? + open;
                    let word = match &text[open + 1..close] {
                        "number" => PatWord::Number,
                        "name" if optional => {
                            return Err(format!(
                                "phrasing {source:?} makes {{name}} optional: write the phrasing with and without it"
                            ))
                        }
                        "name" if toks.iter().all(|t: &PatTok| t.optional) => {
                            return Err(format!(
                                "phrasing {source:?} starts with {{name}}: a phrasing starts with a word said (\"this is {{name}} from\")"
                            ))
                        }
                        "name" => PatWord::Name,
                        other => {
                            return Err(format!(
                                "phrasing {source:?} uses {{{other}}}: the placeholders are {{number}} and {{name}}"
                            ))
                        }
                    };
                    toks.push(PatTok { word, optional });
                    text = &text[close + 1..];
                }
                None => {
                    push_words(text, optional, language, &mut toks);
                    text = "";
                }
            }
        }
        rest = tail;
    }
    if toks.iter().all(|t| t.optional) {
        return Err(format!("phrasing {source:?} has no word that must be said"));
    }
    Ok(Pattern {
        source: source.to_string(),
        toks,
    })
}

fn push_words(text: &str, optional: bool, language: &str, toks: &mut Vec<PatTok>) {
    for w in normalise(text, language) {
        toks.push(PatTok {
            word: PatWord::Word(w),
            optional,
        });
    }
}

impl RuleBook {
    /// Parses and validates a rule set, merging the pack it extends.
    pub fn parse(source: &str) -> Result<Self, RuleSetError> {
        Self::parse_inner(source, 0)
    }

    /// The rules a call in `language` is checked against: these, when they are written for
    /// it; else the built-in pack of that language, with what of these is not a matter of
    /// language — the client's own vocabulary (a brand is said alike in every language), its
    /// scorecard, redaction and retention (the law's periods do not depend on the call's
    /// language). A client with French and English calls writes its rule set for one: its
    /// other calls are not checked against phrasings in a language nobody spoke on them, and its
    /// names still reach the recogniser there.
    pub fn for_language(&self, language: &str) -> Result<Self, RuleSetError> {
        if self.language == language {
            return Ok(self.clone());
        }
        let name = default_pack(language);
        let mut book = Self::pack(name)?;
        let mut vocabulary = self.own_vocabulary.clone();
        for w in book.vocabulary {
            if !vocabulary.iter().any(|v| v.eq_ignore_ascii_case(&w)) {
                vocabulary.push(w);
            }
        }
        // The client's words first: they are the ones the other pack's cannot stand for.
        vocabulary.truncate(MAX_VOCABULARY);
        book.vocabulary = vocabulary;
        book.own_vocabulary = self.own_vocabulary.clone();
        book.client = self.client.clone();
        book.name = self.name.clone();
        book.version = self.version;
        book.extends = Some(name.to_string());
        book.scorecard = self.scorecard.clone();
        book.redaction = self.redaction.clone();
        book.retention = self.retention.clone();
        book.sha256 = self.sha256.clone();
        Ok(book)
    }

    /// A built-in pack by name.
    pub fn pack(name: &str) -> Result<Self, RuleSetError> {
        let source = pack_source(name).ok_or_else(|| unknown_pack(name, 0))?;
        Self::parse(source)
    }

    fn parse_inner(source: &str, depth: usize) -> Result<Self, RuleSetError> {
        let raw: RawFile = toml::from_str(source).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|s| line_col(source, s.start))
                .unwrap_or((0, 0));
            // The key of the line at fault: "sai" in `sai = [...]`, "say" in `say = "hello"`.
            let field = (line > 0)
                .then(|| source.lines().nth(line - 1))
                .flatten()
                .and_then(|l| l.split_once('='))
                .map(|(k, _)| k.trim())
                .filter(|k| {
                    !k.is_empty()
                        && k.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                })
                .map(str::to_string);
            RuleSetError {
                line,
                column,
                field,
                message: e.message().trim().to_string(),
            }
        })?;
        let header_at = line_col(source, raw.ruleset.span().start);
        let header = raw.ruleset.into_inner();
        let err_header = |field: &str, message: String| RuleSetError {
            line: header_at.0,
            column: header_at.1,
            field: Some(field.to_string()),
            message,
        };
        let base = match &header.extends {
            Some(pack) if depth == 0 => {
                let src = pack_source(pack).ok_or_else(|| {
                    let mut e = unknown_pack(pack, header_at.0);
                    e.field = Some("extends".into());
                    e
                })?;
                Some(Self::parse_inner(src, depth + 1).map_err(|mut e| {
                    e.message = format!("in built-in pack {pack}: {}", e.message);
                    e
                })?)
            }
            Some(_) => {
                return Err(err_header(
                    "extends",
                    "a pack cannot extend another pack".into(),
                ))
            }
            None => None,
        };
        let language = header
            .language
            .clone()
            .or_else(|| base.as_ref().map(|b| b.language.clone()))
            .unwrap_or_else(|| "fr".into());
        if !matches!(language.as_str(), "fr" | "en") {
            return Err(err_header(
                "language",
                format!(
                    "language {language:?} is not supported by rule matching: use \"fr\" or \"en\""
                ),
            ));
        }
        let review_below = header
            .review_below
            .or(base.as_ref().map(|b| b.review_below))
            .unwrap_or(0.8);
        let absent_below = header
            .absent_below
            .or(base.as_ref().map(|b| b.absent_below))
            .unwrap_or(0.6);
        if !(0.0..=1.0).contains(&review_below) || !(0.0..=1.0).contains(&absent_below) {
            return Err(err_header(
                "review_below",
                "review_below and absent_below are match scores between 0 and 1".into(),
            ));
        }
        if absent_below > review_below {
            return Err(err_header(
                "absent_below",
                format!("absent_below ({absent_below}) must not exceed review_below ({review_below}): scores between them mean \"needs review\""),
            ));
        }

        let mut rules: Vec<Rule> = base.as_ref().map(|b| b.rules.clone()).unwrap_or_default();
        let mut lines: HashMap<String, usize> = HashMap::new();
        let mut seen = HashSet::new();
        for spanned in raw.rule {
            let (line, column) = line_col(source, spanned.span().start);
            let r = spanned.into_inner();
            let err = |field: &str, message: String| RuleSetError {
                line,
                column,
                field: Some(field.to_string()),
                message: format!("rule {:?}: {message}", r.id),
            };
            let rule = compile_rule(&r, &language, &err)?;
            if !seen.insert(r.id.clone()) {
                return Err(err("id", "this id is used by an earlier rule of this file; ids must be unique (use the same id as a pack rule to replace it)".into()));
            }
            lines.insert(r.id.clone(), line);
            match rules.iter_mut().find(|x| x.id == rule.id) {
                Some(existing) => *existing = rule,
                None => rules.push(rule),
            }
        }
        for id in &header.disable {
            let before = rules.len();
            rules.retain(|r| &r.id != id);
            if rules.len() == before {
                return Err(err_header(
                    "disable",
                    format!("there is no rule {id:?} to disable; rules: {}", ids(&rules)),
                ));
            }
        }
        let rules = order_rules(rules, &lines)?;
        let mut vocabulary: Vec<String> = base
            .as_ref()
            .map(|b| b.vocabulary.clone())
            .unwrap_or_default();
        let mut own_vocabulary: Vec<String> = Vec::new();
        for word in &header.vocabulary {
            let word = word.trim();
            if word.is_empty() || word.chars().count() > 64 || word.chars().any(char::is_control) {
                return Err(err_header(
                    "vocabulary",
                    format!("{word:?} is not a vocabulary entry: give words or short phrases of 1 to 64 characters"),
                ));
            }
            if !vocabulary.iter().any(|v| v.eq_ignore_ascii_case(word)) {
                vocabulary.push(word.to_string());
            }
            if !own_vocabulary.iter().any(|v| v.eq_ignore_ascii_case(word)) {
                own_vocabulary.push(word.to_string());
            }
        }
        if vocabulary.len() > MAX_VOCABULARY {
            return Err(err_header(
                "vocabulary",
                format!(
                    "{} vocabulary entries with the pack's; at most {MAX_VOCABULARY} reach the recogniser: keep the words it gets wrong",
                    vocabulary.len()
                ),
            ));
        }
        Ok(Self {
            vocabulary,
            own_vocabulary,
            lexicon: None,
            client: header.client,
            name: header.name,
            version: header.version,
            extends: header.extends,
            description: header
                .description
                .or_else(|| base.as_ref().and_then(|b| b.description.clone())),
            language,
            review_below,
            absent_below,
            rules,
            retention: match raw.retention {
                Some(r) => r,
                None => base
                    .as_ref()
                    .map(|b| b.retention.clone())
                    .unwrap_or_default(),
            },
            redaction: match raw.redaction {
                Some(r) => r,
                None => base
                    .as_ref()
                    .map(|b| b.redaction.clone())
                    .unwrap_or_default(),
            },
            scorecard: if raw.scorecard.is_empty() {
                base.map(|b| b.scorecard).unwrap_or_default()
            } else {
                raw.scorecard
            },
            sha256: sha256_hex(source),
        })
    }
}

fn unknown_pack(name: &str, line: usize) -> RuleSetError {
    RuleSetError {
        line,
        column: 1,
        field: None,
        message: format!(
            "there is no built-in pack {name:?}; packs: {}",
            PACKS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
        ),
    }
}

fn ids(rules: &[Rule]) -> String {
    rules
        .iter()
        .map(|r| r.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn compile_rule(
    r: &RawRule,
    language: &str,
    err: &dyn Fn(&str, String) -> RuleSetError,
) -> Result<Rule, RuleSetError> {
    if r.id.is_empty()
        || !r
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(err(
            "id",
            "ids are lower-case letters, digits and '_' (they are used in searches: rule:withdrawal_14d)".into(),
        ));
    }
    let speech = matches!(
        r.kind,
        RuleKind::Required | RuleKind::Forbidden | RuleKind::Consent
    );
    let phrases = |field: &str, list: &[String]| -> Result<Vec<Pattern>, RuleSetError> {
        list.iter()
            .map(|p| compile_phrase(p, language).map_err(|m| err(field, m)))
            .collect()
    };
    let mut patterns = phrases("say", &r.say)?;
    patterns.extend(phrases("heard_as", &r.heard_as)?);
    if speech && r.say.is_empty() {
        return Err(err(
            "say",
            "a required, forbidden or consent rule needs at least one phrasing in `say = [\"...\"]`".into(),
        ));
    }
    let misplaced = |field: &str, set: bool, kinds: &str| -> Result<(), RuleSetError> {
        if set {
            Err(err(
                field,
                format!("`{field}` only applies to {kinds} rules"),
            ))
        } else {
            Ok(())
        }
    };
    misplaced(
        "say",
        !speech && !r.say.is_empty(),
        "required, forbidden and consent",
    )?;
    misplaced(
        "revoked_by",
        r.kind != RuleKind::Consent && !r.revoked_by.is_empty(),
        "consent",
    )?;
    misplaced(
        "agent_says",
        r.kind != RuleKind::Consent && !r.agent_says.is_empty(),
        "consent",
    )?;
    misplaced(
        "means",
        !matches!(r.kind, RuleKind::Forbidden | RuleKind::Required) && !r.means.is_empty(),
        "forbidden and required",
    )?;
    let means = r
        .means
        .iter()
        .map(|groups| Meaning::compile(groups, language).map_err(|m| err("means", m)))
        .collect::<Result<Vec<_>, _>>()?;
    let hours_fields =
        r.timezone.is_some() || r.days.is_some() || r.hours.is_some() || r.holidays.is_some();
    misplaced(
        "hours",
        r.kind != RuleKind::CallingHours && hours_fields,
        "calling_hours",
    )?;
    misplaced(
        "min_s",
        r.kind != RuleKind::MinDuration && r.min_s.is_some(),
        "min_duration",
    )?;
    misplaced(
        "within_s",
        !speech && r.within_s.is_some(),
        "required, forbidden and consent",
    )?;
    let speaker = match (r.speaker, r.kind) {
        (Some(RawSpeaker::Agent), _) => Some(Speaker::Agent),
        (Some(RawSpeaker::Customer), _) => Some(Speaker::Customer),
        (Some(RawSpeaker::Any), _) => None,
        (None, RuleKind::Consent) => Some(Speaker::Customer),
        (None, RuleKind::Required | RuleKind::Forbidden) => Some(Speaker::Agent),
        (None, _) => None,
    };
    if r.kind == RuleKind::Consent && speaker != Some(Speaker::Customer) {
        return Err(err(
            "speaker",
            "consent is the customer's: speaker must be \"customer\" (assent stated by the agent is not consent)".into(),
        ));
    }
    let hours = if r.kind == RuleKind::CallingHours {
        let tz_name = r.timezone.as_deref().unwrap_or("Europe/Paris");
        let timezone: chrono_tz::Tz = tz_name.parse().map_err(|_| {
            err(
                "timezone",
                format!("{tz_name:?} is not an IANA time zone such as \"Europe/Paris\""),
            )
        })?;
        let days = match &r.days {
            None => vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            Some(list) => list
                .iter()
                .map(|d| {
                    parse_weekday(d).ok_or_else(|| {
                        err(
                            "days",
                            format!("{d:?} is not a day: use mon, tue, wed, thu, fri, sat, sun"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let ranges = match &r.hours {
            None => vec![
                Range {
                    start: NaiveTime::from_hms_opt(10, 0, 0).unwrap_or_default(),
                    end: NaiveTime::from_hms_opt(13, 0, 0).unwrap_or_default(),
                },
                Range {
                    start: NaiveTime::from_hms_opt(14, 0, 0).unwrap_or_default(),
                    end: NaiveTime::from_hms_opt(20, 0, 0).unwrap_or_default(),
                },
            ],
            Some(list) => list
                .iter()
                .map(|h| {
                    Range::parse(h).ok_or_else(|| {
                        err(
                            "hours",
                            format!("{h:?} is not a time range: write \"10:00-13:00\""),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let holidays = match r.holidays.as_deref() {
            None => Holidays::France,
            Some(h) => Holidays::parse(h).ok_or_else(|| {
                err(
                    "holidays",
                    format!("{h:?}: use \"fr\", \"fr-alsace-moselle\" or \"none\""),
                )
            })?,
        };
        Some(Hours {
            timezone,
            days,
            ranges,
            holidays,
        })
    } else {
        None
    };
    if r.kind == RuleKind::MinDuration && r.min_s.is_none() {
        return Err(err(
            "min_s",
            "a min_duration rule needs `min_s = <seconds>`".into(),
        ));
    }
    for (lang, title) in &r.title {
        if !TITLE_LANGUAGES.contains(&lang.as_str()) {
            return Err(err(
                "title",
                format!("{lang:?} is not a language of the interface: give titles as title = {{ fr = \"…\", en = \"…\" }}"),
            ));
        }
        if title.trim().is_empty() || title.chars().count() > MAX_TITLE_CHARS {
            return Err(err(
                "title",
                format!("the {lang} title must hold 1 to {MAX_TITLE_CHARS} characters"),
            ));
        }
    }
    Ok(Rule {
        id: r.id.clone(),
        kind: r.kind,
        title: r
            .title
            .iter()
            .map(|(k, v)| (k.clone(), v.trim().to_string()))
            .collect(),
        description: r.description.clone(),
        speaker,
        patterns,
        script: script_texts(&r.say, false),
        number_script: script_texts(&r.say, true),
        within_ms: r.within_s.map(|s| s * 1000),
        after: r.after.clone(),
        before: r.before.clone(),
        revoked_by: phrases("revoked_by", &r.revoked_by)?,
        agent_says: phrases("agent_says", &r.agent_says)?,
        means,
        hours,
        min_ms: r.min_s.map(|s| s * 1000),
    })
}

/// Orders rules so that each comes after the rules its `after`/`before` name, checking that
/// they exist and do not go round in a circle.
fn order_rules(
    rules: Vec<Rule>,
    lines: &HashMap<String, usize>,
) -> Result<Vec<Rule>, RuleSetError> {
    let known: HashSet<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    for r in &rules {
        for (field, dep) in r
            .after
            .iter()
            .map(|d| ("after", d))
            .chain(r.before.iter().map(|d| ("before", d)))
        {
            if !known.contains(dep.as_str()) || dep == &r.id {
                return Err(RuleSetError {
                    line: lines.get(&r.id).copied().unwrap_or(0),
                    column: 1,
                    field: Some(field.into()),
                    message: format!(
                        "rule {:?} names {dep:?}, which is not another rule of this set; rules: {}",
                        r.id,
                        ids(&rules)
                    ),
                });
            }
        }
    }
    let mut done: Vec<Rule> = Vec::with_capacity(rules.len());
    let mut left = rules;
    while !left.is_empty() {
        let ready = left.iter().position(|r| {
            r.after
                .iter()
                .chain(&r.before)
                .all(|d| done.iter().any(|x| &x.id == d))
        });
        match ready {
            Some(i) => done.push(left.remove(i)),
            None => {
                let r = &left[0];
                return Err(RuleSetError {
                    line: lines.get(&r.id).copied().unwrap_or(0),
                    column: 1,
                    field: Some("after".into()),
                    message: format!(
                        "rules {} name each other in `after`/`before` in a circle",
                        ids(&left)
                    ),
                });
            }
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_parse() {
        for (name, _) in PACKS {
            let book = RuleBook::pack(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(book.rules.len() >= 6, "{name}");
        }
        let fr = RuleBook::pack("fr-demarchage").unwrap();
        for id in [
            "identity",
            "on_behalf",
            "commercial_nature",
            "bloctel",
            "price",
            "withdrawal_14d",
            "written_confirmation",
            "binding_after_signature",
            "final_on_phone",
            "consent",
            "calling_hours",
        ] {
            assert!(fr.rules.iter().any(|r| r.id == id), "{id}");
        }
        // Consent comes after what it depends on.
        let pos = |id: &str| fr.rules.iter().position(|r| r.id == id).unwrap();
        assert!(pos("consent") > pos("price") && pos("consent") > pos("withdrawal_14d"));
    }

    #[test]
    fn extends_replaces_and_disables() {
        let src = r#"
[ruleset]
client = "electricite-du-centre"
version = 3
extends = "fr-demarchage"
disable = ["calling_hours"]

[[rule]]
id = "bloctel"
kind = "required"
say = ["bloctel"]
heard_as = ["l'octèle"]
within_s = 30

[[rule]]
id = "green_energy"
kind = "required"
say = ["électricité verte"]
"#;
        let b = RuleBook::parse(src).unwrap();
        assert_eq!(b.version, Some(3));
        assert!(!b.rules.iter().any(|r| r.id == "calling_hours"));
        let bloctel = b.rules.iter().find(|r| r.id == "bloctel").unwrap();
        assert_eq!(bloctel.within_ms, Some(30_000));
        assert_eq!(bloctel.patterns.len(), 2);
        assert!(b.rules.iter().any(|r| r.id == "green_energy"));
        assert!(b.rules.iter().any(|r| r.id == "consent"));
        assert_eq!(b.sha256.len(), 64);
    }

    #[test]
    fn redaction_policy_from_the_rule_set() {
        use callproof_models::{PiiKind, RedactionAudio};
        let b = RuleBook::parse("[ruleset]\nextends = \"fr-demarchage\"\n").unwrap();
        assert_eq!(b.redaction, callproof_models::RedactionPolicy::default());
        assert!(b.redaction.types.contains(&PiiKind::Cvv));
        let b = RuleBook::parse(
            "[ruleset]\nextends = \"fr-demarchage\"\n\n[redaction]\ntypes = [\"card\", \"cvv\"]\naudio = \"tone\"\nkeep_original = true\n",
        )
        .unwrap();
        assert_eq!(
            b.redaction.types.iter().copied().collect::<Vec<_>>(),
            vec![PiiKind::Card, PiiKind::Cvv]
        );
        assert_eq!(b.redaction.audio, RedactionAudio::Tone);
        assert!(b.redaction.keep_original);
        let e = error_of("[ruleset]\n\n[redaction]\ntypes = [\"cards\"]\n");
        assert!(
            e.message.contains("cards") && e.message.contains("card"),
            "{e}"
        );
    }

    fn error_of(src: &str) -> RuleSetError {
        RuleBook::parse(src).expect_err("must be refused")
    }

    #[test]
    fn errors_name_line_field_and_expectation() {
        let e = error_of(
            "[ruleset]\nversion = 1\n\n[[rule]]\nid = \"x\"\nkind = \"requird\"\nsay = [\"a\"]\n",
        );
        assert_eq!(e.line, 6, "{e}");
        assert!(e.message.contains("required"), "{e}");

        let e = error_of("[ruleset]\n\n[[rule]]\nid = \"x\"\nkind = \"required\"\nsai = [\"a\"]\n");
        assert_eq!(e.line, 6, "{e}");
        assert_eq!(e.field.as_deref(), Some("sai"), "{e}");
        assert!(e.message.contains("say"), "{e}");

        let e = error_of("[ruleset]\n\n[[rule]]\nid = \"c\"\nkind = \"consent\"\nsay = [\"oui\"]\nafter = [\"prix\"]\n");
        assert_eq!(e.line, 3, "{e}");
        assert_eq!(e.field.as_deref(), Some("after"));
        assert!(e.message.contains("prix"), "{e}");

        let e = error_of(
            "[ruleset]\n\n[[rule]]\nid = \"h\"\nkind = \"calling_hours\"\nhours = [\"10h-13h\"]\n",
        );
        assert_eq!((e.line, e.field.as_deref()), (3, Some("hours")), "{e}");
        assert!(e.message.contains("10:00-13:00"), "{e}");

        let e = error_of("[ruleset]\nextends = \"fr-demarchag\"\n");
        assert!(e.message.contains("fr-demarchage"), "{e}");

        let e =
            error_of("[ruleset]\n\n[[rule]]\nid = \"a\"\nkind = \"required\"\nsay = [\"[oui\"]\n");
        assert_eq!(e.field.as_deref(), Some("say"), "{e}");

        let e = error_of("[ruleset]\n\n[[rule]]\nid = \"a\"\nkind = \"consent\"\nspeaker = \"agent\"\nsay = [\"oui\"]\n");
        assert_eq!(e.field.as_deref(), Some("speaker"), "{e}");

        let e = error_of("[ruleset]\nversion = \"trois\"\n");
        assert_eq!(e.line, 2, "{e}");

        // `means` is for forbidden statements and required items, each two groups of words
        // or more.
        let e = error_of("[ruleset]\n\n[[rule]]\nid = \"a\"\nkind = \"consent\"\nsay = [\"oui\"]\nmeans = [[\"prix\", \"demain\"]]\n");
        assert_eq!(e.field.as_deref(), Some("means"), "{e}");
        assert!(e.message.contains("forbidden"), "{e}");
        let e = error_of("[ruleset]\n\n[[rule]]\nid = \"a\"\nkind = \"forbidden\"\nsay = [\"oui\"]\nmeans = [[\"le prix augmente demain\"]]\n");
        assert_eq!(e.field.as_deref(), Some("means"), "{e}");
        assert!(e.message.contains("say"), "{e}");
    }

    #[test]
    fn phrases_compile() {
        let p = compile_phrase("[délai de] rétractation de quatorze jours", "fr").unwrap();
        let words: Vec<String> = p
            .toks
            .iter()
            .map(|t| match &t.word {
                PatWord::Word(w) => format!("{}{w}", if t.optional { "?" } else { "" }),
                PatWord::Number => "#".into(),
                PatWord::Name => "@".into(),
            })
            .collect();
        assert_eq!(
            words,
            ["?delai", "?de", "retractation", "de", "14", "jours"]
        );
        let p = compile_phrase("{number} euros", "fr").unwrap();
        assert_eq!(p.toks[0].word, PatWord::Number);
        assert!(compile_phrase("[optional only]", "fr").is_err());
        let p = compile_phrase("this is {name} from", "en").unwrap();
        assert_eq!(p.toks[2].word, PatWord::Name);
        // A name cannot lead (nothing would anchor the match) nor be optional.
        assert!(compile_phrase("{name} here", "fr").is_err());
        assert!(compile_phrase("this is [{name}] from", "en").is_err());
        assert!(compile_phrase("{company} here", "fr").is_err());
    }
}
