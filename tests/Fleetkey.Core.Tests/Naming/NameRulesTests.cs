using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Xunit;

namespace Fleetkey.Core.Tests.Naming;

public sealed class NameRulesTests
{
    public static TheoryData<string?, bool> RegistryNames => new()
    {
        { "a", true },
        { "Sensor-01", true },
        { "under_score", true },
        { "with:colon", true },
        { "0123456789", true },
        { "aZ09:_-", true },
        { new string('a', 128), true },
        { new string('a', 129), false },
        { null, false },
        { "", false },
        { " ", false },
        { "has space", false },
        { "has/slash", false },
        { "has.dot", false },
        { "has@at", false },
        { "has#hash", false },
        { "has=equals", false },
        { "ümlaut", false },
        { "tab\tname", false },
    };

    [Theory]
    [MemberData(nameof(RegistryNames))]
    public void IsRegistryName_Cases_MatchAwsPattern(string? name, bool valid)
    {
        Assert.Equal(valid, NameRules.IsRegistryName(name));
    }

    [Theory]
    [MemberData(nameof(RegistryNames))]
    public void EnsureRegistryName_Cases_ThrowsInvalidRequestOnlyForInvalid(string? name, bool valid)
    {
        var exception = Record.Exception(() => NameRules.EnsureRegistryName(name, "thingName"));

        if (valid)
        {
            Assert.Null(exception);
        }
        else
        {
            var serviceException = Assert.IsType<ServiceException>(exception);
            Assert.Same(ErrorCode.InvalidRequest, serviceException.Code);
            Assert.Contains($"Value '{name}' at 'thingName' failed to satisfy constraint", serviceException.Message, StringComparison.Ordinal);
            Assert.Contains("[a-zA-Z0-9:_-]+", serviceException.Message, StringComparison.Ordinal);
        }
    }

    public static TheoryData<string, bool> AttributeNames => new()
    {
        { "a", true },
        { "serial_no", true },
        { "a.b,c@d/e:f#g-h", true },
        { new string('k', 128), true },
        { new string('k', 129), false },
        { "", false },
        { "has space", false },
        { "has=equals", false },
        { "has[bracket]", false },
        { "has$dollar", false },
        { "ümlaut", false },
    };

    [Theory]
    [MemberData(nameof(AttributeNames))]
    public void EnsureAttributes_AttributeNames_ThrowsInvalidRequestOnlyForInvalid(string name, bool valid)
    {
        var attributes = new Dictionary<string, string> { [name] = "v" };

        var exception = Record.Exception(() => NameRules.EnsureAttributes(attributes, "attributePayload.attributes"));

        if (valid)
        {
            Assert.Null(exception);
        }
        else
        {
            var serviceException = Assert.IsType<ServiceException>(exception);
            Assert.Same(ErrorCode.InvalidRequest, serviceException.Code);
            Assert.Contains($"Value '{name}' at 'attributePayload.attributes' failed to satisfy constraint: Map keys", serviceException.Message, StringComparison.Ordinal);
        }
    }

    public static TheoryData<string, bool> AttributeValues => new()
    {
        { "", true },
        { "v", true },
        { "a.b,c@d/e:f#g-h=i[j]_0", true },
        { new string('v', 800), true },
        { new string('v', 801), false },
        { "has space", false },
        { "has$dollar", false },
        { "quote\"", false },
        { "ümlaut", false },
        { "new\nline", false },
    };

    [Theory]
    [MemberData(nameof(AttributeValues))]
    public void EnsureAttributes_AttributeValues_ThrowsInvalidRequestOnlyForInvalid(string value, bool valid)
    {
        var attributes = new Dictionary<string, string> { ["key"] = value };

        var exception = Record.Exception(() => NameRules.EnsureAttributes(attributes, "attributePayload.attributes"));

        if (valid)
        {
            Assert.Null(exception);
        }
        else
        {
            var serviceException = Assert.IsType<ServiceException>(exception);
            Assert.Same(ErrorCode.InvalidRequest, serviceException.Code);
            Assert.Contains($"Value '{value}' at 'attributePayload.attributes.key' failed to satisfy constraint", serviceException.Message, StringComparison.Ordinal);
            Assert.Contains("length less than or equal to 800", serviceException.Message, StringComparison.Ordinal);
        }
    }

    // Regression: .NET's '$' also matches before a final '\n'; the patterns must end in '\z'.
    [Theory]
    [InlineData("sensor\n")]
    [InlineData("a:b\n")]
    public void IsRegistryName_TrailingNewline_ReturnsFalse(string name)
    {
        Assert.False(NameRules.IsRegistryName(name));
    }

    [Fact]
    public void EnsureAttributes_NameWithTrailingNewline_ThrowsInvalidRequest()
    {
        var attributes = new Dictionary<string, string> { ["key\n"] = "v" };

        var exception = Assert.Throws<ServiceException>(() => NameRules.EnsureAttributes(attributes, "attributePayload.attributes"));

        Assert.Same(ErrorCode.InvalidRequest, exception.Code);
    }

    [Fact]
    public void EnsureAttributes_ValueWithTrailingNewline_ThrowsInvalidRequest()
    {
        var attributes = new Dictionary<string, string> { ["key"] = "v\n" };

        var exception = Assert.Throws<ServiceException>(() => NameRules.EnsureAttributes(attributes, "attributePayload.attributes"));

        Assert.Same(ErrorCode.InvalidRequest, exception.Code);
    }

    [Fact]
    public void EnsureAttributes_Empty_DoesNotThrow()
    {
        NameRules.EnsureAttributes(new Dictionary<string, string>(), "attributePayload.attributes");
    }

    [Fact]
    public void EnsureAttributes_OneBadAmongGood_Throws()
    {
        var attributes = new Dictionary<string, string> { ["a"] = "1", ["b"] = "2", ["bad key"] = "3" };

        var exception = Assert.Throws<ServiceException>(() => NameRules.EnsureAttributes(attributes, "f"));

        Assert.Same(ErrorCode.InvalidRequest, exception.Code);
        Assert.Contains("'bad key'", exception.Message, StringComparison.Ordinal);
    }

    // The regionRegex of each partition in botocore's data/partitions.json, one real region of each,
    // a region AWS has not opened yet, and names of no partition.
    public static TheoryData<string?, bool> AwsRegions => new()
    {
        { "us-east-1", true },
        { "eu-central-2", true },
        { "ap-southeast-7", true },
        { "ap-southeast-12", true },
        { "il-central-1", true },
        { "mx-central-1", true },
        { "me-south-1", true },
        { "af-south-1", true },
        { "ca-west-1", true },
        { "sa-east-1", true },
        { "cn-northwest-1", true },
        { "us-gov-west-1", true },
        { "us-iso-east-1", true },
        { "us-isob-east-1", true },
        { "us-isof-south-1", true },
        { "eu-isoe-west-1", true },
        { "eusc-de-east-1", true },
        { "not-a-region", false },
        { "local", false },
        { "fleetkey", false },
        { "aws-global", false },
        { "us-east", false },
        { "us-east-1a", false },
        { "xx-west-1", false },
        { "US-EAST-1", false },
        { "us_east_1", false },
        { "us-east-1\n", false },
        { "eusc-fr-east-1", false },
        { "", false },
        { null, false },
    };

    [Theory]
    [MemberData(nameof(AwsRegions))]
    public void IsAwsRegion_Cases_MatchBotocorePartitions(string? region, bool valid)
    {
        Assert.Equal(valid, NameRules.IsAwsRegion(region));
    }
}
