// Dependent-dispatch probe: one workgroup adds 1 to a counter. Every dispatch reads and writes
// the same buffer, so each waits for the one before it (wgpu puts a barrier between them), as
// the kernels of a decode step do; the time of a chain of them over their number is the least
// time a dependent dispatch takes on this device. The counter checks that they ran in order.

@group(0) @binding(0) var<storage, read_write> counter: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) li: u32) {
    if (li == 0u) {
        counter[0] = counter[0] + 1u;
    }
}
