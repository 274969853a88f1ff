using System.Globalization;
using System.Text.RegularExpressions;
using Fleetkey.Services.Security;
using Fleetkey.Testing;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Exporter;
using Xunit;

namespace Fleetkey.Api.Tests.Endpoints;

/// <summary>The expiry gauges as Prometheus scrapes them from <c>/metrics</c> of the in-process control plane.</summary>
[Collection(MetricsScrapeDefinition.Name)]
public sealed partial class ExpiringCertificatesMetricsTests : IAsyncLifetime
{
    private FleetkeyTestHost _host = null!;

    // The exporter caches a scrape for 300 ms of wall-clock time by default; these scrapes must each see the gauges afresh.
    public async Task InitializeAsync() =>
        _host = await FleetkeyTestHost.StartAsync(b => b.Services.Configure<PrometheusAspNetCoreOptions>(o => o.ScrapeResponseCacheDurationMilliseconds = 0));

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Metrics_ExpiringAndExpired_ExportedUnderTheirNamesAndRecountedEachMinute()
    {
        var monitor = _host.Services.GetRequiredService<CertificateExpiryMonitor>();
        await Signals.WaitUntilAsync(() => monitor.NextRefresh, () => monitor.Counts is not null);
        Assert.Equal((0, 0, 0), Gauges(await ScrapeAsync()));

        await ExpiringCertificatesEndpointsTests.RegisterAsync(_host, TimeSpan.FromDays(3));
        await ExpiringCertificatesEndpointsTests.RegisterAsync(_host, TimeSpan.FromDays(10));
        await ExpiringCertificatesEndpointsTests.RegisterAsync(_host, TimeSpan.FromDays(-2));

        // A scrape serves the last count: nothing is counted again before the minute is over.
        Assert.Equal((0, 0, 0), Gauges(await ScrapeAsync()));

        var refreshed = monitor.NextRefresh;
        _host.Time.Advance(CertificateExpiryMonitor.RefreshPeriod);
        await refreshed;
        var text = await ScrapeAsync();
        Assert.Equal((1, 2, 1), Gauges(text));
        Assert.Contains("# TYPE fleetkey_certificates_expiring gauge", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE fleetkey_certificates_expired gauge", text, StringComparison.Ordinal);

        // Four days later the first has ended too.
        refreshed = monitor.NextRefresh;
        _host.Time.Advance(TimeSpan.FromDays(4));
        await refreshed;
        Assert.Equal((1, 1, 2), Gauges(await ScrapeAsync()));
    }

    private async Task<string> ScrapeAsync()
    {
        using var response = await _host.Anonymous.GetAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Equal(200, (int)response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The values of fleetkey_certificates_expiring for 7d and 30d and of fleetkey_certificates_expired, each present exactly once.</summary>
    private static (long Week, long Month, long Expired) Gauges(string scrape)
    {
        var expiring = ExpiringLine().Matches(scrape).ToDictionary(m => m.Groups["within"].Value, m => long.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));
        var expired = Assert.Single(ExpiredLine().Matches(scrape));
        Assert.Equal(["30d", "7d"], expiring.Keys.Order(StringComparer.Ordinal));
        return (expiring["7d"], expiring["30d"], long.Parse(expired.Groups["value"].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex("""^fleetkey_certificates_expiring\{(?:[^}]*,)?within="(?<within>[^"]+)"(?:,[^}]*)?\} (?<value>[0-9]+)""", RegexOptions.Multiline)]
    private static partial Regex ExpiringLine();

    [GeneratedRegex("""^fleetkey_certificates_expired(?:\{[^}]*\})? (?<value>[0-9]+)""", RegexOptions.Multiline)]
    private static partial Regex ExpiredLine();
}
