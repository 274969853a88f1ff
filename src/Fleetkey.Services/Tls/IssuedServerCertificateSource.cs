using System.Net;
using Fleetkey.Pki;

namespace Fleetkey.Services.Tls;

/// <summary>
/// A server certificate issued by Fleetkey's CA for the public host, <c>localhost</c> and 127.0.0.1,
/// so that whoever trusts <c>ca.pem</c> (devices already do, for the broker) trusts every listener. It is
/// renewed once less than <see cref="ServerCertificateOptions.RenewBefore"/> of it remains.
/// </summary>
internal sealed class IssuedServerCertificateSource(CertificateAuthority authority, ServerCertificateOptions options) : IServerCertificateSource
{
    public TimeSpan CheckInterval => options.RenewalCheckInterval;

    public ServerCertificate Load()
    {
        var (dnsNames, addresses) = Names(options.PublicHost);
        var certificate = authority.IssueServerCertificate(dnsNames, addresses, options.Validity);
        return new ServerCertificate(certificate, [authority.Issuing], "issued by Fleetkey's CA");
    }

    public bool IsStale(ServerCertificate current, DateTimeOffset now) => now >= current.NotAfter - options.RenewBefore;

    /// <summary>The public host (a name or an address), <c>localhost</c> and 127.0.0.1, each once.</summary>
    internal static (List<string> DnsNames, List<IPAddress> Addresses) Names(string publicHost)
    {
        var dnsNames = new List<string> { "localhost" };
        var addresses = new List<IPAddress> { IPAddress.Loopback };
        if (IPAddress.TryParse(publicHost, out var address))
        {
            if (!address.Equals(IPAddress.Loopback))
            {
                addresses.Add(address);
            }
        }
        else if (!string.Equals(publicHost, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            dnsNames.Insert(0, publicHost);
        }

        return (dnsNames, addresses);
    }
}
