//! One YAML configuration file → one value tree, with `${VAR}`
//! substitution.
//!
//! Why this shape: figment's own YAML provider sits on the deprecated
//! `serde_yaml`, so the file is parsed by `serde-saphyr` straight into a
//! figment [`Dict`], which the loader then hands to figment as one layer.
//! Substitution is serde-saphyr's `properties` feature, fed with the
//! injected variables: it runs inside the parser, on **plain (unquoted)
//! scalars only**, before the scalar is typed, so `${POOL_MAX:-10}` is read
//! as the number 10 and a value can never inject YAML structure. Supported
//! forms: `${VAR}` (unset is an error), `${VAR:-default}` (default when
//! unset or empty), `${VAR-default}` (default when unset), `${VAR:?msg}`
//! (error with a hint) and `$${VAR}` (a literal `${VAR}`). Quoted strings
//! keep `${...}` as written, and the loader warns about them.
//!
//! The parser stops at the first unset variable, so this module re-parses
//! with a placeholder for each one it finds, to name every unset variable
//! of a file in one run. YAML 1.1 booleans (`yes`, `on`) stay strings and
//! duplicate keys are errors.

use std::path::Path;

use figment::value::{Dict, Value};
use serde_saphyr::Error as YamlError;

use crate::env_vars::EnvVars;
use crate::error::ConfigError;
use crate::keypath::{join, leaves};

/// Most unset variables reported for one file before giving up.
const MAX_UNSET_REPORTED: usize = 64;

/// A parsed file: its tree and the key paths of quoted strings that still
/// hold `${`.
#[derive(Debug)]
pub(crate) struct YamlLayer {
    pub(crate) dict: Dict,
    pub(crate) quoted_references: Vec<String>,
}

/// Parses `text` (the content of `file`) with substitution from `env`.
pub(crate) fn parse_layer(
    text: &str,
    file: &Path,
    env: &EnvVars,
) -> Result<YamlLayer, Vec<ConfigError>> {
    let mut properties = env.to_properties();
    let mut errors = Vec::new();
    loop {
        let options = serde_saphyr::options! {
            with_snippet: false,
            strict_booleans: true,
        }
        .with_properties(properties.clone());
        match serde_saphyr::from_str_with_options::<Dict>(text, options) {
            Ok(dict) if errors.is_empty() => {
                let quoted_references = leaves(&dict)
                    .into_iter()
                    .filter(|(_, v)| matches!(v, Value::String(_, s) if s.contains("${")))
                    .map(|(p, _)| join(&p))
                    .collect();
                return Ok(YamlLayer {
                    dict,
                    quoted_references,
                });
            }
            Ok(_) => return Err(errors),
            Err(error) => {
                let line = error.location().map(|l| l.line());
                match error {
                    YamlError::UnresolvedProperty { name, .. }
                        if errors.len() < MAX_UNSET_REPORTED && !properties.contains_key(&name) =>
                    {
                        properties.insert(name.clone(), String::new());
                        errors.push(ConfigError::UnsetVariable {
                            file: file.to_path_buf(),
                            name,
                            line,
                        });
                    }
                    YamlError::PropertyRequiredButUnset { ref name, .. }
                    | YamlError::PropertyRequiredButEmpty { ref name, .. }
                        if errors.len() < MAX_UNSET_REPORTED =>
                    {
                        // A placeholder that satisfies `:?` lets the scan go on.
                        properties.insert(name.clone(), "unset".to_owned());
                        errors.push(ConfigError::BadSubstitution {
                            file: file.to_path_buf(),
                            message: message_without_location(&error),
                            line,
                        });
                    }
                    YamlError::InvalidPropertyName { .. } => {
                        errors.push(ConfigError::BadSubstitution {
                            file: file.to_path_buf(),
                            message: message_without_location(&error),
                            line,
                        });
                        return Err(errors);
                    }
                    other => {
                        errors.push(ConfigError::Yaml {
                            path: file.to_path_buf(),
                            message: other.to_string(),
                        });
                        return Err(errors);
                    }
                }
            }
        }
    }
}

/// The parser's message without its trailing " at line L, column C" (the
/// file and line are printed by [`ConfigError`]).
fn message_without_location(error: &YamlError) -> String {
    let message = error.to_string();
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> EnvVars {
        pairs.iter().copied().collect()
    }

    #[test]
    fn substituted_plain_scalars_are_typed() {
        let layer = parse_layer(
            "pool:\n  max: ${MAX:-10}\n  url: ${URL}\n",
            Path::new("x.yaml"),
            &env(&[("URL", "postgres://h/db")]),
        )
        .unwrap();
        let pool = layer.dict["pool"].as_dict().unwrap();
        assert_eq!(pool["max"].to_u128(), Some(10));
        assert_eq!(pool["url"].as_str(), Some("postgres://h/db"));
        assert!(layer.quoted_references.is_empty());
    }

    #[test]
    fn every_unset_variable_of_a_file_is_named_with_file_and_line() {
        let errors = parse_layer(
            "a: ${FIRST}\nb: ok\nc: ${SECOND}\n",
            Path::new("config/staging.yaml"),
            &env(&[]),
        )
        .unwrap_err();
        let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages[0].starts_with("config/staging.yaml:1: ${FIRST} is not set"),
            "{messages:?}"
        );
        assert!(
            messages[1].starts_with("config/staging.yaml:3: ${SECOND} is not set"),
            "{messages:?}"
        );
    }

    #[test]
    fn escapes_and_quoted_references_stay_literal() {
        let layer = parse_layer(
            "a: $${NAME}\nb: \"${NAME}\"\n",
            Path::new("x.yaml"),
            &env(&[("NAME", "value")]),
        )
        .unwrap();
        assert_eq!(layer.dict["a"].as_str(), Some("${NAME}"));
        assert_eq!(layer.dict["b"].as_str(), Some("${NAME}"));
    }

    #[test]
    fn syntax_errors_and_yaml_1_1_booleans() {
        let errors = parse_layer("a: [1\n", Path::new("bad.yaml"), &env(&[])).unwrap_err();
        assert!(matches!(&errors[..], [ConfigError::Yaml { .. }]));
        let layer = parse_layer("a: yes\n", Path::new("x.yaml"), &env(&[])).unwrap();
        assert_eq!(layer.dict["a"].as_str(), Some("yes"));
        let errors = parse_layer("a: 1\na: 2\n", Path::new("dup.yaml"), &env(&[])).unwrap_err();
        assert!(matches!(&errors[..], [ConfigError::Yaml { .. }]));
    }
}
