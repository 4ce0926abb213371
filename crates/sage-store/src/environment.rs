//! Deployment environments, as far as the store cares: which seed data
//! applies, and where the database tools must ask before acting.

use core::fmt;
use core::str::FromStr;

/// Where a store is deployed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Environment {
    /// A developer's machine (the default). Seeds like development.
    #[default]
    Local,
    /// The shared development deployment.
    Development,
    /// Staging: production-like, with a few known test agents.
    Staging,
    /// Production: never seeded; the database tools refuse to act on it
    /// without explicit confirmation.
    Production,
}

impl Environment {
    /// Every environment.
    pub const ALL: [Self; 4] = [
        Self::Local,
        Self::Development,
        Self::Staging,
        Self::Production,
    ];

    /// The canonical name: `local`, `development`, `staging`, `production`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Development => "development",
            Self::Staging => "staging",
            Self::Production => "production",
        }
    }

    /// True for production.
    pub const fn is_production(self) -> bool {
        matches!(self, Self::Production)
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is no environment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown environment {name:?}: expected local, development (dev), staging or production (prod)"
)]
pub struct UnknownEnvironment {
    /// What was given.
    pub name: String,
}

impl FromStr for Environment {
    type Err = UnknownEnvironment;

    /// Case-insensitive; accepts `dev` and `prod` as short names.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "local" => Ok(Self::Local),
            "dev" | "development" => Ok(Self::Development),
            "staging" => Ok(Self::Staging),
            "prod" | "production" => Ok(Self::Production),
            _ => Err(UnknownEnvironment {
                name: s.chars().take(64).collect(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_short_names_parse() {
        for env in Environment::ALL {
            assert_eq!(env.name().parse::<Environment>().unwrap(), env);
        }
        assert_eq!(
            "DEV".parse::<Environment>().unwrap(),
            Environment::Development
        );
        assert_eq!(
            "prod".parse::<Environment>().unwrap(),
            Environment::Production
        );
        assert!("qa".parse::<Environment>().is_err());
    }
}
