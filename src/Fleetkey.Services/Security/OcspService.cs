using Fleetkey.Pki;
using Fleetkey.Storage;

namespace Fleetkey.Services.Security;

/// <summary>
/// The OCSP responder's lookups: every answer reads the store (one index seek per certificate asked
/// about), so a status committed on any node is what the next answer says.
/// </summary>
public sealed class OcspService(IFleetStore store, OcspResponder responder)
{
    /// <summary>Answers one OCSP request (its DER); a request Fleetkey cannot read is answered malformedRequest, never thrown.</summary>
    public ValueTask<OcspAnswer> RespondAsync(ReadOnlyMemory<byte> request, CancellationToken cancellationToken) =>
        responder.RespondAsync(request, LookupAsync, cancellationToken);

    private async ValueTask<OcspCertificateStatus> LookupAsync(string issuerCertificateId, ReadOnlyMemory<byte> serialNumber, CancellationToken cancellationToken)
    {
        var serial = CertificateInspector.SerialNumber(serialNumber.Span);
        var record = await store.ReadAsync((session, ct) => session.Revocation.FindAsync(issuerCertificateId, serial, ct), cancellationToken);
        return RevocationRules.OcspStatus(record);
    }
}
