//! Loading: layers, merge, extraction with every error collected, then
//! validation.
//!
//! Layers, lowest priority first:
//! 1. built-in defaults ([`SageConfig::default`]);
//! 2. the environment file `<config_dir>/<env>.yaml` (`SAGE_ENV`, default
//!    `local`). Without a configuration directory (`config_dir` or
//!    `SAGE_CONFIG_DIR`), `./config` is used, and when it has no such file
//!    the copy built into the program is used instead;
//! 3. an explicit file (`--config FILE`);
//! 4. `SAGE_<SECTION>__<KEY>` environment variables;
//! 5. overrides given as key paths (`[("server.listen", "0.0.0.0:8080")]`),
//!    i.e. command-line flags.
//!
//! Every layer is read before anything is merged, so a run reports the
//! problems of all files at once; if any layer cannot be read, the load
//! stops there (validating what is left would only add noise). The layers
//! are merged by figment. Extraction into [`SageConfig`] stops at the first
//! bad value, so the loader repairs and retries: each error is recorded
//! with its key path and the source that set the value, the offending key
//! is removed (unknown keys) or reset to its default (bad values), and
//! extraction runs again until it succeeds. Validation then runs on the
//! result, and everything is reported together.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use figment::error::Kind;
use figment::providers::Serialized;
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};

use crate::config::SageConfig;
use crate::env_vars::{EnvVars, settings_layer};
use crate::environment::Environment;
use crate::error::{ConfigError, ConfigErrors, ConfigWarning, Invalid, Origin, Warning};
use crate::keypath::{get_path, insert_path, join, leaves, parse_dotted, remove_path};
use crate::validate::validate;
use crate::yaml::parse_layer;

/// Variable that selects the environment.
pub const ENV_VARIABLE: &str = "SAGE_ENV";
/// Variable that names the configuration directory.
pub const CONFIG_DIR_VARIABLE: &str = "SAGE_CONFIG_DIR";
/// The configuration directory when none is given.
pub const DEFAULT_CONFIG_DIR: &str = "config";

/// The shipped environment files, used when `./config` lacks them.
const BUILT_IN_FILES: [(Environment, &str); 4] = [
    (
        Environment::Local,
        include_str!("../../../config/local.yaml"),
    ),
    (
        Environment::Development,
        include_str!("../../../config/development.yaml"),
    ),
    (
        Environment::Staging,
        include_str!("../../../config/staging.yaml"),
    ),
    (
        Environment::Production,
        include_str!("../../../config/production.yaml"),
    ),
];

/// The text of the shipped `config/<env>.yaml`.
#[must_use]
pub fn built_in_file(environment: Environment) -> &'static str {
    BUILT_IN_FILES
        .iter()
        .find(|(e, _)| *e == environment)
        .map_or("", |(_, text)| text)
}

/// What to load.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The environment; `None` reads `SAGE_ENV` (default `local`).
    pub env: Option<Environment>,
    /// Directory of the environment files; `None` reads `SAGE_CONFIG_DIR`,
    /// else uses `./config` with the built-in files as fallback.
    pub config_dir: Option<PathBuf>,
    /// A file merged above the environment file (`--config FILE`).
    pub explicit_file: Option<PathBuf>,
    /// Key-path overrides, highest priority (`("server.listen",
    /// "0.0.0.0:8080")`); values are typed like environment variables.
    pub overrides: Vec<(String, String)>,
    /// Variables for `SAGE_ENV`, `SAGE_<SECTION>__<KEY>`, `${VAR}`
    /// substitution and `env:` secrets.
    pub env_vars: EnvVars,
}

impl LoadOptions {
    /// Options that read nothing but `env_vars` (for tests and tools).
    #[must_use]
    pub fn new(env_vars: EnvVars) -> Self {
        Self {
            env: None,
            config_dir: None,
            explicit_file: None,
            overrides: Vec::new(),
            env_vars,
        }
    }
}

impl Default for LoadOptions {
    /// Options that read the process environment.
    fn default() -> Self {
        Self::new(EnvVars::from_process())
    }
}

/// Where each value of a loaded configuration came from, by key path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sources {
    by_path: BTreeMap<String, Origin>,
}

impl Sources {
    /// Who set the value at `path` (a leaf key path).
    #[must_use]
    pub fn get(&self, path: &str) -> Option<&Origin> {
        self.by_path.get(path)
    }

