//! # sage-vectors: the sage-spec golden-vector runner
//!
//! Runs vector files of the sage-spec format (PROTOCOL.md §16.1: a JSON
//! object with `suite`, `spec_version` and `vectors[]`, each vector with
//! `name`, `mode`, `input`, `output`) against `sage-core`, and says for each
//! vector whether it passed and, if not, exactly why.
//!
//! - `deterministic` vectors are recomputed from their inputs and every
//!   stored output member is compared byte for byte;
//! - `verify` vectors run the verification path on the stored output
//!   (signatures verify, records decrypt, the exporter re-derives), and the
//!   deterministic members they carry are still recomputed and compared.
//!
//! ## What makes a check
//!
//! A vector's *kind* is its file's `suite` plus its `name`; a name may carry
//! a numeric suffix (`ed25519-sign-2` is checked as `ed25519-sign`). Some
//! kinds are recognised by shape rather than name: every `jcs` vector is a
//! canonicalisation, every `rfc9421` vector is a request signature, or a
//! response signature when it has `input.request`, and `did/pop-*` and
//! `did/a2a-card-proof-*` take their key type from the label they carry
//! (`seed_label` → Ed25519, `scalar_label` → secp256k1). Everything else (labels, messages, covered
//! components, tags, sequence numbers, AAD, context ids, DIDs, rekey
//! interval, ...) comes from the vector, so the runner works on any file of
//! this format, not just the vendored one. An unknown kind is a failure
//! ([`Mismatch::UnsupportedKind`]), never skipped, and so is a stored output
//! member the check does not know.
//!
//! ## What it does not do
//!
//! It reads files only in [`run_dir`]; [`run_file_contents`] and
//! everything below it is pure. It does not implement protocol logic: each
//! check calls the `sage-core` function that does the work, so a pass
//! means `sage-core` reproduces the vector.
//!
//! ```
//! let file = r#"{"suite": "crypto", "spec_version": "1.0.0-draft.1", "vectors": [
//!   {"name": "key-id", "mode": "deterministic",
//!    "input": {"public_key": "37af5b79b1d08725d007175621b267e6892e1ce6cab3cb5a39cb75cee280db08"},
//!    "output": {"key_id": "31df14d7d9fcb731"}}]}"#;
//! let outcomes = sage_vectors::run_file_contents("crypto.json", file)?;
//! assert!(outcomes[0].result.is_ok());
//! # Ok::<(), sage_vectors::RunnerError>(())
//! ```
#![warn(missing_docs)]

mod check;
mod failure;
mod outcome;
mod suites;

use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};

use sage_core::version::ProtocolVersion;

pub use failure::CoreFailure;
pub use outcome::{MemberProblem, Mismatch, Mode, Report, RunnerError, VectorOutcome};

/// The shape of a vector file (PROTOCOL.md §16.1); other members
/// (`generator`, `description`) are informative and ignored.
#[derive(Debug, Deserialize)]
struct VectorFile {
    suite: String,
    spec_version: String,
    vectors: Vec<RawVector>,
}

#[derive(Debug, Deserialize)]
struct RawVector {
    name: String,
    mode: Mode,
    input: Map<String, Value>,
    output: Map<String, Value>,
}

/// Runs every `*.json` file of `dir` (in file-name order) as a vector file.
///
/// # Errors
/// [`RunnerError::Io`] if the directory or a file cannot be read,
/// [`RunnerError::NoVectorFiles`] if it holds no `*.json` file, and
/// [`RunnerError::Parse`] if a file is not a vector file.
pub fn run_dir(dir: &Path) -> Result<Report, RunnerError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RunnerError::Io { path, source }
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        if path.extension().is_some_and(|ext| ext == "json") && path.is_file() {
            files.push(path);
        }
    }
    if files.is_empty() {
        return Err(RunnerError::NoVectorFiles {
            dir: dir.to_path_buf(),
        });
    }
    files.sort();
    let mut report = Report::default();
    for path in files {
        let contents = std::fs::read_to_string(&path).map_err(io(&path))?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        report.outcomes.extend(run_file_contents(&name, &contents)?);
    }
    Ok(report)
}

/// Runs the vectors of one file. `name` is used only in error messages.
///
/// # Errors
/// [`RunnerError::Parse`] if `contents` is not a vector file. A vector
/// that fails is not an error: it is an outcome whose `result` is a
/// [`Mismatch`].
pub fn run_file_contents(name: &str, contents: &str) -> Result<Vec<VectorOutcome>, RunnerError> {
    let file: VectorFile = serde_json::from_str(contents).map_err(|source| RunnerError::Parse {
        file: name.to_owned(),
        source,
    })?;
    Ok(file
        .vectors
        .iter()
        .map(|raw| VectorOutcome {
            suite: file.suite.clone(),
            name: raw.name.clone(),
            mode: raw.mode,
            result: run_vector(&file, raw),
        })
        .collect())
}

fn run_vector(file: &VectorFile, raw: &RawVector) -> Result<(), Mismatch> {
    let version = ProtocolVersion::from_spec_version(&file.spec_version).ok_or_else(|| {
        Mismatch::UnsupportedSpecVersion {
            version: file.spec_version.clone(),
        }
    })?;
    let vector = check::Vector {
        suite: &file.suite,
        name: &raw.name,
        mode: raw.mode,
        version,
        input: check::Fields::new("input", &raw.input),
        output: check::Fields::new("output", &raw.output),
    };
    suites::run(&vector)
}
