//! `sage jcs`: RFC 8785 canonical form of a JSON text, with the strict
//! parser of sage-core (errors name the byte offset).

use sage_core::encoding::hex_encode;
use sage_core::jcs::canonicalize;
use sage_core::primitives::sha256;

use crate::cli::JcsArgs;
use crate::error::CliError;
use crate::files::Source;
use crate::output::Output;

/// `sage jcs`: the canonical bytes, exactly, on stdout (no newline added,
/// so the output can be hashed or signed as it is).
pub(crate) fn canonicalize_input(args: &JcsArgs) -> Result<Output, CliError> {
    let source = Source::from_arg(&args.input);
    let input = source.read()?;
    let canonical = canonicalize(&input).map_err(|error| CliError::BadJson {
        source: source.name(),
        error,
    })?;
    let mut out = Output::new();
    out.json(
        "canonical",
        String::from_utf8_lossy(&canonical).into_owned(),
    )
    .json("sha256", hex_encode(&sha256(&canonical)))
    .raw(canonical);
    Ok(out)
}
