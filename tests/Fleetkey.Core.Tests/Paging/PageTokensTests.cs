using System.Text;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Paging;
using Xunit;

namespace Fleetkey.Core.Tests.Paging;

public sealed class PageTokensTests
{
    private const string Scope = "ListThings\nthingTypeName=\"sensor\"";

    private static readonly PageTokens Tokens = new(Enumerable.Range(1, PageTokens.SecretLength).Select(i => (byte)i).ToArray());

    [Theory]
    [InlineData("thing-1")]
    [InlineData("a:b:c")]
    [InlineData("arn:aws:iot:eu-west-1:123456789012:thing/x")]
    [InlineData("Zürich-Straße-東京-🚀")]
    [InlineData("line\nbreak")]
    [InlineData(" ")]
    public void Unprotect_ProtectedKey_RoundTrips(string key)
    {
        Assert.Equal(key, Tokens.Unprotect(Scope, Tokens.Protect(Scope, key), "nextToken"));
    }

    [Fact]
    public void Protect_Key_IsStandardBase64MatchingMarkerPatternWithinItsLength()
    {
        var token = Tokens.Protect(Scope, new string('x', 700));

        Assert.Matches("^[A-Za-z0-9+/]+={0,2}$", token);
        Assert.True(token.Length <= 1024, $"{token.Length} characters");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Unprotect_NullOrEmpty_IsTheFirstPage(string? token)
    {
        Assert.Null(Tokens.Unprotect(Scope, token, "nextToken"));
    }

    [Theory]
    [InlineData("ListThingTypes")]
    [InlineData("ListThings\nthingTypeName=\"other\"")]
    [InlineData("ListThings")]
    public void Unprotect_TokenOfAnotherScope_ThrowsInvalidNextToken(string otherScope)
    {
        var token = Tokens.Protect(Scope, "thing-1");

        var exception = Assert.Throws<ServiceException>(() => Tokens.Unprotect(otherScope, token, "nextToken"));

        Assert.Same(ErrorCode.InvalidRequest, exception.Code);
        Assert.Equal("Invalid nextToken", exception.Message);
    }

    [Fact]
    public void Unprotect_TokenUnderAnotherSecret_IsRefused()
    {
        var other = new PageTokens(new byte[PageTokens.SecretLength]);

        Assert.Throws<ServiceException>(() => other.Unprotect(Scope, Tokens.Protect(Scope, "thing-1"), "nextToken"));
    }

    public static TheoryData<string> InvalidTokens => new()
    {
        "garbage!",
        "%%%",
        "abc",
        new string('A', 1024),
        new string('A', 100_000),
        // The format before issue 16: the key after a fixed prefix, which anyone could write.
        Convert.ToBase64String(Encoding.UTF8.GetBytes("fk1\nthing-1")),
        Convert.ToBase64String([1]),
        Convert.ToBase64String(new byte[17]),
        // A real token cut short, and one with a byte of its key changed.
        Tokens.Protect(Scope, "thing-12")[..^4],
        Flip(Tokens.Protect(Scope, "thing-1"), ^1),
        Flip(Tokens.Protect(Scope, "thing-1"), 5),
        Flip(Tokens.Protect(Scope, "thing-1"), 0),
    };

    [Theory]
    [MemberData(nameof(InvalidTokens))]
    public void Unprotect_TokenNotFromProtect_ThrowsInvalidRequestNamingTheField(string token)
    {
        var exception = Assert.Throws<ServiceException>(() => Tokens.Unprotect(Scope, token, "marker"));

        Assert.Same(ErrorCode.InvalidRequest, exception.Code);
        Assert.Equal("Invalid marker", exception.Message);
    }

    [Fact]
    public void Constructor_ShortSecret_Throws()
    {
        Assert.Throws<ArgumentException>(() => new PageTokens(new byte[PageTokens.SecretLength - 1]));
    }

    private static string Flip(string token, Index at)
    {
        var bytes = Convert.FromBase64String(token);
        bytes[at] ^= 0x01;
        return Convert.ToBase64String(bytes);
    }
}
