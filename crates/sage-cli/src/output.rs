//! What a command prints: a text form for people and a JSON form for
//! machines (`--json`), built together so they never drift apart.

use std::io::{self, Write};

use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::error::CliError;

/// The result of a command, in both forms.
#[derive(Debug, Default)]
pub(crate) struct Output {
    /// Printed on stdout without `--json`.
    text: String,
    /// Printed on stdout with `--json`.
    json: Map<String, Value>,
    /// Printed on stderr without `--json` (progress and side notes).
    notes: String,
    /// Raw bytes printed on stdout without `--json` instead of `text`
    /// (canonical JSON must reach a pipe without a trailing newline).
    raw: Option<Vec<u8>>,
    /// A private key for stdout: its text form and its JSON form. With it,
    /// the text form of the output goes to stderr, so stdout holds only
    /// the key.
    secret: Option<(Zeroizing<String>, Zeroizing<String>)>,
    /// The command ran, printed its result, and still failed (vectors).
    failure: Option<CliError>,
}

impl Output {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// A `label: value` line of the text form and a member of the JSON form.
    pub(crate) fn field(&mut self, label: &str, key: &str, value: impl Into<Value>) -> &mut Self {
        let value = value.into();
        let shown = match &value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        self.text.push_str(&format!("{label}: {shown}\n"));
        self.json.insert(key.to_owned(), value);
        self
    }

    /// A line of the text form only.
    pub(crate) fn line(&mut self, line: impl AsRef<str>) -> &mut Self {
        self.text.push_str(line.as_ref());
        self.text.push('\n');
        self
    }

    /// A member of the JSON form only.
    pub(crate) fn json(&mut self, key: &str, value: impl Into<Value>) -> &mut Self {
        self.json.insert(key.to_owned(), value.into());
        self
    }

    /// A line for stderr in text mode.
    pub(crate) fn note(&mut self, line: impl AsRef<str>) -> &mut Self {
        self.notes.push_str(line.as_ref());
        self.notes.push('\n');
        self
    }

    /// Bytes printed as they are on stdout in text mode.
    pub(crate) fn raw(&mut self, bytes: Vec<u8>) -> &mut Self {
        self.raw = Some(bytes);
        self
    }

    /// A private key to print on stdout: `text` as is, or `json` (a JSON
    /// value) as the `private_key` member.
    pub(crate) fn secret(&mut self, text: Zeroizing<String>, json: Zeroizing<String>) -> &mut Self {
        self.secret = Some((text, json));
        self
    }

    /// Marks the command as failed after its output is printed.
    pub(crate) fn fail(&mut self, failure: CliError) -> &mut Self {
        self.failure = Some(failure);
        self
    }

    pub(crate) fn take_failure(&mut self) -> Option<CliError> {
        self.failure.take()
    }

    /// Prints the output in the requested form; `ok` is the JSON form's
    /// `ok` member unless the command set one.
    pub(crate) fn print_with_status(&self, json: bool, ok: bool) -> io::Result<()> {
        let mut stdout = io::stdout().lock();
        if json {
            let mut object = self.json.clone();
            object.entry("ok").or_insert_with(|| Value::Bool(ok));
            let rendered = Value::Object(object).to_string();
            match (&self.secret, rendered.strip_prefix('{')) {
                (Some((_, secret)), Some(members)) => {
                    stdout.write_all(b"{\"private_key\":")?;
                    stdout.write_all(secret.as_bytes())?;
                    stdout.write_all(b",")?;
                    stdout.write_all(members.as_bytes())?;
                    stdout.write_all(b"\n")?;
                }
                _ => writeln!(stdout, "{rendered}")?,
            }
        } else {
            let mut stderr = io::stderr().lock();
            stderr.write_all(self.notes.as_bytes())?;
            match (&self.secret, &self.raw) {
                (Some((secret, _)), _) => {
                    stderr.write_all(self.text.as_bytes())?;
                    stdout.write_all(secret.as_bytes())?;
                    if !secret.ends_with('\n') {
                        stdout.write_all(b"\n")?;
                    }
                }
                (None, Some(raw)) => stdout.write_all(raw)?,
                (None, None) => stdout.write_all(self.text.as_bytes())?,
            }
        }
        stdout.flush()
    }
}

/// Prints a failure: the message on stderr, and in JSON mode also a JSON
/// object on stdout (so a machine always gets one JSON document).
pub(crate) fn print_failure(error: &CliError, json: bool) {
    eprintln!("sage: {error}");
    if json {
        let mut object = Map::new();
        object.insert("ok".into(), Value::Bool(false));
        object.insert("exit_code".into(), error.exit_code().into());
        if let Some(code) = error.diagnostic_code() {
            object.insert("code".into(), code.into());
        }
        object.insert("error".into(), error.to_string().into());
        object.extend(error.json_details());
        println!("{}", Value::Object(object));
    }
}
