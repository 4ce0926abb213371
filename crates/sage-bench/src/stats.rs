//! Recording a run: HDR latency histograms per operation, errors by code,
//! a time series, and the live window the progress display reads.
//!
//! Layer: the bench's measurement. [`Recorder`] is fed one outcome per
//! request (its operation, when it ended, its latency, or the error code)
//! and turns into the report's numbers ([`Recorder::summaries`],
//! [`Recorder::series`], [`Recorder::histogram_bins`]).
//!
//! Invariants: latencies are recorded in microseconds, from 1 µs to one
//! hour, with 3 significant digits (longer ones saturate at the top);
//! only successful requests enter the latency histograms (a failure's
//! latency says nothing about the service); the time series keeps one
//! finished window per operation and interval, so its memory does not
//! grow with the request count.
//!
//! What it does not do: timing (the runner measures, from the intended
//! start in an open-model run) or judging ([`crate::thresholds`]).

use core::time::Duration;
use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::scenario::Operation;

/// The largest latency recorded exactly, in microseconds (one hour).
const MAX_MICROS: u64 = 3_600_000_000;

/// Latency percentiles, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

impl Percentiles {
    /// The percentiles of `histogram` (microseconds), in milliseconds;
    /// zeros for an empty histogram.
    pub fn of(histogram: &Histogram<u64>) -> Self {
        if histogram.is_empty() {
            return Self::default();
        }
        let ms = |micros: u64| micros as f64 / 1000.0;
        Self {
            p50: ms(histogram.value_at_quantile(0.50)),
            p90: ms(histogram.value_at_quantile(0.90)),
            p95: ms(histogram.value_at_quantile(0.95)),
            p99: ms(histogram.value_at_quantile(0.99)),
            p999: ms(histogram.value_at_quantile(0.999)),
            max: ms(histogram.max()),
            mean: histogram.mean() / 1000.0,
        }
    }
}

/// One operation's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationSummary {
    /// Requests made (successes and failures).
    pub count: u64,
    /// Successful requests.
    pub ok: u64,
    /// Failed requests by error code.
    pub errors: BTreeMap<String, u64>,
    /// Failed requests over all requests (0 when none was made).
    pub error_rate: f64,
    /// Successful requests per second of the run.
    pub throughput: f64,
    /// Latency of the successful requests.
    pub latency_ms: Percentiles,
}

/// One window of the time series, for one operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesPoint {
    /// The window's end, in seconds since the run started.
    pub t: f64,
    /// The operation.
    pub operation: Operation,
    /// Successful requests in the window.
    pub ok: u64,
    /// Failed requests in the window.
    pub errors: u64,
    /// Successful requests per second in the window.
    pub rate: f64,
    /// Median latency in the window, ms.
    pub p50_ms: f64,
    /// 99th-percentile latency in the window, ms.
    pub p99_ms: f64,
}

/// One bar of a latency histogram.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HistogramBin {
    /// The bar's upper bound, ms.
    pub upper_ms: f64,
    /// Successful requests with a latency in the bar.
    pub count: u64,
}

/// The live numbers the progress display shows, since the last look.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LiveWindow {
    /// Successes since the last look.
    pub ok: u64,
    /// Failures since the last look.
    pub errors: u64,
    /// Successes since the start.
    pub total_ok: u64,
    /// Failures since the start.
    pub total_errors: u64,
    /// Median latency since the last look, ms.
    pub p50_ms: f64,
    /// 99th-percentile latency since the last look, ms.
    pub p99_ms: f64,
}

fn histogram() -> Histogram<u64> {
    // The bounds are constants that hdrhistogram accepts (1 ≤ low,
    // high ≥ 2·low, 3 significant digits), so this cannot fail.
    Histogram::new_with_bounds(1, MAX_MICROS, 3).unwrap_or_else(|_| unreachable!())
}

#[derive(Debug)]
struct OperationState {
    latency: Histogram<u64>,
    ok: u64,
    errors: BTreeMap<String, u64>,
    window: Histogram<u64>,
    window_errors: u64,
}

