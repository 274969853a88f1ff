using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Registry;
using Fleetkey.Services.Security;
using Xunit;

namespace Fleetkey.Services.Tests.Security;

public sealed class PrincipalServiceTests : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly PageRequest All = new(null, 100);
    private readonly SecurityServices _s = new();

    public Task InitializeAsync() => _s.InitializeAsync();

    public Task DisposeAsync() => _s.DisposeAsync().AsTask();

    private PrincipalService Principals => _s.Principals;

    private async Task<string> NewCertificateArnAsync() => _s.CertificateArn((await _s.CreateCertificateAsync()).CertificateId);

    private Task AttachAsync(string thing, string arn, string? type = null) => Principals.AttachAsync(_s.Scope, thing, arn, type, None);

    private async Task<IReadOnlyList<string>> PrincipalIdsOfThingAsync(string thing, string? type = null) =>
        (await Principals.ListForThingAsync(thing, type, All, None)).Items.Select(p => _s.CertificateArn(p.PrincipalId)).ToArray();

    private async Task<IReadOnlyList<string>> ThingsOfPrincipalAsync(string arn, string? type = null) =>
        (await Principals.ListForPrincipalAsync(_s.Scope, arn, type, All, None)).Items.Select(p => p.ThingName).ToArray();

    [Fact]
    public async Task AttachAsync_ThenList_BothWays()
    {
        await _s.CreateThingAsync("sensor-1");
        var arn = await NewCertificateArnAsync();

        await AttachAsync("sensor-1", arn);

        Assert.Equal([arn], await PrincipalIdsOfThingAsync("sensor-1"));
        Assert.Equal(["sensor-1"], await ThingsOfPrincipalAsync(arn));
        var stored = Assert.Single(await _s.PrincipalsOfThingAsync("sensor-1"));
        Assert.Equal(ThingPrincipalType.NonExclusive, stored.PrincipalType);
        Assert.Equal(PolicyTarget.CertificateKind, stored.PrincipalKind);
    }

    [Fact]
    public async Task AttachAsync_Twice_OneAttachment()
    {
        await _s.CreateThingAsync("sensor-1");
        var arn = await NewCertificateArnAsync();

        await AttachAsync("sensor-1", arn);
        await AttachAsync("sensor-1", arn);

        Assert.Single(await _s.PrincipalsOfThingAsync("sensor-1"));
    }

    [Fact]
    public async Task AttachAsync_OtherRegionSameAccount_Attaches()
    {
        await _s.CreateThingAsync("sensor-1");
        var certificate = await _s.CreateCertificateAsync();
        var arn = $"arn:aws:iot:us-east-1:{_s.Scope.AccountId}:cert/{certificate.CertificateId}";

        await AttachAsync("sensor-1", arn);

        Assert.Equal(["sensor-1"], await _s.ThingsOfCertificateAsync(certificate.CertificateId));
    }

    [Fact]
    public async Task DetachAsync_Attached_RemovedBothWays()
    {
        await _s.CreateThingAsync("sensor-1");
        await _s.CreateThingAsync("sensor-2");
        var arn = await NewCertificateArnAsync();
        await AttachAsync("sensor-1", arn);
        await AttachAsync("sensor-2", arn);

        await Principals.DetachAsync(_s.Scope, "sensor-1", arn, None);

        Assert.Empty(await PrincipalIdsOfThingAsync("sensor-1"));
        Assert.Equal(["sensor-2"], await ThingsOfPrincipalAsync(arn));
    }

    [Fact]
    public async Task AttachAsync_NonExclusiveOnSeveralThings_AllListed()
    {
        var arn = await NewCertificateArnAsync();
        foreach (var name in new[] { "c-thing", "a-thing", "b-thing" })
        {
            await _s.CreateThingAsync(name);
            await AttachAsync(name, arn, ThingPrincipalType.NonExclusive);
        }

        Assert.Equal(["a-thing", "b-thing", "c-thing"], await ThingsOfPrincipalAsync(arn));
    }

    [Theory]
    [InlineData(ThingPrincipalType.Exclusive, ThingPrincipalType.NonExclusive)]
    [InlineData(ThingPrincipalType.Exclusive, ThingPrincipalType.Exclusive)]
    [InlineData(ThingPrincipalType.NonExclusive, ThingPrincipalType.Exclusive)]
    [InlineData(null, ThingPrincipalType.Exclusive)]
    public async Task AttachAsync_SecondThingWithExclusiveInvolved_InvalidRequestAndUnchanged(string? first, string second)
    {
        await _s.CreateThingAsync("sensor-1");
        await _s.CreateThingAsync("sensor-2");
        var arn = await NewCertificateArnAsync();
        await AttachAsync("sensor-1", arn, first);

        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => AttachAsync("sensor-2", arn, second));

        Assert.Equal(["sensor-1"], await ThingsOfPrincipalAsync(arn));
        Assert.Empty(await _s.PrincipalsOfThingAsync("sensor-2"));
    }

    [Fact]
    public async Task AttachAsync_ExclusiveAfterDetach_AttachesToNewThing()
    {
        await _s.CreateThingAsync("sensor-1");
        await _s.CreateThingAsync("sensor-2");
        var arn = await NewCertificateArnAsync();
        await AttachAsync("sensor-1", arn, ThingPrincipalType.Exclusive);
        await Principals.DetachAsync(_s.Scope, "sensor-1", arn, None);

        await AttachAsync("sensor-2", arn, ThingPrincipalType.Exclusive);

        Assert.Equal(["sensor-2"], await ThingsOfPrincipalAsync(arn));
    }

    [Fact]
    public async Task ListForThingAsync_TypeFilter_OnlyThatType()
    {
        await _s.CreateThingAsync("sensor-1");
        var exclusive = await NewCertificateArnAsync();
        var shared = await NewCertificateArnAsync();
        await AttachAsync("sensor-1", exclusive, ThingPrincipalType.Exclusive);
        await AttachAsync("sensor-1", shared, ThingPrincipalType.NonExclusive);

        Assert.Equal([exclusive], await PrincipalIdsOfThingAsync("sensor-1", ThingPrincipalType.Exclusive));
        Assert.Equal([shared], await PrincipalIdsOfThingAsync("sensor-1", ThingPrincipalType.NonExclusive));
        Assert.Equal(new[] { exclusive, shared }.Order(StringComparer.Ordinal), await PrincipalIdsOfThingAsync("sensor-1"));
        Assert.Equal(["sensor-1"], await ThingsOfPrincipalAsync(exclusive, ThingPrincipalType.Exclusive));
        Assert.Empty(await ThingsOfPrincipalAsync(exclusive, ThingPrincipalType.NonExclusive));
        Assert.Empty(await ThingsOfPrincipalAsync(shared, ThingPrincipalType.Exclusive));
    }

    [Fact]
    public async Task ListForPrincipalAsync_Paged_EveryThingOnce()
    {
        var arn = await NewCertificateArnAsync();
        var names = Enumerable.Range(0, 5).Select(i => $"thing-{i}").ToArray();
        foreach (var name in names)
        {
            await _s.CreateThingAsync(name);
            await AttachAsync(name, arn);
        }

        var listed = new List<string>();
        string? token = null;
        do
        {
            var page = await Principals.ListForPrincipalAsync(_s.Scope, arn, null, PageRequest.From(token, 2), None);
            listed.AddRange(page.Items.Select(p => p.ThingName));
            token = page.NextKey;
        }
        while (token is not null);

        Assert.Equal(names, listed);
    }

    [Fact]
    public async Task AttachAsync_UnknownThing_ResourceNotFound()
    {
        var arn = await NewCertificateArnAsync();

        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => AttachAsync("nope", arn));
    }

    [Fact]
    public async Task AttachAsync_UnknownCertificate_ResourceNotFound()
    {
        await _s.CreateThingAsync("sensor-1");

        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => AttachAsync("sensor-1", _s.CertificateArn(new string('c', 64))));
        Assert.Empty(await _s.PrincipalsOfThingAsync("sensor-1"));
    }

    [Fact]
    public async Task ListAndDetach_UnknownThingOrCertificate_ResourceNotFound()
    {
        await _s.CreateThingAsync("sensor-1");
        var arn = await NewCertificateArnAsync();
        var missing = _s.CertificateArn(new string('d', 64));

        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => Principals.ListForThingAsync("nope", null, All, None));
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => Principals.ListForPrincipalAsync(_s.Scope, missing, null, All, None));
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => Principals.DetachAsync(_s.Scope, "nope", arn, None));
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => Principals.DetachAsync(_s.Scope, "sensor-1", missing, None));
    }

    public static TheoryData<string> NotCertificateArns => new()
    {
        "arn:aws:iot:eu-west-1:123456789012:thing/sensor-1",
        "arn:aws:iot:eu-west-1:123456789012:policy/p1",
        "arn:aws:iam::123456789012:user/alice",
        "sensor-1",
        "",
    };

    [Theory]
    [MemberData(nameof(NotCertificateArns))]
    public async Task AttachAsync_NotCertificateArn_InvalidRequest(string principal)
    {
        await _s.CreateThingAsync("sensor-1");

        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => AttachAsync("sensor-1", principal));
        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => Principals.ListForPrincipalAsync(_s.Scope, principal, null, All, None));
    }

    [Fact]
    public async Task AttachAsync_OtherAccountsArn_ResourceNotFound()
    {
        await _s.CreateThingAsync("sensor-1");
        var certificate = await _s.CreateCertificateAsync();
        var foreign = $"arn:aws:iot:{_s.Scope.Region}:999999999999:cert/{certificate.CertificateId}";

        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => AttachAsync("sensor-1", foreign));
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => Principals.ListForPrincipalAsync(_s.Scope, foreign, null, All, None));
        Assert.Empty(await _s.PrincipalsOfThingAsync("sensor-1"));
    }

    [Fact]
    public async Task ThingDeleteAsync_PrincipalAttached_InvalidRequestWithAwsText()
    {
        await _s.CreateThingAsync("sensor-1");
        var arn = await NewCertificateArnAsync();
        await AttachAsync("sensor-1", arn);

        var exception = await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => _s.Db.Things.DeleteAsync("sensor-1", null, None));

        Assert.Equal("Cannot delete. Thing sensor-1 is still attached to one or more principals", exception.Message);
        Assert.NotNull(await _s.Db.GetThingAsync("sensor-1"));
    }

    [Fact]
    public async Task ThingDeleteAsync_AfterDetach_Deleted()
    {
        await _s.CreateThingAsync("sensor-1");
        var arn = await NewCertificateArnAsync();
        await AttachAsync("sensor-1", arn);
        await Principals.DetachAsync(_s.Scope, "sensor-1", arn, None);

        await _s.Db.Things.DeleteAsync("sensor-1", null, None);

        Assert.Null(await _s.Db.GetThingAsync("sensor-1"));
    }

    [Fact]
    public void Principals_Render_CertificateArnOfScope()
    {
        var scope = new IotScope("eu-west-1", "123456789012");

        var arn = Fleetkey.Services.Security.Principals.Render(scope, new ThingPrincipal("t", PolicyTarget.CertificateKind, "abc", ThingPrincipalType.NonExclusive));

        Assert.Equal("arn:aws:iot:eu-west-1:123456789012:cert/abc", arn);
    }
}
