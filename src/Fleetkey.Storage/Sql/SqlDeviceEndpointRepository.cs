using System.Data.Common;
using System.Globalization;

namespace Fleetkey.Storage.Sql;

internal sealed class SqlDeviceEndpointRepository(SqlSession session) : IDeviceEndpointRepository
{
    public async Task<bool> IsSignatureUsedAsync(string signatureHash, CancellationToken cancellationToken) =>
        await session.ScalarAsync("SELECT 1 FROM device_signatures WHERE signature_hash = @hash", cancellationToken, ("@hash", signatureHash)) is not null;

    // ON CONFLICT rather than catching the unique violation: on PostgreSQL an error ends the
    // transaction, and the registration this guards runs in the same one.
    public async Task<bool> TryUseSignatureAsync(string signatureHash, DateTimeOffset expiresAt, CancellationToken cancellationToken) =>
        await session.ExecuteAsync(
            "INSERT INTO device_signatures (signature_hash, expires_at) VALUES (@hash, @expires) ON CONFLICT (signature_hash) DO NOTHING",
            cancellationToken,
            ("@hash", signatureHash), ("@expires", SqlValues.ToDb(expiresAt))) == 1;

    public Task<int> PruneSignaturesAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        session.ExecuteAsync("DELETE FROM device_signatures WHERE expires_at < @now", cancellationToken, ("@now", SqlValues.ToDb(now)));

    private const string RegistrationColumns = "certificate_id, serial_number, registered_at, first_connected_at";

