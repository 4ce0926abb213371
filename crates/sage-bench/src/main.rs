//! `sage-bench`: see the crate documentation and `docs/LOAD-TESTING.md`.

fn main() -> std::process::ExitCode {
    sage_bench::run_cli(std::env::args_os())
}
