//! Nonce `check_and_store` throughput on one engine, with several tasks.
//!
//! ```text
//! cargo run --release -p sage-store --example nonce_throughput -- [URL] [TASKS] [OPS] [POOL]
//! ```
//!
//! URL defaults to a fresh SQLite file in a temporary directory. For a
//! `postgres://` URL the run works in a fresh schema (`bench_<random>`),
//! dropped at the end. TASKS (default 8) tasks share OPS (default 100000)
//! checks of distinct nonces on a multi-threaded runtime; POOL (default
//! 10) is `max_connections` (for SQLite: the readers; writes use one
//! connection). Prints one line: engine, pool, tasks, operations, seconds
//! and operations per second.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sage_core::replay::ReplayVerdict;
use sage_store::instant::system_now;
use sage_store::{NonceStore, Store, StoreError, StoreOptions};

fn arg<T: std::str::FromStr>(args: &[String], index: usize, default: T) -> T {
    args.get(index)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let tasks: usize = arg(&args, 2, 8).max(1);
    let ops: usize = arg(&args, 3, 100_000).max(tasks);
    let pool: u32 = arg(&args, 4, 10);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let dir = tempfile::tempdir()?;
        let (url, schema) = match args.get(1).filter(|u| !u.is_empty()) {
            Some(url) if url.starts_with("postgres") => {
                let schema = format!("bench_{}", std::process::id());
                let admin = sqlx::PgPool::connect(url).await?;
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                    .execute(&admin)
                    .await?;
                admin.close().await;
                let sep = if url.contains('?') { '&' } else { '?' };
                (
                    format!("{url}{sep}options=-c%20search_path%3D{schema}"),
                    Some((url.clone(), schema)),
                )
            }
            Some(url) => (url.clone(), None),
            None => (
                format!("sqlite://{}", dir.path().join("bench.db").display()),
                None,
            ),
        };
        let mut options = StoreOptions::new(url);
        options.max_connections = pool;
        options.acquire_timeout = Duration::from_secs(30);
        let result = run(&options, tasks, ops).await;
        if let Some((admin_url, schema)) = schema {
            let admin = sqlx::PgPool::connect(&admin_url).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                .execute(&admin)
                .await?;
            admin.close().await;
        }
        result.map_err(|e| e as Box<dyn std::error::Error>)
    })
}

async fn run(
    options: &StoreOptions,
    tasks: usize,
    ops: usize,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let store = Arc::new(Store::connect(options).await?);
    store.migrate_up().await?;
    let now = system_now();
    let expires = now.add_seconds(300);
    // Warm the pool and the statement caches.
    for i in 0..tasks * 4 {
        store
            .check_and_store("warm", &i.to_string(), now, expires)
            .await?;
    }
    let per_task = ops / tasks;
    let started = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for i in 0..per_task {
                    let nonce = format!("{t}-{i}");
                    let verdict = store.check_and_store("bench", &nonce, now, expires).await?;
                    assert_eq!(verdict, ReplayVerdict::Fresh);
                }
                Ok::<_, StoreError>(())
            })
        })
        .collect();
    for handle in handles {
        handle.await??;
    }
    let secs = started.elapsed().as_secs_f64();
    let done = per_task * tasks;
    println!(
        "engine={} pool={} tasks={} ops={} seconds={:.2} ops_per_sec={:.0}",
        store.engine(),
        store.max_connections(),
        tasks,
        done,
        secs,
        done as f64 / secs
    );
    store.close().await;
    Ok(())
}
