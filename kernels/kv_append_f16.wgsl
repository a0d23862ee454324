enable f16;

// Decode step in f16: copy the new token's K and V (from the fused QKV projection output, laid
// out [q | k | v], f16) into the f16 caches at position context - 1. Caches are
// [kv_heads, context, head_dim]. As kv_append.wgsl, with f16 storage.

struct Params {
    q_heads: u32,
    kv_heads: u32,
    head_dim: u32,
    context: u32,
}

@group(0) @binding(0) var<storage, read> qkv: array<f16>;
@group(0) @binding(1) var<storage, read_write> k_cache: array<f16>;
@group(0) @binding(2) var<storage, read_write> v_cache: array<f16>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    let width = p.kv_heads * p.head_dim;
    if (i >= width) {
        return;
    }
    let head = i / p.head_dim;
    let d = i % p.head_dim;
    let dst = (head * p.context + p.context - 1u) * p.head_dim + d;
    k_cache[dst] = qkv[p.q_heads * p.head_dim + i];
    v_cache[dst] = qkv[p.q_heads * p.head_dim + width + i];
}
