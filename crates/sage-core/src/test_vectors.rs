//! Test-only access to the vendored sage-spec golden vectors
//! (`vectors/sage-spec/` at the repository root), shared by every module's
//! unit tests so that each suite is read the same way.

use serde_json::Value;

/// The parsed vector file `file` (e.g. `"crypto.json"`).
pub(crate) fn suite(file: &str) -> Value {
    let path = format!(
        "{}/../../vectors/sage-spec/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The vectors of `file`, in file order.
pub(crate) fn vectors(file: &str) -> Vec<Value> {
    match suite(file)["vectors"].as_array() {
        Some(all) => all.clone(),
        None => panic!("{file}: no vectors array"),
    }
}

/// The vector named `name` in `file`.
pub(crate) fn vector(file: &str, name: &str) -> Value {
    vectors(file)
        .into_iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("{file}: vector {name} missing"))
}
