//! Reads PyTorch's legacy (pre-1.6, non-zip) `torch.save` files without PyTorch.
//!
//! The speaker encoder reaches this network only as such a file inside a Python wheel. Its
//! layout: three small pickles (magic number, protocol version, system info), the pickled
//! object whose tensors point to storages by persistent id, a pickled list of storage keys,
//! then each storage in that order as a little-endian element count and its raw data. Only the
//! pickle opcodes `torch.save` emits at protocol 2 are understood; anything else is refused
//! with its offset, never guessed.

use std::collections::HashMap;

#[derive(Debug, thiserror::Error)]
pub enum TorchError {
    #[error("not a legacy PyTorch file: {0}")]
    Format(String),
    #[error("pickle opcode 0x{op:02x} at byte {at} is not supported")]
    Opcode { op: u8, at: usize },
    #[error("the file ends early (at byte {0})")]
    Truncated(usize),
}

/// A float32 tensor, row-major and contiguous.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

#[derive(Debug, Clone)]
enum Val {
    None,
    /// Booleans and floats are read past, their values unused.
    Bool,
    Int(i64),
    Float,
    Str(String),
    Bytes(Vec<u8>),
    Tuple(Vec<Val>),
    List(Vec<Val>),
    Dict(Vec<(Val, Val)>),
    Global(String, String),
    /// `('storage', type, key, location, numel)`.
    Storage {
        key: String,
        dtype: String,
    },
    TensorRef {
        key: String,
        offset: usize,
        size: Vec<usize>,
        stride: Vec<usize>,
    },
    /// Any other object built by a call: kept opaque.
    Other,
    Mark,
}

impl Val {
    fn as_usize(&self) -> Option<usize> {
        match self {
            Val::Int(i) if *i >= 0 => Some(*i as usize),
            _ => None,
        }
    }
    fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            Val::Bytes(b) => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }
    fn ints(&self) -> Option<Vec<usize>> {
        match self {
            Val::Tuple(v) | Val::List(v) => v.iter().map(Val::as_usize).collect(),
            _ => None,
        }
    }
}

struct Unpickler<'a> {
    data: &'a [u8],
    pos: usize,
    stack: Vec<Val>,
    memo: HashMap<u32, Val>,
}