impl OperationState {
    fn new() -> Self {
        Self {
            latency: histogram(),
            ok: 0,
            errors: BTreeMap::new(),
            window: histogram(),
            window_errors: 0,
        }
    }
}

/// Collects a run's outcomes.
#[derive(Debug)]
pub struct Recorder {
    interval: Duration,
    window_index: u64,
    operations: BTreeMap<Operation, OperationState>,
    series: Vec<SeriesPoint>,
    live: Histogram<u64>,
    live_errors: u64,
    total_ok: u64,
    total_errors: u64,
}

impl Recorder {
    /// A recorder whose time series has one point per `interval` (at
    /// least a second: pick about `run / 300` for a long run).
    pub fn new(interval: Duration) -> Self {
        Self {
            interval: interval.max(Duration::from_secs(1)),
            window_index: 0,
            operations: BTreeMap::new(),
            series: Vec::new(),
            live: histogram(),
            live_errors: 0,
            total_ok: 0,
            total_errors: 0,
        }
    }

    /// The series interval for a run of `run`: one point a second, or
    /// about 300 points for a long run.
    pub fn interval_for(run: Duration) -> Duration {
        Duration::from_secs((run.as_secs() / 300).max(1))
    }

    /// Records a request that ended `at` (since the run started):
    /// `Ok(latency)` or `Err(code)`.
    pub fn record(&mut self, operation: Operation, at: Duration, outcome: Result<Duration, &str>) {
        self.advance_to(at);
        let state = self
            .operations
            .entry(operation)
            .or_insert_with(OperationState::new);
        match outcome {
            Ok(latency) => {
                let micros = u64::try_from(latency.as_micros())
                    .unwrap_or(u64::MAX)
                    .max(1);
                state.latency.saturating_record(micros);
                state.window.saturating_record(micros);
                self.live.saturating_record(micros);
                state.ok += 1;
                self.total_ok += 1;
            }
            Err(code) => {
                *state.errors.entry(code.to_owned()).or_default() += 1;
                state.window_errors += 1;
                self.live_errors += 1;
                self.total_errors += 1;
            }
        }
    }

    /// Closes the windows that end at or before `at`.
    fn advance_to(&mut self, at: Duration) {
        let index = (at.as_secs_f64() / self.interval.as_secs_f64()) as u64;
        while self.window_index < index {
            self.close_window();
        }
    }

    fn close_window(&mut self) {
        self.window_index += 1;
        let t = (self.window_index as f64) * self.interval.as_secs_f64();
        self.push_window(t, self.interval.as_secs_f64());
    }

    /// Appends one point per operation for the window ending at `t` that
    /// lasted `seconds`, and empties the windows.
    fn push_window(&mut self, t: f64, seconds: f64) {
        for (operation, state) in &mut self.operations {
            let ok = state.window.len();
            self.series.push(SeriesPoint {
                t,
                operation: *operation,
                ok,
                errors: state.window_errors,
                rate: ok as f64 / seconds,
                p50_ms: percentile_ms(&state.window, 0.50),
                p99_ms: percentile_ms(&state.window, 0.99),
            });
            state.window.reset();
            state.window_errors = 0;
        }
    }

    /// Closes the time series at the end of the run (`at`), counting a
    /// last partial window if it has any request.
    pub fn finish(&mut self, at: Duration) {
        self.advance_to(at);
        let partial = self
            .operations
            .values()
            .any(|s| !s.window.is_empty() || s.window_errors > 0);
        if partial {
            let start = (self.window_index as f64) * self.interval.as_secs_f64();
            let seconds = (at.as_secs_f64() - start).max(0.001);
            self.push_window(at.as_secs_f64(), seconds);
        }
    }

