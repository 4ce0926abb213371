//! The variable source: the process environment, or a map a test injects.
//!
//! Two things read it. Substitution (`${VAR}` in YAML values) looks names
//! up in it, and the settings layer turns every `SAGE_<SECTION>__<KEY>`
//! variable into a key path: the name after `SAGE_` is split on `__` and
//! lower-cased, so `SAGE_REGISTRY__ETHEREUM__RPC_URL` sets
//! `registry.ethereum.rpc_url`. A `SAGE_` name without `__` (`SAGE_ENV`,
//! `SAGE_KEK`, `SAGE_DATABASE_URL`) is not a setting: such names are free
//! for substitution and secret references. Values are typed like YAML
//! flow scalars (`8080` is a number, `true` a boolean, `[a, b]` a list,
//! `"8080"` a string), and an empty value counts as unset.
//!
//! Values may be secrets (`SAGE_KEK`), so the `Debug` form lists names
//! only.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use figment::value::{Dict, Value};

use crate::error::ConfigError;
use crate::keypath::{insert_path, parse_segments};

/// Prefix of every settings variable.
pub const SETTINGS_PREFIX: &str = "SAGE_";
/// Separator of key-path segments in a settings variable name.
pub const SETTINGS_SEPARATOR: &str = "__";

/// A snapshot of environment variables.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct EnvVars {
    vars: BTreeMap<String, String>,
}

impl EnvVars {
    /// The variables of this process. Variables whose name or value is not
    /// UTF-8 are left out.
    #[must_use]
    pub fn from_process() -> Self {
        std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect()
    }

    /// The value of `name`, if set.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// Every `(name, value)` pair, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The variables as the property map of YAML substitution.
    pub(crate) fn to_properties(&self) -> HashMap<String, String> {
        self.vars
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for EnvVars {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self {
            vars: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

impl fmt::Debug for EnvVars {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvVars")
            .field("names", &self.vars.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The key path a settings variable name sets, or `None` when the name is
/// not a settings variable. `Some(Err(()))` for a settings name with an
/// empty segment (`SAGE_SERVER____LISTEN`).
fn settings_path(name: &str) -> Option<Result<Vec<String>, ()>> {
    let rest = name.strip_prefix(SETTINGS_PREFIX)?;
    if !rest.contains(SETTINGS_SEPARATOR) {
        return None;
    }
    let lowered = rest.to_ascii_lowercase();
    Some(parse_segments(lowered.split(SETTINGS_SEPARATOR)))
}

/// One settings variable: where it points and what it sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SettingsVariable {
    pub(crate) name: String,
    pub(crate) path: Vec<String>,
}

/// The settings layer of `vars`: the merged tree, the variables that made
/// it (for source attribution), and the names that could not be mapped.
pub(crate) fn settings_layer(vars: &EnvVars) -> (Dict, Vec<SettingsVariable>, Vec<ConfigError>) {
    let mut dict = Dict::new();
    let mut used = Vec::new();
    let mut errors = Vec::new();
    for (name, value) in vars.iter() {
        match settings_path(name) {
            None => {}
            Some(Err(())) => errors.push(ConfigError::BadVariableName {
                name: name.to_owned(),
            }),
            Some(Ok(_)) if value.trim().is_empty() => {}
            Some(Ok(path)) => {
                let parsed: Value = value.parse().unwrap_or_else(|_| Value::from(value));
                if insert_path(&mut dict, &path, parsed).is_err() {
                    errors.push(ConfigError::ConflictingVariable {
                        name: name.to_owned(),
                    });
                    continue;
                }
                used.push(SettingsVariable {
                    name: name.to_owned(),
                    path,
                });
            }
        }
    }
    (dict, used, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_names_split_on_double_underscore() {
        assert_eq!(
            settings_path("SAGE_REGISTRY__ETHEREUM__RPC_URL"),
            Some(Ok(vec![
                "registry".to_owned(),
                "ethereum".to_owned(),
                "rpc_url".to_owned()
            ]))
        );
        assert_eq!(settings_path("SAGE_KEK"), None);
        assert_eq!(settings_path("SAGE_DATABASE_URL"), None);
        assert_eq!(settings_path("OTHER__X"), None);
        assert_eq!(settings_path("SAGE_SERVER____LISTEN"), Some(Err(())));
    }

    #[test]
    fn debug_lists_names_but_never_values() {
        let vars: EnvVars = [("SAGE_KEK", "c2VjcmV0LWtleS1tYXRlcmlhbA==")]
            .into_iter()
            .collect();
        let shown = format!("{vars:?}");
        assert!(shown.contains("SAGE_KEK"));
        assert!(!shown.contains("c2VjcmV0"));
    }

    #[test]
    fn values_are_typed_and_empty_values_are_unset() {
        let vars: EnvVars = [
            ("SAGE_SERVER__LISTEN", "0.0.0.0:9000"),
            ("SAGE_DATABASE__POOL__MAX_CONNECTIONS", "32"),
            ("SAGE_METRICS__ENABLED", "false"),
            ("SAGE_LOGGING__FILTER", ""),
        ]
        .into_iter()
        .collect();
        let (dict, used, errors) = settings_layer(&vars);
        assert!(errors.is_empty());
        assert_eq!(used.len(), 3);
        let pool = dict["database"].as_dict().unwrap()["pool"]
            .as_dict()
            .unwrap();
        assert_eq!(pool["max_connections"].to_u128(), Some(32));
        assert_eq!(
            dict["metrics"].as_dict().unwrap()["enabled"].to_bool(),
            Some(false)
        );
        assert!(!dict.contains_key("logging"));
    }
}
