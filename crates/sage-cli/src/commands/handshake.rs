//! `sage handshake --to DID|URL`: runs the \[L\] handshake with a SAGE node
//! (PROTOCOL.md §6.5, docs/PROTOCOL-PROFILE.md §2) through sage-client and
//! prints the session it established: the node's key id (`kid`), the
//! session id and the context id. The session is not kept: the command
//! checks that a peer is reachable and that its handshake verifies.
//!
//! Sender, peer and registry are given as for `sage send`
//! ([`PeerArgs`](crate::commands::send::PeerArgs)).

use clap::Args;

use crate::commands::send::{PeerArgs, connect};
use crate::error::CliError;
use crate::output::Output;
use crate::runtime::block_on;

#[derive(Debug, Args)]
pub(crate) struct HandshakeArgs {
    #[command(flatten)]
    pub(crate) peer: PeerArgs,
}

/// `sage handshake`.
pub(crate) fn run(args: &HandshakeArgs) -> Result<Output, CliError> {
    block_on(async {
        let (client, peer) = connect(&args.peer).await?;
        let info = client.handshake(&peer).await;
        client.resolver().close().await;
        let info = info.map_err(CliError::Client)?;
        let mut out = Output::new();
        out.field("peer", "peer_did", info.peer_did)
            .field("url", "url", info.url)
            .field("kid", "kid", info.kid)
            .field("session id", "session_id", info.session_id)
            .field("context id", "ctx_id", info.ctx_id);
        Ok(out)
    })
}
