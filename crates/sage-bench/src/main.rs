//! `sage-bench`: see the crate documentation and `docs/LOAD-TESTING.md`.

// The same allocator as the `sage` binary, so that a `--spawn-node` run
// measures the node as `sage serve` runs it (docs/PERFORMANCE.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    sage_bench::run_cli(std::env::args_os())
}
