namespace Fleetkey.Storage;

/// <summary>The device endpoint's state: used signatures (replay), issued certificates and the audit log.</summary>
public interface IDeviceEndpointRepository
{
    /// <summary>Whether a signature (by its replay key) was already accepted.</summary>
    Task<bool> IsSignatureUsedAsync(string signatureHash, CancellationToken cancellationToken);

    /// <summary>
    /// Records a signature as used until <paramref name="expiresAt"/>; false when it already was (by
    /// this node or another: the key is unique in the database).
    /// </summary>
    Task<bool> TryUseSignatureAsync(string signatureHash, DateTimeOffset expiresAt, CancellationToken cancellationToken);

    /// <summary>Deletes the signatures that expired before <paramref name="now"/>.</summary>
    Task<int> PruneSignaturesAsync(DateTimeOffset now, CancellationToken cancellationToken);

    Task InsertRegistrationAsync(DeviceRegistration registration, CancellationToken cancellationToken);

    /// <summary>The serial's most recent registration, or null.</summary>
    Task<DeviceRegistration?> GetLatestRegistrationAsync(string serialNumber, CancellationToken cancellationToken);

    Task<DeviceRegistration?> GetRegistrationAsync(string certificateId, CancellationToken cancellationToken);

    /// <summary>Sets the first connection time of a certificate the endpoint issued, once; false when unknown or already set.</summary>
    Task<bool> RecordConnectionAsync(string certificateId, DateTimeOffset at, CancellationToken cancellationToken);

    Task InsertAttemptAsync(DeviceAttempt attempt, CancellationToken cancellationToken);

    /// <summary>Sets the outcome of an attempt recorded when it started.</summary>
    Task UpdateAttemptAsync(Guid attemptId, string outcome, string? reason, string? certificateId, CancellationToken cancellationToken);

    /// <summary>Marks an attempt as authenticated: from then on it counts against its serial number's rate.</summary>
    Task MarkAuthenticatedAsync(Guid attemptId, CancellationToken cancellationToken);

    /// <summary>Authenticated attempts for a serial after an instant (unauthenticated ones never count against a serial).</summary>
    Task<AttemptWindow> CountAuthenticatedAttemptsAsync(string serialNumber, DateTimeOffset since, CancellationToken cancellationToken);

    /// <summary>Attempts from a source address after an instant, not counting those with outcome <paramref name="excludedOutcome"/>.</summary>
    Task<AttemptWindow> CountAddressAttemptsAsync(string sourceAddress, DateTimeOffset since, string excludedOutcome, CancellationToken cancellationToken);

    /// <summary>The audit log, oldest first, optionally of one serial.</summary>
    Task<IReadOnlyList<DeviceAttempt>> ListAttemptsAsync(string? serialNumber, int limit, CancellationToken cancellationToken);

    /// <summary>Deletes audit rows made before <paramref name="before"/>.</summary>
    Task<int> PruneAttemptsAsync(DateTimeOffset before, CancellationToken cancellationToken);
}