impl<'a> Unpickler<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], TorchError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.data.len())
            .ok_or(TorchError::Truncated(self.pos))?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, TorchError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, TorchError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, TorchError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn line(&mut self) -> Result<String, TorchError> {
        let start = self.pos;
        let rest = &self.data[start..];
        let n = rest
            .iter()
            .position(|b| *b == b'\n')
            .ok_or(TorchError::Truncated(start))?;
        self.pos = start + n + 1;
        Ok(String::from_utf8_lossy(&rest[..n]).into_owned())
    }
    fn pop(&mut self) -> Result<Val, TorchError> {
        self.stack
            .pop()
            .ok_or_else(|| TorchError::Format(format!("empty pickle stack at byte {}", self.pos)))
    }
    fn pop_mark(&mut self) -> Result<Vec<Val>, TorchError> {
        let at = self
            .stack
            .iter()
            .rposition(|v| matches!(v, Val::Mark))
            .ok_or_else(|| TorchError::Format(format!("no mark at byte {}", self.pos)))?;
        let items = self.stack.split_off(at + 1);
        self.stack.pop();
        Ok(items)
    }
    fn top(&mut self) -> Result<&mut Val, TorchError> {
        let pos = self.pos;
        self.stack
            .last_mut()
            .ok_or_else(|| TorchError::Format(format!("empty pickle stack at byte {pos}")))
    }

    /// Runs one pickle to its STOP and returns the object it built.
    fn load(&mut self) -> Result<Val, TorchError> {
        self.stack.clear();
        self.memo.clear();
        loop {
            let at = self.pos;
            let op = self.u8()?;
            match op {
                0x80 => {
                    self.u8()?; // PROTO
                }
                b'.' => return self.pop(),
                b'(' => self.stack.push(Val::Mark),
                b'N' => self.stack.push(Val::None),
                0x88 => self.stack.push(Val::Bool),
                0x89 => self.stack.push(Val::Bool),
                b'K' => {
                    let v = self.u8()?;
                    self.stack.push(Val::Int(v.into()))
                }
                b'M' => {
                    let v = self.u16()?;
                    self.stack.push(Val::Int(v.into()))
                }
                b'J' => {
                    let v = self.u32()? as i32;
                    self.stack.push(Val::Int(v.into()))
                }
                0x8a => {
                    // LONG1: little-endian two's complement of n bytes.
                    let n = self.u8()? as usize;
                    let b = self.take(n)?;
                    let mut v: i128 = 0;
                    for (i, byte) in b.iter().enumerate().take(16) {
                        v |= (*byte as i128) << (8 * i);
                    }
                    if n > 0 && n < 16 && b[n - 1] & 0x80 != 0 {
                        v -= 1i128 << (8 * n);
                    }
                    self.stack.push(Val::Int(v as i64));
                }
                b'G' => {
                    self.take(8)?;
                    self.stack.push(Val::Float);
                }
                b'X' => {
                    let n = self.u32()? as usize;
                    let b = self.take(n)?;
                    self.stack
                        .push(Val::Str(String::from_utf8_lossy(b).into_owned()));
                }
                b'U' => {
                    let n = self.u8()? as usize;
                    let b = self.take(n)?.to_vec();
                    self.stack.push(Val::Bytes(b));
                }
                b'T' => {
                    let n = self.u32()? as usize;
                    let b = self.take(n)?.to_vec();
                    self.stack.push(Val::Bytes(b));
                }
                b')' => self.stack.push(Val::Tuple(Vec::new())),
                b']' => self.stack.push(Val::List(Vec::new())),
                b'}' => self.stack.push(Val::Dict(Vec::new())),
                b't' => {
                    let items = self.pop_mark()?;
                    self.stack.push(Val::Tuple(items));
                }
                b'l' => {
                    let items = self.pop_mark()?;
                    self.stack.push(Val::List(items));
                }
                b'd' => {
                    let items = self.pop_mark()?;
                    let pairs = pairs(items);
                    self.stack.push(Val::Dict(pairs));
                }
                0x85..=0x87 => {
                    let n = (op - 0x84) as usize;
                    if self.stack.len() < n {
                        return Err(TorchError::Format(format!("short tuple at byte {at}")));
                    }
                    let items = self.stack.split_off(self.stack.len() - n);
                    self.stack.push(Val::Tuple(items));
                }
                b'q' => {
                    let k = self.u8()? as u32;
                    let v = self.top()?.clone();
                    self.memo.insert(k, v);
                }
                b'r' => {
                    let k = self.u32()?;
                    let v = self.top()?.clone();
                    self.memo.insert(k, v);
                }
                b'h' | b'j' => {
                    let k = if op == b'h' {
                        self.u8()? as u32
                    } else {
                        self.u32()?
                    };
                    let v = self
                        .memo
                        .get(&k)
                        .cloned()
                        .ok_or_else(|| TorchError::Format(format!("memo {k} unset at {at}")))?;
                    self.stack.push(v);
                }
                b'c' => {
                    let module = self.line()?;
                    let name = self.line()?;
                    self.stack.push(Val::Global(module, name));
                }
                b'Q' => {
                    let pid = self.pop()?;
                    self.stack.push(persistent(pid)?);
                }
                b'R' | 0x81 => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    self.stack.push(reduce(callable, args));
                }
                b'b' => {
                    self.pop()?; // BUILD: the state of an object we keep opaque.
                }
                b'a' => {
                    let v = self.pop()?;
                    if let Val::List(l) = self.top()? {
                        l.push(v);
                    }
                }
                b'e' => {
                    let items = self.pop_mark()?;
                    if let Val::List(l) = self.top()? {
                        l.extend(items);
                    }
                }
                b's' => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    if let Val::Dict(d) = self.top()? {
                        d.push((k, v));
                    }
                }
                b'u' => {
                    let items = self.pop_mark()?;
                    let new = pairs(items);
                    if let Val::Dict(d) = self.top()? {
                        d.extend(new);
                    }
                }
                _ => return Err(TorchError::Opcode { op, at }),
            }
        }
    }
}

fn pairs(items: Vec<Val>) -> Vec<(Val, Val)> {
    let mut out = Vec::with_capacity(items.len() / 2);
    let mut it = items.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        out.push((k, v));
    }
    out
}

fn persistent(pid: Val) -> Result<Val, TorchError> {
    let Val::Tuple(parts) = pid else {
        return Err(TorchError::Format("a persistent id is not a tuple".into()));
    };
    match parts.as_slice() {
        [kind, Val::Global(_, dtype), key, ..] if kind.as_str() == Some("storage") => {
            Ok(Val::Storage {
                key: key
                    .as_str()
                    .ok_or_else(|| TorchError::Format("a storage key is not a string".into()))?
                    .to_string(),
                dtype: dtype.clone(),
            })
        }
        _ => Err(TorchError::Format(
            "a persistent id is not a storage".into(),
        )),
    }
}

