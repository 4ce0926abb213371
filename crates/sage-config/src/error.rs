//! Everything that can be wrong with a configuration, and where each value
//! came from.
//!
//! A [`ConfigError`] names its key path (or the file or variable for
//! problems found before the layers are merged) and the source that set
//! the value. [`ConfigErrors`] carries every error and warning of one load:
//! the loader never stops at the first problem. No message contains the
//! value of a secret; values of other keys may be quoted.

use core::fmt;
use std::io;
use std::path::PathBuf;

use crate::environment::{Environment, UnknownEnvironment};

/// Where a value came from, lowest priority first.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Origin {
    /// The built-in defaults.
    Default,
    /// Derived from another key's value (the default database URL from
    /// `storage.data_dir`).
    Derived {
        /// The key it was derived from.
        from: &'static str,
    },
    /// A configuration file (the environment file or `--config`).
    File(PathBuf),
    /// The copy of `config/<env>.yaml` built into the program, used when
    /// the configuration directory has no such file.
    BuiltInFile(Environment),
    /// A `SAGE_<SECTION>__<KEY>` environment variable.
    EnvVar(String),
    /// A command-line override.
    Override,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default => f.write_str("default"),
            Self::Derived { from } => write!(f, "default, derived from {from}"),
            Self::File(path) => write!(f, "{}", path.display()),
            Self::BuiltInFile(env) => write!(f, "built-in config/{}", env.file_name()),
            Self::EnvVar(name) => write!(f, "${name}"),
            Self::Override => f.write_str("command-line override"),
        }
    }
}

/// `" (set by ORIGIN)"`, or nothing for defaults (which are not the
/// user's doing).
struct SetBy<'a>(&'a Option<Origin>);

impl fmt::Display for SetBy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None | Some(Origin::Default) => Ok(()),
            Some(origin) => write!(f, " (set by {origin})"),
        }
    }
}

/// A line number suffix, `:LINE`, when known.
struct AtLine(Option<u64>);

impl fmt::Display for AtLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(line) => write!(f, ":{line}"),
            None => Ok(()),
        }
    }
}

/// One problem that makes a configuration unusable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `SAGE_ENV` names no environment.
    #[error("SAGE_ENV: {0}")]
    UnknownEnvironment(#[source] UnknownEnvironment),
    /// A configuration file could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A configuration file is not valid YAML (or not a mapping).
    #[error("{}: invalid YAML: {message}", path.display())]
    Yaml {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// `${NAME}` names an unset variable and gives no default.
    #[error(
        "{}{}: ${{{name}}} is not set and has no default (${{{name}:-default}} gives one)",
        file.display(), AtLine(*line)
    )]
    UnsetVariable {
        /// The file.
        file: PathBuf,
        /// The variable.
        name: String,
        /// Line of the reference.
        line: Option<u64>,
    },
    /// A `${...}` reference that is not well formed, or whose `?` check
    /// failed.
    #[error("{}{}: {message}", file.display(), AtLine(*line))]
    BadSubstitution {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        message: String,
        /// Line of the reference.
        line: Option<u64>,
    },
    /// A `SAGE_…__…` variable whose name has an empty segment.
    #[error("${name}: not a settings variable name (expected SAGE_<SECTION>__<KEY>)")]
    BadVariableName {
        /// The variable.
        name: String,
    },
    /// A settings variable that sets a key inside a value another
    /// variable sets (`SAGE_A__B=1` and `SAGE_A__B__C=2`).
    #[error("${name}: conflicts with another SAGE_ variable that sets a parent key")]
    ConflictingVariable {
        /// The variable.
        name: String,
    },
    /// A command-line override whose key is not a dotted path.
    #[error("override {key:?}: not a key path (expected section.key, e.g. server.listen)")]
    BadOverrideKey {
        /// The key as given.
        key: String,
    },
    /// A key that the configuration does not have.
    #[error("{path}: unknown key{}{}", Suggestion(suggestion.as_deref()), SetBy(origin))]
    UnknownKey {
        /// Full key path.
        path: String,
        /// A known key at the same level with a similar name.
        suggestion: Option<String>,
        /// Who set it.
        origin: Option<Origin>,
    },
    /// A value that is malformed or breaks a rule.
    #[error("{path}: {reason}{}", SetBy(origin))]
    Invalid {
        /// Full key path.
        path: String,
        /// What is wrong.
        reason: Invalid,
        /// Who set the value.
        origin: Option<Origin>,
    },
}

struct Suggestion<'a>(Option<&'a str>);

impl fmt::Display for Suggestion<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(s) => write!(f, " (did you mean {s}?)"),
            None => Ok(()),
        }
    }
}

impl ConfigError {
    /// The key path the error is about, when it is about one.
    #[must_use]
    pub fn path(&self) -> Option<&str> {
        match self {
            Self::UnknownKey { path, .. } | Self::Invalid { path, .. } => Some(path),
            _ => None,
        }
    }
}

