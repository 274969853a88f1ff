namespace Fleetkey.Api.Authentication;

/// <summary>
/// What the audit trail learns about a control-plane request as it passes through the pipeline: set as a
/// request feature by the audit middleware, filled in by SigV4 (the key named, whether a signature was
/// required) and by authorization (the operation's resources).
/// </summary>
internal sealed class RequestAudit
{
    /// <summary>The request needed a signature (not an anonymous route): only those are audited.</summary>
    public bool SignatureRequired { get; set; }

    /// <summary>The key the request named (verified or not).</summary>
    public string? AccessKeyId { get; set; }

    /// <summary>The resource ARNs the request was authorized on (empty: <c>*</c> or not reached).</summary>
    public IReadOnlyList<string> Resources { get; set; } = [];

    /// <summary>Authorization has run for this request.</summary>
    public bool Authorized { get; set; }
}
