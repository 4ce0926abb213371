//! The command line: `sage-bench run | compare | validate | html`.
//!
//! Layer: the bench's top. [`BenchCommand`] is a clap subcommand enum, so
//! the `sage` CLI can mount it as `sage bench …` and call [`run_command`]
//! (or [`execute`] from async code); [`run_cli`] is the whole program (the
//! `sage-bench` binary's `main`).
//!
//! Exit codes: 0 when every threshold held (or no regression), 1 on a
//! threshold breach or a regression, 2 when the command could not run.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use sage_core::encoding::hex_encode;
use sage_core::rand_core::Rng as _;

use crate::compare::compare;
use crate::echo::EchoServer;
use crate::error::BenchError;
use crate::report::{Machine, NodeMetrics, REPORT_FORMAT, Report, TargetInfo};
use crate::runner;
use crate::scenario::{Scenario, Span};
use crate::target::{Target, TargetOptions};
use crate::thresholds::evaluate;

/// Bars in each operation's latency histogram.
const HISTOGRAM_BINS: u32 = 40;

/// Load testing for SAGE nodes.
#[derive(Debug, Parser)]
#[command(name = "sage-bench", version, about)]
pub struct BenchCli {
    /// What to do.
    #[command(subcommand)]
    pub command: BenchCommand,
}

/// The bench's commands.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Run a scenario against a node; write the JSON and HTML reports.
    Run(RunArgs),
    /// Compare two JSON reports (B against baseline A).
    Compare(CompareArgs),
    /// Parse and validate scenario files.
    Validate {
        /// The scenario files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Serve the unprotected echo reference (`POST /echo` on the node's
    /// HTTP stack) until Ctrl-C, for `--echo-url` or oha / wrk.
    EchoServer {
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1:8081")]
        listen: std::net::SocketAddr,
    },
    /// Redraw the HTML report of a JSON report.
    Html {
        /// The JSON report.
        report: PathBuf,
        /// The HTML file (default: the report's path with `.html`).
        #[arg(short, long)]
        out: Option<PathBuf>,
    },
}

/// `sage-bench run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file (`loadtest/scenarios/baseline.yaml`).
    pub scenario: PathBuf,
    /// The node's base URL (`http://127.0.0.1:8080`).
    #[arg(long, env = "SAGE_BENCH_URL")]
    pub url: Option<String>,
    /// The node's database URL: the agents are registered in its local
    /// registry. With --spawn-node: a PostgreSQL database to use instead
    /// of a temporary SQLite file.
    #[arg(long, env = "SAGE_BENCH_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Start a node in this process (temporary directory, loopback).
    #[arg(long, conflicts_with = "url")]
    pub spawn_node: bool,
    /// The node's management token (for `resolve`).
    #[arg(long, env = "SAGE_BENCH_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The URL of the `echo` operation: a plain HTTP POST echo (with
    /// --spawn-node, default: an in-process `sage-bench echo-server`).
    #[arg(long, env = "SAGE_BENCH_ECHO_URL")]
    pub echo_url: Option<String>,
    /// The node's Prometheus metrics URL (default `<url>/metrics`).
    #[arg(long)]
    pub metrics_url: Option<String>,
    /// Scale the stages so the run lasts this long (`20s`), keeping
    /// their shape.
    #[arg(long)]
    pub duration: Option<String>,
    /// Where the reports go (`<out>/<scenario>.json` and `.html`).
    #[arg(long, default_value = "loadtest/reports")]
    pub out: PathBuf,
    /// No progress display.
    #[arg(long)]
    pub quiet: bool,
}

/// `sage-bench compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The baseline report.
    pub a: PathBuf,
    /// The report compared with it.
    pub b: PathBuf,
    /// The relative change tolerated (0.1 = 10 %).
    #[arg(long, default_value_t = 0.1)]
    pub tolerance: f64,
}

/// A command's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every threshold held; no regression; the files are valid.
    Passed,
    /// A threshold was breached, or a figure regressed.
    Failed,
}

impl Verdict {
    /// The process exit code.
    pub fn exit_code(self) -> ExitCode {
        match self {
            Self::Passed => ExitCode::SUCCESS,
            Self::Failed => ExitCode::from(1),
        }
    }
}

/// The whole program: parses `args` (the first is the program name),
/// runs the command on a new runtime, prints, and gives the exit code.
/// Call [`execute`] instead from inside a tokio runtime.
pub fn run_cli<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match BenchCli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    run_command(cli.command)
}

/// Runs `command` on a new multi-threaded runtime and gives the exit code
/// (0 passed, 1 breach or regression, 2 error, printed on stderr). This is
/// what a synchronous `main` (the `sage` CLI's `sage bench …`) calls.
pub fn run_command(command: BenchCommand) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("sage-bench: {}", BenchError::Runtime(e));
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(execute(command)) {
        Ok(verdict) => verdict.exit_code(),
        Err(e) => {
            eprintln!("sage-bench: {e}");
            ExitCode::from(2)
        }
    }
}

