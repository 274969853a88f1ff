using Microsoft.Extensions.Logging;

namespace Fleetkey.Pki;

/// <summary>
/// Says how far the device key pool has filled: a line per tenth of its capacity reached, with the rate
/// since the previous line, and one when it is full, with how long filling took.
/// </summary>
/// <remarks>
/// <para>
/// The lines are at Information until the pool has been full once since the server started: the
/// first fill of a fresh server (2,000 RSA keys) takes several CPU-minutes and must not be silent.
/// After that, refills (after a burst took keys) log at Debug: they follow every burst, and the
/// pool's metrics (fleetkey.key_pool.available, fill_rate, handed_out) are the place to watch them.
/// </para>
/// <para>
/// A line marks a tenth reached by a pool that was at or below the tenth under it since the last
/// line: a pool that a trickle of requests keeps just under full logs nothing, and a pool a burst
/// drained to 45% logs 60%, 70%, 80%, 90% and full as it refills. Used by the generator thread only.
/// </para>
/// </remarks>
internal sealed partial class DeviceKeyPoolProgress
{
    private const int Tenths = 10;

    private readonly ILogger _logger;
    private readonly string _algorithm;
    private readonly int _capacity;
    private readonly TimeProvider _time;

    // The last tenth reported, or lower: the tenth the pool has fallen into since.
    private int _tenth;
    private bool _fullOnce;
    private long _lineAt;
    private long _generatedAtLine;
    private long _fillStartedAt;
    private long _generatedAtFillStart;

    public DeviceKeyPoolProgress(string algorithm, int capacity, int available, long generated, TimeProvider time, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _algorithm = algorithm;
        _capacity = capacity;
        _time = time;
        _logger = logger;
        _tenth = TenthsReached(available);
        _fullOnce = available >= capacity;
        _lineAt = _fillStartedAt = time.GetTimestamp();
        _generatedAtLine = _generatedAtFillStart = generated;
    }

    /// <summary>Before a generation: notes how far keys taken since have lowered the pool.</summary>
    public void Observe(int available, long generated)
    {
        // Counted up (1,999 of 2,000 is in the tenth that ends at full, 1,800 in the one below): the
        // next line is for the tenth above the one the pool fell into.
        var tenth = (int)Math.Min(Tenths, ((long)available * Tenths + _capacity - 1) / _capacity);
        if (tenth >= _tenth)
        {
            return;
        }

        var now = _time.GetTimestamp();
        if (_tenth == Tenths)
        {
            _fillStartedAt = now;
            _generatedAtFillStart = generated;
        }

        _tenth = tenth;
        _lineAt = now;
        _generatedAtLine = generated;
    }

    /// <summary>As a generated key goes into the pool, making <paramref name="available"/>.</summary>
    public void Adding(int available, long generated)
    {
        var tenth = TenthsReached(available);
        if (tenth <= _tenth)
        {
            return;
        }

        var now = _time.GetTimestamp();
        var level = _fullOnce ? LogLevel.Debug : LogLevel.Information;
        if (_logger.IsEnabled(level))
        {
            Log(level, available, tenth == Tenths, generated, now);
        }

        _tenth = tenth;
        _fullOnce |= tenth == Tenths;
        _lineAt = now;
        _generatedAtLine = generated;
    }

    private void Log(LogLevel level, int available, bool full, long generated, long now)
    {
        if (full)
        {
            var filling = _time.GetElapsedTime(_fillStartedAt, now);
            var rate = Rate(generated - _generatedAtFillStart, filling);
            LogFull(_logger, level, available, _capacity, _algorithm, filling.TotalSeconds, rate);
        }
        else
        {
            var percent = (int)((long)available * 100 / _capacity);
            var rate = Rate(generated - _generatedAtLine, _time.GetElapsedTime(_lineAt, now));
            LogProgress(_logger, level, available, _capacity, _algorithm, percent, rate);
        }
    }

    private int TenthsReached(int available) => (int)Math.Min(Tenths, (long)available * Tenths / _capacity);

    private static double Rate(long keys, TimeSpan elapsed) => elapsed > TimeSpan.Zero ? keys / elapsed.TotalSeconds : 0;

    [LoggerMessage(EventId = 303, EventName = "KeyPoolProgress", Message = "Device key pool: {Count} of {Capacity} {Algorithm} keys ({Percent}%), {Rate:F1} keys/s")]
    private static partial void LogProgress(ILogger logger, LogLevel level, int count, int capacity, string algorithm, int percent, double rate);

    [LoggerMessage(EventId = 302, EventName = "KeyPoolFull", Message = "Device key pool: {Count} of {Capacity} {Algorithm} keys, full after {Seconds:F0} s of filling at {Rate:F1} keys/s")]
    private static partial void LogFull(ILogger logger, LogLevel level, int count, int capacity, string algorithm, double seconds, double rate);
}