    /// Every leaf path and its origin, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Origin)> {
        self.by_path.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The origin of `path`, or of the first leaf below it (for a key
    /// that holds a table).
    pub(crate) fn origin_of(&self, path: &str) -> Option<Origin> {
        if let Some(origin) = self.by_path.get(path) {
            return Some(origin.clone());
        }
        let prefix = format!("{path}.");
        self.by_path
            .range(prefix.clone()..)
            .next()
            .filter(|(k, _)| k.starts_with(&prefix))
            .map(|(_, v)| v.clone())
    }

    /// Records that `origin` set `path`, forgetting what it replaced: the
    /// keys below it and any key above it.
    fn set(&mut self, path: &str, origin: Origin) {
        let prefix = format!("{path}.");
        self.by_path
            .retain(|k, _| !k.starts_with(&prefix) && !path.starts_with(&format!("{k}.")));
        self.by_path.insert(path.to_owned(), origin);
    }
}

/// A loaded, valid configuration.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The configuration.
    pub config: SageConfig,
    /// The environment it was loaded for.
    pub environment: Environment,
    /// Things that are allowed but probably unintended.
    pub warnings: Vec<ConfigWarning>,
    /// Who set each value.
    pub sources: Sources,
}

/// One layer: a tree and who set each of its leaves.
#[derive(Debug, Clone)]
struct Layer {
    dict: Dict,
    /// Origin of the whole layer.
    origin: Origin,
    /// Origins that differ from `origin`, by leaf path (the variable that
    /// set each key of the environment layer).
    leaf_origins: BTreeMap<String, Origin>,
}

impl Layer {
    fn new(dict: Dict, origin: Origin) -> Self {
        Self {
            dict,
            origin,
            leaf_origins: BTreeMap::new(),
        }
    }
}

impl Provider for Layer {
    fn metadata(&self) -> Metadata {
        Metadata::named(self.origin.to_string())
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.dict.clone()))
    }
}

