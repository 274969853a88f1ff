using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Paging;
using Fleetkey.Core.Registry;
using Fleetkey.Storage;

namespace Fleetkey.Services.Registry;

/// <summary>
/// Static thing groups and their members. A group's parent is fixed at creation; hierarchies are at
/// most seven deep; a thing is in at most ten groups and in at most one group of a hierarchy.
/// </summary>
public sealed class ThingGroupService(IFleetStore store, TimeProvider time)
{
    public const string TagKind = "thinggroup";
    private const int MaxChildGroups = 100;

    public Task<ThingGroup> CreateAsync(string name, string? parentName, string? description, IReadOnlyDictionary<string, string>? attributes, IReadOnlyList<Tag>? tags, CancellationToken cancellationToken)
    {
        NameRules.EnsureRegistryName(name, "thingGroupName");
        if (attributes is not null)
        {
            NameRules.EnsureAttributes(attributes, "thingGroupProperties.attributePayload.attributes");
        }

        var wanted = Attributes.Normalize(attributes);
        TagService.EnsureTags(tags ?? [], 0);
        return store.WriteAsync(async (session, ct) =>
        {
            var existing = await session.ThingGroups.GetAsync(name, ct);
            if (existing is not null)
            {
                if (string.Equals(existing.ParentName, parentName, StringComparison.Ordinal)
                    && string.Equals(existing.Description, description, StringComparison.Ordinal)
                    && Attributes.SameAs(existing.Attributes, wanted))
                {
                    return existing;
                }

                ThrowHelper.AlreadyExists($"Thing Group {name} already exists in current account with different properties", existing.ThingGroupId, new ResourceRef(ResourceKind.ThingGroup, name));
            }

            var path = name;
            if (parentName is not null)
            {
                var parent = await session.ThingGroups.GetAsync(parentName, ct);
                if (parent is null)
                {
                    ThrowHelper.InvalidRequest($"Parent thing group {parentName} does not exist.");
                }

                if (parent.Depth >= NameRules.MaxGroupDepth)
                {
                    ThrowHelper.InvalidRequest($"Cannot create thing group {name}: a thing group hierarchy can be at most {NameRules.MaxGroupDepth} levels deep.");
                }

                var children = await session.ThingGroups.ListAsync(parent, recursive: false, null, null, MaxChildGroups, ct);
                if (children.Count >= MaxChildGroups)
                {
                    ThrowHelper.LimitExceeded($"Thing group {parentName} already has {MaxChildGroups} child groups.");
                }

                path = parent.Path + "/" + name;
            }

            var group = new ThingGroup(name, Guid.NewGuid().ToString(), parentName, path, description, wanted, 1, time.GetUtcNow());
            await session.ThingGroups.InsertAsync(group, ct);
            await session.Tags.SetAsync(TagKind, name, tags ?? [], ct);
            return group;
        }, cancellationToken);
    }

    public async Task<ThingGroup> DescribeAsync(string name, CancellationToken cancellationToken) =>
        await store.ReadAsync((session, ct) => session.ThingGroups.GetAsync(name, ct), cancellationToken)
        ?? ThrowHelper.NotFound<ThingGroup>(NotFoundMessage(name));

    /// <summary>Updates description and attributes; returns the new version.</summary>
    public Task<long> UpdateAsync(string name, string? description, IReadOnlyDictionary<string, string>? attributes, bool merge, long? expectedVersion, CancellationToken cancellationToken)
    {
        if (attributes is not null)
        {
            NameRules.EnsureAttributes(attributes, "thingGroupProperties.attributePayload.attributes");
        }

        return store.WriteAsync(async (session, ct) =>
        {
            var group = await session.ThingGroups.GetAsync(name, ct) ?? ThrowHelper.NotFound<ThingGroup>(NotFoundMessage(name));
            Versions.EnsureExpected(expectedVersion, group.Version, "thing group", name);

            var updated = group with
            {
                Description = description ?? group.Description,
                Attributes = Attributes.Apply(group.Attributes, attributes, merge),
                Version = group.Version + 1,
            };
            await session.ThingGroups.UpdateAsync(updated, ct);
            return updated.Version;
        }, cancellationToken);
    }

