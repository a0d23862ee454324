//! Published FP32 and f16 tensor-core peaks, bandwidth and L2 of common GPUs, matched by whole
//! words in the adapter name.

/// FP32 (non-tensor-core) peak GFLOP/s of common GPUs, from the vendors' published figures.
/// Matched as whole words in the adapter name, first match wins (so "H100 PCIe" before
/// "H100", and "L4" never matches "L40S").
pub(super) const KNOWN_FP32_PEAKS: &[(&str, f64, &str)] = &[
    (
        "H100 PCIe",
        51_200.0,
        "NVIDIA H100 datasheet, PCIe: 51 TFLOP/s FP32",
    ),
    (
        "H100 NVL",
        60_000.0,
        "NVIDIA H100 datasheet, NVL: 60 TFLOP/s FP32",
    ),
    (
        "H100",
        66_900.0,
        "NVIDIA H100 datasheet, SXM5: 67 TFLOP/s FP32",
    ),
    (
        "H200",
        66_900.0,
        "NVIDIA H200 datasheet, SXM: 67 TFLOP/s FP32",
    ),
    ("A100", 19_500.0, "NVIDIA A100 datasheet: 19.5 TFLOP/s FP32"),
    ("L40S", 91_600.0, "NVIDIA L40S datasheet: 91.6 TFLOP/s FP32"),
    ("L40", 90_500.0, "NVIDIA L40 datasheet: 90.5 TFLOP/s FP32"),
    ("L4", 30_300.0, "NVIDIA L4 datasheet: 30.3 TFLOP/s FP32"),
    (
        "A10G",
        31_200.0,
        "NVIDIA A10 datasheet: 31.2 TFLOP/s FP32 (the A10G is AWS's A10 variant)",
    ),
    ("A10", 31_200.0, "NVIDIA A10 datasheet: 31.2 TFLOP/s FP32"),
    (
        "RTX 4090",
        82_600.0,
        "NVIDIA Ada Lovelace architecture whitepaper, RTX 4090: 82.6 TFLOP/s FP32",
    ),
    (
        "RTX 3090",
        35_600.0,
        "NVIDIA Ampere GA102 whitepaper, RTX 3090: 35.6 TFLOP/s FP32",
    ),
    ("T4", 8_100.0, "NVIDIA T4 datasheet: 8.1 TFLOP/s FP32"),
    (
        "V100",
        15_700.0,
        "NVIDIA V100 datasheet, SXM2: 15.7 TFLOP/s FP32",
    ),
];

/// Dense f16 tensor-core peak (f16 inputs, f32 accumulation; the "with sparsity" figures are
/// twice these) in GFLOP/s, from the vendors' datasheets, matched as [`KNOWN_FP32_PEAKS`].
/// GeForce parts run f32 accumulation at half their f16-accumulate rate; their figure here
/// is the f32-accumulate one, the one the gemm_f16_coop_* kernels can reach.
pub(super) const KNOWN_F16_TENSOR_PEAKS: &[(&str, f64, &str)] = &[
    (
        "H100 PCIe",
        756_000.0,
        "NVIDIA H100 datasheet, PCIe: FP16 Tensor Core 1,513 TFLOP/s with sparsity, 756 dense",
    ),
    (
        "H100 NVL",
        835_500.0,
        "NVIDIA H100 datasheet, NVL: FP16 Tensor Core 1,671 TFLOP/s with sparsity, 835.5 dense",
    ),
    (
        "H100",
        989_400.0,
        "NVIDIA H100 datasheet, SXM5: FP16 Tensor Core 1,979 TFLOP/s with sparsity, 989.4 dense",
    ),
    (
        "H200",
        989_400.0,
        "NVIDIA H200 datasheet, SXM: FP16 Tensor Core 1,979 TFLOP/s with sparsity, 989.4 dense",
    ),
    (
        "A100",
        312_000.0,
        "NVIDIA A100 datasheet: FP16 Tensor Core 312 TFLOP/s dense (624 with sparsity)",
    ),
    (
        "L40S",
        362_050.0,
        "NVIDIA L40S datasheet: FP16 Tensor Core 362.05 TFLOP/s dense (733 with sparsity)",
    ),
    (
        "L40",
        181_050.0,
        "NVIDIA L40 datasheet: FP16 Tensor Core 181.05 TFLOP/s dense (362.1 with sparsity)",
    ),
    (
        "L4",
        121_000.0,
        "NVIDIA L4 datasheet: FP16 Tensor Core 242 TFLOP/s with sparsity, 121 dense",
    ),
    (
        "A10",
        125_000.0,
        "NVIDIA A10 datasheet: FP16 Tensor Core 125 TFLOP/s dense (250 with sparsity)",
    ),
    (
        "RTX 4090",
        165_200.0,
        "NVIDIA Ada Lovelace architecture whitepaper, RTX 4090: FP16 tensor with FP32 accumulate 165.2 TFLOP/s dense",
    ),
    (
        "RTX 3090",
        71_000.0,
        "NVIDIA Ampere GA102 whitepaper, RTX 3090: FP16 tensor with FP32 accumulate 71 TFLOP/s dense",
    ),
    (
        "T4",
        65_000.0,
        "NVIDIA T4 datasheet: mixed-precision (FP16/FP32) 65 TFLOP/s",
    ),
    (
        "V100",
        125_000.0,
        "NVIDIA V100 datasheet, SXM2: tensor performance 125 TFLOP/s",
    ),
];

