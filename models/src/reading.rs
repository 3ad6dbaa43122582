//! The text of a script reading, shared by the crate that builds readings (verification) and
//! the one that scores them (transcription): the two never depend on each other, so the slots
//! a reading leaves for the recording to fill are defined here, once.

/// Where a reading lets the recording say which number was said: "{number} euros" is scored
/// with the digits the model finds most likely in that place. A price garbled beyond matching
/// ("la dévion qui l'a coût sans l'acteur" for "l'adhésion coûte cent vingt euros") has no
/// reading otherwise: no phrasing can say which amount.
pub const NUMBER_SLOT: &str = "{number}";

/// Where a reading ends with whatever the model hears after it, given the reading so far: how
/// likely the audio is *with* the reading, not with the reading and the model's first hearing
/// of what follows (a garbled price takes the words after it along: "cent vingt euros par an"
/// heard "sans l'acteur retardant").
pub const REST_SLOT: &str = "{rest}";
