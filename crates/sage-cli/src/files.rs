//! Reading inputs, writing key files and creating the data directory: the
//! only file system access of the CLI itself (the vector runner, the
//! configuration loader and the store do their own).
//!
//! Private key files are created with mode 0600 from the first byte
//! (never chmod-ed afterwards), an existing file is replaced only on
//! request and then atomically (a 0600 temporary file renamed over it),
//! and a failed write leaves no partial file behind. Directories the CLI
//! creates for node data get mode 0700: they hold the database and keys.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::error::{CliError, IoAction};

/// Where `--in` reads from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    Stdin,
    File(PathBuf),
}

impl Source {
    /// `-` is stdin, anything else a file name.
    pub(crate) fn from_arg(arg: &str) -> Self {
        if arg == "-" {
            Self::Stdin
        } else {
            Self::File(PathBuf::from(arg))
        }
    }

    /// How error messages name this source.
    pub(crate) fn name(&self) -> String {
        match self {
            Self::Stdin => "stdin".to_owned(),
            Self::File(path) => path.display().to_string(),
        }
    }

    /// All bytes of the source.
    pub(crate) fn read(&self) -> Result<Vec<u8>, CliError> {
        match self {
            Self::Stdin => {
                let mut bytes = Vec::new();
                io::stdin()
                    .lock()
                    .read_to_end(&mut bytes)
                    .map_err(CliError::io(Path::new("stdin"), IoAction::Read))?;
                Ok(bytes)
            }
            Self::File(path) => read_file(path),
        }
    }
}

/// All bytes of a file.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, CliError> {
    fs::read(path).map_err(CliError::io(path, IoAction::Read))
}

/// All bytes of a file that may hold a private key, in a buffer that is
/// wiped when dropped.
///
/// A path that cannot be opened and looks like key material (someone gave
/// the key itself where its file belongs) is not repeated in the error:
/// error output ends up in terminals, logs and CI transcripts.
pub(crate) fn read_secret_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, CliError> {
    let mut file = File::open(path).map_err(|source| {
        if looks_like_key_material(path) {
            CliError::BadArgument {
                argument: "key file",
                reason: "no such file, and the argument looks like key material rather than a \
                         path: keys are read from files only (the value is not shown)"
                    .to_owned(),
            }
        } else {
            CliError::io(path, IoAction::Read)(source)
        }
    })?;
    // Sized up front so the buffer never reallocates and leaves a copy behind.
    let len = file
        .metadata()
        .map_err(CliError::io(path, IoAction::Read))?
        .len();
    let capacity = usize::try_from(len).unwrap_or(0).saturating_add(1);
    let mut bytes = Zeroizing::new(Vec::with_capacity(capacity));
    file.read_to_end(&mut bytes)
        .map_err(CliError::io(path, IoAction::Read))?;
    Ok(bytes)
}

/// Whether `path`, as text, looks like a key rather than a file name: a PEM
/// or JSON (JWK) document, or a long run of hex (`0x` allowed), base64url
/// or padded base64 with no file extension. Only asked of a path that
/// could not be opened, so a false positive only hides the name of a file
/// that does not exist.
fn looks_like_key_material(path: &Path) -> bool {
    const MIN_ENCODED_KEY_LEN: usize = 40;
    let Some(text) = path.to_str() else {
        return false;
    };
    let text = text.trim();
    if text.contains("-----BEGIN") || text.contains('\n') || text.starts_with('{') {
        return true;
    }
    let body = text.strip_prefix("0x").unwrap_or(text);
    if body.len() < MIN_ENCODED_KEY_LEN || body.contains('.') {
        return false;
    }
    let base64url = body
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let padded_base64 = (body.contains('+') || body.ends_with('='))
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
    base64url || padded_base64
}

/// Writes `contents` to a new file at `path` with mode 0600. With `force`
/// an existing file is replaced atomically; without it, an existing file
/// is an error and is left untouched.
pub(crate) fn write_private_file(
    path: &Path,
    contents: &[u8],
    force: bool,
) -> Result<(), CliError> {
    if force {
        let temporary = temporary_path(path);
        write_new_file(&temporary, contents)?;
        fs::rename(&temporary, path).map_err(|source| {
            // Best effort: the temporary holds the key, do not leave it around.
            let _ = fs::remove_file(&temporary);
            CliError::Io {
                path: path.to_path_buf(),
                action: IoAction::Write,
                source,
            }
        })
    } else {
        write_new_file(path, contents)
    }
}

/// Creates `path` (which must not exist) with mode 0600 and writes
/// `contents`; removes it again if writing fails.
fn write_new_file(path: &Path, contents: &[u8]) -> Result<(), CliError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|source| {
            if source.kind() == io::ErrorKind::AlreadyExists {
                CliError::WouldOverwrite {
                    path: path.to_path_buf(),
                }
            } else {
                CliError::Io {
                    path: path.to_path_buf(),
                    action: IoAction::Create,
                    source,
                }
            }
        })?;
    let written = file.write_all(contents).and_then(|()| file.sync_all());
    if let Err(source) = written {
        drop(file);
        let _ = fs::remove_file(path);
        return Err(CliError::Io {
            path: path.to_path_buf(),
            action: IoAction::Write,
            source,
        });
    }
    Ok(())
}

/// Creates `dir` and any missing parent, each new one with mode 0700; an
/// existing directory is left as it is.
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), CliError> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(CliError::io(dir, IoAction::Create))
}

/// A sibling of `path` for an atomic replace: same directory (so `rename`
/// stays on one file system), hidden, unique to this process.
fn temporary_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "key".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.sage-tmp-{}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_material_given_as_a_path_is_recognised() {
        for key in [
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----",
            "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"d\":\"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\"}",
            "0x5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",
            "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",
            "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
            "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=",
        ] {
            assert!(looks_like_key_material(Path::new(key)), "{key}");
        }
    }

    #[test]
    fn file_names_are_not_taken_for_keys() {
        for path in [
            "owner.jwk",
            "keys/agent-signing.pem",
            "/var/lib/sage/identity/ed25519-signing-key.jwk",
            "/home/operator/agents/production/signing/key",
            "0x5a5a",
        ] {
            assert!(!looks_like_key_material(Path::new(path)), "{path}");
        }
    }

    #[test]
    fn a_missing_key_file_that_is_a_key_is_not_echoed() {
        let key = "0x5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
        let Err(error) = read_secret_file(Path::new(key)) else {
            panic!("a key is not a file");
        };
        let message = error.to_string();
        assert!(!message.contains("5a5a5a"), "{message}");
        assert!(message.contains("looks like key material"), "{message}");

        let Err(error) = read_secret_file(Path::new("no-such-owner.jwk")) else {
            panic!("no such file");
        };
        assert!(error.to_string().contains("no-such-owner.jwk"));
    }
}
