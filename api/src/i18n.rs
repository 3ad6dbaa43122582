//! The interface's words in French (default) and English, from `api/ui/i18n/*.toml`, compiled
//! in. One place, because pages and the evidence bundle's readable page speak the same words
//! (rule titles, outcomes, verdicts); a test checks both files have the same keys.

use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The words of `lang` ("en", otherwise French).
pub fn words(lang: &str) -> &'static BTreeMap<String, String> {
    static FR: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    static EN: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    let (cell, text) = if lang == "en" {
        (&EN, include_str!("../ui/i18n/en.toml"))
    } else {
        (&FR, include_str!("../ui/i18n/fr.toml"))
    };
    // Checked by the i18n test: a file that does not parse fails CI, not a page.
    cell.get_or_init(|| toml::from_str(text).unwrap_or_default())
}
