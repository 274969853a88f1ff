using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Fleetkey.Pki;
using Fleetkey.Services.Tls;
using Fleetkey.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Fleetkey.Services.Tests.Tls;

public sealed class ServerCertificateProviderTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 3, 14, 15, 9, 26, TimeSpan.Zero);
    private readonly TempDirectory _directory = new();
    private readonly FakeTimeProvider _time = new(Start);
    private readonly LogRecorder _log = new(LogLevel.Information);
    private readonly ILoggerFactory _loggers;
    private CertificateAuthority? _authority;

    public ServerCertificateProviderTests()
    {
        _loggers = LoggerFactory.Create(b => b.AddProvider(_log));
    }

    private CertificateAuthority Authority => _authority!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory.Path);
        _authority = await CertificateAuthority.LoadOrCreateAsync(
            new FileCaMaterialStore(Path.Combine(_directory.Path, "ca")),
            new PkiOptions { DeviceKeyAlgorithm = KeyAlgorithm.EcP256, KeyPoolSize = 0 },
            _time,
            CancellationToken.None);
    }

    public Task DisposeAsync()
    {
        _authority?.Dispose();
        _loggers.Dispose();
        _directory.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public void Create_NoFiles_IssuesForThePublicHostLocalhostAndLoopback()
    {
        var provider = Create(new ServerCertificateOptions { PublicHost = "iot.example.net" });

        var certificate = provider.Current.Certificate;
        Assert.True(certificate.HasPrivateKey);
        var names = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Equal(["iot.example.net", "localhost"], names.EnumerateDnsNames().Order(StringComparer.Ordinal));
        Assert.Equal(["127.0.0.1"], names.EnumerateIPAddresses().Select(a => a.ToString()));
        Assert.Equal(Authority.Issuing.SubjectName.Name, certificate.IssuerName.Name);
        Assert.Equal(Start.AddDays(90), provider.Current.NotAfter, TimeSpan.FromSeconds(1));

        // The chain sent with it ends at the issuing CA, which clients' ca.pem anchors.
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Authority.Root);
        chain.ChainPolicy.ExtraStore.Add(Authority.Issuing);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = Start.UtcDateTime;
        Assert.True(chain.Build(certificate), string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation)));
    }

    [Fact]
    public void Refresh_IssuedCertificate_RenewedOnlyOnceItsRenewalWindowOpens()
    {
        var provider = Create(new ServerCertificateOptions());
        var first = provider.Current;

        _time.Advance(TimeSpan.FromDays(59));
        Assert.False(provider.Refresh());
        Assert.Same(first, provider.Current);

        // 30 days before expiry (day 60 of 90) the renewal window opens.
        _time.Advance(TimeSpan.FromDays(1));
        Assert.True(provider.Refresh());
        Assert.NotEqual(first.Thumbprint, provider.Current.Thumbprint);
        Assert.Equal(_time.GetUtcNow().AddDays(90), provider.Current.NotAfter, TimeSpan.FromSeconds(1));
        Assert.Contains(_log.Of(typeof(ServerCertificateProvider).FullName!), e => e.EventId.Id == 8102);

        // The new one is not renewed again at once.
        Assert.False(provider.Refresh());
    }

    [Fact]
    public void Refresh_FilesRotated_ServesTheNewCertificateWithItsChain()
    {
        var files = new OperatorFiles(_directory.Path);
        var first = files.Write("first.example.net");
        var provider = Create(files.Options());
        Assert.Equal(first, provider.Current.Thumbprint);
        Assert.Equal($"{files.CertificatePath} and {files.KeyPath}", provider.Current.Origin);

        Assert.False(provider.Refresh());

        var second = files.Write("second.example.net");
        Assert.True(provider.Refresh());
        Assert.Equal(second, provider.Current.Thumbprint);
        Assert.False(provider.Refresh());
    }

    [Fact]
    public void Refresh_RotationHalfWritten_KeepsTheCurrentCertificateAndWarnsOnce()
    {
        var files = new OperatorFiles(_directory.Path);
        var first = files.Write("first.example.net");
        var provider = Create(files.Options());

        // The new certificate is written, its key not yet: they do not match.
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        files.Write("second.example.net", keyOverride: otherKey.ExportPkcs8PrivateKeyPem());
        Assert.False(provider.Refresh());
        Assert.False(provider.Refresh());
        Assert.Equal(first, provider.Current.Thumbprint);
        var warnings = _log.Of(typeof(ServerCertificateProvider).FullName!).Where(e => e.EventId.Id == 8103).ToList();
        var warning = Assert.Single(warnings);
        Assert.Contains(files.CertificatePath, warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", warning.Message, StringComparison.Ordinal);

        // Then the key arrives.
        var second = files.Write("second.example.net");
        Assert.True(provider.Refresh());
        Assert.Equal(second, provider.Current.Thumbprint);
    }

    [Fact]
    public void Refresh_FileMissingForAMoment_KeepsTheCurrentCertificate()
    {
        var files = new OperatorFiles(_directory.Path);
        var first = files.Write("first.example.net");
        var provider = Create(files.Options());

        File.Delete(files.KeyPath);
        Assert.False(provider.Refresh());
        Assert.Equal(first, provider.Current.Thumbprint);
    }

    [Theory]
    [InlineData("mismatched", "cannot be used")]
    [InlineData("client-only", "lacks serverAuth")]
    [InlineData("not-pem", "cannot be used")]
    [InlineData("missing", "cannot be read")]
    public void CheckFiles_UnusableFiles_RefusedWithTheFileNamed(string problem, string expected)
    {
        var files = new OperatorFiles(_directory.Path);
        files.Write("bad.example.net", clientOnly: problem == "client-only");
        switch (problem)
        {
            case "mismatched":
                using (var other = ECDsa.Create(ECCurve.NamedCurves.nistP256))
                {
                    File.WriteAllText(files.KeyPath, other.ExportPkcs8PrivateKeyPem());
                }

                break;
            case "not-pem":
                File.WriteAllText(files.CertificatePath, "not a certificate");
                break;
            case "missing":
                File.Delete(files.CertificatePath);
                break;
        }

        var exception = Assert.Throws<InvalidOperationException>(() => ServerCertificateProvider.CheckFiles(files.Options()));
        Assert.Contains(expected, exception.Message, StringComparison.Ordinal);
        Assert.Contains(files.CertificatePath, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckFiles_HugeFile_RefusedBeforeItIsRead()
    {
        var files = new OperatorFiles(_directory.Path);
        files.Write("big.example.net");
        using (var stream = File.Open(files.CertificatePath, FileMode.Append))
        {
            stream.SetLength(2 * 1024 * 1024);
        }

        var exception = Assert.Throws<InvalidOperationException>(() => ServerCertificateProvider.CheckFiles(files.Options()));
        Assert.Contains("more than a PEM certificate chain", exception.Message, StringComparison.Ordinal);
    }

    private ServerCertificateProvider Create(ServerCertificateOptions options) =>
        ServerCertificateProvider.Create(options, Authority, _time, _loggers.CreateLogger<ServerCertificateProvider>());

    /// <summary>The operator's certificate and key files, from a small CA of their own (not Fleetkey's).</summary>
    private sealed class OperatorFiles
    {
        private readonly ECDsa _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        private readonly X509Certificate2 _ca;

        public OperatorFiles(string directory)
        {
            CertificatePath = Path.Combine(directory, "tls.crt");
            KeyPath = Path.Combine(directory, "tls.key");
            var request = new CertificateRequest("CN=Operator CA", _caKey, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            _ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        }

        public string CertificatePath { get; }

        public string KeyPath { get; }

        public ServerCertificateOptions Options() => new() { CertificatePath = CertificatePath, KeyPath = KeyPath };

        /// <summary>Writes a new leaf (then the CA) and its key; returns the leaf's thumbprint.</summary>
        public string Write(string host, string? keyOverride = null, bool clientOnly = false)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest($"CN={host}", key, HashAlgorithmName.SHA256);
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName(host);
            request.CertificateExtensions.Add(names.Build());
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(clientOnly ? "1.3.6.1.5.5.7.3.2" : "1.3.6.1.5.5.7.3.1")], false));
            using var leaf = request.Create(_ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(60), RandomNumberGenerator.GetBytes(16));
            File.WriteAllText(CertificatePath, leaf.ExportCertificatePem() + "\n" + _ca.ExportCertificatePem() + "\n");
            File.WriteAllText(KeyPath, keyOverride ?? key.ExportPkcs8PrivateKeyPem());
            return leaf.GetCertHashString(HashAlgorithmName.SHA256).ToLowerInvariant();
        }
    }
}
