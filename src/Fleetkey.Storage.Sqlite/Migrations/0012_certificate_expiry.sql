-- Fleetkey schema 12: certificates by expiry (issue 19).
--
-- `fleetkey certificates expiring`, ListExpiringCertificates and the fleetkey_certificates_expiring
-- gauge read certificates whose not_after falls in a window: without an index each of them (the gauge
-- once a minute on every node) read the whole table. The id makes the order total, so a page resumes
-- with a seek on (not_after, certificate_id).
CREATE INDEX ix_certificates_not_after ON certificates (not_after, certificate_id);
