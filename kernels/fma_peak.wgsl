// Arithmetic throughput probe: each invocation runs `iters` rounds of 8 independent vec4
// multiply-adds (8 x 4 x 2 = 64 FLOPs per round) and writes one value so nothing is removed
// as dead code. FLOPs per run = invocations x iters x 64.

struct Params {
    iters: u32,
    _pad: u32,
}

@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    let x = vec4<f32>(f32(i & 7u) * 1.0e-3);
    let mul = vec4<f32>(0.999999);
    var a0 = x + 0.1;
    var a1 = x + 0.2;
    var a2 = x + 0.3;
    var a3 = x + 0.4;
    var a4 = x + 0.5;
    var a5 = x + 0.6;
    var a6 = x + 0.7;
    var a7 = x + 0.8;
    for (var t = 0u; t < p.iters; t++) {
        a0 = fma(a0, mul, x);
        a1 = fma(a1, mul, x);
        a2 = fma(a2, mul, x);
        a3 = fma(a3, mul, x);
        a4 = fma(a4, mul, x);
        a5 = fma(a5, mul, x);
        a6 = fma(a6, mul, x);
        a7 = fma(a7, mul, x);
    }
    let s = (a0 + a1) + (a2 + a3) + (a4 + a5) + (a6 + a7);
    out[i] = s.x + s.y + s.z + s.w;
}
