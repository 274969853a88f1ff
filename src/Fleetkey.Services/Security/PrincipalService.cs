using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Paging;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Registry;
using Fleetkey.Storage;

namespace Fleetkey.Services.Security;

/// <summary>
/// Thing principals. A certificate attached EXCLUSIVE_THING belongs to that thing alone; a
/// NON_EXCLUSIVE_THING certificate may be attached to several things.
/// </summary>
public sealed class PrincipalService(IFleetStore store, TimeProvider time)
{
    public Task AttachAsync(IotScope scope, string thingName, string principal, string? principalType, CancellationToken cancellationToken)
    {
        var certificateId = Principals.CertificateIdFromArn(scope, principal);
        var type = principalType ?? ThingPrincipalType.NonExclusive;
        return store.WriteAsync(async (session, ct) =>
        {
            await AttachAsync(session, thingName, certificateId, type, ct);
            return true;
        }, cancellationToken);
    }

    internal async Task AttachAsync(IStoreSession session, string thingName, string certificateId, string type, CancellationToken cancellationToken)
    {
        _ = await session.Things.GetAsync(thingName, cancellationToken) ?? ThrowHelper.NotFound<Thing>(ThingService.NotFoundMessage(thingName));
        _ = await session.Certificates.GetAsync(certificateId, cancellationToken) ?? ThrowHelper.NotFound<Certificate>(CertificateService.NotFoundMessage(certificateId));
        await AttachExistingAsync(session, thingName, certificateId, type, cancellationToken);
    }

    /// <summary>As <see cref="AttachAsync(IStoreSession, string, string, string, CancellationToken)"/> for a thing and certificate the caller's transaction has already read or created.</summary>
    internal async Task AttachExistingAsync(IStoreSession session, string thingName, string certificateId, string type, CancellationToken cancellationToken)
    {
        var others = (await session.ThingPrincipals.ListForPrincipalAsync(PolicyTarget.CertificateKind, certificateId, null, 1000, cancellationToken))
            .Where(p => !string.Equals(p.ThingName, thingName, StringComparison.Ordinal))
            .ToList();
        if (others.Count > 0 && (type == ThingPrincipalType.Exclusive || others.Any(p => p.PrincipalType == ThingPrincipalType.Exclusive)))
        {
            ThrowHelper.InvalidRequest(
                $"Principal {certificateId} is attached to thing {others[0].ThingName}; a principal attached as {ThingPrincipalType.Exclusive} can be attached to one thing only.");
        }

        await session.ThingPrincipals.AttachAsync(new ThingPrincipal(thingName, PolicyTarget.CertificateKind, certificateId, type), time.GetUtcNow(), cancellationToken);
    }

    public Task DetachAsync(IotScope scope, string thingName, string principal, CancellationToken cancellationToken)
    {
        var certificateId = Principals.CertificateIdFromArn(scope, principal);
        return store.WriteAsync(async (session, ct) =>
        {
            _ = await session.Things.GetAsync(thingName, ct) ?? ThrowHelper.NotFound<Thing>(ThingService.NotFoundMessage(thingName));
            _ = await session.Certificates.GetAsync(certificateId, ct) ?? ThrowHelper.NotFound<Certificate>(CertificateService.NotFoundMessage(certificateId));
            return await session.ThingPrincipals.DetachAsync(thingName, PolicyTarget.CertificateKind, certificateId, ct);
        }, cancellationToken);
    }

    public Task<Page<ThingPrincipal>> ListForThingAsync(string thingName, string? principalType, PageRequest page, CancellationToken cancellationToken) =>
        store.ReadAsync(async (session, ct) =>
        {
            _ = await session.Things.GetAsync(thingName, ct) ?? ThrowHelper.NotFound<Thing>(ThingService.NotFoundMessage(thingName));
            var rows = await session.ThingPrincipals.ListForThingAsync(thingName, page.After, principalType is null ? page.Fetch : 10_000, ct);
            return Paging.ToPage(Filter(rows, principalType), page.Limit, p => p.PrincipalId);
        }, cancellationToken);

    public Task<Page<ThingPrincipal>> ListForPrincipalAsync(IotScope scope, string principal, string? principalType, PageRequest page, CancellationToken cancellationToken)
    {
        var certificateId = Principals.CertificateIdFromArn(scope, principal);
        return store.ReadAsync(async (session, ct) =>
        {
            _ = await session.Certificates.GetAsync(certificateId, ct) ?? ThrowHelper.NotFound<Certificate>(CertificateService.NotFoundMessage(certificateId));
            var rows = await session.ThingPrincipals.ListForPrincipalAsync(PolicyTarget.CertificateKind, certificateId, page.After, principalType is null ? page.Fetch : 10_000, ct);
            return Paging.ToPage(Filter(rows, principalType), page.Limit, p => p.ThingName);
        }, cancellationToken);
    }

    private static IReadOnlyList<ThingPrincipal> Filter(IReadOnlyList<ThingPrincipal> rows, string? principalType) =>
        principalType is null ? rows : rows.Where(p => p.PrincipalType == principalType).ToList();
}
