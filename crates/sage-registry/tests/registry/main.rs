//! The sage-registry test suite. Every test written as `async fn(&TestDb)`
//! runs twice, against SQLite (a temporary file) and against PostgreSQL
//! (`SAGE_TEST_DATABASE_URL`, see `scripts/ensure-postgres.sh`), through
//! the real local registry and the real store; the only double is a
//! registry that can be switched off, for the unreachable-registry tests.
// Helpers and the per-engine test bodies unwrap (clippy allows it only
// inside #[test] functions): any failure there is a test failure.
#![allow(clippy::unwrap_used)]

// `both_engines!` comes from sage-store's `test-support` harness.
#[macro_use]
extern crate sage_store;

mod common;

mod authorisation;
mod documents;
mod lifecycle;
mod resolver;
mod vectors;
