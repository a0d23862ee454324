//! The per-sample data of a results row: an HdrHistogram (3 significant digits) stored as base64
//! of its V2 deflate encoding, and back.

use anyhow::{Context, Result, bail};
use base64::Engine;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};

/// Record per-invocation samples (ns) in an HdrHistogram (3 significant digits) and serialize it
/// as base64 of the V2 deflate encoding.
pub fn encode(samples_ns: &[f64]) -> Result<String> {
    let mut h = Histogram::<u64>::new(3).context("could not create histogram")?;
    for &s in samples_ns {
        h.record(s.round().max(1.0) as u64)
            .context("could not record sample in histogram")?;
    }
    let mut buf = Vec::new();
    V2DeflateSerializer::new()
        .serialize(&h, &mut buf)
        .map_err(|e| anyhow::anyhow!("could not serialize histogram: {e:?}"))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(buf))
}

/// Inverse of [`encode`].
pub fn decode(b64: &str) -> Result<Histogram<u64>> {
    if b64.is_empty() {
        bail!("histogram is empty");
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .context("histogram is not valid base64")?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| anyhow::anyhow!("histogram is not a valid HdrHistogram V2 blob: {e:?}"))
}

/// Expand a histogram back into samples (each recorded value repeated by its count), ascending.
/// Values are quantized to the histogram's precision (3 significant digits).
pub fn samples(h: &Histogram<u64>) -> Vec<f64> {
    let mut out = Vec::with_capacity(h.len() as usize);
    for v in h.iter_recorded() {
        let value = h.median_equivalent(v.value_iterated_to()) as f64;
        for _ in 0..v.count_at_value() {
            out.push(value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_round_trips() {
        let recorded = [1000.0, 1500.0, 2000.0, 2000.0, 123456.0];
        let h = decode(&encode(&recorded).unwrap()).unwrap();
        assert_eq!(h.len(), 5);
        let back = samples(&h);
        assert_eq!(back.len(), 5);
        for (a, b) in back.iter().zip([1000.0, 1500.0, 2000.0, 2000.0, 123456.0]) {
            assert!((a - b).abs() / b < 1e-3, "{a} vs {b}");
        }
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        fn samples_ns() -> impl Strategy<Value = Vec<f64>> {
            prop::collection::vec(1.0f64..1e9, 1..400)
        }

        proptest! {
            #[test]
            fn histogram_keeps_every_sample_to_three_digits(v in samples_ns()) {
                let h = decode(&encode(&v).unwrap()).unwrap();
                prop_assert_eq!(h.len(), v.len() as u64);
                let mut sorted = v.clone();
                sorted.sort_by(f64::total_cmp);
                let back = samples(&h);
                for (a, b) in back.iter().zip(&sorted) {
                    let b = b.round().max(1.0);
                    prop_assert!((a - b).abs() <= 1e-3 * b + 1.0, "{} vs {}", a, b);
                }
            }
        }
    }
}
