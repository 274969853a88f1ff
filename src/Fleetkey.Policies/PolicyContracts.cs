namespace Fleetkey.Policies;

// The public surface of IoT policy documents: parse and validate now; evaluation for the broker later.

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

/// <summary>A document that is not a valid IoT policy; the message says why (MalformedPolicyException).</summary>
public sealed class PolicyDocumentException(string message) : Exception(message);
