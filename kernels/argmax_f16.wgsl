enable f16;

// Whole-model decode in f16: the chosen token. One workgroup scans the f16 logits[0..n),
// writes them widened to f32 into out[0..n) and the index of the first largest value, as f32,
// to out[n] (an f16 cannot hold a token index above 2048 exactly).

struct Params {
    n: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<storage, read> logits: array<f16>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> best_v: array<f32, 256>;
var<workgroup> best_i: array<u32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) li: u32) {
    var v = -3.4028235e38;
    var idx = 0xffffffffu;
    for (var i = li; i < p.n; i = i + 256u) {
        let x = f32(logits[i]);
        out[i] = x;
        if (x > v || idx == 0xffffffffu) {
            v = x;
            idx = i;
        }
    }
    best_v[li] = v;
    best_i[li] = idx;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s = s >> 1u) {
        if (li < s) {
            let ov = best_v[li + s];
            let oi = best_i[li + s];
            if (oi != 0xffffffffu && (best_i[li] == 0xffffffffu || ov > best_v[li] || (ov == best_v[li] && oi < best_i[li]))) {
                best_v[li] = ov;
                best_i[li] = oi;
            }
        }
        workgroupBarrier();
    }
    if (li == 0u) {
        out[p.n] = f32(best_i[0]);
    }
}
