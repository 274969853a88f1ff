using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Paging;
using Fleetkey.Core.Registry;
using Fleetkey.Policies;
using Fleetkey.Services.Registry;
using Fleetkey.Storage;

namespace Fleetkey.Services.Security;

/// <summary>
/// IoT policies, their versions (at most five) and their attachments to certificates and thing
/// groups. Documents are validated before anything is stored.
/// </summary>
public sealed class PolicyService(IFleetStore store, TimeProvider time)
{
    public const string TagKind = "policy";
    public const int MaxVersions = 5;
    public const int MaxPoliciesPerTarget = 10;

    public sealed record PolicyWithDocument(Policy Policy, PolicyVersion Version);

    public sealed record EffectivePolicy(string PolicyName, string Document);

    public Task<PolicyWithDocument> CreateAsync(string name, string document, IReadOnlyList<Tag>? tags, CancellationToken cancellationToken)
    {
        EnsureDocument(document);
        TagService.EnsureTags(tags ?? [], 0);
        return store.WriteAsync(async (session, ct) =>
        {
            var created = await CreateAsync(session, name, document, ct);
            await session.Tags.SetAsync(TagKind, name, tags ?? [], ct);
            return created;
        }, cancellationToken);
    }

    internal async Task<PolicyWithDocument> CreateAsync(IStoreSession session, string name, string document, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var policy = new Policy(name, 1, 2, now, now, Guid.NewGuid().ToString());
        var version = new PolicyVersion(name, 1, document, now);
        await session.Policies.InsertAsync(policy, version, cancellationToken);
        return new PolicyWithDocument(policy, version);
    }

    /// <summary>Parses a document; a bad one is MalformedPolicyException with the parser's reason.</summary>
    public static void EnsureDocument(string document)
    {
        try
        {
            _ = PolicyDocumentParser.Parse(document);
        }
        catch (PolicyDocumentException exception)
        {
            throw new ServiceException(ErrorCode.MalformedPolicy, exception.Message);
        }
    }

    public Task<PolicyWithDocument> GetAsync(string name, CancellationToken cancellationToken) =>
        store.ReadAsync(async (session, ct) =>
        {
            var policy = await RequireAsync(session, name, ct);
            var version = await session.Policies.GetVersionAsync(name, policy.DefaultVersionId, ct) ?? throw new InvalidOperationException($"Policy {name} has no default version.");
            return new PolicyWithDocument(policy, version);
        }, cancellationToken);

    public Task DeleteAsync(string name, CancellationToken cancellationToken) =>
        store.WriteAsync(async (session, ct) =>
        {
            var policy = await RequireAsync(session, name, ct);
            if (await session.Policies.IsAttachedAnywhereAsync(name, ct))
            {
                throw new ServiceException(ErrorCode.DeleteConflict, $"The policy cannot be deleted as the policy is attached to one or more principals (name={name})");
            }

            if ((await session.Policies.ListVersionsAsync(name, ct)).Any(v => v.VersionId != policy.DefaultVersionId))
            {
                throw new ServiceException(ErrorCode.DeleteConflict, $"Cannot delete the policy because it has one or more non-default versions (name={name})");
            }

            await session.Tags.RemoveAllAsync(TagKind, name, ct);
            return await session.Policies.DeleteAsync(name, ct);
        }, cancellationToken);

    public Task<Page<Policy>> ListAsync(bool ascending, PageRequest page, CancellationToken cancellationToken) =>
        store.ReadAsync(async (session, ct) =>
            Paging.ToPage(await session.Policies.ListAsync(ascending, page.After, page.Fetch, ct), page.Limit, p => Paging.CreationKey(p.CreatedAt, p.Name)), cancellationToken);

