//! What the CLI's integration tests share: `sage` run as an operator would,
//! in a given working directory with an empty environment (but `PATH`),
//! and what it printed and exited with.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// One finished `sage` run.
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    pub(crate) fn of(out: Output) -> Self {
        Self {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    }

    /// Stdout as JSON (of a `--json` run).
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }

    /// Asserts the exit code, showing everything printed when it differs.
    pub(crate) fn expect(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// `sage ARGS` in `dir`, with an empty environment (but `PATH`), not yet
/// started.
pub(crate) fn command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sage"));
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .args(args);
    command
}

/// Runs `sage ARGS` in `dir` to the end.
pub(crate) fn sage(dir: &Path, args: &[&str]) -> Run {
    Run::of(command(dir, args).output().unwrap())
}
