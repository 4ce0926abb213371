//! Judging a run against its scenario's thresholds.
//!
//! Layer: the bench's verdict, a pure function of the thresholds and the
//! summaries. Every limit gives one [`ThresholdResult`]; the run passes
//! when all pass. A latency limit on an operation with no successful
//! request fails (there is nothing to show it holds), and so does a limit
//! on an operation that never ran.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::scenario::{Operation, Thresholds};
use crate::stats::OperationSummary;

/// One limit and what the run showed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdResult {
    /// What is limited: `error_rate`, `throughput`, `send.p99`,
    /// `handshake.error_rate`, ...
    pub name: String,
    /// The limit (ms for latencies, 0..1 for error rates, requests per
    /// second for throughputs).
    pub limit: f64,
    /// What the run showed; `None` when nothing was measured.
    pub observed: Option<f64>,
    /// Whether the limit held.
    pub passed: bool,
}

/// Largest-value limits pass at or below the limit; smallest-value limits
/// at or above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    AtMost,
    AtLeast,
}

fn judge(name: String, bound: Bound, limit: f64, observed: Option<f64>) -> ThresholdResult {
    let passed = observed.is_some_and(|value| match bound {
        Bound::AtMost => value <= limit,
        Bound::AtLeast => value >= limit,
    });
    ThresholdResult {
        name,
        limit,
        observed,
        passed,
    }
}

/// Every threshold of `thresholds`, judged against `summaries` (a run's
/// per-operation results).
pub fn evaluate(
    thresholds: &Thresholds,
    summaries: &BTreeMap<Operation, OperationSummary>,
) -> Vec<ThresholdResult> {
    let mut results = Vec::new();
    let count: u64 = summaries.values().map(|s| s.count).sum();
    let ok: u64 = summaries.values().map(|s| s.ok).sum();
    if let Some(limit) = thresholds.max_error_rate {
        let observed = (count > 0).then(|| (count - ok) as f64 / count as f64);
        results.push(judge("error_rate".into(), Bound::AtMost, limit, observed));
    }
    if let Some(limit) = thresholds.min_throughput {
        let total: f64 = summaries.values().map(|s| s.throughput).sum();
        results.push(judge(
            "throughput".into(),
            Bound::AtLeast,
            limit,
            Some(total),
        ));
    }
    for (operation, limits) in &thresholds.operations {
        let summary = summaries.get(operation);
        let latency = |pick: fn(&OperationSummary) -> f64| summary.filter(|s| s.ok > 0).map(pick);
        let latencies = [
            ("p50", limits.p50, latency(|s| s.latency_ms.p50)),
            ("p95", limits.p95, latency(|s| s.latency_ms.p95)),
            ("p99", limits.p99, latency(|s| s.latency_ms.p99)),
        ];
        for (label, limit, observed) in latencies {
            if let Some(limit) = limit {
                let limit_ms = limit.0.as_secs_f64() * 1000.0;
                results.push(judge(
                    format!("{operation}.{label}"),
                    Bound::AtMost,
                    limit_ms,
                    observed,
                ));
            }
        }
        if let Some(limit) = limits.max_error_rate {
            let observed = summary.filter(|s| s.count > 0).map(|s| s.error_rate);
            results.push(judge(
                format!("{operation}.error_rate"),
                Bound::AtMost,
                limit,
                observed,
            ));
        }
        if let Some(limit) = limits.min_throughput {
            let observed = Some(summary.map_or(0.0, |s| s.throughput));
            results.push(judge(
                format!("{operation}.throughput"),
                Bound::AtLeast,
                limit,
                observed,
            ));
        }
    }
    results
}

#[cfg(test)]
mod tests {
    use core::time::Duration;

    use super::*;
    use crate::scenario::{OperationThresholds, Span};
    use crate::stats::Percentiles;

    fn summary(ok: u64, failed: u64, p99_ms: f64, throughput: f64) -> OperationSummary {
        let count = ok + failed;
        OperationSummary {
            count,
            ok,
            errors: if failed > 0 {
                [("rejected".to_owned(), failed)].into()
            } else {
                BTreeMap::new()
            },
            error_rate: if count > 0 {
                failed as f64 / count as f64
            } else {
                0.0
            },
            throughput,
            latency_ms: Percentiles {
                p50: p99_ms / 4.0,
                p95: p99_ms / 2.0,
                p99: p99_ms,
                ..Percentiles::default()
            },
        }
    }

    fn limits(p99_ms: u64) -> OperationThresholds {
        OperationThresholds {
            p99: Some(Span(Duration::from_millis(p99_ms))),
            ..OperationThresholds::default()
        }
    }

    fn by_name<'a>(results: &'a [ThresholdResult], name: &str) -> &'a ThresholdResult {
        results.iter().find(|r| r.name == name).unwrap()
    }

    #[test]
    fn a_run_within_every_limit_passes_every_threshold() {
        let thresholds = Thresholds {
            max_error_rate: Some(0.0),
            min_throughput: Some(100.0),
            operations: [(Operation::Send, limits(10))].into(),
        };
        let summaries = [(Operation::Send, summary(1000, 0, 9.5, 120.0))].into();
        let results = evaluate(&thresholds, &summaries);
        assert_eq!(results.len(), 3);
        assert!(results.iter().all(|r| r.passed), "{results:?}");
    }

    #[test]
    fn each_kind_of_breach_fails_its_own_threshold() {
        let thresholds = Thresholds {
            max_error_rate: Some(0.01),
            min_throughput: Some(200.0),
            operations: [(
                Operation::Send,
                OperationThresholds {
                    p95: Some(Span(Duration::from_millis(4))),
                    max_error_rate: Some(0.0),
                    min_throughput: Some(150.0),
                    ..limits(10)
                },
            )]
            .into(),
        };
        let summaries = [(Operation::Send, summary(98, 2, 12.0, 120.0))].into();
        let results = evaluate(&thresholds, &summaries);
        for name in [
            "error_rate",
            "throughput",
            "send.p95",
            "send.p99",
            "send.error_rate",
            "send.throughput",
        ] {
            assert!(!by_name(&results, name).passed, "{name} should fail");
        }
        let p99 = by_name(&results, "send.p99");
        assert_eq!((p99.limit, p99.observed), (10.0, Some(12.0)));
        assert_eq!(by_name(&results, "error_rate").observed, Some(0.02));
    }

    #[test]
    fn limits_are_inclusive() {
        let thresholds = Thresholds {
            max_error_rate: Some(0.5),
            min_throughput: Some(10.0),
            operations: [(Operation::Send, limits(10))].into(),
        };
        let summaries = [(Operation::Send, summary(1, 1, 10.0, 10.0))].into();
        assert!(evaluate(&thresholds, &summaries).iter().all(|r| r.passed));
    }

    #[test]
    fn a_latency_limit_without_any_success_fails() {
        let thresholds = Thresholds {
            operations: [(Operation::Resolve, limits(10))].into(),
            ..Thresholds::default()
        };
        let failed_only = [(Operation::Resolve, summary(0, 5, 0.0, 0.0))].into();
        let result = &evaluate(&thresholds, &failed_only)[0];
        assert!(!result.passed);
        assert_eq!(result.observed, None);
        let never_ran = evaluate(&thresholds, &BTreeMap::new());
        assert!(!never_ran[0].passed);
    }

    #[test]
    fn no_thresholds_give_no_results() {
        let summaries = [(Operation::Send, summary(1, 1, 10.0, 10.0))].into();
        assert!(evaluate(&Thresholds::default(), &summaries).is_empty());
    }
}
