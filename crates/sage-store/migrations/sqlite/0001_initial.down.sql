-- Reverts 0001_initial: drops every table it created (their indexes go with them).
DROP TABLE did_keys;
DROP TABLE dids;
DROP TABLE nonces;
DROP TABLE sessions;
