//! CTranslate2 Whisper → ggml conversion.
//!
//! Whisper weights reach this network only as CTranslate2 (faster-whisper) models, while
//! whisper.cpp loads ggml files. The mapping follows whisper.cpp's loader: fused self-attention
//! q/k/v (`…/self_attention/linear_0`) and cross-attention k/v (`…/attention/linear_1`) are split
//! by rows, key biases (always zero in Whisper) are dropped, linear weights keep their (out, in)
//! layout, conv biases become (d, 1), 1-D tensors and positional embeddings stay f32.

mod ct2;
mod ggml;
mod mel;
mod vocab;

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

pub use ggml::WeightType;
use ggml::{GgmlWriter, HParams, Storage};

use ct2::{Ct2Model, Tensor};

#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("the CTranslate2 model lacks tensor {0}: is this a Whisper model?")]
    MissingTensor(String),
    #[error("unexpected CTranslate2 model layout: {0}")]
    Layout(String),
    #[error("vocabulary: {0}")]
    Vocabulary(String),
    #[error("{path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("writing the ggml file: {0}")]
    Io(#[from] std::io::Error),
}

/// What a conversion produced.
#[derive(Debug, Clone)]
pub struct Converted {
    pub multilingual: bool,
    pub n_audio_layer: i32,
    pub n_audio_state: i32,
    pub tensors: usize,
}

fn read(path: &Path) -> Result<Vec<u8>, ConvertError> {
    std::fs::read(path).map_err(|source| ConvertError::File {
        path: path.display().to_string(),
        source,
    })
}

/// Loads the vocabulary of a CTranslate2 model folder (`vocabulary.txt` or `vocabulary.json`).
fn load_vocabulary(dir: &Path) -> Result<Vec<Vec<u8>>, ConvertError> {
    let txt = dir.join("vocabulary.txt");
    if txt.exists() {
        let text = String::from_utf8(read(&txt)?)
            .map_err(|_| ConvertError::Vocabulary("vocabulary.txt is not UTF-8".into()))?;
        return vocab::decode_vocabulary(&text);
    }
    let json = dir.join("vocabulary.json");
    let tokens: Vec<String> = serde_json::from_slice(&read(&json)?)
        .map_err(|e| ConvertError::Vocabulary(format!("vocabulary.json: {e}")))?;
    vocab::decode_vocabulary(&tokens.join("\n"))
}

fn layer_count(model: &Ct2Model, prefix: &str) -> i32 {
    let mut n = 0;
    while model.has(&format!("{prefix}/layer_{n}/ffn/linear_0/weight")) {
        n += 1;
    }
    n
}

