//! `sage-bench compare A.json B.json`: the differences between two runs,
//! as ratios, with regressions flagged.
//!
//! Layer: the bench's regression check, a pure function of two reports.
//! For every operation in both: throughput (a regression when B is below
//! A by more than the tolerance), the p50/p95/p99/p99.9 latencies (a
//! regression when B is above A by more than the tolerance) and the error
//! rate (a regression when B's is above A's by more than
//! [`ERROR_RATE_SLACK`] absolute, since error rates are mostly zero and a
//! ratio of zeros says nothing). An operation that A has and B lacks is a
//! regression; one only B has is listed, not judged.

use core::fmt;

use serde::Serialize;

use crate::report::Report;
use crate::scenario::Operation;

/// The absolute rise in error rate (0.1 percentage point) tolerated
/// whatever the relative tolerance.
pub const ERROR_RATE_SLACK: f64 = 0.001;

/// Which direction of change is worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    /// Throughput: more is better.
    Higher,
    /// Latency, errors: less is better.
    Lower,
}

/// One compared figure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    /// The operation.
    pub operation: Operation,
    /// The figure: `throughput`, `p50`, `p95`, `p99`, `p999`,
    /// `error_rate`, or `missing` (the operation is absent from B).
    pub metric: &'static str,
    /// A's value.
    pub a: f64,
    /// B's value.
    pub b: f64,
    /// `b / a`; `None` when `a` is 0.
    pub ratio: Option<f64>,
    /// Which direction is worse.
    pub better: Better,
    /// Whether B is worse than A beyond the tolerance.
    pub regression: bool,
}

/// Two runs compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The relative tolerance used (0.1 = 10 %).
    pub tolerance: f64,
    /// Every compared figure.
    pub differences: Vec<Difference>,
    /// Operations only B ran.
    pub only_in_b: Vec<Operation>,
}

impl Comparison {
    /// Whether any figure regressed.
    pub fn has_regression(&self) -> bool {
        self.differences.iter().any(|d| d.regression)
    }
}

