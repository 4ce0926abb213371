//! What running a vector produces: per-vector outcomes, the directory
//! report, and the errors that stop a run before any vector is judged.
//!
//! A [`Mismatch`] is a verdict about one vector (the run goes on); a
//! [`RunnerError`] means the input is not a set of vector files at all
//! (nothing to judge). Neither holds key material: the only bytes a
//! mismatch copies are public vector outputs.

use core::fmt;
use std::path::PathBuf;

use crate::failure::CoreFailure;

/// How a vector is checked (PROTOCOL.md §16.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Recompute every output member from the inputs and compare byte for byte.
    Deterministic,
    /// The generator used randomness: run the verification path on the stored output.
    Verify,
}

impl Mode {
    /// The name used in vector files (`deterministic`, `verify`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Deterministic => "deterministic",
            Self::Verify => "verify",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The verdict on one vector.
#[derive(Debug)]
pub struct VectorOutcome {
    /// The `suite` of the file the vector came from.
    pub suite: String,
    /// The vector's `name`, as written in the file.
    pub name: String,
    /// The vector's mode.
    pub mode: Mode,
    /// `Ok` when the vector passed.
    pub result: Result<(), Mismatch>,
}

impl VectorOutcome {
    /// `suite/name`, as printed by `sage vectors run`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.suite, self.name)
    }

    /// True when the vector passed.
    pub fn passed(&self) -> bool {
        self.result.is_ok()
    }
}

/// Why a vector failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Mismatch {
    /// No check is known for this suite and name (after removing a numeric
    /// `-N` suffix from the name). Never skipped silently.
    UnsupportedKind {
        /// `suite/name` as found.
        kind: String,
    },
    /// This kind of vector cannot be checked in the vector's mode.
    UnsupportedMode {
        /// `suite/name` as found.
        kind: String,
        /// The vector's mode.
        mode: Mode,
    },
    /// The file's `spec_version` is not a profile sage-core implements.
    UnsupportedSpecVersion {
        /// The version as written in the file.
        version: String,
    },
    /// An input or output member is absent or has the wrong shape.
    Malformed {
        /// `input.<name>` or `output.<name>` (with a path inside it, if any).
        member: String,
        /// What is wrong with it.
        problem: MemberProblem,
    },
    /// A recomputed output member differs from the stored one.
    Output {
        /// The output member (with a path inside it for JSON values).
        member: String,
        /// The stored value: hex for binary members, a JSON literal otherwise.
        expected: String,
        /// The recomputed value, written the same way.
        actual: String,
    },
    /// The vector stores an output member this kind of check does not know,
    /// so it cannot be compared.
    UnexpectedOutput {
        /// The output member.
        member: String,
    },
    /// A member the check needs is not among the stored outputs.
    MissingOutput {
        /// The output member.
        member: String,
    },
    /// A verification step or a sage-core operation failed.
    Failed {
        /// What was being checked (e.g. `output.signature verifies`).
        check: String,
        /// Why it failed.
        cause: CoreFailure,
    },
    /// A verification step did not hold (no sage-core error to report, e.g.
    /// an input that must be rejected was accepted).
    CheckFailed {
        /// What did not hold.
        check: String,
    },
}

/// What is wrong with one member of a vector.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MemberProblem {
    /// The member is absent.
    Missing,
    /// The member has another JSON type.
    WrongType {
        /// The JSON type the check needs.
        expected: &'static str,
    },
    /// A binary member that is not lower-case hex.
    NotHex,
    /// A binary member of the wrong length.
    WrongLength {
        /// The length the check needs, in bytes.
        expected: usize,
        /// The length found.
        found: usize,
    },
    /// A value the check cannot use (the text says why).
    Invalid(&'static str),
}

impl fmt::Display for MemberProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("missing"),
            Self::WrongType { expected } => write!(f, "not {expected}"),
            Self::NotHex => f.write_str("not lower-case hex"),
            Self::WrongLength { expected, found } => {
                write!(f, "must be {expected} bytes, found {found}")
            }
            Self::Invalid(why) => f.write_str(why),
        }
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnsupportedKind { kind } => write!(f, "unsupported vector kind {kind}"),
            Self::UnsupportedMode { kind, mode } => {
                write!(f, "vector kind {kind} has no {mode} check")
            }
            Self::UnsupportedSpecVersion { version } => {
                write!(f, "unsupported spec_version {version:?}")
            }
            Self::Malformed { member, problem } => write!(f, "{member}: {problem}"),
            Self::Output {
                member,
                expected,
                actual,
            } => write!(f, "{member} mismatch: expected {expected} got {actual}"),
            Self::UnexpectedOutput { member } => {
                write!(f, "output.{member} is not produced by this kind of vector")
            }
            Self::MissingOutput { member } => write!(f, "output.{member}: missing"),
            Self::Failed { check, cause } => write!(f, "{check}: {cause}"),
            Self::CheckFailed { check } => write!(f, "{check}: does not hold"),
        }
    }
}

impl std::error::Error for Mismatch {}

/// Every outcome of a directory run, in file-name order, then file order.
#[derive(Debug, Default)]
pub struct Report {
    /// One outcome per vector.
    pub outcomes: Vec<VectorOutcome>,
}

impl Report {
    /// How many vectors passed.
    pub fn passed(&self) -> usize {
        self.outcomes.iter().filter(|o| o.passed()).count()
    }

    /// How many vectors failed.
    pub fn failed(&self) -> usize {
        self.outcomes.len() - self.passed()
    }

    /// True when at least one vector ran and none failed.
    pub fn all_passed(&self) -> bool {
        !self.outcomes.is_empty() && self.failed() == 0
    }
}

/// The input is not a readable set of vector files.
#[derive(Debug)]
#[non_exhaustive]
pub enum RunnerError {
    /// A directory or file could not be read.
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// The directory holds no `*.json` file.
    NoVectorFiles {
        /// The directory searched.
        dir: PathBuf,
    },
    /// A file is not JSON of the vector-file shape (`suite`,
    /// `spec_version`, `vectors[]` with `name`, `mode` (`deterministic` or
    /// `verify`), `input`, `output`).
    Parse {
        /// The file name as given to [`crate::run_file_contents`].
        file: String,
        /// What the JSON parser said (line and column included).
        source: serde_json::Error,
    },
}

impl fmt::Display for RunnerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Self::NoVectorFiles { dir } => {
                write!(
                    f,
                    "{}: no vector files (*.json) in this directory",
                    dir.display()
                )
            }
            Self::Parse { file, source } => write!(f, "{file}: not a vector file: {source}"),
        }
    }
}

impl std::error::Error for RunnerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            Self::Parse { source, .. } => Some(source),
            Self::NoVectorFiles { .. } => None,
        }
    }
}
