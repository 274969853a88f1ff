using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Devices;
using Fleetkey.Services.Provisioning;
using Fleetkey.Services.Tests.Security;
using Fleetkey.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xunit;
using static Fleetkey.Services.Tests.ServiceDatabase;

namespace Fleetkey.Services.Tests.Devices;

public sealed class DeviceRegistrationServiceTests : IAsyncLifetime
{
    private const string ThingType = "NewDevice";
    private const string Group = "NewDevices";
    private const string Policy = "DefaultNewDevicePolicy";
    private const string TemplateName = "device-template";
    private const string Address = "192.0.2.10";
    private static readonly CancellationToken None = CancellationToken.None;

    // The seed's template plus a Location parameter (with a default) a device may set.
    private const string TemplateBody = """
        {
          "Parameters": {
            "ThingName": {"Type": "String"},
            "SerialNumber": {"Type": "String"},
            "CertificateId": {"Type": "String"},
            "Location": {"Type": "String", "Default": "unknown"},
            "Batch": {"Type": "String", "Default": "none"}
          },
          "Resources": {
            "thing": {
              "Type": "AWS::IoT::Thing",
              "Properties": {
                "ThingName": {"Ref": "ThingName"},
                "AttributePayload": {"serialNumber": {"Ref": "SerialNumber"}, "location": {"Ref": "Location"}, "batch": {"Ref": "Batch"}},
                "ThingTypeName": "NewDevice",
                "ThingGroups": ["NewDevices"]
              }
            },
            "certificate": {"Type": "AWS::IoT::Certificate", "Properties": {"CertificateId": {"Ref": "CertificateId"}}},
            "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyName": "DefaultNewDevicePolicy"}}
          }
        }
        """;

    private readonly SecurityServices _s = new();
    private readonly FakeEnrollments _enrollments = new();
    private readonly FakeTemplates _templates = new();
    private readonly DeviceEndpointOptions _options = new() { MqttHost = "iot.fleetkey.test", MqttPort = 8883 };
    private DeviceRegistrationService _devices = null!;
    private FirstConnectionRecorder _connections = null!;

    public async Task InitializeAsync()
    {
        await _s.InitializeAsync();
        await _s.Db.ThingTypes.CreateAsync(ThingType, null, null, null, null, None);
        await _s.CreateGroupAsync(Group);
        await _s.CreatePolicyAsync(Policy);
        _templates.Add(new ResolvedTemplate(TemplateName, "arn:aws:iot:eu-west-1:123456789012:provisioningtemplate/" + TemplateName, TemplateBody, true, "FLEET_PROVISIONING"));
        _devices = NewService();
        _connections = new FirstConnectionRecorder(_s.Db.Store, _s.Db.Time);
    }

    public Task DisposeAsync() => _s.DisposeAsync().AsTask();

    private DeviceRegistrationService NewService() =>
        new(_s.Db.Store, _enrollments, _templates, _s.Registration, _s.Certificates, Options.Create(_options), _s.Db.Time, NullLogger<DeviceRegistrationService>.Instance);

    private static byte[] NewSecret() => RandomNumberGenerator.GetBytes(32);

    private DeviceEnrollment Enroll(string serial, byte[] secret, bool enabled = true, bool allowReprovisioning = false, IReadOnlyDictionary<string, string>? parameters = null, string? group = null, string template = TemplateName)
    {
        var enrollment = new DeviceEnrollment(
            serial,
            group is null ? $"arn:aws:iot:eu-west-1:123456789012:enrollment/{serial}" : $"arn:aws:iot:eu-west-1:123456789012:enrollmentgroup/{group}",
            group,
            secret,
            template,
            enabled,
            allowReprovisioning,
            parameters ?? new Dictionary<string, string>());
        _enrollments.Add(serial, enrollment);
        return enrollment;
    }

    // A device signing twice in the same second makes the same token (a replay); the clock here stands
    // still, so each default token gets its own expiry second.
    private int _tokens;

    private string Token(byte[] secret, string serial, TimeSpan? lifetime = null) =>
        SharedAccessSignature.Create(secret, serial, (_s.Db.Time.GetUtcNow() + (lifetime ?? TimeSpan.FromMinutes(30) + TimeSpan.FromSeconds(_tokens++))).ToUnixTimeSeconds());

