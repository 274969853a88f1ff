using Fleetkey.Core.Registry;
using Fleetkey.Pki;
using Fleetkey.Services.Provisioning;
using Fleetkey.Storage;
using Fleetkey.Storage.Sql;

namespace Fleetkey.Testing;

/// <summary>
/// A fleet with a row in every exported table, every row as the product writes it (real certificates
/// from a real CA, sealed secrets, valid policies and templates), so that an import's checks accept it
/// whole; names chosen so that insertion order differs from name order. The CA keys are encrypted
/// under <see cref="Passphrase"/>, as in a fleet run with FLEETKEY_CA_PASSPHRASE.
/// </summary>
public sealed class TransferFleet
{
    public const string Passphrase = "transfer test passphrase";
    public const string AccessKeySecret = "secret/with+chars=";
    public static readonly DateTimeOffset Start = new(2026, 11, 29, 0, 0, 0, 123, TimeSpan.Zero);
    public static readonly Guid AttemptId = Guid.Parse("019ac8a0-0000-7000-8000-000000000001");
    public static readonly string ThingTypeId = "0c6f1d7e-6d39-4f0e-9a51-5d1ab0a0b001";
    public static readonly string ThingId2 = "0c6f1d7e-6d39-4f0e-9a51-5d1ab0a0b012";
    public static readonly string TokenHash = new('a', 64);
    public static readonly string SignatureHash = new('b', 64);
    public static readonly string ClaimCertificateId = new('d', 64);
    public static readonly string ClaimedCertificateId = new('e', 64);
    public static readonly string DeletedCertificateId = new('f', 64);
    public static readonly byte[] ClearSecret = [.. Enumerable.Range(0, 32).Select(i => (byte)(255 - i))];

    public const string PolicyDocument1 = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"*\"}]}";
    public const string PolicyDocument2 = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"iot:Connect\",\"iot:Publish\"],\"Resource\":\"*\"}]}";
    public const string TemplateBody = "{\"Resources\":{}}";
    public const string TemplateBody2 = "{\"Parameters\":{\"ThingName\":{\"Type\":\"String\"}},\"Resources\":{}}";

    private static readonly Lazy<Task<TransferFleet>> SharedEncrypted = new(() => CreateAsync(encrypted: true));
    private static readonly Lazy<Task<TransferFleet>> SharedClear = new(() => CreateAsync(encrypted: false));

    private TransferFleet(CaMaterial material, string issuingId, IssuedCertificate certificate1, IssuedCertificate certificate2, CaCertificate customerCa, SealedSecret groupKey, bool encrypted)
    {
        Encrypted = encrypted;
        Material = material;
        IssuingId = issuingId;
        Certificate1 = certificate1;
        Certificate2 = certificate2;
        CustomerCa = customerCa;
        GroupKey = groupKey;
    }

    /// <summary>Whether the CA keys and the group key are sealed under <see cref="Passphrase"/> (else in the clear, as without one).</summary>
    public bool Encrypted { get; }

    /// <summary>The passphrase an export and import of this fleet use.</summary>
    public string? ImportPassphrase => Encrypted ? Passphrase : null;

    public CaMaterial Material { get; }

    public string IssuingId { get; }

    public IssuedCertificate Certificate1 { get; }

    public IssuedCertificate Certificate2 { get; }

    public CaCertificate CustomerCa { get; }

    public SealedSecret GroupKey { get; }

    public StoredCaMaterial StoredMaterial => new(Material.RootCertificatePem, Material.RootKeyPem, Material.IssuingCertificatePem, Material.IssuingKeyPem, Material.KeysEncrypted);

    /// <summary>
    /// The fleet's CA and certificates, made once per test run (key generation and PBKDF2 are slow):
    /// with its CA keys and group key sealed under <see cref="Passphrase"/>, or in the clear.
    /// </summary>
    public static Task<TransferFleet> GetAsync(bool encrypted = true) => encrypted ? SharedEncrypted.Value : SharedClear.Value;

