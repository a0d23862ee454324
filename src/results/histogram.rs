//! The per-sample data of a results row: an HdrHistogram (3 significant digits) stored as base64
//! of its V2 deflate encoding, and back.

use std::io::Read;

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

/// Largest stored histogram accepted, in base64 characters. A run's histogram is a few KiB.
const MAX_ENCODED_CHARS: usize = 4 << 20;
/// Largest inflated V2 blob accepted.
const MAX_INFLATED_BYTES: usize = 16 << 20;
/// The precision accelbench writes; more digits would size a larger counts array.
const MAX_SIGNIFICANT_DIGITS: u32 = 3;
const V2_COOKIE: u32 = 0x1c84_9313;
const V2_COMPRESSED_COOKIE: u32 = 0x1c84_9314;
/// Cookie, payload length, normalizing offset, digits, lowest, highest, conversion ratio.
const V2_HEADER_BYTES: usize = 40;

fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Inverse of [`encode`]. Bounded: nothing is allocated from a length or count read out of the
/// blob before that length is checked against the bytes actually present and against the caps
/// above.
pub fn decode(b64: &str) -> Result<Histogram<u64>> {
    if b64.is_empty() {
        bail!("histogram is empty");
    }
    if b64.len() > MAX_ENCODED_CHARS {
        bail!(
            "histogram is {} characters long, more than the {MAX_ENCODED_CHARS} accepted",
            b64.len()
        );
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .context("histogram is not valid base64")?;
    let raw = match be_u32(&bytes, 0) {
        Some(V2_COMPRESSED_COOKIE) => {
            let len = be_u32(&bytes, 4).context("histogram is truncated")? as usize;
            let body = bytes
                .get(8..8usize.saturating_add(len))
                .context("histogram is truncated (its compressed length exceeds its size)")?;
            let mut raw = Vec::new();
            flate2::read::ZlibDecoder::new(body)
                .take(MAX_INFLATED_BYTES as u64 + 1)
                .read_to_end(&mut raw)
                .context("histogram does not inflate (corrupt deflate stream)")?;
            if raw.len() > MAX_INFLATED_BYTES {
                bail!("histogram inflates to more than {MAX_INFLATED_BYTES} bytes");
            }
            raw
        }
        Some(V2_COOKIE) => bytes,
        _ => bail!("histogram is not a HdrHistogram V2 blob (unknown cookie)"),
    };
    if be_u32(&raw, 0) != Some(V2_COOKIE) || raw.len() < V2_HEADER_BYTES {
        bail!("histogram is not a HdrHistogram V2 blob (bad inner header)");
    }
    let payload = be_u32(&raw, 4).unwrap_or(u32::MAX) as usize;
    if payload > raw.len() - V2_HEADER_BYTES {
        bail!("histogram is truncated (its payload length exceeds its size)");
    }
    let digits = be_u32(&raw, 12).unwrap_or(u32::MAX);
    if digits > MAX_SIGNIFICANT_DIGITS {
        bail!(
            "histogram has {digits} significant digits; at most {MAX_SIGNIFICANT_DIGITS} are accepted"
        );
    }
    Deserializer::new()
        .deserialize(&mut raw.as_slice())
        .map_err(|e| anyhow::anyhow!("histogram is not a valid HdrHistogram V2 blob: {e:?}"))
}

/// Expand a histogram back into samples (each recorded value repeated by its count), ascending.
/// Values are quantized to the histogram's precision (3 significant digits).
pub fn samples(h: &Histogram<u64>) -> Vec<f64> {
    let mut out = Vec::with_capacity(h.len().min(super::MAX_SAMPLES) as usize);
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
