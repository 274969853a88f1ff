namespace Fleetkey.Services.Audit;

/// <summary>
/// A request to record: what the audit trail keeps of it (see <see cref="Storage.AuditRecord"/>), before
/// the trail numbers and chains it. Never a secret, a private key or a signature.
/// </summary>
public sealed record AuditEntry(
    DateTimeOffset RecordedAt,
    string RequestId,
    string Channel,
    string? AccessKeyId,
    string Operation,
    IReadOnlyList<string> Resources,
    string? Source,
    string? UserAgent,
    int Status,
    string? ErrorCode)
{
    public const string Api = "api";
    public const string Cli = "cli";

    /// <summary>The longest text kept of a client-chosen value (user agent, operation of an unmatched route).</summary>
    public const int MaxText = 512;
}
