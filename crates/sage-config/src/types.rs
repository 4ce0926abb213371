//! Value types of the configuration that are more than a number or a
//! string: the database URL (whose password is never shown), Ethereum
//! addresses, and the small enumerations.
//!
//! Each type checks its own syntax when it is read, so a bad value is
//! reported at its key path together with every other problem.

use core::fmt;
use core::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Which database a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatabaseBackend {
    /// `sqlite://PATH` or `sqlite:PATH`.
    Sqlite,
    /// `postgres://…` or `postgresql://…`.
    Postgres,
}

/// Why a database URL was refused. Never contains the URL (it may hold a
/// password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DatabaseUrlError {
    /// No `scheme:` at all.
    #[error("not a database URL: write sqlite://PATH or postgres://USER@HOST/DB")]
    NoScheme,
    /// A scheme other than sqlite or postgres.
    #[error("unsupported database scheme {0:?}: use sqlite:// or postgres://")]
    UnsupportedScheme(String),
    /// `sqlite://` without a file.
    #[error("the sqlite URL names no database file")]
    EmptySqlitePath,
    /// `postgres://` without a host.
    #[error("the postgres URL names no host")]
    MissingHost,
}

/// A database URL. It may carry a password, so `Debug`, `Display` and
/// `Serialize` show [`DatabaseUrl::redacted`]; [`DatabaseUrl::expose`]
/// gives the real one to the code that connects.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    url: String,
    backend: DatabaseBackend,
}

impl DatabaseUrl {
    /// The SQLite URL of a file path.
    #[must_use]
    pub fn sqlite_file(path: &str) -> Self {
        Self {
            url: format!("sqlite://{path}"),
            backend: DatabaseBackend::Sqlite,
        }
    }

    /// The URL, password included.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.url
    }

    /// The backend the scheme selects.
    #[must_use]
    pub fn backend(&self) -> DatabaseBackend {
        self.backend
    }

    /// The URL with the password of the user-info part and any `password`
    /// query parameter replaced by `<redacted>`.
    #[must_use]
    pub fn redacted(&self) -> String {
        redact_url(&self.url)
    }
}

/// Replaces `user:PASSWORD@` and `password=VALUE` with `<redacted>`.
fn redact_url(url: &str) -> String {
    let (head, rest) = match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rfind('@') {
        Some(at) => {
            let (userinfo, host) = authority.split_at(at);
            match userinfo.find(':') {
                Some(colon) => format!("{}:<redacted>{host}", &userinfo[..colon]),
                None => authority.to_owned(),
            }
        }
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => {
                        format!("{k}=<redacted>")
                    }
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{head}{authority}{tail}")
}

impl FromStr for DatabaseUrl {
    type Err = DatabaseUrlError;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        let (scheme, rest) = url.split_once(':').ok_or(DatabaseUrlError::NoScheme)?;
        let backend = match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => DatabaseBackend::Sqlite,
            "postgres" | "postgresql" => DatabaseBackend::Postgres,
            _ if scheme.is_empty() || scheme.contains(['/', '@', ' ']) => {
                return Err(DatabaseUrlError::NoScheme);
            }
            other => return Err(DatabaseUrlError::UnsupportedScheme(other.to_owned())),
        };
        match backend {
            DatabaseBackend::Sqlite => {
                let path = rest.strip_prefix("//").unwrap_or(rest);
                let path = path.split('?').next().unwrap_or_default();
                if path.is_empty() {
                    return Err(DatabaseUrlError::EmptySqlitePath);
                }
            }
            DatabaseBackend::Postgres => {
                let authority = rest.strip_prefix("//").unwrap_or_default();
                let authority = authority.split(['/', '?', '#']).next().unwrap_or_default();
                let host = authority.rsplit('@').next().unwrap_or_default();
                if host.is_empty() {
                    return Err(DatabaseUrlError::MissingHost);
                }
            }
        }
        Ok(Self {
            url: url.to_owned(),
            backend,
        })
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({:?})", self.redacted())
    }
}

impl Serialize for DatabaseUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.redacted())
    }
}

impl<'de> Deserialize<'de> for DatabaseUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(de::Error::custom)
    }
}

/// Why an Ethereum address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddressError {
    /// Not `0x` followed by 40 hex digits.
    #[error("{0:?} is not an Ethereum address: expected 0x followed by 40 hex digits")]
    Malformed(String),
}

