//! Helpers shared by the integration tests.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};

use sage_config::{ConfigErrors, EnvVars, Environment, LoadOptions, LoadedConfig, load};

/// The shipped `config/` directory.
pub fn shipped_config_dir() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config")).to_path_buf()
}

/// A 32-byte key in base64 (bytes 0..32).
pub const KEK_B64: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// A registry contract address.
pub const CONTRACT: &str = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

pub fn vars(pairs: &[(&str, &str)]) -> EnvVars {
    pairs.iter().copied().collect()
}

/// Options over `dir` with only `pairs` as environment.
pub fn options_in(dir: &Path, env: Environment, pairs: &[(&str, &str)]) -> LoadOptions {
    LoadOptions {
        env: Some(env),
        config_dir: Some(dir.to_path_buf()),
        ..LoadOptions::new(vars(pairs))
    }
}

/// Writes `files` (name, text) into a fresh directory.
pub fn config_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write config file");
    }
    dir
}

pub fn load_ok(options: LoadOptions) -> LoadedConfig {
    match load(options) {
        Ok(loaded) => loaded,
        Err(errors) => panic!("{errors}"),
    }
}

pub fn load_err(options: LoadOptions) -> ConfigErrors {
    match load(options) {
        Ok(loaded) => panic!("loaded: {:?}", loaded.config),
        Err(errors) => errors,
    }
}

/// Every error as its message.
pub fn messages(errors: &ConfigErrors) -> Vec<String> {
    errors.errors.iter().map(ToString::to_string).collect()
}