    private static DeviceRegistration MapRegistration(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), SqlValues.Instant(r, 2), SqlValues.NullableInstant(r, 3));

    public Task InsertRegistrationAsync(DeviceRegistration registration, CancellationToken cancellationToken) =>
        session.ExecuteAsync(
            $"INSERT INTO device_registrations ({RegistrationColumns}) VALUES (@id, @serial, @at, @connected)",
            cancellationToken,
            ("@id", registration.CertificateId), ("@serial", registration.SerialNumber),
            ("@at", SqlValues.ToDb(registration.RegisteredAt)), ("@connected", SqlValues.ToDb(registration.FirstConnectedAt)));

    public Task<DeviceRegistration?> GetLatestRegistrationAsync(string serialNumber, CancellationToken cancellationToken) =>
        session.QuerySingleAsync(
            $"SELECT {RegistrationColumns} FROM device_registrations WHERE serial_number = @serial ORDER BY registered_at DESC, certificate_id DESC LIMIT 1",
            MapRegistration, cancellationToken, ("@serial", serialNumber));

    public Task<DeviceRegistration?> GetRegistrationAsync(string certificateId, CancellationToken cancellationToken) =>
        session.QuerySingleAsync(
            $"SELECT {RegistrationColumns} FROM device_registrations WHERE certificate_id = @id",
            MapRegistration, cancellationToken, ("@id", certificateId));

    public async Task<bool> RecordConnectionAsync(string certificateId, DateTimeOffset at, CancellationToken cancellationToken) =>
        await session.ExecuteAsync(
            "UPDATE device_registrations SET first_connected_at = @at WHERE certificate_id = @id AND first_connected_at IS NULL",
            cancellationToken,
            ("@at", SqlValues.ToDb(at)), ("@id", certificateId)) == 1;

    private const string AttemptColumns = "attempt_id, attempted_at, serial_number, source_address, outcome, reason, certificate_id, authenticated";

    public Task InsertAttemptAsync(DeviceAttempt attempt, CancellationToken cancellationToken) =>
        session.ExecuteAsync(
            $"INSERT INTO device_attempts ({AttemptColumns}) VALUES (@id, @at, @serial, @address, @outcome, @reason, @certificate, @authenticated)",
            cancellationToken,
            ("@id", Text(attempt.AttemptId)), ("@at", SqlValues.ToDb(attempt.AttemptedAt)), ("@serial", attempt.SerialNumber),
            ("@address", attempt.SourceAddress), ("@outcome", attempt.Outcome), ("@reason", attempt.Reason), ("@certificate", attempt.CertificateId),
            ("@authenticated", attempt.Authenticated ? 1L : 0L));

    public Task MarkAuthenticatedAsync(Guid attemptId, CancellationToken cancellationToken) =>
        session.ExecuteAsync("UPDATE device_attempts SET authenticated = 1 WHERE attempt_id = @id", cancellationToken, ("@id", Text(attemptId)));

    public Task UpdateAttemptAsync(Guid attemptId, string outcome, string? reason, string? certificateId, CancellationToken cancellationToken) =>
        session.ExecuteAsync(
            "UPDATE device_attempts SET outcome = @outcome, reason = @reason, certificate_id = @certificate WHERE attempt_id = @id",
            cancellationToken,
            ("@outcome", outcome), ("@reason", reason), ("@certificate", certificateId), ("@id", Text(attemptId)));

    // The literal "authenticated = 1" lets both databases use the partial index ix_device_attempts_serial_authenticated,
    // which holds no row of an unauthenticated attempt, however many an attacker made for the serial.
    internal const string CountAuthenticatedSql =
        "SELECT COUNT(*), MIN(attempted_at) FROM device_attempts WHERE serial_number = @value AND authenticated = 1 AND attempted_at > @since";

    // Served by ix_device_attempts_address: a range scan over the window only.
    internal const string CountAddressSql =
        "SELECT COUNT(*), MIN(attempted_at) FROM device_attempts WHERE source_address = @value AND attempted_at > @since AND outcome <> @excluded";

    public Task<AttemptWindow> CountAuthenticatedAttemptsAsync(string serialNumber, DateTimeOffset since, CancellationToken cancellationToken) =>
        CountAsync(CountAuthenticatedSql, cancellationToken, ("@value", serialNumber), ("@since", SqlValues.ToDb(since)));

    public Task<AttemptWindow> CountAddressAttemptsAsync(string sourceAddress, DateTimeOffset since, string excludedOutcome, CancellationToken cancellationToken) =>
        CountAsync(CountAddressSql, cancellationToken, ("@value", sourceAddress), ("@since", SqlValues.ToDb(since)), ("@excluded", excludedOutcome));

    private async Task<AttemptWindow> CountAsync(string sql, CancellationToken cancellationToken, params (string, object?)[] parameters) =>
        (await session.QuerySingleAsync(
            sql,
            r => new AttemptWindow(Convert.ToInt32(r.GetValue(0), CultureInfo.InvariantCulture), SqlValues.NullableInstant(r, 1)),
            cancellationToken,
            parameters))!;

    public async Task<IReadOnlyList<DeviceAttempt>> ListAttemptsAsync(string? serialNumber, int limit, CancellationToken cancellationToken) =>
        await session.QueryAsync(
            serialNumber is null
                ? $"SELECT {AttemptColumns} FROM device_attempts ORDER BY attempted_at, attempt_id LIMIT @limit"
                : $"SELECT {AttemptColumns} FROM device_attempts WHERE serial_number = @serial ORDER BY attempted_at, attempt_id LIMIT @limit",
            r => new DeviceAttempt(
                Guid.Parse(r.GetString(0)), SqlValues.Instant(r, 1), SqlValues.NullableString(r, 2), r.GetString(3),
                r.GetString(4), SqlValues.NullableString(r, 5), SqlValues.NullableString(r, 6), r.GetInt64(7) != 0),
            cancellationToken,
            serialNumber is null ? [("@limit", limit)] : [("@serial", serialNumber), ("@limit", limit)]);

    public Task<int> PruneAttemptsAsync(DateTimeOffset before, CancellationToken cancellationToken) =>
        session.ExecuteAsync("DELETE FROM device_attempts WHERE attempted_at < @before", cancellationToken, ("@before", SqlValues.ToDb(before)));

    private static string Text(Guid id) => id.ToString("D", CultureInfo.InvariantCulture);
}