/// What is wrong with a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Invalid {
    /// The value has the wrong type or syntax (the deserializer's message).
    #[error("{0}")]
    Syntax(String),
    /// Zero where only a positive value makes sense.
    #[error("must be > 0")]
    MustBePositive,
    /// Larger than a hard limit.
    #[error("must be at most {limit}{}", Because(*because))]
    TooLarge {
        /// The limit, as written in the configuration.
        limit: String,
        /// Why there is a limit.
        because: Option<&'static str>,
    },
    /// Smaller than another key allows.
    #[error("must be at least {limit}{}", Because(*because))]
    TooSmall {
        /// The limit, as written in the configuration.
        limit: String,
        /// Why.
        because: Option<&'static str>,
    },
    /// A value that must be present in this situation.
    #[error("required {when}")]
    Required {
        /// When it is required.
        when: String,
    },
    /// A list that must not be empty.
    #[error("must not be empty")]
    Empty,
    /// An HPKE suite this implementation does not have.
    #[error("unknown HPKE suite {suite:?} (supported: {supported})")]
    UnknownSuite {
        /// The suite.
        suite: String,
        /// The supported suites.
        supported: &'static str,
    },
    /// An RFC 9421 component identifier that does not parse.
    #[error("{component:?} is not a component identifier: {reason}")]
    BadComponent {
        /// The entry.
        component: String,
        /// The parser's reason.
        reason: String,
    },
    /// `;req` in a request's required components.
    #[error("{component:?}: ;req components belong to response signatures, not requests")]
    ReqComponentInRequest {
        /// The entry.
        component: String,
    },
    /// A URL this key cannot use.
    #[error("{reason}")]
    BadUrl {
        /// What is wrong (never the URL itself).
        reason: &'static str,
    },
    /// A DID that does not parse.
    #[error("not a did:sage DID: {0}")]
    BadDid(String),
    /// A secret that cannot be resolved or has the wrong form.
    #[error("{0}")]
    Secret(String),
    /// Two keys that must differ are equal.
    #[error("must differ from {other}")]
    Clash {
        /// The other key.
        other: &'static str,
    },
    /// A path that must start with `/`.
    #[error("must start with /")]
    NotAbsolutePath,
}

struct Because(Option<&'static str>);

impl fmt::Display for Because {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(why) => write!(f, " ({why})"),
            None => Ok(()),
        }
    }
}

/// Something allowed but probably unintended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    /// The key path, or the file for file-level warnings.
    pub path: String,
    /// What is suspicious.
    pub kind: Warning,
    /// Who set the value.
    pub origin: Option<Origin>,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}{}", self.path, self.kind, SetBy(&self.origin))
    }
}

/// Kinds of warning.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Warning {
    /// SQLite in production.
    #[error("SQLite in production: one file on one machine, no failover; use postgres://")]
    SqliteInProduction,
    /// `session.rekey_interval: 0`.
    #[error("0 disables session key rotation (PROTOCOL.md §7.1.5, §18.2)")]
    RekeyDisabled,
    /// The idle timeout can never fire before the absolute age limit.
    #[error("longer than session.max_age, so it never applies")]
    IdleTimeoutUnreachable,
    /// `rfc9421.max_age: 0`.
    #[error("0 disables the signature age check; only nonces stop replays")]
    SignatureAgeUnchecked,
    /// `rfc9421.require_nonce: false`.
    #[error("request signatures without a nonce can be replayed within rfc9421.max_age")]
    NonceNotRequired,
    /// A profile component left out of `required_components`.
    #[error(
        "leaves out {component}, which the SAGE profile requires of every request (PROTOCOL.md §5.3)"
    )]
    WeakComponents {
        /// The missing component.
        component: &'static str,
    },
    /// A positive registry cache longer than the freshness bound.
    #[error(
        "positive registry results reused for more than 5s can hide a revocation (PROTOCOL.md §9.5)"
    )]
    LongRegistryCache,
    /// The local registry in production.
    #[error("the local registry in production trusts this node's database alone")]
    LocalRegistryInProduction,
    /// An RPC endpoint over plain HTTP to another host.
    #[error("plain {scheme} to a remote host: registry answers can be forged in transit")]
    InsecureRpc {
        /// The scheme (`http`).
        scheme: &'static str,
    },
    /// A reveal wait shorter than the registry's commit-reveal delay.
    #[error(
        "shorter than the registry's 60s commit-reveal delay (PROTOCOL.md §8.3): the reveal is refused unless the chain's clock runs ahead (a development chain)"
    )]
    RevealBeforeCommitDelay,
    /// Metrics on the public listener in production.
    #[error("metrics are served on the public listener (server.listen); set metrics.listen")]
    PublicMetrics,
    /// Text logs in production.
    #[error("text logs in production: log collectors expect json")]
    TextLogsInProduction,
    /// A secret file that others can read.
    #[error("secret file {} is readable by group or others (mode {mode:o}); use 0600", path.display())]
    LooseSecretFile {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// `${...}` left in a quoted string (substitution applies only to
    /// unquoted values).
    #[error(
        "holds a literal ${{...}}: only unquoted values are substituted (ignore this if it was written $${{...}})"
    )]
    QuotedSubstitution,
}

/// Every error and warning of one load.
#[derive(Debug, Default)]
pub struct ConfigErrors {
    /// The errors (never empty when returned by the loader).
    pub errors: Vec<ConfigError>,
    /// The warnings found on the way.
    pub warnings: Vec<ConfigWarning>,
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        write!(
            f,
            "invalid configuration ({n} error{})",
            if n == 1 { "" } else { "s" }
        )?;
        for error in &self.errors {
            write!(f, "\n  {error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}
