using System.Security.Cryptography;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;
using Fleetkey.Pki;
using Fleetkey.Services.Provisioning;
using Fleetkey.Services.Registry;
using Fleetkey.Testing;
using Xunit;

namespace Fleetkey.Services.Tests.Provisioning;

public sealed class EnrollmentServiceTests : IAsyncLifetime
{
    private const string Passphrase = "correct horse battery staple";
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly ServiceDatabase _db = new();
    private readonly InMemoryTemplateResolver _templates = new InMemoryTemplateResolver().Add("factory").Add("other").Add("jitp", "JITP");
    private readonly PassphraseSealer _sealer = new(Passphrase);
    private EnrollmentService _service = null!;

    public async Task InitializeAsync()
    {
        await _db.InitializeAsync();
        _service = new EnrollmentService(_db.Store, _templates, _sealer, _db.Time);
    }

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    private EnrollmentResolver Resolver(PassphraseSealer? sealer = null) => new(_db.Store, sealer ?? _sealer, _db.Scope);

    private static EnrollmentSettings Settings(string template = "factory", string? pattern = null, bool reprovision = false, Dictionary<string, string>? parameters = null) =>
        new(template, reprovision, parameters, pattern);

    private Task<EnrollmentGroup?> StoredGroupAsync(string name) => _db.Store.ReadAsync((s, ct) => s.EnrollmentGroups.GetAsync(name, ct), None);

    private Task<Enrollment?> StoredEnrollmentAsync(string serial) => _db.Store.ReadAsync((s, ct) => s.Enrollments.GetAsync(serial, ct), None);

    // ---- enrollment groups ----

    [Fact]
    public async Task CreateGroupAsync_New_ReturnsKeyOnceAndStoresItSealed()
    {
        var created = await _service.CreateGroupAsync("line-1", Settings(pattern: "SN-[0-9]+", reprovision: true, parameters: new() { ["Site"] = "plant-1" }), None);

        Assert.Equal(EnrollmentSecrets.Length, created.GroupKey.Length);
        var stored = await StoredGroupAsync("line-1");
        Assert.NotNull(stored);
        Assert.Equal(("factory", "SN-[0-9]+", true, true, "plant-1", ServiceDatabase.Start), (stored.TemplateName, stored.SerialNumberPattern, stored.AllowReprovisioning, stored.Enabled, stored.Parameters["Site"], stored.CreatedAt));
        Assert.NotNull(stored.GroupKeyKekSalt);
        Assert.True(stored.GroupKeyData.AsSpan().IndexOf(created.GroupKey.AsSpan(0, 8)) < 0, "the key must not be stored in the clear");
        Assert.Equal(created.GroupKey, _sealer.Open(new SealedSecret(stored.GroupKeyData, stored.GroupKeyKekSalt), System.Text.Encoding.UTF8.GetBytes("fleetkey:enrollment-group:line-1")));
    }

    [Fact]
    public async Task CreateGroupAsync_NoPassphrase_StoresKeyInTheClearLikeTheCaKeys()
    {
        var service = new EnrollmentService(_db.Store, _templates, new PassphraseSealer(null), _db.Time);

        var created = await service.CreateGroupAsync("clear", Settings(), None);

        var stored = await StoredGroupAsync("clear");
        Assert.Null(stored!.GroupKeyKekSalt);
        Assert.Equal(created.GroupKey, stored.GroupKeyData);
    }

    [Fact]
    public async Task CreateGroupAsync_EveryFieldInvalid_ReportsEveryProblemAtOnce()
    {
        var error = await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => _service.CreateGroupAsync(
            "bad name!", Settings(template: "no spaces allowed", pattern: "SN-(", parameters: new() { ["ThingName"] = "x" }), None));

        Assert.StartsWith("4 validation errors detected: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("at 'enrollmentGroupName'", error.Message, StringComparison.Ordinal);
        Assert.Contains("at 'templateName'", error.Message, StringComparison.Ordinal);
        Assert.Contains("at 'serialNumberPattern'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'ThingName' at 'parameters'", error.Message, StringComparison.Ordinal);
        Assert.Null(await StoredGroupAsync("bad name!"));
    }

