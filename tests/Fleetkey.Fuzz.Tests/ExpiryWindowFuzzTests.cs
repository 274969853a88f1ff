using System.Globalization;
using CsCheck;
using Fleetkey.Services.Security;
using Xunit;

namespace Fleetkey.Fuzz.Tests;

/// <summary>
/// <c>services.expiry-window</c>: the <c>within</c> of <c>GET /expiring-certificates</c> (and <c>--within</c>)
/// under random input. Properties: any string is a window or null, never an exception; a window is exactly
/// its digits times its unit, from one minute to ten years, and keeps the text it was written in; and every
/// such text within the bounds is read.
/// </summary>
public sealed class ExpiryWindowFuzzTests
{
    [Fact]
    public void TryParse_AnyString_IsAWindowOfItsOwnTextOrNull()
    {
        var texts = Gen.OneOf(
            Gen.String,
            Gen.String[Gen.Char["0123456789dhmws+-. "], 0, 12],
            Gen.Select(Gen.Long[-10, 99_999_999], Gen.Char["dhmDHMws"]).Select((n, unit) => n.ToString(CultureInfo.InvariantCulture) + unit));
        Fuzz.Run("services.expiry-window", texts, text =>
        {
            if (ExpiryWindow.TryParse(text) is not { } window)
            {
                return;
            }

            Assert.Equal(text, window.Text);
            var count = long.Parse(text[..^1], NumberStyles.None, CultureInfo.InvariantCulture);
            var unit = text[^1] switch { 'd' => TimeSpan.FromDays(1), 'h' => TimeSpan.FromHours(1), _ => TimeSpan.FromMinutes(1) };
            Assert.Equal(unit * count, window.Duration);
            Assert.InRange(window.Duration, TimeSpan.FromMinutes(1), TimeSpan.FromDays(ExpiryWindow.MaxDays));
            Assert.NotEqual('0', text[0]);
        }, cases: 20_000);
    }

    [Fact]
    public void TryParse_EveryWindowWithinTheBounds_IsRead()
    {
        var windows = Gen.OneOf(
            Gen.Int[1, ExpiryWindow.MaxDays].Select(n => (n.ToString(CultureInfo.InvariantCulture) + "d", TimeSpan.FromDays(n))),
            Gen.Int[1, ExpiryWindow.MaxDays * 24].Select(n => (n.ToString(CultureInfo.InvariantCulture) + "h", TimeSpan.FromHours(n))),
            Gen.Int[1, ExpiryWindow.MaxDays * 24 * 60].Select(n => (n.ToString(CultureInfo.InvariantCulture) + "m", TimeSpan.FromMinutes(n))));
        Fuzz.Run("services.expiry-window", windows, w =>
        {
            var (text, duration) = w;
            Assert.Equal(duration, ExpiryWindow.TryParse(text)?.Duration);
        }, cases: 5_000);
    }
}