/// Runs one command, printing its results on stdout.
///
/// # Errors
/// Any [`BenchError`] that stopped the command.
pub async fn execute(command: BenchCommand) -> Result<Verdict, BenchError> {
    match command {
        BenchCommand::Run(args) => {
            let report = run_scenario(&args).await?;
            let (json, html) = write_reports(&report, &args.out)?;
            print!("{}", summary(&report));
            println!("report: {}\nplots:  {}", json.display(), html.display());
            Ok(if report.passed {
                Verdict::Passed
            } else {
                Verdict::Failed
            })
        }
        BenchCommand::Compare(args) => {
            let a = Report::read(&args.a)?;
            let b = Report::read(&args.b)?;
            let comparison = compare(&a, &b, args.tolerance);
            print!("{comparison}");
            Ok(if comparison.has_regression() {
                Verdict::Failed
            } else {
                Verdict::Passed
            })
        }
        BenchCommand::Validate { files } => {
            for file in &files {
                let scenario = Scenario::load(file)?;
                println!(
                    "{}: {} ({:?} model, {} stage(s), {} s, up to {} agents)",
                    file.display(),
                    scenario.name,
                    scenario.model(),
                    scenario.stages.len(),
                    scenario.total_duration().as_secs(),
                    scenario.max_agents()
                );
            }
            Ok(Verdict::Passed)
        }
        BenchCommand::EchoServer { listen } => {
            let server = EchoServer::start(listen).await?;
            println!("echo reference at {} (Ctrl-C stops)", server.url());
            sage_node::server::shutdown_signal().await;
            server.shutdown().await;
            Ok(Verdict::Passed)
        }
        BenchCommand::Html { report, out } => {
            let parsed = Report::read(&report)?;
            let out = out.unwrap_or_else(|| report.with_extension("html"));
            write_file(&out, crate::html::render(&parsed)?.as_bytes())?;
            println!("{}", out.display());
            Ok(Verdict::Passed)
        }
    }
}

/// Runs the scenario of `args` and builds its report.
///
/// # Errors
/// Any [`BenchError`] of the set-up; failed requests are in the report.
pub async fn run_scenario(args: &RunArgs) -> Result<Report, BenchError> {
    let mut scenario = Scenario::load(&args.scenario)?;
    if let Some(duration) = &args.duration {
        let span = Span::parse(duration).ok_or_else(|| BenchError::BadArgument {
            option: "--duration",
            value: duration.clone(),
        })?;
        scenario = scenario.scaled_to(span.0);
    }
    let target = Target::connect(TargetOptions {
        url: args.url.clone(),
        database_url: args.database_url.clone(),
        spawn_node: args.spawn_node,
        token: args.token.clone(),
        echo_url: args.echo_url.clone(),
        metrics_url: args.metrics_url.clone(),
    })
    .await?;
    let result = measure(&scenario, &target, !args.quiet).await;
    target.close().await;
    result
}

async fn measure(
    scenario: &Scenario,
    target: &Target,
    progress: bool,
) -> Result<Report, BenchError> {
    runner::check_target(scenario, target)?;
    let mut tag = [0u8; 4];
    getrandom::rand_core::UnwrapErr(getrandom::SysRng).fill_bytes(&mut tag);
    let agents = target
        .register_agents(
            scenario.max_agents(),
            &hex_encode(&tag),
            scenario.session.config(),
        )
        .await?;
    let before = target.scrape_metrics().await;
    let started_at = sage_store::instant::system_now().to_rfc3339();
    let results = runner::run(scenario, target, agents, progress).await?;
    let after = target.scrape_metrics().await;
    let operations = results.recorder.summaries(results.elapsed);
    let thresholds = evaluate(&scenario.thresholds, &operations);
    Ok(Report {
        format: REPORT_FORMAT.to_owned(),
        scenario: scenario.clone(),
        started_at,
        duration_seconds: results.elapsed.as_secs_f64(),
        target: TargetInfo {
            url: target.base_url.clone(),
            node_did: target.node_did.as_str().to_owned(),
            database: target.database.to_owned(),
            in_process: target.in_process,
            echo_url: target.echo_url.clone(),
        },
        machine: Machine::detect(target.in_process),
        passed: thresholds.iter().all(|t| t.passed),
        thresholds,
        histograms: results.recorder.histogram_bins(HISTOGRAM_BINS),
        series: results.recorder.series().to_vec(),
        node_metrics: NodeMetrics::new(target.metrics_url.clone(), before, after),
        operations,
    })
}

/// Writes `<out>/<scenario>.json` and `.html`; returns their paths.
///
/// # Errors
/// [`BenchError::Io`], [`BenchError::ReportWrite`], [`BenchError::Plot`].
pub fn write_reports(report: &Report, out: &Path) -> Result<(PathBuf, PathBuf), BenchError> {
    std::fs::create_dir_all(out).map_err(|source| BenchError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let json = out.join(format!("{}.json", report.scenario.name));
    let html = out.join(format!("{}.html", report.scenario.name));
    report.write(&json)?;
    write_file(&html, crate::html::render(report)?.as_bytes())?;
    Ok((json, html))
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), BenchError> {
    std::fs::write(path, bytes).map_err(|source| BenchError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// A plain-text summary of a report.
pub fn summary(report: &Report) -> String {
    use core::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({:.1} s, {}, {} cores): {}",
        report.scenario.name,
        report.duration_seconds,
        report.target.database,
        report.machine.cores,
        if report.passed { "PASSED" } else { "FAILED" }
    );
    let _ = writeln!(
        out,
        "{:<10} {:>9} {:>7} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "operation",
        "count",
        "errors",
        "rate/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "p99.9 ms",
        "max ms"
    );
    for (operation, s) in &report.operations {
        let l = &s.latency_ms;
        let _ = writeln!(
            out,
            "{:<10} {:>9} {:>7} {:>10.1} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
            operation.as_str(),
            s.count,
            s.count - s.ok,
            s.throughput,
            l.p50,
            l.p95,
            l.p99,
            l.p999,
            l.max
        );
        for (code, n) in &s.errors {
            let _ = writeln!(out, "           error {code}: {n}");
        }
    }
    for t in report.thresholds.iter().filter(|t| !t.passed) {
        let observed = t
            .observed
            .map_or_else(|| "nothing measured".to_owned(), |v| format!("{v:.4}"));
        let _ = writeln!(
            out,
            "threshold {} breached: limit {:.4}, observed {observed}",
            t.name, t.limit
        );
    }
    out
}
