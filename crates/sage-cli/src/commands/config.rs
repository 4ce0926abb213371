//! `sage config show` and `sage config check`: the node configuration as
//! the node would load it (sage-config), without starting anything.
//!
//! `show` prints the effective configuration (YAML, or JSON with
//! `--json`) with every secret and database password redacted, and says
//! which source set each value that is not a built-in default. `check`
//! prints only the verdict and the warnings. Both list every error of an
//! invalid configuration and exit 2 (3 when a file cannot be read).

use serde_json::{Map, Value, json};

use sage_config::{
    ConfigError, ConfigErrors, EnvVars, Environment, LoadOptions, LoadedConfig, Origin, load,
};

use crate::cli::{ConfigArgs, ConfigCommand, EnvironmentArg};
use crate::error::{CliError, IoAction};
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

fn options(args: &ConfigArgs) -> Result<LoadOptions, CliError> {
    let overrides = args
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
    Ok(LoadOptions {
        env: args.env.map(Environment::from),
        config_dir: args.config_dir.clone(),
        explicit_file: args.config.clone(),
        overrides,
        env_vars: EnvVars::from_process(),
    })
}

/// `sage config show`.
fn show(args: &ConfigArgs) -> Result<Output, CliError> {
    let loaded = match load(options(args)?) {
        Ok(loaded) => loaded,
        Err(errors) => return Ok(invalid(errors)),
    };
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
    let loaded = match load(options(args)?) {
        Ok(loaded) => loaded,
        Err(errors) => return Ok(invalid(errors)),
    };
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

/// Every error and warning of an invalid configuration, and the failure
/// that sets the exit code: 3 when only files could not be read, else 2.
fn invalid(errors: ConfigErrors) -> Output {
    let mut out = Output::new();
    let ConfigErrors { errors, warnings } = errors;
    let count = errors.len();
    out.line(format!(
        "configuration invalid ({count} error{})",
        if count == 1 { "" } else { "s" }
    ));
    let mut listed = Vec::new();
    for error in &errors {
        out.line(format!("error: {error}"));
        listed.push(json!({ "path": error.path(), "message": error.to_string() }));
    }
    let mut warned = Vec::new();
    for warning in &warnings {
        out.line(format!("warning: {warning}"));
        warned.push(json!({ "path": warning.path, "message": warning.to_string() }));
    }
    out.json("valid", false)
        .json("errors", listed)
        .json("warnings", warned);
    let only_unreadable = errors.iter().all(|e| matches!(e, ConfigError::Read { .. }));
    let failure = match errors.into_iter().next() {
        Some(ConfigError::Read { path, source }) if only_unreadable => CliError::Io {
            path,
            action: IoAction::Read,
            source,
        },
        _ => CliError::BadArgument {
            argument: "config",
            reason: format!("invalid configuration ({count} error(s) listed above)"),
        },
    };
    out.fail(failure);
    out
}