/// A 20-byte Ethereum address, written `0x` + 40 hex digits (any case;
/// the checksum case of EIP-55 is not checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EthereumAddress([u8; 20]);

impl EthereumAddress {
    /// The address bytes.
    #[must_use]
    pub fn to_bytes(self) -> [u8; 20] {
        self.0
    }
}

impl FromStr for EthereumAddress {
    type Err = AddressError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let malformed = || AddressError::Malformed(text.to_owned());
        let digits = text
            .strip_prefix("0x")
            .or_else(|| text.strip_prefix("0X"))
            .ok_or_else(malformed)?;
        if digits.len() != 40 {
            return Err(malformed());
        }
        let mut bytes = [0u8; 20];
        hex::decode_to_slice(digits, &mut bytes).map_err(|_| malformed())?;
        Ok(Self(bytes))
    }
}

impl fmt::Display for EthereumAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl Serialize for EthereumAddress {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EthereumAddress {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct AddressVisitor;

        impl Visitor<'_> for AddressVisitor {
            type Value = EthereumAddress;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an Ethereum address (0x followed by 40 hex digits)")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<EthereumAddress, E> {
                v.parse().map_err(E::custom)
            }

            fn visit_u64<E: de::Error>(self, _: u64) -> Result<EthereumAddress, E> {
                Err(E::custom(
                    "an Ethereum address must be a quoted string: YAML reads an unquoted \
                     0x... as a number",
                ))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<EthereumAddress, E> {
                self.visit_u64(v.unsigned_abs())
            }
        }

        d.deserialize_any(AddressVisitor)
    }
}

/// Where agent records come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistryBackend {
    /// Records kept by this node (in its database).
    #[default]
    Local,
    /// The on-chain registry contract (`registry.ethereum`).
    Ethereum,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// The default log level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Everything.
    Trace,
    /// Debugging detail.
    Debug,
    /// Normal operation.
    #[default]
    Info,
    /// Problems that did not stop a request.
    Warn,
    /// Failures.
    Error,
    /// Nothing.
    Off,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_select_a_backend_and_refuse_others() {
        let pg: DatabaseUrl = "postgres://sage@db:5432/sage".parse().unwrap();
        assert_eq!(pg.backend(), DatabaseBackend::Postgres);
        let lite: DatabaseUrl = "sqlite://./data/sage.db".parse().unwrap();
        assert_eq!(lite.backend(), DatabaseBackend::Sqlite);
        assert_eq!(
            "mysql://x@h/db".parse::<DatabaseUrl>(),
            Err(DatabaseUrlError::UnsupportedScheme("mysql".into()))
        );
        assert_eq!(
            "sqlite://".parse::<DatabaseUrl>(),
            Err(DatabaseUrlError::EmptySqlitePath)
        );
        assert_eq!(
            "postgres:///db".parse::<DatabaseUrl>(),
            Err(DatabaseUrlError::MissingHost)
        );
        assert_eq!(
            "./sage.db".parse::<DatabaseUrl>(),
            Err(DatabaseUrlError::NoScheme)
        );
    }

    #[test]
    fn database_passwords_never_show() {
        let url: DatabaseUrl =
            "postgres://sage:pa55word@db:5432/sage?sslmode=require&password=pa55word"
                .parse()
                .unwrap();
        for shown in [
            url.to_string(),
            format!("{url:?}"),
            serde_json::to_string(&url).unwrap(),
        ] {
            assert!(!shown.contains("pa55word"), "{shown}");
        }
        assert_eq!(
            url.redacted(),
            "postgres://sage:<redacted>@db:5432/sage?sslmode=require&password=<redacted>"
        );
        assert!(url.expose().contains("pa55word"));
        let plain: DatabaseUrl = "postgres://sage@db/sage".parse().unwrap();
        assert_eq!(plain.redacted(), "postgres://sage@db/sage");
    }

    #[test]
    fn ethereum_addresses_need_0x_and_40_hex_digits() {
        let address: EthereumAddress = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
            .parse()
            .unwrap();
        assert_eq!(
            address.to_string(),
            "0x5fbdb2315678afecb367f032d93f642f64180aa3"
        );
        for bad in [
            "5FbDB2315678afecb367f032d93F642f64180aa3",
            "0x5FbDB2315678afecb367f032d93F642f64180aa",
            "0x5FbDB2315678afecb367f032d93F642f64180aaZ",
        ] {
            assert!(bad.parse::<EthereumAddress>().is_err(), "{bad}");
        }
    }
}
