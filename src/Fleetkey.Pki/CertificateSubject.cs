using System.Security.Cryptography.X509Certificates;

namespace Fleetkey.Pki;

/// <summary>
/// The subject of a certificate the CA issues. The issuer decides it: a name it chose, or, only for a
/// CSR whose sender the caller trusts to name itself (an operator), the subject the CSR asked for.
/// Nothing else of a CSR is ever copied (<see cref="CertificateAuthority.IssueFromCsr"/>).
/// </summary>
public sealed class CertificateSubject
{
    private readonly X500DistinguishedName? _name;

    private CertificateSubject(X500DistinguishedName? name, string description)
    {
        _name = name;
        Description = description;
    }

    /// <summary>The CSR's subject, kept as sent: for requests an operator authenticated (as AWS's CreateCertificateFromCsr).</summary>
    public static CertificateSubject FromRequest { get; } = new(null, "the CSR's subject");

    /// <summary>The one fixed subject of certificates not issued to a known thing (AWS also uses one fixed subject).</summary>
    public static CertificateSubject Device { get; } = new(new X500DistinguishedName(CertificateAuthority.DeviceSubject), CertificateAuthority.DeviceSubject);

    /// <summary>
    /// <c>CN=<paramref name="commonName"/></c> and nothing else (built attribute by attribute, so a name
    /// holding <c>,</c> or <c>=</c> stays one common name).
    /// </summary>
    public static CertificateSubject CommonName(string commonName)
    {
        ArgumentException.ThrowIfNullOrEmpty(commonName);
        var builder = new X500DistinguishedNameBuilder();
        builder.AddCommonName(commonName);
        return new CertificateSubject(builder.Build(), "CN=" + commonName);
    }

    /// <summary>What this subject is, for messages and tests.</summary>
    public string Description { get; }

    /// <summary>Whether the certificate takes the CSR's subject (the only case where anything but the key comes from the CSR).</summary>
    public bool KeepsRequestedSubject => _name is null;

    /// <summary>The name to issue with, given the one the CSR asked for (null: there is no CSR).</summary>
    internal X500DistinguishedName For(X500DistinguishedName? requested) =>
        _name ?? requested ?? throw new ArgumentException("A certificate for a new key has no CSR whose subject it could keep.", nameof(requested));

    public override string ToString() => Description;
}