    public Task<bool> PopulateAsync(SqlFleetStore store) =>
        store.WriteAsync(
            async (s, ct) =>
            {
                await s.AccessKeys.InsertAsync(new AccessKey("AKIDTRANSFER0001", AccessKeySecret, "root ✓", Start) { FullAccess = true }, ct);
                await s.AccessKeys.InsertAsync(
                    new AccessKey("AKIDTRANSFER0002", AccessKeySecret + "2", null, Start.AddSeconds(1))
                    {
                        Status = AccessKey.Inactive,
                        PreviousSecretAccessKey = AccessKeySecret + "1",
                        PreviousSecretExpiresAt = Start.AddHours(1),
                        LastUsedAt = Start.AddMinutes(2),
                        LastUsedSource = "192.0.2.7",
                        Policies = [new AccessKeyPolicy("provisioner", Fleetkey.Services.Access.ShippedPolicies.Find("provisioner")!, Start)],
                    },
                    ct);
                var chain = await s.Audit.ChainAsync(ct);
                await s.Audit.AppendAsync(
                    Fleetkey.Services.Audit.AuditChain.Extend(chain,
                    [
                        AuditRecord.Unnumbered(Start, "3f1b5f0e-1d7e-4a51-9a51-5d1ab0a0b0a1", "api", "AKIDTRANSFER0002", "DeleteCACertificate",
                            ["arn:aws:iot:us-east-1:000000000000:cacert/" + new string('a', 64)], "127.0.0.2", "aws-cli/2 ✓", 403, "AccessDeniedException"),
                        AuditRecord.Unnumbered(Start.AddSeconds(1), "3f1b5f0e-1d7e-4a51-9a51-5d1ab0a0b0a2", "cli", null, "CreateAccessKey", [], "local", null, 200, null),
                    ]),
                    ct);
                await s.ThingTypes.InsertAsync(new ThingType("sensor", ThingTypeId, "a \"quoted\" description, ü ✓", ["ort", "model"], "{\"propagatingAttributes\":[]}", true, Start.AddDays(1), Start), ct);
                await s.Things.InsertAsync(new Thing("sensor-1", "0c6f1d7e-6d39-4f0e-9a51-5d1ab0a0b011", "sensor", new Dictionary<string, string> { ["model"] = "m1" }, 1, Start.AddMinutes(1)), ct);
                await s.Things.InsertAsync(new Thing("sensor-2", ThingId2, null, new Dictionary<string, string> { ["ort"] = "wert/1", ["model"] = "m2" }, 7, Start.AddMinutes(2)), ct);
                await s.Things.InsertAsync(new Thing("gateway", "0c6f1d7e-6d39-4f0e-9a51-5d1ab0a0b013", null, new Dictionary<string, string>(), 1, Start.AddMinutes(3)), ct);
                await s.ThingGroups.InsertAsync(new ThingGroup("z-root", "0c6f1d7e-6d39-4f0e-9a51-5d1ab0a0b021", null, "z-root", null, new Dictionary<string, string>(), 1, Start), ct);
                await s.ThingGroups.InsertAsync(new ThingGroup("m-middle", "0c6f1d7e-6d39-4f0e-9a51-5d1ab0a0b022", "z-root", "z-root/m-middle", "middle ✓", new Dictionary<string, string> { ["floor"] = "2" }, 3, Start), ct);
                await s.ThingGroups.InsertAsync(new ThingGroup("a-leaf", "0c6f1d7e-6d39-4f0e-9a51-5d1ab0a0b023", "m-middle", "z-root/m-middle/a-leaf", null, new Dictionary<string, string>(), 1, Start), ct);
                await s.ThingGroups.AddThingAsync("a-leaf", "sensor-2", Start.AddMinutes(5), ct);
                await s.ThingGroups.AddThingAsync("z-root", "gateway", Start.AddMinutes(6), ct);
                await s.Tags.SetAsync("thingtype", "sensor", [new Tag("owner", "ops"), new Tag("cost-centre", "42")], ct);
                await s.CaCertificates.InsertAsync(ManagedCa(), ct);
                await s.CaCertificates.InsertAsync(CustomerCa, ct);
                await s.CaCertificates.EnsureRegistrationCodeAsync("000000000000", new string('c', 64), Start, ct);
                await s.Certificates.InsertAsync(new Certificate(Certificate1.CertificateId, IssuingId, CertificateStatus.Active, Certificate1.CertificatePem, "DEFAULT", Certificate1.NotBefore, Certificate1.NotAfter, Start, Start.AddSeconds(1), 2, "0c6f1d7e-6d39-4f0e-9a51-5d1ab0a0b031", Certificate1.SerialNumber), ct);
                await s.Certificates.InsertAsync(new Certificate(Certificate2.CertificateId, null, CertificateStatus.Inactive, Certificate2.CertificatePem, "SNI_ONLY", Certificate2.NotBefore, Certificate2.NotAfter, Start, Start, 1, "0c6f1d7e-6d39-4f0e-9a51-5d1ab0a0b032", Certificate2.SerialNumber), ct);

                // A revoked certificate deleted since: its tombstone keeps it on the CRL. And the CRL number handed out last.
                await s.Certificates.InsertAsync(new Certificate(DeletedCertificateId, IssuingId, CertificateStatus.Revoked, "deleted", "DEFAULT", Start, Start.AddYears(20), Start, Start.AddMinutes(9), 2, "0c6f1d7e-6d39-4f0e-9a51-5d1ab0a0b033", "0f0f"), ct);
                await s.Certificates.DeleteAsync(DeletedCertificateId, ct);
                await s.Revocation.NextCrlNumberAsync(IssuingId, Start.ToUnixTimeMilliseconds(), ct);
                await s.ThingPrincipals.AttachAsync(new ThingPrincipal("sensor-1", "cert", Certificate1.CertificateId, ThingPrincipalType.Exclusive), Start, ct);
                await s.Policies.InsertAsync(new Policy("device-policy", 1, 2, Start, Start, "0c6f1d7e-6d39-4f0e-9a51-5d1ab0a0b041"), new PolicyVersion("device-policy", 1, PolicyDocument1, Start), ct);
                await s.Policies.InsertVersionAsync(new PolicyVersion("device-policy", 2, PolicyDocument2, Start.AddHours(1)), ct);
                await s.Policies.UpdateAsync(new Policy("device-policy", 2, 3, Start, Start.AddHours(1), "0c6f1d7e-6d39-4f0e-9a51-5d1ab0a0b042"), ct);
                await s.Policies.AttachAsync("device-policy", new PolicyTarget(PolicyTarget.CertificateKind, Certificate1.CertificateId), Start, ct);
                await s.Policies.AttachAsync("device-policy", new PolicyTarget(PolicyTarget.ThingGroupKind, "m-middle"), Start, ct);
                await s.ProvisioningTemplates.InsertAsync(
                    new ProvisioningTemplate("seed-template", "the seed's \"template\" ✓", true, ProvisioningTemplateType.FleetProvisioning, "arn:aws:iam::000000000000:role/Provisioning", "arn:aws:lambda:eu-west-1:000000000000:function:hook", "2020-04-01", 1, 2, Start, Start),
                    new ProvisioningTemplateVersion("seed-template", 1, TemplateBody, Start),
                    ct);
                await s.ProvisioningTemplates.InsertVersionAsync(new ProvisioningTemplateVersion("seed-template", 2, TemplateBody2, Start.AddHours(2)), ct);
                await s.ProvisioningTemplates.UpdateAsync(SeedTemplate, ct);
                await s.ProvisioningTemplates.InsertAsync(
                    new ProvisioningTemplate("a-template", null, false, ProvisioningTemplateType.FleetProvisioning, "arn:aws:iam::000000000000:role/Provisioning", null, null, 1, 2, Start.AddHours(3), Start.AddHours(3)),
                    new ProvisioningTemplateVersion("a-template", 1, TemplateBody, Start.AddHours(3)),
                    ct);
                await s.ProvisioningTemplates.InsertAsync(
                    new ProvisioningTemplate("factory", null, true, ProvisioningTemplateType.FleetProvisioning, "arn:aws:iam::000000000000:role/Provisioning", null, null, 1, 2, Start, Start),
                    new ProvisioningTemplateVersion("factory", 1, TemplateBody2, Start),
                    ct);
                await s.CaMaterial.TryInsertAsync(StoredMaterial, Start, ct);
                await s.DeviceEndpoint.TryUseSignatureAsync(SignatureHash, Start.AddHours(1), ct);
                await s.DeviceEndpoint.InsertRegistrationAsync(new DeviceRegistration(Certificate1.CertificateId, "sensor-1", Start, Start.AddMinutes(3)), ct);
                await s.CertificateRenewals.InsertAsync(new CertificateRenewal(Certificate1.CertificateId, Certificate2.CertificateId, Start, Start.AddDays(7)), ct);
                await s.DeviceEndpoint.InsertAttemptAsync(new DeviceAttempt(AttemptId, Start, "sensor-1", "192.0.2.1", "registered", null, Certificate1.CertificateId), ct);
                await s.EnrollmentGroups.InsertAsync(new EnrollmentGroup("line-2", "factory", "SN-[0-9]+", true, false, new Dictionary<string, string> { ["Site"] = "plant-1" }, GroupKey.Data, GroupKey.KekSalt, Start, Start.AddHours(2)), ct);
                await s.Enrollments.InsertAsync(new Enrollment("SN-0042", "factory", false, true, new Dictionary<string, string>(), ClearSecret, null, Start, Start), ct);
                await s.FleetProvisioning.InsertTokenAsync(new OwnershipToken(TokenHash, ClaimedCertificateId, ClaimCertificateId, "claim-client", Start, Start.AddHours(1)), ct);
                await s.FleetProvisioning.InsertClaimAsync(new ProvisioningClaim(ClaimCertificateId, "a-template", Start, Start.AddMinutes(5)), ct);
                return true;
            },
            CancellationToken.None);

