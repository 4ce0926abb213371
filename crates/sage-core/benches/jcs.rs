//! JCS throughput: strict parse + RFC 8785 serialisation (PROTOCOL.md §4).
//!
//! `canonicalize/agent-card-like` is the sage-spec vector input (about
//! 0.6 KiB, the shape a verifier canonicalises per card); `object-4k` is a
//! ~4 KiB object with unsorted members, escapes, nested arrays and
//! non-integer numbers, built here so the bench needs no extra files.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sage_core::jcs;

const JCS_VECTORS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../vectors/sage-spec/jcs.json"
));

fn agent_card_input() -> Vec<u8> {
    let file: serde_json::Value = serde_json::from_str(JCS_VECTORS).expect("jcs.json parses");
    file["vectors"]
        .as_array()
        .and_then(|vectors| vectors.iter().find(|v| v["name"] == "agent-card-like"))
        .and_then(|vector| vector["input"]["json"].as_str())
        .expect("agent-card-like vector present")
        .as_bytes()
        .to_vec()
}

/// About 4 KiB of JSON, members in reverse canonical order.
fn object_4k_input() -> Vec<u8> {
    let mut text = String::from("{");
    let mut index: u32 = 99;
    while text.len() < 4000 {
        if text.len() > 1 {
            text.push(',');
        }
        text.push_str(&format!(
            "\"member_{index:02}\":{{\"label\":\"caf\\u00e9 \\\"{index}\\\"\\n\",\
             \"weight\":{weight},\"ids\":[{index},{big},-{index}.25e-3],\"ok\":true}}",
            weight = f64::from(index) / 7.0,
            big = u64::from(index) * 1_000_000_007,
        ));
        index -= 1;
    }
    text.push('}');
    text.into_bytes()
}

fn bench_canonicalize(c: &mut Criterion) {
    let mut group = c.benchmark_group("canonicalize");
    for (name, input) in [
        ("agent-card-like", agent_card_input()),
        ("object-4k", object_4k_input()),
    ] {
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| jcs::canonicalize(black_box(&input)).expect("bench input is valid"));
        });
    }
    group.finish();

    let built: serde_json::Value =
        serde_json::from_slice(&object_4k_input()).expect("object-4k is valid JSON");
    c.bench_function("canonicalize_serde/object-4k", |b| {
        b.iter(|| jcs::canonicalize_serde(black_box(&built)));
    });
}

criterion_group!(benches, bench_canonicalize);
criterion_main!(benches);
