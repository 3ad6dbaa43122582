//! The GE2E speaker encoder: a 3-layer LSTM over mel frames, a linear layer, ReLU and L2
//! normalisation, run in plain Rust so no deep-learning runtime is needed at run time.
//!
//! Windows are run as a batch so that every step of the recurrence is one matrix product
//! (`matrixmultiply`'s sgemm) instead of a matrix–vector product per window.

use std::collections::HashMap;

use crate::mel::N_MELS;
use crate::torch::Tensor;

pub const HIDDEN: usize = 256;
pub const LAYERS: usize = 3;
pub const EMBEDDING: usize = 256;
const GATES: usize = 4 * HIDDEN;

#[derive(Debug, thiserror::Error)]
#[error("the speaker model lacks or misshapes {name}: expected {expected:?}, found {found:?}")]
pub struct ShapeError {
    pub name: String,
    pub expected: Vec<usize>,
    pub found: Option<Vec<usize>>,
}

struct Layer {
    /// GATES × input, row-major (PyTorch's `weight_ih_l{n}`), gates in order i, f, g, o.
    w_ih: Vec<f32>,
    w_hh: Vec<f32>,
    /// `bias_ih + bias_hh`.
    bias: Vec<f32>,
    input: usize,
}

/// The encoder's weights, checked for shape.
pub struct Encoder {
    layers: Vec<Layer>,
    /// EMBEDDING × HIDDEN.
    linear_w: Vec<f32>,
    linear_b: Vec<f32>,
}

/// The names and shapes of the tensors the encoder needs.
pub fn expected_tensors() -> Vec<(String, Vec<usize>)> {
    let mut out = Vec::new();
    for l in 0..LAYERS {
        let input = if l == 0 { N_MELS } else { HIDDEN };
        out.push((format!("lstm.weight_ih_l{l}"), vec![GATES, input]));
        out.push((format!("lstm.weight_hh_l{l}"), vec![GATES, HIDDEN]));
        out.push((format!("lstm.bias_ih_l{l}"), vec![GATES]));
        out.push((format!("lstm.bias_hh_l{l}"), vec![GATES]));
    }
    out.push(("linear.weight".into(), vec![EMBEDDING, HIDDEN]));
    out.push(("linear.bias".into(), vec![EMBEDDING]));
    out
}

impl Encoder {
    pub fn from_tensors(t: &HashMap<String, Tensor>) -> Result<Self, ShapeError> {
        let get = |name: &str, shape: &[usize]| -> Result<Vec<f32>, ShapeError> {
            match t.get(name) {
                Some(x) if x.shape == shape && x.data.len() == shape.iter().product::<usize>() => {
                    Ok(x.data.clone())
                }
                other => Err(ShapeError {
                    name: name.to_string(),
                    expected: shape.to_vec(),
                    found: other.map(|x| x.shape.clone()),
                }),
            }
        };
        let mut layers = Vec::new();
        for l in 0..LAYERS {
            let input = if l == 0 { N_MELS } else { HIDDEN };
            let b_ih = get(&format!("lstm.bias_ih_l{l}"), &[GATES])?;
            let b_hh = get(&format!("lstm.bias_hh_l{l}"), &[GATES])?;
            layers.push(Layer {
                w_ih: get(&format!("lstm.weight_ih_l{l}"), &[GATES, input])?,
                w_hh: get(&format!("lstm.weight_hh_l{l}"), &[GATES, HIDDEN])?,
                bias: b_ih.iter().zip(&b_hh).map(|(a, b)| a + b).collect(),
                input,
            });
        }
        Ok(Self {
            layers,
            linear_w: get("linear.weight", &[EMBEDDING, HIDDEN])?,
            linear_b: get("linear.bias", &[EMBEDDING])?,
        })
    }

