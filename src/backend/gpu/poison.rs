//! Test-only: a kernel with every `var<workgroup>` array filled with a poison value before its
//! own code runs. wgpu zero-fills workgroup memory by default; with shader checks off
//! ([`super::GpuBackend::set_shader_checks`]) it does not, and what a workgroup finds there is
//! whatever the last one left. A kernel that reads an element it did not write then reads the
//! poison (1e30, 60000 in f16, 0x7fffffff), which throws its result far outside the
//! reference's tolerance, so verification fails instead of passing on a lucky zero.
//!
//! Textual, like [`super::emulate_coop`]: it knows the forms in kernels/
//! (`var<workgroup> NAME: array<T, N>;` with T a scalar or vector of f32, f16 or u32, N a
//! literal, an entry point `fn main(...) {` with a `@builtin(local_invocation_index)` argument
//! and a literal `@workgroup_size`); anything else is an error.

use anyhow::{Context, Result, bail};

/// `source` with a loop at the top of `main` that writes the poison to every element of every
/// workgroup array (the workgroup's invocations share the elements out), then a barrier.
pub fn poison_workgroup(source: &str) -> Result<String> {
    let mut fills = String::new();
    let mut lanes = None;
    for line in source.lines() {
        let Some(rest) = line.trim().strip_prefix("var<workgroup>") else {
            continue;
        };
        let (name, ty) = rest
            .trim()
            .trim_end_matches(';')
            .split_once(':')
            .with_context(|| format!("poisoning workgroup memory: cannot read `{line}`"))?;
        let inner = ty
            .trim()
            .strip_prefix("array<")
            .and_then(|t| t.strip_suffix('>'))
            .with_context(|| format!("poisoning workgroup memory: `{line}` is not an array"))?;
        let (elem, len) = inner
            .rsplit_once(',')
            .with_context(|| format!("poisoning workgroup memory: `{line}` has no length"))?;
        let len: u32 = len.trim().trim_end_matches('u').parse().with_context(|| {
            format!("poisoning workgroup memory: the length in `{line}` is not a literal")
        })?;
        let elem = elem.trim();
        let scalar = elem
            .strip_prefix("vec2<")
            .or_else(|| elem.strip_prefix("vec3<"))
            .or_else(|| elem.strip_prefix("vec4<"))
            .and_then(|s| s.strip_suffix('>'))
            .unwrap_or(elem);
        let value = match scalar {
            "f32" => "1e30",
            "f16" => "60000.0h",
            "u32" => "0x7fffffffu",
            other => bail!("poisoning workgroup memory: no poison for `{other}` in `{line}`"),
        };
        if lanes.is_none() {
            lanes = Some(invocations(source)?);
        }
        let (li, size) = lanes.as_ref().expect("set above");
        fills.push_str(&format!(
            "    for (var poison_i = {li}; poison_i < {len}u; poison_i += {size}u) {{ {} [poison_i] = {elem}({scalar}({value})); }}\n",
            name.trim()
        ));
    }
    if fills.is_empty() {
        return Ok(source.to_string());
    }
    let (_, body) = main_signature(source)?;
    Ok(format!(
        "{}\n{fills}    workgroupBarrier();\n{}",
        &source[..body],
        &source[body..]
    ))
}

/// Where `fn main(` starts and where its body does (just past the `{`).
fn main_signature(source: &str) -> Result<(usize, usize)> {
    let start = source
        .find("fn main(")
        .context("poisoning workgroup memory: no `fn main(`")?;
    let open = source[start..]
        .find('{')
        .context("poisoning workgroup memory: `fn main` has no body")?;
    Ok((start, start + open + 1))
}

/// The name `main` gives its local invocation index, and the workgroup's invocation count.
fn invocations(source: &str) -> Result<(String, u32)> {
    let (start, body) = main_signature(source)?;
    let sig = &source[start..body];
    let li = sig
        .split("@builtin(local_invocation_index)")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .context("poisoning workgroup memory: `fn main` takes no local_invocation_index")?;
    let size = source[..start]
        .rsplit_once("@workgroup_size(")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(args, _)| {
            args.split(',')
                .map(|a| a.trim().trim_end_matches('u').parse::<u32>())
                .try_fold(1u32, |acc, d| d.map(|d| acc * d))
        })
        .context("poisoning workgroup memory: no @workgroup_size before `fn main`")?
        .context("poisoning workgroup memory: @workgroup_size is not literal")?;
    Ok((li, size))
}
