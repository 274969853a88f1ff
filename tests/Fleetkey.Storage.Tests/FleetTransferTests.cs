using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Transfer;
using Fleetkey.Storage.Transfer;
using Fleetkey.Testing;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Fleetkey.Storage.Tests;

/// <summary>
/// <c>fleetkey export</c> / <c>import</c> at the store level: a fleet moves between any two stores
/// (SQLite ↔ PostgreSQL) with every row unchanged; a damaged, altered or invalid export changes nothing.
/// </summary>
public sealed class FleetTransferTests
{
    private static readonly DateTimeOffset Start = TransferFleet.Start;
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
        var fleet = await TransferFleet.GetAsync();
        await using var source = await TestStores.CreateAsync(sourceKind, _time);
        await using var target = await TestStores.CreateAsync(targetKind, _time);
        await fleet.PopulateAsync(source.Store);

        var exported = await ExportAsync(source, fleet.ImportPassphrase);
        var imported = await ImportAsync(target, exported, fleet.ImportPassphrase);
        var reexported = await ExportAsync(target, fleet.ImportPassphrase);

        Assert.Equal(Body(exported), Body(reexported));

        // Every table has rows, so every table's rules ran on real rows (a column without a rule fails the import).
        Assert.All(imported.Tables, t => Assert.True(t.Rows > 0, $"{t.Table} has no row in the test fleet"));
        Assert.Equal(FleetTransfer.ExportedTables, imported.Tables.Select(t => t.Table));
        Assert.Equal(3, imported.Tables.Single(t => t.Table == "things").Rows);

        // And through the repositories: ids, versions, dates and secrets are the source's.
        var thing = await target.Store.ReadAsync((s, ct) => s.Things.GetAsync("sensor-2", ct), CancellationToken.None);
        Assert.NotNull(thing);
        Assert.Equal(TransferFleet.ThingId2, thing.ThingId);
        Assert.Equal(7, thing.Version);
        Assert.Equal(Start.AddMinutes(2), thing.CreatedAt);
        Assert.Equal("wert/1", thing.Attributes["ort"]);
        var type = await target.Store.ReadAsync((s, ct) => s.ThingTypes.GetAsync("sensor", ct), CancellationToken.None);
        Assert.Equal("a \"quoted\" description, ü ✓", type!.Description);
        var leaf = await target.Store.ReadAsync((s, ct) => s.ThingGroups.GetAsync("a-leaf", ct), CancellationToken.None);
        Assert.Equal("z-root/m-middle/a-leaf", leaf!.Path);
        Assert.Equal(["sensor-2"], await target.Store.ReadAsync((s, ct) => s.ThingGroups.ListThingNamesAsync(leaf, false, null, 10, ct), CancellationToken.None));
        var key = await target.Store.ReadAsync((s, ct) => s.AccessKeys.FindAsync("AKIDTRANSFER0001", ct), CancellationToken.None);
        Assert.Equal(TransferFleet.AccessKeySecret, key!.SecretAccessKey);
        var policy = await target.Store.ReadAsync((s, ct) => s.Policies.GetAsync("device-policy", ct), CancellationToken.None);
        Assert.Equal((2, 3), (policy!.DefaultVersionId, policy.NextVersionId));
        var template = await target.Store.ReadAsync((s, ct) => s.ProvisioningTemplates.GetAsync("seed-template", ct), CancellationToken.None);
        Assert.Equal(TransferFleet.SeedTemplate, template);
        var versions = await target.Store.ReadAsync((s, ct) => s.ProvisioningTemplates.ListVersionsAsync("seed-template", null, 10, ct), CancellationToken.None);
        Assert.Equal([1L, 2L], versions.Select(v => v.VersionId));
        Assert.Equal(Start.AddHours(2), versions[1].CreatedAt);
        var ca = await target.Store.ReadAsync((s, ct) => s.CaMaterial.GetAsync(ct), CancellationToken.None);
        Assert.Equal(fleet.StoredMaterial, ca);
        Assert.True(ca!.KeysEncrypted);
        var certificate = await target.Store.ReadAsync((s, ct) => s.Certificates.GetAsync(fleet.Certificate1.CertificateId, ct), CancellationToken.None);
        Assert.Equal((CertificateStatus.Active, fleet.Certificate1.CertificatePem, fleet.IssuingId), (certificate!.Status, certificate.Pem, certificate.CaCertificateId));

