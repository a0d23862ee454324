//! Writing results: pretty JSON, the writability check before a run, atomic replacement.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::schema::RunResults;

/// Serialize to pretty JSON.
pub fn to_json(results: &RunResults) -> Result<String> {
    let mut s = serde_json::to_string_pretty(results).context("could not serialize results")?;
    s.push('\n');
    Ok(s)
}

/// Check, before any work is done, that `path` may be written: it does not exist (or `force`),
/// and its directory exists or can be created and is writable.
pub fn check_writable(path: &Path, force: bool) -> Result<()> {
    if path.exists() && !force {
        bail!(
            "'{}' already exists; pass --force to overwrite it or choose another --out",
            path.display()
        );
    }
    if path.is_dir() {
        bail!(
            "'{}' is a directory; --out needs a file path",
            path.display()
        );
    }
    let dir = parent_dir(path);
    fs::create_dir_all(&dir)
        .with_context(|| format!("could not create directory '{}'", dir.display()))?;
    let probe = dir.join(format!(".accelbench-probe-{}", std::process::id()));
    fs::File::create(&probe)
        .with_context(|| format!("cannot write to directory '{}'", dir.display()))?;
    let _ = fs::remove_file(&probe);
    Ok(())
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Write `contents` to `path` atomically: a temporary file in the same directory, fsync, rename.
/// Refuses to replace an existing file unless `force`.
pub fn write_atomic(path: &Path, contents: &[u8], force: bool) -> Result<()> {
    if path.exists() && !force {
        bail!(
            "'{}' already exists; pass --force to overwrite it",
            path.display()
        );
    }
    let dir = parent_dir(path);
    fs::create_dir_all(&dir)
        .with_context(|| format!("could not create directory '{}'", dir.display()))?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "results".into());
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = (|| -> Result<()> {
        let mut f = fs::File::create(&tmp)
            .with_context(|| format!("could not create '{}'", tmp.display()))?;
        f.write_all(contents)
            .with_context(|| format!("could not write '{}'", tmp.display()))?;
        f.sync_all()
            .with_context(|| format!("could not sync '{}'", tmp.display()))?;
        fs::rename(&tmp, path).with_context(|| format!("could not write '{}'", path.display()))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Write a results file atomically.
pub fn save(results: &RunResults, path: &Path, force: bool) -> Result<()> {
    write_atomic(path, to_json(results)?.as_bytes(), force)
}
