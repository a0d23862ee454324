//! Buffer layout shared with the kernels: rows padded to vec4, dispatch grids, output decoding.

use std::borrow::Cow;

use anyhow::{Context, Result, bail};

use crate::workload::Dtype;

/// A 2-D grid of at least `groups` workgroups, each side at most `max_dim`.
pub(super) fn grid_2d(groups: u64, max_dim: u32) -> Result<(u32, u32)> {
    let groups = groups.max(1);
    let x = groups.min(max_dim as u64);
    let y = groups.div_ceil(x);
    if y > max_dim as u64 {
        bail!("{groups} workgroups do not fit in a {max_dim} x {max_dim} grid");
    }
    Ok((x as u32, y as u32))
}

pub(super) fn round_up(v: u64, to: u64) -> u64 {
    v.div_ceil(to) * to
}

/// Row length padded to a multiple of 4 elements.
pub(super) fn pad4(cols: u64) -> u64 {
    round_up(cols, 4)
}

pub(super) fn pad_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut v = bytes.to_vec();
    v.resize(round_up(bytes.len().max(16) as u64, 16) as usize, 0);
    v
}

/// `rows x cols` row-major data with each row padded to `pad4(cols)` with zeros.
pub(super) fn pad_rows(data: &[f32], rows: u64, cols: u64) -> Cow<'_, [f32]> {
    let pc = pad4(cols);
    if pc == cols {
        return Cow::Borrowed(data);
    }
    let mut out = vec![0.0f32; (rows * pc) as usize];
    for r in 0..rows as usize {
        let src = &data[r * cols as usize..(r + 1) * cols as usize];
        out[r * pc as usize..r * pc as usize + cols as usize].copy_from_slice(src);
    }
    Cow::Owned(out)
}

/// Bytes of `rows x cols` data, rows padded to a multiple of 4, stored as `dtype`.
pub(super) fn matrix_bytes(data: &[f32], rows: u64, cols: u64, dtype: Dtype) -> Vec<u8> {
    let padded = pad_rows(data, rows, cols);
    match dtype {
        Dtype::F32 => bytemuck::cast_slice::<f32, u8>(&padded).to_vec(),
        Dtype::F16 => {
            // A layer of an 8B model is 2e8 values: every core converts a part.
            let h: Vec<half::f16> =
                crate::par::fill(padded.len(), |i| half::f16::from_f32(padded[i]));
            bytemuck::cast_slice::<half::f16, u8>(&h).to_vec()
        }
    }
}

pub(super) fn u32_of(v: u64, what: &str) -> Result<u32> {
    u32::try_from(v).with_context(|| format!("{what} = {v} does not fit in 32 bits"))
}

/// How to turn the output buffer back into the reference's f32 layout.
#[derive(Debug, Clone, Copy)]
pub(super) struct OutputLayout {
    pub(super) dtype: Dtype,
    pub(super) rows: u64,
    pub(super) cols: u64,
    /// Elements per row in the buffer (>= cols).
    pub(super) stride: u64,
}

impl OutputLayout {
    pub(super) fn dense(dtype: Dtype, len: u64) -> Self {
        OutputLayout {
            dtype,
            rows: 1,
            cols: len,
            stride: len,
        }
    }

    pub(super) fn bytes(&self) -> u64 {
        self.rows * self.stride * self.dtype.size_bytes()
    }

    pub(super) fn decode(&self, raw: &[u8]) -> Vec<f32> {
        let mut out = Vec::with_capacity((self.rows * self.cols) as usize);
        for r in 0..self.rows as usize {
            let start = r * self.stride as usize;
            let end = start + self.cols as usize;
            // Byte-wise: a Vec<u8> carries no alignment guarantee for a cast.
            match self.dtype {
                Dtype::F32 => out.extend(
                    raw[start * 4..end * 4]
                        .chunks_exact(4)
                        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
                ),
                Dtype::F16 => out.extend(
                    raw[start * 2..end * 2]
                        .chunks_exact(2)
                        .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32()),
                ),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_covers_every_workgroup_within_limits() {
        assert_eq!(grid_2d(10, 65535).unwrap(), (10, 1));
        let (x, y) = grid_2d(100_000, 65535).unwrap();
        assert!(x as u64 * y as u64 >= 100_000 && x <= 65535 && y <= 65535);
        assert!(grid_2d(65535 * 65535 + 1, 65535).is_err());
    }

    #[test]
    fn padded_rows_keep_values_and_zero_the_tail() {
        let d = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let p = pad_rows(&d, 2, 3);
        assert_eq!(&*p, &[1.0, 2.0, 3.0, 0.0, 4.0, 5.0, 6.0, 0.0]);
        let l = OutputLayout {
            dtype: Dtype::F32,
            rows: 2,
            cols: 3,
            stride: 4,
        };
        assert_eq!(l.decode(bytemuck::cast_slice(&p)), d.to_vec());
    }
}
