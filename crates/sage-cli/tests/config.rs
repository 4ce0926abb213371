//! `sage config show` and `sage config check`, run as a user would run
//! them, with a controlled environment.
// The helpers below unwrap too (clippy allows it only inside #[test]
// functions): any failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const KEK: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const CONTRACT: &str = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const DB_PASSWORD: &str = "db-pa55-w0rd";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }

    fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Runs `sage` in `dir` with exactly `env` as its environment.
fn sage(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_sage"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn production_env(db_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("SAGE_ENV", "production".to_owned()),
        ("SAGE_KEK", KEK.to_owned()),
        ("SAGE_DATABASE_URL", db_url.to_owned()),
        ("SAGE_REGISTRY_CONTRACT", CONTRACT.to_owned()),
    ]
}

fn pairs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[test]
fn check_with_nothing_set_is_valid_for_local() {
    let dir = tempfile::tempdir().unwrap();
    let run = sage(dir.path(), &["config", "check"], &[]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(
        run.stdout,
        "configuration valid (environment: local, 0 warnings)\n"
    );
    let run = sage(dir.path(), &["--json", "config", "check"], &[]);
    let json = run.json();
    assert_eq!(json["valid"], true);
    assert_eq!(json["ok"], true);
    assert_eq!(json["environment"], "local");
}

#[test]
fn check_lists_every_error_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.yaml"),
        "session:\n  max_age: 0s\n  idle_timeout: soon\nregistry:\n  ethereum:\n    contract_address: \"0x12\"\nunknown_section: {}\n",
    )
    .unwrap();
    let args = ["config", "check", "--config", "bad.yaml"];
    let env = [("SAGE_SERVER__LISTEN", "not-an-address")];
    let run = sage(dir.path(), &args, &env);
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        run.stderr
            .starts_with("sage: invalid configuration (5 errors):\n"),
        "{}",
        run.stderr
    );
    for expected in [
        "\n  error: registry.ethereum.contract_address: \"0x12\" is not an Ethereum address",
        "\n  error: server.listen: ",
        "(set by $SAGE_SERVER__LISTEN)",
        "\n  error: session.idle_timeout: \"soon\" is not a duration",
        "\n  error: session.max_age: must be > 0 (set by bad.yaml)",
        "\n  error: unknown_section: unknown key (set by bad.yaml)",
    ] {
        assert!(
            run.stderr.contains(expected),
            "{expected} not in {}",
            run.stderr
        );
    }

    let mut json_args = vec!["--json"];
    json_args.extend(args);
    let json = sage(dir.path(), &json_args, &env).json();
    assert_eq!(json["valid"], false);
    assert_eq!(json["ok"], false);
    assert_eq!(json["exit_code"], 2);
    let paths: Vec<&str> = json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "registry.ethereum.contract_address",
            "server.listen",
            "session.idle_timeout",
            "session.max_age",
            "unknown_section"
        ]
    );
}

#[test]
fn check_names_each_unset_variable_of_the_environment_file() {
    let dir = tempfile::tempdir().unwrap();
    let run = sage(dir.path(), &["config", "check", "--env", "production"], &[]);
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(
        run.stderr.contains("config/production.yaml:"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("${SAGE_DATABASE_URL} is not set"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("${SAGE_REGISTRY_CONTRACT} is not set"),
        "{}",
        run.stderr
    );
}

#[test]
fn check_prints_warnings_and_still_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let env = production_env("sqlite:///var/lib/sage/sage.db");
    let run = sage(dir.path(), &["config", "check"], &pairs(&env));
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(
        run.stdout.contains("environment: production, 1 warning)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("warning: database.url: SQLite in production"),
        "{}",
        run.stdout
    );
}

#[test]
fn show_redacts_every_secret_in_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("postgres://sage:{DB_PASSWORD}@db.internal:5432/sage");
    let env = production_env(&url);
    for args in [&["config", "show"][..], &["--json", "config", "show"][..]] {
        let run = sage(dir.path(), args, &pairs(&env));
        assert_eq!(run.code, 0, "{}", run.all_output());
        let output = run.all_output();
        assert!(!output.contains(DB_PASSWORD), "{output}");
        assert!(!output.contains(KEK), "{output}");
        assert!(!output.contains("AAECAwQF"), "{output}");
        assert!(output.contains("<redacted: env:SAGE_KEK>"), "{output}");
        assert!(
            output.contains("postgres://sage:<redacted>@db.internal:5432/sage"),
            "{output}"
        );
    }
}

#[test]
fn show_applies_set_flags_and_says_who_set_each_value() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("config")).unwrap();
    std::fs::write(
        dir.path().join("config/local.yaml"),
        "server:\n  listen: 127.0.0.1:7000\n",
    )
    .unwrap();
    let args = [
        "config",
        "show",
        "--set",
        "session.max_messages=50",
        "--set",
        "logging.level=warn",
    ];
    let env = [("SAGE_SESSION__REKEY_INTERVAL", "128")];
    let run = sage(dir.path(), &args, &env);
    assert_eq!(run.code, 0, "{}", run.all_output());
    for expected in [
        "#   server.listen: config/local.yaml",
        "#   session.max_messages: command-line override",
        "#   session.rekey_interval: $SAGE_SESSION__REKEY_INTERVAL",
        "  listen: 127.0.0.1:7000\n",
        "  max_messages: 50\n",
        "  rekey_interval: 128\n",
        "  level: warn\n",
    ] {
        assert!(
            run.stdout.contains(expected),
            "{expected:?} not in {}",
            run.stdout
        );
    }

    let mut json_args = vec!["--json"];
    json_args.extend(args);
    let json = sage(dir.path(), &json_args, &env).json();
    assert_eq!(json["config"]["server"]["listen"], "127.0.0.1:7000");
    assert_eq!(json["config"]["session"]["max_messages"], 50);
    assert_eq!(
        json["sources"]["session.max_messages"],
        "command-line override"
    );
    assert_eq!(json["sources"]["server.body_limit"], "default");
}

#[test]
fn show_prints_warnings_on_stderr_only() {
    let dir = tempfile::tempdir().unwrap();
    let run = sage(
        dir.path(),
        &["config", "show", "--set", "session.rekey_interval=0"],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(
        run.stderr
            .contains("warning: session.rekey_interval: 0 disables"),
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains("warning"), "{}", run.stdout);
}

#[test]
fn bad_arguments_and_unreadable_files_have_their_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let run = sage(
        dir.path(),
        &["config", "check", "--config", "missing.yaml"],
        &[],
    );
    assert_eq!(run.code, 3, "{}", run.all_output());
    assert!(
        run.stderr.contains("missing.yaml: cannot read"),
        "{}",
        run.stderr
    );

    let run = sage(
        dir.path(),
        &["config", "check", "--set", "no-equals-sign"],
        &[],
    );
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(run.stderr.contains("--set"), "{}", run.stderr);

    let run = sage(dir.path(), &["config", "check", "--env", "prod"], &[]);
    assert_eq!(run.code, 2, "{}", run.all_output());

    let run = sage(dir.path(), &["config", "check"], &[("SAGE_ENV", "prod")]);
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(
        run.stderr
            .contains("SAGE_ENV: unknown environment \"prod\""),
        "{}",
        run.stderr
    );
}
