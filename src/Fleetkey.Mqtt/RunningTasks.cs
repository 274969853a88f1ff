using System.Collections.Concurrent;

namespace Fleetkey.Mqtt;

/// <summary>
/// Tasks started beside the caller's own flow (a connection's serving, an answer sent in the
/// background), held until they end so that stopping can await every one of them instead of leaving
/// them running. Each task handles its own exceptions.
/// </summary>
internal sealed class RunningTasks
{
    private readonly ConcurrentDictionary<Task, byte> _running = new();

    /// <summary>Tasks running now (for tests and diagnostics).</summary>
    public int Count => _running.Count;

    public void Add(Task task)
    {
        _running.TryAdd(task, 0);

        // Registered after the add: a task that already ended is removed at once.
        task.ContinueWith(
            static (ended, running) => ((ConcurrentDictionary<Task, byte>)running!).TryRemove(ended, out _),
            _running,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>Completes when every task added so far has ended.</summary>
    public Task WhenAllAsync() => Task.WhenAll(_running.Keys);
}
