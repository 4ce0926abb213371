//! The async runtime of a one-shot command.
//!
//! Layer: CLI glue. The CLI is synchronous; a command that talks to a
//! database, a node or a chain runs its future to completion on a
//! single-threaded tokio runtime built for it, here. `sage serve` is the
//! exception: the node builds its own multi-threaded runtime.
//!
//! Invariant: a runtime that cannot be built is an I/O error of the CLI
//! (exit 3), never a panic.

use std::path::PathBuf;

use crate::error::{CliError, IoAction};

/// Runs `future` on a single-threaded runtime built for this command.
///
/// # Errors
///
/// [`CliError::Io`] when the runtime cannot be built, else the future's
/// own error.
pub(crate) fn block_on<T>(
    future: impl Future<Output = Result<T, CliError>>,
) -> Result<T, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| CliError::Io {
            path: PathBuf::from("the async runtime"),
            action: IoAction::Create,
            source,
        })?
        .block_on(future)
}
