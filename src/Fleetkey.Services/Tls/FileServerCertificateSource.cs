using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Fleetkey.Services.Tls;

/// <summary>
/// The operator's own certificate: a PEM file with the certificate then its chain, and a PEM file with
/// its unencrypted private key (what certbot and cert-manager write). The files are read again whenever
/// their content changes, so a rotation needs no restart; a rotation caught half-written, or one that
/// does not load, leaves the current identity in place until the files load.
/// </summary>
internal sealed class FileServerCertificateSource(string certificatePath, string keyPath, ServerCertificateOptions options) : IServerCertificateSource
{
    /// <summary>Larger PEM files than this are not a certificate chain and a key.</summary>
    internal const int MaxFileBytes = 1024 * 1024;

    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");

    private byte[]? _loaded;
    private byte[]? _failed;

    public TimeSpan CheckInterval => options.FileCheckInterval;

    public ServerCertificate Load()
    {
        var (certificatePem, keyPem, digest) = Read();
        try
        {
            var certificate = Parse(certificatePem, keyPem, out var chain);
            _loaded = digest;
            _failed = null;
            return new ServerCertificate(certificate, chain, $"{certificatePath} and {keyPath}");
        }
        catch
        {
            _failed = digest;
            throw;
        }
    }

    public bool IsStale(ServerCertificate current, DateTimeOffset now)
    {
        byte[] digest;
        try
        {
            digest = Read().Digest;
        }
        catch (InvalidOperationException)
        {
            // Missing or unreadable for a moment (a rotation replacing the files): keep what is loaded.
            return false;
        }

        return !Same(digest, _loaded) && !Same(digest, _failed);
    }

    private static bool Same(byte[] digest, byte[]? other) => other is not null && CryptographicOperations.FixedTimeEquals(digest, other);

    private (string CertificatePem, string KeyPem, byte[] Digest) Read()
    {
        var certificate = ReadFile(certificatePath, "--tls-cert");
        var key = ReadFile(keyPath, "--tls-key");
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(certificate);
        hash.AppendData(key);
        return (System.Text.Encoding.UTF8.GetString(certificate), System.Text.Encoding.UTF8.GetString(key), hash.GetHashAndReset());
    }

    private static byte[] ReadFile(string path, string flag)
    {
        try
        {
            var length = new FileInfo(path).Length;
            if (length > MaxFileBytes)
            {
                throw new InvalidOperationException($"{flag} {path} is {length:N0} bytes, more than a PEM certificate chain or key ({MaxFileBytes:N0} at most).");
            }

            return File.ReadAllBytes(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"{flag} {path} cannot be read: {exception.Message}", exception);
        }
    }

    private X509Certificate2 Parse(string certificatePem, string keyPem, out X509Certificate2Collection chain)
    {
        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPem(certificatePem, keyPem);
        }
        catch (Exception exception) when (exception is CryptographicException or ArgumentException)
        {
            // Not PEM, an encrypted key, or a key of another certificate (mid-rotation, say).
            throw new InvalidOperationException(
                $"--tls-cert {certificatePath} with --tls-key {keyPath} cannot be used: {exception.Message} (the certificate file holds PEM certificates, the leaf first; the key file its unencrypted PEM private key)",
                exception);
        }

        if (certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault() is { } usage
            && !usage.EnhancedKeyUsages.Cast<Oid>().Any(u => u.Value == ServerAuthentication.Value))
        {
            certificate.Dispose();
            throw new InvalidOperationException($"--tls-cert {certificatePath} is not a TLS server certificate (its extended key usage lacks serverAuth).");
        }

        var all = new X509Certificate2Collection();
        all.ImportFromPem(certificatePem);
        chain = [];
        foreach (var other in all)
        {
            if (other.RawDataMemory.Span.SequenceEqual(certificate.RawDataMemory.Span))
            {
                other.Dispose();
            }
            else
            {
                chain.Add(other);
            }
        }

        return certificate;
    }
}
