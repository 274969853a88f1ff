using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Fleetkey.Services.Tls;

/// <summary>
/// One TLS identity of Fleetkey's listeners: the certificate with its private key and the native TLS
/// context made from it and its chain once, so that no handshake builds a chain.
/// </summary>
/// <remarks>
/// Never disposed while in use: a replaced identity may still be finishing handshakes, so it is left
/// to the garbage collector.
/// </remarks>
public sealed class ServerCertificate
{
    internal ServerCertificate(X509Certificate2 certificate, X509Certificate2Collection chain, string origin)
    {
        Certificate = certificate;
        Context = SslStreamCertificateContext.Create(certificate, chain, offline: true);
        NotBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero);
        NotAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        Origin = origin;
    }

    /// <summary>The leaf certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The certificate and its chain as SslStream sends them.</summary>
    public SslStreamCertificateContext Context { get; }

    public DateTimeOffset NotBefore { get; }

    public DateTimeOffset NotAfter { get; }

    /// <summary>Where the identity came from, for the log: "issued by Fleetkey's CA" or the file paths.</summary>
    public string Origin { get; }

    /// <summary>SHA-256 of the certificate's DER, lowercase hex: how the log and tests tell two identities apart.</summary>
    public string Thumbprint => Certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256).ToLowerInvariant();
}
