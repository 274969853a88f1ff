namespace Fleetkey.Policies;

// The public surface of policy documents: AWS IoT policies (the broker's device permissions) and
// identity policies (control-plane access keys), one grammar read in two dialects, decided by one evaluator.

/// <summary>Which policies a document is read as: the grammar is IAM's for both, the vendors and limits differ.</summary>
public enum PolicyDialect
{
    /// <summary>An AWS IoT policy: iot: and greengrass: actions, at most 2,048 characters by default.</summary>
    IotPolicy,

    /// <summary>
    /// An IAM-style identity policy on a control-plane access key: iot: and fleetkey: actions, at most
    /// 6,144 characters, and IP, numeric and date condition values that must read as such.
    /// </summary>
    IdentityPolicy,
}

public enum PolicyEffect
{
    Allow,
    Deny,
}

/// <summary>The outcome of evaluating policies for one action on one resource.</summary>
public enum PolicyDecision
{
    Allowed,
    ExplicitDeny,
    ImplicitDeny,
}

public sealed record PolicyStatement(
    string? Sid,
    PolicyEffect Effect,
    IReadOnlyList<string> Actions,
    IReadOnlyList<string> NotActions,
    IReadOnlyList<string> Resources,
    IReadOnlyList<string> NotResources,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, IReadOnlyList<string>>> Conditions);

public sealed record PolicyDocument(string Version, IReadOnlyList<PolicyStatement> Statements);

/// <summary>A document that is not a valid policy of its dialect; the message says why (MalformedPolicyException).</summary>
public sealed class PolicyDocumentException(string message) : Exception(message);
