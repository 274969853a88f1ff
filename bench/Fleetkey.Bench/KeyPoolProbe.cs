using System.Globalization;
using System.Text.RegularExpressions;

namespace Fleetkey.Bench;

/// <summary>Device keys the server handed out, by where they came from (its key pool or generated on demand).</summary>
internal sealed record KeyPoolUse(long FromPool, long OnDemand)
{
    public KeyPoolUse Since(KeyPoolUse before) => new(FromPool - before.FromPool, OnDemand - before.OnDemand);
}

/// <summary>
/// Reads the server's key-pool counter (<c>fleetkey_key_pool_handed_out_total{source=…}</c>) from its
/// Prometheus <c>/metrics</c>, so that the report says whether a seed-register run was served by the
/// pool or by keys generated during the measurement.
/// </summary>
internal static partial class KeyPoolProbe
{
    public static async Task<KeyPoolUse?> ReadAsync(Uri endpoint, CancellationToken cancellationToken)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };
        string text;
        try
        {
            text = await http.GetStringAsync(new Uri(endpoint, "/metrics"), cancellationToken);
        }
        catch (HttpRequestException)
        {
            return null;
        }

        long pool = 0, onDemand = 0;
        var found = false;
        foreach (Match match in HandedOut().Matches(text))
        {
            found = true;
            var value = (long)double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
            if (match.Groups["labels"].Value.Contains("source=\"pool\"", StringComparison.Ordinal))
            {
                pool += value;
            }
            else if (match.Groups["labels"].Value.Contains("source=\"on_demand\"", StringComparison.Ordinal))
            {
                onDemand += value;
            }
        }

        return found ? new KeyPoolUse(pool, onDemand) : null;
    }

    [GeneratedRegex(@"^fleetkey_key_pool_handed_out(?:_total)?\{(?<labels>[^}]*)\} (?<value>[0-9.eE+]+)", RegexOptions.Multiline)]
    private static partial Regex HandedOut();
}
