//! Seed data: real keys, valid proofs, the right agents per environment.

use sage_core::version::ProtocolVersion;
use sage_store::seed::{seed, seed_records};
use sage_store::{DidStore, Environment, PageRequest, StoreError};

use crate::common::{T0, TestDb, rng};

#[test]
fn seeded_records_carry_real_keys_and_valid_proofs_of_possession() {
    let labels = ProtocolVersion::V1Draft1.labels();
    for environment in [Environment::Development, Environment::Staging] {
        let records = seed_records(environment, &mut rng(), T0).unwrap();
        assert!(!records.is_empty());
        for (record, _) in &records {
            let json = record.to_json().unwrap();
            assert_eq!(
                &sage_core::did::AgentRecord::from_json(json.as_bytes()).unwrap(),
                record
            );
            assert!(record.verify_pops(labels).all_hold(), "{}", record.did);
            if record.is_active {
                record.select_proven_keys(labels).unwrap();
            }
            assert!(record.owner.starts_with("0x") && record.owner.len() == 42);
        }
    }
    assert!(matches!(
        seed_records(Environment::Production, &mut rng(), T0),
        Err(StoreError::NoSeedData {
            environment: "production"
        })
    ));
}

#[test]
fn two_seedings_generate_different_keys() {
    let a = seed_records(Environment::Staging, &mut rng(), T0).unwrap();
    let b = seed_records(Environment::Staging, &mut rng(), T0).unwrap();
    assert_eq!(a[0].0.did, b[0].0.did);
    assert_ne!(a[0].0.keys[0].key_data, b[0].0.keys[0].key_data);
}

async fn seeding_writes_the_environment_agents(db: &TestDb) {
    let store = db.open().await;
    let report = seed(&store, Environment::Development, &mut rng(), T0)
        .await
        .unwrap();
    let names: Vec<&str> = report.agents.iter().map(|a| a.did.identifier()).collect();
    assert_eq!(names, ["dev-alice", "dev-bob", "dev-carol", "dev-mallory"]);
    for agent in &report.agents {
        let entry = store
            .get(&agent.did, T0.add_seconds(86_400))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(entry.revoked, agent.revoked);
        assert_eq!(entry.record.is_active, agent.active);
    }
    let owned = store
        .list_by_owner(&report.agents[0].owner, T0, &PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(owned.items.len(), 2);
    // Seeding again replaces the records; the revoked one stays revoked.
    seed(
        &store,
        Environment::Development,
        &mut rng(),
        T0.add_seconds(1),
    )
    .await
    .unwrap();
    let mallory = store.get(&report.agents[3].did, T0).await.unwrap().unwrap();
    assert!(mallory.revoked);
    let staging = seed(&store, Environment::Staging, &mut rng(), T0)
        .await
        .unwrap();
    assert_eq!(staging.agents.len(), 2);
    assert!(
        seed(&store, Environment::Production, &mut rng(), T0)
            .await
            .is_err()
    );
}

both_engines!(seeding_writes_the_environment_agents);
