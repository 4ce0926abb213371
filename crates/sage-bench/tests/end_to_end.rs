//! Short runs against an in-process node on SQLite in a temporary
//! directory: every request a real protocol exchange, and a report whose
//! figures say so.

use std::path::Path;

use sage_bench::cli::{RunArgs, run_scenario, write_reports};
use sage_bench::compare::compare;
use sage_bench::report::Report;
use sage_bench::scenario::Operation;

/// One node at a time: the node's process-wide Prometheus recorder is
/// installed by the first node to start, and two starting at once can
/// leave the second with a handle that renders nothing.
static ONE_NODE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn args(scenario: &Path, out: &Path) -> RunArgs {
    RunArgs {
        scenario: scenario.to_path_buf(),
        url: None,
        database_url: None,
        spawn_node: true,
        token: None,
        echo_url: None,
        metrics_url: None,
        duration: None,
        out: out.to_path_buf(),
        quiet: true,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_mixed_run_of_every_operation_has_no_error_and_a_full_report() {
    let _serial = ONE_NODE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("smoke.yaml");
    std::fs::write(
        &scenario,
        "version: 1\nname: smoke\nstages:\n  - { duration: 2s, agents: 2 }\n  - { duration: 2s, agents: 4 }\n\
         mix: { send: 6, resolve: 2, renew: 1, handshake: 1, echo: 1 }\n\
         payload:\n  - { bytes: 64, weight: 3 }\n  - { bytes: 16384, weight: 1 }\n\
         think_time: { min: 0ms, max: 5ms }\nsession: { max_messages: 20 }\n\
         thresholds:\n  max_error_rate: 0.0\n  operations:\n    send: { p99: 10s, min_throughput: 1 }\n",
    )
    .unwrap();
    let report = run_scenario(&args(&scenario, dir.path())).await.unwrap();

    assert!(report.passed, "{:#?}", report.thresholds);
    for operation in Operation::ALL {
        let summary = report
            .operations
            .get(&operation)
            .unwrap_or_else(|| panic!("{operation} never ran"));
        assert!(summary.ok > 0, "{operation}: {summary:?}");
        assert!(
            summary.errors.is_empty(),
            "{operation}: {:?}",
            summary.errors
        );
        assert!(summary.latency_ms.p50 > 0.0 && summary.latency_ms.p50 <= summary.latency_ms.max);
    }
    assert!(!report.series.is_empty());
    assert!(report.histograms.contains_key(&Operation::Send));
    assert!(report.target.in_process);
    assert_eq!(report.target.database, "sqlite");
    assert!(
        !report.node_metrics.after.is_empty(),
        "the node's /metrics were not scraped"
    );
    assert!(!report.node_metrics.delta.is_empty());

    let (json, html) = write_reports(&report, dir.path()).unwrap();
    let read = Report::read(&json).unwrap();
    for (operation, summary) in &report.operations {
        assert_eq!(read.operations[operation].count, summary.count);
        assert_eq!(
            read.operations[operation].latency_ms.p99,
            summary.latency_ms.p99
        );
    }
    assert!(!compare(&read, &report, 0.0).has_regression());
    let page = std::fs::read_to_string(html).unwrap();
    assert!(page.matches("<svg").count() >= 3, "plots missing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_model_run_starts_requests_at_the_arrival_rate() {
    let _serial = ONE_NODE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("open.yaml");
    std::fs::write(
        &scenario,
        "version: 1\nname: open\nstages:\n  - { duration: 3s, agents: 4, arrival_rate: 20 }\n\
         mix: { send: 1 }\nthresholds:\n  max_error_rate: 0.0\n",
    )
    .unwrap();
    let report = run_scenario(&args(&scenario, dir.path())).await.unwrap();
    assert!(report.passed, "{:#?}", report.operations);
    let send = &report.operations[&Operation::Send];
    // 60 arrivals planned; the last ones may end after the window.
    assert!((50..=60).contains(&send.count), "{send:?}");
    assert!(send.errors.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_reached_by_url_and_database_is_driven_like_a_spawned_one() {
    use sage_config::{SageConfig, Secret};
    use sage_node::server::{self, NodeOptions};

    let _serial = ONE_NODE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}/sage.db", dir.path().display());
    let token = "end-to-end-management-token-0123456789";
    let mut config = SageConfig::default();
    config.storage.data_dir = dir.path().to_path_buf();
    config.database.url = database_url.parse().unwrap();
    config.server.listen = "127.0.0.1:0".parse().unwrap();
    config.management.token = Some(Secret::env("E2E_TOKEN").unwrap());
    let mut options = NodeOptions::new(config);
    options.env_vars = [("E2E_TOKEN", token)].into_iter().collect();
    let node = server::start(options).await.unwrap();
    let node_did = node.did().as_str().to_owned();

    let scenario = dir.path().join("external.yaml");
    std::fs::write(
        &scenario,
        "version: 1\nname: external\nstages:\n  - { duration: 2s, agents: 3 }\n\
         mix: { send: 3, resolve: 1 }\nthresholds:\n  max_error_rate: 0.0\n",
    )
    .unwrap();
    let mut run = args(&scenario, dir.path());
    run.spawn_node = false;
    run.url = Some(format!("http://{}", node.local_addr()));
    run.database_url = Some(database_url);
    run.token = Some(token.to_owned());
    let report = run_scenario(&run).await.unwrap();
    node.shutdown().await.unwrap();

    assert!(report.passed, "{:#?}", report.operations);
    assert!(!report.target.in_process);
    assert_eq!(
        report.target.node_did, node_did,
        "the DID is read from the agent card"
    );
    for operation in [Operation::Handshake, Operation::Send, Operation::Resolve] {
        assert!(report.operations[&operation].ok > 0, "{operation}");
    }
}
