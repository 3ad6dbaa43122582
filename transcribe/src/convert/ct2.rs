//! Reader for CTranslate2's `model.bin`.
//!
//! faster-whisper ships its weights in this format, and on networks where only package registries
//! are reachable it is the one form Whisper weights arrive in. The layout (binary version 5 and 6)
//! is a list of named tensors followed by aliases; see CTranslate2's `model_spec.py`.

use std::collections::HashMap;

use half::{bf16, f16};

use super::ConvertError;

/// A decoded tensor, values widened to f32 (quantised int8 weights are de-quantised).
#[derive(Debug, Clone)]
pub struct Tensor {
    /// Dimensions, outermost first, as CTranslate2 stores them (a linear weight is (out, in)).
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl Tensor {
    pub fn rows(&self) -> usize {
        self.shape.first().copied().unwrap_or(1)
    }

    /// Splits a fused tensor by rows into `parts` equal tensors (fused q/k/v, fused k/v).
    pub fn split_rows(&self, parts: usize) -> Result<Vec<Tensor>, ConvertError> {
        let rows = self.rows();
        if parts == 0 || !rows.is_multiple_of(parts) {
            return Err(ConvertError::Layout(format!(
                "cannot split a tensor of {rows} rows into {parts} equal parts"
            )));
        }
        let per = self.data.len() / parts;
        let mut shape = self.shape.clone();
        if let Some(first) = shape.first_mut() {
            *first = rows / parts;
        }
        Ok(self
            .data
            .chunks(per)
            .map(|c| Tensor {
                shape: shape.clone(),
                data: c.to_vec(),
            })
            .collect())
    }
}

/// Every named variable of a CTranslate2 model, with aliases resolved.
pub struct Ct2Model {
    pub spec_name: String,
    tensors: HashMap<String, RawVar>,
    aliases: HashMap<String, String>,
}

struct RawVar {
    shape: Vec<usize>,
    dtype: u8,
    bytes: Vec<u8>,
}

// CTranslate2's DataType enumeration.
const DT_F32: u8 = 0;
const DT_I8: u8 = 1;
const DT_I16: u8 = 2;
const DT_I32: u8 = 3;
const DT_F16: u8 = 4;
const DT_BF16: u8 = 5;

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ConvertError> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.buf.len());
        match end {
            Some(end) => {
                let s = &self.buf[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(ConvertError::Layout(format!(
                "model.bin ends early at byte {} (wanted {n} more bytes): the file is truncated",
                self.pos
            ))),
        }
    }
    fn u8(&mut self) -> Result<u8, ConvertError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, ConvertError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, ConvertError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn string(&mut self) -> Result<String, ConvertError> {
        let n = self.u16()? as usize;
        let b = self.take(n)?;
        // Strings are written with their NUL terminator counted in the length.
        let b = b.strip_suffix(&[0]).unwrap_or(b);
        String::from_utf8(b.to_vec())
            .map_err(|_| ConvertError::Layout("a variable name is not UTF-8".into()))
    }
}

impl Ct2Model {
    /// Parses a whole `model.bin` held in memory.
    pub fn parse(buf: &[u8]) -> Result<Self, ConvertError> {
        let mut r = Reader { buf, pos: 0 };
        let version = r.u32()?;
        if !(5..=6).contains(&version) {
            return Err(ConvertError::Layout(format!(
                "CTranslate2 binary version {version} is not supported (5 and 6 are): \
                 re-export the model with a current ctranslate2 converter"
            )));
        }
        let spec_name = r.string()?;
        let _revision = r.u32()?;
        let count = r.u32()? as usize;
        let mut tensors = HashMap::with_capacity(count);
        for _ in 0..count {
            let name = r.string()?;
            let ndim = r.u8()? as usize;
            let mut shape = Vec::with_capacity(ndim);
            for _ in 0..ndim {
                shape.push(r.u32()? as usize);
            }
            let dtype = r.u8()?;
            let nbytes = r.u32()? as usize;
            let bytes = r.take(nbytes)?.to_vec();
            let elems: usize = shape.iter().product();
            let width = match dtype {
                DT_F32 | DT_I32 => 4,
                DT_F16 | DT_BF16 | DT_I16 => 2,
                DT_I8 => 1,
                other => {
                    return Err(ConvertError::Layout(format!(
                        "variable {name} has unknown CTranslate2 data type {other}"
                    )))
                }
            };
            if elems * width != nbytes {
                return Err(ConvertError::Layout(format!(
                    "variable {name}: shape {shape:?} needs {} bytes but the file holds {nbytes}",
                    elems * width
                )));
            }
            tensors.insert(
                name,
                RawVar {
                    shape,
                    dtype,
                    bytes,
                },
            );
        }
        let mut aliases = HashMap::new();
        // Version 5 files have no alias table at the end when it would be empty.
        if r.pos < buf.len() {
            let n = r.u32()? as usize;
            for _ in 0..n {
                let alias = r.string()?;
                let target = r.string()?;
                aliases.insert(alias, target);
            }
        }
        Ok(Self {
            spec_name,
            tensors,
            aliases,
        })
    }

    fn raw(&self, name: &str) -> Option<&RawVar> {
        self.tensors.get(name).or_else(|| {
            self.aliases
                .get(name)
                .and_then(|target| self.tensors.get(target))
        })
    }

    pub fn has(&self, name: &str) -> bool {
        self.raw(name).is_some()
    }

