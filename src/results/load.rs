//! Loading a results file: parse, check the schema version and every field, with errors that
//! name the file and the field.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};

use super::schema::{READABLE_SCHEMA_VERSIONS, RunResults, SCHEMA_VERSION};

/// Load and validate a results file. Errors name the file, the field and what was expected.
pub fn load(path: &Path) -> Result<RunResults> {
    let text = fs::read_to_string(path)
        .with_context(|| format!("could not read results file '{}'", path.display()))?;
    parse(&text, path)
}

/// Parse results from text; `path` is only used in messages.
pub fn parse(text: &str, path: &Path) -> Result<RunResults> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        anyhow::anyhow!(
            "'{}' is not a valid JSON results file: {e} (was it truncated?)",
            path.display()
        )
    })?;
    match value.get("schema_version") {
        Some(serde_json::Value::Number(n))
            if n.as_u64()
                .is_some_and(|v| READABLE_SCHEMA_VERSIONS.iter().any(|&r| r as u64 == v)) => {}
        Some(v) => bail!(
            "'{}': field 'schema_version' is {v}, but this accelbench reads schema versions {}; re-run the benchmark with this version or use a matching accelbench",
            path.display(),
            READABLE_SCHEMA_VERSIONS
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(" and ")
        ),
        None => bail!(
            "'{}': missing field 'schema_version'; expected an accelbench results file (schema version {SCHEMA_VERSION})",
            path.display()
        ),
    }
    let results: RunResults =
        serde_json::from_value(value).map_err(|e| anyhow::anyhow!("'{}': {e}", path.display()))?;
    for (i, row) in results.results.iter().enumerate() {
        if results.device(&row.device).is_none() {
            bail!(
                "'{}': field 'results[{i}].device' is '{}', which is not the id of any entry in 'devices'",
                path.display(),
                row.device
            );
        }
    }
    super::validate::validate(&results, path)?;
    Ok(results)
}
