//! The sage-store test suite. Every test written as `async fn(&TestDb)`
//! runs twice, against SQLite (a temporary file) and against PostgreSQL
//! (`SAGE_TEST_DATABASE_URL`, see `scripts/ensure-postgres.sh`); nothing is
//! mocked.
// Helpers and the per-engine test bodies unwrap (clippy allows it only
// inside #[test] functions): any failure there is a test failure.
#![allow(clippy::unwrap_used)]

// `both_engines!` comes from sage-store's `test-support` harness.
#[macro_use]
extern crate sage_store;

mod common;

mod backup;
mod dids;
mod migrations;
mod nonces;
mod registry;
mod seed;
mod sessions;
mod sweeper;
