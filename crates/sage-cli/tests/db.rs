//! `sage db` run as an operator would, on a SQLite file in a temporary
//! directory (the PostgreSQL paths are covered by sage-store's suite).
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn sage_db(dir: &Path, args: &[&str]) -> Run {
    let url = format!("sqlite://{}", dir.join("node.db").display());
    let output = Command::new(env!("CARGO_BIN_EXE_sage"))
        .current_dir(dir)
        .env_remove("SAGE_ENV")
        .arg("db")
        .args(["--database-url", &url])
        .args(args)
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

#[test]
fn migrate_seed_backup_and_restore_print_what_they_did() {
    let dir = tempfile::tempdir().unwrap();
    let status = sage_db(dir.path(), &["migrate", "status"]);
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert!(
        status.stdout.contains("0001 initial pending"),
        "{}",
        status.stdout
    );

    let up = sage_db(dir.path(), &["migrate", "up"]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    assert!(up.stdout.contains("applied 0001 initial"), "{}", up.stdout);

    let seed = sage_db(dir.path(), &["seed", "--env", "development"]);
    assert_eq!(seed.code, 0, "{}", seed.stderr);
    assert_eq!(
        seed.stdout.matches("seeded did:sage:ethereum:dev-").count(),
        4,
        "{}",
        seed.stdout
    );
    assert!(
        seed.stdout.contains("dev-mallory (ed25519) revoked"),
        "{}",
        seed.stdout
    );

    let backup = sage_db(dir.path(), &["backup", "copy.db"]);
    assert_eq!(backup.code, 0, "{}", backup.stderr);
    assert!(
        backup.stdout.contains("wrote backup copy.db"),
        "{}",
        backup.stdout
    );
    let again = sage_db(dir.path(), &["backup", "copy.db"]);
    assert_eq!(again.code, 3, "a backup was overwritten: {}", again.stdout);

    let restore = sage_db(dir.path(), &["restore", "copy.db"]);
    assert_eq!(restore.code, 0, "{}", restore.stderr);
    assert!(
        restore.stdout.contains("dids: 4 rows"),
        "{}",
        restore.stdout
    );

    let down = sage_db(dir.path(), &["--json", "migrate", "down"]);
    assert_eq!(down.code, 0, "{}", down.stderr);
    let json: serde_json::Value = serde_json::from_str(&down.stdout).unwrap();
    assert_eq!(json["reverted"][0]["version"], 1);
}

#[test]
fn production_is_refused_without_yes() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--env", "production", "migrate", "up"][..],
        &["--env", "prod", "migrate", "status"][..],
        &["--env", "production", "backup", "x.db"][..],
    ] {
        let run = sage_db(dir.path(), args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stdout);
        assert!(
            run.stderr
                .contains("refusing to run against production without --yes")
        );
    }
    assert!(
        !dir.path().join("node.db").exists(),
        "a refused command touched the database"
    );
    let confirmed = sage_db(
        dir.path(),
        &["--env", "production", "--yes", "migrate", "up"],
    );
    assert_eq!(confirmed.code, 0, "{}", confirmed.stderr);
    let seeded = sage_db(dir.path(), &["--env", "production", "--yes", "seed"]);
    assert_eq!(seeded.code, 2);
    assert!(
        seeded
            .stderr
            .contains("no seed data for the production environment")
    );
}
