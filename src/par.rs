//! Data-parallel fills for building large inputs (a whole model's weights): every core
//! computes a contiguous part of the output. The values depend only on their index, never on
//! how the work was split, so inputs stay the same on every machine.

/// Below this many elements the work stays on the calling thread.
const PARALLEL_MIN: usize = 1 << 20;

/// `out[i] = f(i)` for `i` in `0..len`, on every core for large `len`.
pub fn fill<T: Send + Copy + Default>(len: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let mut out = vec![T::default(); len];
    fill_slice(&mut out, 0, &f);
    out
}

/// `out[i] = f(first + i)`, split across cores for large slices.
fn fill_slice<T: Send>(out: &mut [T], first: usize, f: &(impl Fn(usize) -> T + Sync)) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if out.len() < PARALLEL_MIN || threads == 1 {
        for (i, o) in out.iter_mut().enumerate() {
            *o = f(first + i);
        }
        return;
    }
    let chunk = out.len().div_ceil(threads);
    std::thread::scope(|s| {
        for (c, part) in out.chunks_mut(chunk).enumerate() {
            s.spawn(move || {
                let base = first + c * chunk;
                for (i, o) in part.iter_mut().enumerate() {
                    *o = f(base + i);
                }
            });
        }
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_parallel_fill_is_the_serial_one() {
        for len in [0, 1, 7, super::PARALLEL_MIN + 13] {
            let v = super::fill(len, |i| (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            assert_eq!(v.len(), len);
            assert!(
                v.iter()
                    .enumerate()
                    .all(|(i, &x)| x == (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
            );
        }
    }
}
