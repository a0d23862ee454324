//! Finding results files: the newest accelbench results file in a directory.

use std::path::{Path, PathBuf};

/// Used by tests and by `cost` to find the newest results file in a directory.
pub fn newest_results_file(dir: &Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(dir).ok()?;
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
        .collect();
    files.sort_by(|a, b| b.cmp(a));
    // Other JSON may sit beside results files (a vendor baseline, a report): skip files that
    // are not accelbench results, i.e. have no top-level `schema_version`.
    files.into_iter().map(|(_, p)| p).find(|p| {
        std::fs::read_to_string(p)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .is_some_and(|v| v.get("schema_version").is_some())
    })
}
