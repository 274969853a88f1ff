namespace Fleetkey.Storage;

/// <summary>
/// One recorded request of the audit trail. <see cref="Hash"/> is the chain hash: it covers the previous
/// record's hash and every other member (see <c>Fleetkey.Services.Audit.AuditChain</c>). Never a secret,
/// a private key or a signature. A record to append is made with <see cref="Unnumbered"/>: the trail
/// gives it its sequence number and hash.
/// </summary>
/// <param name="Channel">How the request came: <c>api</c> (the control plane), <c>cli</c> (a fleetkey command on the store).</param>
/// <param name="Resources">The resource ARNs the request named (as authorized), <c>*</c> when it names none.</param>
/// <param name="Source">The request's source address (the CLI: <c>local</c>).</param>
/// <param name="Status">The HTTP status answered (the CLI: 200 or the status its error maps to).</param>
public sealed record AuditRecord(
    long Sequence,
    DateTimeOffset RecordedAt,
    string RequestId,
    string Channel,
    string? AccessKeyId,
    string Operation,
    IReadOnlyList<string> Resources,
    string? Source,
    string? UserAgent,
    int Status,
    string? ErrorCode,
    string Hash)
{
    public const string Api = "api";
    public const string Cli = "cli";

    /// <summary>The longest text kept of a client-chosen value (user agent, operation of an unmatched route).</summary>
    public const int MaxText = 512;

    public static AuditRecord Unnumbered(
        DateTimeOffset recordedAt, string requestId, string channel, string? accessKeyId, string operation, IReadOnlyList<string> resources,
        string? source, string? userAgent, int status, string? errorCode) =>
        new(0, recordedAt, requestId, channel, accessKeyId, operation, resources, source, userAgent, status, errorCode, string.Empty);
}

/// <summary>The chain's ends: the last record written, and the anchor the first kept record chains to (pruned records' last hash).</summary>
public sealed record AuditChainState(long LastSequence, string LastHash, long AnchorSequence, string AnchorHash);

/// <summary>What <c>fleetkey audit</c> asks for; every filter optional, combined with AND.</summary>
public sealed record AuditQuery(
    DateTimeOffset? Since = null,
    DateTimeOffset? Until = null,
    string? AccessKeyId = null,
    string? Operation = null,
    string? Resource = null,
    AuditOutcome? Outcome = null);

public enum AuditOutcome
{
    /// <summary>Answered 2xx.</summary>
    Succeeded,

    /// <summary>Refused: 401/403 (bad signature, unknown or disabled key, access denied).</summary>
    Denied,

    /// <summary>Any other error.</summary>
    Failed,
}

public interface IAuditRepository
{
    /// <summary>The chain's state (to verify it).</summary>
    Task<AuditChainState> ChainAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The chain's state, taken for an append in this write transaction: the head row is locked until it ends,
    /// so that another node's append waits and then retries from the new head (PostgreSQL answers it with a
    /// serialization failure, which the store retries, rather than a duplicate sequence number).
    /// </summary>
    Task<AuditChainState> ChainForAppendAsync(CancellationToken cancellationToken);

    /// <summary>Appends records (their sequence numbers and hashes already set, continuing the chain) and moves the head to the last.</summary>
    Task AppendAsync(IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken);

    /// <summary>Records matching <paramref name="query"/> with a sequence above <paramref name="afterSequence"/>, oldest first, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<AuditRecord>> QueryAsync(AuditQuery query, long afterSequence, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes up to <paramref name="limit"/> of the oldest records recorded before <paramref name="before"/>
    /// and moves the anchor to the last one deleted; returns how many.
    /// </summary>
    Task<int> PruneAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken);
}