    /// <summary>Deletes a group (its memberships go with it). A missing group counts as deleted.</summary>
    public Task DeleteAsync(string name, long? expectedVersion, CancellationToken cancellationToken) =>
        store.WriteAsync(async (session, ct) =>
        {
            var group = await session.ThingGroups.GetAsync(name, ct);
            if (group is null)
            {
                return false;
            }

            Versions.EnsureExpected(expectedVersion, group.Version, "thing group", name);

            if (await session.ThingGroups.HasChildrenAsync(name, ct))
            {
                ThrowHelper.InvalidRequest($"Cannot delete thing group : {name} when there are still child groups attached to it.");
            }

            await session.Tags.RemoveAllAsync(TagKind, name, ct);
            await session.Policies.DetachAllAsync(new PolicyTarget(PolicyTarget.ThingGroupKind, name), ct);
            return await session.ThingGroups.DeleteAsync(name, ct);
        }, cancellationToken);

    public Task<Page<ThingGroup>> ListAsync(string? parentName, string? namePrefix, bool recursive, PageRequest page, CancellationToken cancellationToken) =>
        store.ReadAsync(async (session, ct) =>
        {
            ThingGroup? parent = null;
            if (parentName is not null)
            {
                parent = await session.ThingGroups.GetAsync(parentName, ct) ?? ThrowHelper.NotFound<ThingGroup>(NotFoundMessage(parentName));
            }

            var rows = await session.ThingGroups.ListAsync(parent, recursive, namePrefix, page.After, page.Fetch, ct);
            return Paging.ToPage(rows, page.Limit, group => group.Name);
        }, cancellationToken);

    public Task AddThingAsync(string groupName, string thingName, CancellationToken cancellationToken) =>
        store.WriteAsync(async (session, ct) =>
        {
            await AddThingAsync(session, groupName, thingName, ct);
            return true;
        }, cancellationToken);

    public Task RemoveThingAsync(string groupName, string thingName, CancellationToken cancellationToken) =>
        store.WriteAsync(async (session, ct) =>
        {
            await RemoveThingAsync(session, groupName, thingName, ct);
            return true;
        }, cancellationToken);

    /// <summary>Removes, then adds, in one transaction: the thing ends in every group of the add list or in none of them.</summary>
    public Task UpdateGroupsForThingAsync(string thingName, IReadOnlyList<string> add, IReadOnlyList<string> remove, CancellationToken cancellationToken) =>
        store.WriteAsync(async (session, ct) =>
        {
            _ = await session.Things.GetAsync(thingName, ct) ?? ThrowHelper.NotFound<Thing>(ThingService.NotFoundMessage(thingName));
            foreach (var group in remove)
            {
                await RemoveThingAsync(session, group, thingName, ct);
            }

            foreach (var group in add)
            {
                await AddThingAsync(session, group, thingName, ct);
            }

            return true;
        }, cancellationToken);

    /// <summary>Adds a thing to a group inside a caller's transaction (RegisterThing reuses this).</summary>
    internal async Task AddThingAsync(IStoreSession session, string groupName, string thingName, CancellationToken cancellationToken)
    {
        var group = await session.ThingGroups.GetAsync(groupName, cancellationToken) ?? ThrowHelper.NotFound<ThingGroup>(NotFoundMessage(groupName));
        _ = await session.Things.GetAsync(thingName, cancellationToken) ?? ThrowHelper.NotFound<Thing>(ThingService.NotFoundMessage(thingName));
        var current = await session.ThingGroups.ListForThingAsync(thingName, null, NameRules.MaxGroupsPerThing + 1, cancellationToken);
        if (current.Any(g => string.Equals(g.Name, groupName, StringComparison.Ordinal)))
        {
            return;
        }

        EnsureCanJoin(thingName, group, current);
        await session.ThingGroups.AddThingAsync(groupName, thingName, time.GetUtcNow(), cancellationToken);
    }

