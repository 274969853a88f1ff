-- Fleetkey schema 14: renewals over EST (issue 19).
--
-- certificate_renewals: a certificate renewed by simplereenroll (old_certificate_id) and the one that
-- replaced it. The old one stays ACTIVE until the new one first connects to the broker (the device
-- has it installed) or until deactivate_at (the grace period), whichever comes first; then it goes
-- INACTIVE and its row is deleted. One renewal per certificate at a time, either way round.
CREATE TABLE certificate_renewals (
    old_certificate_id TEXT NOT NULL PRIMARY KEY,
    new_certificate_id TEXT NOT NULL UNIQUE,
    renewed_at         INTEGER NOT NULL,
    deactivate_at      INTEGER NOT NULL
);
CREATE INDEX ix_certificate_renewals_deactivate_at ON certificate_renewals (deactivate_at);
