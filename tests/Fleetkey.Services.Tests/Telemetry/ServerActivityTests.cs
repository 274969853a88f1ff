using Fleetkey.Services.Telemetry;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Fleetkey.Services.Tests.Telemetry;

public sealed class ServerActivityTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task WhenIdleAsync_RequestInFlight_CompletesOnlyOnceItEndedAndQuietPassed()
    {
        var clock = new FakeTimeProvider();
        var activity = new ServerActivity(clock);
        clock.Advance(ServerActivity.Quiet);
        await activity.WhenIdleAsync(None);

        activity.RequestStarted();
        var idle = activity.WhenIdleAsync(None);
        clock.Advance(ServerActivity.Quiet);
        Assert.False(idle.IsCompleted);

        // Ended, but the quiet moment has not passed: the wait goes on until it has.
        activity.RequestEnded();
        clock.Advance(ServerActivity.Quiet - TimeSpan.FromMilliseconds(1));
        Assert.False(idle.IsCompleted);
        Assert.False(activity.IsIdle());

        clock.Advance(TimeSpan.FromMilliseconds(1));
        await idle;
        Assert.True(activity.IsIdle());
    }

    [Fact]
    public async Task WhenIdleAsync_Cancelled_Throws()
    {
        var activity = new ServerActivity(new FakeTimeProvider());
        activity.RequestStarted();
        using var cancel = new CancellationTokenSource();

        var idle = activity.WhenIdleAsync(cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => idle);
    }
}
