using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Paging;
using Fleetkey.Core.Registry;
using Fleetkey.Storage;

namespace Fleetkey.Services.Registry;

/// <summary>Tags on the taggable resources (thing types, thing groups, policies, provisioning templates; things are not taggable on AWS).</summary>
public sealed class TagService(IFleetStore store)
{
    public Task TagAsync(IotScope scope, string resourceArn, IReadOnlyList<Tag> tags, CancellationToken cancellationToken) =>
        store.WriteAsync(async (session, ct) =>
        {
            var (kind, name) = await ResolveAsync(session, scope, resourceArn, ct);
            var keys = (await session.Tags.ListAsync(kind, name, null, NameRules.MaxTagsPerResource + 1, ct)).Select(t => t.Key).ToHashSet(StringComparer.Ordinal);
            keys.UnionWith(tags.Select(t => t.Key));
            EnsureTags(tags, 0);
            if (keys.Count > NameRules.MaxTagsPerResource)
            {
                ThrowHelper.LimitExceeded($"A resource can have at most {NameRules.MaxTagsPerResource} tags; this request would give {resourceArn} {keys.Count}.");
            }

            await session.Tags.SetAsync(kind, name, tags, ct);
            return true;
        }, cancellationToken);

    public Task UntagAsync(IotScope scope, string resourceArn, IReadOnlyList<string> keys, CancellationToken cancellationToken) =>
        store.WriteAsync(async (session, ct) =>
        {
            var (kind, name) = await ResolveAsync(session, scope, resourceArn, ct);
            await session.Tags.RemoveAsync(kind, name, keys, ct);
            return true;
        }, cancellationToken);

    public Task<Page<Tag>> ListAsync(IotScope scope, string resourceArn, PageRequest page, CancellationToken cancellationToken) =>
        store.ReadAsync(async (session, ct) =>
        {
            var (kind, name) = await ResolveAsync(session, scope, resourceArn, ct);
            return Paging.ToPage(await session.Tags.ListAsync(kind, name, page.After, page.Fetch, ct), page.Limit, tag => tag.Key);
        }, cancellationToken);

    internal static void EnsureTags(IReadOnlyList<Tag> tags, int existing)
    {
        if (tags.Count + existing > NameRules.MaxTagsPerResource)
        {
            ThrowHelper.LimitExceeded($"A resource can have at most {NameRules.MaxTagsPerResource} tags.");
        }

        foreach (var tag in tags)
        {
            if (tag.Key.StartsWith("aws:", StringComparison.OrdinalIgnoreCase))
            {
                ThrowHelper.InvalidRequest($"Tag keys starting with 'aws:' are reserved: {tag.Key}");
            }
        }

        if (tags.Select(t => t.Key).Distinct(StringComparer.Ordinal).Count() != tags.Count)
        {
            ThrowHelper.InvalidRequest("A tag key can appear only once in a request.");
        }
    }

    private static async Task<(string Kind, string Name)> ResolveAsync(IStoreSession session, IotScope scope, string resourceArn, CancellationToken cancellationToken)
    {
        if (!Arn.TryParse(resourceArn, out var arn))
        {
            ThrowHelper.InvalidRequest($"Invalid resource ARN: {resourceArn}");
        }

        var exists = arn.AccountId == scope.AccountId && arn.Kind switch
        {
            ResourceKind.ThingType => await session.ThingTypes.GetAsync(arn.Name, cancellationToken) is not null,
            ResourceKind.ThingGroup => await session.ThingGroups.GetAsync(arn.Name, cancellationToken) is not null,
            ResourceKind.Policy => await session.Policies.GetAsync(arn.Name, cancellationToken) is not null,
            ResourceKind.ProvisioningTemplate => await session.ProvisioningTemplates.GetAsync(arn.Name, cancellationToken) is not null,
            ResourceKind.CaCertificate => await session.CaCertificates.GetAsync(arn.Name, cancellationToken) is { Managed: false },
            _ => false,
        };
        if (!exists)
        {
            ThrowHelper.NotFound($"Resource {resourceArn} does not exist or cannot be tagged.");
        }

        var kind = arn.Kind switch
        {
            ResourceKind.ThingType => ThingTypeService.TagKind,
            ResourceKind.ThingGroup => ThingGroupService.TagKind,
            ResourceKind.ProvisioningTemplate => Provisioning.ProvisioningTemplateService.TagKind,
            ResourceKind.CaCertificate => Security.CaCertificateService.TagKind,
            _ => Security.PolicyService.TagKind,
        };
        return (kind, arn.Name);
    }
}
