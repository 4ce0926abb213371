//! PEM import and export (in progress).
