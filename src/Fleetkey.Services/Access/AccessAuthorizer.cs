using Fleetkey.Core.Errors;
using Fleetkey.Core.Registry;
using Fleetkey.Policies;

namespace Fleetkey.Services.Access;

/// <summary>The request an access key's policies are asked about: one action on each of its resources, in a context.</summary>
/// <param name="Resources">The resource ARNs the action names; empty: the action applies to <c>*</c>.</param>
/// <param name="Context">Condition keys (aws:SourceIp, aws:CurrentTime, …) and policy variables by name, without <c>${}</c>.</param>
public sealed record AccessRequest(string Action, IReadOnlyList<string> Resources, IReadOnlyDictionary<string, string> Context);

/// <summary>The answer: allowed, or which resource was refused and whether an explicit Deny did it.</summary>
public sealed record AccessDecision(PolicyDecision Decision, string? RefusedResource)
{
    public static readonly AccessDecision Allowed = new(PolicyDecision.Allowed, null);

    public bool IsAllowed => Decision == PolicyDecision.Allowed;
}

/// <summary>
/// Decides a control-plane request with IAM's evaluation logic: the root key may do everything; any other
/// key is allowed an action only where one of its policies allows it on every resource the request names,
/// and no statement of any of them denies it (an explicit Deny wins).
/// </summary>
public static class AccessAuthorizer
{
    private static readonly string[] AnyResource = ["*"];

    public static AccessDecision Decide(AccessKey key, AccessRequest request)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(request);
        if (key.FullAccess)
        {
            return AccessDecision.Allowed;
        }

        var documents = new PolicyDocument[key.Policies.Count];
        for (var i = 0; i < documents.Length; i++)
        {
            documents[i] = IdentityPolicies.Parse(key.Policies[i].Document);
        }

        var resources = request.Resources.Count == 0 ? AnyResource : request.Resources;
        AccessDecision? implicitDeny = null;
        foreach (var resource in resources)
        {
            switch (PolicyEvaluator.Decide(documents, request.Action, resource, request.Context))
            {
                case PolicyDecision.ExplicitDeny:
                    return new AccessDecision(PolicyDecision.ExplicitDeny, resource);
                case PolicyDecision.ImplicitDeny:
                    implicitDeny ??= new AccessDecision(PolicyDecision.ImplicitDeny, resource);
                    break;
            }
        }

        return implicitDeny ?? AccessDecision.Allowed;
    }

    /// <summary>The principal ARN of a key, as AWS names an IAM user in its messages.</summary>
    public static string PrincipalArn(string accountId, string accessKeyId) => $"arn:aws:iam::{accountId}:user/{accessKeyId}";

    /// <summary>The refusal, worded as AWS words it (403 AccessDeniedException).</summary>
    public static ServiceException Refusal(string principalArn, string action, AccessDecision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        var on = decision.RefusedResource is null or "*" ? string.Empty : $" on resource: {decision.RefusedResource}";
        var because = decision.Decision == PolicyDecision.ExplicitDeny
            ? "with an explicit deny in an identity-based policy"
            : $"because no identity-based policy allows the {action} action";
        return new ServiceException(ErrorCode.AccessDenied, $"User: {principalArn} is not authorized to perform: {action}{on} {because}");
    }
}
