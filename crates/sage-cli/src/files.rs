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
pub(crate) fn read_secret_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, CliError> {
    let mut file = File::open(path).map_err(CliError::io(path, IoAction::Read))?;
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
