//! Tests for JCS: the sage-spec vectors, RFC 8785 samples, one test per
//! rejection rule, and properties over generated values and bytes.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use sha2::Digest as _;

use super::serialize::cmp_utf16;
use super::*;
use crate::encoding::hex_encode;

fn canonical_text(input: &str) -> String {
    String::from_utf8(canonicalize(input.as_bytes()).unwrap()).unwrap()
}

fn cause_of(input: &[u8]) -> (ErrorCause, usize) {
    let error = parse(input).unwrap_err();
    (error.cause().clone(), error.offset())
}

fn number_text(x: f64) -> String {
    String::from_utf8(Value::Number(x).to_canonical_bytes()).unwrap()
}

// ---------------------------------------------------------------- vectors

#[test]
fn all_sage_spec_jcs_vectors_canonicalise_to_the_recorded_bytes() {
    let file = crate::test_vectors::suite("jcs.json");
    let vectors = file["vectors"].as_array().unwrap();
    let names: Vec<&str> = vectors
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "rfc8785-appendix-a",
            "rfc8785-unicode-sorting",
            "agent-card-like",
            "numbers"
        ]
    );
    for vector in vectors {
        let name = vector["name"].as_str().unwrap();
        let input = vector["input"]["json"].as_str().unwrap();
        let output = &vector["output"];
        let canonical = canonicalize(input.as_bytes()).unwrap();
        assert_eq!(
            canonical,
            output["canonical"].as_str().unwrap().as_bytes(),
            "{name}: canonical"
        );
        assert_eq!(
            hex_encode(&canonical),
            output["canonical_hex"].as_str().unwrap(),
            "{name}: canonical_hex"
        );
        assert_eq!(
            hex_encode(&sha2::Sha256::digest(&canonical)),
            output["sha256"].as_str().unwrap(),
            "{name}: sha256"
        );
        assert_eq!(
            canonicalize(&canonical).unwrap(),
            canonical,
            "{name}: idempotent"
        );
    }
}