    /// The numbers since the last call, for the progress display.
    pub fn take_live(&mut self) -> LiveWindow {
        let window = LiveWindow {
            ok: self.live.len(),
            errors: self.live_errors,
            total_ok: self.total_ok,
            total_errors: self.total_errors,
            p50_ms: percentile_ms(&self.live, 0.50),
            p99_ms: percentile_ms(&self.live, 0.99),
        };
        self.live.reset();
        self.live_errors = 0;
        window
    }

    /// Each operation's results over a run of `elapsed`.
    pub fn summaries(&self, elapsed: Duration) -> BTreeMap<Operation, OperationSummary> {
        self.operations
            .iter()
            .map(|(operation, state)| (*operation, summarise(state, elapsed)))
            .collect()
    }

    /// The time series, in time order.
    pub fn series(&self) -> &[SeriesPoint] {
        &self.series
    }

    /// Each operation's latency histogram in `bins` bars of equal width
    /// from 0 to its 99.9th percentile (the rest falls in the last bar).
    pub fn histogram_bins(&self, bins: u32) -> BTreeMap<Operation, Vec<HistogramBin>> {
        self.operations
            .iter()
            .filter(|(_, s)| !s.latency.is_empty())
            .map(|(operation, state)| (*operation, bin(&state.latency, bins)))
            .collect()
    }
}

fn percentile_ms(histogram: &Histogram<u64>, quantile: f64) -> f64 {
    if histogram.is_empty() {
        0.0
    } else {
        histogram.value_at_quantile(quantile) as f64 / 1000.0
    }
}

fn summarise(state: &OperationState, elapsed: Duration) -> OperationSummary {
    let failed: u64 = state.errors.values().sum();
    let count = state.ok + failed;
    let seconds = elapsed.as_secs_f64();
    OperationSummary {
        count,
        ok: state.ok,
        errors: state.errors.clone(),
        error_rate: if count == 0 {
            0.0
        } else {
            failed as f64 / count as f64
        },
        throughput: if seconds > 0.0 {
            state.ok as f64 / seconds
        } else {
            0.0
        },
        latency_ms: Percentiles::of(&state.latency),
    }
}

