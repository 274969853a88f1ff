namespace Fleetkey.Pki;

/// <summary>
/// How long generating one device key on demand takes, as measured lately (a moving average over the
/// generations requests made), seeded with a typical figure for the algorithm.
/// </summary>
/// <remarks>
/// A request that finds the pool's buffer empty while keys are on their way from the store waits for
/// them at most this long: past it, generating its own key is the quicker way to one. Measured, not
/// fixed, because on a machine busy with other work a generation takes several times its CPU cost.
/// </remarks>
internal sealed class KeyGenerationTime(KeyAlgorithm algorithm)
{
    // Each measurement moves the average by an eighth of its difference: RSA generation times vary
    // several-fold from key to key (the search for primes), and one slow key must not double the wait.
    private const int Smoothing = 8;

    private long _ticks = Typical(algorithm).Ticks;

    public TimeSpan Current => TimeSpan.FromTicks(Volatile.Read(ref _ticks));

    public void Record(TimeSpan elapsed)
    {
        long current, next;
        do
        {
            current = Volatile.Read(ref _ticks);
            next = current + ((elapsed.Ticks - current) / Smoothing);
        }
        while (Interlocked.CompareExchange(ref _ticks, next, current) != current);
    }

    /// <summary>A generation on an idle core of a small server: RSA-2048 ~0.1–0.3 s (it varies with the primes found), EC well under 1 ms.</summary>
    internal static TimeSpan Typical(KeyAlgorithm algorithm) =>
        algorithm == KeyAlgorithm.Rsa2048 ? TimeSpan.FromMilliseconds(200) : TimeSpan.FromMilliseconds(1);
}
