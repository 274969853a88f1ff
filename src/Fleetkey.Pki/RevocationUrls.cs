namespace Fleetkey.Pki;

/// <summary>
/// Where Fleetkey publishes revocation information, relative to the device listener's public URL: the
/// paths the certificates name (CRL distribution point, Authority Information Access) and the device
/// listener serves, in one place.
/// </summary>
public static class RevocationUrls
{
    /// <summary><c>/crl/ID.crl</c>: the CRL of the issuing CA whose certificate id is ID (DER).</summary>
    public const string CrlPath = "/crl";

    /// <summary><c>/ocsp</c> (POST) and <c>/ocsp/BASE64</c> (GET): the OCSP responder.</summary>
    public const string OcspPath = "/ocsp";

    /// <summary><c>/ca/ID.cer</c>: a Fleetkey CA certificate (DER), the AIA "CA Issuers" location.</summary>
    public const string CaPath = "/ca";

    /// <summary>The paths above: what the device listener serves besides the device routes (and the control plane does not).</summary>
    public static IReadOnlyList<string> Paths { get; } = [CrlPath, OcspPath, CaPath];

    public const string CrlExtension = ".crl";

    public const string CaExtension = ".cer";

    /// <summary>
    /// The device listener as relying parties reach it: its scheme and port, and the host devices are
    /// told to use (<c>--public-host</c>), not the address it binds.
    /// </summary>
    public static Uri Base(Uri deviceListener, string publicHost)
    {
        ArgumentNullException.ThrowIfNull(deviceListener);
        ArgumentException.ThrowIfNullOrWhiteSpace(publicHost);
        try
        {
            return new UriBuilder(deviceListener.Scheme, publicHost, deviceListener.Port, "/").Uri;
        }
        catch (UriFormatException exception)
        {
            throw new ArgumentException($"The public host '{publicHost}' cannot be the host of a URL.", nameof(publicHost), exception);
        }
    }

    public static Uri Crl(Uri baseUri, string caCertificateId) => new(baseUri, $"{CrlPath[1..]}/{caCertificateId}{CrlExtension}");

    public static Uri Ocsp(Uri baseUri) => new(baseUri, OcspPath[1..]);

    public static Uri CaIssuers(Uri baseUri, string caCertificateId) => new(baseUri, $"{CaPath[1..]}/{caCertificateId}{CaExtension}");
}