    /// A scalar integer attribute such as `encoder/num_heads`.
    pub fn scalar_int(&self, name: &str) -> Result<i64, ConvertError> {
        let v = self
            .raw(name)
            .ok_or_else(|| ConvertError::MissingTensor(name.to_string()))?;
        let b = &v.bytes;
        Ok(match v.dtype {
            DT_I8 if !b.is_empty() => b[0] as i8 as i64,
            DT_I16 if b.len() >= 2 => i16::from_le_bytes([b[0], b[1]]) as i64,
            DT_I32 if b.len() >= 4 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
            _ => {
                return Err(ConvertError::Layout(format!(
                    "{name} is not an integer scalar"
                )))
            }
        })
    }

    /// A float tensor; int8 weights are de-quantised with their `weight_scale` companion.
    pub fn tensor(&self, name: &str) -> Result<Tensor, ConvertError> {
        let v = self
            .raw(name)
            .ok_or_else(|| ConvertError::MissingTensor(name.to_string()))?;
        let data: Vec<f32> = match v.dtype {
            DT_F32 => v
                .bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            DT_F16 => v
                .bytes
                .chunks_exact(2)
                .map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            DT_BF16 => v
                .bytes
                .chunks_exact(2)
                .map(|c| bf16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            DT_I8 => {
                let scale_name = name
                    .strip_suffix("weight")
                    .map(|p| format!("{p}weight_scale"))
                    .ok_or_else(|| {
                        ConvertError::Layout(format!("int8 variable {name} is not a weight"))
                    })?;
                let scale = self.tensor(&scale_name)?;
                let rows = v.shape.first().copied().unwrap_or(1).max(1);
                let per_row = v.bytes.len() / rows;
                if scale.data.len() != rows && scale.data.len() != 1 {
                    return Err(ConvertError::Layout(format!(
                        "{scale_name} has {} values for {rows} rows",
                        scale.data.len()
                    )));
                }
                // CTranslate2 stores q = round(w * scale), so w = q / scale.
                v.bytes
                    .iter()
                    .enumerate()
                    .map(|(i, q)| {
                        let s = if scale.data.len() == 1 {
                            scale.data[0]
                        } else {
                            scale.data[i / per_row]
                        };
                        (*q as i8) as f32 / s
                    })
                    .collect()
            }
            other => {
                return Err(ConvertError::Layout(format!(
                    "{name} has data type {other}, not a float tensor"
                )))
            }
        };
        Ok(Tensor {
            shape: v.shape.clone(),
            data,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Writes a CTranslate2 v6 file the way `model_spec.py` does, for tests.
    pub(crate) fn write_ct2(
        vars: &[(&str, Vec<usize>, u8, Vec<u8>)],
        aliases: &[(&str, &str)],
    ) -> Vec<u8> {
        fn s(out: &mut Vec<u8>, v: &str) {
            out.extend_from_slice(&((v.len() + 1) as u16).to_le_bytes());
            out.extend_from_slice(v.as_bytes());
            out.push(0);
        }
        let mut out = Vec::new();
        out.extend_from_slice(&6u32.to_le_bytes());
        s(&mut out, "WhisperSpec");
        out.extend_from_slice(&3u32.to_le_bytes());
        out.extend_from_slice(&(vars.len() as u32).to_le_bytes());
        for (name, shape, dt, bytes) in vars {
            s(&mut out, name);
            out.push(shape.len() as u8);
            for d in shape {
                out.extend_from_slice(&(*d as u32).to_le_bytes());
            }
            out.push(*dt);
            out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            out.extend_from_slice(bytes);
        }
        out.extend_from_slice(&(aliases.len() as u32).to_le_bytes());
        for (a, t) in aliases {
            s(&mut out, a);
            s(&mut out, t);
        }
        out
    }

    #[test]
    fn parses_types_aliases_and_int8() {
        let f16s: Vec<u8> = [1.5f32, -2.0, 0.25, 4.0]
            .iter()
            .flat_map(|v| f16::from_f32(*v).to_le_bytes())
            .collect();
        let i8s: Vec<u8> = [10i8, -20, 30, -40].iter().map(|v| *v as u8).collect();
        let scales: Vec<u8> = [10.0f32, 20.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let buf = write_ct2(
            &[
                ("a/weight", vec![2, 2], DT_F16, f16s),
                ("q/weight", vec![2, 2], DT_I8, i8s),
                ("q/weight_scale", vec![2], DT_F32, scales),
                ("heads", vec![], DT_I16, 6i16.to_le_bytes().to_vec()),
            ],
            &[("b/weight", "a/weight")],
        );
        let m = Ct2Model::parse(&buf).unwrap();
        assert_eq!(m.spec_name, "WhisperSpec");
        assert_eq!(
            m.tensor("b/weight").unwrap().data,
            vec![1.5, -2.0, 0.25, 4.0]
        );
        assert_eq!(
            m.tensor("q/weight").unwrap().data,
            vec![1.0, -2.0, 1.5, -2.0]
        );
        assert_eq!(m.scalar_int("heads").unwrap(), 6);
        let parts = m.tensor("a/weight").unwrap().split_rows(2).unwrap();
        assert_eq!(parts[1].data, vec![0.25, 4.0]);
        assert_eq!(parts[1].shape, vec![1, 2]);
    }

    #[test]
    fn truncated_file_is_reported() {
        let buf = write_ct2(&[("a", vec![4], DT_F32, vec![0; 16])], &[]);
        let err = Ct2Model::parse(&buf[..buf.len() - 10]).err().unwrap();
        assert!(err.to_string().contains("truncated"), "{err}");
    }
}
