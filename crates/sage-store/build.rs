//! Rebuilds the crate when a migration file is added or changed:
//! `sqlx::migrate!` embeds `migrations/` at compile time, and on stable Rust
//! a proc macro cannot tell cargo which files it read.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