/// Loads, merges and validates the configuration.
///
/// # Errors
/// [`ConfigErrors`] with every problem found (and the warnings so far)
/// when a layer cannot be read or the result is invalid.
pub fn load(options: LoadOptions) -> Result<LoadedConfig, ConfigErrors> {
    let LoadOptions {
        env,
        config_dir,
        explicit_file,
        overrides,
        env_vars,
    } = options;
    let environment = match env {
        Some(environment) => environment,
        None => match env_vars.get(ENV_VARIABLE).filter(|v| !v.is_empty()) {
            None => Environment::default(),
            Some(value) => value.parse().map_err(|e| ConfigErrors {
                errors: vec![ConfigError::UnknownEnvironment(e)],
                warnings: Vec::new(),
            })?,
        },
    };

    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut layers = vec![defaults_layer()];
    let config_dir = config_dir.or_else(|| {
        env_vars
            .get(CONFIG_DIR_VARIABLE)
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
    });
    let env_file = match &config_dir {
        Some(dir) => file_layer(&dir.join(environment.file_name()), &env_vars),
        None => {
            let path = Path::new(DEFAULT_CONFIG_DIR).join(environment.file_name());
            if path.exists() {
                file_layer(&path, &env_vars)
            } else {
                let origin = Origin::BuiltInFile(environment);
                let name = PathBuf::from(format!("built-in config/{}", environment.file_name()));
                yaml_layer(built_in_file(environment), &name, origin, &env_vars)
            }
        }
    };
    let explicit = explicit_file
        .as_deref()
        .map(|path| file_layer(path, &env_vars));
    for result in std::iter::once(env_file).chain(explicit) {
        match result {
            Ok((layer, quoted)) => {
                warnings.extend(quoted.into_iter().map(|path| ConfigWarning {
                    path,
                    kind: Warning::QuotedSubstitution,
                    origin: Some(layer.origin.clone()),
                }));
                layers.push(layer);
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    let (env_layer, env_errors) = environment_layer(&env_vars);
    errors.extend(env_errors);
    layers.push(env_layer);
    match overrides_layer(&overrides) {
        Ok(layer) => layers.push(layer),
        Err(mut e) => errors.append(&mut e),
    }
    if !errors.is_empty() {
        return Err(ConfigErrors { errors, warnings });
    }

    let mut sources = Sources::default();
    for layer in &layers {
        for (path, _) in leaves(&layer.dict) {
            let key = join(&path);
            let origin = layer
                .leaf_origins
                .get(&key)
                .cloned()
                .unwrap_or_else(|| layer.origin.clone());
            sources.set(&key, origin);
        }
    }
    let figment = layers
        .iter()
        .fold(Figment::new(), |figment, layer| figment.merge(layer));
    let mut merged = figment.extract::<Dict>().unwrap_or_default();
    derive_database_url(&mut merged, &mut sources);

    let mut key_errors = Vec::new();
    let extracted = extract_repairing(&mut merged, &sources, &mut key_errors);
    if let Some(config) = &extracted {
        let validation = validate(config, environment, &env_vars);
        key_errors.extend(
            validation
                .errors
                .into_iter()
                .map(|e| with_origin(e, &sources)),
        );
        warnings.extend(validation.warnings.into_iter().map(|mut w| {
            w.origin = w.origin.or_else(|| sources.origin_of(&w.path));
            w
        }));
    }
    key_errors.sort_by(|a, b| a.path().cmp(&b.path()));
    warnings.sort_by(|a, b| a.path.cmp(&b.path));
    match extracted {
        Some(config) if key_errors.is_empty() => Ok(LoadedConfig {
            config,
            environment,
            warnings,
            sources,
        }),
        _ => Err(ConfigErrors {
            errors: key_errors,
            warnings,
        }),
    }
}

/// The built-in defaults as a tree. `database.url` is left out: its
/// default depends on `storage.data_dir` (see [`derive_database_url`]).
fn defaults_dict() -> Dict {
    let mut dict = Value::serialize(SageConfig::default())
        .ok()
        .and_then(|v| v.into_dict())
        .unwrap_or_default();
    remove_path(&mut dict, &["database".to_owned(), "url".to_owned()]);
    dict
}

fn defaults_layer() -> Layer {
    Layer::new(defaults_dict(), Origin::Default)
}

/// Reads and parses a file layer; also returns the key paths of quoted
/// `${...}` values.
fn file_layer(path: &Path, env_vars: &EnvVars) -> Result<(Layer, Vec<String>), Vec<ConfigError>> {
    let text = std::fs::read_to_string(path).map_err(|source| {
        vec![ConfigError::Read {
            path: path.to_path_buf(),
            source,
        }]
    })?;
    yaml_layer(&text, path, Origin::File(path.to_path_buf()), env_vars)
}

fn yaml_layer(
    text: &str,
    name: &Path,
    origin: Origin,
    env_vars: &EnvVars,
) -> Result<(Layer, Vec<String>), Vec<ConfigError>> {
    let parsed = parse_layer(text, name, env_vars)?;
    Ok((Layer::new(parsed.dict, origin), parsed.quoted_references))
}

fn environment_layer(env_vars: &EnvVars) -> (Layer, Vec<ConfigError>) {
    let (dict, used, errors) = settings_layer(env_vars);
    let mut layer = Layer::new(dict, Origin::EnvVar("SAGE_*".to_owned()));
    for variable in used {
        let prefix = join(&variable.path);
        let origin = Origin::EnvVar(variable.name);
        let below = match get_path(&layer.dict, &variable.path) {
            Some(Value::Dict(_, inner)) if !inner.is_empty() => leaves(inner)
                .into_iter()
                .map(|(p, _)| format!("{prefix}.{}", join(&p)))
                .collect(),
            _ => vec![prefix],
        };
        for key in below {
            layer.leaf_origins.insert(key, origin.clone());
        }
    }
    (layer, errors)
}

fn overrides_layer(overrides: &[(String, String)]) -> Result<Layer, Vec<ConfigError>> {
    let mut dict = Dict::new();
    let mut errors = Vec::new();
    for (key, value) in overrides {
        let parsed: Value = value
            .parse()
            .unwrap_or_else(|_| Value::from(value.as_str()));
        let inserted = parse_dotted(key).and_then(|path| insert_path(&mut dict, &path, parsed));
        if inserted.is_err() {
            errors.push(ConfigError::BadOverrideKey { key: key.clone() });
        }
    }
    if errors.is_empty() {
        Ok(Layer::new(dict, Origin::Override))
    } else {
        Err(errors)
    }
}

/// Sets `database.url` to `sqlite://<storage.data_dir>/sage.db` when no
/// layer set it.
fn derive_database_url(merged: &mut Dict, sources: &mut Sources) {
    let url_path = ["database".to_owned(), "url".to_owned()];
    if !matches!(get_path(merged, &url_path), None | Some(Value::Empty(..))) {
        return;
    }
    let data_dir = ["storage".to_owned(), "data_dir".to_owned()];
    let Some(dir) = get_path(merged, &data_dir).and_then(Value::as_str) else {
        return;
    };
    let url = format!("sqlite://{}/sage.db", dir.trim_end_matches('/'));
    if insert_path(merged, &url_path, Value::from(url)).is_ok() {
        sources.set(
            "database.url",
            Origin::Derived {
                from: "storage.data_dir",
            },
        );
    }
}

/// Extracts [`SageConfig`] from `merged`, recording and repairing each
/// bad key until extraction succeeds. `None` if a problem cannot be
/// repaired (it is still recorded).
fn extract_repairing(
    merged: &mut Dict,
    sources: &Sources,
    errors: &mut Vec<ConfigError>,
) -> Option<SageConfig> {
    let defaults = defaults_dict();
    let mut repaired = BTreeSet::new();
    loop {
        let figment = Figment::from(Serialized::defaults(Value::from(merged.clone())));
        let failure = match figment.extract::<SageConfig>() {
            Ok(config) => return Some(config),
            Err(failure) => failure,
        };
        let mut progressed = false;
        for error in failure {
            let mut path = error.path.clone();
            match &error.kind {
                Kind::UnknownField(name, expected) => {
                    // figment usually has the unknown key in the path already.
                    if path.last() != Some(name) {
                        path.push(name.clone());
                    }
                    let key = join(&path);
                    errors.push(ConfigError::UnknownKey {
                        suggestion: suggest(name, expected),
                        origin: sources.origin_of(&key),
                        path: key,
                    });
                    progressed |= remove_path(merged, &path);
                }
                kind => {
                    let key = join(&path);
                    errors.push(ConfigError::Invalid {
                        reason: Invalid::Syntax(kind.to_string()),
                        origin: sources.origin_of(&key),
                        path: key.clone(),
                    });
                    if repaired.insert(key) {
                        progressed |= reset_to_default(merged, &defaults, &path);
                    }
                }
            }
        }
        if !progressed {
            return None;
        }
    }
}

/// Puts the default value back at `path` (or removes the key when it has
/// no default). Returns whether the tree changed.
fn reset_to_default(merged: &mut Dict, defaults: &Dict, path: &[String]) -> bool {
    if path.is_empty() {
        return false;
    }
    match get_path(defaults, path) {
        Some(default) => insert_path(merged, path, default.clone()).is_ok(),
        None => remove_path(merged, path),
    }
}

/// A known key within edit distance 2 of `name`, if any.
fn suggest(name: &str, expected: &[&str]) -> Option<String> {
    expected
        .iter()
        .map(|candidate| (edit_distance(name, candidate), candidate))
        .filter(|(distance, _)| *distance <= 2)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| (*candidate).to_owned())
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            let deletion = previous[j + 1] + 1;
            let insertion = current[j] + 1;
            current.push(substitution.min(deletion).min(insertion));
        }
        previous = current;
    }
    previous[b.len()]
}

