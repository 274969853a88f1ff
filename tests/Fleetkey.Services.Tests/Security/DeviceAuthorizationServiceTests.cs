using Fleetkey.Core.Registry;
using Fleetkey.Services.Security;
using Xunit;

namespace Fleetkey.Services.Tests.Security;

public sealed class DeviceAuthorizationServiceTests : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly SecurityServices _s = new();
    private DeviceAuthorizationService _service = null!;

    public async Task InitializeAsync()
    {
        await _s.InitializeAsync();
        _service = new DeviceAuthorizationService(_s.Db.Store, new CompiledPolicyCache());
    }

    public Task DisposeAsync() => _s.DisposeAsync().AsTask();

    private string Account => _s.Scope.AccountId;

    private static string Document(params string[] statements) =>
        $$"""{"Version":"2012-10-17","Statement":[{{string.Join(",", statements)}}]}""";

    private static string Statement(string effect, string action, string resource, string? condition = null) =>
        $$"""{"Effect":"{{effect}}","Action":"{{action}}","Resource":"{{resource}}"{{(condition is null ? "" : ",\"Condition\":" + condition)}}}""";

    /// <summary>A certificate attached to thing "dev-1" (type "Sensor", attribute floor=3) in group child (under parent).</summary>
    private async Task<Certificate> DeviceAsync()
    {
        await _s.Db.ThingTypes.CreateAsync("Sensor", null, null, null, null, None);
        await _s.CreateThingAsync("dev-1", "Sensor", new Dictionary<string, string> { ["floor"] = "3" });
        await _s.CreateGroupAsync("parent");
        await _s.CreateGroupAsync("child", "parent");
        await _s.Db.ThingGroups.AddThingAsync("child", "dev-1", None);
        var certificate = await _s.CreateCertificateAsync(active: true);
        await _s.Principals.AttachAsync(_s.Scope, "dev-1", _s.CertificateArn(certificate.CertificateId), null, None);
        return certificate;
    }

    private async Task<DeviceAuthorization> LoadAsync(Certificate certificate, string clientId = "dev-1") =>
        await _service.LoadAsync(certificate.CertificateId, clientId, Account, None)
        ?? throw new InvalidOperationException("certificate not found");

    public static TheoryData<string, string, string, string, bool> Table => new()
    {
        // label, document, action, resource (after the account's ARN prefix), allowed
        { "exact topic", Document(Statement("Allow", "iot:Publish", "arn:aws:iot:eu-west-1:123456789012:topic/a/b")), IotActions.Publish, "topic/a/b", true },
        { "other region in the ARN", Document(Statement("Allow", "iot:Publish", "arn:aws:iot:us-east-1:123456789012:topic/a/b")), IotActions.Publish, "topic/a/b", true },
        { "other account in the ARN", Document(Statement("Allow", "iot:Publish", "arn:aws:iot:eu-west-1:999999999999:topic/a/b")), IotActions.Publish, "topic/a/b", false },
        { "star", Document(Statement("Allow", "iot:Publish", "arn:aws:iot:*:*:topic/a/*")), IotActions.Publish, "topic/a/b/c", true },
        { "question mark", Document(Statement("Allow", "iot:Publish", "arn:aws:iot:*:*:topic/a/?")), IotActions.Publish, "topic/a/bc", false },
        { "MQTT wildcard is literal", Document(Statement("Allow", "iot:Subscribe", "arn:aws:iot:*:*:topicfilter/a/+")), IotActions.Subscribe, "topicfilter/a/b", false },
        { "filter with +", Document(Statement("Allow", "iot:Subscribe", "arn:aws:iot:*:*:topicfilter/a/+")), IotActions.Subscribe, "topicfilter/a/+", true },
        { "other action", Document(Statement("Allow", "iot:Subscribe", "*")), IotActions.Publish, "topic/a", false },
        { "iot:* action", Document(Statement("Allow", "iot:*", "*")), IotActions.Receive, "topic/a", true },
        { "deny wins", Document(Statement("Allow", "iot:*", "*"), Statement("Deny", "iot:Publish", "arn:aws:iot:*:*:topic/secret/*")), IotActions.Publish, "topic/secret/x", false },
        { "thing name", Document(Statement("Allow", "iot:Publish", "arn:aws:iot:*:*:topic/things/${iot:Connection.Thing.ThingName}/*")), IotActions.Publish, "topic/things/dev-1/state", true },
        { "thing name, other thing", Document(Statement("Allow", "iot:Publish", "arn:aws:iot:*:*:topic/things/${iot:Connection.Thing.ThingName}/*")), IotActions.Publish, "topic/things/dev-2/state", false },
        { "client id", Document(Statement("Allow", "iot:Connect", "arn:aws:iot:*:*:client/${iot:ClientId}")), IotActions.Connect, "client/dev-1", true },
        { "thing type", Document(Statement("Allow", "iot:Publish", "arn:aws:iot:*:*:topic/${iot:Connection.Thing.ThingTypeName}/x")), IotActions.Publish, "topic/Sensor/x", true },
        { "attribute", Document(Statement("Allow", "iot:Publish", "arn:aws:iot:*:*:topic/floor/${iot:Connection.Thing.Attributes[floor]}")), IotActions.Publish, "topic/floor/3", true },
        { "missing attribute never allows", Document(Statement("Allow", "iot:Publish", "arn:aws:iot:*:*:topic/x/${iot:Connection.Thing.Attributes[room]}")), IotActions.Publish, "topic/x/", false },
        { "is attached", Document(Statement("Allow", "iot:Connect", "*", """{"Bool":{"iot:Connection.Thing.IsAttached":"true"}}""")), IotActions.Connect, "client/dev-1", true },
        { "certificate CN", Document(Statement("Allow", "iot:Publish", "arn:aws:iot:*:*:topic/cn/${iot:Certificate.Subject.CommonName}")), IotActions.Publish, "topic/cn/Fleetkey Device Certificate", true },
        { "issuer CN", Document(Statement("Allow", "iot:Publish", "arn:aws:iot:*:*:topic/${iot:Certificate.Issuer.CommonName}")), IotActions.Publish, "topic/Fleetkey Issuing CA", true },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public async Task LoadAsync_PolicyOnCertificate_DecidesAsTheTableSays(string label, string document, string action, string resource, bool allowed)
    {
        var certificate = await DeviceAsync();
        await _s.CreatePolicyAsync("p", document);
        await _s.Policies.AttachAsync(_s.Scope, "p", _s.CertificateArn(certificate.CertificateId), None);

        var authorization = await LoadAsync(certificate);

        Assert.True(allowed == authorization.IsAllowed(action, $"arn:aws:iot:{IotActions.EvaluationRegion}:{Account}:{resource}"), label);
    }

    [Fact]
    public async Task LoadAsync_PolicyOnAncestorGroup_AppliesToTheConnectionsThing()
    {
        var certificate = await DeviceAsync();
        await _s.CreatePolicyAsync("group-policy", Document(Statement("Allow", "iot:Publish", "arn:aws:iot:*:*:topic/group/*")));
        await _s.Policies.AttachAsync(_s.Scope, "group-policy", _s.GroupArn("parent"), None);

        Assert.True((await LoadAsync(certificate)).MayPublish("group/x"));
        // Another client id: the connection stands for no thing (the attachment is not exclusive), so no group policy.
        var other = await LoadAsync(certificate, "someone-else");
        Assert.False(other.MayPublish("group/x"));
        Assert.Null(other.Thing);
        Assert.Equal("false", other.Variables["iot:Connection.Thing.IsAttached"]);
    }

    [Fact]
    public async Task LoadAsync_ExclusiveAttachment_ThingWhateverTheClientId()
    {
        await _s.CreateThingAsync("solo");
        var certificate = await _s.CreateCertificateAsync(active: true);
        await _s.Principals.AttachAsync(_s.Scope, "solo", _s.CertificateArn(certificate.CertificateId), ThingPrincipalType.Exclusive, None);

        var authorization = await LoadAsync(certificate, "any-client");

        Assert.Equal("solo", authorization.Thing?.Name);
        Assert.Equal("solo", authorization.Variables["iot:Connection.Thing.ThingName"]);
    }

    [Fact]
    public async Task LoadAsync_StatusAndPolicyVersion_FollowTheStore()
    {
        var certificate = await DeviceAsync();
        await _s.CreatePolicyAsync("p", Document(Statement("Allow", "iot:*", "*")));
        await _s.Policies.AttachAsync(_s.Scope, "p", _s.CertificateArn(certificate.CertificateId), None);
        Assert.True((await LoadAsync(certificate)).MayConnect("dev-1"));

        await _s.Policies.CreateVersionAsync("p", Document(Statement("Allow", "iot:Publish", "*")), setAsDefault: true, None);
        var second = await LoadAsync(certificate);
        Assert.False(second.MayConnect("dev-1"));
        Assert.Equal(2, Assert.Single(second.Policies).VersionId);

        await _s.Certificates.UpdateStatusAsync(certificate.CertificateId, CertificateStatus.Inactive, None);
        var inactive = await LoadAsync(certificate);
        Assert.False(inactive.IsActive);
        Assert.False(inactive.MayConnect("dev-1"));
    }

    [Fact]
    public async Task LoadAsync_UnknownCertificate_Null()
    {
        Assert.Null(await _service.LoadAsync(new string('a', 64), "dev-1", Account, None));
    }
}
