using System.Globalization;
using Fleetkey.Core.Errors;

namespace Fleetkey.Services.Security;

/// <summary>
/// How far ahead an expiry query looks: a whole number of days, hours or minutes, written <c>30d</c>,
/// <c>12h</c> or <c>90m</c>, from one minute to <see cref="MaxDays"/> days. The same words on the command
/// line (<c>--within</c>), the control plane (<c>within</c>) and the metric's <c>within</c> label.
/// </summary>
public sealed record ExpiryWindow
{
    /// <summary>The longest window, in days (ten years): beyond it "expiring" means nothing an operator acts on.</summary>
    public const int MaxDays = 3650;

    /// <summary>What every message says the syntax is.</summary>
    public const string Syntax = "a whole number of days, hours or minutes such as 30d, 12h or 90m, from 1m to 3650d";

    /// <summary>The window the CLI, the control plane and the alert default to.</summary>
    public static readonly ExpiryWindow ThirtyDays = new(TimeSpan.FromDays(30), "30d");

    public static readonly ExpiryWindow SevenDays = new(TimeSpan.FromDays(7), "7d");

    private ExpiryWindow(TimeSpan duration, string text)
    {
        Duration = duration;
        Text = text;
    }

    public TimeSpan Duration { get; }

    /// <summary>The window as written (<c>30d</c>): the metric's label value.</summary>
    public string Text { get; }

    public override string ToString() => Text;

    /// <summary>Reads <paramref name="text"/>; null when it is not a window (see <see cref="Syntax"/>).</summary>
    public static ExpiryWindow? TryParse(string? text)
    {
        // At most 7 digits (3650d is 5,256,000m); no sign, no blanks, no leading zero, one unit.
        if (text is not { Length: >= 2 and <= 8 } || text[0] is < '1' or > '9')
        {
            return null;
        }

        var unit = text[^1] switch
        {
            'd' => TimeSpan.FromDays(1),
            'h' => TimeSpan.FromHours(1),
            'm' => TimeSpan.FromMinutes(1),
            _ => TimeSpan.Zero,
        };
        if (unit == TimeSpan.Zero || !long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var count))
        {
            return null;
        }

        var duration = unit * count;
        return duration <= TimeSpan.FromDays(MaxDays) ? new ExpiryWindow(duration, text) : null;
    }

    /// <summary>Reads <paramref name="text"/>, or throws InvalidRequest naming <paramref name="field"/> and the syntax.</summary>
    public static ExpiryWindow Parse(string text, string field) =>
        TryParse(text) ?? throw new ServiceException(ErrorCode.InvalidRequest, Problem(text, field));

    /// <summary>The message for a value that is not a window.</summary>
    public static string Problem(string? text, string field)
    {
        var shown = text is null ? string.Empty : text.Length > 32 ? text[..32] + "…" : text;
        return $"{field} must be {Syntax}, not '{shown}'.";
    }
}