/// Converts the CTranslate2 Whisper model in `dir` (holding `model.bin` and a vocabulary) to a
/// ggml file at `out`.
pub fn convert_ct2_dir(
    dir: &Path,
    out: &Path,
    weights: WeightType,
) -> Result<Converted, ConvertError> {
    let bin = read(&dir.join("model.bin"))?;
    let model = Ct2Model::parse(&bin)?;
    drop(bin);
    if model.spec_name != "WhisperSpec" {
        return Err(ConvertError::Layout(format!(
            "the model is a {}, not a Whisper model (WhisperSpec)",
            model.spec_name
        )));
    }
    let vocab = load_vocabulary(dir)?;

    let embeddings = model.tensor("decoder/embeddings/weight")?;
    let conv1 = model.tensor("encoder/conv1/weight")?;
    let enc_pos = model.tensor("encoder/position_encodings/encodings")?;
    let dec_pos = model.tensor("decoder/position_encodings/encodings")?;
    let dim = |t: &Tensor, i: usize| t.shape.get(i).copied().unwrap_or(0) as i32;
    let hp = HParams {
        n_vocab: dim(&embeddings, 0),
        n_audio_ctx: dim(&enc_pos, 0),
        n_audio_state: dim(&conv1, 0),
        n_audio_head: model.scalar_int("encoder/num_heads")? as i32,
        n_audio_layer: layer_count(&model, "encoder"),
        n_text_ctx: dim(&dec_pos, 0),
        n_text_state: dim(&embeddings, 1),
        n_text_head: model.scalar_int("decoder/num_heads")? as i32,
        n_text_layer: layer_count(&model, "decoder"),
        n_mels: dim(&conv1, 1),
    };
    if hp.n_audio_layer == 0 || hp.n_text_layer == 0 {
        return Err(ConvertError::Layout(
            "no encoder or decoder layers found".into(),
        ));
    }
    let filters = mel::slaney_filterbank(16000, 400, hp.n_mels as usize);

    let tmp = out.with_extension("partial");
    let file = File::create(&tmp).map_err(|source| ConvertError::File {
        path: tmp.display().to_string(),
        source,
    })?;
    let mut w = GgmlWriter::new(
        BufWriter::with_capacity(1 << 20, file),
        &hp,
        weights,
        (&filters, hp.n_mels as usize, 201),
        &vocab,
    )?;
    let matrix = match weights {
        WeightType::F16 => Storage::F16,
        WeightType::Bf16 => Storage::Bf16,
        WeightType::Q8_0 => Storage::Q8_0,
    };
    let mut count = 0usize;
    let mut put = |w: &mut GgmlWriter<_>, name: &str, t: &Tensor, storage: Storage| {
        count += 1;
        w.tensor(name, &t.shape, &t.data, storage)
    };
    let f32_of = |name: &str| model.tensor(name);

    // Encoder stem.
    put(
        &mut w,
        "encoder.positional_embedding",
        &enc_pos,
        Storage::F32,
    )?;
    put(&mut w, "encoder.conv1.weight", &conv1, Storage::F16)?;
    for conv in ["conv1", "conv2"] {
        if conv == "conv2" {
            put(
                &mut w,
                "encoder.conv2.weight",
                &f32_of("encoder/conv2/weight")?,
                Storage::F16,
            )?;
        }
        let mut bias = f32_of(&format!("encoder/{conv}/bias"))?;
        bias.shape = vec![bias.data.len(), 1];
        put(&mut w, &format!("encoder.{conv}.bias"), &bias, Storage::F32)?;
    }
    put(
        &mut w,
        "encoder.ln_post.weight",
        &f32_of("encoder/layer_norm/gamma")?,
        Storage::F32,
    )?;
    put(
        &mut w,
        "encoder.ln_post.bias",
        &f32_of("encoder/layer_norm/beta")?,
        Storage::F32,
    )?;

    // Decoder stem.
    put(
        &mut w,
        "decoder.positional_embedding",
        &dec_pos,
        Storage::F32,
    )?;
    put(
        &mut w,
        "decoder.token_embedding.weight",
        &embeddings,
        matrix,
    )?;
    drop(embeddings);
    put(
        &mut w,
        "decoder.ln.weight",
        &f32_of("decoder/layer_norm/gamma")?,
        Storage::F32,
    )?;
    put(
        &mut w,
        "decoder.ln.bias",
        &f32_of("decoder/layer_norm/beta")?,
        Storage::F32,
    )?;

    for (side, layers) in [("encoder", hp.n_audio_layer), ("decoder", hp.n_text_layer)] {
        for i in 0..layers {
            let src = format!("{side}/layer_{i}");
            let dst = format!("{side}.blocks.{i}");
            let mut norm =
                |w: &mut GgmlWriter<_>, from: &str, to: &str| -> Result<(), ConvertError> {
                    put(
                        w,
                        &format!("{dst}.{to}.weight"),
                        &f32_of(&format!("{src}/{from}/gamma"))?,
                        Storage::F32,
                    )?;
                    put(
                        w,
                        &format!("{dst}.{to}.bias"),
                        &f32_of(&format!("{src}/{from}/beta"))?,
                        Storage::F32,
                    )
                };
            norm(&mut w, "self_attention/layer_norm", "attn_ln")?;
            norm(&mut w, "ffn/layer_norm", "mlp_ln")?;
            if side == "decoder" {
                norm(&mut w, "attention/layer_norm", "cross_attn_ln")?;
            }
            let mut linear =
                |w: &mut GgmlWriter<_>, from: &str, to: &str| -> Result<(), ConvertError> {
                    put(
                        w,
                        &format!("{dst}.{to}.weight"),
                        &f32_of(&format!("{src}/{from}/weight"))?,
                        matrix,
                    )?;
                    put(
                        w,
                        &format!("{dst}.{to}.bias"),
                        &f32_of(&format!("{src}/{from}/bias"))?,
                        Storage::F32,
                    )
                };
            linear(&mut w, "self_attention/linear_1", "attn.out")?;
            linear(&mut w, "ffn/linear_0", "mlp.0")?;
            linear(&mut w, "ffn/linear_1", "mlp.2")?;
            if side == "decoder" {
                linear(&mut w, "attention/linear_0", "cross_attn.query")?;
                linear(&mut w, "attention/linear_2", "cross_attn.out")?;
            }
            // Fused projections: q/k/v (self) and k/v (cross), split by rows.
            let mut fused =
                |w: &mut GgmlWriter<_>, from: &str, names: &[&str]| -> Result<(), ConvertError> {
                    let weight =
                        f32_of(&format!("{src}/{from}/weight"))?.split_rows(names.len())?;
                    let bias = f32_of(&format!("{src}/{from}/bias"))?.split_rows(names.len())?;
                    for ((name, wt), b) in names.iter().zip(&weight).zip(&bias) {
                        put(w, &format!("{dst}.{name}.weight"), wt, matrix)?;
                        if name.ends_with("key") {
                            let largest = b.data.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                            if largest > 1e-3 {
                                return Err(ConvertError::Layout(format!(
                                "{src}/{from}: the key bias is not zero (|b| up to {largest}); \
                                 whisper.cpp has no key bias, so this model cannot be converted"
                            )));
                            }
                        } else {
                            put(w, &format!("{dst}.{name}.bias"), b, Storage::F32)?;
                        }
                    }
                    Ok(())
                };
            fused(
                &mut w,
                "self_attention/linear_0",
                &["attn.query", "attn.key", "attn.value"],
            )?;
            if side == "decoder" {
                fused(
                    &mut w,
                    "attention/linear_1",
                    &["cross_attn.key", "cross_attn.value"],
                )?;
            }
        }
    }
    w.finish()?;
    std::fs::rename(&tmp, out).map_err(|source| ConvertError::File {
        path: out.display().to_string(),
        source,
    })?;
    Ok(Converted {
        multilingual: hp.n_vocab >= 51865,
        n_audio_layer: hp.n_audio_layer,
        n_audio_state: hp.n_audio_state,
        tensors: count,
    })
}
