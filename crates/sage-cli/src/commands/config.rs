//! `sage config show` and `sage config check`: the node configuration as
//! the node would load it (sage-config), without starting anything.
//!
//! `show` prints the effective configuration (YAML, or JSON with
//! `--json`) with every secret and database password redacted, and says
//! which source set each value that is not a built-in default. `check`
//! prints only the verdict and the warnings. Both fail with
//! [`CliError::Config`] on an invalid configuration: every error listed,
//! exit 2 (3 when only files could not be read).
//!
//! [`load_config`] is the one loader of the CLI: `sage db` selects and
//! loads its configuration through it too, with the same flags
//! ([`ConfigArgs`]).

use serde_json::{Map, Value, json};

use sage_config::{EnvVars, Environment, LoadOptions, LoadedConfig, Origin, load};

use crate::cli::{ConfigArgs, ConfigCommand, EnvironmentArg};
use crate::error::CliError;
use crate::output::Output;

/// `sage config show|check`.
pub(crate) fn run(command: &ConfigCommand) -> Result<Output, CliError> {
    match command {
        ConfigCommand::Show(args) => show(args),
        ConfigCommand::Check(args) => check(args),
    }
}

impl From<EnvironmentArg> for Environment {
    fn from(arg: EnvironmentArg) -> Self {
        match arg {
            EnvironmentArg::Local => Self::Local,
            EnvironmentArg::Development => Self::Development,
            EnvironmentArg::Staging => Self::Staging,
            EnvironmentArg::Production => Self::Production,
        }
    }
}

/// Loads and validates the configuration `args` select (the process
/// environment supplies `SAGE_ENV`, `SAGE_<SECTION>__<KEY>` and `${VAR}`).
/// `flags` are key-path overrides of the calling command (e.g.
/// `("database.url", URL)` from `--database-url`); they sit in the
/// command-line layer with `--set`, after it, so they win over it.
///
/// # Errors
/// [`CliError::BadArgument`] for a `--set` without `=`;
/// [`CliError::Config`] with every error of an invalid configuration.
pub(crate) fn load_config(
    args: &ConfigArgs,
    flags: Vec<(String, String)>,
) -> Result<LoadedConfig, CliError> {
    let mut overrides = args
        .set
        .iter()
        .map(|pair| {
            pair.split_once('=')
                .map(|(key, value)| (key.trim().to_owned(), value.to_owned()))
                .ok_or_else(|| CliError::BadArgument {
                    argument: "--set",
                    reason: format!("{pair:?} is not KEY=VALUE"),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    overrides.extend(flags);
    load(LoadOptions {
        env: args.env.map(Environment::from),
        config_dir: args.config_dir.clone(),
        explicit_file: args.config.clone(),
        overrides,
        env_vars: EnvVars::from_process(),
    })
    .map_err(CliError::Config)
}

/// `sage config show`.
fn show(args: &ConfigArgs) -> Result<Output, CliError> {
    let loaded = load_config(args, Vec::new())?;
    let mut out = Output::new();
    let yaml = serde_saphyr::to_string(&loaded.config).map_err(|e| CliError::BadArgument {
        argument: "config",
        reason: format!("cannot render as YAML: {e}"),
    })?;
    out.line(format!("# environment: {}", loaded.environment));
    let set: Vec<(&str, &Origin)> = loaded
        .sources
        .iter()
        .filter(|(_, origin)| **origin != Origin::Default)
        .collect();
    if !set.is_empty() {
        out.line("# set by a source other than the built-in defaults:");
        for (path, origin) in &set {
            out.line(format!("#   {path}: {origin}"));
        }
    }
    out.line(yaml.trim_end());
    let config = serde_json::to_value(&loaded.config).map_err(|e| CliError::BadArgument {
        argument: "config",
        reason: format!("cannot render as JSON: {e}"),
    })?;
    let sources: Map<String, Value> = loaded
        .sources
        .iter()
        .map(|(path, origin)| (path.to_owned(), Value::from(origin.to_string())))
        .collect();
    out.json("environment", loaded.environment.name())
        .json("config", config)
        .json("sources", sources);
    warnings(&mut out, &loaded);
    Ok(out)
}

/// `sage config check`.
fn check(args: &ConfigArgs) -> Result<Output, CliError> {
    let loaded = load_config(args, Vec::new())?;
    let mut out = Output::new();
    let count = loaded.warnings.len();
    out.line(format!(
        "configuration valid (environment: {}, {count} warning{})",
        loaded.environment,
        if count == 1 { "" } else { "s" }
    ))
    .json("valid", true)
    .json("environment", loaded.environment.name());
    for warning in &loaded.warnings {
        out.line(format!("warning: {warning}"));
    }
    out.json("warnings", warnings_json(&loaded));
    Ok(out)
}

/// Warnings of `show`: on stderr in text mode (stdout stays a YAML
/// document), a member in JSON mode.
fn warnings(out: &mut Output, loaded: &LoadedConfig) {
    for warning in &loaded.warnings {
        out.note(format!("warning: {warning}"));
    }
    out.json("warnings", warnings_json(loaded));
}

fn warnings_json(loaded: &LoadedConfig) -> Vec<Value> {
    loaded
        .warnings
        .iter()
        .map(|w| json!({ "path": w.path, "message": w.to_string() }))
        .collect()
}
