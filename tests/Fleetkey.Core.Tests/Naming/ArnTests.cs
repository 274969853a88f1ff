using Fleetkey.Core.Naming;
using Xunit;

namespace Fleetkey.Core.Tests.Naming;

public sealed class ArnTests
{
    private static readonly IotScope Scope = new("eu-west-1", "123456789012");

    [Theory]
    [InlineData(ResourceKind.Thing, "arn:aws:iot:eu-west-1:123456789012:thing/sensor-1")]
    [InlineData(ResourceKind.ThingType, "arn:aws:iot:eu-west-1:123456789012:thingtype/sensor-1")]
    [InlineData(ResourceKind.ThingGroup, "arn:aws:iot:eu-west-1:123456789012:thinggroup/sensor-1")]
    [InlineData(ResourceKind.Certificate, "arn:aws:iot:eu-west-1:123456789012:cert/sensor-1")]
    [InlineData(ResourceKind.CaCertificate, "arn:aws:iot:eu-west-1:123456789012:cacert/sensor-1")]
    [InlineData(ResourceKind.Policy, "arn:aws:iot:eu-west-1:123456789012:policy/sensor-1")]
    [InlineData(ResourceKind.ProvisioningTemplate, "arn:aws:iot:eu-west-1:123456789012:provisioningtemplate/sensor-1")]
    [InlineData(ResourceKind.EnrollmentGroup, "arn:aws:iot:eu-west-1:123456789012:enrollmentgroup/sensor-1")]
    [InlineData(ResourceKind.Enrollment, "arn:aws:iot:eu-west-1:123456789012:enrollment/sensor-1")]
    public void For_EachKind_UsesAwsTypeWord(ResourceKind kind, string expected)
    {
        Assert.Equal(expected, Arn.For(Scope, kind, "sensor-1"));
    }

    [Fact]
    public void KindShortcuts_MatchFor()
    {
        Assert.Equal("arn:aws:iot:eu-west-1:123456789012:thing/t", Arn.Thing(Scope, "t"));
        Assert.Equal("arn:aws:iot:eu-west-1:123456789012:thingtype/t", Arn.ThingType(Scope, "t"));
        Assert.Equal("arn:aws:iot:eu-west-1:123456789012:thinggroup/t", Arn.ThingGroup(Scope, "t"));
    }

    [Fact]
    public void TypeWord_UndefinedKind_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Arn.TypeWord((ResourceKind)999));
    }

    [Fact]
    public void ArnPrefix_IncludesRegionAndAccount()
    {
        Assert.Equal("arn:aws:iot:us-east-2:000000000001:", new IotScope("us-east-2", "000000000001").ArnPrefix);
    }

    public static TheoryData<ResourceKind, string> RoundTripCases => new()
    {
        { ResourceKind.Thing, "sensor-1" },
        { ResourceKind.Thing, "a:b" },
        { ResourceKind.Thing, "a:b:c:d" },
        { ResourceKind.ThingType, "Type_1" },
        { ResourceKind.ThingGroup, "group:with:colons" },
        { ResourceKind.Certificate, new string('a', 64) },
        { ResourceKind.CaCertificate, "0123abcd" },
        { ResourceKind.Policy, "policy-name" },
        { ResourceKind.ProvisioningTemplate, "fleet_template" },
        { ResourceKind.EnrollmentGroup, "line:2" },
        { ResourceKind.Enrollment, "SN-0001" },
    };

    [Theory]
    [MemberData(nameof(RoundTripCases))]
    public void TryParse_ArnFromFor_RoundTrips(ResourceKind kind, string name)
    {
        var arn = Arn.For(Scope, kind, name);

        Assert.True(Arn.TryParse(arn, out var parsed));
        Assert.Equal(new ParsedArn("eu-west-1", "123456789012", kind, name), parsed);
    }

    [Fact]
    public void TryParse_NameWithColons_KeepsWholeName()
    {
        Assert.True(Arn.TryParse("arn:aws:iot:eu-west-1:123456789012:thing/a:b", out var parsed));

        Assert.Equal(ResourceKind.Thing, parsed.Kind);
        Assert.Equal("a:b", parsed.Name);
    }

    [Fact]
    public void TryParse_NameWithSlash_KeepsEverythingAfterFirstSlash()
    {
        Assert.True(Arn.TryParse("arn:aws:iot:eu-west-1:123456789012:thinggroup/a/b", out var parsed));

        Assert.Equal(ResourceKind.ThingGroup, parsed.Kind);
        Assert.Equal("a/b", parsed.Name);
    }

    [Fact]
    public void TryParse_OtherRegionAndAccount_ReturnsThem()
    {
        Assert.True(Arn.TryParse("arn:aws-cn:iot:cn-north-1:999999999999:thingtype/x", out var parsed));

        Assert.Equal("cn-north-1", parsed.Region);
        Assert.Equal("999999999999", parsed.AccountId);
        Assert.Equal(ResourceKind.ThingType, parsed.Kind);
        Assert.Equal("x", parsed.Name);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("sensor-1")]
    [InlineData("arn:aws:s3:eu-west-1:123456789012:thing/sensor-1")]
    [InlineData("arn:aws:iam::123456789012:thing/sensor-1")]
    [InlineData("arn:aws:IOT:eu-west-1:123456789012:thing/sensor-1")]
    [InlineData("urn:aws:iot:eu-west-1:123456789012:thing/sensor-1")]
    [InlineData("arn::iot:eu-west-1:123456789012:thing/sensor-1")]
    [InlineData("arn:aws:iot:eu-west-1:123456789012")]
    [InlineData("arn:aws:iot:eu-west-1:123456789012:thing")]
    [InlineData("arn:aws:iot:eu-west-1:123456789012:thing/")]
    [InlineData("arn:aws:iot:eu-west-1:123456789012:/sensor-1")]
    [InlineData("arn:aws:iot:eu-west-1:123456789012:things/sensor-1")]
    [InlineData("arn:aws:iot:eu-west-1:123456789012:Thing/sensor-1")]
    [InlineData("arn:aws:iot:eu-west-1:123456789012:billinggroup/sensor-1")]
    [InlineData("arn:aws:iot:eu-west-1:123456789012:topic/sensor-1")]
    public void TryParse_NotAKnownIotArn_ReturnsFalse(string? arn)
    {
        Assert.False(Arn.TryParse(arn, out var parsed));
        Assert.Null(parsed);
    }
}
