using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Fleetkey.Policies;

/// <summary>
/// How the typed condition operators read their values, the policy's and the request's alike:
/// IP addresses and CIDR blocks, numbers and dates (reference_policies_elements_condition_operators).
/// </summary>
internal static class ConditionValues
{
    // The W3C profiles of ISO 8601 that IAM names ("W3C implementations of the ISO 8601 date formats"),
    // to the month, day, minute, second or fraction of a second; a time without a zone is taken as UTC.
    // Digits alone are epoch seconds, so a bare year is not a year.
    private static readonly string[] DateFormats =
    [
        "yyyy-MM", "yyyy-MM-dd", "yyyy-MM-dd'T'HH:mmK", "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
    ];

    private static readonly long MaxEpochSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    private static readonly SearchValues<char> Ipv6Characters = SearchValues.Create("0123456789abcdefABCDEF:.");

    /// <summary>
    /// An IPv4 or IPv6 CIDR block, or an address alone (/32 or /128). Bits after the prefix are ignored,
    /// as IAM ignores them ("The non-zero bits in the IP address after the masked bits are ignored").
    /// </summary>
    public static bool TryParseRange(ReadOnlySpan<char> text, out IPNetwork range)
    {
        range = default;
        var slash = text.IndexOf('/');
        if (!TryParseAddress(slash < 0 ? text : text[..slash], out var address))
        {
            return false;
        }

        var maxPrefix = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var prefix = maxPrefix;
        if (slash >= 0 && !TryParseDecimal(text[(slash + 1)..], maxPrefix, out prefix))
        {
            return false;
        }

        range = new IPNetwork(address, prefix);
        return true;
    }

    /// <summary>
    /// An IPv4 address in dotted decimal or an IPv6 address, nothing else: <see cref="IPAddress.TryParse(ReadOnlySpan{char}, out IPAddress?)"/>
    /// alone also reads <c>10</c> as 0.0.0.10, <c>010.0.0.1</c> as 8.0.0.1 (octal) and <c>fe80::1%eth0</c>
    /// with a zone, none of which is a CIDR block's address.
    /// </summary>
    public static bool TryParseAddress(ReadOnlySpan<char> text, [NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        if (text.Contains(':'))
        {
            // IPv6, possibly ending in an IPv4 address (::ffff:192.0.2.1).
            var lastColon = text.LastIndexOf(':');
            if (text.ContainsAnyExcept(Ipv6Characters) || (text[lastColon..].Contains('.') && !IsDottedDecimal(text[(lastColon + 1)..])))
            {
                return false;
            }
        }
        else if (!IsDottedDecimal(text))
        {
            return false;
        }

        return IPAddress.TryParse(text, out address);
    }

    /// <summary>Whether <paramref name="range"/> holds the address, an IPv4 address and its IPv4-mapped IPv6 form being one.</summary>
    public static bool Contains(IPNetwork range, IPAddress address)
    {
        if (range.BaseAddress.AddressFamily == AddressFamily.InterNetwork)
        {
            return range.Contains(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            address = address.MapToIPv6();
        }

        // IPNetwork.Contains compares an IPv4-mapped address as IPv4 even against an IPv6 range, so
        // that ::ffff:3.242.234.100 was inside 8f01:2730:3000::/37 (dotnet/runtime#131861, found by
        // the policies.identity fuzz target): such an address is masked to the range's prefix instead.
        return address.IsIPv4MappedToIPv6 ? new IPNetwork(address, range.PrefixLength).Equals(range) : range.Contains(address);
    }

    /// <summary>An integer or decimal, in the invariant culture, with an optional sign and exponent (JSON's numbers).</summary>
    public static bool TryParseNumber(ReadOnlySpan<char> text, out decimal value) =>
        decimal.TryParse(
            text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out value);

    /// <summary>An ISO 8601 date or date and time (W3C profiles), or epoch seconds.</summary>
    public static bool TryParseDate(ReadOnlySpan<char> text, out DateTimeOffset value)
    {
        if (!text.IsEmpty && !text.ContainsAnyExceptInRange('0', '9'))
        {
            value = default;
            if (text.Length > 12 || !long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds > MaxEpochSeconds)
            {
                return false;
            }

            value = DateTimeOffset.FromUnixTimeSeconds(seconds);
            return true;
        }

        return DateTimeOffset.TryParseExact(text, DateFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out value);
    }

    /// <summary>Why a policy value is not one the <paramref name="family"/>'s operators can compare, or null.</summary>
    public static string? Problem(ConditionFamily family, string value) => family switch
    {
        ConditionFamily.IpAddress when !TryParseRange(value, out _) =>
            "is not an IPv4 or IPv6 address or CIDR block (such as 203.0.113.0/24 or 2001:db8::/32)",
        ConditionFamily.Numeric when !TryParseNumber(value, out _) =>
            "is not a number (an integer or a decimal such as 10 or 2.5)",
        ConditionFamily.Date when !TryParseDate(value, out _) =>
            "is not a date (ISO 8601 such as 2026-01-31 or 2026-01-31T12:00:00Z, or epoch seconds)",
        _ => null,
    };

    // Four decimal octets without leading zeros.
    private static bool IsDottedDecimal(ReadOnlySpan<char> text)
    {
        for (var octet = 0; octet < 4; octet++)
        {
            var dot = text.IndexOf('.');
            if ((dot < 0) != (octet == 3) || !TryParseDecimal(dot < 0 ? text : text[..dot], 255, out _))
            {
                return false;
            }

            text = dot < 0 ? [] : text[(dot + 1)..];
        }

        return true;
    }

    // 1 to 3 digits without a leading zero, at most max.
    private static bool TryParseDecimal(ReadOnlySpan<char> text, int max, out int value)
    {
        value = 0;
        if (text.Length is 0 or > 3 || (text.Length > 1 && text[0] == '0') || text.ContainsAnyExceptInRange('0', '9'))
        {
            return false;
        }

        value = int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
        return value <= max;
    }
}
