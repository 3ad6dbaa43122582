//! Writer for the legacy ggml file layout that `whisper_init_from_file` loads.
//!
//! Layout (whisper.cpp `whisper_model_load`): magic, 11 i32 hyper-parameters, the mel filterbank,
//! the vocabulary, then tensors, each as (n_dims, name length, type, dims innermost first, name,
//! data). The loader checks every tensor's type against the one it allocates, so each tensor's
//! storage type here mirrors that allocation.

use std::io::Write;

use half::{bf16, f16};

use super::ConvertError;

const GGML_MAGIC: u32 = 0x6767_6d6c;
/// ggml `GGML_QNT_VERSION * GGML_QNT_VERSION_FACTOR`, added to the file type of quantised files.
const QNT_VERSION_OFFSET: i32 = 2 * 1000;
const QK8_0: usize = 32;

/// How the large matrices are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightType {
    F16,
    /// Brain float: f16's range with 3 bits less precision. ggml multiplies it with AVX-512
    /// BF16 instructions where the CPU has them (twice f16's rate), and tinyBLAS takes it on
    /// AVX2 and AVX-512 otherwise; the attention caches stay f16 either way.
    Bf16,
    Q8_0,
}

impl WeightType {
    pub fn label(self) -> &'static str {
        match self {
            WeightType::F16 => "f16",
            WeightType::Bf16 => "bf16",
            WeightType::Q8_0 => "q8_0",
        }
    }

    /// What a converted model's default name carries after the source's name ("base-q8_0").
    pub fn name_suffix(self) -> &'static str {
        match self {
            WeightType::F16 => "",
            WeightType::Bf16 => "-bf16",
            WeightType::Q8_0 => "-q8_0",
        }
    }

    /// Splits a model name into its source's name and the weights its suffix names, if any:
    /// "base-bf16" is `("base", Some(Bf16))`, "base" is `("base", None)`.
    pub fn split_name(name: &str) -> (&str, Option<WeightType>) {
        for w in [WeightType::Bf16, WeightType::Q8_0] {
            if let Some(base) = name.strip_suffix(w.name_suffix()) {
                return (base, Some(w));
            }
        }
        (name, None)
    }

    fn file_type(self) -> i32 {
        match self {
            WeightType::F16 => 1,
            // GGML_FTYPE_MOSTLY_BF16: not a quantisation, so no version offset.
            WeightType::Bf16 => 24,
            WeightType::Q8_0 => QNT_VERSION_OFFSET + 7,
        }
    }
}

/// Storage of one tensor, as ggml's type ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    F32 = 0,
    F16 = 1,
    Q8_0 = 8,
    Bf16 = 30,
}

#[derive(Debug, Clone, Copy)]
pub struct HParams {
    pub n_vocab: i32,
    pub n_audio_ctx: i32,
    pub n_audio_state: i32,
    pub n_audio_head: i32,
    pub n_audio_layer: i32,
    pub n_text_ctx: i32,
    pub n_text_state: i32,
    pub n_text_head: i32,
    pub n_text_layer: i32,
    pub n_mels: i32,
}

pub struct GgmlWriter<W: Write> {
    out: W,
}

impl<W: Write> GgmlWriter<W> {
    pub fn new(
        mut out: W,
        hp: &HParams,
        weights: WeightType,
        filters: (&[f32], usize, usize),
        vocab: &[Vec<u8>],
    ) -> Result<Self, ConvertError> {
        let mut header = Vec::new();
        header.extend_from_slice(&GGML_MAGIC.to_le_bytes());
        for v in [
            hp.n_vocab,
            hp.n_audio_ctx,
            hp.n_audio_state,
            hp.n_audio_head,
            hp.n_audio_layer,
            hp.n_text_ctx,
            hp.n_text_state,
            hp.n_text_head,
            hp.n_text_layer,
            hp.n_mels,
            weights.file_type(),
        ] {
            header.extend_from_slice(&v.to_le_bytes());
        }
        let (data, n_mel, n_fft) = filters;
        header.extend_from_slice(&(n_mel as i32).to_le_bytes());
        header.extend_from_slice(&(n_fft as i32).to_le_bytes());
        for v in data {
            header.extend_from_slice(&v.to_le_bytes());
        }
        header.extend_from_slice(&(vocab.len() as i32).to_le_bytes());
        for token in vocab {
            header.extend_from_slice(&(token.len() as u32).to_le_bytes());
            header.extend_from_slice(token);
        }
        out.write_all(&header)?;
        Ok(Self { out })
    }