    /// <summary>
    /// Adds a thing created in the caller's transaction (so in no group yet) to <paramref name="groupNames"/>,
    /// with the rules of <see cref="AddThingAsync(IStoreSession, string, string, CancellationToken)"/>
    /// checked among those groups, without reading the thing or its memberships again.
    /// </summary>
    internal async Task AddNewThingAsync(IStoreSession session, IReadOnlyList<string> groupNames, string thingName, CancellationToken cancellationToken)
    {
        var added = new List<ThingGroup>(groupNames.Count);
        foreach (var groupName in groupNames)
        {
            var group = await session.ThingGroups.GetAsync(groupName, cancellationToken) ?? ThrowHelper.NotFound<ThingGroup>(NotFoundMessage(groupName));
            if (added.Any(g => string.Equals(g.Name, groupName, StringComparison.Ordinal)))
            {
                continue;
            }

            EnsureCanJoin(thingName, group, added);
            await session.ThingGroups.AddThingAsync(groupName, thingName, time.GetUtcNow(), cancellationToken);
            added.Add(group);
        }
    }

    // A thing is in one group of a hierarchy at most, and in at most MaxGroupsPerThing groups.
    private static void EnsureCanJoin(string thingName, ThingGroup group, IReadOnlyList<ThingGroup> current)
    {
        var sameHierarchy = current.FirstOrDefault(g => string.Equals(g.RootName, group.RootName, StringComparison.Ordinal));
        if (sameHierarchy is not null)
        {
            ThrowHelper.InvalidRequest(
                $"Thing {thingName} is already in thing group {sameHierarchy.Name} of the hierarchy rooted at {group.RootName}; a thing can be in only one group of a hierarchy.");
        }

        if (current.Count >= NameRules.MaxGroupsPerThing)
        {
            ThrowHelper.InvalidRequest($"Thing {thingName} is already in {NameRules.MaxGroupsPerThing} thing groups, the most a thing can be in.");
        }
    }

    internal static async Task RemoveThingAsync(IStoreSession session, string groupName, string thingName, CancellationToken cancellationToken)
    {
        _ = await session.ThingGroups.GetAsync(groupName, cancellationToken) ?? ThrowHelper.NotFound<ThingGroup>(NotFoundMessage(groupName));
        _ = await session.Things.GetAsync(thingName, cancellationToken) ?? ThrowHelper.NotFound<Thing>(ThingService.NotFoundMessage(thingName));
        await session.ThingGroups.RemoveThingAsync(groupName, thingName, cancellationToken);
    }

    public Task<Page<string>> ListThingsAsync(string groupName, bool recursive, PageRequest page, CancellationToken cancellationToken) =>
        store.ReadAsync(async (session, ct) =>
        {
            var group = await session.ThingGroups.GetAsync(groupName, ct) ?? ThrowHelper.NotFound<ThingGroup>(NotFoundMessage(groupName));
            return Paging.ToPage(await session.ThingGroups.ListThingNamesAsync(group, recursive, page.After, page.Fetch, ct), page.Limit, name => name);
        }, cancellationToken);

    public Task<Page<ThingGroup>> ListGroupsForThingAsync(string thingName, PageRequest page, CancellationToken cancellationToken) =>
        store.ReadAsync(async (session, ct) =>
        {
            _ = await session.Things.GetAsync(thingName, ct) ?? ThrowHelper.NotFound<Thing>(ThingService.NotFoundMessage(thingName));
            return Paging.ToPage(await session.ThingGroups.ListForThingAsync(thingName, page.After, page.Fetch, ct), page.Limit, group => group.Name);
        }, cancellationToken);

    internal static string NotFoundMessage(string name) => $"Thing group {name} does not exist.";
}