        // Fleet provisioning: an unused ownership token and a provisioning claim move along.
        var token = await target.Store.ReadAsync((s, ct) => s.FleetProvisioning.GetTokenAsync(TransferFleet.TokenHash, ct), CancellationToken.None);
        Assert.Equal(new OwnershipToken(TransferFleet.TokenHash, TransferFleet.ClaimedCertificateId, TransferFleet.ClaimCertificateId, "claim-client", Start, Start.AddHours(1)), token);
        var claim = await target.Store.ReadAsync((s, ct) => s.FleetProvisioning.GetClaimAsync(TransferFleet.ClaimCertificateId, ct), CancellationToken.None);
        Assert.Equal(new ProvisioningClaim(TransferFleet.ClaimCertificateId, "a-template", Start, Start.AddMinutes(5)), claim);

        // The device endpoint's state: a used token stays used, the audit and registrations move along.
        Assert.True(await target.Store.ReadAsync((s, ct) => s.DeviceEndpoint.IsSignatureUsedAsync(TransferFleet.SignatureHash, ct), CancellationToken.None));
        Assert.Equal(
            new DeviceRegistration(fleet.Certificate1.CertificateId, "sensor-1", Start, Start.AddMinutes(3)),
            await target.Store.ReadAsync((s, ct) => s.DeviceEndpoint.GetRegistrationAsync(fleet.Certificate1.CertificateId, ct), CancellationToken.None));
        Assert.Equal(
            new DeviceAttempt(TransferFleet.AttemptId, Start, "sensor-1", "192.0.2.1", "registered", null, fleet.Certificate1.CertificateId),
            Assert.Single(await target.Store.ReadAsync((s, ct) => s.DeviceEndpoint.ListAttemptsAsync(null, 10, ct), CancellationToken.None)));
        var group = await target.Store.ReadAsync((s, ct) => s.EnrollmentGroups.GetAsync("line-2", ct), CancellationToken.None);
        Assert.Equal(("factory", "SN-[0-9]+", true, false, "plant-1"), (group!.TemplateName, group.SerialNumberPattern, group.AllowReprovisioning, group.Enabled, group.Parameters["Site"]));
        Assert.Equal(fleet.GroupKey.Data, group.GroupKeyData);
        Assert.Equal(fleet.GroupKey.KekSalt, group.GroupKeyKekSalt);
        Assert.Equal(Start.AddHours(2), group.LastModifiedAt);
        var enrollment = await target.Store.ReadAsync((s, ct) => s.Enrollments.GetAsync("SN-0042", ct), CancellationToken.None);
        Assert.Equal(TransferFleet.ClearSecret, enrollment!.SecretData);
        Assert.Null(enrollment.SecretKekSalt);
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task Export_CoversEveryTableOfTheSchemaOrSaysWhyNot(string kind)
    {
        await using var store = await TestStores.CreateAsync(kind, _time);
        var schema = await StoreSchemaReader.ReadAsync(store);

        var named = FleetTransfer.ExportedTables.Concat(FleetTransfer.TablesNotExported.Keys).ToList();
        var unnamed = schema.Tables.Keys.Except(named, StringComparer.Ordinal).ToList();
        var unknown = named.Except(schema.Tables.Keys, StringComparer.Ordinal).ToList();
        Assert.True(
            unnamed.Count == 0 && unknown.Count == 0,
            $"Neither exported nor in FleetTransfer.TablesNotExported: [{string.Join(", ", unnamed)}]; named there but not in the schema: [{string.Join(", ", unknown)}]");
        Assert.Empty(named.GroupBy(t => t, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key));
        Assert.Contains("device_key_pool", FleetTransfer.TablesNotExported.Keys);
        Assert.All(FleetTransfer.TablesNotExported, t => Assert.False(string.IsNullOrWhiteSpace(t.Value), $"{t.Key} is left out without a reason"));
    }