/// Published memory bandwidth (GB/s) and L2 cache (MiB) of the same GPUs, matched the same way.
pub(super) const KNOWN_MEMORY: &[(&str, f64, u64, &str)] = &[
    (
        "H100 PCIe",
        2_000.0,
        50,
        "NVIDIA H100 datasheet, PCIe: 2.0 TB/s; Hopper whitepaper: 50 MB L2",
    ),
    (
        "H100 NVL",
        3_900.0,
        50,
        "NVIDIA H100 datasheet, NVL: 3.9 TB/s; 50 MB L2",
    ),
    (
        "H100",
        3_350.0,
        50,
        "NVIDIA H100 datasheet, SXM5: 3.35 TB/s; Hopper whitepaper: 50 MB L2",
    ),
    (
        "H200",
        4_800.0,
        60,
        "NVIDIA H200 datasheet: 4.8 TB/s; 60 MB L2 (CUDA's l2CacheSize, read by PyTorch on an H200 here)",
    ),
    (
        "A100",
        2_039.0,
        40,
        "NVIDIA A100 datasheet, 80 GB SXM: 2.04 TB/s (the 40 GB part: 1.56); 40 MB L2",
    ),
    (
        "L40S",
        864.0,
        96,
        "NVIDIA L40S datasheet: 864 GB/s; Ada whitepaper: 96 MB L2",
    ),
    ("L40", 864.0, 96, "NVIDIA L40 datasheet: 864 GB/s; 96 MB L2"),
    ("L4", 300.0, 48, "NVIDIA L4 datasheet: 300 GB/s; 48 MB L2"),
    ("A10G", 600.0, 6, "NVIDIA A10 datasheet: 600 GB/s; 6 MB L2"),
    ("A10", 600.0, 6, "NVIDIA A10 datasheet: 600 GB/s; 6 MB L2"),
    (
        "RTX 4090",
        1_008.0,
        72,
        "NVIDIA Ada whitepaper, RTX 4090: 1008 GB/s; 72 MB L2",
    ),
    (
        "RTX 3090",
        936.0,
        6,
        "NVIDIA Ampere GA102 whitepaper, RTX 3090: 936 GB/s; 6 MB L2",
    ),
    ("T4", 320.0, 4, "NVIDIA T4 datasheet: 320 GB/s; 4 MB L2"),
    (
        "V100",
        900.0,
        6,
        "NVIDIA V100 datasheet, SXM2: 900 GB/s; 6 MB L2",
    ),
];

/// The published bandwidth (GB/s), L2 (bytes) and their source for an adapter name, if known.
pub fn known_memory(adapter_name: &str) -> Option<(f64, u64, &'static str)> {
    let name = adapter_name.to_ascii_lowercase();
    KNOWN_MEMORY
        .iter()
        .find(|(key, _, _, _)| contains_word(&name, &key.to_ascii_lowercase()))
        .map(|&(_, gbps, l2_mib, source)| (gbps, l2_mib << 20, source))
}

/// The published FP32 peak (GFLOP/s) and its source for an adapter name, if known.
pub fn known_fp32_peak(adapter_name: &str) -> Option<(f64, &'static str)> {
    lookup(KNOWN_FP32_PEAKS, adapter_name)
}

/// The published dense f16 tensor-core peak (GFLOP/s) and its source for an adapter name.
pub fn known_f16_tensor_peak(adapter_name: &str) -> Option<(f64, &'static str)> {
    lookup(KNOWN_F16_TENSOR_PEAKS, adapter_name)
}

/// The first entry of a (name, GFLOP/s, source) table whose name is a whole word of the adapter's.
fn lookup(
    table: &'static [(&'static str, f64, &'static str)],
    adapter_name: &str,
) -> Option<(f64, &'static str)> {
    let name = adapter_name.to_ascii_lowercase();
    table
        .iter()
        .find(|(key, _, _)| contains_word(&name, &key.to_ascii_lowercase()))
        .map(|&(_, gflops, source)| (gflops, source))
}

pub(super) fn contains_word(hay: &str, needle: &str) -> bool {
    let bytes = hay.as_bytes();
    hay.match_indices(needle).any(|(i, _)| {
        let before = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        let end = i + needle.len();
        let after = end == bytes.len() || !bytes[end].is_ascii_alphanumeric();
        before && after
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_peaks_match_whole_words_only() {
        assert_eq!(
            known_fp32_peak("NVIDIA H100 80GB HBM3").unwrap().0,
            66_900.0
        );
        assert_eq!(known_fp32_peak("NVIDIA H100 PCIe").unwrap().0, 51_200.0);
        assert_eq!(known_fp32_peak("NVIDIA L40S").unwrap().0, 91_600.0);
        assert_eq!(known_fp32_peak("NVIDIA L4").unwrap().0, 30_300.0);
        assert_eq!(known_fp32_peak("NVIDIA A10G").unwrap().0, 31_200.0);
        assert!(known_fp32_peak("llvmpipe (LLVM 19.1.7, 256 bits)").is_none());
        assert!(known_fp32_peak("NVIDIA GeForce RTX 4070").is_none());
    }

    #[test]
    fn tensor_peaks_are_dense_and_above_fp32() {
        assert_eq!(known_f16_tensor_peak("NVIDIA H200").unwrap().0, 989_400.0);
        assert_eq!(
            known_f16_tensor_peak("NVIDIA H100 PCIe").unwrap().0,
            756_000.0
        );
        assert!(known_f16_tensor_peak("NVIDIA A10G").is_none());
        assert!(known_f16_tensor_peak("llvmpipe (LLVM 19.1.7, 256 bits)").is_none());
        for (key, tensor, _) in KNOWN_F16_TENSOR_PEAKS {
            let (fp32, _) = known_fp32_peak(key).expect("every tensor entry has an FP32 one");
            assert!(*tensor > fp32, "{key}");
        }
    }
}
