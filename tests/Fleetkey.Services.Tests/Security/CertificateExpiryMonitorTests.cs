using System.Diagnostics.Metrics;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Security;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Fleetkey.Services.Tests.Security;

/// <summary>
/// The expiry gauges: counted at start and then once a minute of the (fake) clock, and between counts served
/// from the cache, so that a scrape never reads the store.
/// </summary>
public sealed class CertificateExpiryMonitorTests : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly ServiceDatabase _db = new();
    private readonly Meter _meter = new("Fleetkey.Tests." + Guid.NewGuid().ToString("N"));
    private CertificateExpiryMonitor _monitor = null!;

    public async Task InitializeAsync()
    {
        await _db.InitializeAsync();
        _monitor = new CertificateExpiryMonitor(new CertificateExpiryService(_db.Store, _db.Time), _db.Time, NullLogger<CertificateExpiryMonitor>.Instance, _meter);
    }

    public async Task DisposeAsync()
    {
        await _monitor.StopAsync(None);
        _monitor.Dispose();
        _meter.Dispose();
        await _db.DisposeAsync();
    }

    private async Task StoreActiveAsync(string id, TimeSpan endsIn)
    {
        var now = _db.Time.GetUtcNow();
        await _db.Store.WriteAsync(
            async (session, ct) =>
            {
                await session.Certificates.InsertAsync(new Certificate(id.PadRight(64, '0'), null, CertificateStatus.Active, "pem", "DEFAULT", now, now + endsIn, now, now, 1, "g"), ct);
                return true;
            },
            None);
    }

    /// <summary>What the gauges report when observed now, as a scrape observes them: name and label to value.</summary>
    private Dictionary<string, long> Observe()
    {
        var seen = new Dictionary<string, long>(StringComparer.Ordinal);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == _meter)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var within = tags.ToArray().FirstOrDefault(t => t.Key == "within").Value;
            seen[within is null ? instrument.Name : $"{instrument.Name}{{within={within}}}"] = value;
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return seen;
    }

    [Fact]
    public async Task Gauges_CountedAtStartAndEveryMinute_ServedFromTheCacheBetween()
    {
        await StoreActiveAsync("a", TimeSpan.FromDays(3));
        await StoreActiveAsync("b", TimeSpan.FromDays(20));
        await StoreActiveAsync("c", TimeSpan.FromDays(-1));

        // Nothing before the first count: no zero an alert would read as "all well".
        Assert.Empty(Observe());

        var refreshed = _monitor.NextRefresh;
        await _monitor.StartAsync(None);
        await refreshed;

        var expected = new Dictionary<string, long>(StringComparer.Ordinal)
        {
            ["fleetkey.certificates.expiring{within=7d}"] = 1,
            ["fleetkey.certificates.expiring{within=30d}"] = 2,
            ["fleetkey.certificates.expired"] = 1,
        };
        Assert.Equal(expected, Observe());

        // A new certificate is not seen by an observation (no query per scrape) until the next count.
        await StoreActiveAsync("d", TimeSpan.FromDays(5));
        _db.Time.Advance(CertificateExpiryMonitor.RefreshPeriod - TimeSpan.FromSeconds(1));
        Assert.Equal(expected, Observe());

        refreshed = _monitor.NextRefresh;
        _db.Time.Advance(TimeSpan.FromSeconds(1));
        await refreshed;
        expected["fleetkey.certificates.expiring{within=7d}"] = 2;
        expected["fleetkey.certificates.expiring{within=30d}"] = 3;
        Assert.Equal(expected, Observe());

        // Four days on, "a" has ended and "d" ends within the week: the windows move with the clock.
        refreshed = _monitor.NextRefresh;
        _db.Time.Advance(TimeSpan.FromDays(4));
        await refreshed;
        Assert.Equal(
            new Dictionary<string, long>(StringComparer.Ordinal)
            {
                ["fleetkey.certificates.expiring{within=7d}"] = 1,
                ["fleetkey.certificates.expiring{within=30d}"] = 2,
                ["fleetkey.certificates.expired"] = 2,
            },
            Observe());
    }
}
