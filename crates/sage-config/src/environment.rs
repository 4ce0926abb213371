//! The deployment environment (`SAGE_ENV`): which `config/<env>.yaml` is
//! loaded, and which rules validation applies (a key-encryption key is
//! required everywhere but `local`; SQLite in `production` is a warning).
//!
//! It does not read `SAGE_ENV` itself: the loader does, from its injected
//! variable source.

use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Serialize};

/// A deployment environment. The default is [`Environment::Local`].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// A developer's machine: SQLite under `./data`, no secrets required.
    #[default]
    Local,
    /// A shared development deployment.
    Development,
    /// Pre-production, configured like production.
    Staging,
    /// Production.
    Production,
}

impl Environment {
    /// Every environment, in promotion order.
    pub const ALL: [Self; 4] = [
        Self::Local,
        Self::Development,
        Self::Staging,
        Self::Production,
    ];

    /// The lower-case name, as in `SAGE_ENV` and the file name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Development => "development",
            Self::Staging => "staging",
            Self::Production => "production",
        }
    }

    /// The environment file's name inside the configuration directory.
    #[must_use]
    pub fn file_name(self) -> String {
        format!("{}.yaml", self.name())
    }

    /// Whether stored session keys must be wrapped under a configured
    /// key-encryption key. In `local` a missing key is allowed: the node
    /// then generates one into the data directory (mode 0600) on first run.
    #[must_use]
    pub const fn requires_key_encryption_key(self) -> bool {
        !matches!(self, Self::Local)
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A `SAGE_ENV` (or `--env`) value that names no environment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown environment {0:?}: expected local, development, staging or production")]
pub struct UnknownEnvironment(pub String);

impl FromStr for Environment {
    type Err = UnknownEnvironment;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|e| e.name() == s)
            .ok_or_else(|| UnknownEnvironment(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for env in Environment::ALL {
            assert_eq!(env.name().parse::<Environment>(), Ok(env));
        }
        assert_eq!(
            "prod".parse::<Environment>(),
            Err(UnknownEnvironment("prod".into()))
        );
        assert!("Production".parse::<Environment>().is_err());
    }

    #[test]
    fn only_local_runs_without_a_key_encryption_key() {
        assert!(!Environment::Local.requires_key_encryption_key());
        assert!(Environment::Development.requires_key_encryption_key());
        assert!(Environment::Production.requires_key_encryption_key());
    }
}
