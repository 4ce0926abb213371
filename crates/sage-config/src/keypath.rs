//! Key paths (`database.pool.max_connections`) over figment value trees:
//! parse, insert, look up, remove and list leaves. Every layer and every
//! error uses these, so a path is spelt the same way everywhere.

use figment::value::{Dict, Value};

/// Joins segments with `.`.
pub(crate) fn join<S: AsRef<str>>(segments: &[S]) -> String {
    let mut out = String::new();
    for (i, s) in segments.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        out.push_str(s.as_ref());
    }
    out
}

/// Checks and collects segments: none may be empty or hold whitespace or
/// a dot.
pub(crate) fn parse_segments<'a>(
    segments: impl Iterator<Item = &'a str>,
) -> Result<Vec<String>, ()> {
    let segments: Vec<String> = segments.map(str::to_owned).collect();
    let valid = !segments.is_empty()
        && segments
            .iter()
            .all(|s| !s.is_empty() && !s.contains('.') && !s.chars().any(char::is_whitespace));
    if valid { Ok(segments) } else { Err(()) }
}

/// Parses a dotted key path (`server.listen`).
pub(crate) fn parse_dotted(path: &str) -> Result<Vec<String>, ()> {
    parse_segments(path.split('.'))
}

/// Sets `path` to `value`, creating dictionaries on the way. Fails when a
/// non-dictionary value is in the way (`a` is a number and `a.b` is set).
pub(crate) fn insert_path(dict: &mut Dict, path: &[String], value: Value) -> Result<(), ()> {
    let Some((last, parents)) = path.split_last() else {
        return Err(());
    };
    let mut current = dict;
    for segment in parents {
        let entry = current
            .entry(segment.clone())
            .or_insert_with(|| Value::from(Dict::new()));
        match entry {
            Value::Dict(_, next) => current = next,
            _ => return Err(()),
        }
    }
    current.insert(last.clone(), value);
    Ok(())
}

/// The value at `path`, if any.
pub(crate) fn get_path<'a>(dict: &'a Dict, path: &[String]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let mut value = dict.get(first)?;
    for segment in rest {
        value = value.as_dict()?.get(segment)?;
    }
    Some(value)
}

/// Removes the value at `path`; returns whether there was one.
pub(crate) fn remove_path(dict: &mut Dict, path: &[String]) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut current = dict;
    for segment in parents {
        match current.get_mut(segment) {
            Some(Value::Dict(_, next)) => current = next,
            _ => return false,
        }
    }
    current.remove(last).is_some()
}

/// Every leaf (a value that is not a non-empty dictionary) with its path,
/// depth first in key order. Lists are leaves.
pub(crate) fn leaves(dict: &Dict) -> Vec<(Vec<String>, &Value)> {
    fn walk<'a>(dict: &'a Dict, prefix: &mut Vec<String>, out: &mut Vec<(Vec<String>, &'a Value)>) {
        for (key, value) in dict {
            prefix.push(key.clone());
            match value {
                Value::Dict(_, inner) if !inner.is_empty() => walk(inner, prefix, out),
                leaf => out.push((prefix.clone(), leaf)),
            }
            prefix.pop();
        }
    }
    let mut out = Vec::new();
    walk(dict, &mut Vec::new(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> Vec<String> {
        parse_dotted(p).unwrap()
    }

    #[test]
    fn insert_get_remove_round_trip() {
        let mut dict = Dict::new();
        insert_path(&mut dict, &path("a.b.c"), Value::from(1u8)).unwrap();
        insert_path(&mut dict, &path("a.d"), Value::from("x")).unwrap();
        assert_eq!(
            get_path(&dict, &path("a.b.c")).and_then(Value::to_u128),
            Some(1)
        );
        let leaf_paths: Vec<String> = leaves(&dict).iter().map(|(p, _)| join(p)).collect();
        assert_eq!(leaf_paths, ["a.b.c", "a.d"]);
        assert!(remove_path(&mut dict, &path("a.b.c")));
        assert!(!remove_path(&mut dict, &path("a.b.c")));
        assert!(insert_path(&mut dict, &path("a.d.e"), Value::from(2u8)).is_err());
    }

    #[test]
    fn malformed_paths_are_refused() {
        assert!(parse_dotted("").is_err());
        assert!(parse_dotted("server..listen").is_err());
        assert!(parse_dotted("server.listen ").is_err());
        assert_eq!(path("server.listen"), ["server", "listen"]);
    }
}
