namespace Fleetkey.Testing;

/// <summary>Waits on what the code under test signals, never on a clock.</summary>
public static class Signals
{
    /// <summary>
    /// Completes once <paramref name="condition"/> holds, re-checking it each time the task from
    /// <paramref name="nextChange"/> completes (such as the device key pool's <c>NextChange</c>: keys
    /// generated, stored or moved; a test double's <see cref="ChangeSignal.Next"/>; a
    /// <see cref="TimerCountingTimeProvider"/>'s timers). The task is taken before the check, so a change
    /// in between is not missed. No deadline of its own: code that never gets there hangs the test, which the test host
    /// reports, rather than losing a race to a loaded machine.
    /// </summary>
    public static async Task WaitUntilAsync(Func<Task> nextChange, Func<bool> condition)
    {
        ArgumentNullException.ThrowIfNull(nextChange);
        ArgumentNullException.ThrowIfNull(condition);
        while (true)
        {
            var changed = nextChange();
            if (condition())
            {
                return;
            }

            await changed;
        }
    }
}
