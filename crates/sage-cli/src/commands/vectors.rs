//! `sage vectors run`: the sage-spec golden vectors through sage-core.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use sage_vectors::{Report, run_dir};

use crate::cli::VectorsRunArgs;
use crate::error::CliError;
use crate::output::Output;

/// Where the vendored vectors sit relative to a checkout.
const VENDORED: &str = "vectors/sage-spec";

/// The copy next to which this binary was built.
const BUILT_IN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../vectors/sage-spec");

/// `sage vectors run [DIR]`.
pub(crate) fn run(args: &VectorsRunArgs) -> Result<Output, CliError> {
    let dir = args.dir.clone().unwrap_or_else(default_dir);
    let report = run_dir(&dir).map_err(CliError::BadVectors)?;
    Ok(render(&dir, &report))
}

/// `$SAGE_VECTORS_DIR`, else `vectors/sage-spec` under the current
/// directory or the git top level above it, else the built-in path.
fn default_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SAGE_VECTORS_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Ok(cwd) = std::env::current_dir() {
        let here = cwd.join(VENDORED);
        if here.is_dir() {
            return here;
        }
        if let Some(top) = git_top_level(&cwd) {
            let there = top.join(VENDORED);
            if there.is_dir() {
                return there;
            }
        }
    }
    PathBuf::from(BUILT_IN)
}

/// The nearest ancestor of `start` that holds `.git` (a directory, or a
/// file for worktrees).
fn git_top_level(start: &Path) -> Option<&Path> {
    start.ancestors().find(|dir| dir.join(".git").exists())
}

fn render(dir: &Path, report: &Report) -> Output {
    let mut out = Output::new();
    let mut vectors = Vec::new();
    for outcome in &report.outcomes {
        match &outcome.result {
            Ok(()) => out.line(format!("PASS {}", outcome.id())),
            Err(mismatch) => out.line(format!("FAIL {}: {mismatch}", outcome.id())),
        };
        let mut entry = json!({
            "suite": outcome.suite,
            "name": outcome.name,
            "mode": outcome.mode.name(),
            "passed": outcome.passed(),
        });
        if let (Err(mismatch), Value::Object(map)) = (&outcome.result, &mut entry) {
            map.insert("error".into(), mismatch.to_string().into());
        }
        vectors.push(entry);
    }
    out.line(format!(
        "{} passed, {} failed",
        report.passed(),
        report.failed()
    ))
    .json("dir", dir.display().to_string())
    .json("passed", report.passed())
    .json("failed", report.failed())
    .json("vectors", vectors);
    if report.failed() > 0 {
        out.fail(CliError::VectorsFailed {
            failed: report.failed(),
        });
    }
    out
}
