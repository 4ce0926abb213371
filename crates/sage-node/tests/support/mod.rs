//! The node-test harness of the tests that still name it `support`: a
//! re-export of [`sage_node::testing`] (dev-dependency feature
//! `test-support`), the one implementation.

#[allow(unused_imports)] // each test file uses its own subset
pub(crate) use sage_node::testing::{config_in, get, request, slow_post};
