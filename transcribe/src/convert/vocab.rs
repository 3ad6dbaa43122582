//! GPT-2 byte-level BPE tokens back to raw bytes.
//!
//! CTranslate2's `vocabulary.txt` holds tokens in GPT-2's printable byte-to-unicode form ("Ġthe"),
//! while whisper.cpp compares raw bytes. Only the tokens before `<|endoftext|>` are written: the
//! loader derives the special tokens itself from the vocabulary size.

use super::ConvertError;

/// GPT-2's `bytes_to_unicode` table, inverted: printable code point → byte.
fn unicode_to_byte() -> std::collections::HashMap<char, u8> {
    let mut printable: Vec<u32> = (b'!' as u32..=b'~' as u32)
        .chain(0xA1..=0xAC)
        .chain(0xAE..=0xFF)
        .collect();
    let mut chars = printable.clone();
    let mut extra = 0;
    for b in 0..256u32 {
        if !printable.contains(&b) {
            printable.push(b);
            chars.push(256 + extra);
            extra += 1;
        }
    }
    printable
        .iter()
        .zip(&chars)
        .filter_map(|(b, c)| char::from_u32(*c).map(|c| (c, *b as u8)))
        .collect()
}

/// Decodes the vocabulary file into raw byte tokens up to (not including) `<|endoftext|>`.
pub fn decode_vocabulary(text: &str) -> Result<Vec<Vec<u8>>, ConvertError> {
    let table = unicode_to_byte();
    let mut out = Vec::new();
    for (line_no, token) in text.split('\n').enumerate() {
        if token == "<|endoftext|>" {
            return Ok(out);
        }
        let bytes = token
            .chars()
            .map(|c| table.get(&c).copied())
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| {
                ConvertError::Vocabulary(format!(
                    "line {}: token {token:?} is not GPT-2 byte-level BPE",
                    line_no + 1
                ))
            })?;
        out.push(bytes);
    }
    Err(ConvertError::Vocabulary(
        "no <|endoftext|> token: this is not a Whisper vocabulary".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_byte_level_tokens() {
        let v = decode_vocabulary("!\nĠthe\nĊ\nÃ©\n<|endoftext|>\n<|startoftranscript|>").unwrap();
        assert_eq!(
            v,
            vec![
                b"!".to_vec(),
                b" the".to_vec(),
                b"\n".to_vec(),
                "é".as_bytes().to_vec()
            ]
        );
    }

    #[test]
    fn rejects_foreign_vocabularies() {
        assert!(decode_vocabulary("hello\nworld").is_err());
        assert!(decode_vocabulary("☃\n<|endoftext|>").is_err());
    }
}