    /// Embeddings of windows of mel frames that all have the same length, L2-normalised
    /// (all zero for a window whose output is all zero after ReLU).
    pub fn embed_batch(&self, windows: &[&[[f32; N_MELS]]]) -> Vec<[f32; EMBEDDING]> {
        let b = windows.len();
        let Some(t_len) = windows.first().map(|w| w.len()) else {
            return Vec::new();
        };
        if t_len == 0 || windows.iter().any(|w| w.len() != t_len) {
            return windows.iter().map(|w| self.embed_one(w)).collect();
        }
        // Time-major input: row (t * b + i) is window i's frame t.
        let mut x: Vec<f32> = Vec::with_capacity(t_len * b * N_MELS);
        for t in 0..t_len {
            for w in windows {
                x.extend_from_slice(&w[t]);
            }
        }
        let mut h = vec![0f32; b * HIDDEN];
        for layer in &self.layers {
            let rows = t_len * b;
            // Input projections of every step at once, bias added.
            let mut pre = vec![0f32; rows * GATES];
            for r in 0..rows {
                pre[r * GATES..(r + 1) * GATES].copy_from_slice(&layer.bias);
            }
            sgemm_bt(&x, rows, layer.input, &layer.w_ih, GATES, &mut pre, 1.0);
            let mut out = vec![0f32; rows * HIDDEN];
            h.iter_mut().for_each(|v| *v = 0.0);
            let mut c = vec![0f32; b * HIDDEN];
            for t in 0..t_len {
                let g = &mut pre[t * b * GATES..(t + 1) * b * GATES];
                sgemm_bt(&h, b, HIDDEN, &layer.w_hh, GATES, g, 1.0);
                for i in 0..b {
                    let gi = &g[i * GATES..(i + 1) * GATES];
                    for k in 0..HIDDEN {
                        let ig = sigmoid(gi[k]);
                        let fg = sigmoid(gi[HIDDEN + k]);
                        let gg = gi[2 * HIDDEN + k].tanh();
                        let og = sigmoid(gi[3 * HIDDEN + k]);
                        let cell = fg * c[i * HIDDEN + k] + ig * gg;
                        c[i * HIDDEN + k] = cell;
                        h[i * HIDDEN + k] = og * cell.tanh();
                    }
                }
                out[t * b * HIDDEN..(t + 1) * b * HIDDEN].copy_from_slice(&h);
            }
            x = out;
        }
        // `h` holds the last layer's final hidden state of every window.
        let mut emb = vec![0f32; b * EMBEDDING];
        for i in 0..b {
            emb[i * EMBEDDING..(i + 1) * EMBEDDING].copy_from_slice(&self.linear_b);
        }
        sgemm_bt(&h, b, HIDDEN, &self.linear_w, EMBEDDING, &mut emb, 1.0);
        emb.chunks_exact(EMBEDDING)
            .map(|e| {
                let mut v = [0f32; EMBEDDING];
                for (o, x) in v.iter_mut().zip(e) {
                    *o = x.max(0.0);
                }
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                if norm > 0.0 {
                    v.iter_mut().for_each(|x| *x /= norm);
                }
                v
            })
            .collect()
    }

    fn embed_one(&self, w: &[[f32; N_MELS]]) -> [f32; EMBEDDING] {
        if w.is_empty() {
            return [0.0; EMBEDDING];
        }
        self.embed_batch(&[w]).pop().unwrap_or([0.0; EMBEDDING])
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// `c (m × n) += alpha · a (m × k) · bᵀ`, where `b` is n × k row-major, as PyTorch stores
/// weights.
fn sgemm_bt(a: &[f32], m: usize, k: usize, b: &[f32], n: usize, c: &mut [f32], alpha: f32) {
    assert!(a.len() >= m * k && b.len() >= n * k && c.len() >= m * n);
    // SAFETY: the asserts above bound every index sgemm reads or writes with these strides.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            alpha,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            1,
            k as isize,
            1.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sgemm_with_transposed_weights() {
        // a = [[1,2],[3,4]], b (n=3 × k=2) = [[1,0],[0,1],[1,1]] → a·bᵀ = [[1,2,3],[3,4,7]].
        let a = [1.0, 2.0, 3.0, 4.0];
        let b = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let mut c = [10.0; 6];
        sgemm_bt(&a, 2, 2, &b, 3, &mut c, 1.0);
        assert_eq!(c, [11.0, 12.0, 13.0, 13.0, 14.0, 17.0]);
    }

    #[test]
    fn missing_weights_are_named() {
        let err = Encoder::from_tensors(&HashMap::new()).err().unwrap();
        assert!(err.to_string().contains("lstm.bias_ih_l0"), "{err}");
    }
}