fn with_origin(error: ConfigError, sources: &Sources) -> ConfigError {
    match error {
        ConfigError::Invalid {
            path,
            reason,
            origin: None,
        } => ConfigError::Invalid {
            origin: sources.origin_of(&path),
            path,
            reason,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_close_names_only() {
        let known = &["listen", "body_limit", "read_timeout"];
        assert_eq!(suggest("listne", known), Some("listen".into()));
        assert_eq!(suggest("read_timout", known), Some("read_timeout".into()));
        assert_eq!(suggest("tls", known), None);
    }

    #[test]
    fn every_key_of_the_defaults_is_extractable() {
        let mut dict = defaults_dict();
        let mut sources = Sources::default();
        derive_database_url(&mut dict, &mut sources);
        let mut errors = Vec::new();
        let config = extract_repairing(&mut dict, &sources, &mut errors).unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(config, SageConfig::default());
        assert_eq!(
            sources.get("database.url"),
            Some(&Origin::Derived {
                from: "storage.data_dir"
            })
        );
    }

    #[test]
    fn a_later_layer_that_replaces_a_table_takes_over_its_sources() {
        let mut sources = Sources::default();
        sources.set("registry.ethereum.rpc_url", Origin::Default);
        sources.set("registry.ethereum", Origin::Override);
        assert_eq!(sources.get("registry.ethereum.rpc_url"), None);
        sources.set("registry.ethereum.chain_id", Origin::EnvVar("X".into()));
        assert_eq!(sources.get("registry.ethereum"), None);
        assert_eq!(
            sources.origin_of("registry"),
            Some(Origin::EnvVar("X".into()))
        );
    }
}
