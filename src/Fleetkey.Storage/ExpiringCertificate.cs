namespace Fleetkey.Storage;

/// <summary>
/// A certificate as the expiry list shows it: its id, status, end of validity, the CA it was registered
/// under (null for one registered without a CA) and the things it is attached to, in byte order.
/// </summary>
public sealed record ExpiringCertificate(string CertificateId, string Status, DateTimeOffset NotAfter, string? CaCertificateId, IReadOnlyList<string> ThingNames);
