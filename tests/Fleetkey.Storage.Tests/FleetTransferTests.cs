using System.Text;
using Fleetkey.Core.Registry;
using Fleetkey.Storage.Transfer;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Fleetkey.Storage.Tests;

/// <summary>
/// <c>fleetkey export</c> / <c>import</c> at the store level: a fleet moves between any two stores
/// (SQLite ↔ PostgreSQL) with every row unchanged, and a bad export changes nothing.
/// </summary>
public sealed class FleetTransferTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 29, 0, 0, 0, 123, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start);

    public static TheoryData<string, string> Pairs
    {
        get
        {
            var kinds = KindNames();
            var data = new TheoryData<string, string>();
            foreach (var source in kinds)
            {
                foreach (var target in kinds)
                {
                    data.Add(source, target);
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public async Task ExportThenImport_KeepsEveryRowExactly(string sourceKind, string targetKind)
    {
        await using var source = await TestStores.CreateAsync(sourceKind, _time);
        await using var target = await TestStores.CreateAsync(targetKind, _time);
        await PopulateAsync(source);

        var exported = await ExportAsync(source);
        var imported = await FleetTransfer.ImportAsync(target.Store, new MemoryStream(exported), caMaterialSink: null, progress: null, CancellationToken.None);
        var reexported = await ExportAsync(target);

        Assert.Equal(Body(exported), Body(reexported));
        Assert.Equal(3, imported.Tables.Single(t => t.Table == "things").Rows);
        Assert.Equal(1, imported.Tables.Single(t => t.Table == FleetTransfer.CaMaterialTable).Rows);

        // And through the repositories: ids, versions, dates and secrets are the source's.
        var thing = await target.Store.ReadAsync((s, ct) => s.Things.GetAsync("sensor-ü", ct), CancellationToken.None);
        Assert.NotNull(thing);
        Assert.Equal("thing-id-2", thing.ThingId);
        Assert.Equal(7, thing.Version);
        Assert.Equal(Start.AddMinutes(2), thing.CreatedAt);
        Assert.Equal("wert ✓", thing.Attributes["ort"]);
        var leaf = await target.Store.ReadAsync((s, ct) => s.ThingGroups.GetAsync("a-leaf", ct), CancellationToken.None);
        Assert.Equal("z-root/m-middle/a-leaf", leaf!.Path);
        Assert.Equal(["sensor-ü"], await target.Store.ReadAsync((s, ct) => s.ThingGroups.ListThingNamesAsync(leaf, false, null, 10, ct), CancellationToken.None));
        var key = await target.Store.ReadAsync((s, ct) => s.AccessKeys.FindAsync("AKIDTRANSFER0001", ct), CancellationToken.None);
        Assert.Equal("secret/with+chars=", key!.SecretAccessKey);
        var policy = await target.Store.ReadAsync((s, ct) => s.Policies.GetAsync("device-policy", ct), CancellationToken.None);
        Assert.Equal((2, 3), (policy!.DefaultVersionId, policy.NextVersionId));
        var template = await target.Store.ReadAsync((s, ct) => s.ProvisioningTemplates.GetAsync("seed-template", ct), CancellationToken.None);
        Assert.Equal(
            new ProvisioningTemplate("seed-template", null, false, ProvisioningTemplateType.Jitp, "arn:aws:iam::000000000000:role/Other", null, null, 2, 3, Start, Start.AddHours(2)),
            template);
        var versions = await target.Store.ReadAsync((s, ct) => s.ProvisioningTemplates.ListVersionsAsync("seed-template", null, 10, ct), CancellationToken.None);
        Assert.Equal([1L, 2L], versions.Select(v => v.VersionId));
        Assert.Equal(Start.AddHours(2), versions[1].CreatedAt);
        Assert.Equal(2, imported.Tables.Single(t => t.Table == "provisioning_templates").Rows);
        Assert.Equal(3, imported.Tables.Single(t => t.Table == "provisioning_template_versions").Rows);
        var ca = await target.Store.ReadAsync((s, ct) => s.CaMaterial.GetAsync(ct), CancellationToken.None);
        Assert.Equal("root-key", ca!.RootKeyPem);
        Assert.True(ca.KeysEncrypted);

        // Fleet provisioning: an unused ownership token and a provisioning claim move along.
        var token = await target.Store.ReadAsync((s, ct) => s.FleetProvisioning.GetTokenAsync("token-hash-1", ct), CancellationToken.None);
        Assert.Equal(new OwnershipToken("token-hash-1", "cert-id-1", "claim-cert-1", "claim-client", Start, Start.AddHours(1)), token);
        var claim = await target.Store.ReadAsync((s, ct) => s.FleetProvisioning.GetClaimAsync("claim-cert-2", ct), CancellationToken.None);
        Assert.Equal(new ProvisioningClaim("claim-cert-2", "a-template", Start, Start.AddMinutes(5)), claim);

        // The device endpoint's state: a used token stays used, the audit and registrations move along.
        Assert.True(await target.Store.ReadAsync((s, ct) => s.DeviceEndpoint.IsSignatureUsedAsync("sig-hash-1", ct), CancellationToken.None));
        Assert.Equal(
            new DeviceRegistration("cert-id-1", "sensor-1", Start, Start.AddMinutes(3)),
            await target.Store.ReadAsync((s, ct) => s.DeviceEndpoint.GetRegistrationAsync("cert-id-1", ct), CancellationToken.None));
        Assert.Equal(
            new DeviceAttempt(TransferAttemptId, Start, "sensor-1", "192.0.2.1", "registered", null, "cert-id-1"),
            Assert.Single(await target.Store.ReadAsync((s, ct) => s.DeviceEndpoint.ListAttemptsAsync(null, 10, ct), CancellationToken.None)));
        var group = await target.Store.ReadAsync((s, ct) => s.EnrollmentGroups.GetAsync("line-2", ct), CancellationToken.None);
        Assert.Equal(("factory", "SN-[0-9]+", true, false, "plant-1"), (group!.TemplateName, group.SerialNumberPattern, group.AllowReprovisioning, group.Enabled, group.Parameters["Site"]));
        Assert.Equal(new byte[] { 1, 2, 3, 250 }, group.GroupKeyData);
        Assert.Equal(new byte[] { 9, 9 }, group.GroupKeyKekSalt);
        Assert.Equal(Start.AddHours(2), group.LastModifiedAt);
        var enrollment = await target.Store.ReadAsync((s, ct) => s.Enrollments.GetAsync("SN-0042", ct), CancellationToken.None);
        Assert.Equal(new byte[] { 0, 255, 7 }, enrollment!.SecretData);
        Assert.Null(enrollment.SecretKekSalt);
    }

    private static readonly Guid TransferAttemptId = Guid.Parse("019ac8a0-0000-7000-8000-000000000001");

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task Import_WithCaSink_HandsTheCaOverInsteadOfStoringIt(string kind)
    {
        await using var source = await TestStores.CreateAsync(kind, _time);
        await using var target = await TestStores.CreateAsync(kind, _time);
        await PopulateAsync(source);
        var received = new List<StoredCaMaterial>();

        await FleetTransfer.ImportAsync(target.Store, new MemoryStream(await ExportAsync(source)), (m, _) => { received.Add(m); return Task.CompletedTask; }, null, CancellationToken.None);

        Assert.Equal([new StoredCaMaterial("root-cert", "root-key", "issuing-cert", "issuing-key", true)], received);
        Assert.Null(await target.Store.ReadAsync((s, ct) => s.CaMaterial.GetAsync(ct), CancellationToken.None));
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task Export_WithCaRow_ReplacesTheTable(string kind)
    {
        await using var source = await TestStores.CreateAsync(kind, _time);
        var row = FleetTransfer.CaMaterialRow(new StoredCaMaterial("file-root", "file-root-key", "file-issuing", "file-issuing-key", false), Start);
        using var output = new MemoryStream();

        await FleetTransfer.ExportAsync(source.Store, output, row, null, Start, CancellationToken.None);

        var lines = Lines(output.ToArray());
        var header = Array.FindIndex(lines, l => l.StartsWith("{\"table\":\"ca_material\"", StringComparison.Ordinal));
        Assert.Contains("\"file-root-key\"", lines[header + 1], StringComparison.Ordinal);
        Assert.StartsWith("{\"end\":true,\"rows\":1}", lines[header + 2], StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task Import_IntoStoreWithRows_IsRefusedAndChangesNothing(string kind)
    {
        await using var source = await TestStores.CreateAsync(kind, _time);
        await using var target = await TestStores.CreateAsync(kind, _time);
        await PopulateAsync(source);
        await target.Store.WriteAsync(async (s, ct) => { await s.AccessKeys.InsertAsync(new AccessKey("AKIDALREADYTHERE", "x", null, Start), ct); return true; }, CancellationToken.None);
        var before = await ExportAsync(target);

        var export = await ExportAsync(source);

        var error = await Assert.ThrowsAsync<TransferException>(() => FleetTransfer.ImportAsync(target.Store, new MemoryStream(export), null, null, CancellationToken.None));

        Assert.Contains("not empty (access_keys has 1 rows)", error.Message, StringComparison.Ordinal);
        Assert.Equal(Body(before), Body(await ExportAsync(target)));
    }

    public static TheoryData<string, string> BrokenExports
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var kind in KindNames())
            {
                data.Add(kind, "cut-off");
                data.Add(kind, "duplicate-row");
                data.Add(kind, "wrong-count");
                data.Add(kind, "unknown-column");
                data.Add(kind, "newer-schema");
                data.Add(kind, "not-an-export");
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(BrokenExports))]
    public async Task Import_BrokenExport_RollsBackEverything(string kind, string breakage)
    {
        await using var source = await TestStores.CreateAsync(kind, _time);
        await using var target = await TestStores.CreateAsync(kind, _time);
        await PopulateAsync(source);
        var lines = Lines(await ExportAsync(source)).ToList();
        var thingRow = lines.FindIndex(l => l.StartsWith("[\"sensor-1\"", StringComparison.Ordinal));
        var thingsHeader = lines.FindIndex(l => l.StartsWith("{\"table\":\"things\"", StringComparison.Ordinal));
        string expected;
        switch (breakage)
        {
            case "cut-off":
                lines.RemoveRange(lines.Count - 3, 3);
                expected = "without its end line";
                break;
            case "duplicate-row":
                lines.Insert(thingRow, lines[thingRow]);
                expected = "Rows of 'things' were refused";
                break;
            case "wrong-count":
                lines[^1] = "{\"end\":true,\"rows\":1}";
                expected = "declares 1 rows";
                break;
            case "unknown-column":
                lines[thingsHeader] = lines[thingsHeader].Replace("\"version\"", "\"version; DROP TABLE things\"", StringComparison.Ordinal);
                expected = "do not match";
                break;
            case "newer-schema":
                lines[0] = lines[0].Replace("\"schemaVersion\":", "\"schemaVersion\":9", StringComparison.Ordinal);
                expected = "schema version 9";
                break;
            default:
                lines[0] = "{\"hello\":1}";
                expected = "not a Fleetkey export";
                break;
        }

        var broken = Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n");
        var error = await Assert.ThrowsAsync<TransferException>(() => FleetTransfer.ImportAsync(target.Store, new MemoryStream(broken), null, null, CancellationToken.None));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Equal(0, (await FleetTransfer.ExportAsync(target.Store, new MemoryStream(), null, null, Start, CancellationToken.None)).TotalRows);
    }

    private static List<string> KindNames() => TestStores.Kinds.Cast<object[]>().Select(row => (string)row[0]).ToList();

    private async Task<byte[]> ExportAsync(TestStore store)
    {
        using var output = new MemoryStream();
        await FleetTransfer.ExportAsync(store.Store, output, caMaterial: null, progress: null, _time.GetUtcNow(), CancellationToken.None);
        return output.ToArray();
    }

    private static string[] Lines(byte[] export) => Encoding.UTF8.GetString(export).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    // Everything but the first line, which names the export time.
    private static string Body(byte[] export) => string.Join('\n', Lines(export).Skip(1));

    /// <summary>A row in every table; names chosen so insertion order differs from name order.</summary>
    private static Task<bool> PopulateAsync(TestStore store) =>
        store.Store.WriteAsync(
            async (s, ct) =>
            {
                await s.AccessKeys.InsertAsync(new AccessKey("AKIDTRANSFER0001", "secret/with+chars=", "root", Start), ct);
                await s.ThingTypes.InsertAsync(new ThingType("sensor", "type-id-1", "a \"quoted\" description", ["ort", "model"], "{\"propagatingAttributes\":[]}", true, Start.AddDays(1), Start), ct);
                await s.Things.InsertAsync(new Thing("sensor-1", "thing-id-1", "sensor", new Dictionary<string, string> { ["model"] = "m1" }, 1, Start.AddMinutes(1)), ct);
                await s.Things.InsertAsync(new Thing("sensor-ü", "thing-id-2", null, new Dictionary<string, string> { ["ort"] = "wert ✓", ["model"] = "m2" }, 7, Start.AddMinutes(2)), ct);
                await s.Things.InsertAsync(new Thing("gateway", "thing-id-3", null, new Dictionary<string, string>(), 1, Start.AddMinutes(3)), ct);
                await s.ThingGroups.InsertAsync(new ThingGroup("z-root", "group-id-1", null, "z-root", null, new Dictionary<string, string>(), 1, Start), ct);
                await s.ThingGroups.InsertAsync(new ThingGroup("m-middle", "group-id-2", "z-root", "z-root/m-middle", "middle", new Dictionary<string, string> { ["floor"] = "2" }, 3, Start), ct);
                await s.ThingGroups.InsertAsync(new ThingGroup("a-leaf", "group-id-3", "m-middle", "z-root/m-middle/a-leaf", null, new Dictionary<string, string>(), 1, Start), ct);
                await s.ThingGroups.AddThingAsync("a-leaf", "sensor-ü", Start.AddMinutes(5), ct);
                await s.ThingGroups.AddThingAsync("z-root", "gateway", Start.AddMinutes(6), ct);
                await s.Tags.SetAsync("thing", "gateway", [new Tag("owner", "ops"), new Tag("cost-centre", "42")], ct);
                await s.CaCertificates.InsertAsync(new CaCertificate("ca-id", "ca-pem", "CN=Fleetkey", "ACTIVE", "DISABLE", true, Start, Start.AddYears(10), Start, Start, 1, "gen-ca"), ct);
                await s.CaCertificates.InsertAsync(
                    new CaCertificate("customer-ca", "customer-pem", "CN=Acme", "INACTIVE", "ENABLE", false, Start, Start.AddYears(5), Start.AddMinutes(1), Start.AddMinutes(2), 3, "gen-cca", "SNI_ONLY", new CaRegistrationConfig("{\"Resources\":{}}", null, "arn:aws:iam::000000000000:role/JITP")),
                    ct);
                await s.CaCertificates.EnsureRegistrationCodeAsync("000000000000", new string('c', 64), Start, ct);
                await s.Certificates.InsertAsync(new Certificate("cert-id-1", "ca-id", CertificateStatus.Active, "pem-1", "DEFAULT", Start, Start.AddYears(20), Start, Start.AddSeconds(1), 2, "gen-1"), ct);
                await s.Certificates.InsertAsync(new Certificate("cert-id-2", null, CertificateStatus.Inactive, "pem-2", "SNI_ONLY", Start, Start.AddYears(20), Start, Start, 1, "gen-2"), ct);
                await s.ThingPrincipals.AttachAsync(new ThingPrincipal("sensor-1", "cert", "cert-id-1", ThingPrincipalType.Exclusive), Start, ct);
                await s.Policies.InsertAsync(new Policy("device-policy", 1, 2, Start, Start, "gen-p"), new PolicyVersion("device-policy", 1, "{\"Version\":\"2012-10-17\"}", Start), ct);
                await s.Policies.InsertVersionAsync(new PolicyVersion("device-policy", 2, "{\"Version\":\"2012-10-17\",\"Statement\":[]}", Start.AddHours(1)), ct);
                await s.Policies.UpdateAsync(new Policy("device-policy", 2, 3, Start, Start.AddHours(1), "gen-p2"), ct);
                await s.Policies.AttachAsync("device-policy", new PolicyTarget(PolicyTarget.CertificateKind, "cert-id-1"), Start, ct);
                await s.Policies.AttachAsync("device-policy", new PolicyTarget(PolicyTarget.ThingGroupKind, "m-middle"), Start, ct);
                await s.ProvisioningTemplates.InsertAsync(
                    new ProvisioningTemplate("seed-template", "the seed's \"template\"", true, ProvisioningTemplateType.FleetProvisioning, "arn:aws:iam::000000000000:role/Provisioning", "arn:aws:lambda:eu-west-1:000000000000:function:hook", "2020-04-01", 1, 2, Start, Start),
                    new ProvisioningTemplateVersion("seed-template", 1, "{\"Resources\":{}}", Start),
                    ct);
                await s.ProvisioningTemplates.InsertVersionAsync(new ProvisioningTemplateVersion("seed-template", 2, "{\"Resources\":{ }}", Start.AddHours(2)), ct);
                await s.ProvisioningTemplates.UpdateAsync(new ProvisioningTemplate("seed-template", null, false, ProvisioningTemplateType.Jitp, "arn:aws:iam::000000000000:role/Other", null, null, 2, 3, Start, Start.AddHours(2)), ct);
                await s.ProvisioningTemplates.InsertAsync(
                    new ProvisioningTemplate("a-template", null, false, ProvisioningTemplateType.FleetProvisioning, "arn:aws:iam::000000000000:role/Provisioning", null, null, 1, 2, Start.AddHours(3), Start.AddHours(3)),
                    new ProvisioningTemplateVersion("a-template", 1, "{}", Start.AddHours(3)),
                    ct);
                await s.CaMaterial.TryInsertAsync(new StoredCaMaterial("root-cert", "root-key", "issuing-cert", "issuing-key", true), Start, ct);
                await s.DeviceEndpoint.TryUseSignatureAsync("sig-hash-1", Start.AddHours(1), ct);
                await s.DeviceEndpoint.InsertRegistrationAsync(new DeviceRegistration("cert-id-1", "sensor-1", Start, Start.AddMinutes(3)), ct);
                await s.DeviceEndpoint.InsertAttemptAsync(new DeviceAttempt(TransferAttemptId, Start, "sensor-1", "192.0.2.1", "registered", null, "cert-id-1"), ct);
                await s.EnrollmentGroups.InsertAsync(new EnrollmentGroup("line-2", "factory", "SN-[0-9]+", true, false, new Dictionary<string, string> { ["Site"] = "plant-1" }, [1, 2, 3, 250], [9, 9], Start, Start.AddHours(2)), ct);
                await s.Enrollments.InsertAsync(new Enrollment("SN-0042", "factory", false, true, new Dictionary<string, string>(), [0, 255, 7], null, Start, Start), ct);
                await s.FleetProvisioning.InsertTokenAsync(new OwnershipToken("token-hash-1", "cert-id-1", "claim-cert-1", "claim-client", Start, Start.AddHours(1)), ct);
                await s.FleetProvisioning.InsertClaimAsync(new ProvisioningClaim("claim-cert-2", "a-template", Start, Start.AddMinutes(5)), ct);
                return true;
            },
            CancellationToken.None);
}
