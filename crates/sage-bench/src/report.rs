//! The JSON report of a run, the machine it ran on, and the node's
//! Prometheus metrics.
//!
//! Layer: the bench's output model. A [`Report`] is what `sage-bench run`
//! writes (`<out>/<scenario>.json`) and what `sage-bench compare` and
//! `sage-bench html` read; its `format` names the version of this shape.
//!
//! What it does not do: measure ([`crate::stats`]), judge
//! ([`crate::thresholds`]) or draw ([`crate::html`]).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::BenchError;
use crate::scenario::{Operation, Scenario};
use crate::stats::{HistogramBin, OperationSummary, SeriesPoint};
use crate::thresholds::ThresholdResult;

/// The report format this crate writes.
pub const REPORT_FORMAT: &str = "sage-bench-report/1";

/// Most metric samples kept from one scrape.
const MAX_METRIC_SAMPLES: usize = 4096;

/// The machine a run measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Machine {
    /// The CPU model (`/proc/cpuinfo`), or `unknown`.
    pub cpu_model: String,
    /// Logical cores available to the process.
    pub cores: usize,
    /// The operating system and architecture.
    pub os: String,
    /// Where the node ran relative to the load generator.
    pub note: String,
}

impl Machine {
    /// This machine; `in_process` says whether the node runs inside the
    /// bench's process.
    pub fn detect(in_process: bool) -> Self {
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| cpu_model(&text))
            .unwrap_or_else(|| "unknown".to_owned());
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let note = if in_process {
            format!(
                "the node runs inside the load generator's process: both share the same {cores} \
                 core(s) and async runtime, so the figures are a lower bound for either"
            )
        } else {
            format!(
                "the node and the load generator share this machine's {cores} core(s) when the \
                 node runs on the same host (loopback); the figures are a lower bound"
            )
        };
        Self {
            cpu_model,
            cores,
            os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            note,
        }
    }
}

/// The first `model name` of a `/proc/cpuinfo` text.
pub fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "model name").then(|| value.trim().to_owned())
    })
}

/// What the run was pointed at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetInfo {
    /// The node's base URL.
    pub url: String,
    /// The node's DID.
    pub node_did: String,
    /// The database engine the node and the bench share (`sqlite`,
    /// `postgres`).
    pub database: String,
    /// Whether the node ran inside the bench's process (`--spawn-node`).
    pub in_process: bool,
    /// The echo URL of the `echo` operation, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub echo_url: Option<String>,
}

/// The node's metrics, scraped before and after the run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct NodeMetrics {
    /// The metrics URL, if one was scraped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Samples before the run (`name{labels}` → value).
    pub before: BTreeMap<String, f64>,
    /// Samples after the run.
    pub after: BTreeMap<String, f64>,
    /// `after - before` for the samples in both that changed.
    pub delta: BTreeMap<String, f64>,
}

impl NodeMetrics {
    /// The metrics from two scrapes of `url`.
    pub fn new(
        url: Option<String>,
        before: BTreeMap<String, f64>,
        after: BTreeMap<String, f64>,
    ) -> Self {
        let delta = after
            .iter()
            .filter_map(|(name, value)| {
                let change = value - before.get(name).copied().unwrap_or(0.0);
                (change != 0.0 && change.is_finite()).then(|| (name.clone(), change))
            })
            .collect();
        Self {
            url,
            before,
            after,
            delta,
        }
    }
}

/// Parses Prometheus text exposition: `name{labels} value` lines, at
/// most [`MAX_METRIC_SAMPLES`]; comments and malformed lines are skipped.
pub fn parse_prometheus(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| {
            // `name{labels} value [timestamp]` or `name value [timestamp]`.
            let (name, rest) = match line.rfind('}') {
                Some(end) => line.split_at(end + 1),
                None => line.split_once(' ')?,
            };
            let value = rest.split_whitespace().next()?.parse::<f64>().ok()?;
            value.is_finite().then(|| (name.trim().to_owned(), value))
        })
        .take(MAX_METRIC_SAMPLES)
        .collect()
}

/// What a run did and showed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`REPORT_FORMAT`].
    pub format: String,
    /// The scenario as run (after any `--duration` scaling).
    pub scenario: Scenario,
    /// When the run started, RFC 3339 UTC.
    pub started_at: String,
    /// How long the measured part lasted, seconds.
    pub duration_seconds: f64,
    /// What was driven.
    pub target: TargetInfo,
    /// Where.
    pub machine: Machine,
    /// Per-operation results.
    pub operations: BTreeMap<Operation, OperationSummary>,
    /// Every threshold and its verdict.
    pub thresholds: Vec<ThresholdResult>,
    /// Whether every threshold held.
    pub passed: bool,
    /// The node's metrics before and after.
    pub node_metrics: NodeMetrics,
    /// Throughput and latency over time.
    pub series: Vec<SeriesPoint>,
    /// Latency histograms per operation.
    pub histograms: BTreeMap<Operation, Vec<HistogramBin>>,
}

