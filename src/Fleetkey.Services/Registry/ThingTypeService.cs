using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Paging;
using Fleetkey.Core.Registry;
using Fleetkey.Storage;

namespace Fleetkey.Services.Registry;

/// <summary>
/// Thing types. As on AWS a type's description and searchable attributes are fixed at creation
/// (only its MQTT 5 configuration can be updated), and a type is deleted only once deprecated.
/// Unlike AWS there is no five-minute wait between deprecation and deletion: AWS needs it to
/// propagate the change; Fleetkey's registry is one consistent database.
/// </summary>
public sealed class ThingTypeService(IFleetStore store, TimeProvider time)
{
    public const string TagKind = "thingtype";

    public Task<ThingType> CreateAsync(string name, string? description, IReadOnlyList<string>? searchableAttributes, string? mqtt5ConfigurationJson, IReadOnlyList<Tag>? tags, CancellationToken cancellationToken)
    {
        NameRules.EnsureRegistryName(name, "thingTypeName");
        var searchable = searchableAttributes ?? [];
        if (searchable.Count > NameRules.MaxSearchableAttributes)
        {
            ThrowHelper.InvalidRequest($"A thing type can have at most {NameRules.MaxSearchableAttributes} searchable attributes; {searchable.Count} were given.");
        }

        TagService.EnsureTags(tags ?? [], 0);
        return store.WriteAsync(async (session, ct) =>
        {
            var existing = await session.ThingTypes.GetAsync(name, ct);
            if (existing is not null)
            {
                if (string.Equals(existing.Description, description, StringComparison.Ordinal)
                    && existing.SearchableAttributes.SequenceEqual(searchable, StringComparer.Ordinal)
                    && string.Equals(existing.Mqtt5ConfigurationJson, mqtt5ConfigurationJson, StringComparison.Ordinal))
                {
                    return existing;
                }

                ThrowHelper.AlreadyExists($"Thing Type {name} already exists in current account with different properties", existing.ThingTypeId, new ResourceRef(ResourceKind.ThingType, name));
            }

            var type = new ThingType(name, Guid.NewGuid().ToString(), description, searchable, mqtt5ConfigurationJson, false, null, time.GetUtcNow());
            await session.ThingTypes.InsertAsync(type, ct);
            await session.Tags.SetAsync(TagKind, name, tags ?? [], ct);
            return type;
        }, cancellationToken);
    }

    public async Task<ThingType> DescribeAsync(string name, CancellationToken cancellationToken) =>
        await store.ReadAsync((session, ct) => session.ThingTypes.GetAsync(name, ct), cancellationToken)
        ?? ThrowHelper.NotFound<ThingType>(NotFoundMessage(name));

    public Task UpdateAsync(string name, string? description, IReadOnlyList<string>? searchableAttributes, string? mqtt5ConfigurationJson, CancellationToken cancellationToken) =>
        store.WriteAsync(async (session, ct) =>
        {
            var type = await session.ThingTypes.GetAsync(name, ct) ?? ThrowHelper.NotFound<ThingType>(NotFoundMessage(name));
            var sameDescription = description is null || string.Equals(description, type.Description, StringComparison.Ordinal);
            var sameSearchable = searchableAttributes is null || searchableAttributes.SequenceEqual(type.SearchableAttributes, StringComparer.Ordinal);
            if (!sameDescription || !sameSearchable)
            {
                ThrowHelper.InvalidRequest("Can only update mqtt5Configuration.");
            }

            await session.ThingTypes.UpdateAsync(type with { Mqtt5ConfigurationJson = mqtt5ConfigurationJson ?? type.Mqtt5ConfigurationJson }, ct);
            return true;
        }, cancellationToken);

    public Task DeprecateAsync(string name, bool undo, CancellationToken cancellationToken) =>
        store.WriteAsync(async (session, ct) =>
        {
            var type = await session.ThingTypes.GetAsync(name, ct) ?? ThrowHelper.NotFound<ThingType>(NotFoundMessage(name));
            var updated = undo
                ? type with { Deprecated = false, DeprecatedAt = null }
                : type with { Deprecated = true, DeprecatedAt = type.DeprecatedAt ?? time.GetUtcNow() };
            await session.ThingTypes.UpdateAsync(updated, ct);
            return true;
        }, cancellationToken);

    public Task DeleteAsync(string name, CancellationToken cancellationToken) =>
        store.WriteAsync(async (session, ct) =>
        {
            var type = await session.ThingTypes.GetAsync(name, ct) ?? ThrowHelper.NotFound<ThingType>(NotFoundMessage(name));
            if (!type.Deprecated)
            {
                ThrowHelper.InvalidRequest($"Cannot delete thing type : {name}. Deprecate it first.");
            }

            if (await session.Things.AnyOfTypeAsync(name, ct))
            {
                ThrowHelper.InvalidRequest($"Cannot delete thing type : {name} while things are associated with it.");
            }

            await session.Tags.RemoveAllAsync(TagKind, name, ct);
            return await session.ThingTypes.DeleteAsync(name, ct);
        }, cancellationToken);

    public Task<Page<ThingType>> ListAsync(string? name, PageRequest page, CancellationToken cancellationToken) =>
        store.ReadAsync(async (session, ct) =>
            Paging.ToPage(await session.ThingTypes.ListAsync(name, page.After, page.Fetch, ct), page.Limit, type => type.Name), cancellationToken);

    internal static string NotFoundMessage(string name) => $"Thing type {name} does not exist.";
}
