namespace Fleetkey.Mqtt;

/// <summary>
/// A task that completes at the next change of something a test waits on (connections, sessions, a
/// revocation pass), as the device key pool's <c>NextChange</c>: taken before checking a condition, it
/// cannot miss a change in between (see <c>Signals.WaitUntilAsync</c> in the tests).
/// </summary>
internal sealed class ChangeSignal
{
    private TaskCompletionSource _next = New();

    /// <summary>Completes at the next <see cref="Raise"/>.</summary>
    public Task Next => Volatile.Read(ref _next).Task;

    public void Raise() => Interlocked.Exchange(ref _next, New()).TrySetResult();

    private static TaskCompletionSource New() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
