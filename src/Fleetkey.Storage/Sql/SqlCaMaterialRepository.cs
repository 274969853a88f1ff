namespace Fleetkey.Storage.Sql;

internal sealed class SqlCaMaterialRepository(SqlSession session) : ICaMaterialRepository
{
    public Task<StoredCaMaterial?> GetAsync(CancellationToken cancellationToken) =>
        session.QuerySingleAsync(
            "SELECT root_certificate_pem, root_key_pem, issuing_certificate_pem, issuing_key_pem, keys_encrypted FROM ca_material WHERE id = 1",
            r => new StoredCaMaterial(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt64(4) != 0),
            cancellationToken);

    public async Task<bool> TryInsertAsync(StoredCaMaterial material, DateTimeOffset at, CancellationToken cancellationToken) =>
        await session.ExecuteAsync(
            "INSERT INTO ca_material (id, root_certificate_pem, root_key_pem, issuing_certificate_pem, issuing_key_pem, keys_encrypted, created_at) "
            + "VALUES (1, @rootCert, @rootKey, @issuingCert, @issuingKey, @encrypted, @at) ON CONFLICT DO NOTHING",
            cancellationToken,
            ("@rootCert", material.RootCertificatePem), ("@rootKey", material.RootKeyPem), ("@issuingCert", material.IssuingCertificatePem),
            ("@issuingKey", material.IssuingKeyPem), ("@encrypted", material.KeysEncrypted ? 1 : 0), ("@at", SqlValues.ToDb(at))) > 0;

    public async Task<bool> UpdateKeysAsync(StoredCaMaterial material, CancellationToken cancellationToken) =>
        await session.ExecuteAsync(
            "UPDATE ca_material SET root_key_pem = @rootKey, issuing_key_pem = @issuingKey, keys_encrypted = @encrypted "
            + "WHERE id = 1 AND root_certificate_pem = @rootCert AND issuing_certificate_pem = @issuingCert",
            cancellationToken,
            ("@rootCert", material.RootCertificatePem), ("@rootKey", material.RootKeyPem), ("@issuingCert", material.IssuingCertificatePem),
            ("@issuingKey", material.IssuingKeyPem), ("@encrypted", material.KeysEncrypted ? 1 : 0)) > 0;
}
