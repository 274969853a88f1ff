using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fleetkey.Pki;

/// <summary>
/// This node's delegated OCSP responder (RFC 6960 4.2.2.2): a key of its own and a short-lived
/// certificate for it from the issuing CA (<see cref="CertificateAuthority.IssueOcspResponderCertificate"/>),
/// made at first use and made again, with a new key, once half of its validity has passed; responses
/// are signed with it (they never outlive it: <see cref="OcspResponder.ResponseValidity"/> is shorter than half).
/// </summary>
/// <remarks>Thread-safe. Nodes do not share their responder keys: each certificate is issued by the CA every node loads.</remarks>
public sealed partial class OcspSigner : IDisposable
{
    /// <summary>How long a responder certificate is valid (a day); a node renews it after half of that.</summary>
    public static readonly TimeSpan DefaultValidity = TimeSpan.FromDays(1);

    private readonly CertificateAuthority _authority;
    private readonly TimeProvider _time;
    private readonly TimeSpan _validity;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private Generation? _current;

    // The generation before the current one stays usable until the next renewal (half a validity), so a
    // response that took it just before a renewal still signs; it is disposed then.
    private Generation? _previous;
    private bool _disposed;

    public OcspSigner(CertificateAuthority authority, TimeProvider time, ILogger<OcspSigner>? logger = null, TimeSpan? validity = null)
    {
        ArgumentNullException.ThrowIfNull(authority);
        ArgumentNullException.ThrowIfNull(time);
        _authority = authority;
        _time = time;
        _validity = validity ?? DefaultValidity;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_validity, TimeSpan.Zero, nameof(validity));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The responder certificate in use now (DER), renewed first when due.</summary>
    public ReadOnlyMemory<byte> CertificateDer => Current().CertificateDer;

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _current?.Key.Dispose();
            _previous?.Key.Dispose();
            _current = null;
            _previous = null;
        }
    }

    internal Generation Current()
    {
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_current is { } current && now < current.RenewAt)
            {
                return current;
            }

            _previous?.Key.Dispose();
            _previous = _current;
            _current = Issue(now);
            return _current;
        }
    }

    private Generation Issue(DateTimeOffset now)
    {
        using var certificate = _authority.IssueOcspResponderCertificate(_validity);
        var notAfter = CertificateInspector.ToUtc(certificate.NotAfter);
        var key = certificate.GetECDsaPrivateKey() ?? throw new InvalidOperationException("The OCSP responder certificate has no EC private key.");

        // ResponderID byKey (RFC 6960 4.2.2.3): the SHA-1 of the responder's public key bits, as the RFC fixes it.
#pragma warning disable CA5350 // SHA-1 is what RFC 6960 names for the key hash; it identifies, it does not protect.
        var keyHash = SHA1.HashData(certificate.PublicKey.EncodedKeyValue.RawData);
#pragma warning restore CA5350
        var serialNumber = CertificateInspector.SerialNumber(certificate);
        LogResponderCertificate(_logger, serialNumber, notAfter);
        return new Generation(certificate.RawData, keyHash, new KeyCopies(key), now + ((notAfter - now) / 2));
    }

    [LoggerMessage(EventId = 720, EventName = "OcspResponderCertificateIssued", Level = LogLevel.Information, Message = "OCSP responder certificate {SerialNumber} issued, valid until {NotAfter}")]
    private static partial void LogResponderCertificate(ILogger logger, string serialNumber, DateTimeOffset notAfter);

    /// <summary>One responder certificate and its key.</summary>
    internal sealed class Generation(byte[] certificateDer, byte[] keyHash, KeyCopies key, DateTimeOffset renewAt)
    {
        public byte[] CertificateDer { get; } = certificateDer;

        public byte[] KeyHash { get; } = keyHash;

        public KeyCopies Key { get; } = key;

        public DateTimeOffset RenewAt { get; } = renewAt;

        /// <summary>The signature algorithm (AlgorithmIdentifier, DER) and the signature of <paramref name="data"/>.</summary>
        public (byte[] Algorithm, byte[] Signature) Sign(byte[] data) => Key.Use(k =>
        {
            var generator = X509SignatureGenerator.CreateForECDsa((ECDsa)k);
            return (generator.GetSignatureAlgorithmIdentifier(HashAlgorithmName.SHA256), generator.SignData(data, HashAlgorithmName.SHA256));
        });
    }
}
