using System.Text;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Paging;
using Xunit;

namespace Fleetkey.Core.Tests.Paging;

public sealed class PageTokenTests
{
    [Theory]
    [InlineData("thing-1")]
    [InlineData("a:b:c")]
    [InlineData("arn:aws:iot:eu-west-1:123456789012:thing/x")]
    [InlineData("Zürich-Straße-東京-🚀")]
    [InlineData("line\nbreak")]
    [InlineData("fk1\nnested")]
    [InlineData(" ")]
    public void Decode_EncodedKey_RoundTrips(string key)
    {
        Assert.Equal(key, PageToken.Decode(PageToken.Encode(key)));
    }

    [Fact]
    public void Encode_Key_IsStandardBase64MatchingMarkerPattern()
    {
        var token = PageToken.Encode("Zürich:🚀");

        Assert.Matches("^[A-Za-z0-9+/]+={0,2}$", token);
        Assert.NotEqual("Zürich:🚀", Encoding.UTF8.GetString(Convert.FromBase64String(token)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Decode_NullOrEmpty_ReturnsNull(string? token)
    {
        Assert.Null(PageToken.Decode(token));
    }

    public static TheoryData<string> InvalidTokens => new()
    {
        // Not base64 at all.
        "garbage!",
        "%%%",
        "abc",
        // Base64 of text that no Encode call produced.
        Convert.ToBase64String(Encoding.UTF8.GetBytes("thing-1")),
        Convert.ToBase64String(Encoding.UTF8.GetBytes("fk2\nthing-1")),
        Convert.ToBase64String(Encoding.UTF8.GetBytes("FK1\nthing-1")),
        // The prefix alone: no key after it.
        Convert.ToBase64String(Encoding.UTF8.GetBytes("fk1\n")),
        Convert.ToBase64String([0xff, 0xfe, 0x00, 0x01]),
        // A real token with its first character changed, which changes the prefix.
        "A" + PageToken.Encode("thing-1")[1..],
        // A real token cut short, which breaks the base64 length.
        PageToken.Encode("thing-1")[..^2],
    };

    [Theory]
    [MemberData(nameof(InvalidTokens))]
    public void Decode_TokenNotFromEncode_ThrowsInvalidRequest(string token)
    {
        var exception = Assert.Throws<ServiceException>(() => PageToken.Decode(token));

        Assert.Same(ErrorCode.InvalidRequest, exception.Code);
        Assert.Equal("The nextToken is not valid: it was not returned by a previous call.", exception.Message);
    }

    [Fact]
    public void Decode_InvalidTokenWithFieldName_NamesTheField()
    {
        var exception = Assert.Throws<ServiceException>(() => PageToken.Decode("garbage!", "marker"));

        Assert.Same(ErrorCode.InvalidRequest, exception.Code);
        Assert.Contains("The marker is not valid", exception.Message, StringComparison.Ordinal);
    }
}
