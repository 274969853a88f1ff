using System.Security.Cryptography.X509Certificates;
using Fleetkey.Core.Registry;
using Fleetkey.Pki;
using Fleetkey.Storage;

namespace Fleetkey.Services.Security;

/// <summary>A CA certificate registered by its owner, with its parsed certificate.</summary>
public sealed record RegisteredCa(CaCertificate Record, X509Certificate2 Certificate);

/// <summary>
/// The ACTIVE CA certificates registered by their owners, held in memory for the broker's TLS
/// handshake, which must decide synchronously whether a device certificate chains to one of them.
/// The snapshot is reloaded after every CA change made through this process and, for changes made
/// elsewhere (another node, the CLI), whenever the store changed (the broker polls).
/// </summary>
public sealed class RegisteredCaTrust(IFleetStore store, TimeProvider time)
{
    private volatile IReadOnlyList<RegisteredCa> _active = [];

    /// <summary>The ACTIVE registered CAs as last loaded.</summary>
    public IReadOnlyList<RegisteredCa> Active => _active;

    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var all = await store.ReadAsync((session, ct) => session.CaCertificates.ListAsync(ct), cancellationToken);
        var loaded = new List<RegisteredCa>();
        foreach (var ca in all.Where(c => !c.Managed && c.Status == CertificateStatus.Active))
        {
            loaded.Add(new RegisteredCa(ca, CertificateInspector.Parse(ca.Pem).Certificate));
        }

        // Certificates of the old snapshot are left to the finalizer: a handshake may still be reading one.
        _active = loaded;
    }

    /// <summary>
    /// The ACTIVE registered CA that signed <paramref name="certificate"/> (its signature verifies with
    /// the CA's key), provided both are within their validity; null otherwise.
    /// </summary>
    public RegisteredCa? FindIssuer(X509Certificate2 certificate)
    {
        var now = time.GetUtcNow().UtcDateTime;
        if (certificate.NotBefore.ToUniversalTime() > now || certificate.NotAfter.ToUniversalTime() < now)
        {
            return null;
        }

        foreach (var ca in _active)
        {
            if (ca.Certificate.NotAfter.ToUniversalTime() >= now && CertificateInspector.IsIssuedBy(certificate, ca.Certificate))
            {
                return ca;
            }
        }

        return null;
    }
}