    public static ProvisioningTemplate SeedTemplate { get; } =
        new("seed-template", null, false, ProvisioningTemplateType.Jitp, "arn:aws:iam::000000000000:role/Other", null, null, 2, 3, Start, Start.AddHours(2));

    private CaCertificate ManagedCa()
    {
        var issuing = CertificateInspector.Parse(Material.IssuingCertificatePem);
        using (issuing.Certificate)
        {
            return new CaCertificate(
                IssuingId, Material.IssuingCertificatePem, issuing.Subject, "ACTIVE", "DISABLE", true, issuing.NotBefore, issuing.NotAfter, Start, Start, 1, "0c6f1d7e-6d39-4f0e-9a51-5d1ab0a0b051");
        }
    }

    private static async Task<TransferFleet> CreateAsync(bool encrypted)
    {
        var passphrase = encrypted ? Passphrase : null;
        var caStore = new MemoryCaMaterialStore();
        var options = new PkiOptions { CaKeyAlgorithm = KeyAlgorithm.EcP256, DeviceKeyAlgorithm = KeyAlgorithm.EcP256, KeyPoolSize = 0, Passphrase = passphrase };
        using var authority = await CertificateAuthority.LoadOrCreateAsync(caStore, options, TimeProvider.System, CancellationToken.None);
        var certificate1 = await authority.IssueWithNewKeyAsync(CancellationToken.None);
        var certificate2 = await authority.IssueWithNewKeyAsync(CancellationToken.None);

        // A customer's CA, registered with Fleetkey (RegisterCACertificate).
        var customerStore = new MemoryCaMaterialStore();
        using var customer = await CertificateAuthority.LoadOrCreateAsync(
            customerStore, new PkiOptions { CaKeyAlgorithm = KeyAlgorithm.EcP256, DeviceKeyAlgorithm = KeyAlgorithm.EcP256, KeyPoolSize = 0, CaName = "Acme" }, TimeProvider.System, CancellationToken.None);
        var parsed = CertificateInspector.Parse(customer.Issuing.ExportCertificatePem());
        var customerCa = new CaCertificate(
            parsed.CertificateId, parsed.CertificatePem, parsed.Subject, "INACTIVE", "ENABLE", false, parsed.NotBefore, parsed.NotAfter,
            Start.AddMinutes(1), Start.AddMinutes(2), 3, "0c6f1d7e-6d39-4f0e-9a51-5d1ab0a0b061", "SNI_ONLY",
            new CaRegistrationConfig(TemplateBody, null, "arn:aws:iam::000000000000:role/JITP"));

        var groupKey = new PassphraseSealer(passphrase).Seal(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray(), EnrollmentSecrets.GroupKeyContext("line-2"));
        return new TransferFleet(caStore.Material!, authority.IssuingCertificateId, certificate1, certificate2, customerCa, groupKey, encrypted);
    }

    private sealed class MemoryCaMaterialStore : ICaMaterialStore
    {
        public CaMaterial? Material { get; private set; }

        public Task<CaMaterial?> LoadAsync(CancellationToken cancellationToken) => Task.FromResult(Material);

        public Task SaveAsync(CaMaterial material, CancellationToken cancellationToken)
        {
            Material = material;
            return Task.CompletedTask;
        }
    }
}