/// Compares run `b` to baseline `a` with the relative `tolerance`.
pub fn compare(a: &Report, b: &Report, tolerance: f64) -> Comparison {
    let tolerance = tolerance.max(0.0);
    let mut differences = Vec::new();
    for (operation, was) in &a.operations {
        let Some(now) = b.operations.get(operation) else {
            differences.push(Difference {
                operation: *operation,
                metric: "missing",
                a: was.throughput,
                b: 0.0,
                ratio: Some(0.0),
                better: Better::Higher,
                regression: true,
            });
            continue;
        };
        let mut push = |metric, better, a: f64, b: f64| {
            let ratio = (a != 0.0).then(|| b / a);
            let regression = match better {
                Better::Higher => b < a * (1.0 - tolerance),
                Better::Lower if metric == "error_rate" => b > a + ERROR_RATE_SLACK,
                Better::Lower => b > a * (1.0 + tolerance),
            };
            differences.push(Difference {
                operation: *operation,
                metric,
                a,
                b,
                ratio,
                better,
                regression,
            });
        };
        push("throughput", Better::Higher, was.throughput, now.throughput);
        // Latencies of an operation with no success in either run are
        // zeros that mean nothing.
        if was.ok > 0 && now.ok > 0 {
            let (l, m) = (&was.latency_ms, &now.latency_ms);
            push("p50", Better::Lower, l.p50, m.p50);
            push("p95", Better::Lower, l.p95, m.p95);
            push("p99", Better::Lower, l.p99, m.p99);
            push("p999", Better::Lower, l.p999, m.p999);
        }
        push("error_rate", Better::Lower, was.error_rate, now.error_rate);
    }
    let only_in_b = b
        .operations
        .keys()
        .filter(|op| !a.operations.contains_key(op))
        .copied()
        .collect();
    Comparison {
        tolerance,
        differences,
        only_in_b,
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<10} {:<11} {:>12} {:>12} {:>8}  verdict (tolerance {:.0} %)",
            "operation",
            "metric",
            "A",
            "B",
            "B/A",
            self.tolerance * 100.0
        )?;
        for d in &self.differences {
            let ratio = d
                .ratio
                .map_or_else(|| "-".to_owned(), |r| format!("{r:.3}"));
            let verdict = if d.regression {
                "REGRESSION"
            } else if d.ratio.is_some_and(|r| match d.better {
                Better::Higher => r > 1.0 + self.tolerance,
                Better::Lower => r < 1.0 - self.tolerance,
            }) {
                "improved"
            } else {
                "ok"
            };
            writeln!(
                f,
                "{:<10} {:<11} {:>12.3} {:>12.3} {:>8}  {verdict}",
                d.operation.as_str(),
                d.metric,
                d.a,
                d.b,
                ratio
            )?;
        }
        for op in &self.only_in_b {
            writeln!(f, "{:<10} only in B", op.as_str())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(operations: &[(Operation, f64, f64, f64)]) -> Report {
        crate::report::fixtures::report(operations)
    }

    #[test]
    fn changes_within_the_tolerance_are_not_regressions() {
        let a = report(&[(Operation::Send, 1000.0, 10.0, 0.0)]);
        let b = report(&[(Operation::Send, 950.0, 10.8, 0.0005)]);
        let comparison = compare(&a, &b, 0.1);
        assert!(!comparison.has_regression(), "{comparison}");
        let throughput = &comparison.differences[0];
        assert_eq!(throughput.metric, "throughput");
        assert!((throughput.ratio.unwrap() - 0.95).abs() < 1e-12);
    }

    #[test]
    fn lower_throughput_beyond_the_tolerance_is_a_regression() {
        let a = report(&[(Operation::Send, 1000.0, 10.0, 0.0)]);
        let b = report(&[(Operation::Send, 850.0, 10.0, 0.0)]);
        let comparison = compare(&a, &b, 0.1);
        let regressed: Vec<_> = comparison
            .differences
            .iter()
            .filter(|d| d.regression)
            .map(|d| d.metric)
            .collect();
        assert_eq!(regressed, ["throughput"]);
        assert!(comparison.to_string().contains("REGRESSION"));
    }

    #[test]
    fn higher_latency_beyond_the_tolerance_is_a_regression() {
        let a = report(&[(Operation::Handshake, 100.0, 10.0, 0.0)]);
        let b = report(&[(Operation::Handshake, 100.0, 12.0, 0.0)]);
        let comparison = compare(&a, &b, 0.1);
        assert!(comparison.has_regression());
        assert!(
            comparison
                .differences
                .iter()
                .filter(|d| d.regression)
                .all(|d| d.metric.starts_with('p'))
        );
    }

    #[test]
    fn new_errors_are_a_regression_even_from_zero() {
        let a = report(&[(Operation::Send, 100.0, 10.0, 0.0)]);
        let b = report(&[(Operation::Send, 100.0, 10.0, 0.01)]);
        let comparison = compare(&a, &b, 0.5);
        let error_rate = comparison
            .differences
            .iter()
            .find(|d| d.metric == "error_rate")
            .unwrap();
        assert!(error_rate.regression);
        assert_eq!(error_rate.ratio, None);
    }

    #[test]
    fn an_operation_missing_from_b_is_a_regression_and_one_new_in_b_is_listed() {
        let a = report(&[
            (Operation::Send, 100.0, 10.0, 0.0),
            (Operation::Resolve, 50.0, 1.0, 0.0),
        ]);
        let b = report(&[
            (Operation::Send, 100.0, 10.0, 0.0),
            (Operation::Echo, 500.0, 1.0, 0.0),
        ]);
        let comparison = compare(&a, &b, 0.1);
        assert!(
            comparison
                .differences
                .iter()
                .any(|d| d.operation == Operation::Resolve
                    && d.metric == "missing"
                    && d.regression)
        );
        assert_eq!(comparison.only_in_b, [Operation::Echo]);
    }

    #[test]
    fn improvements_are_shown_as_such() {
        let a = report(&[(Operation::Send, 100.0, 10.0, 0.0)]);
        let b = report(&[(Operation::Send, 200.0, 5.0, 0.0)]);
        let comparison = compare(&a, &b, 0.1);
        assert!(!comparison.has_regression());
        assert!(comparison.to_string().contains("improved"));
    }
}
