//! One module per command group; each command takes its parsed arguments
//! and returns an [`Output`](crate::output::Output) or a
//! [`CliError`](crate::error::CliError).

pub(crate) mod config;
pub(crate) mod db;
pub(crate) mod did;
pub(crate) mod handshake;
pub(crate) mod http;
pub(crate) mod jcs;
pub(crate) mod keys;
pub(crate) mod raw;
pub(crate) mod registry;
pub(crate) mod send;
pub(crate) mod serve;
pub(crate) mod vectors;
