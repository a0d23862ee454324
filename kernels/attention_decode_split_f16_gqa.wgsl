enable f16;

// Decode attention, pass 1 of 2 (split-K over the KV cache), f16 storage, f32 arithmetic: a
// candidate for attention_decode_split_f16 (opt-in with ACCELBENCH_ATTENTION=gqa until it is
// measured on a GPU; notes/gpu.md). Same outputs, read by attention_decode_reduce_f16.
//
// q[q_heads, head_dim]; K and V caches [kv_heads, context, head_dim], head_dim a multiple of 4
// (read as vec4<f16>) and at most 256; at most 8 query heads per KV head. Workgroup (split, kv
// head) of 256 invocations handles the 64 cache positions of its split for every query head of
// its group, so each K and V row is read once per group rather than once per query head:
// - scores: 4 invocations per position, each a quarter of the row's vec4s, against every query
//   head of the group (queries in workgroup memory);
// - softmax per query head: 32 invocations per head, two positions each, then a tree;
// - values: invocation (slice, vec4 d of the head) reads V[t][d] for every `slices`-th position t
//   of the split once, for every query head of the group (vec4 sums in registers), so each
//   invocation has 64 / slices independent loads in flight, not one chain of 64; the slices'
//   sums meet in workgroup memory.

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
@group(0) @binding(1) var<storage, read> k: array<vec4<f16>>;
@group(0) @binding(2) var<storage, read> v: array<vec4<f16>>;
// [q_heads, splits, head_dim]
@group(0) @binding(3) var<storage, read_write> part_o: array<f32>;
// [q_heads, splits]: (max, sum of exp)
@group(0) @binding(4) var<storage, read_write> part_ml: array<vec2<f32>>;
@group(0) @binding(5) var<uniform> p: Params;

const CHUNK: u32 = 64u;
const MAX_GROUP: u32 = 8u;
// Scores phase: the group's queries [group][head_dim] at 0 and partial dot products
// [invocation][query head] at QS; values phase: the slices' sums [slice][group][head_dim].
const QS: u32 = 2048u;
var<workgroup> scratch: array<f32, 4096>;
// Scores, then probabilities, [query head][position].
var<workgroup> sc: array<f32, 512>;
// Tree reductions, [query head][32].
var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let split = wg.x;
    let kvh = wg.y;
    let hd = p.head_dim;
    let hd4 = hd / 4u;
    let group = p.group;
    let first = split * CHUNK;
    let count = min(CHUNK, p.context - first);

    for (var i = li; i < group * hd; i += 256u) {
        scratch[i] = f32(q[kvh * group * hd + i]);
    }
    workgroupBarrier();

    // Scores: position t = li / 4, quarter c = li % 4 of the row's vec4s.
    let t = li / 4u;
    let c = li % 4u;
    var acc = array<f32, 8>(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    if (t < count) {
        let row = (kvh * p.context + first + t) * hd4;
        for (var j = c; j < hd4; j += 4u) {
            let kv = vec4<f32>(k[row + j]);
            // A constant trip count, so the accumulators can stay in registers.
            for (var g = 0u; g < MAX_GROUP; g++) {
                if (g < group) {
                    let qb = g * hd + j * 4u;
                    acc[g] += dot(kv, vec4<f32>(scratch[qb], scratch[qb + 1u], scratch[qb + 2u], scratch[qb + 3u]));
                }
            }
        }
    }
    for (var g = 0u; g < MAX_GROUP; g++) {
        scratch[QS + li * MAX_GROUP + g] = acc[g];
    }
    workgroupBarrier();
    for (var i = li; i < group * CHUNK; i += 256u) {
        let g = i / CHUNK;
        let tt = i % CHUNK;
        var s = -3.0e38;
        if (tt < count) {
            let b = QS + tt * 4u * MAX_GROUP + g;
            s = (scratch[b] + scratch[b + MAX_GROUP] + scratch[b + 2u * MAX_GROUP] + scratch[b + 3u * MAX_GROUP]) * p.scale;
        }
        sc[i] = s;
    }
    workgroupBarrier();

    // Softmax per query head: head g = li / 32 takes positions lane and lane + 32.
    let g = li / 32u;
    let lane = li % 32u;
    let live = g < group;
    var m = -3.0e38;
    if (live) {
        m = max(sc[g * CHUNK + lane], sc[g * CHUNK + lane + 32u]);
    }
    red[li] = m;
    workgroupBarrier();
    for (var off = 16u; off > 0u; off = off / 2u) {
        if (lane < off) {
            red[li] = max(red[li], red[li + off]);
        }
        workgroupBarrier();
    }
    m = red[g * 32u];
    workgroupBarrier();
    var e0 = 0.0;
    var e1 = 0.0;
    if (live) {
        e0 = select(0.0, exp(sc[g * CHUNK + lane] - m), lane < count);
        e1 = select(0.0, exp(sc[g * CHUNK + lane + 32u] - m), lane + 32u < count);
        sc[g * CHUNK + lane] = e0;
        sc[g * CHUNK + lane + 32u] = e1;
    }
    red[li] = e0 + e1;
    workgroupBarrier();
    for (var off = 16u; off > 0u; off = off / 2u) {
        if (lane < off) {
            red[li] += red[li + off];
        }
        workgroupBarrier();
    }
    if (live && lane == 0u) {
        part_ml[(kvh * group + g) * p.splits + split] = vec2<f32>(m, red[li]);
    }

    // Values: invocation (slice sl, vec4 d4) sums positions sl, sl + slices, ... for every query
    // head of the group; as many slices as fit both the 256 invocations and the 4096 floats of
    // `scratch` (8 for 4 query heads of 128, 4 for 8).
    let vb = (kvh * p.context + first) * hd4;
    let slices = min(256u / hd4, 4096u / (group * hd));
    let sl = li / hd4;
    let d4 = li % hd4;
    if (sl < slices) {
        var o = array<vec4<f32>, 8>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0),
                                    vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
        for (var tt = sl; tt < count; tt += slices) {
            let vv = vec4<f32>(v[vb + tt * hd4 + d4]);
            for (var g = 0u; g < MAX_GROUP; g++) {
                if (g < group) {
                    o[g] += sc[g * CHUNK + tt] * vv;
                }
            }
        }
        for (var g = 0u; g < MAX_GROUP; g++) {
            if (g < group) {
                let b = ((sl * group + g) * hd4 + d4) * 4u;
                scratch[b] = o[g].x;
                scratch[b + 1u] = o[g].y;
                scratch[b + 2u] = o[g].z;
                scratch[b + 3u] = o[g].w;
            }
        }
    }
    workgroupBarrier();
    for (var i = li; i < group * hd4; i += 256u) {
        let gg = i / hd4;
        let e4 = i % hd4;
        var o = vec4<f32>(0.0);
        for (var s = 0u; s < slices; s++) {
            let b = ((s * group + gg) * hd4 + e4) * 4u;
            o += vec4<f32>(scratch[b], scratch[b + 1u], scratch[b + 2u], scratch[b + 3u]);
        }
        let ob = ((kvh * group + gg) * p.splits + split) * hd + e4 * 4u;
        part_o[ob] = o.x;
        part_o[ob + 1u] = o.y;
        part_o[ob + 2u] = o.z;
        part_o[ob + 3u] = o.w;
    }
}