    /// <summary>
    /// An exported table's header names every column of the table, once: the stores' tables are read
    /// with SELECT *, but the CA material of a store that keeps it in files is a row built by hand
    /// (<see cref="FleetTransfer.CaMaterialRow"/>), and an import refuses a header that misses a column.
    /// And the export writes only strings and integers, so an exported column is TEXT or an integer.
    /// </summary>
    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task Export_HeadersNameEveryColumnOfTheirTable(string kind)
    {
        var fleet = await TransferFleet.GetAsync(encrypted: false);
        await using var store = await TestStores.CreateAsync(kind, _time);
        var schema = await StoreSchemaReader.ReadAsync(store);
        using var withCaRow = new MemoryStream();
        await FleetTransfer.ExportAsync(
            store.Store, withCaRow, new ExportOptions { CaMaterial = FleetTransfer.CaMaterialRow(fleet.StoredMaterial, Start), Now = Start }, CancellationToken.None);

        foreach (var export in new[] { await ExportAsync(store, null), withCaRow.ToArray() })
        {
            var headers = Lines(export).Where(l => l.StartsWith("{\"table\":", StringComparison.Ordinal)).Select(l => JsonNode.Parse(l)!).ToList();
            Assert.Equal(FleetTransfer.ExportedTables, headers.Select(h => (string)h["table"]!));
            foreach (var header in headers)
            {
                var table = schema.Tables[(string)header["table"]!];
                var columns = header["columns"]!.AsArray().Select(c => (string)c!).ToList();
                var missing = table.Columns.Select(c => c.Name).Except(columns, StringComparer.Ordinal).ToList();
                var unknown = columns.Except(table.Columns.Select(c => c.Name), StringComparer.Ordinal).ToList();
                Assert.True(
                    missing.Count == 0 && unknown.Count == 0 && columns.Count == table.Columns.Count,
                    $"{table.Name}'s header: missing [{string.Join(", ", missing)}], not in the table [{string.Join(", ", unknown)}], columns [{string.Join(", ", columns)}]");
                Assert.All(table.Columns, c => Assert.True(
                    PortableTypes.Of(schema.Dialect, c.Type) is PortableTypes.Text or PortableTypes.WholeNumber,
                    $"{table.Name}.{c.Name} is {c.Type}: an export writes only strings and integers"));
            }
        }
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task ImportRules_NameEveryColumnOfEveryExportedTable(string kind)
    {
        await using var store = await TestStores.CreateAsync(kind, _time);
        var schema = await StoreSchemaReader.ReadAsync(store);
        foreach (var table in FleetTransfer.ExportedTables)
        {
            var columns = schema.Tables[table].Columns.Select(c => c.Name);
            Assert.Equal(columns.Order(StringComparer.Ordinal), ImportRules.Tables[table].Select(c => c.Name).Order(StringComparer.Ordinal));
        }

        Assert.Equal(FleetTransfer.ExportedTables.Order(StringComparer.Ordinal), ImportRules.Tables.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task Import_WithCaSink_HandsTheCaOverInsteadOfStoringIt(string kind)
    {
        var fleet = await TransferFleet.GetAsync(encrypted: false);
        await using var source = await TestStores.CreateAsync(kind, _time);
        await using var target = await TestStores.CreateAsync(kind, _time);
        await fleet.PopulateAsync(source.Store);
        var received = new List<StoredCaMaterial>();

        await FleetTransfer.ImportAsync(
            target.Store,
            new MemoryStream(await ExportAsync(source, null)),
            new ImportOptions(new FleetImportChecker(null)) { CaMaterialSink = (m, _) => { received.Add(m); return Task.CompletedTask; } },
            CancellationToken.None);

        Assert.Equal([fleet.StoredMaterial], received);
        Assert.Null(await target.Store.ReadAsync((s, ct) => s.CaMaterial.GetAsync(ct), CancellationToken.None));
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task Export_WithCaRow_ReplacesTheTable(string kind)
    {
        var fleet = await TransferFleet.GetAsync(encrypted: false);
        await using var source = await TestStores.CreateAsync(kind, _time);
        var row = FleetTransfer.CaMaterialRow(fleet.StoredMaterial, Start);
        using var output = new MemoryStream();

        await FleetTransfer.ExportAsync(source.Store, output, new ExportOptions { CaMaterial = row, Now = Start }, CancellationToken.None);

        var lines = Lines(output.ToArray());
        var header = Array.FindIndex(lines, l => l.StartsWith("{\"table\":\"ca_material\"", StringComparison.Ordinal));
        Assert.Contains(JsonEncodedText.Encode(fleet.Material.IssuingKeyPem, System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping).ToString(), lines[header + 1], StringComparison.Ordinal);
        Assert.StartsWith("{\"end\":true,\"rows\":1,\"sha256\":\"", lines[header + 2], StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task Import_IntoStoreWithRows_IsRefusedAndChangesNothing(string kind)
    {
        var fleet = await TransferFleet.GetAsync(encrypted: false);
        await using var source = await TestStores.CreateAsync(kind, _time);
        await using var target = await TestStores.CreateAsync(kind, _time);
        await fleet.PopulateAsync(source.Store);
        await target.Store.WriteAsync(async (s, ct) => { await s.AccessKeys.InsertAsync(new AccessKey("AKIDALREADYTHERE", "x", null, Start), ct); return true; }, CancellationToken.None);
        var before = await ExportAsync(target, null);

        var error = await Assert.ThrowsAsync<TransferException>(() => ImportAsync(target, fleet, ExportAsync(source, null)));

        Assert.Contains("not empty (access_keys has rows)", error.Message, StringComparison.Ordinal);
        Assert.Equal(Body(before), Body(await ExportAsync(target, null)));
    }

    public static TheoryData<string, string> OneByteChanges => Cases("cert-status", "issuing-key", "access-key-secret", "thing-version");

    /// <summary>Issue 16, defect 5: one byte changed inside a value imported with exit 0.</summary>
    [Theory]
    [MemberData(nameof(OneByteChanges))]
    public async Task Import_OneByteChanged_IsRefusedByTheDigestAndChangesNothing(string kind, string change)
    {
        var fleet = await TransferFleet.GetAsync(encrypted: false);
        await using var source = await TestStores.CreateAsync(kind, _time);
        await using var target = await TestStores.CreateAsync(kind, _time);
        await fleet.PopulateAsync(source.Store);
        var lines = Lines(await ExportAsync(source, null)).ToList();
        ChangeOneByte(lines, change);

        var error = await Assert.ThrowsAsync<TransferException>(() => ImportAsync(target, Join(lines), null));

        Assert.Contains("SHA-256 does not match", error.Message, StringComparison.Ordinal);
        await AssertEmptyAsync(target);
    }

    /// <summary>
    /// The same changes with the digest computed again, as someone changing the file on purpose would:
    /// with a CA passphrase, the MAC (which needs the passphrase) refuses each of them.
    /// </summary>
    [Theory]
    [MemberData(nameof(OneByteChanges))]
    public async Task Import_ChangedWithDigestRecomputed_IsRefusedByTheMac(string kind, string change)
    {
        var fleet = await TransferFleet.GetAsync(encrypted: true);
        await using var source = await TestStores.CreateAsync(kind, _time);
        await using var target = await TestStores.CreateAsync(kind, _time);
        await fleet.PopulateAsync(source.Store);
        var lines = Lines(await ExportAsync(source, TransferFleet.Passphrase)).ToList();
        ChangeOneByte(lines, change);
        Reseal(lines);

        var error = await Assert.ThrowsAsync<TransferException>(() => ImportAsync(target, Join(lines), TransferFleet.Passphrase));

        Assert.Contains("MAC does not verify", error.Message, StringComparison.Ordinal);
        await AssertEmptyAsync(target);
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task Import_MacStrippedAndDigestRecomputed_IsRefusedWhenThePassphraseIsSet(string kind)
    {
        var fleet = await TransferFleet.GetAsync(encrypted: true);
        await using var source = await TestStores.CreateAsync(kind, _time);
        await using var target = await TestStores.CreateAsync(kind, _time);
        await fleet.PopulateAsync(source.Store);
        var lines = Lines(await ExportAsync(source, TransferFleet.Passphrase)).ToList();
        var header = JsonNode.Parse(lines[0])!;
        header["integrity"] = JsonNode.Parse("{\"digest\":\"sha256\",\"mac\":null}");
        lines[0] = header.ToJsonString();
        ChangeOneByte(lines, "access-key-secret");
        Reseal(lines);

        var error = await Assert.ThrowsAsync<TransferException>(() => ImportAsync(target, Join(lines), TransferFleet.Passphrase));
        Assert.Contains("has no MAC", error.Message, StringComparison.Ordinal);

        // Without the passphrase the CA keys (encrypted) cannot be checked: refused as well.
        var locked = await Assert.ThrowsAsync<TransferException>(() => ImportAsync(target, Join(lines), null));
        Assert.Contains("no CA passphrase is configured", locked.Message, StringComparison.Ordinal);
        await AssertEmptyAsync(target);
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task Import_ExportWithMac_NeedsThePassphrase(string kind)
    {
        var fleet = await TransferFleet.GetAsync(encrypted: true);
        await using var source = await TestStores.CreateAsync(kind, _time);
        await using var target = await TestStores.CreateAsync(kind, _time);
        await fleet.PopulateAsync(source.Store);
        var export = await ExportAsync(source, TransferFleet.Passphrase);

        var error = await Assert.ThrowsAsync<TransferException>(() => ImportAsync(target, export, null));
        Assert.Contains("set FLEETKEY_CA_PASSPHRASE", error.Message, StringComparison.Ordinal);

        var wrong = await Assert.ThrowsAsync<TransferException>(() => ImportAsync(target, export, "another passphrase"));
        Assert.Contains("MAC does not verify", wrong.Message, StringComparison.Ordinal);
        await AssertEmptyAsync(target);
    }

    public static TheoryData<string, string> RuleBreaks => Cases(
        "cert-status", "issuing-key-mismatch", "root-key-garbage", "version-zero", "version-as-text", "certificate-id", "certificate-dates", "policy-document", "template-body",
        "uuid", "attribute-index", "group-path-row", "group-path-parent", "dangling-policy-target", "dangling-principal", "tag-on-missing-resource",
        "tag-kind", "second-managed-ca", "default-version", "secret-length", "sealed-secret-without-passphrase", "access-key-secret-short", "nul-in-text",
        "enrollment-template-missing", "serial-number", "bad-pattern", "instant");

    /// <summary>
    /// Rows that break a rule the product relies on, with the export's digest intact (as when the source
    /// store holds them): refused, naming the table, the row and the column, never quoting a secret.
    /// </summary>
    [Theory]
    [MemberData(nameof(RuleBreaks))]
    public async Task Import_RowBreakingAProductRule_IsRefusedNamingTableRowAndColumn(string kind, string breakage)
    {
        var fleet = await TransferFleet.GetAsync(encrypted: false);
        await using var source = await TestStores.CreateAsync(kind, _time);
        await using var target = await TestStores.CreateAsync(kind, _time);
        await fleet.PopulateAsync(source.Store);
        var lines = Lines(await ExportAsync(source, null)).ToList();
        string[] expected;
        string? secret = null;
        switch (breakage)
        {
            case "cert-status":
                Change(lines, "certificates", r => r["status"]!.GetValue<string>() == "ACTIVE", "status", "aCTIVE");
                expected = ["certificates row ", ": status: 'aCTIVE' is not one of ACTIVE, INACTIVE, REVOKED"];
                break;
            case "issuing-key-mismatch":
                // A key that reads but is not the certificate's: the root key as issuing key.
                Change(lines, "ca_material", _ => true, "issuing_key_pem", fleet.Material.RootKeyPem);
                expected = ["ca_material row 1: the CA material cannot be used: The issuing CA private key does not belong to the issuing CA certificate."];
                break;
            case "root-key-garbage":
                Change(lines, "ca_material", _ => true, "root_key_pem", "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n");
                expected = ["ca_material row 1: the CA material cannot be used: The root CA private key is not a readable PEM private key."];
                secret = "MIGHAgEAMBMGByqGSM49";
                break;
            case "version-zero":
                Change(lines, "things", r => r["name"]!.GetValue<string>() == "gateway", "version", 0);
                expected = ["things row 1: version: 0 is not positive"];
                break;
            case "version-as-text":
                Change(lines, "things", r => r["name"]!.GetValue<string>() == "gateway", "version", "1");
                expected = ["things row 1: version: must be an integer"];
                break;
            case "certificate-id":
                Change(lines, "certificates", r => r["status"]!.GetValue<string>() == "INACTIVE", "certificate_id", new string('0', 64));
                expected = ["certificates row ", ": certificate_id: is not the SHA-256 of the certificate in pem"];
                break;
            case "certificate-dates":
                Change(lines, "certificates", r => r["status"]!.GetValue<string>() == "INACTIVE", "not_after", 4_000_000_000_000L);
                expected = ["not_before, not_after: are not the validity of the certificate in pem"];
                break;
            case "policy-document":
                Change(lines, "policy_versions", r => r["version_id"]!.GetValue<long>() == 1, "document", "{\"Version\":\"2012-10-17\"}");
                expected = ["policy_versions row 1: document: is not a policy document"];
                break;
            case "template-body":
                Change(lines, "provisioning_template_versions", r => r["template_name"]!.GetValue<string>() == "a-template", "body", "{\"Nonsense\":{}}");
                expected = ["provisioning_template_versions row 1: body: is not a valid provisioning template"];
                break;
            case "uuid":
                Change(lines, "things", r => r["name"]!.GetValue<string>() == "sensor-2", "thing_id", "thing-id-2");
                expected = ["things row 3: thing_id: 'thing-id-2' is not a UUID"];
                break;
            case "attribute-index":
                Change(lines, "thing_attributes", r => r["value"]!.GetValue<string>() == "m1", "value", "m9");
                expected = ["thing_attributes: the attribute index does not hold exactly the attributes of the things"];
                break;
            case "group-path-row":
                Change(lines, "thing_groups", r => r["name"]!.GetValue<string>() == "a-leaf", "path", "z-root/a-leaf");
                expected = ["thing_groups row 3: path: does not end with the parent group's name and the group's own"];
                break;
            case "group-path-parent":
                Change(lines, "thing_groups", r => r["name"]!.GetValue<string>() == "a-leaf", "path", "x-other/m-middle/a-leaf");
                expected = ["thing_groups: the path of group a-leaf is not its parent's path followed by its name"];
                break;
            case "dangling-policy-target":
                Change(lines, "policy_targets", r => r["target_kind"]!.GetValue<string>() == "thinggroup", "target_id", "gone-group");
                expected = ["policy_targets: policy device-policy / thinggroup gone-group is attached to a certificate or thing group that does not exist"];
                break;
            case "dangling-principal":
                Change(lines, "thing_principals", _ => true, "principal_id", new string('f', 64));
                expected = ["thing_principals: thing sensor-1 / ffff"];
                break;
            case "tag-on-missing-resource":
                Change(lines, "tags", r => r["tag_key"]!.GetValue<string>() == "owner", "resource_name", "sensor-x");
                expected = ["tags: thingtype sensor-x is tagged but does not exist"];
                break;
            case "tag-kind":
                Change(lines, "tags", r => r["tag_key"]!.GetValue<string>() == "owner", "resource_kind", "thing");
                expected = ["tags row 2: resource_kind: 'thing' is not one of thingtype, thinggroup, policy, provisioningtemplate, cacert"];
                break;
            case "second-managed-ca":
                Change(lines, "ca_certificates", r => r["managed"]!.GetValue<long>() == 0, "managed", 1);
                expected = ["is marked as Fleetkey's own CA certificate, but the CA material's issuing certificate is " + fleet.IssuingId];
                break;
            case "default-version":
                Change(lines, "policies", _ => true, "default_version_id", 3);
                expected = ["policies row 1: next_version_id: is not above default_version_id"];
                break;
            case "secret-length":
                secret = Convert.ToBase64String(new byte[31]);
                Change(lines, "enrollments", _ => true, "device_secret", secret);
                expected = ["enrollments row 1: device_secret: is not 32 bytes"];
                break;
            case "sealed-secret-without-passphrase":
                Change(lines, "enrollments", _ => true, "device_secret_kek_salt", Convert.ToBase64String(new byte[16]));
                expected = ["enrollments row 1: device_secret: is not a secret sealed under the CA passphrase"];
                break;
            case "access-key-secret-short":
                secret = "short!";
                Change(lines, "access_keys", _ => true, "secret_access_key", secret);
                expected = ["access_keys row 1: secret_access_key: is not a secret access key"];
                break;
            case "nul-in-text":
                Change(lines, "thing_types", _ => true, "description", "a\u0000b");
                expected = ["thing_types row 1: description: contains a NUL character"];
                break;
            case "enrollment-template-missing":
                Change(lines, "enrollments", _ => true, "template_name", "no-such-template");
                expected = ["enrollments: serial number SN-0042 uses a provisioning template that does not exist"];
                break;
            case "serial-number":
                Change(lines, "enrollments", _ => true, "serial_number", "SN 42");
                expected = ["enrollments row 1: serial_number: 'SN 42' is not a name"];
                break;
            case "bad-pattern":
                Change(lines, "enrollment_groups", _ => true, "serial_number_pattern", "(SN");
                expected = ["enrollment_groups row 1: serial_number_pattern: '(SN' is not a usable serial number pattern"];
                break;
            default:
                Change(lines, "device_signatures", _ => true, "expires_at", long.MaxValue);
                expected = ["device_signatures row 1: expires_at: 9223372036854775807 is not an instant"];
                break;
        }

        Reseal(lines);
        var error = await Assert.ThrowsAsync<TransferException>(() => ImportAsync(target, Join(lines), null));

        foreach (var text in expected)
        {
            Assert.Contains(text, error.Message, StringComparison.Ordinal);
        }

        if (secret is not null)
        {
            Assert.DoesNotContain(secret, error.Message, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(TransferFleet.AccessKeySecret, error.Message, StringComparison.Ordinal);
        await AssertEmptyAsync(target);
    }

    public static TheoryData<string, string> BrokenExports => Cases(
        "cut-off", "duplicate-row", "wrong-count", "unknown-column", "newer-schema", "not-an-export", "format-1", "data-after-end", "endless-line", "blank-line", "invalid-utf8", "duplicate-key");

    [Theory]
    [MemberData(nameof(BrokenExports))]
    public async Task Import_BrokenExport_RollsBackEverything(string kind, string breakage)
    {
        var fleet = await TransferFleet.GetAsync(encrypted: false);
        await using var source = await TestStores.CreateAsync(kind, _time);
        await using var target = await TestStores.CreateAsync(kind, _time);
        await fleet.PopulateAsync(source.Store);
        var lines = Lines(await ExportAsync(source, null)).ToList();
        var thingRow = lines.FindIndex(l => l.StartsWith("[\"sensor-1\"", StringComparison.Ordinal));
        var thingsHeader = lines.FindIndex(l => l.StartsWith("{\"table\":\"things\"", StringComparison.Ordinal));
        string expected;
        byte[]? raw = null;
        switch (breakage)
        {
            case "cut-off":
                lines.RemoveRange(lines.Count - 3, 3);
                expected = "without its end line";
                break;
            case "duplicate-row":
                lines.Insert(thingRow, lines[thingRow]);
                Reseal(lines, rows: CountRows(lines));
                expected = "Rows of 'things' were refused";
                break;
            case "wrong-count":
                lines[^1] = lines[^1].Replace("\"rows\":", "\"rows\":1", StringComparison.Ordinal);
                expected = "declares 1";
                break;
            case "unknown-column":
                lines[thingsHeader] = lines[thingsHeader].Replace("\"version\"", "\"version; DROP TABLE things\"", StringComparison.Ordinal);
                Reseal(lines);
                expected = "do not match";
                break;
            case "newer-schema":
                lines[0] = lines[0].Replace("\"schemaVersion\":", "\"schemaVersion\":9", StringComparison.Ordinal);
                Reseal(lines);
                expected = "schema version 9";
                break;
            case "format-1":
                lines[0] = lines[0].Replace("\"formatVersion\":2", "\"formatVersion\":1", StringComparison.Ordinal);
                expected = "format version 1, written before exports carried a digest";
                break;
            case "data-after-end":
                lines.Add("[\"more\"]");
                expected = "the file does not end there";
                break;
            case "endless-line":
                // One line longer than the bound, which is refused before it is read whole.
                raw = [.. Encoding.UTF8.GetBytes(string.Join('\n', lines.Take(2)) + "\n[\""), .. Enumerable.Repeat((byte)'a', FleetTransfer.MaxLineBytes + 10)];
                expected = "is longer than";
                break;
            case "blank-line":
                lines.Insert(thingRow, string.Empty);
                expected = "is not a row, a table header or the end line";
                break;
            case "invalid-utf8":
                raw = Join(lines);
                var at = Array.IndexOf(raw, (byte)'m', Encoding.UTF8.GetByteCount(string.Join('\n', lines.Take(thingRow)) + "\n"));
                raw[at] = 0xff;
                expected = "not valid UTF-8";
                break;
            case "duplicate-key":
                lines[^1] = lines[^1].Replace("{\"end\":true,", "{\"end\":true,\"end\":true,", StringComparison.Ordinal);
                expected = "twice";
                break;
            default:
                lines[0] = "{\"hello\":1}";
                expected = "not a Fleetkey export";
                break;
        }

        var error = await Assert.ThrowsAsync<TransferException>(() => ImportAsync(target, raw ?? Join(lines), null));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        await AssertEmptyAsync(target);
    }

    // ------------------------------------------------------------------ helpers

    private static TheoryData<string, string> Cases(params string[] cases)
    {
        var data = new TheoryData<string, string>();
        foreach (var kind in KindNames())
        {
            foreach (var name in cases)
            {
                data.Add(kind, name);
            }
        }

        return data;
    }

    private static List<string> KindNames() => TestStores.Kinds.Cast<object[]>().Select(row => (string)row[0]).ToList();

    private async Task<byte[]> ExportAsync(TestStore store, string? passphrase)
    {
        using var output = new MemoryStream();
        await FleetTransfer.ExportAsync(store.Store, output, new ExportOptions { Passphrase = passphrase, Now = _time.GetUtcNow() }, CancellationToken.None);
        return output.ToArray();
    }

    private static Task<TransferSummary> ImportAsync(TestStore target, byte[] export, string? passphrase) =>
        FleetTransfer.ImportAsync(target.Store, new MemoryStream(export), new ImportOptions(new FleetImportChecker(passphrase)) { Passphrase = passphrase }, CancellationToken.None);

    private static async Task<TransferSummary> ImportAsync(TestStore target, TransferFleet fleet, Task<byte[]> export) =>
        await ImportAsync(target, await export, fleet.ImportPassphrase);

    private static async Task AssertEmptyAsync(TestStore target) =>
        Assert.Equal(0, (await FleetTransfer.ExportAsync(target.Store, Stream.Null, new ExportOptions { Now = Start }, CancellationToken.None)).TotalRows);

    private static string[] Lines(byte[] export) => Encoding.UTF8.GetString(export).Split('\n')[..^1];

    private static byte[] Join(List<string> lines) => Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n");

    // Everything but the first line (the export time, the MAC's salt) and the end line (the digest and MAC).
    private static string Body(byte[] export) => string.Join('\n', Lines(export)[1..^1]);

    private static long CountRows(List<string> lines) => lines.Count(l => l.StartsWith('['));

    /// <summary>Changes one byte inside a value, keeping the line valid JSON (the defect's four examples).</summary>
    private static void ChangeOneByte(List<string> lines, string change)
    {
        // The line, the text in it, and how far into that text the byte is.
        var (line, needle, offset) = change switch
        {
            "cert-status" => (lines.FindIndex(l => l.StartsWith('[') && l.Contains("\"ACTIVE\",\"-----BEGIN CERTIFICATE", StringComparison.Ordinal)), "\"ACTIVE\"", 1),
            "issuing-key" => (lines.FindIndex(l => l.StartsWith("{\"table\":\"ca_material\"", StringComparison.Ordinal)) + 1, "PRIVATE KEY-----\\nMI", 40),
            "access-key-secret" => (lines.FindIndex(l => l.Contains(TransferFleet.AccessKeySecret, StringComparison.Ordinal)), TransferFleet.AccessKeySecret, 3),
            _ => (lines.FindIndex(l => l.StartsWith("[\"sensor-2\"", StringComparison.Ordinal)), "\",7,", 2),
        };
        Assert.True(line > 0, $"no line for {change}");
        var at = change == "issuing-key"
            ? lines[line].LastIndexOf(needle, StringComparison.Ordinal) + offset
            : lines[line].IndexOf(needle, StringComparison.Ordinal) + offset;
        Assert.True(at >= offset, $"{needle} not found for {change}");
        var text = lines[line].ToCharArray();
        text[at] = change switch
        {
            "cert-status" => 'a',
            "thing-version" => '8',
            _ => text[at] == 'A' ? 'B' : 'A',
        };
        lines[line] = new string(text);
    }

    /// <summary>Sets <paramref name="column"/> of the first row of <paramref name="table"/> that matches.</summary>
    private static void Change(List<string> lines, string table, Func<Dictionary<string, JsonNode?>, bool> match, string column, object value)
    {
        var header = lines.FindIndex(l => l.StartsWith($"{{\"table\":\"{table}\"", StringComparison.Ordinal));
        var columns = JsonNode.Parse(lines[header])!["columns"]!.AsArray().Select(c => c!.GetValue<string>()).ToList();
        for (var i = header + 1; i < lines.Count && lines[i].StartsWith('['); i++)
        {
            var row = JsonNode.Parse(lines[i])!.AsArray();
            var named = columns.Select((c, k) => (c, row[k]?.DeepClone())).ToDictionary(p => p.c, p => p.Item2);
            if (match(named))
            {
                row[columns.IndexOf(column)] = value switch
                {
                    string text => JsonValue.Create(text),
                    int number => JsonValue.Create((long)number),
                    long number => JsonValue.Create(number),
                    _ => throw new ArgumentException("a string or an integer", nameof(value)),
                };
                lines[i] = row.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
                return;
            }
        }

        Assert.Fail($"no row of {table} matches");
    }

    /// <summary>Computes the end line again for the changed lines, as someone changing the file on purpose would.</summary>
    private static void Reseal(List<string> lines, long? rows = null)
    {
        var body = Encoding.UTF8.GetBytes(string.Join('\n', lines.Take(lines.Count - 1)) + "\n");
        var end = JsonNode.Parse(lines[^1])!;
        end["sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(body));
        if (rows is { } count)
        {
            end["rows"] = count;
        }

        lines[^1] = end.ToJsonString();
    }
}
