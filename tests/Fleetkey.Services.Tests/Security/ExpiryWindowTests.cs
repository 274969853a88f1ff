using Fleetkey.Core.Errors;
using Fleetkey.Services.Security;
using Xunit;

namespace Fleetkey.Services.Tests.Security;

public sealed class ExpiryWindowTests
{
    [Theory]
    [InlineData("30d", 30 * 24 * 60)]
    [InlineData("7d", 7 * 24 * 60)]
    [InlineData("12h", 12 * 60)]
    [InlineData("90m", 90)]
    [InlineData("1m", 1)]
    [InlineData("3650d", 3650 * 24 * 60)]
    [InlineData("87600h", 3650 * 24 * 60)]
    [InlineData("5256000m", 3650 * 24 * 60)]
    public void TryParse_Window_IsItsDurationAndKeepsItsText(string text, int minutes)
    {
        var window = ExpiryWindow.TryParse(text);

        Assert.NotNull(window);
        Assert.Equal(TimeSpan.FromMinutes(minutes), window.Duration);
        Assert.Equal(text, window.Text);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("d")]
    [InlineData("30")]
    [InlineData("0d")]
    [InlineData("0m")]
    [InlineData("030d")]
    [InlineData("-1d")]
    [InlineData("+1d")]
    [InlineData("1.5d")]
    [InlineData("30D")]
    [InlineData("30 d")]
    [InlineData(" 30d")]
    [InlineData("30d ")]
    [InlineData("30dd")]
    [InlineData("1w")]
    [InlineData("1s")]
    [InlineData("3651d")]
    [InlineData("87601h")]
    [InlineData("5256001m")]
    [InlineData("99999999d")]
    [InlineData("١٢d")]
    public void TryParse_NotAWindow_IsNull(string? text)
    {
        Assert.Null(ExpiryWindow.TryParse(text));
    }

    [Fact]
    public void Parse_NotAWindow_IsInvalidRequestNamingTheFieldAndTheSyntax()
    {
        var error = Assert.Throws<ServiceException>(() => ExpiryWindow.Parse("3x", "within"));

        Assert.Equal(ErrorCode.InvalidRequest, error.Code);
        Assert.Equal("within must be a whole number of days, hours or minutes such as 30d, 12h or 90m, from 1m to 3650d, not '3x'.", error.Message);
    }
}
