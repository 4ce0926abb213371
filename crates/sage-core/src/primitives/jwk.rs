//! JWK import and export (in progress).
