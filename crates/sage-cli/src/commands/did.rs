//! `sage did parse`: the \[L\] `did:sage` grammar (PROTOCOL.md §8.1).

use sage_core::did::Did;

use crate::cli::DidParseArgs;
use crate::error::CliError;
use crate::output::Output;

/// `sage did parse DID`: chain, identifier and the DID as given, or the
/// rule it breaks (exit 2).
pub(crate) fn parse(args: &DidParseArgs) -> Result<Output, CliError> {
    let did = Did::parse(&args.did).map_err(|error| CliError::BadDid {
        did: args.did.clone(),
        error,
    })?;
    let mut out = Output::new();
    out.field("did", "did", did.as_str())
        .field("chain", "chain", did.chain().as_str())
        .field("identifier", "identifier", did.identifier());
    Ok(out)
}
