-- Reverts 0002_registry: drops the local registry's tables (their indexes go with them).
DROP TABLE registry_history;
DROP TABLE registry_keys;
DROP TABLE registry_records;
