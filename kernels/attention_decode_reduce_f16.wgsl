enable f16;

// Decode attention, pass 2 of 2, f16 output: combine the f32 partials of
// attention_decode_split_f16.wgsl in f32 and store the result as f16.
// With M = max over splits of m_s and L = sum l_s exp(m_s - M),
// out[h, d] = sum_s exp(m_s - M) o_s[d] / L. One workgroup of 64 invocations per query head.

struct Params {
    context: u32,
    q_heads: u32,
    group: u32,
    head_dim: u32,
    splits: u32,
    scale: f32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<storage, read> part_o: array<f32>;
@group(0) @binding(1) var<storage, read> part_ml: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<f16>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let h = wg.x;
    let hd = p.head_dim;
    let mb = h * p.splits;
    var big_m = -3.0e38;
    for (var s = 0u; s < p.splits; s++) {
        big_m = max(big_m, part_ml[mb + s].x);
    }
    var big_l = 0.0;
    for (var s = 0u; s < p.splits; s++) {
        let ml = part_ml[mb + s];
        big_l += ml.y * exp(ml.x - big_m);
    }
    let inv_l = 1.0 / big_l;
    for (var d = li; d < hd; d += 64u) {
        var acc = 0.0;
        for (var s = 0u; s < p.splits; s++) {
            acc += part_o[(mb + s) * hd + d] * exp(part_ml[mb + s].x - big_m);
        }
        out[h * hd + d] = f16(acc * inv_l);
    }
}