impl Report {
    /// Reads a report.
    ///
    /// # Errors
    /// [`BenchError::Io`], [`BenchError::ReportSyntax`].
    pub fn read(path: &Path) -> Result<Self, BenchError> {
        let text = std::fs::read(path).map_err(|source| BenchError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_slice(&text).map_err(|source| BenchError::ReportSyntax {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Writes the report as pretty JSON.
    ///
    /// # Errors
    /// [`BenchError::ReportWrite`], [`BenchError::Io`].
    pub fn write(&self, path: &Path) -> Result<(), BenchError> {
        let json = serde_json::to_vec_pretty(self).map_err(BenchError::ReportWrite)?;
        std::fs::write(path, json).map_err(|source| BenchError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Successful requests per second over all operations.
    pub fn total_throughput(&self) -> f64 {
        self.operations.values().map(|s| s.throughput).sum()
    }

    /// Failed requests over all requests.
    pub fn total_error_rate(&self) -> f64 {
        let count: u64 = self.operations.values().map(|s| s.count).sum();
        let ok: u64 = self.operations.values().map(|s| s.ok).sum();
        if count == 0 {
            0.0
        } else {
            (count - ok) as f64 / count as f64
        }
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    use std::collections::{BTreeMap, HashMap};

    use super::*;
    use crate::stats::{OperationSummary, Percentiles};

    /// A report with, per operation, (throughput, p99 ms, error rate).
    pub(crate) fn report(operations: &[(Operation, f64, f64, f64)]) -> Report {
        let scenario = Scenario::from_yaml(
            "version: 1\nname: t\nstages:\n  - { duration: 1s, agents: 1 }\nmix: { send: 1 }\n",
            HashMap::new(),
        )
        .unwrap();
        Report {
            format: crate::report::REPORT_FORMAT.to_owned(),
            scenario,
            started_at: "2026-01-01T00:00:00Z".to_owned(),
            duration_seconds: 1.0,
            target: TargetInfo {
                url: "http://127.0.0.1:1".to_owned(),
                node_did: "did:sage:ethereum:node".to_owned(),
                database: "sqlite".to_owned(),
                in_process: true,
                echo_url: None,
            },
            machine: Machine::detect(true),
            operations: operations
                .iter()
                .map(|&(op, throughput, p99, error_rate)| {
                    (
                        op,
                        OperationSummary {
                            count: 100,
                            ok: 100,
                            errors: BTreeMap::new(),
                            error_rate,
                            throughput,
                            latency_ms: Percentiles {
                                p50: p99 / 2.0,
                                p90: p99 / 1.5,
                                p95: p99 / 1.2,
                                p99,
                                p999: p99 * 1.5,
                                max: p99 * 2.0,
                                mean: p99 / 2.0,
                            },
                        },
                    )
                })
                .collect(),
            thresholds: Vec::new(),
            passed: true,
            node_metrics: NodeMetrics::default(),
            series: Vec::new(),
            histograms: BTreeMap::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_model_is_the_first_model_name_line() {
        let text = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n\nprocessor\t: 1\nmodel name\t: other\n";
        assert_eq!(
            cpu_model(text).as_deref(),
            Some("Intel(R) Xeon(R) CPU @ 2.20GHz")
        );
        assert_eq!(cpu_model("processor: 0\n"), None);
    }

    #[test]
    fn the_machine_reports_at_least_one_core_and_says_the_node_shares_it() {
        let machine = Machine::detect(true);
        assert!(machine.cores >= 1);
        assert!(machine.note.contains("share"));
    }

    #[test]
    fn prometheus_samples_parse_with_and_without_labels() {
        let text = "# HELP x y\n# TYPE sage_handshakes_total counter\n\
                    sage_handshakes_total{outcome=\"ok\",suite=\"a b\"} 12\n\
                    process_open_fds 7 1700000000000\n\
                    broken_line\n\
                    sage_latency_seconds_bucket{le=\"+Inf\"} 3\n\
                    nan_metric NaN\n";
        let samples = parse_prometheus(text);
        assert_eq!(
            samples["sage_handshakes_total{outcome=\"ok\",suite=\"a b\"}"],
            12.0
        );
        assert_eq!(samples["process_open_fds"], 7.0);
        assert_eq!(samples["sage_latency_seconds_bucket{le=\"+Inf\"}"], 3.0);
        assert_eq!(samples.len(), 3);
    }

    #[test]
    fn the_metrics_delta_keeps_only_what_changed() {
        let before = [("a".to_owned(), 1.0), ("b".to_owned(), 5.0)].into();
        let after = [
            ("a".to_owned(), 4.0),
            ("b".to_owned(), 5.0),
            ("c".to_owned(), 2.0),
        ]
        .into();
        let metrics = NodeMetrics::new(None, before, after);
        assert_eq!(
            metrics.delta,
            [("a".to_owned(), 3.0), ("c".to_owned(), 2.0)].into()
        );
    }
}
