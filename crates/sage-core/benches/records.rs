//! Session record throughput (PROTOCOL.md §7.1.3): seal, open, and both, at
//! 64 B, 1 KiB and 64 KiB of plaintext.
//!
//! The sessions rotate keys every 256 records (the default), so the cost of
//! deriving a generation key is included, amortised as in real traffic.
//! Lifetime limits are off, so the benches can run any number of records.
//! `open` gets a fresh record for every iteration (built outside the timed
//! part), because the replay window accepts each record once.

use std::hint::black_box;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sage_core::rand_core::{TryCryptoRng, TryRng};
use sage_core::session::{Role, Session, SessionConfig, SessionPolicy, SessionSeed};
use sage_core::time::Timestamp;
use sage_core::version::ProtocolVersion;

const SIZES: [usize; 3] = [64, 1024, 64 * 1024];

/// A counter posing as a CSPRNG, so that the benches time the record layer
/// and not the operating system's RNG. Never use it outside a benchmark:
/// its "nonces" are predictable.
struct BenchNonces(u64);

impl TryRng for BenchNonces {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 = self.0.wrapping_add(1);
        Ok(self.0)
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let word = self.try_next_u64()?.to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        Ok(())
    }
}

impl TryCryptoRng for BenchNonces {}

fn now() -> Timestamp {
    Timestamp::from_unix_seconds(1_767_225_600)
}

fn pair() -> (Session, Session) {
    let config = SessionConfig {
        rekey_interval: SessionConfig::DEFAULT_REKEY_INTERVAL,
        policy: SessionPolicy {
            max_age: core::time::Duration::ZERO,
            idle_timeout: core::time::Duration::ZERO,
            max_messages: 0,
        },
    };
    let seed = [0x5a; 32];
    let version = ProtocolVersion::V1Draft1;
    let a = Session::from_handshake_seed(
        version,
        Role::Initiator,
        SessionSeed::from_bytes(seed),
        config,
        now(),
    );
    let b = Session::from_handshake_seed(
        version,
        Role::Responder,
        SessionSeed::from_bytes(seed),
        config,
        now(),
    );
    (a, b)
}

fn records(c: &mut Criterion) {
    let mut group = c.benchmark_group("records");
    for size in SIZES {
        let plaintext = vec![0xab_u8; size];
        group.throughput(Throughput::Bytes(size as u64));
        let batch = if size > 4096 {
            BatchSize::LargeInput
        } else {
            BatchSize::SmallInput
        };

        group.bench_with_input(BenchmarkId::new("seal", size), &plaintext, |bench, pt| {
            let (mut sender, _) = pair();
            let mut rng = BenchNonces(0);
            bench.iter(|| {
                sender
                    .encrypt(&mut rng, now(), black_box(pt))
                    .expect("seal")
            });
        });

        group.bench_with_input(BenchmarkId::new("open", size), &plaintext, |bench, pt| {
            let (mut sender, mut receiver) = pair();
            let mut rng = BenchNonces(0);
            bench.iter_batched(
                || sender.encrypt(&mut rng, now(), pt).expect("seal"),
                |record| receiver.decrypt(now(), black_box(&record)).expect("open"),
                batch,
            );
        });

        group.bench_with_input(
            BenchmarkId::new("seal+open", size),
            &plaintext,
            |bench, pt| {
                let (mut sender, mut receiver) = pair();
                let mut rng = BenchNonces(0);
                bench.iter(|| {
                    let record = sender
                        .encrypt(&mut rng, now(), black_box(pt))
                        .expect("seal");
                    receiver.decrypt(now(), &record).expect("open")
                });
            },
        );
    }
    group.finish();
}

criterion_group!(benches, records);
criterion_main!(benches);
