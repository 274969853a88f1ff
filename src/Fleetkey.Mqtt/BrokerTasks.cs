namespace Fleetkey.Mqtt;

/// <summary>
/// Work the broker does beside MQTTnet's own handlers, which must not hold them up: telling the
/// connection observers of a new connection, answering a fleet provisioning request. Stopping the
/// broker cancels it and awaits it, so none is left running past the broker.
/// </summary>
internal sealed class BrokerTasks : IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly RunningTasks _running = new();

    /// <summary>Tasks running now (for tests and diagnostics).</summary>
    internal int Count => _running.Count;

    /// <summary>Runs <paramref name="work"/> on the thread pool with the broker's stopping token; nothing once the broker stops.</summary>
    public void Run(Func<CancellationToken, Task> work)
    {
        var token = _stopping.Token;
        if (!token.IsCancellationRequested)
        {
            _running.Add(Task.Run(() => work(token), CancellationToken.None));
        }
    }

    /// <summary>Cancels the work and waits until all of it has ended.</summary>
    public async Task StopAsync()
    {
        await _stopping.CancelAsync();
        await _running.WhenAllAsync().ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>Completes when the work started so far has ended (tests wait on it for the broker to be quiet).</summary>
    internal Task WhenIdleAsync() => _running.WhenAllAsync();

    public void Dispose() => _stopping.Dispose();
}
