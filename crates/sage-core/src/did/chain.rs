//! The chain of an \[L\] `did:sage` identifier and its aliases (PROTOCOL.md §8.1).
//!
//! Layer: `did:sage` grammar. \[L\] has no registry kinds, only two chains,
//! each with one alias: `ethereum` (`eth`) and `solana` (`sol`). The network
//! (mainnet, sepolia, devnet, ...) is configuration and not part of the DID.
//!
//! [`Chain::parse`] is Go's `ParseChain`: it trims whitespace and lower-cases
//! before matching, so `" Solana "` is Solana (vector `chain-aliases`). When
//! a whole DID is parsed, the stricter rules of §18.3 apply first (no
//! whitespace, ASCII only), so the trimming only matters for configuration
//! strings.

use core::fmt;
use core::str::FromStr;

use super::error::DidError;

/// A chain an \[L\] `did:sage` identifier can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Chain {
    /// Ethereum (alias `eth`).
    Ethereum,
    /// Solana (alias `sol`).
    Solana,
}

impl Chain {
    /// Every chain, in declaration order.
    pub const ALL: [Chain; 2] = [Self::Ethereum, Self::Solana];

    /// The normalised name, as it appears in a generated DID.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ethereum => "ethereum",
            Self::Solana => "solana",
        }
    }

    /// Go's `ParseChain`: trims whitespace, lower-cases, then maps
    /// `ethereum`/`eth` and `solana`/`sol`.
    ///
    /// # Errors
    /// [`DidError::EmptyChain`] when nothing is left after trimming;
    /// [`DidError::UnknownChain`] for any other name.
    pub fn parse(name: &str) -> Result<Self, DidError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(DidError::EmptyChain);
        }
        match name.to_lowercase().as_str() {
            "ethereum" | "eth" => Ok(Self::Ethereum),
            "solana" | "sol" => Ok(Self::Solana),
            _ => Err(DidError::UnknownChain),
        }
    }
}

impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Chain {
    type Err = DidError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}