    private Task<DeviceRegistrationOutcome> RegisterAsync(string serial, string? authorization, string? csr = null, IReadOnlyDictionary<string, string>? parameters = null, string address = Address) =>
        _devices.RegisterAsync(new DeviceRegistrationAttempt(address, authorization, new DeviceRegistrationRequest(serial, csr, parameters), null), None);

    private async Task<DeviceRegistrationResult> RegisteredAsync(string serial, byte[] secret, string? csr = null, IReadOnlyDictionary<string, string>? parameters = null)
    {
        var outcome = await RegisterAsync(serial, Token(secret, serial), csr, parameters);
        Assert.True(outcome.Error is null, $"Expected a registration, got {outcome.Error?.Code.Name}: {outcome.Error?.Message}");
        return outcome.Registered!;
    }

    private static ServiceException Refused(DeviceRegistrationOutcome outcome, ErrorCode code)
    {
        Assert.Null(outcome.Registered);
        var error = Assert.IsType<ServiceException>(outcome.Error);
        Assert.True(ReferenceEquals(code, error.Code), $"Expected {code.Name}, got {error.Code.Name}: {error.Message}");
        return error;
    }

    private Task<IReadOnlyList<DeviceAttempt>> AuditAsync(string? serial = null) =>
        _s.Db.Store.ReadAsync((session, ct) => session.DeviceEndpoint.ListAttemptsAsync(serial, 1000, ct), None);

    private async Task<Certificate> CertificateAsync(string id) =>
        await _s.StoredCertificateAsync(id) ?? throw new InvalidOperationException($"No certificate {id}.");

    // ---- success ----

    [Fact]
    public async Task RegisterAsync_KeyMode_AppliesTemplateWithNewCertificateAndKey()
    {
        var secret = NewSecret();
        Enroll("SN-0001", secret);

        var result = await RegisteredAsync("SN-0001", secret);

        Assert.Equal("SN-0001", result.ThingName);
        Assert.Equal($"arn:aws:iot:eu-west-1:123456789012:cert/{result.CertificateId}", result.CertificateArn);
        Assert.Equal(_s.Authority.ChainPem, result.CaCertificatesPem);
        Assert.Equal(("iot.fleetkey.test", 8883), (result.MqttHost, result.MqttPort));
        Assert.NotNull(result.PrivateKeyPem);

        // The key answered is the certificate's, and the certificate is signed by the issuing CA.
        using var certificate = X509Certificate2.CreateFromPem(result.CertificatePem, result.PrivateKeyPem);
        Assert.True(certificate.HasPrivateKey);
        Assert.Equal(_s.Authority.Issuing.Subject, certificate.Issuer);
        Assert.Equal("CN=SN-0001", certificate.Subject);
        Assert.Equal(result.CertificateId, Convert.ToHexStringLower(SHA256.HashData(certificate.RawData)));

        var thing = await _s.Db.GetThingAsync("SN-0001");
        Assert.NotNull(thing);
        Assert.Equal(ThingType, thing.TypeName);
        Assert.Equal(Attrs(("batch", "none"), ("location", "unknown"), ("serialNumber", "SN-0001")), thing.Attributes);
        Assert.Equal([Group], await _s.Db.GroupsOfThingAsync("SN-0001"));
        Assert.Equal(result.CertificateId, Assert.Single(await _s.PrincipalsOfThingAsync("SN-0001")).PrincipalId);
        Assert.Equal([Policy], await _s.PoliciesOfCertificateAsync(result.CertificateId));
        Assert.Equal(CertificateStatus.Active, (await CertificateAsync(result.CertificateId)).Status);

        var attempt = Assert.Single(await AuditAsync("SN-0001"));
        Assert.Equal((DeviceAttemptOutcome.Registered, Address, result.CertificateId), (attempt.Outcome, attempt.SourceAddress, attempt.CertificateId));
        var registration = await _s.Db.Store.ReadAsync((session, ct) => session.DeviceEndpoint.GetLatestRegistrationAsync("SN-0001", ct), None);
        Assert.Equal(new DeviceRegistration(result.CertificateId, "SN-0001", Start, null), registration);
    }

