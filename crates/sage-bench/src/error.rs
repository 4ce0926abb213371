//! Why a bench command failed: one enum, named by cause.
//!
//! Layer: the bench's error vocabulary. A failed *operation* during a run
//! is not an error here: it is counted in the report under its code
//! ([`crate::runner`]). These are the failures that stop a command:
//! a scenario that does not parse or validate, a node that cannot be set
//! up or reached, a report that cannot be read or written.

use core::fmt;
use std::path::PathBuf;

use sage_client::ClientError;
use sage_registry::RegistryError;

use crate::scenario::ScenarioProblem;

/// A bench command that could not complete.
#[derive(Debug)]
#[non_exhaustive]
pub enum BenchError {
    /// A file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A scenario file is not valid YAML of the scenario shape.
    ScenarioSyntax {
        /// The file.
        path: PathBuf,
        /// The parser's error (boxed: it is large).
        source: Box<serde_saphyr::Error>,
    },
    /// A scenario parsed but breaks rules (every problem is listed).
    ScenarioInvalid {
        /// The scenario's name or file.
        scenario: String,
        /// What is wrong.
        problems: Vec<ScenarioProblem>,
    },
    /// A report file is not a sage-bench JSON report.
    ReportSyntax {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        source: serde_json::Error,
    },
    /// A report could not be serialised.
    ReportWrite(serde_json::Error),
    /// A plot of the HTML report could not be drawn.
    Plot(plotters::drawing::DrawingAreaErrorKind<std::io::Error>),
    /// The command line is inconsistent (for example neither a node URL
    /// nor `--spawn-node`).
    Usage(&'static str),
    /// A command-line value does not parse (a duration, a URL).
    BadArgument {
        /// The option.
        option: &'static str,
        /// The value as given.
        value: String,
    },
    /// The in-process node did not start.
    Node(sage_node::server::NodeError),
    /// The node's database could not be opened.
    Store(sage_store::StoreError),
    /// A virtual agent could not be registered, or the node's DID
    /// resolved, in the registry.
    Registry(RegistryError),
    /// A virtual agent's client could not be built, or the node's keys not
    /// resolved.
    Client(ClientError),
    /// The node could not be reached for set-up (agent card, metrics).
    Http(reqwest::Error),
    /// The node's agent card does not name a DID.
    AgentCard,
    /// Key generation failed.
    KeyGeneration,
    /// The async runtime could not be created.
    Runtime(std::io::Error),
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Self::ScenarioSyntax { path, source } => {
                write!(f, "{}: not a scenario: {source}", path.display())
            }
            Self::ScenarioInvalid { scenario, problems } => {
                write!(f, "scenario {scenario}: ")?;
                for (i, problem) in problems.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{problem}")?;
                }
                Ok(())
            }
            Self::ReportSyntax { path, source } => {
                write!(f, "{}: not a sage-bench report: {source}", path.display())
            }
            Self::ReportWrite(e) => write!(f, "cannot serialise the report: {e}"),
            Self::Plot(e) => write!(f, "cannot draw a plot: {e}"),
            Self::Usage(why) => f.write_str(why),
            Self::BadArgument { option, value } => write!(f, "{option}: cannot use {value:?}"),
            Self::Node(e) => write!(f, "the in-process node did not start: {e}"),
            Self::Store(e) => write!(f, "cannot open the node's database: {e}"),
            Self::Registry(e) => write!(f, "registry: {e}"),
            Self::Client(e) => write!(f, "client: {e}"),
            Self::Http(e) => write!(f, "cannot reach the node: {e}"),
            Self::AgentCard => f.write_str("the node's agent card names no DID"),
            Self::KeyGeneration => f.write_str("cannot generate an agent key"),
            Self::Runtime(e) => write!(f, "cannot start the async runtime: {e}"),
        }
    }
}

impl std::error::Error for BenchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } | Self::Runtime(source) => Some(source),
            Self::ScenarioSyntax { source, .. } => Some(source.as_ref()),
            Self::ReportSyntax { source, .. } | Self::ReportWrite(source) => Some(source),
            Self::Node(e) => Some(e),
            Self::Store(e) => Some(e),
            Self::Registry(e) => Some(e),
            Self::Client(e) => Some(e),
            Self::Http(e) => Some(e),
            Self::Plot(e) => Some(e),
            _ => None,
        }
    }
}
