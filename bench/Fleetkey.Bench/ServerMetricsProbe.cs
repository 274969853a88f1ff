using System.Globalization;
using System.Text.RegularExpressions;

namespace Fleetkey.Bench;

/// <summary>Device keys the server handed out, by where they came from (its key pool or generated on demand).</summary>
internal sealed record KeyPoolUse(long FromPool, long OnDemand);

/// <summary>
/// The work of the store's single group-commit writer (SQLite): write transactions, the commits they
/// were grouped into, and the seconds the writer was busy with them.
/// </summary>
internal sealed record StoreWriterUse(long Writes, long Commits, double BusySeconds)
{
    /// <summary>The share of <paramref name="seconds"/> the writer was busy: near 1, it bounds the write rate.</summary>
    public double Utilisation(double seconds) => seconds > 0 ? BusySeconds / seconds : 0;
}

/// <summary>
/// The server counters the report explains a run with, as read from its /metrics. <see cref="Retries"/>:
/// transactions the store ran again after a database conflict (the counter appears with the first).
/// </summary>
internal sealed record ServerCounters(KeyPoolUse? Keys, StoreWriterUse? Writer, long Retries)
{
    public ServerCounters Since(ServerCounters before) => new(
        Keys is null || before.Keys is null ? null : new KeyPoolUse(Keys.FromPool - before.Keys.FromPool, Keys.OnDemand - before.Keys.OnDemand),
        Writer is null || before.Writer is null ? null : new StoreWriterUse(Writer.Writes - before.Writer.Writes, Writer.Commits - before.Writer.Commits, Writer.BusySeconds - before.Writer.BusySeconds),
        Retries - before.Retries);
}

/// <summary>
/// Reads the server's Prometheus <c>/metrics</c>: the key pool's <c>fleetkey_key_pool_handed_out_total{source=…}</c>
/// (whether a seed-register run was served by the pool or by keys generated while measuring) and the
/// store's <c>fleetkey_store_group_commit_*</c> (how busy the single SQLite writer was) and
/// <c>fleetkey_store_retries_total</c> (PostgreSQL transactions retried after serialization conflicts).
/// </summary>
internal static partial class ServerMetricsProbe
{
    public static async Task<ServerCounters?> ReadAsync(Uri endpoint, CancellationToken cancellationToken)
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

        var retries = StoreRetries().Match(text);
        return new ServerCounters(ReadKeys(text), ReadWriter(text), retries.Success ? (long)Parse(retries) : 0);
    }

    private static KeyPoolUse? ReadKeys(string text)
    {
        long pool = 0, onDemand = 0;
        var found = false;
        foreach (Match match in HandedOut().Matches(text))
        {
            found = true;
            var value = (long)Parse(match);
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

    private static StoreWriterUse? ReadWriter(string text)
    {
        double? writes = null, commits = null, busy = null;
        foreach (Match match in GroupCommit().Matches(text))
        {
            var value = Parse(match);
            switch (match.Groups["name"].Value)
            {
                case "writes":
                    writes = value;
                    break;
                case "commits":
                    commits = value;
                    break;
                default:
                    busy = value;
                    break;
            }
        }

        return writes is { } w && commits is { } c && busy is { } b ? new StoreWriterUse((long)w, (long)c, b) : null;
    }

    private static double Parse(Match match) => double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^fleetkey_key_pool_handed_out(?:_total)?\{(?<labels>[^}]*)\} (?<value>[0-9.eE+]+)", RegexOptions.Multiline)]
    private static partial Regex HandedOut();

    [GeneratedRegex(@"^fleetkey_store_retries(?:_total)?(?:\{[^}]*\})? (?<value>[0-9.eE+]+)", RegexOptions.Multiline)]
    private static partial Regex StoreRetries();

    [GeneratedRegex(@"^fleetkey_store_group_commit_(?<name>writes|commits|busy_seconds)(?:_total)?(?:\{[^}]*\})? (?<value>[0-9.eE+]+)", RegexOptions.Multiline)]
    private static partial Regex GroupCommit();
}