    [Theory]
    [InlineData(@"(a)\1", "backreference: the non-backtracking engine refuses it")]
    [InlineData(@"(?=SN)SN-1", "lookahead")]
    [InlineData("a)|(b", "would escape the anchoring group")]
    [InlineData("", "empty")]
    public async Task CreateGroupAsync_UnusablePattern_IsInvalidRequestNamingTheField(string pattern, string why)
    {
        var error = await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => _service.CreateGroupAsync("g", Settings(pattern: pattern), None));

        Assert.True(error.Message.Contains("'serialNumberPattern'", StringComparison.Ordinal), why);
    }

    [Fact]
    public async Task CreateGroupAsync_TemplateMissingOrJitp_IsNotFoundOrInvalid()
    {
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => _service.CreateGroupAsync("g", Settings("missing"), None), "Provisioning template missing does not exist.");
        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => _service.CreateGroupAsync("g", Settings("jitp"), None), "is of type JITP");
        Assert.Null(await StoredGroupAsync("g"));
    }

    [Fact]
    public async Task CreateGroupAsync_SameNameTwice_IsAlreadyExistsAndKeepsTheFirstKey()
    {
        var first = await _service.CreateGroupAsync("dup", Settings(), None);

        var error = await ServiceAssert.ThrowsAsync(ErrorCode.ResourceAlreadyExists, () => _service.CreateGroupAsync("dup", Settings("other"), None));

        Assert.Equal(new ResourceRef(ResourceKind.EnrollmentGroup, "dup"), error.Resource);
        var resolved = await Resolver().ResolveAsync("SN-1", None);
        Assert.Equal(EnrollmentSecrets.DeriveDeviceSecret(first.GroupKey, "SN-1"), Assert.Single(resolved).DeviceSecret);
    }

    [Fact]
    public async Task UpdateGroupAsync_GivenFields_ChangesOnlyThoseAndRemovesPatternOnNull()
    {
        await _service.CreateGroupAsync("g", Settings(pattern: "SN-.*", parameters: new() { ["Site"] = "a" }), None);
        _db.Time.Advance(TimeSpan.FromMinutes(5));

        var disabled = await _service.UpdateGroupAsync("g", new EnrollmentPatch(Enabled: false), None);
        Assert.Equal((false, "SN-.*", "factory", "a"), (disabled.Enabled, disabled.SerialNumberPattern, disabled.TemplateName, disabled.Parameters["Site"]));
        Assert.Equal(ServiceDatabase.Start.AddMinutes(5), disabled.LastModifiedAt);

        var updated = await _service.UpdateGroupAsync(
            "g", new EnrollmentPatch(TemplateName: "other", AllowReprovisioning: true, Parameters: new Dictionary<string, string> { ["Line"] = "2" }, SerialNumberPattern: new PatternChange(null)), None);

        var stored = await StoredGroupAsync("g");
        Assert.Equal(("other", true, false, null), (stored!.TemplateName, stored.AllowReprovisioning, stored.Enabled, stored.SerialNumberPattern));
        Assert.Equal(new Dictionary<string, string> { ["Line"] = "2" }, stored.Parameters);
        Assert.Equal(ServiceDatabase.Start, stored.CreatedAt);
        Assert.Equal(stored.TemplateName, updated.TemplateName);
    }

    [Fact]
    public async Task UpdateGroupAsync_UnknownTemplateOrBadPattern_ChangesNothing()
    {
        await _service.CreateGroupAsync("g", Settings(pattern: "SN-.*"), None);

        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => _service.UpdateGroupAsync("g", new EnrollmentPatch(TemplateName: "missing"), None));
        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => _service.UpdateGroupAsync("g", new EnrollmentPatch(Enabled: false, SerialNumberPattern: new PatternChange("[")), None), "'serialNumberPattern'");

        var stored = await StoredGroupAsync("g");
        Assert.Equal(("factory", "SN-.*", true), (stored!.TemplateName, stored.SerialNumberPattern, stored.Enabled));
    }

    [Fact]
    public async Task GroupOperations_MissingGroup_AreNotFound()
    {
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => _service.GetGroupAsync("nope", None), "Enrollment group nope does not exist.");
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => _service.UpdateGroupAsync("nope", new EnrollmentPatch(Enabled: true), None));
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => _service.DeleteGroupAsync("nope", None));
    }

    [Fact]
    public async Task DeleteGroupAsync_Existing_RemovesItAndItsDevicesNoLongerResolve()
    {
        await _service.CreateGroupAsync("g", Settings(), None);

        await _service.DeleteGroupAsync("g", None);

        Assert.Null(await StoredGroupAsync("g"));
        Assert.Empty(await Resolver().ResolveAsync("SN-1", None));
    }

    [Fact]
    public async Task ListGroupsAsync_Paged_WalksEveryGroupInNameOrder()
    {
        foreach (var name in new[] { "c", "a", "e", "b", "d" })
        {
            await _service.CreateGroupAsync(name, Settings(), None);
        }

        var first = await _service.ListGroupsAsync(PageRequest.From(null, 2), None);
        var second = await _service.ListGroupsAsync(PageRequest.From(first.NextKey, 2), None);
        var third = await _service.ListGroupsAsync(PageRequest.From(second.NextKey, 2), None);

        Assert.Equal(["a", "b", "c", "d", "e"], first.Items.Concat(second.Items).Concat(third.Items).Select(g => g.Name));
        Assert.Null(third.NextKey);
    }

    // ---- individual enrollments ----

    [Fact]
    public async Task CreateAsync_New_ReturnsSecretOnceAndStoresItSealed()
    {
        var created = await _service.CreateAsync("SN-0001", Settings(reprovision: true), deviceSecret: null, None);

        Assert.Equal(EnrollmentSecrets.Length, created.DeviceSecret.Length);
        var stored = await StoredEnrollmentAsync("SN-0001");
        Assert.Equal(("factory", true, true), (stored!.TemplateName, stored.AllowReprovisioning, stored.Enabled));
        Assert.NotNull(stored.SecretKekSalt);
        Assert.True(stored.SecretData.AsSpan().IndexOf(created.DeviceSecret.AsSpan(0, 8)) < 0, "the secret must not be stored in the clear");
        var resolved = Assert.Single(await Resolver().ResolveAsync("SN-0001", None));
        Assert.Equal(created.DeviceSecret, resolved.DeviceSecret);
    }

    [Fact]
    public async Task CreateAsync_InvalidSerialPatternAndTemplate_ReportsEveryProblem()
    {
        var error = await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => _service.CreateAsync(
            new string('s', 129), Settings(template: "", pattern: "SN-.*"), deviceSecret: [1, 2, 3], None));

        Assert.StartsWith("4 validation errors detected: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("at 'serialNumber'", error.Message, StringComparison.Ordinal);
        Assert.Contains("at 'templateName'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'serialNumberPattern' is not allowed", error.Message, StringComparison.Ordinal);
        Assert.Contains("at 'deviceSecret'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateAsync_GivenSecret_KeepsIt()
    {
        var secret = Enumerable.Range(100, 32).Select(i => (byte)i).ToArray();

        var created = await _service.CreateAsync("SN-2", Settings(), secret, None);

        Assert.Equal(secret, created.DeviceSecret);
        Assert.Equal(secret, Assert.Single(await Resolver().ResolveAsync("SN-2", None)).DeviceSecret);
    }

    [Fact]
    public async Task EnrollmentOperations_DuplicateAndMissing_AreAlreadyExistsAndNotFound()
    {
        await _service.CreateAsync("SN-1", Settings(), null, None);

        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceAlreadyExists, () => _service.CreateAsync("SN-1", Settings(), null, None), "already exists");
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => _service.GetAsync("SN-2", None), "No enrollment for serial number SN-2.");
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => _service.UpdateAsync("SN-2", new EnrollmentPatch(Enabled: false), None));
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => _service.DeleteAsync("SN-2", None));
        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => _service.UpdateAsync("SN-1", new EnrollmentPatch(SerialNumberPattern: new PatternChange("x")), None), "'serialNumberPattern' is not allowed");
    }

    [Fact]
    public async Task UpdateAsync_GivenFields_ChangesOnlyThoseAndKeepsTheSecret()
    {
        var created = await _service.CreateAsync("SN-1", Settings(parameters: new() { ["Site"] = "a" }), null, None);
        _db.Time.Advance(TimeSpan.FromHours(1));

        var updated = await _service.UpdateAsync("SN-1", new EnrollmentPatch(TemplateName: "other", Enabled: false), None);

        Assert.Equal(("other", false, false, "a", ServiceDatabase.Start.AddHours(1)), (updated.TemplateName, updated.Enabled, updated.AllowReprovisioning, updated.Parameters["Site"], updated.LastModifiedAt));
        var resolved = Assert.Single(await Resolver().ResolveAsync("SN-1", None));
        Assert.Equal(created.DeviceSecret, resolved.DeviceSecret);
        Assert.False(resolved.Enabled);
    }

    [Fact]
    public async Task DeleteAsync_Existing_RemovesIt()
    {
        await _service.CreateAsync("SN-1", Settings(), null, None);

        await _service.DeleteAsync("SN-1", None);

        Assert.Null(await StoredEnrollmentAsync("SN-1"));
        Assert.Empty((await _service.ListAsync(PageRequest.From(null, null), None)).Items);
    }

    // ---- the device endpoint's view ----

    [Fact]
    public async Task ResolveAsync_IndividualEnrollment_WinsOverEveryGroup()
    {
        await _service.CreateGroupAsync("all", Settings(), None);
        var individual = await _service.CreateAsync("SN-7", Settings("other", parameters: new() { ["Site"] = "x" }), null, None);

        var resolved = Assert.Single(await Resolver().ResolveAsync("SN-7", None));

        Assert.Null(resolved.EnrollmentGroupName);
        Assert.Equal("arn:aws:iot:eu-west-1:123456789012:enrollment/SN-7", resolved.EnrollmentArn);
        Assert.Equal(("SN-7", "other", true, false, "x"), (resolved.SerialNumber, resolved.TemplateName, resolved.Enabled, resolved.AllowReprovisioning, resolved.Parameters["Site"]));
        Assert.Equal(individual.DeviceSecret, resolved.DeviceSecret);
    }

    [Fact]
    public async Task ResolveAsync_Groups_MatchingPatternsByNameWithDerivedSecretsDisabledIncluded()
    {
        var b = await _service.CreateGroupAsync("b-line", Settings(pattern: "SN-[0-9]{4}", reprovision: true), None);
        var a = await _service.CreateGroupAsync("a-all", Settings("other"), None);
        await _service.CreateGroupAsync("c-other", Settings(pattern: "GW-.*"), None);
        await _service.UpdateGroupAsync("b-line", new EnrollmentPatch(Enabled: false), None);

        var resolved = await Resolver().ResolveAsync("SN-1234", None);

        Assert.Equal(["a-all", "b-line"], resolved.Select(r => r.EnrollmentGroupName));
        Assert.Equal(EnrollmentSecrets.DeriveDeviceSecret(a.GroupKey, "SN-1234"), resolved[0].DeviceSecret);
        Assert.Equal(EnrollmentSecrets.DeriveDeviceSecret(b.GroupKey, "SN-1234"), resolved[1].DeviceSecret);
        Assert.Equal("arn:aws:iot:eu-west-1:123456789012:enrollmentgroup/b-line", resolved[1].EnrollmentArn);
        Assert.Equal((false, true, "factory"), (resolved[1].Enabled, resolved[1].AllowReprovisioning, resolved[1].TemplateName));

        // The whole serial must match: a prefix or a longer serial does not.
        Assert.Equal(["a-all"], (await Resolver().ResolveAsync("SN-12345", None)).Select(r => r.EnrollmentGroupName));
        Assert.Equal(["a-all"], (await Resolver().ResolveAsync("XSN-1234", None)).Select(r => r.EnrollmentGroupName));
    }

    [Fact]
    public async Task ResolveAsync_UnknownOrInvalidSerial_IsEmpty()
    {
        await _service.CreateGroupAsync("g", Settings(pattern: "SN-.*"), None);

        Assert.Empty(await Resolver().ResolveAsync("GW-1", None));
        Assert.Empty(await Resolver().ResolveAsync("SN-1' OR '1'='1", None));
        Assert.Empty(await Resolver().ResolveAsync("", None));
    }

    [Fact]
    public async Task ResolveAsync_SealedUnderAnotherPassphrase_FailsLoudlyWithoutTheSecret()
    {
        await _service.CreateAsync("SN-1", Settings(), null, None);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Resolver(new PassphraseSealer("another")).ResolveAsync("SN-1", None));

        Assert.Contains("enrollment SN-1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SealClearSecretsAsync_PassphraseSetLater_SealsWhatWasStoredInTheClear()
    {
        var clear = new EnrollmentService(_db.Store, _templates, new PassphraseSealer(null), _db.Time);
        var individuals = new List<CreatedEnrollment>();
        for (var i = 0; i < 3; i++)
        {
            individuals.Add(await clear.CreateAsync($"SN-{i}", Settings(), null, None));
        }

        var group = await clear.CreateGroupAsync("g", Settings(pattern: "GW-.*"), None);
        var sealedByService = await _service.CreateAsync("SN-sealed", Settings(), null, None);
        var before = (await StoredEnrollmentAsync("SN-sealed"))!.SecretData;

        Assert.Equal(0, await EnrollmentSealing.SealClearSecretsAsync(_db.Store, new PassphraseSealer(null), None));
        Assert.Equal(4, await EnrollmentSealing.SealClearSecretsAsync(_db.Store, _sealer, None));
        Assert.Equal(0, await EnrollmentSealing.SealClearSecretsAsync(_db.Store, _sealer, None));

        foreach (var created in individuals)
        {
            var stored = await StoredEnrollmentAsync(created.Enrollment.SerialNumber);
            Assert.NotNull(stored!.SecretKekSalt);
            Assert.NotEqual(created.DeviceSecret, stored.SecretData);
            Assert.Equal(created.DeviceSecret, Assert.Single(await Resolver().ResolveAsync(created.Enrollment.SerialNumber, None)).DeviceSecret);
        }

        Assert.NotNull((await StoredGroupAsync("g"))!.GroupKeyKekSalt);
        Assert.Equal(EnrollmentSecrets.DeriveDeviceSecret(group.GroupKey, "GW-1"), Assert.Single(await Resolver().ResolveAsync("GW-1", None)).DeviceSecret);
        Assert.Equal(before, (await StoredEnrollmentAsync("SN-sealed"))!.SecretData);
        Assert.Equal(sealedByService.DeviceSecret, Assert.Single(await Resolver().ResolveAsync("SN-sealed", None)).DeviceSecret);
    }

    // ---- import ----

    [Fact]
    public async Task ImportBatchAsync_MixedLines_EnrollsValidOnesAndReportsEachBadOne()
    {
        var given = Enumerable.Range(0, 32).Select(i => (byte)(i * 3)).ToArray();
        await _service.CreateAsync("SN-KEPT", Settings(), given, None);
        await _service.CreateAsync("SN-OTHER", Settings(), null, None);
        var settings = Settings(parameters: new() { ["Site"] = "plant-1" });
        await _service.CheckImportSettingsAsync(settings, None);

        var results = await _service.ImportBatchAsync(
        [
            new EnrollmentImportLine(1, "SN-A", null),
            new EnrollmentImportLine(2, "SN-B", given),
            new EnrollmentImportLine(3, "bad serial", null),
            new EnrollmentImportLine(4, "SN-A", null),
            new EnrollmentImportLine(5, "SN-KEPT", given),
            new EnrollmentImportLine(6, "SN-OTHER", given),
            new EnrollmentImportLine(7, "SN-C", [1, 2, 3]),
        ], settings, None);

        Assert.Equal([1, 2, 3, 4, 5, 6, 7], results.Select(r => r.LineNumber));
        Assert.Equal([true, true, false, false, true, false, false], results.Select(r => r.Succeeded));
        Assert.Contains("invalid serial number", results[2].Error, StringComparison.Ordinal);
        Assert.Contains("repeated (first on line 1)", results[3].Error, StringComparison.Ordinal);
        Assert.True(results[4].AlreadyEnrolled);
        Assert.Contains("already enrolled with another secret", results[5].Error, StringComparison.Ordinal);
        Assert.Contains("32 bytes", results[6].Error, StringComparison.Ordinal);

        // Generated secrets are returned (and only those); both enrollments resolve with their secrets.
        Assert.Null(results[1].GeneratedSecret);
        Assert.Equal(results[0].GeneratedSecret, Assert.Single(await Resolver().ResolveAsync("SN-A", None)).DeviceSecret);
        var b = Assert.Single(await Resolver().ResolveAsync("SN-B", None));
        Assert.Equal(given, b.DeviceSecret);
        Assert.Equal("plant-1", b.Parameters["Site"]);
        Assert.Null(await StoredEnrollmentAsync("SN-C"));
    }

    [Fact]
    public async Task CheckImportSettingsAsync_MissingTemplate_IsNotFound()
    {
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => _service.CheckImportSettingsAsync(Settings("missing"), None));
    }

    // ---- derivation, checked against independently computed vectors ----

    // Each expected value was computed outside .NET with
    //   printf '%s' SERIAL | openssl dgst -sha256 -mac HMAC -macopt hexkey:KEY -binary | base64
    // (and the first also with Python: base64.b64encode(hmac.new(bytes(range(32)), b'SN-0001', hashlib.sha256).digest())).
    [Theory]
    [InlineData("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "SN-0001", "5itAiriMU4opcup5bZMkSeHQMp4CKyo394OQKULUaVs=")]
    [InlineData("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "sensor:line-2_A", "ddJN8gnWhWQGZToqOk+n0zeo6P1h1hbKnHg+pm3blhI=")]
    [InlineData("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "ü-not-valid-but-utf8", "+og6qUS8tTGAvUAuvUXQtYcKLUbmR5bzaUSIxj08Kbw=")]
    [InlineData("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "SN-0001", "f0Yqx/5oDPWliqo8OYyMeFyBEjoVnK3XOokyr0ySBQU=")]
    [InlineData("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "sensor:line-2_A", "QsKf7MPhYXwuenFdgNsS5/VmqoPNZJEtDdFXsmVK/3g=")]
    public void DeriveDeviceSecret_KnownVectors_MatchOpenssl(string keyHex, string serial, string expected)
    {
        Assert.Equal(expected, Convert.ToBase64String(EnrollmentSecrets.DeriveDeviceSecret(Convert.FromHexString(keyHex), serial)));
    }

    [Fact]
    public void TryParse_OnlyExactly32BytesOfBase64()
    {
        var secret = RandomNumberGenerator.GetBytes(32);

        Assert.Equal(secret, EnrollmentSecrets.TryParse(Convert.ToBase64String(secret)));
        Assert.Equal(secret, EnrollmentSecrets.TryParse(" " + Convert.ToBase64String(secret) + "\t"));
        Assert.Null(EnrollmentSecrets.TryParse(Convert.ToBase64String(secret[..31])));
        Assert.Null(EnrollmentSecrets.TryParse(Convert.ToBase64String(RandomNumberGenerator.GetBytes(33))));
        Assert.Null(EnrollmentSecrets.TryParse("not base64 at all!"));
        Assert.Null(EnrollmentSecrets.TryParse(null));
    }
}
