//! # sage-bench: load testing that speaks the real protocol
//!
//! Drives a SAGE node with virtual agents that are real SAGE identities:
//! every request is a real handshake, a real encrypted and signed record
//! whose signed, encrypted answer is verified and opened, a DID
//! resolution, or a session renewal — and counts a request as a success
//! only when the node verified it and answered correctly. Scenarios are
//! versioned YAML files (`loadtest/scenarios/`); results are HDR
//! histograms per operation, judged against thresholds, written as JSON
//! and as HTML with SVG plots. See `docs/LOAD-TESTING.md`.
//!
//! | module | job |
//! |---|---|
//! | [`scenario`] | the scenario file model, parsing, validation |
//! | [`target`] | the node (in-process or at a URL), agent registration |
//! | [`runner`] | closed- and open-model load, the operations, the live display |
//! | [`stats`] | HDR histograms, error codes, time series |
//! | [`thresholds`] | the verdict |
//! | [`report`] | the JSON report, the machine, the node's metrics |
//! | [`html`] | the HTML report with SVG plots |
//! | [`compare`] | two reports compared, regressions flagged |
//! | [`echo`] | the unprotected echo reference on the node's HTTP stack |
//! | [`cli`] | `sage-bench run / compare / validate / html`, [`run_cli`] |
//! | [`error`] | [`BenchError`] |
#![warn(missing_docs)]

pub mod cli;
pub mod compare;
pub mod echo;
pub mod error;
pub mod html;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod stats;
pub mod target;
pub mod thresholds;

pub use cli::{BenchCli, BenchCommand, Verdict, execute, run_cli, run_command};
pub use error::BenchError;
