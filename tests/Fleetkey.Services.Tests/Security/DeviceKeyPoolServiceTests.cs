using Fleetkey.Pki;
using Fleetkey.Services.Security;
using Fleetkey.Services.Telemetry;
using Fleetkey.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Fleetkey.Services.Tests.Security;

/// <summary>
/// The device key pool as the server runs it: its fill said in the log (issue 17: a fresh server
/// spent minutes of CPU filling it, silently), driven by the server's own idle signal.
/// </summary>
public sealed class DeviceKeyPoolServiceTests
{
    private const int KeyPoolProgress = 303;
    private const int KeyPoolFull = 302;
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly string PoolCategory = typeof(DeviceKeyPool).FullName!;

    [Fact]
    public async Task Start_FreshPool_LogsEachTenthAndFullAtInformation_RefillsOnlyAtDebugAndOnlyAfterATenthWasTaken()
    {
        var log = new LogRecorder(LogLevel.Debug);
        using var loggers = LoggerFactory.Create(b => b.AddProvider(log).SetMinimumLevel(LogLevel.Debug));
        var clock = new FakeTimeProvider();
        var activity = new ServerActivity(clock);
        clock.Advance(ServerActivity.Quiet);

        // No first tranche: every key waits for an idle server, so the test decides when keys are made.
        using var pool = new DeviceKeyPool(KeyAlgorithm.EcP256, capacity: 20, firstTranche: 0);
        var service = new DeviceKeyPoolService(pool, activity, loggers.CreateLogger<DeviceKeyPoolService>(), loggers.CreateLogger<DeviceKeyPool>());
        await service.StartAsync(None);
        await Signals.WaitUntilAsync(() => pool.NextChange, () => pool.Available == 20);

        // The first fill: one Information line per tenth, then one for full.
        var fill = log.Of(PoolCategory);
        var expected = Enumerable.Range(1, 9).Select(t => (KeyPoolProgress, LogLevel.Information, 2 * t)).Append((KeyPoolFull, LogLevel.Information, 20));
        Assert.Equal(expected, fill.Select(e => (e.EventId.Id, e.Level, (int)e.Values["Count"]!)));
        Assert.Equal(Enumerable.Range(1, 9).Select(t => 10 * t), fill.SkipLast(1).Select(e => (int)e.Values["Percent"]!));
        Assert.StartsWith("Device key pool: 2 of 20 ec-p256 keys (10%), ", fill[0].Message, StringComparison.Ordinal);
        Assert.EndsWith(" keys/s", fill[0].Message, StringComparison.Ordinal);
        Assert.StartsWith("Device key pool: 20 of 20 ec-p256 keys, full after ", fill[^1].Message, StringComparison.Ordinal);

        // A trickle: one key taken and made again is no news.
        using (await pool.TakeAsync(None))
        {
        }

        await Signals.WaitUntilAsync(() => pool.NextChange, () => pool.Generated == 21 && pool.Available == 20);
        Assert.Equal(fill.Count, log.Of(PoolCategory).Count);

        // A burst (the server busy while it takes half the pool), then the refill: each tenth from the
        // one above where it fell, and full, at Debug.
        activity.RequestStarted();
        var burst = new List<DeviceKey>();
        for (var i = 0; i < 10; i++)
        {
            burst.Add(await pool.TakeAsync(None));
        }

        activity.RequestEnded();
        clock.Advance(ServerActivity.Quiet);
        await Signals.WaitUntilAsync(() => pool.NextChange, () => pool.Generated == 31 && pool.Available == 20);
        var refill = log.Of(PoolCategory).Skip(fill.Count).ToList();
        var expectedRefill = new[] { 12, 14, 16, 18 }.Select(n => (KeyPoolProgress, LogLevel.Debug, n)).Append((KeyPoolFull, LogLevel.Debug, 20));
        Assert.Equal(expectedRefill, refill.Select(e => (e.EventId.Id, e.Level, (int)e.Values["Count"]!)));
        burst.ForEach(k => k.Dispose());
        await service.StopAsync(None);
    }
}
