enable f16;

// Decode attention, pass 1 of 2 (split-K over the KV cache), f16 query and KV cache, f32
// arithmetic: as attention_decode_split.wgsl, with the scores, max, sum of exponentials and the
// partial outputs in f32 (the partials are f32 buffers; pass 2 is
// attention_decode_reduce_f16.wgsl, which stores the result as f16).
//
// q[q_heads, head_dim]; K and V caches [kv_heads, context, head_dim]; query head h reads KV
// head h / group. Workgroup (split, h) handles the 64 cache positions of its split: scores
// s_t = q . K_t * scale, a local max m and sum l = sum exp(s_t - m), and the unnormalised
// partial output o = sum exp(s_t - m) V_t. Pass 2 rescales and
// combines the splits. head_dim is at most 256.

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

@group(0) @binding(0) var<storage, read> q: array<f16>;
@group(0) @binding(1) var<storage, read> k: array<f16>;
@group(0) @binding(2) var<storage, read> v: array<f16>;
// [q_heads, splits, head_dim]
@group(0) @binding(3) var<storage, read_write> part_o: array<f32>;
// [q_heads, splits]: (max, sum of exp)
@group(0) @binding(4) var<storage, read_write> part_ml: array<vec2<f32>>;
@group(0) @binding(5) var<uniform> p: Params;

const CHUNK: u32 = 64u;
var<workgroup> q_s: array<f32, 256>;
var<workgroup> probs: array<f32, 64>;
var<workgroup> red: array<f32, 64>;

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let split = wg.x;
    let h = wg.y;
    let kvh = h / p.group;
    let hd = p.head_dim;
    for (var d = li; d < hd; d += CHUNK) {
        q_s[d] = f32(q[h * hd + d]);
    }
    workgroupBarrier();

    let first = split * CHUNK;
    let pos = first + li;
    let valid = pos < p.context;
    var s = -3.0e38;
    if (valid) {
        let kb = (kvh * p.context + pos) * hd;
        var acc = 0.0;
        for (var d = 0u; d < hd; d++) {
            acc += q_s[d] * f32(k[kb + d]);
        }
        s = acc * p.scale;
    }

    red[li] = s;
    workgroupBarrier();
    for (var off = CHUNK / 2u; off > 0u; off = off / 2u) {
        if (li < off) {
            red[li] = max(red[li], red[li + off]);
        }
        workgroupBarrier();
    }
    let m = red[0];
    workgroupBarrier();

    let e = select(0.0, exp(s - m), valid);
    probs[li] = e;
    red[li] = e;
    workgroupBarrier();
    for (var off = CHUNK / 2u; off > 0u; off = off / 2u) {
        if (li < off) {
            red[li] += red[li + off];
        }
        workgroupBarrier();
    }
    let l = red[0];

    let count = min(CHUNK, p.context - first);
    let vb = (kvh * p.context + first) * hd;
    let ob = (h * p.splits + split) * hd;
    for (var d = li; d < hd; d += CHUNK) {
        var acc = 0.0;
        for (var t = 0u; t < count; t++) {
            acc += probs[t] * f32(v[vb + t * hd + d]);
        }
        part_o[ob + d] = acc;
    }
    if (li == 0u) {
        part_ml[h * p.splits + split] = vec2<f32>(m, l);
    }
}
