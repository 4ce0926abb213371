//! The progress display of an Ethereum registration: which step runs
//! (commit, wait, reveal) and the countdown to the reveal, on stderr.
//!
//! Layer: CLI presentation. It is hidden with `--json`, and indicatif draws
//! nothing when stderr is not a terminal (or `TERM` is dumb), so pipes and
//! logs never receive escape codes. It only shows: the wait it counts down
//! is the caller's decision, and the bar is cleared when dropped, so an
//! error message never lands after a half-drawn line.

use core::time::Duration;
use std::borrow::Cow;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often the countdown is redrawn.
const TICK: Duration = Duration::from_millis(250);

/// One progress line on stderr.
pub(super) struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A display on stderr, or a hidden one when `visible` is false.
    pub(super) fn new(visible: bool) -> Self {
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Self {
            bar: ProgressBar::with_draw_target(None, target),
        }
    }

    /// A step of unknown length: a spinner, the step and `message`.
    pub(super) fn step(&self, step: &'static str, message: impl Into<Cow<'static, str>>) {
        self.bar.set_message(message);
        self.bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix:.bold} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        self.bar.set_prefix(step);
        self.bar.enable_steady_tick(Duration::from_millis(120));
    }

    /// Waits `wait` (tokio's clock), showing a bar and the seconds left.
    pub(super) async fn count_down(&self, step: &'static str, message: &str, wait: Duration) {
        self.bar.disable_steady_tick();
        self.bar
            .set_message(format!("{message} in {}s", seconds_left(wait)));
        self.bar.set_style(
            ProgressStyle::with_template("  {prefix:.bold} [{bar:30}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        self.bar.set_prefix(step);
        let total = wait.as_millis().max(1);
        self.bar
            .set_length(u64::try_from(total).unwrap_or(u64::MAX));
        let start = tokio::time::Instant::now();
        loop {
            let elapsed = start.elapsed();
            let Some(left) = wait.checked_sub(elapsed).filter(|l| !l.is_zero()) else {
                break;
            };
            self.bar
                .set_position(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX));
            self.bar
                .set_message(format!("{message} in {}s", seconds_left(left)));
            tokio::time::sleep(left.min(TICK)).await;
        }
        self.bar
            .set_position(u64::try_from(total).unwrap_or(u64::MAX));
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// Whole seconds left, rounded up: the countdown shows 1 until the end.
fn seconds_left(left: Duration) -> u64 {
    left.as_secs() + u64::from(left.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_countdown_rounds_up_to_whole_seconds() {
        assert_eq!(seconds_left(Duration::from_millis(1)), 1);
        assert_eq!(seconds_left(Duration::from_secs(2)), 2);
        assert_eq!(seconds_left(Duration::from_millis(2001)), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_hidden_countdown_waits_the_whole_time() {
        let progress = Progress::new(false);
        let start = tokio::time::Instant::now();
        progress
            .count_down("2/3 wait", "reveal", Duration::from_secs(3))
            .await;
        assert_eq!(start.elapsed(), Duration::from_secs(3));
    }
}
