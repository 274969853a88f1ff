using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Paging;
using Fleetkey.Core.Registry;
using Fleetkey.Storage;

namespace Fleetkey.Services.Registry;

/// <summary>Things: create, describe, update, delete, list — with AWS IoT's rules.</summary>
public sealed class ThingService(IFleetStore store, TimeProvider time)
{
    public Task<Thing> CreateAsync(string name, string? typeName, IReadOnlyDictionary<string, string>? attributes, string? billingGroupName, CancellationToken cancellationToken)
    {
        NameRules.EnsureRegistryName(name, "thingName");
        if (attributes is not null)
        {
            NameRules.EnsureAttributes(attributes, "attributePayload.attributes");
        }

        var wanted = Attributes.Normalize(attributes);
        Attributes.EnsureThingLimit(wanted, typeName);
        if (billingGroupName is not null)
        {
            // Billing groups are not part of Fleetkey; none can exist.
            ThrowHelper.NotFound($"Billing group {billingGroupName} does not exist");
        }

        return store.WriteAsync((session, ct) => CreateAsync(session, name, typeName, wanted, ct), cancellationToken);
    }

    // CreateThing is idempotent: the same name, type and attributes again answer the existing thing.
    private async Task<Thing> CreateAsync(IStoreSession session, string name, string? typeName, IReadOnlyDictionary<string, string> attributes, CancellationToken cancellationToken)
    {
        var existing = await session.Things.GetAsync(name, cancellationToken);
        if (existing is not null)
        {
            if (string.Equals(existing.TypeName, typeName, StringComparison.Ordinal) && Attributes.SameAs(existing.Attributes, attributes))
            {
                return existing;
            }

            ThrowHelper.AlreadyExists($"Thing {name} already exists in account with different attributes", existing.ThingId, new ResourceRef(ResourceKind.Thing, name));
        }

        if (typeName is not null)
        {
            await EnsureUsableTypeAsync(session, typeName, "create new thing with", cancellationToken);
        }

        var thing = new Thing(name, Guid.NewGuid().ToString(), typeName, attributes, 1, time.GetUtcNow());
        await session.Things.InsertAsync(thing, cancellationToken);
        return thing;
    }

    /// <summary>
    /// Creates a thing in the caller's transaction unless one of that name exists (then null, nothing
    /// changed), without reading it first (RegisterThing: see <see cref="IThingRepository.TryInsertAsync"/>).
    /// The caller has checked its type with <see cref="EnsureUsableTypeAsync"/>.
    /// </summary>
    internal async Task<Thing?> TryInsertNewAsync(IStoreSession session, string name, string? typeName, IReadOnlyDictionary<string, string> attributes, CancellationToken cancellationToken)
    {
        var thing = new Thing(name, Guid.NewGuid().ToString(), typeName, attributes, 1, time.GetUtcNow());
        return await session.Things.TryInsertAsync(thing, cancellationToken) ? thing : null;
    }

    public async Task<Thing> DescribeAsync(string name, CancellationToken cancellationToken) =>
        await store.ReadAsync((session, ct) => session.Things.GetAsync(name, ct), cancellationToken)
        ?? ThrowHelper.NotFound<Thing>(NotFoundMessage(name));

    public Task UpdateAsync(
        string name,
        string? typeName,
        IReadOnlyDictionary<string, string>? attributes,
        bool merge,
        long? expectedVersion,
        bool removeThingType,
        CancellationToken cancellationToken)
    {
        if (removeThingType && typeName is not null)
        {
            ThrowHelper.InvalidRequest("Cannot set thingTypeName and removeThingType in the same request.");
        }

        if (attributes is not null)
        {
            NameRules.EnsureAttributes(attributes, "attributePayload.attributes");
        }

        return store.WriteAsync(async (session, ct) =>
        {
            var thing = await session.Things.GetAsync(name, ct) ?? ThrowHelper.NotFound<Thing>(NotFoundMessage(name));
            Versions.EnsureExpected(expectedVersion, thing.Version, "thing", name);

            var newType = removeThingType ? null : typeName ?? thing.TypeName;
            if (typeName is not null && !string.Equals(typeName, thing.TypeName, StringComparison.Ordinal))
            {
                await EnsureUsableTypeAsync(session, typeName, "update a thing to use", ct);
            }

            var newAttributes = Attributes.Apply(thing.Attributes, attributes, merge);
            Attributes.EnsureThingLimit(newAttributes, newType);
            await session.Things.UpdateAsync(thing with { TypeName = newType, Attributes = newAttributes, Version = thing.Version + 1 }, ct);
            return true;
        }, cancellationToken);
    }

    /// <summary>Deletes a thing. A thing that does not exist counts as deleted, as on AWS.</summary>
    public Task DeleteAsync(string name, long? expectedVersion, CancellationToken cancellationToken) =>
        store.WriteAsync(async (session, ct) =>
        {
            var thing = await session.Things.GetAsync(name, ct);
            if (thing is null)
            {
                return false;
            }

            Versions.EnsureExpected(expectedVersion, thing.Version, "thing", name);
            if (await session.ThingPrincipals.ThingHasAnyAsync(name, ct))
            {
                ThrowHelper.InvalidRequest($"Cannot delete. Thing {name} is still attached to one or more principals");
            }

            return await session.Things.DeleteAsync(name, ct);
        }, cancellationToken);

    public Task<Page<Thing>> ListAsync(ThingQuery query, PageRequest page, CancellationToken cancellationToken)
    {
        if (query.AttributeValue is not null && query.AttributeName is null)
        {
            ThrowHelper.InvalidRequest("attributeValue can only be used together with attributeName.");
        }

        return store.ReadAsync(async (session, ct) =>
            Paging.ToPage(await session.Things.ListAsync(query, page.After, page.Fetch, ct), page.Limit, thing => thing.Name), cancellationToken);
    }

    internal static string NotFoundMessage(string name) => $"Thing {name} cannot be found.";

    internal static async Task EnsureUsableTypeAsync(IStoreSession session, string typeName, string verb, CancellationToken cancellationToken)
    {
        var type = await session.ThingTypes.GetAsync(typeName, cancellationToken)
            ?? ThrowHelper.NotFound<ThingType>(ThingTypeService.NotFoundMessage(typeName));
        if (type.Deprecated)
        {
            ThrowHelper.InvalidRequest($"Can not {verb} deprecated thing type: {typeName}");
        }
    }
}
