using System.Diagnostics.Metrics;
using Fleetkey.Core.Registry;
using Fleetkey.Storage.Sql;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Fleetkey.Storage.Tests;

/// <summary>The group-commit writer's instruments, which BENCHMARKS.md and operators read its utilisation from.</summary>
public sealed class GroupCommitMetricsTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task ConcurrentWrites_AreCountedWithTheirCommitsAndTheWriterBusyTime()
    {
        // The meter is shared by every store in the process: count only while this test writes, and
        // expect at least its own writes (other tests may write at the same time).
        var totals = new Dictionary<string, double>(StringComparer.Ordinal);
        var totalsLock = new Lock();

        // The store counts a write after its caller has seen it complete: wait for the count, not for the writes.
        var counted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == SqlFleetStore.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => Add(instrument.Name, value));
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => Add(instrument.Name, value));
        listener.Start();

        await using var test = await TestStores.CreateAsync("sqlite", _time);
        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() => test.Store.WriteAsync(
            async (s, ct) =>
            {
                await s.Things.InsertAsync(new Thing("metered-" + i, Guid.NewGuid().ToString(), null, new Dictionary<string, string>(), 1, _time.GetUtcNow()), ct);
                return true;
            },
            CancellationToken.None))));
        await counted.Task.WaitAsync(TimeSpan.FromSeconds(30));
        listener.Dispose();

        lock (totalsLock)
        {
            Assert.True(totals.GetValueOrDefault("fleetkey.store.group_commit.writes") >= 20, $"writes {totals.GetValueOrDefault("fleetkey.store.group_commit.writes")}");
            Assert.True(totals.GetValueOrDefault("fleetkey.store.group_commit.commits") >= 1);
            Assert.True(totals.GetValueOrDefault("fleetkey.store.group_commit.busy") > 0);
        }

        void Add(string name, double value)
        {
            lock (totalsLock)
            {
                totals[name] = totals.GetValueOrDefault(name) + value;
                if (totals.GetValueOrDefault("fleetkey.store.group_commit.writes") >= 20)
                {
                    counted.TrySetResult();
                }
            }
        }
    }
}