    public Task<(PolicyVersion Version, bool IsDefault)> CreateVersionAsync(string name, string document, bool setAsDefault, CancellationToken cancellationToken)
    {
        EnsureDocument(document);
        return store.WriteAsync(async (session, ct) =>
        {
            var policy = await RequireAsync(session, name, ct);
            var versions = await session.Policies.ListVersionsAsync(name, ct);
            if (versions.Count >= MaxVersions)
            {
                throw new ServiceException(ErrorCode.VersionsLimitExceeded, $"The policy {name} already has the maximum number of versions ({MaxVersions})");
            }

            var now = time.GetUtcNow();
            var version = new PolicyVersion(name, policy.NextVersionId, document, now);
            await session.Policies.InsertVersionAsync(version, ct);
            await session.Policies.UpdateAsync(
                policy with
                {
                    NextVersionId = policy.NextVersionId + 1,
                    DefaultVersionId = setAsDefault ? version.VersionId : policy.DefaultVersionId,
                    LastModifiedAt = now,
                    GenerationId = Guid.NewGuid().ToString(),
                },
                ct);
            return (version, setAsDefault);
        }, cancellationToken);
    }

    public Task<(Policy Policy, PolicyVersion Version)> GetVersionAsync(string name, long versionId, CancellationToken cancellationToken) =>
        store.ReadAsync(async (session, ct) =>
        {
            var policy = await RequireAsync(session, name, ct);
            var version = await session.Policies.GetVersionAsync(name, versionId, ct)
                ?? ThrowHelper.NotFound<PolicyVersion>($"Version {versionId} of policy {name} does not exist.");
            return (policy, version);
        }, cancellationToken);

    public Task<(Policy Policy, IReadOnlyList<PolicyVersion> Versions)> ListVersionsAsync(string name, CancellationToken cancellationToken) =>
        store.ReadAsync(async (session, ct) =>
        {
            var policy = await RequireAsync(session, name, ct);
            return (policy, await session.Policies.ListVersionsAsync(name, ct));
        }, cancellationToken);

    public Task SetDefaultVersionAsync(string name, long versionId, CancellationToken cancellationToken) =>
        store.WriteAsync(async (session, ct) =>
        {
            var policy = await RequireAsync(session, name, ct);
            _ = await session.Policies.GetVersionAsync(name, versionId, ct)
                ?? ThrowHelper.NotFound<PolicyVersion>($"Version {versionId} of policy {name} does not exist.");
            await session.Policies.UpdateAsync(policy with { DefaultVersionId = versionId, LastModifiedAt = time.GetUtcNow(), GenerationId = Guid.NewGuid().ToString() }, ct);
            return true;
        }, cancellationToken);

    public Task DeleteVersionAsync(string name, long versionId, CancellationToken cancellationToken) =>
        store.WriteAsync(async (session, ct) =>
        {
            var policy = await RequireAsync(session, name, ct);
            if (policy.DefaultVersionId == versionId)
            {
                throw new ServiceException(ErrorCode.DeleteConflict, "Cannot delete the default version of a policy");
            }

            if (!await session.Policies.DeleteVersionAsync(name, versionId, ct))
            {
                ThrowHelper.NotFound($"Version {versionId} of policy {name} does not exist.");
            }

            return true;
        }, cancellationToken);

    public Task AttachAsync(IotScope scope, string name, string targetArn, CancellationToken cancellationToken) =>
        store.WriteAsync(async (session, ct) =>
        {
            var target = await ResolveTargetAsync(session, scope, targetArn, ct);
            await AttachAsync(session, name, target, ct);
            return true;
        }, cancellationToken);

    internal async Task AttachAsync(IStoreSession session, string name, PolicyTarget target, CancellationToken cancellationToken)
    {
        _ = await RequireAsync(session, name, cancellationToken);
        await AttachExistingAsync(session, name, target, cancellationToken);
    }