    [Fact]
    public async Task RegisterAsync_CsrMode_SignsTheDevicesKeyAndReturnsNoPrivateKey()
    {
        var secret = NewSecret();
        Enroll("SN-0002", secret);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest("CN=SN-0002", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();

        var result = await RegisteredAsync("SN-0002", secret, csr);

        Assert.Null(result.PrivateKeyPem);
        using var certificate = X509Certificate2.CreateFromPem(result.CertificatePem);
        Assert.Equal(key.ExportSubjectPublicKeyInfo(), certificate.PublicKey.ExportSubjectPublicKeyInfo());
        Assert.Equal(result.CertificateId, Assert.Single(await _s.PrincipalsOfThingAsync("SN-0002")).PrincipalId);
    }

    [Fact]
    public async Task RegisterAsync_CsrAsksForAnotherSubjectAndNames_CertificateIsNamedAfterTheSerialOnly()
    {
        var secret = NewSecret();
        Enroll("SN-0005", secret);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=SN-A, O=Evil, OU=admin", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("admin.example.com");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));

        var result = await RegisteredAsync("SN-0005", secret, request.CreateSigningRequestPem());

        using var certificate = X509Certificate2.CreateFromPem(result.CertificatePem);
        Assert.Equal("CN=SN-0005", certificate.Subject);
        Assert.DoesNotContain(certificate.Extensions.Cast<X509Extension>(), e => e.Oid!.Value == "2.5.29.17");
        Assert.False(Assert.IsType<X509BasicConstraintsExtension>(certificate.Extensions["2.5.29.19"]).CertificateAuthority);
    }

    [Fact]
    public async Task RegisterAsync_TemplateNamesTheThing_CertificateIsNamedAfterTheThing()
    {
        var secret = NewSecret();
        Enroll("SN-0006", secret, template: "prefixed");
        _templates.Add(new ResolvedTemplate(
            "prefixed",
            "arn:aws:iot:eu-west-1:123456789012:provisioningtemplate/prefixed",
            TemplateBody.Replace("\"ThingName\": {\"Ref\": \"ThingName\"}", "\"ThingName\": {\"Fn::Join\": [\"\", [\"plant1-\", {\"Ref\": \"SerialNumber\"}]]}", StringComparison.Ordinal),
            true,
            "FLEET_PROVISIONING"));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var keyMode = await RegisteredAsync("SN-0006", secret);
        Enroll("SN-0007", secret, template: "prefixed");
        var csrMode = await RegisteredAsync("SN-0007", secret, new CertificateRequest("CN=SN-0007", key, HashAlgorithmName.SHA256).CreateSigningRequestPem());

        Assert.Equal(("plant1-SN-0006", "plant1-SN-0007"), (keyMode.ThingName, csrMode.ThingName));
        using var first = X509Certificate2.CreateFromPem(keyMode.CertificatePem);
        using var second = X509Certificate2.CreateFromPem(csrMode.CertificatePem);
        Assert.Equal(("CN=plant1-SN-0006", "CN=plant1-SN-0007"), (first.Subject, second.Subject));
    }

    [Fact]
    public async Task RegisterAsync_BadCsr_400WithReasonNothingWritten()
    {
        var secret = NewSecret();
        Enroll("SN-0003", secret);

        var error = Refused(await RegisterAsync("SN-0003", Token(secret, "SN-0003"), "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----"), ErrorCode.InvalidRequest);

        Assert.Contains("certificate signing request", error.Message, StringComparison.Ordinal);
        Assert.Null(await _s.Db.GetThingAsync("SN-0003"));
        Assert.Empty(await _s.AllCertificatesAsync());
        Assert.Equal(DeviceAttemptOutcome.Invalid, Assert.Single(await AuditAsync("SN-0003")).Outcome);
    }

    [Fact]
    public async Task RegisterAsync_TokenExpiredWithinSkew_Accepted()
    {
        var secret = NewSecret();
        Enroll("SN-0004", secret);

        var outcome = await RegisterAsync("SN-0004", Token(secret, "SN-0004", TimeSpan.FromMinutes(-2)));

        Assert.NotNull(outcome.Registered);
    }

    // ---- 401: one answer for every authentication failure ----

    [Fact]
    public async Task RegisterAsync_UnknownSerialWrongSignatureExpiredReplayedMissing_OneIdenticalAnswer()
    {
        _options.RatePerSerial = 0;
        var secret = NewSecret();
        Enroll("SN-0010", secret);
        var used = Token(secret, "SN-0010");
        Assert.NotNull((await RegisterAsync("SN-0010", used)).Registered);
        var wrongSecret = NewSecret();

        var answers = new List<ServiceException>
        {
            Refused(await RegisterAsync("SN-9999", Token(secret, "SN-9999")), ErrorCode.Unauthorized),
            Refused(await RegisterAsync("SN-0010", Token(wrongSecret, "SN-0010")), ErrorCode.Unauthorized),
            Refused(await RegisterAsync("SN-0010", Token(secret, "SN-0010", TimeSpan.FromMinutes(-6))), ErrorCode.Unauthorized),
            Refused(await RegisterAsync("SN-0010", Token(secret, "SN-0010", TimeSpan.FromMinutes(66))), ErrorCode.Unauthorized),
            Refused(await RegisterAsync("SN-0010", used), ErrorCode.Unauthorized),
            Refused(await RegisterAsync("SN-0010", null), ErrorCode.Unauthorized),
            Refused(await RegisterAsync("SN-0010", Token(secret, "SN-0011")), ErrorCode.Unauthorized),
        };

        Assert.All(answers, a => Assert.Equal(DeviceRegistrationService.UnauthorizedMessage, a.Message));
        // Made in the same instant, the rows have no order among themselves: compare as sets.
        var reasons = (await AuditAsync()).Where(a => a.Outcome == DeviceAttemptOutcome.Unauthorized).Select(a => a.Reason).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(
            new[] { "unknown serial number", "wrong signature", "token expired", "token expiry too far ahead", "replayed token", "missing or malformed token", "token for another serial number" }.Order(StringComparer.Ordinal),
            reasons);
        Assert.Single(await _s.AllCertificatesAsync());
    }

    [Fact]
    public async Task RegisterAsync_UnknownSerial_StillComputesAnHmacAndAsksTheResolver()
    {
        Refused(await RegisterAsync("SN-nobody", Token(NewSecret(), "SN-nobody")), ErrorCode.Unauthorized);

        Assert.Equal(["SN-nobody"], _enrollments.Asked);
    }

    [Fact]
    public async Task RegisterAsync_ReplayOnAnotherNode_RefusedBecauseTheStoreRemembers()
    {
        var secret = NewSecret();
        Enroll("SN-0012", secret, allowReprovisioning: true);
        var token = Token(secret, "SN-0012");
        Assert.NotNull((await RegisterAsync("SN-0012", token)).Registered);

        // A second service over the same store: another node, no memory shared but the database.
        _devices = NewService();
        Refused(await RegisterAsync("SN-0012", token), ErrorCode.Unauthorized);

        Assert.Single(await _s.AllCertificatesAsync());
    }

    [Fact]
    public async Task RegisterAsync_RefusedAfterAuthentication_TokenIsUsedUp()
    {
        var secret = NewSecret();
        Enroll("SN-0013", secret);
        var token = Token(secret, "SN-0013");
        Refused(await RegisterAsync("SN-0013", token, parameters: Attrs(("Nope", "x"))), ErrorCode.InvalidRequest);

        Refused(await RegisterAsync("SN-0013", token), ErrorCode.Unauthorized);
    }

    // ---- candidates ----

    [Fact]
    public async Task RegisterAsync_SeveralCandidates_TheOneWhoseSecretVerifiesIsUsed()
    {
        var first = NewSecret();
        var second = NewSecret();
        Enroll("SN-0020", first, parameters: Attrs(("Batch", "group-a")), group: "group-a");
        Enroll("SN-0020", second, parameters: Attrs(("Batch", "group-b")), group: "group-b");

        await RegisteredAsync("SN-0020", second);

        Assert.Equal("group-b", (await _s.Db.GetThingAsync("SN-0020"))!.Attributes["batch"]);
    }

    // ---- 403 ----

    [Fact]
    public async Task RegisterAsync_DisabledEnrollment_403()
    {
        var secret = NewSecret();
        Enroll("SN-0030", secret, enabled: false);

        Refused(await RegisterAsync("SN-0030", Token(secret, "SN-0030")), ErrorCode.Forbidden);

        Assert.Null(await _s.Db.GetThingAsync("SN-0030"));
        Assert.Equal(DeviceAttemptOutcome.Forbidden, Assert.Single(await AuditAsync("SN-0030")).Outcome);
    }

    [Theory]
    [InlineData("disabled")]
    [InlineData("missing")]
    [InlineData("jitp")]
    public async Task RegisterAsync_TemplateNotUsable_403(string state)
    {
        var secret = NewSecret();
        Enroll("SN-0031", secret, template: "other");
        if (state != "missing")
        {
            _templates.Add(new ResolvedTemplate("other", "arn:aws:iot:eu-west-1:123456789012:provisioningtemplate/other", TemplateBody, state != "disabled", state == "jitp" ? "JITP" : "FLEET_PROVISIONING"));
        }

        var error = Refused(await RegisterAsync("SN-0031", Token(secret, "SN-0031")), ErrorCode.Forbidden);

        Assert.Contains("other", error.Message, StringComparison.Ordinal);
        Assert.Empty(await _s.AllCertificatesAsync());
    }

    // ---- parameters ----

    [Fact]
    public async Task RegisterAsync_DeclaredParameter_DeviceSetsIt()
    {
        var secret = NewSecret();
        Enroll("SN-0040", secret);

        await RegisteredAsync("SN-0040", secret, parameters: Attrs(("Location", "hall-7")));

        Assert.Equal("hall-7", (await _s.Db.GetThingAsync("SN-0040"))!.Attributes["location"]);
    }

    [Theory]
    [InlineData("Undeclared")]
    [InlineData("Batch")]
    [InlineData("ThingName")]
    [InlineData("SerialNumber")]
    [InlineData("CertificateId")]
    [InlineData("AWS::IoT::Certificate::Id")]
    public async Task RegisterAsync_ParameterNotTheDevicesToSet_400NamingIt(string name)
    {
        var secret = NewSecret();
        Enroll("SN-0041", secret, parameters: Attrs(("Batch", "fixed")));

        var error = Refused(await RegisterAsync("SN-0041", Token(secret, "SN-0041"), parameters: Attrs((name, "x"), ("Location", "ok"))), ErrorCode.InvalidRequest);

        Assert.Contains(name, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Location", error.Message, StringComparison.Ordinal);
        Assert.Null(await _s.Db.GetThingAsync("SN-0041"));
    }

    [Fact]
    public async Task RegisterAsync_EnrollmentFixesThingName_EndpointValueWins()
    {
        var secret = NewSecret();
        Enroll("SN-0042", secret, parameters: Attrs(("ThingName", "someone-else"), ("Batch", "b7")));

        var result = await RegisteredAsync("SN-0042", secret);

        Assert.Equal("SN-0042", result.ThingName);
        Assert.Null(await _s.Db.GetThingAsync("someone-else"));
        Assert.Equal("b7", (await _s.Db.GetThingAsync("SN-0042"))!.Attributes["batch"]);
    }

    [Fact]
    public async Task RegisterAsync_InvalidSerialNumber_400()
    {
        var error = Refused(await RegisterAsync("bad serial/1", null), ErrorCode.InvalidRequest);

        Assert.Contains("serialNumber", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RegisterAsync_BodyDidNotParse_400AndAudited()
    {
        var outcome = await _devices.RegisterAsync(new DeviceRegistrationAttempt(Address, null, null, "The request body is not a JSON object.", "SN-0043"), None);

        Assert.Equal("The request body is not a JSON object.", Refused(outcome, ErrorCode.InvalidRequest).Message);
        var attempt = Assert.Single(await AuditAsync("SN-0043"));
        Assert.Equal(DeviceAttemptOutcome.Invalid, attempt.Outcome);
    }

    // ---- re-registration ----

    [Fact]
    public async Task RegisterAsync_AgainAfterConnecting_409AndOldCertificateUntouched()
    {
        var secret = NewSecret();
        Enroll("SN-0050", secret);
        var first = await RegisteredAsync("SN-0050", secret);
        await _connections.RecordConnectionAsync(first.CertificateId, None);

        var error = Refused(await RegisterAsync("SN-0050", Token(secret, "SN-0050")), ErrorCode.Conflict);

        Assert.Contains("reprovisioning", error.Message, StringComparison.Ordinal);
        Assert.Equal(CertificateStatus.Active, (await CertificateAsync(first.CertificateId)).Status);
        Assert.Single(await _s.AllCertificatesAsync());
    }

    [Fact]
    public async Task RegisterAsync_ThingHasActiveCertificateFromControlPlane_409()
    {
        var secret = NewSecret();
        Enroll("SN-0051", secret);
        var existing = await _s.CreateCertificateAsync(active: true);
        await _s.CreateThingAsync("SN-0051");
        await _s.Principals.AttachAsync(_s.Scope, "SN-0051", _s.CertificateArn(existing.CertificateId), null, None);

        Refused(await RegisterAsync("SN-0051", Token(secret, "SN-0051")), ErrorCode.Conflict);
    }

    [Fact]
    public async Task RegisterAsync_LostAnswer_OldCertificateRevokedDetachedAndReplaced()
    {
        var secret = NewSecret();
        Enroll("SN-0052", secret);
        var lost = await RegisteredAsync("SN-0052", secret);
        _s.Db.Time.Advance(TimeSpan.FromMinutes(14));

        var again = await RegisteredAsync("SN-0052", secret);

        Assert.NotEqual(lost.CertificateId, again.CertificateId);
        Assert.Equal(CertificateStatus.Revoked, (await CertificateAsync(lost.CertificateId)).Status);
        Assert.Equal(again.CertificateId, Assert.Single(await _s.PrincipalsOfThingAsync("SN-0052")).PrincipalId);
        Assert.StartsWith("lost answer", (await AuditAsync("SN-0052"))[^1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RegisterAsync_LostAnswerWindowPassed_409()
    {
        var secret = NewSecret();
        Enroll("SN-0053", secret);
        var first = await RegisteredAsync("SN-0053", secret);
        _s.Db.Time.Advance(TimeSpan.FromMinutes(16));

        Refused(await RegisterAsync("SN-0053", Token(secret, "SN-0053")), ErrorCode.Conflict);

        Assert.Equal(CertificateStatus.Active, (await CertificateAsync(first.CertificateId)).Status);
    }

    [Fact]
    public async Task RegisterAsync_ReprovisioningAllowed_OldCertificateInactiveAndDetached()
    {
        var secret = NewSecret();
        Enroll("SN-0054", secret, allowReprovisioning: true);
        var first = await RegisteredAsync("SN-0054", secret);
        await _connections.RecordConnectionAsync(first.CertificateId, None);

        var second = await RegisteredAsync("SN-0054", secret);

        Assert.Equal(CertificateStatus.Inactive, (await CertificateAsync(first.CertificateId)).Status);
        Assert.Empty(await _s.ThingsOfCertificateAsync(first.CertificateId));
        Assert.Equal(second.CertificateId, Assert.Single(await _s.PrincipalsOfThingAsync("SN-0054")).PrincipalId);
        Assert.Equal(CertificateStatus.Active, (await CertificateAsync(second.CertificateId)).Status);
    }

    [Fact]
    public async Task RecordConnectionAsync_SetsFirstConnectionOnce()
    {
        var secret = NewSecret();
        Enroll("SN-0055", secret);
        var result = await RegisteredAsync("SN-0055", secret);
        _s.Db.Time.Advance(TimeSpan.FromMinutes(1));
        await _connections.RecordConnectionAsync(result.CertificateId, None);
        _s.Db.Time.Advance(TimeSpan.FromMinutes(1));

        // Another node (its own memory of what it recorded): the store keeps the first time.
        await new FirstConnectionRecorder(_s.Db.Store, _s.Db.Time).RecordConnectionAsync(result.CertificateId, None);

        var registration = await _s.Db.Store.ReadAsync((session, ct) => session.DeviceEndpoint.GetRegistrationAsync(result.CertificateId, ct), None);

        Assert.Equal(Start.AddMinutes(1), registration!.FirstConnectedAt);
    }

    // ---- rates ----

    [Fact]
    public async Task RegisterAsync_FiveWrongSignaturesForASerial_TheRealDeviceStillRegisters()
    {
        // Issue 16, defect 3: five requests with random signatures used to lock the device out for an hour.
        var secret = NewSecret();
        Enroll("SN-0060", secret);
        for (var i = 0; i < 5; i++)
        {
            Refused(await RegisterAsync("SN-0060", Token(NewSecret(), "SN-0060")), ErrorCode.Unauthorized);
        }

        var result = await RegisterAsync("SN-0060", Token(secret, "SN-0060"));

        Assert.NotNull(result.Registered);
        var audit = await AuditAsync("SN-0060");
        Assert.Equal(6, audit.Count);
        // Made in one instant, the rows have no order among themselves.
        Assert.Equal(DeviceAttemptOutcome.Registered, Assert.Single(audit, a => a.Authenticated).Outcome);
        Assert.Equal(5, audit.Count(a => a.Outcome == DeviceAttemptOutcome.Unauthorized));
    }

    [Fact]
    public async Task RegisterAsync_SixthAuthenticatedAttemptWithinTheHour_429AndTokenNotUsedUp()
    {
        var secret = NewSecret();
        Enroll("SN-0061", secret);
        for (var i = 0; i < 5; i++)
        {
            // Authenticated, then refused: the device holds the secret and spends its budget.
            Refused(await RegisterAsync("SN-0061", Token(secret, "SN-0061"), parameters: Attrs(("Nope", "x")), address: $"192.0.2.{i}"), ErrorCode.InvalidRequest);
            _s.Db.Time.Advance(TimeSpan.FromMinutes(1));
        }

        var token = Token(secret, "SN-0061", TimeSpan.FromMinutes(60));
        var throttled = await RegisterAsync("SN-0061", token);

        Refused(throttled, ErrorCode.TooManyRequests);
        Assert.Equal(TimeSpan.FromMinutes(55), throttled.RetryAfter);
        var last = (await AuditAsync("SN-0061"))[^1];
        Assert.Equal((DeviceAttemptOutcome.Throttled, "serial rate exceeded", false), (last.Outcome, last.Reason, last.Authenticated));
        Assert.Empty(await _s.AllCertificatesAsync());

        // Throttled attempts do not count and keep their token: once the first attempt leaves the window,
        // the same token is let in.
        _s.Db.Time.Advance(TimeSpan.FromMinutes(25));
        Refused(await RegisterAsync("SN-0061", token), ErrorCode.TooManyRequests);
        _s.Db.Time.Advance(TimeSpan.FromMinutes(30));
        Assert.NotNull((await RegisterAsync("SN-0061", token)).Registered);
    }

    [Fact]
    public async Task RegisterAsync_ConcurrentCopiesOfOneToken_CountOnceAgainstTheSerial()
    {
        _options.RatePerSerial = 2;
        var secret = NewSecret();
        Enroll("SN-0062", secret);
        var token = Token(secret, "SN-0062");

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => RegisterAsync("SN-0062", token, address: $"192.0.2.{i}")));

        Assert.Single(outcomes, o => o.Registered is not null);
        Assert.All(outcomes.Where(o => o.Registered is null), o => Refused(o, ErrorCode.Unauthorized));
        Assert.Single(await AuditAsync("SN-0062"), a => a.Authenticated);

        // The replays spent nothing: the device still has one more attempt this hour (a lost answer's).
        Assert.NotNull((await RegisterAsync("SN-0062", Token(secret, "SN-0062"))).Registered);
        Refused(await RegisterAsync("SN-0062", Token(secret, "SN-0062")), ErrorCode.TooManyRequests);
    }

    [Fact]
    public async Task RegisterAsync_AddressOverItsRate_429ForAnySerial()
    {
        _options.RatePerAddress = 3;
        for (var i = 0; i < 3; i++)
        {
            Refused(await RegisterAsync($"SN-007{i}", Token(NewSecret(), $"SN-007{i}")), ErrorCode.Unauthorized);
        }

        var throttled = await RegisterAsync("SN-0079", Token(NewSecret(), "SN-0079"));

        Refused(throttled, ErrorCode.TooManyRequests);
        Assert.Equal(TimeSpan.FromMinutes(1), throttled.RetryAfter);
        Assert.Equal(3, _enrollments.Asked.Count);
        Refused(await RegisterAsync("SN-0079", Token(NewSecret(), "SN-0079"), address: "192.0.2.99"), ErrorCode.Unauthorized);
    }

    [Fact]
    public async Task RegisterAsync_HundredGuessesFromManyAddresses_All401AndTheDeviceStillRegisters()
    {
        var secret = NewSecret();
        Enroll("SN-0080", secret);
        var statuses = new List<int>();
        for (var i = 0; i < 100; i++)
        {
            statuses.Add((await RegisterAsync("SN-0080", Token(NewSecret(), "SN-0080"), address: $"198.51.100.{i}")).Error!.Code.HttpStatus);
        }

        Assert.Equal(Enumerable.Repeat(401, 100), statuses);
        Assert.NotNull((await RegisterAsync("SN-0080", Token(secret, "SN-0080"))).Registered);
        Assert.Equal(101, (await AuditAsync("SN-0080")).Count);
    }

    // ---- audit and pruning ----

    [Fact]
    public async Task Audit_NeverHoldsTheSignatureOrSecret()
    {
        var secret = NewSecret();
        Enroll("SN-0090", secret);
        var token = Token(secret, "SN-0090");
        await RegisterAsync("SN-0090", token);
        _s.Db.Time.Advance(TimeSpan.FromSeconds(1));
        await RegisterAsync("SN-0090", token);
        Assert.True(SharedAccessSignature.TryParse(token, out var parsed));
        var forbidden = new[] { Convert.ToBase64String(parsed.Signature), Convert.ToBase64String(secret), Convert.ToHexStringLower(parsed.Signature) };

        var attempts = await AuditAsync("SN-0090");

        Assert.Equal([DeviceAttemptOutcome.Registered, DeviceAttemptOutcome.Unauthorized], attempts.Select(a => a.Outcome));
        foreach (var text in attempts.SelectMany(a => new[] { a.Reason, a.SerialNumber, a.CertificateId, a.SourceAddress }).OfType<string>())
        {
            Assert.All(forbidden, f => Assert.DoesNotContain(f, text, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task PruneAsync_RemovesExpiredSignaturesAndOldAuditRows()
    {
        var secret = NewSecret();
        Enroll("SN-0091", secret);
        var token = Token(secret, "SN-0091", TimeSpan.FromMinutes(10));
        await RegisterAsync("SN-0091", token);
        using var maintenance = new DeviceEndpointMaintenance(_s.Db.Store, Options.Create(_options), _s.Db.Time, NullLogger<DeviceEndpointMaintenance>.Instance);

        _s.Db.Time.Advance(TimeSpan.FromMinutes(14));
        Assert.Equal((0, 0), await maintenance.PruneAsync(None));
        Assert.True(SharedAccessSignature.TryParse(token, out var parsed));
        Assert.True(await _s.Db.Store.ReadAsync((session, ct) => session.DeviceEndpoint.IsSignatureUsedAsync(parsed.ReplayKey(), ct), None));

        // Expiry + skew passed: the row goes (the token is refused as expired anyway).
        _s.Db.Time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal((1, 0), await maintenance.PruneAsync(None));
        Refused(await RegisterAsync("SN-0091", token), ErrorCode.Unauthorized);

        _s.Db.Time.Advance(_options.AuditRetention);
        Assert.Equal((0, 1), await maintenance.PruneAsync(None));
        Assert.Single(await AuditAsync("SN-0091"));
    }

    private sealed class FakeEnrollments : IDeviceEnrollmentResolver
    {
        private readonly Dictionary<string, List<DeviceEnrollment>> _bySerial = new(StringComparer.Ordinal);

        public List<string> Asked { get; } = [];

        public void Add(string serial, DeviceEnrollment enrollment)
        {
            if (!_bySerial.TryGetValue(serial, out var list))
            {
                _bySerial[serial] = list = [];
            }

            list.Add(enrollment);
        }

        public Task<IReadOnlyList<DeviceEnrollment>> ResolveAsync(string serialNumber, CancellationToken cancellationToken)
        {
            Asked.Add(serialNumber);
            return Task.FromResult<IReadOnlyList<DeviceEnrollment>>(_bySerial.TryGetValue(serialNumber, out var list) ? list : []);
        }
    }

    private sealed class FakeTemplates : IProvisioningTemplateResolver
    {
        private readonly Dictionary<string, ResolvedTemplate> _byName = new(StringComparer.Ordinal);

        public void Add(ResolvedTemplate template) => _byName[template.TemplateName] = template;

        public Task<ResolvedTemplate?> ResolveAsync(string templateName, CancellationToken cancellationToken) =>
            Task.FromResult(_byName.GetValueOrDefault(templateName));
    }
}
