using Fleetkey.Services.Hosting;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Fleetkey.Services.Tests.Hosting;

public sealed class PeriodicMaintenanceTests
{
    [Fact]
    public async Task Runs_AtStartThenEveryPeriod_AndAFailedRoundDoesNotStopIt()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 29, 0, 0, 0, TimeSpan.Zero));
        using var maintenance = new CountingMaintenance(time, failOnRound: 2);

        await maintenance.StartAsync(CancellationToken.None);
        await WaitUntilAsync(() => maintenance.Rounds == 1);

        time.Advance(TimeSpan.FromMinutes(5));
        await WaitUntilAsync(() => maintenance.Rounds == 2 && maintenance.Failures == 1);

        // Not before the period is over.
        time.Advance(TimeSpan.FromMinutes(4));
        await Task.Delay(50);
        Assert.Equal(2, maintenance.Rounds);

        time.Advance(TimeSpan.FromMinutes(1));
        await WaitUntilAsync(() => maintenance.Rounds == 3);

        await maintenance.StopAsync(CancellationToken.None);
        time.Advance(TimeSpan.FromMinutes(5));
        await Task.Delay(50);
        Assert.Equal(3, maintenance.Rounds);
        Assert.Equal(1, maintenance.Failures);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in 10 s");
            await Task.Delay(10);
        }
    }

    private sealed class CountingMaintenance(TimeProvider time, int failOnRound) : PeriodicMaintenance(TimeSpan.FromMinutes(5), time)
    {
        private int _rounds;
        private int _failures;

        public int Rounds => Volatile.Read(ref _rounds);

        public int Failures => Volatile.Read(ref _failures);

        protected override Task RunOnceAsync(CancellationToken cancellationToken) =>
            Interlocked.Increment(ref _rounds) == failOnRound ? Task.FromException(new InvalidOperationException("round failed")) : Task.CompletedTask;

        protected override void OnFailed(Exception exception) => Interlocked.Increment(ref _failures);
    }
}
