using Fleetkey.Services.Hosting;
using Fleetkey.Testing;
using Xunit;

namespace Fleetkey.Services.Tests.Hosting;

public sealed class PeriodicMaintenanceTests
{
    private static readonly TimeSpan MaintenancePeriod = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task Runs_AtStartThenEveryPeriod_AndAFailedRoundDoesNotStopIt()
    {
        // The fake clock fires a due timer within Advance: when Advance returns, whatever woke the loop
        // has been counted, so "not yet" is asserted at once rather than after a sleep.
        var time = new TimerCountingTimeProvider(new DateTimeOffset(2026, 11, 29, 0, 0, 0, TimeSpan.Zero));
        using var maintenance = new CountingMaintenance(time, failOnRound: 2);

        await maintenance.StartAsync(CancellationToken.None);
        await maintenance.WaitForRoundsAsync(1);
        Assert.Equal(0, time.Fired);

        time.Advance(MaintenancePeriod);
        Assert.Equal(1, time.Fired);
        await maintenance.WaitForRoundsAsync(2);

        // Not before the period is over.
        time.Advance(MaintenancePeriod - TimeSpan.FromMinutes(1));
        Assert.Equal(1, time.Fired);
        Assert.Equal(2, maintenance.Rounds);

        // The failed round was reported (before the loop went on) and did not stop it.
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(2, time.Fired);
        await maintenance.WaitForRoundsAsync(3);
        Assert.Equal(1, maintenance.Failures);

        // Stopping ends the loop (StopAsync waits for it) and its timer.
        await maintenance.StopAsync(CancellationToken.None);
        Assert.True(maintenance.ExecuteTask!.IsCompleted);
        time.Advance(MaintenancePeriod);
        Assert.Equal(2, time.Fired);
        Assert.Equal(3, maintenance.Rounds);
        Assert.Equal(1, maintenance.Failures);
    }

    private sealed class CountingMaintenance(TimeProvider time, int failOnRound) : PeriodicMaintenance(MaintenancePeriod, time)
    {
        private readonly ChangeSignal _roundStarted = new();
        private int _rounds;
        private int _failures;

        public int Rounds => Volatile.Read(ref _rounds);

        public int Failures => Volatile.Read(ref _failures);

        /// <summary>Waits until at least <paramref name="rounds"/> rounds have started, then asserts no more did.</summary>
        public async Task WaitForRoundsAsync(int rounds)
        {
            await Signals.WaitUntilAsync(() => _roundStarted.Next, () => Rounds >= rounds);
            Assert.Equal(rounds, Rounds);
        }

        protected override Task RunOnceAsync(CancellationToken cancellationToken)
        {
            var round = Interlocked.Increment(ref _rounds);
            _roundStarted.Raise();
            return round == failOnRound ? Task.FromException(new InvalidOperationException("round failed")) : Task.CompletedTask;
        }

        protected override void OnFailed(Exception exception) => Interlocked.Increment(ref _failures);
    }
}
