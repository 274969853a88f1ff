using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;
using Fleetkey.Pki;
using Fleetkey.Services.Provisioning;
using Fleetkey.Services.Security;
using Fleetkey.Testing;

namespace Fleetkey.Services.Tests.Security;

/// <summary>
/// <see cref="ServiceDatabase"/> plus a real Fleetkey CA (EC device keys, for speed) and the
/// certificate, principal, policy and registration services over the same store. The CA stays in files:
/// these tests are about the services; the database-backed CA store is covered by the app tests.
/// </summary>
internal sealed class SecurityServices : IAsyncDisposable
{
    public const string AllowConnect = """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]}""";

    private static readonly CancellationToken None = CancellationToken.None;
    private readonly TempDirectory _caDirectory = new();
    private CertificateAuthority? _authority;
    private CertificateService? _certificates;
    private RegistrationService? _registration;

    public ServiceDatabase Db { get; } = new();

    public IotScope Scope => Db.Scope;

    public CertificateAuthority Authority => _authority ?? throw new InvalidOperationException("Not initialized.");

    public CertificateService Certificates => _certificates ?? throw new InvalidOperationException("Not initialized.");

    public RegistrationService Registration => _registration ?? throw new InvalidOperationException("Not initialized.");

    public PrincipalService Principals { get; private set; } = null!;

    public PolicyService Policies { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Db.InitializeAsync();
        _authority = await CertificateAuthority.LoadOrCreateAsync(
            new FileCaMaterialStore(Path.Combine(_caDirectory.Path, "ca")),
            new PkiOptions { DeviceKeyAlgorithm = KeyAlgorithm.EcP256, KeyPoolSize = 2 },
            Db.Time,
            None);
        _certificates = new CertificateService(Db.Store, _authority, Db.Time);
        Principals = new PrincipalService(Db.Store, Db.Time);
        Policies = new PolicyService(Db.Store, Db.Time);
        _registration = new RegistrationService(Db.Store, Db.Things, Db.ThingGroups, _certificates, Policies, Principals);
        await _certificates.EnsureManagedCaAsync(None);
    }

    public async ValueTask DisposeAsync()
    {
        _authority?.Dispose();
        await Db.DisposeAsync();
        _caDirectory.Dispose();
    }

    public string CertificateArn(string certificateId) => Arn.For(Scope, ResourceKind.Certificate, certificateId);

    public string GroupArn(string groupName) => Arn.ThingGroup(Scope, groupName);

    public async Task<Certificate> CreateCertificateAsync(bool active = false) =>
        (await Certificates.CreateKeysAndCertificateAsync(active, None)).Certificate;

    public Task<Thing> CreateThingAsync(string name, string? type = null, IReadOnlyDictionary<string, string>? attributes = null) =>
        Db.Things.CreateAsync(name, type, attributes, null, None);

    public Task<ThingGroup> CreateGroupAsync(string name, string? parent = null) =>
        Db.ThingGroups.CreateAsync(name, parent, null, null, null, None);

    public Task CreatePolicyAsync(string name, string document = AllowConnect) =>
        Policies.CreateAsync(name, document, null, None);

    // ---- reads straight from the store ----

    public Task<Certificate?> StoredCertificateAsync(string certificateId) =>
        Db.Store.ReadAsync((session, ct) => session.Certificates.GetAsync(certificateId, ct), None);

    public async Task<IReadOnlyList<ThingPrincipal>> PrincipalsOfThingAsync(string thingName) =>
        await Db.Store.ReadAsync((session, ct) => session.ThingPrincipals.ListForThingAsync(thingName, null, 1000, ct), None);

    public async Task<IReadOnlyList<string>> ThingsOfCertificateAsync(string certificateId) =>
        (await Db.Store.ReadAsync((session, ct) => session.ThingPrincipals.ListForPrincipalAsync(PolicyTarget.CertificateKind, certificateId, null, 1000, ct), None))
        .Select(p => p.ThingName).ToArray();

    public Task<IReadOnlyList<string>> PoliciesOfCertificateAsync(string certificateId) =>
        Db.Store.ReadAsync((session, ct) => session.Policies.ListAttachedAsync([new PolicyTarget(PolicyTarget.CertificateKind, certificateId)], null, 1000, ct), None);

    public Task<IReadOnlyList<string>> PoliciesOfGroupAsync(string groupName) =>
        Db.Store.ReadAsync((session, ct) => session.Policies.ListAttachedAsync([new PolicyTarget(PolicyTarget.ThingGroupKind, groupName)], null, 1000, ct), None);

    public Task<IReadOnlyList<PolicyTarget>> TargetsOfPolicyAsync(string policyName) =>
        Db.Store.ReadAsync((session, ct) => session.Policies.ListTargetsAsync(policyName, null, 1000, ct), None);

    public Task<Policy?> StoredPolicyAsync(string name) =>
        Db.Store.ReadAsync((session, ct) => session.Policies.GetAsync(name, ct), None);

    public Task<IReadOnlyList<Policy>> AllPoliciesAsync() =>
        Db.Store.ReadAsync((session, ct) => session.Policies.ListAsync(true, null, 1000, ct), None);

    public Task<IReadOnlyList<Certificate>> AllCertificatesAsync() =>
        Db.Store.ReadAsync((session, ct) => session.Certificates.ListAsync(null, true, null, 1000, ct), None);

    // ---- CSRs and outside certificates, made with .NET as a device would ----

    public static string EcCsr(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new CertificateRequest(subject, key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
    }

    public static string RsaCsr(string subject, int bits)
    {
        using var key = RSA.Create(bits);
        return new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequestPem();
    }

    /// <summary>A self-signed CA that Fleetkey does not know and a leaf it signed, both as PEM.</summary>
    public static (string CaPem, string LeafPem) OutsideCaAndLeaf()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Outside Root CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var now = ServiceDatabase.Start;
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddYears(5));

        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var leafRequest = new CertificateRequest("CN=outside-device", leafKey, HashAlgorithmName.SHA256);
        leafRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        using var leaf = leafRequest.Create(ca, now.AddDays(-1), now.AddYears(1), [1, 2, 3, 4, 5, 6, 7, 8]);
        return (ca.ExportCertificatePem(), leaf.ExportCertificatePem());
    }
}
