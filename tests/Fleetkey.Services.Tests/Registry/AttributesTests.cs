using Fleetkey.Core.Errors;
using Fleetkey.Services.Registry;
using Xunit;
using static Fleetkey.Services.Tests.ServiceDatabase;

namespace Fleetkey.Services.Tests.Registry;

public sealed class AttributesTests
{
    private static readonly Dictionary<string, string> Current = Attrs(("a", "1"), ("b", "2"));

    public static TheoryData<Dictionary<string, string>?, bool, Dictionary<string, string>> ApplyCases => new()
    {
        // No payload: unchanged, whatever the mode.
        { null, true, Attrs(("a", "1"), ("b", "2")) },
        { null, false, Attrs(("a", "1"), ("b", "2")) },
        // Merge lays the payload over the current attributes.
        { Attrs(("b", "20"), ("c", "3")), true, Attrs(("a", "1"), ("b", "20"), ("c", "3")) },
        { Attrs(), true, Attrs(("a", "1"), ("b", "2")) },
        { Attrs(("a", "")), true, Attrs(("b", "2")) },
        { Attrs(("x", "")), true, Attrs(("a", "1"), ("b", "2")) },
        // Replace keeps only the payload.
        { Attrs(("c", "3")), false, Attrs(("c", "3")) },
        { Attrs(), false, Attrs() },
        { Attrs(("a", ""), ("c", "3")), false, Attrs(("c", "3")) },
    };

    [Theory]
    [MemberData(nameof(ApplyCases))]
    public void Apply_Cases_GiveExpectedAttributes(Dictionary<string, string>? payload, bool merge, Dictionary<string, string> expected)
    {
        var result = Attributes.Apply(Current, payload, merge);

        Assert.Equal(expected, result);
        Assert.Equal(Attrs(("a", "1"), ("b", "2")), Current);
    }

    [Fact]
    public void Normalize_EmptyValues_AreDropped()
    {
        Assert.Equal(Attrs(("a", "1")), Attributes.Normalize(Attrs(("a", "1"), ("b", ""))));
        Assert.Empty(Attributes.Normalize(null));
    }

    [Fact]
    public void Normalize_Keys_AreCaseSensitive()
    {
        Assert.Equal(2, Attributes.Normalize(Attrs(("a", "1"), ("A", "2"))).Count);
    }

    public static TheoryData<Dictionary<string, string>, Dictionary<string, string>, bool> SameAsCases => new()
    {
        { Attrs(), Attrs(), true },
        { Attrs(("a", "1"), ("b", "2")), Attrs(("b", "2"), ("a", "1")), true },
        { Attrs(("a", "1")), Attrs(("a", "2")), false },
        { Attrs(("a", "1")), Attrs(("A", "1")), false },
        { Attrs(("a", "x")), Attrs(("a", "X")), false },
        { Attrs(("a", "1")), Attrs(("a", "1"), ("b", "2")), false },
        { Attrs(("a", "1"), ("b", "2")), Attrs(("a", "1")), false },
    };

    [Theory]
    [MemberData(nameof(SameAsCases))]
    public void SameAs_Cases_ComparesOrdinallyIgnoringOrder(Dictionary<string, string> a, Dictionary<string, string> b, bool same)
    {
        Assert.Equal(same, Attributes.SameAs(a, b));
    }

    [Theory]
    [InlineData(0, null, true)]
    [InlineData(3, null, true)]
    [InlineData(4, null, false)]
    [InlineData(4, "sensor", true)]
    [InlineData(50, "sensor", true)]
    [InlineData(51, "sensor", false)]
    public void EnsureThingLimit_Counts_AllowsUpToLimitOfTypedOrUntyped(int count, string? typeName, bool allowed)
    {
        var exception = Record.Exception(() => Attributes.EnsureThingLimit(ManyAttrs(count), typeName));

        if (allowed)
        {
            Assert.Null(exception);
        }
        else
        {
            Assert.Same(ErrorCode.InvalidRequest, Assert.IsType<ServiceException>(exception).Code);
            Assert.Contains($"{count} were given", exception.Message, StringComparison.Ordinal);
        }
    }
}