    /// <summary>As <see cref="AttachAsync(IStoreSession, string, PolicyTarget, CancellationToken)"/> for a policy the caller's transaction has already read or created.</summary>
    internal async Task AttachExistingAsync(IStoreSession session, string name, PolicyTarget target, CancellationToken cancellationToken)
    {
        var attached = await session.Policies.ListAttachedAsync([target], null, MaxPoliciesPerTarget + 1, cancellationToken);
        if (attached.Contains(name, StringComparer.Ordinal))
        {
            return;
        }

        if (attached.Count >= MaxPoliciesPerTarget)
        {
            ThrowHelper.LimitExceeded($"At most {MaxPoliciesPerTarget} policies can be attached to a {(target.Kind == PolicyTarget.CertificateKind ? "certificate" : "thing group")}.");
        }

        await session.Policies.AttachAsync(name, target, time.GetUtcNow(), cancellationToken);
    }

    public Task DetachAsync(IotScope scope, string name, string targetArn, CancellationToken cancellationToken) =>
        store.WriteAsync(async (session, ct) =>
        {
            var target = await ResolveTargetAsync(session, scope, targetArn, ct);
            _ = await RequireAsync(session, name, ct);
            return await session.Policies.DetachAsync(name, target, ct);
        }, cancellationToken);

    /// <summary>
    /// The policies attached to a principal by creation date (the deprecated ListPrincipalPolicies). A target
    /// holds at most <see cref="MaxPoliciesPerTarget"/> policies, so they are ordered and paged here, not by the store.
    /// </summary>
    public Task<Page<Policy>> ListForPrincipalAsync(IotScope scope, string principalArn, bool ascending, PageRequest page, CancellationToken cancellationToken) =>
        store.ReadAsync(async (session, ct) =>
        {
            var target = await ResolveTargetAsync(session, scope, principalArn, ct);
            var policies = new List<Policy>();
            foreach (var name in await session.Policies.ListAttachedAsync([target], null, int.MaxValue, ct))
            {
                policies.Add((await session.Policies.GetAsync(name, ct))!);
            }

            static string Key(Policy p) => Paging.CreationKey(p.CreatedAt, p.Name);
            var rows = (ascending ? policies.OrderBy(Key, StringComparer.Ordinal) : policies.OrderByDescending(Key, StringComparer.Ordinal))
                .Where(p => page.After is null || (string.CompareOrdinal(Key(p), page.After) is var order && (ascending ? order > 0 : order < 0)))
                .Take(page.Fetch)
                .ToList();
            return Paging.ToPage(rows, page.Limit, Key);
        }, cancellationToken);

    /// <summary>Policies attached to a target; for a thing group with <paramref name="recursive"/>, also its ancestors'.</summary>
    public Task<Page<Policy>> ListAttachedAsync(IotScope scope, string targetArn, bool recursive, PageRequest page, CancellationToken cancellationToken) =>
        store.ReadAsync(async (session, ct) =>
        {
            var target = await ResolveTargetAsync(session, scope, targetArn, ct);
            IReadOnlyList<PolicyTarget> targets = [target];
            if (recursive && target.Kind == PolicyTarget.ThingGroupKind)
            {
                var group = (await session.ThingGroups.GetAsync(target.Id, ct))!;
                targets = group.Path.Split('/').Select(n => new PolicyTarget(PolicyTarget.ThingGroupKind, n)).ToList();
            }

            var names = await session.Policies.ListAttachedAsync(targets, page.After, page.Fetch, ct);
            var policies = new List<Policy>(names.Count);
            foreach (var policyName in names)
            {
                policies.Add((await session.Policies.GetAsync(policyName, ct))!);
            }

            return Paging.ToPage(policies, page.Limit, p => p.Name);
        }, cancellationToken);

    public Task<Page<PolicyTarget>> ListTargetsAsync(string name, PageRequest page, CancellationToken cancellationToken) =>
        store.ReadAsync(async (session, ct) =>
        {
            _ = await RequireAsync(session, name, ct);
            return Paging.ToPage(await session.Policies.ListTargetsAsync(name, page.After, page.Fetch, ct), page.Limit, t => t.Kind + "/" + t.Id);
        }, cancellationToken);