/// `bins` equal bars from 0 to the 99.9th percentile; the tail goes into
/// the last bar.
fn bin(histogram: &Histogram<u64>, bins: u32) -> Vec<HistogramBin> {
    let bins = u64::from(bins.max(1));
    let top = histogram.value_at_quantile(0.999).max(bins);
    let width = top.div_ceil(bins);
    let mut out: Vec<HistogramBin> = (1..=bins)
        .map(|i| HistogramBin {
            upper_ms: (i * width) as f64 / 1000.0,
            count: 0,
        })
        .collect();
    for value in histogram.iter_recorded() {
        let micros = value.value_iterated_to();
        let index = usize::try_from((micros / width).min(bins - 1)).unwrap_or(0);
        if let Some(bar) = out.get_mut(index) {
            bar.count += value.count_at_value();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn percentiles_of_a_uniform_run_are_where_expected() {
        let mut recorder = Recorder::new(Duration::from_secs(1));
        for i in 1..=1000 {
            recorder.record(Operation::Send, ms(10), Ok(ms(i)));
        }
        let summary = &recorder.summaries(Duration::from_secs(10))[&Operation::Send];
        let p = summary.latency_ms;
        // 3 significant digits: within 0.1 %.
        for (got, want) in [
            (p.p50, 500.0),
            (p.p90, 900.0),
            (p.p95, 950.0),
            (p.p99, 990.0),
        ] {
            assert!((got - want).abs() <= want * 0.001, "{got} vs {want}");
        }
        assert!((p.p999 - 999.0).abs() <= 1.0);
        assert!((p.max - 1000.0).abs() <= 1.0);
        assert!((p.mean - 500.5).abs() <= 1.0);
        assert_eq!(summary.count, 1000);
        assert!((summary.throughput - 100.0).abs() < 1e-9);
        assert_eq!(summary.error_rate, 0.0);
    }

    #[test]
    fn errors_are_counted_by_code_and_stay_out_of_the_latencies() {
        let mut recorder = Recorder::new(Duration::from_secs(1));
        recorder.record(Operation::Handshake, ms(1), Ok(ms(2)));
        recorder.record(Operation::Handshake, ms(1), Err("rejected"));
        recorder.record(Operation::Handshake, ms(1), Err("rejected"));
        recorder.record(Operation::Handshake, ms(1), Err("unavailable"));
        let summary = &recorder.summaries(Duration::from_secs(1))[&Operation::Handshake];
        assert_eq!(summary.count, 4);
        assert_eq!(summary.ok, 1);
        assert_eq!(summary.errors["rejected"], 2);
        assert_eq!(summary.errors["unavailable"], 1);
        assert!((summary.error_rate - 0.75).abs() < 1e-12);
        assert!((summary.latency_ms.max - 2.0).abs() < 0.01);
    }

    #[test]
    fn an_operation_never_run_has_no_summary_and_empty_percentiles_are_zero() {
        let recorder = Recorder::new(Duration::from_secs(1));
        assert!(recorder.summaries(Duration::from_secs(1)).is_empty());
        assert_eq!(Percentiles::of(&histogram()), Percentiles::default());
    }

    #[test]
    fn the_series_has_one_point_per_operation_and_window() {
        let mut recorder = Recorder::new(Duration::from_secs(1));
        recorder.record(Operation::Send, ms(100), Ok(ms(1)));
        recorder.record(Operation::Send, ms(900), Ok(ms(3)));
        recorder.record(Operation::Send, ms(1500), Err("bad_request"));
        recorder.record(Operation::Send, ms(2500), Ok(ms(5)));
        recorder.finish(ms(2750));
        let series = recorder.series();
        assert_eq!(series.len(), 3);
        assert_eq!((series[0].t, series[0].ok, series[0].errors), (1.0, 2, 0));
        assert!((series[0].rate - 2.0).abs() < 1e-9);
        assert!((series[0].p99_ms - 3.0).abs() < 0.01);
        assert_eq!((series[1].t, series[1].ok, series[1].errors), (2.0, 0, 1));
        assert_eq!((series[2].t, series[2].ok), (2.75, 1));
        assert!((series[2].rate - 1.0 / 0.75).abs() < 1e-6);
    }

    #[test]
    fn histogram_bins_cover_every_success_once() {
        let mut recorder = Recorder::new(Duration::from_secs(1));
        for i in 1..=500u64 {
            recorder.record(Operation::Send, ms(1), Ok(Duration::from_micros(i * 37)));
        }
        let bins = &recorder.histogram_bins(20)[&Operation::Send];
        assert_eq!(bins.len(), 20);
        assert_eq!(bins.iter().map(|b| b.count).sum::<u64>(), 500);
        assert!(bins.windows(2).all(|w| w[0].upper_ms < w[1].upper_ms));
    }

    #[test]
    fn the_live_window_resets_but_the_totals_do_not() {
        let mut recorder = Recorder::new(Duration::from_secs(1));
        recorder.record(Operation::Send, ms(1), Ok(ms(4)));
        recorder.record(Operation::Send, ms(1), Err("rejected"));
        let first = recorder.take_live();
        assert_eq!((first.ok, first.errors, first.total_ok), (1, 1, 1));
        assert!((first.p50_ms - 4.0).abs() < 0.01);
        recorder.record(Operation::Send, ms(2), Ok(ms(1)));
        let second = recorder.take_live();
        assert_eq!(
            (
                second.ok,
                second.errors,
                second.total_ok,
                second.total_errors
            ),
            (1, 0, 2, 1)
        );
    }

    #[test]
    fn long_runs_get_about_300_points() {
        assert_eq!(
            Recorder::interval_for(Duration::from_secs(60)),
            Duration::from_secs(1)
        );
        assert_eq!(
            Recorder::interval_for(Duration::from_secs(3600)),
            Duration::from_secs(12)
        );
    }
}