    /// Writes one tensor. `shape` is outermost first (PyTorch order); ggml wants it reversed.
    pub fn tensor(
        &mut self,
        name: &str,
        shape: &[usize],
        data: &[f32],
        storage: Storage,
    ) -> Result<(), ConvertError> {
        let mut head = Vec::new();
        head.extend_from_slice(&(shape.len() as i32).to_le_bytes());
        head.extend_from_slice(&(name.len() as i32).to_le_bytes());
        head.extend_from_slice(&(storage as i32).to_le_bytes());
        for d in shape.iter().rev() {
            head.extend_from_slice(&(*d as i32).to_le_bytes());
        }
        head.extend_from_slice(name.as_bytes());
        self.out.write_all(&head)?;
        let bytes: Vec<u8> = match storage {
            Storage::F32 => data.iter().flat_map(|v| v.to_le_bytes()).collect(),
            Storage::F16 => data
                .iter()
                .flat_map(|v| f16::from_f32(*v).to_le_bytes())
                .collect(),
            Storage::Bf16 => data
                .iter()
                .flat_map(|v| bf16::from_f32(*v).to_le_bytes())
                .collect(),
            Storage::Q8_0 => {
                let row = shape.last().copied().unwrap_or(0);
                if !row.is_multiple_of(QK8_0) {
                    return Err(ConvertError::Layout(format!(
                        "{name}: rows of {row} values cannot be split in q8_0 blocks of {QK8_0}"
                    )));
                }
                quantize_q8_0(data)
            }
        };
        self.out.write_all(&bytes)?;
        Ok(())
    }

    pub fn finish(mut self) -> Result<W, ConvertError> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// ggml's reference `quantize_row_q8_0`: per block of 32, an f16 scale then 32 signed bytes.
pub fn quantize_q8_0(data: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / QK8_0 * (2 + QK8_0));
    for block in data.chunks(QK8_0) {
        let amax = block.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let d = amax / 127.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&f16::from_f32(d).to_le_bytes());
        out.extend(block.iter().map(|v| (v * id).round() as i8 as u8));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q8_0_round_trips_within_half_a_step() {
        let data: Vec<f32> = (0..64).map(|i| (i as f32 - 31.5) / 7.0).collect();
        let q = quantize_q8_0(&data);
        assert_eq!(q.len(), 2 * 34);
        for (b, block) in data.chunks(32).enumerate() {
            let raw = &q[b * 34..(b + 1) * 34];
            let d = f16::from_le_bytes([raw[0], raw[1]]).to_f32();
            for (j, v) in block.iter().enumerate() {
                let back = raw[2 + j] as i8 as f32 * d;
                assert!((back - v).abs() <= d * 0.51, "{v} -> {back}");
            }
        }
    }

    /// Hyper-parameters of a model of one of everything: the header's shape is what matters.
    fn ones() -> HParams {
        HParams {
            n_vocab: 1,
            n_audio_ctx: 1,
            n_audio_state: 1,
            n_audio_head: 1,
            n_audio_layer: 1,
            n_text_ctx: 1,
            n_text_state: 1,
            n_text_head: 1,
            n_text_layer: 1,
            n_mels: 1,
        }
    }

    #[test]
    fn bf16_keeps_the_upper_half_of_each_float_rounded() {
        let hp = ones();
        let mut w =
            GgmlWriter::new(Vec::new(), &hp, WeightType::Bf16, (&[0.5], 1, 1), &[]).unwrap();
        // The header's file type is ggml's GGML_FTYPE_MOSTLY_BF16.
        assert_eq!(i32::from_le_bytes(w.out[44..48].try_into().unwrap()), 24);
        let header_len = w.out.len();
        // 1 + 2^-8 lies halfway between two bf16 values and rounds to the even one (1.0);
        // 1 + 3 * 2^-8 rounds up to 1 + 2^-6.
        let values = [1.0f32, -2.5, 1.0 + 1.0 / 256.0, 1.0 + 3.0 / 256.0];
        w.tensor("x", &[2, 2], &values, Storage::Bf16).unwrap();
        let t = &w.out[header_len..];
        assert_eq!(i32::from_le_bytes(t[8..12].try_into().unwrap()), 30);
        let data = &t[20 + 1..];
        assert_eq!(data.len(), 4 * 2);
        let back: Vec<f32> = data
            .chunks(2)
            .map(|c| f32::from_bits((u16::from_le_bytes([c[0], c[1]]) as u32) << 16))
            .collect();
        assert_eq!(back, vec![1.0, -2.5, 1.0, 1.0 + 1.0 / 64.0]);
    }

    #[test]
    fn model_names_carry_their_weights() {
        assert_eq!(WeightType::split_name("base"), ("base", None));
        assert_eq!(
            WeightType::split_name("base-bf16"),
            ("base", Some(WeightType::Bf16))
        );
        assert_eq!(
            WeightType::split_name("tiny.en-q8_0"),
            ("tiny.en", Some(WeightType::Q8_0))
        );
    }

    #[test]
    fn tensor_header_reverses_dimensions() {
        let hp = ones();
        let mut w = GgmlWriter::new(
            Vec::new(),
            &hp,
            WeightType::F16,
            (&[0.5], 1, 1),
            &[b"a".to_vec()],
        )
        .unwrap();
        let header_len = w.out.len();
        assert_eq!(header_len, 4 + 11 * 4 + 8 + 4 + 4 + 4 + 1);
        w.tensor("x", &[2, 3], &[0.0; 6], Storage::F32).unwrap();
        let t = &w.out[header_len..];
        let ints: Vec<i32> = t[..20]
            .chunks(4)
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        assert_eq!(ints, vec![2, 1, 0, 3, 2]);
        assert_eq!(t.len(), 20 + 1 + 24);
    }
}