#[test]
fn agent_card_vector_through_serde_bridge_matches_the_vector() {
    let file = crate::test_vectors::suite("jcs.json");
    let vector = file["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "agent-card-like")
        .unwrap();
    let built: serde_json::Value =
        serde_json::from_str(vector["input"]["json"].as_str().unwrap()).unwrap();
    assert_eq!(
        canonicalize_serde(&built),
        vector["output"]["canonical"].as_str().unwrap().as_bytes()
    );
    assert_eq!(
        Value::from(&built).to_canonical_bytes(),
        canonicalize_serde(&built)
    );
}

// ---------------------------------------------------------------- numbers

#[test]
fn rfc8785_appendix_b_doubles_are_written_as_ecmascript_writes_them() {
    let samples: [(u64, &str); 24] = [
        (0x0000000000000000, "0"),
        (0x8000000000000000, "0"),
        (0x0000000000000001, "5e-324"),
        (0x8000000000000001, "-5e-324"),
        (0x7fefffffffffffff, "1.7976931348623157e+308"),
        (0xffefffffffffffff, "-1.7976931348623157e+308"),
        (0x4340000000000000, "9007199254740992"),
        (0xc340000000000000, "-9007199254740992"),
        (0x4430000000000000, "295147905179352830000"),
        (0x44b52d02c7e14af5, "9.999999999999997e+22"),
        (0x44b52d02c7e14af6, "1e+23"),
        (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
        (0x444b1ae4d6e2ef4e, "999999999999999700000"),
        (0x444b1ae4d6e2ef4f, "999999999999999900000"),
        (0x444b1ae4d6e2ef50, "1e+21"),
        (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
        (0x3eb0c6f7a0b5ed8d, "0.000001"),
        (0x41b3de4355555553, "333333333.3333332"),
        (0x41b3de4355555554, "333333333.33333325"),
        (0x41b3de4355555555, "333333333.3333333"),
        (0x41b3de4355555556, "333333333.3333334"),
        (0x41b3de4355555557, "333333333.33333343"),
        (0xbecbf647612f3696, "-0.0000033333333333333333"),
        (0x43143ff3c1cb0959, "1424953923781206.2"),
    ];
    for (bits, expected) in samples {
        assert_eq!(
            number_text(f64::from_bits(bits)),
            expected,
            "bits {bits:#018x}"
        );
    }
}

#[test]
fn number_literals_canonicalise_per_ecmascript_number_to_string() {
    let samples = [
        ("0", "0"),
        ("-0", "0"),
        ("-0.0e5", "0"),
        ("1.0", "1"),
        ("4.50", "4.5"),
        ("2e-3", "0.002"),
        ("1E30", "1e+30"),
        ("1e21", "1e+21"),
        ("1e20", "100000000000000000000"),
        ("100000000000000000000", "100000000000000000000"),
        ("123456789012345680000", "123456789012345680000"),
        ("333333333.33333329", "333333333.3333333"),
        ("0.000000000000000000000000001", "1e-27"),
        ("0.000001", "0.000001"),
        ("1e-7", "1e-7"),
        ("123e-7", "0.0000123"),
        ("-1.5e-7", "-1.5e-7"),
        ("9007199254740993", "9007199254740992"),
        ("5e-324", "5e-324"),
        ("1.7976931348623157e308", "1.7976931348623157e+308"),
        ("1.7976931348623158e308", "1.7976931348623157e+308"),
        ("-12.5E+2", "-1250"),
        ("0.1", "0.1"),
        ("1e-400", "0"),
    ];
    for (input, expected) in samples {
        assert_eq!(canonical_text(input), expected, "input {input}");
    }
}

#[test]
fn number_parsing_rounds_to_nearest_at_the_subnormal_midpoint() {
    // 2^-1075 = 2.47032822920623272088...e-324 is halfway between 0 and the
    // smallest subnormal.
    assert_eq!(canonical_text("2.4703282292062327e-324"), "0");
    assert_eq!(canonical_text("2.4703282292062328e-324"), "5e-324");
}

#[test]
fn non_finite_numbers_built_by_hand_serialise_as_null_like_json_stringify() {
    assert_eq!(number_text(f64::NAN), "null");
    assert_eq!(number_text(f64::INFINITY), "null");
    assert_eq!(number_text(f64::NEG_INFINITY), "null");
}

// ---------------------------------------------------------------- strings

#[test]
fn control_characters_are_escaped_as_json_stringify_does() {
    for byte in 0u8..0x20 {
        let expected = match byte {
            0x08 => "\\b".to_owned(),
            0x09 => "\\t".to_owned(),
            0x0a => "\\n".to_owned(),
            0x0c => "\\f".to_owned(),
            0x0d => "\\r".to_owned(),
            _ => format!("\\u{byte:04x}"),
        };
        let value = Value::String(char::from(byte).to_string());
        assert_eq!(
            String::from_utf8(value.to_canonical_bytes()).unwrap(),
            format!("\"{expected}\""),
            "byte {byte:#04x}"
        );
    }
}

#[test]
fn strings_keep_everything_else_raw_and_unescape_input_escapes() {
    let samples = [
        (r#""\"\\""#, r#""\"\\""#),
        (r#""\/ /""#, r#""/ /""#),
        (r#""\u00E9\u00e9""#, "\"éé\""),
        (r#""\u007f\u0080""#, "\"\u{7f}\u{80}\""),
        (r#""\u2028\u2029""#, "\"\u{2028}\u{2029}\""),
        (r#""\ud83d\ude02""#, "\"😂\""),
        (r#""\u0000\u001F\u000B""#, r#""\u0000\u001f\u000b""#),
        ("\"€ raw 😂\"", "\"€ raw 😂\""),
        (r#""\b\f\n\r\t""#, r#""\b\f\n\r\t""#),
    ];
    for (input, expected) in samples {
        assert_eq!(canonical_text(input), expected, "input {input}");
    }
}

#[test]
fn members_sort_by_utf16_code_units_not_by_code_points() {
    // U+10000 is D800 DC00 in UTF-16, so it sorts before U+E000 and U+FFFF,
    // although its UTF-8 bytes sort after theirs.
    let canonical = canonical_text("{\"\u{FFFF}\":1,\"\u{E000}\":2,\"\u{10000}\":3,\"z\":4}");
    assert_eq!(
        canonical,
        "{\"z\":4,\"\u{10000}\":3,\"\u{E000}\":2,\"\u{FFFF}\":1}"
    );
    assert_eq!(
        cmp_utf16("\u{10000}", "\u{E000}"),
        core::cmp::Ordering::Less
    );
    assert_eq!(cmp_utf16("ab", "abc"), core::cmp::Ordering::Less);
    assert_eq!(cmp_utf16("é", "é"), core::cmp::Ordering::Equal);
}

#[test]
fn nested_objects_are_sorted_and_arrays_keep_their_order() {
    assert_eq!(
        canonical_text(r#" { "b" : [ 3, {"y":1,"x":2}, 1 ], "a" : { "d" : null, "c" : true } } "#),
        r#"{"a":{"c":true,"d":null},"b":[3,{"x":2,"y":1},1]}"#
    );
}

// ---------------------------------------------------------------- rejections

#[test]
fn byte_order_mark_is_rejected() {
    assert_eq!(cause_of(b"\xEF\xBB\xBF{}"), (ErrorCause::ByteOrderMark, 0));
}

#[test]
fn invalid_utf8_is_rejected_at_the_first_bad_byte() {
    assert_eq!(cause_of(b"[\"ok\xff\"]"), (ErrorCause::InvalidUtf8, 4));
    // Overlong '/' and a UTF-8-encoded surrogate are not UTF-8 either.
    assert_eq!(cause_of(b"\"\xC0\xAF\""), (ErrorCause::InvalidUtf8, 1));
    assert_eq!(cause_of(b"\"\xED\xA0\x80\""), (ErrorCause::InvalidUtf8, 1));
}

#[test]
fn duplicate_member_names_are_rejected_after_unescaping() {
    assert_eq!(
        cause_of(br#"{"a":1,"a":2}"#),
        (ErrorCause::DuplicateKey("a".to_owned()), 7)
    );
    assert_eq!(
        cause_of(br#"{"a":1,"\u0061":2}"#),
        (ErrorCause::DuplicateKey("a".to_owned()), 7)
    );
    assert_eq!(
        cause_of(br#"{"x":{"b":1,"b":2}}"#),
        (ErrorCause::DuplicateKey("b".to_owned()), 12)
    );
    // The same name in two different objects is fine.
    assert!(parse(br#"{"a":{"a":1},"b":{"a":2}}"#).is_ok());
}

#[test]
fn duplicate_names_in_large_objects_are_found_with_their_offset() {
    let mut text = String::from("{");
    for i in 0..40 {
        text.push_str(&format!("\"k{i}\":{i},"));
    }
    let offset = text.len();
    text.push_str("\"k7\":0}");
    assert_eq!(
        cause_of(text.as_bytes()),
        (ErrorCause::DuplicateKey("k7".to_owned()), offset)
    );
}

#[test]
fn lone_high_surrogate_is_rejected() {
    assert_eq!(
        cause_of(br#""\uD800""#),
        (ErrorCause::LoneSurrogate(0xD800), 1)
    );
    assert_eq!(
        cause_of(br#""a\ud83dx""#),
        (ErrorCause::LoneSurrogate(0xD83D), 2)
    );
    assert_eq!(
        cause_of(br#""\uD800\u0041""#),
        (ErrorCause::LoneSurrogate(0xD800), 1)
    );
    assert_eq!(
        cause_of(br#""\uD800\uD800""#),
        (ErrorCause::LoneSurrogate(0xD800), 1)
    );
}

#[test]
fn lone_low_surrogate_is_rejected() {
    assert_eq!(
        cause_of(br#""\uDC00""#),
        (ErrorCause::LoneSurrogate(0xDC00), 1)
    );
    assert_eq!(
        cause_of(br#""\uDE02\uD83D""#),
        (ErrorCause::LoneSurrogate(0xDE02), 1)
    );
}

#[test]
fn raw_control_characters_in_strings_are_rejected() {
    assert_eq!(
        cause_of(b"\"a\nb\""),
        (ErrorCause::ControlCharacter(0x0a), 2)
    );
    assert_eq!(
        cause_of(b"{\"\t\":1}"),
        (ErrorCause::ControlCharacter(0x09), 2)
    );
    assert_eq!(
        cause_of(b"\"\x00\""),
        (ErrorCause::ControlCharacter(0x00), 1)
    );
}

#[test]
fn malformed_numbers_are_rejected() {
    for (input, offset) in [
        ("01", 0),
        ("-01", 0),
        ("[00]", 1),
        ("1.", 0),
        ("1.e5", 0),
        (".5", 0),
        ("+1", 0),
        ("-", 0),
        ("- 1", 0),
        ("1e", 0),
        ("1e+", 0),
        ("[1E-]", 1),
    ] {
        assert_eq!(
            cause_of(input.as_bytes()),
            (ErrorCause::InvalidNumber, offset),
            "input {input}"
        );
    }
}

#[test]
fn nan_and_infinity_are_rejected() {
    for input in ["NaN", "Infinity", "-Infinity", "[NaN]"] {
        assert_eq!(
            cause_of(input.as_bytes()).0,
            ErrorCause::InvalidNumber,
            "input {input}"
        );
    }
}

#[test]
fn numbers_that_overflow_a_double_are_rejected() {
    assert_eq!(cause_of(b"1e309"), (ErrorCause::NumberOutOfRange, 0));
    assert_eq!(cause_of(b"[-1e400]"), (ErrorCause::NumberOutOfRange, 1));
    assert_eq!(
        cause_of(b"1.7976931348623159e308"),
        (ErrorCause::NumberOutOfRange, 0)
    );
    let huge = format!("1{}", "0".repeat(400));
    assert_eq!(cause_of(huge.as_bytes()), (ErrorCause::NumberOutOfRange, 0));
}

#[test]
fn unknown_escapes_and_bad_hex_digits_are_rejected() {
    assert_eq!(cause_of(br#""ab\x""#), (ErrorCause::InvalidEscape, 3));
    assert_eq!(cause_of(br#""\U0041""#), (ErrorCause::InvalidEscape, 1));
    assert_eq!(cause_of(br#""\u12G4""#), (ErrorCause::InvalidEscape, 1));
    assert_eq!(cause_of(br#""\u""#), (ErrorCause::InvalidEscape, 1));
    assert_eq!(cause_of(br#""\'""#), (ErrorCause::InvalidEscape, 1));
}

#[test]
fn truncated_input_is_rejected_as_unexpected_end() {
    for (input, offset) in [
        ("", 0),
        ("  ", 2),
        ("[1,", 3),
        ("{\"a\"", 4),
        ("{\"a\":", 5),
        ("\"abc", 4),
        ("\"\\", 2),
        ("\"\\u00", 5),
        ("tru", 3),
    ] {
        assert_eq!(
            cause_of(input.as_bytes()),
            (ErrorCause::UnexpectedEnd, offset),
            "input {input:?}"
        );
    }
}

#[test]
fn characters_outside_the_grammar_are_rejected() {
    for (input, c, offset) in [
        ("[1 2]", '2', 3),
        ("{\"a\" 1}", '1', 5),
        ("{a:1}", 'a', 1),
        ("[1,]", ']', 3),
        ("{\"a\":1,}", '}', 7),
        ("nul1", '1', 3),
        ("'a'", '\'', 0),
        ("[é]", 'é', 1),
        ("[1}", '}', 2),
    ] {
        assert_eq!(
            cause_of(input.as_bytes()),
            (ErrorCause::UnexpectedCharacter(c), offset),
            "input {input}"
        );
    }
}

#[test]
fn data_after_the_top_level_value_is_rejected() {
    assert_eq!(cause_of(b"{} x"), (ErrorCause::TrailingData, 3));
    assert_eq!(cause_of(b"1 2"), (ErrorCause::TrailingData, 2));
    assert_eq!(cause_of(b"{}{}"), (ErrorCause::TrailingData, 2));
    assert_eq!(cause_of(b"0x10"), (ErrorCause::TrailingData, 1));
    assert!(parse(b" \t\r\n{} \t\r\n").is_ok());
}

#[test]
fn nesting_deeper_than_the_limit_is_rejected() {
    let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    assert!(parse(nested(128).as_bytes()).is_ok());
    assert_eq!(
        cause_of(nested(129).as_bytes()),
        (ErrorCause::TooDeep { limit: 128 }, 128)
    );
    let objects = format!("{}1{}", "{\"a\":".repeat(129), "}".repeat(129));
    assert_eq!(
        cause_of(objects.as_bytes()).0,
        ErrorCause::TooDeep { limit: 128 }
    );

    let limits = ParseLimits {
        max_depth: 1,
        ..ParseLimits::default()
    };
    assert!(parse_with_limits(b"[1]", limits).is_ok());
    assert_eq!(
        parse_with_limits(b"[[1]]", limits).unwrap_err(),
        JcsError::new(1, ErrorCause::TooDeep { limit: 1 })
    );
    let scalars_only = ParseLimits {
        max_depth: 0,
        ..ParseLimits::default()
    };
    assert!(parse_with_limits(b"1", scalars_only).is_ok());
    assert!(parse_with_limits(b"{}", scalars_only).is_err());
}

#[test]
fn depth_above_the_ceiling_is_capped_and_the_ceiling_fits_a_small_stack() {
    let unlimited = ParseLimits {
        max_depth: usize::MAX,
        ..ParseLimits::default()
    };
    let ceiling = ParseLimits::DEPTH_CEILING;
    let nested = |depth: usize| format!("{}1{}", "[{\"a\":".repeat(depth), "}]".repeat(depth));
    // Each "[{" pair is two levels.
    let deepest = nested(ceiling / 2);
    let too_deep = format!("[{deepest}]");
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            let value = parse_with_limits(deepest.as_bytes(), unlimited).unwrap();
            assert_eq!(value.to_canonical_bytes(), deepest.as_bytes());
            drop(value);
            assert_eq!(
                parse_with_limits(too_deep.as_bytes(), unlimited)
                    .unwrap_err()
                    .cause(),
                &ErrorCause::TooDeep { limit: ceiling }
            );
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn input_longer_than_the_limit_is_rejected() {
    let limits = ParseLimits {
        max_input_len: 4,
        ..ParseLimits::default()
    };
    assert!(parse_with_limits(b"1234", limits).is_ok());
    assert_eq!(
        parse_with_limits(b"12345", limits).unwrap_err(),
        JcsError::new(4, ErrorCause::TooLarge { limit: 4 })
    );
    assert_eq!(
        canonicalize_with_limits(b"[1,2]", limits)
            .unwrap_err()
            .cause(),
        &ErrorCause::TooLarge { limit: 4 }
    );
}

#[test]
fn default_limits_are_depth_128_and_16_mib() {
    assert_eq!(
        ParseLimits::default(),
        ParseLimits {
            max_depth: 128,
            max_input_len: 16 * 1024 * 1024
        }
    );
}

#[test]
fn error_display_names_the_cause_and_the_offset() {
    let error = parse(br#"{"a":1,"a":2}"#).unwrap_err();
    assert_eq!(error.to_string(), "duplicate member name \"a\" at byte 7");
    let error = parse(b"\"\\uDC00\"").unwrap_err();
    assert_eq!(error.to_string(), "unpaired surrogate \\uDC00 at byte 1");
    let error = parse(b"\"a\nb\"").unwrap_err();
    assert_eq!(
        error.to_string(),
        "raw control character U+000A in string at byte 2"
    );
}

#[test]
fn error_display_escapes_and_shortens_hostile_member_names() {
    let name = format!("x\n{}", "y".repeat(200));
    let text = format!("{{\"{0}\":1,\"{0}\":2}}", name.replace('\n', "\\n"));
    let shown = parse(text.as_bytes()).unwrap_err().to_string();
    assert!(
        shown.starts_with("duplicate member name \"x\\nyyy"),
        "{shown}"
    );
    assert!(!shown.contains('\n'));
    assert!(shown.len() < 120, "{shown}");
}

// ---------------------------------------------------------------- value API

#[test]
fn object_keeps_received_order_and_insert_replaces_in_place() {
    let mut value = parse(br#"{"z":1,"proof":{"v":"x"},"a":[true,null]}"#).unwrap();
    let object = value.as_object_mut().unwrap();
    assert_eq!(object.keys().collect::<Vec<_>>(), ["z", "proof", "a"]);
    assert_eq!(object.insert("z", Value::from("new")), Some(Value::from(1)));
    assert_eq!(object.insert("m", Value::Null), None);
    assert_eq!(object.keys().collect::<Vec<_>>(), ["z", "proof", "a", "m"]);
    assert!(object.remove("proof").is_some());
    assert_eq!(object.remove("proof"), None);
    assert_eq!(object.keys().collect::<Vec<_>>(), ["z", "a", "m"]);
    assert_eq!(object.len(), 3);
    assert_eq!(
        value.to_canonical_bytes(),
        br#"{"a":[true,null],"m":null,"z":"new"}"#
    );
}

#[test]
fn accessors_return_the_variant_they_name() {
    let value = parse(
        br#"{"s":"x","n":42,"f":1.5,"b":true,"a":[1],"o":{},"u":null,"big":9007199254740992}"#,
    )
    .unwrap();
    assert_eq!(value.get("s").and_then(Value::as_str), Some("x"));
    assert_eq!(value.get("n").and_then(Value::as_i64), Some(42));
    assert_eq!(value.get("n").and_then(Value::as_u64), Some(42));
    assert_eq!(value.get("f").and_then(Value::as_f64), Some(1.5));
    assert_eq!(value.get("f").and_then(Value::as_i64), None);
    assert_eq!(value.get("big").and_then(Value::as_i64), None);
    assert_eq!(value.get("b").and_then(Value::as_bool), Some(true));
    assert_eq!(
        value.get("a").and_then(Value::as_array).map(<[_]>::len),
        Some(1)
    );
    assert!(
        value
            .get("o")
            .and_then(Value::as_object)
            .is_some_and(Object::is_empty)
    );
    assert!(value.get("u").is_some_and(Value::is_null));
    assert_eq!(value.get("missing"), None);
    assert_eq!(value.get("s").and_then(Value::as_i64), None);
    assert_eq!(Value::from(-3).as_u64(), None);
    assert_eq!(Value::Number(-0.0).as_i64(), Some(0));
}

// ---------------------------------------------------------------- serde bridge

#[test]
fn serde_integers_are_formatted_as_ecmascript_doubles() {
    let built = serde_json::json!({
        "max_u64": u64::MAX,
        "min_i64": i64::MIN,
        "past_2_53": 9_007_199_254_740_993_u64,
        "small": -7,
        "float": 0.1,
        "neg_zero": -0.0,
        "whole_float": 2.0,
    });
    assert_eq!(
        String::from_utf8(canonicalize_serde(&built)).unwrap(),
        concat!(
            r#"{"float":0.1,"max_u64":18446744073709552000,"min_i64":-9223372036854776000,"#,
            r#""neg_zero":0,"past_2_53":9007199254740992,"small":-7,"whole_float":2}"#
        )
    );
}

#[test]
fn serde_maps_sort_by_utf16_like_parsed_objects() {
    let built = serde_json::json!({"\u{FFFF}": 1, "\u{10000}": [{"b": "\n", "a": "/"}]});
    assert_eq!(
        String::from_utf8(canonicalize_serde(&built)).unwrap(),
        "{\"\u{10000}\":[{\"a\":\"/\",\"b\":\"\\n\"}],\"\u{FFFF}\":1}"
    );
}

// ---------------------------------------------------------------- properties

fn arb_string() -> impl Strategy<Value = String> {
    // Mostly characters that stress escaping and UTF-16 ordering, some
    // anything-goes.
    let interesting = prop_oneof![
        3 => prop::sample::select(vec![
            'a', '"', '\\', '/', '\u{0}', '\u{1f}', '\n', '\u{7f}', 'é', '\u{2028}', '\u{E000}',
            '\u{FFFF}', '\u{10000}', '😂',
        ]),
        1 => any::<char>(),
    ];
    prop::collection::vec(interesting, 0..8).prop_map(String::from_iter)
}

fn arb_finite_f64() -> impl Strategy<Value = f64> {
    use prop::num::f64::{NEGATIVE, NORMAL, POSITIVE, SUBNORMAL, ZERO};
    prop_oneof![
        POSITIVE | NEGATIVE | NORMAL | SUBNORMAL | ZERO,
        any::<i64>().prop_map(|n| n as f64),
        (-30i32..30, 1u32..100_000).prop_map(|(e, m)| f64::from(m) * 10f64.powi(e)),
    ]
}

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        arb_finite_f64().prop_map(Value::Number),
        arb_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((arb_string(), inner), 0..8)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// `value` with every object's members sorted by an independent UTF-16
/// oracle.
fn sorted_by_utf16_oracle(value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(sorted_by_utf16_oracle).collect()),
        Value::Object(object) => {
            let mut members: Vec<(String, Value)> = object
                .iter()
                .map(|(k, v)| (k.to_owned(), sorted_by_utf16_oracle(v)))
                .collect();
            members.sort_by_key(|(k, _)| k.encode_utf16().collect::<Vec<u16>>());
            Value::Object(members.into_iter().collect())
        }
        other => other.clone(),
    }
}

fn to_serde(value: &Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Number(n) => serde_json::Value::Number(serde_json::Number::from_f64(*n).unwrap()),
        Value::String(s) => serde_json::Value::String(s.clone()),
        Value::Array(items) => serde_json::Value::Array(items.iter().map(to_serde).collect()),
        Value::Object(object) => serde_json::Value::Object(
            object
                .iter()
                .map(|(k, v)| (k.to_owned(), to_serde(v)))
                .collect(),
        ),
    }
}

proptest! {
    #[test]
    fn canonical_form_is_a_fixed_point_and_parses_back_to_the_same_value(value in arb_value()) {
        let canonical = value.to_canonical_bytes();
        prop_assert_eq!(canonicalize(&canonical).unwrap(), canonical.clone());
        let reparsed = parse(&canonical).unwrap();
        prop_assert_eq!(&reparsed, &sorted_by_utf16_oracle(&value));
        prop_assert_eq!(reparsed.to_canonical_bytes(), canonical);
    }

    #[test]
    fn serde_bridge_writes_the_same_bytes_as_the_value_serialiser(value in arb_value()) {
        let built = to_serde(&value);
        prop_assert_eq!(canonicalize_serde(&built), value.to_canonical_bytes());
        prop_assert_eq!(Value::from(&built).to_canonical_bytes(), value.to_canonical_bytes());
    }

    #[test]
    fn every_finite_double_round_trips_in_the_ecmascript_shape(x in arb_finite_f64()) {
        let text = number_text(x);
        prop_assert_eq!(text.parse::<f64>().unwrap(), x);
        let magnitude = x.abs();
        let plain = x == 0.0 || (1e-6..1e21).contains(&magnitude);
        prop_assert_eq!(!text.contains('e'), plain, "{}", text);
        prop_assert!(!text.contains('E') && !text.ends_with('.') && !text.starts_with('+'));
        prop_assert_eq!(canonical_text(&text), text);
    }

    #[test]
    fn exact_ties_between_shortest_candidates_take_the_even_digit(
        whole in (1u64 << 50)..(1u64 << 51),
        three_quarters in any::<bool>(),
    ) {
        // Doubles here are spaced 0.25 apart, so N.25 and N.75 are exact and
        // need 17 digits; N.25 is as close to N.2 as to N.3 (and N.75 to N.7
        // and N.8), and ECMAScript picks the even one.
        let (fraction, digit) = if three_quarters { (0.75, 8) } else { (0.25, 2) };
        let x = whole as f64 + fraction;
        prop_assert_eq!(number_text(x), format!("{whole}.{digit}"));
        prop_assert_eq!(number_text(-x), format!("-{whole}.{digit}"));
    }

    #[test]
    fn utf16_comparison_agrees_with_comparing_encoded_units(a in arb_string(), b in arb_string()) {
        let oracle = a.encode_utf16().cmp(b.encode_utf16());
        prop_assert_eq!(cmp_utf16(&a, &b), oracle);
        let prefixed = (format!("k{a}"), format!("k{b}"));
        prop_assert_eq!(cmp_utf16(&prefixed.0, &prefixed.1), oracle);
    }

    #[test]
    fn the_first_repeated_member_name_is_reported_at_its_offset(
        names in prop::collection::vec(prop::sample::select(vec!["a", "b", "\\u0061", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z1", "z2", "z3", "z4", "z5", "z6"]), 0..40)
    ) {
        let mut text = String::from("{");
        let mut seen = Vec::new();
        let mut first_repeat = None;
        for (index, name) in names.iter().enumerate() {
            if index > 0 {
                text.push(',');
            }
            let unescaped = name.replace("\\u0061", "a");
            if first_repeat.is_none() && seen.contains(&unescaped) {
                first_repeat = Some((unescaped.clone(), text.len()));
            }
            seen.push(unescaped);
            text.push_str(&format!("\"{name}\":0"));
        }
        text.push('}');
        match first_repeat {
            Some((name, offset)) => prop_assert_eq!(
                cause_of(text.as_bytes()),
                (ErrorCause::DuplicateKey(name), offset)
            ),
            None => prop_assert!(parse(text.as_bytes()).is_ok()),
        }
    }

    #[test]
    fn canonicalize_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(canonical) = canonicalize(&bytes) {
            prop_assert_eq!(canonicalize(&canonical).unwrap(), canonical);
        }
    }

    #[test]
    fn canonicalize_never_panics_on_corrupted_json(
        value in arb_value(),
        position in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        action in 0u8..3,
    ) {
        let mut bytes = value.to_canonical_bytes();
        let at = position.index(bytes.len() + 1);
        match action {
            0 => bytes.insert(at, byte),
            1 if at < bytes.len() => bytes[at] = byte,
            _ if at < bytes.len() => { bytes.remove(at); }
            _ => bytes.push(byte),
        }
        if let Ok(canonical) = canonicalize(&bytes) {
            prop_assert_eq!(canonicalize(&canonical).unwrap(), canonical);
        }
    }
}
