//! `sage`: the SAGE command-line tool.
//!
//! Layer: the outermost one. It is the only place that reads files, the
//! clock and the operating system's RNG, and hands them to `sage-core`
//! (which is sans-IO) as values. Every command prints a text form by
//! default and a JSON form with `--json`; failures go to stderr and end in
//! the exit codes of [`error`] (0 ok, 1 verification failed, 2 invalid
//! input or configuration, 3 I/O or database).

mod cli;
mod commands;
mod error;
mod files;
mod keyfile;
mod output;
mod runtime;
mod store_options;

use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::{Cli, Command, DidCommand, HttpCommand, KeysCommand, VectorsCommand};
use crate::error::{CliError, EXIT_INVALID_INPUT, EXIT_IO, EXIT_OK};
use crate::output::{Output, print_failure};

// The node's allocator: glibc's malloc and free were ≈ 12 % of a loaded
// node's CPU, mimalloc cut the data plane's cost by ≈ 14 %
// (docs/PERFORMANCE.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version on stdout and exits 0 for them;
            // anything else is a usage error, exit 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                EXIT_INVALID_INPUT
            } else {
                EXIT_OK
            });
        }
    };
    let json = cli.json;
    let command = match cli.command {
        // The node runs until it is stopped and prints its own banner.
        Command::Serve(args) => return commands::serve::run(&args, json),
        // Its own runtime, reports and exit codes (0 passed, 1 breach, 2 error).
        Command::Bench(command) => return sage_bench::run_command(command),
        command => command,
    };
    match run(command, json) {
        Ok(mut output) => {
            let failure = output.take_failure();
            if let Err(e) = output.print_with_status(json, failure.is_none()) {
                eprintln!("sage: cannot write output: {e}");
                return ExitCode::from(EXIT_IO);
            }
            match failure {
                Some(error) => {
                    eprintln!("sage: {error}");
                    ExitCode::from(error.exit_code())
                }
                None => ExitCode::from(EXIT_OK),
            }
        }
        Err(error) => {
            print_failure(&error, json);
            ExitCode::from(error.exit_code())
        }
    }
}

fn run(command: Command, json: bool) -> Result<Output, CliError> {
    match command {
        Command::Keys(KeysCommand::Generate(args)) => commands::keys::generate(&args),
        Command::Keys(KeysCommand::Show(args)) => commands::keys::show(&args),
        Command::Sign(args) => commands::raw::sign(&args),
        Command::Verify(args) => commands::raw::verify(&args),
        Command::Jcs(args) => commands::jcs::canonicalize_input(&args),
        Command::Did(DidCommand::Parse(args)) => commands::did::parse(&args),
        Command::Did(command) => commands::registry::run(command, json),
        Command::Vectors(VectorsCommand::Run(args)) => commands::vectors::run(&args),
        Command::Http(HttpCommand::Sign(args)) => commands::http::sign(&args),
        Command::Http(HttpCommand::Verify(args)) => commands::http::verify(&args),
        Command::Config(command) => commands::config::run(&command),
        Command::Db(args) => commands::db::run(&args),
        Command::Send(args) => commands::send::run(&args),
        Command::Handshake(args) => commands::handshake::run(&args),
        // Dispatched by `main` before `run` (they never return an Output).
        Command::Serve(_) | Command::Bench(_) => Ok(Output::new()),
    }
}