    /// <summary>
    /// The policies that apply to a certificate principal and/or a thing: the certificate's own and
    /// those of every group the thing is in, with their ancestors.
    /// </summary>
    public Task<IReadOnlyList<EffectivePolicy>> GetEffectiveAsync(IotScope scope, string? principal, string? thingName, CancellationToken cancellationToken) =>
        store.ReadAsync<IReadOnlyList<EffectivePolicy>>(async (session, ct) =>
        {
            var targets = new List<PolicyTarget>();
            if (principal is not null)
            {
                var certificateId = Principals.CertificateIdFromArn(scope, principal);
                _ = await session.Certificates.GetAsync(certificateId, ct) ?? ThrowHelper.NotFound<Certificate>(CertificateService.NotFoundMessage(certificateId));
                targets.Add(new PolicyTarget(PolicyTarget.CertificateKind, certificateId));
            }

            if (thingName is not null)
            {
                _ = await session.Things.GetAsync(thingName, ct) ?? ThrowHelper.NotFound<Thing>(ThingService.NotFoundMessage(thingName));
                targets.AddRange(await GroupTargetsAsync(session, thingName, ct));
            }

            return [.. (await DefaultVersionsAsync(session, targets, ct)).Select(p => new EffectivePolicy(p.Policy.Name, p.Version.Document))];
        }, cancellationToken);

    /// <summary>The thing groups a thing is in, with their ancestors, as policy targets.</summary>
    internal static async Task<IReadOnlyList<PolicyTarget>> GroupTargetsAsync(IStoreSession session, string thingName, CancellationToken cancellationToken)
    {
        var targets = new List<PolicyTarget>();
        foreach (var group in await session.ThingGroups.ListForThingAsync(thingName, null, NameRules.MaxGroupsPerThing, cancellationToken))
        {
            targets.AddRange(group.Path.Split('/').Select(n => new PolicyTarget(PolicyTarget.ThingGroupKind, n)));
        }

        return targets;
    }

    /// <summary>The policies attached to any of the targets, each once, with its default version.</summary>
    internal static async Task<IReadOnlyList<(Policy Policy, PolicyVersion Version)>> DefaultVersionsAsync(
        IStoreSession session, IReadOnlyList<PolicyTarget> targets, CancellationToken cancellationToken)
    {
        var result = new List<(Policy, PolicyVersion)>();
        foreach (var name in await session.Policies.ListAttachedAsync(targets.Distinct().ToList(), null, 1000, cancellationToken))
        {
            var policy = (await session.Policies.GetAsync(name, cancellationToken))!;
            var version = (await session.Policies.GetVersionAsync(name, policy.DefaultVersionId, cancellationToken))!;
            result.Add((policy, version));
        }

        return result;
    }

    internal static async Task<Policy> RequireAsync(IStoreSession session, string name, CancellationToken cancellationToken) =>
        await session.Policies.GetAsync(name, cancellationToken) ?? ThrowHelper.NotFound<Policy>(NotFoundMessage(name));

    internal static string NotFoundMessage(string name) => $"The policy {name} does not exist.";

    /// <summary>A policy target named by ARN: a certificate or a thing group of this account, which must exist.</summary>
    private static async Task<PolicyTarget> ResolveTargetAsync(IStoreSession session, IotScope scope, string targetArn, CancellationToken cancellationToken)
    {
        if (!Arn.TryParse(targetArn, out var arn) || arn.Kind is not (ResourceKind.Certificate or ResourceKind.ThingGroup))
        {
            ThrowHelper.InvalidRequest($"The target {targetArn} is not a certificate or thing group ARN.");
        }

        var exists = arn.AccountId == scope.AccountId && (arn.Kind == ResourceKind.Certificate
            ? await session.Certificates.GetAsync(arn.Name, cancellationToken) is not null
            : await session.ThingGroups.GetAsync(arn.Name, cancellationToken) is not null);
        if (!exists)
        {
            ThrowHelper.NotFound($"The target {targetArn} does not exist.");
        }

        return new PolicyTarget(arn.Kind == ResourceKind.Certificate ? PolicyTarget.CertificateKind : PolicyTarget.ThingGroupKind, arn.Name);
    }
}
