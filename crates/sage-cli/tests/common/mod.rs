//! What the CLI's integration tests share: `sage` run as an operator would,
//! in a given working directory with an empty environment (but `PATH`),
//! and what it printed and exited with; and `sage serve` as a running
//! process, with what its banner said. (The in-process helpers, the HTTP
//! clients and the recording proxy are `sage_node::testing`.)

#![allow(dead_code)] // each test file uses its own subset

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

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

/// A running `sage serve` and what its text banner said; killed when
/// dropped.
pub(crate) struct ServedNode {
    child: Child,
    /// Kept open so that the node never writes to a closed pipe.
    _stdout: BufReader<ChildStdout>,
    banner: Vec<(String, String)>,
}

impl ServedNode {
    /// The value of the banner line `name` (`DID`, `listening`, `health`,
    /// `/v1 token`, ...).
    pub(crate) fn banner(&self, name: &str) -> &str {
        self.banner
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {name} line in the banner: {:?}", self.banner))
    }

    /// The address the node listens on (its banner's `listening` line).
    pub(crate) fn address(&self) -> std::net::SocketAddr {
        self.banner("listening").parse().unwrap()
    }

    /// SIGKILL: no graceful shutdown, no chance to flush anything.
    pub(crate) fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then the exit status, which must come within 10 s.
    pub(crate) fn terminate(mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "sage serve did not exit on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ServedNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `sage ARGS` in `dir` with every `SAGE_*` variable removed and `env`
/// added, stdout piped, not yet started.
pub(crate) fn serve_command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sage"));
    command
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SAGE_") {
            command.env_remove(name);
        }
    }
    command.envs(env.iter().copied());
    command
}

/// Starts `sage serve --listen <listen>` in `dir` (see [`serve_command`])
/// and reads its text banner. The node's log goes to a file in `dir`, shown
/// if the node stops before its banner.
pub(crate) fn serve(dir: &Path, listen: &str, env: &[(&str, &str)]) -> ServedNode {
    let log = dir.join(format!("serve-{}.log", unique_suffix()));
    let mut child = serve_command(dir, &["serve", "--listen", listen], env)
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(
        line.trim_end(),
        "SAGE node serving",
        "sage serve --listen {listen} printed no banner; its log:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let mut banner = Vec::new();
    loop {
        line.clear();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "banner cut short");
        let (name, value) = line.trim().split_once("  ").unwrap();
        banner.push((name.to_owned(), value.trim().to_owned()));
        if name == "/v1 token" {
            break;
        }
    }
    ServedNode {
        child,
        _stdout: stdout,
        banner,
    }
}

/// A suffix no other call in this process returns.
fn unique_suffix() -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}-{n}", std::process::id())
}