fn reduce(callable: Val, args: Val) -> Val {
    let Val::Global(module, name) = callable else {
        return Val::Other;
    };
    let args = match args {
        Val::Tuple(a) => a,
        _ => return Val::Other,
    };
    match (module.as_str(), name.as_str()) {
        ("collections", "OrderedDict") => Val::Dict(Vec::new()),
        ("torch._utils", "_rebuild_tensor_v2") | ("torch._utils", "_rebuild_tensor") => {
            match args.as_slice() {
                [Val::Storage { key, dtype }, offset, size, stride, ..]
                    if dtype == "FloatStorage" =>
                {
                    match (offset.as_usize(), size.ints(), stride.ints()) {
                        (Some(offset), Some(size), Some(stride)) => Val::TensorRef {
                            key: key.clone(),
                            offset,
                            size,
                            stride,
                        },
                        _ => Val::Other,
                    }
                }
                _ => Val::Other,
            }
        }
        _ => Val::Other,
    }
}

/// Reads the float32 tensors of the dictionary at `path` (e.g. `["model_state"]`) in a
/// legacy `torch.save` file. Tensors of other types, and other values, are skipped.
pub fn read_state_dict(bytes: &[u8], path: &[&str]) -> Result<HashMap<String, Tensor>, TorchError> {
    let mut p = Unpickler {
        data: bytes,
        pos: 0,
        stack: Vec::new(),
        memo: HashMap::new(),
    };
    // The magic number 0x1950a86a20f9469cfc6c does not fit in i64: LONG1 keeps its low bits.
    match p.load()? {
        Val::Int(m) if m as u64 == 0x1950a86a20f9469cfc6c_u128 as u64 => {}
        _ => {
            return Err(TorchError::Format(
                "wrong magic number (a zip-format PyTorch file, or another file?)".into(),
            ))
        }
    }
    let version = p.load()?;
    if version.as_usize() != Some(1001) {
        return Err(TorchError::Format(format!(
            "protocol version {version:?}, expected 1001"
        )));
    }
    p.load()?; // system info: little-endian, type sizes
    let mut obj = p.load()?;
    let keys = match p.load()? {
        Val::List(k) => k
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| TorchError::Format("storage keys are not strings".into()))?,
        _ => return Err(TorchError::Format("no storage key list".into())),
    };
    let mut storages: HashMap<String, Vec<f32>> = HashMap::new();
    for key in keys {
        let b = p.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        let n = u64::from_le_bytes(a) as usize;
        let raw = p.take(n.checked_mul(4).ok_or(TorchError::Truncated(p.pos))?)?;
        let data = raw
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        storages.insert(key, data);
    }
    for step in path {
        obj = match obj {
            Val::Dict(d) => d
                .into_iter()
                .find(|(k, _)| k.as_str() == Some(step))
                .map(|(_, v)| v)
                .ok_or_else(|| TorchError::Format(format!("no {step:?} in the file")))?,
            _ => {
                return Err(TorchError::Format(format!(
                    "{step:?} is not in a dictionary"
                )))
            }
        };
    }
    let Val::Dict(entries) = obj else {
        return Err(TorchError::Format("the state is not a dictionary".into()));
    };
    let mut out = HashMap::new();
    for (k, v) in entries {
        let (
            Some(name),
            Val::TensorRef {
                key,
                offset,
                size,
                stride,
            },
        ) = (k.as_str(), v)
        else {
            continue;
        };
        let storage = storages
            .get(&key)
            .ok_or_else(|| TorchError::Format(format!("{name}: storage {key} missing")))?;
        let data = gather(storage, offset, &size, &stride)
            .ok_or_else(|| TorchError::Format(format!("{name}: view outside its storage")))?;
        out.insert(name.to_string(), Tensor { shape: size, data });
    }
    Ok(out)
}

/// Copies a strided view into a contiguous row-major vector.
fn gather(storage: &[f32], offset: usize, size: &[usize], stride: &[usize]) -> Option<Vec<f32>> {
    if size.len() != stride.len() {
        return None;
    }
    let n: usize = size.iter().product();
    let mut out = Vec::with_capacity(n);
    let mut idx = vec![0usize; size.len()];
    for _ in 0..n {
        let at = offset + idx.iter().zip(stride).map(|(i, s)| i * s).sum::<usize>();
        out.push(*storage.get(at)?);
        for d in (0..size.len()).rev() {
            idx[d] += 1;
            if idx[d] < size[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strided_views_are_gathered_row_major() {
        let s: Vec<f32> = (0..6).map(|x| x as f32).collect();
        // The transpose of a 2×3 matrix.
        assert_eq!(
            gather(&s, 0, &[3, 2], &[1, 3]).unwrap(),
            vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
        );
        assert!(gather(&s, 4, &[2, 2], &[2, 1]).is_none());
    }

    #[test]
    fn other_files_are_refused_with_a_reason() {
        let err = read_state_dict(b"PK\x03\x04rest", &[]).unwrap_err();
        assert!(err.to_string().contains("not supported"), "{err}");
        let err = read_state_dict(b"\x80\x02K", &[]).unwrap_err();
        assert!(matches!(err, TorchError::Truncated(_)), "{err}");
    }
}
