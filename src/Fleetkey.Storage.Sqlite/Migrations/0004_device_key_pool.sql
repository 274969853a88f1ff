-- Fleetkey schema 4: device keys generated ahead of demand (RSA-2048 takes ~0.3 s of CPU a key), so
-- that a burst of CreateKeysAndCertificate only signs. Each row is handed out once: taking a key
-- deletes its row. key_data is PKCS#8 DER, or, with kek_salt set, that DER sealed with AES-256-GCM
-- under a key derived from the CA passphrase and kek_salt.

CREATE TABLE device_key_pool (
    id          INTEGER PRIMARY KEY,
    algorithm   TEXT NOT NULL,
    key_data    BLOB NOT NULL,
    kek_salt    BLOB,
    created_at  BIGINT NOT NULL
);

CREATE INDEX device_key_pool_by_algorithm ON device_key_pool (algorithm, id);
