using Xunit;

namespace Fleetkey.Signing.Tests;

public sealed class SigV4CanonicalTests
{
    [Theory]
    [InlineData("/things/thing%3A1", "/things/thing%253A1")]
    [InlineData("/", "/")]
    [InlineData("", "/")]
    [InlineData("/a/./b/../c//d/", "/a/c/d/")]
    [InlineData("/..", "/")]
    [InlineData("/%2E%2E/x", "/%252E%252E/x")]
    [InlineData("/example space/", "/example%20space/")]
    [InlineData("/-._~AZaz09", "/-._~AZaz09")]
    [InlineData("/\u1234", "/%E1%88%B4")]
    [InlineData("/policies/p+1=@,", "/policies/p%2B1%3D%40%2C")]
    public void Path_RawWirePath_IsNormalizedAndEncodedOnceMore(string rawPath, string expected)
    {
        Assert.Equal(expected, SigV4Canonical.Path(rawPath));
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("b=2&a=1", "a=1&b=2")]
    [InlineData("attributeName=color&attributeValue=a%20b%2Fc", "attributeName=color&attributeValue=a%20b%2Fc")]
    [InlineData("a=x+y", "a=x%2By")]
    [InlineData("a=%7e%2d", "a=~-")]
    [InlineData("a=b c", "a=b%20c")]
    [InlineData("flag", "flag=")]
    [InlineData("a=1&&b=2", "a=1&b=2")]
    [InlineData("a=%zz", "a=%25zz")]
    [InlineData("k=%e1%88%b4", "k=%E1%88%B4")]
    [InlineData("a=2&a=1&A=3", "A=3&a=1&a=2")]
    [InlineData("a=b=c", "a=b%3Dc")]
    public void Query_RawQuery_IsDecodedReencodedAndSorted(string rawQuery, string expected)
    {
        Assert.Equal(expected, SigV4Canonical.Query(rawQuery));
    }

    [Theory]
    [InlineData(new[] { "  a   b  " }, "a b")]
    [InlineData(new[] { "a", "b" }, "a,b")]
    [InlineData(new[] { "a\t\tb" }, "a b")]
    [InlineData(new[] { "" }, "")]
    [InlineData(new[] { "v1\n  v2\n     v3" }, "v1,v2,v3")]
    [InlineData(new[] { "a, b" }, "a, b")]
    public void HeaderValue_Values_AreTrimmedCollapsedAndJoined(string[] values, string expected)
    {
        Assert.Equal(expected, SigV4Canonical.HeaderValue(values));
    }
}
