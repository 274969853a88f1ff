using System.Net;

namespace Fleetkey.Client;

/// <summary>
/// When to send a failed call again and how long to wait first: only throttling and server errors
/// (a 4xx other than 429 would fail the same way again), with exponential backoff and full jitter
/// (the AWS Architecture Blog's "Exponential Backoff And Jitter"; the SDKs' standard mode).
/// </summary>
internal sealed class RetryPolicy
{
    // The throttling codes the AWS SDKs retry whatever the status (AWS IoT's ThrottlingException is a 400).
    private static readonly HashSet<string> ThrottlingCodes = new(StringComparer.Ordinal)
    {
        "ThrottlingException", "Throttling", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "RequestLimitExceeded", "SlowDown",
    };

    private readonly TimeSpan _baseDelay;
    private readonly TimeSpan _maxDelay;
    private readonly Func<double> _random;

    public RetryPolicy(int maxAttempts, TimeSpan baseDelay, TimeSpan maxDelay, Func<double>? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAttempts, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(baseDelay, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDelay, TimeSpan.Zero);
        MaxAttempts = maxAttempts;
        _baseDelay = baseDelay;
        _maxDelay = maxDelay;
        _random = random ?? Random.Shared.NextDouble;
    }

    public int MaxAttempts { get; }

    public static bool IsRetryable(HttpStatusCode status, string errorCode) =>
        status == HttpStatusCode.TooManyRequests || (int)status >= 500 || ThrottlingCodes.Contains(errorCode);

    /// <summary>The wait after failed attempt <paramref name="attempt"/> (1-based): a random part of <c>min(max, base · 2^(attempt-1))</c>.</summary>
    public TimeSpan Delay(int attempt)
    {
        var ceiling = Math.Min(_maxDelay.Ticks, _baseDelay.Ticks * Math.Pow(2, Math.Min(attempt - 1, 62)));
        return TimeSpan.FromTicks((long)(_random() * ceiling));
    }
}
