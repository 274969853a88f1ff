using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Fleetkey.Testing;

/// <summary>Collects every error the application logs, so that a test can fail on any.</summary>
public sealed class ErrorLog : ILoggerProvider
{
    public ConcurrentQueue<string> Errors { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(ErrorLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Error)
            {
                log.Errors.Enqueue($"{category}: {formatter(state, exception)} {exception}");
            }
        }
    }
}

/// <summary>
/// Every entry logged at or above a level, with its event and its structured values, for tests that
/// assert what the application says (not only that it logged no error).
/// </summary>
public sealed class LogRecorder(LogLevel minimum = LogLevel.Trace) : ILoggerProvider
{
    public LogLevel Minimum { get; } = minimum;

    public ConcurrentQueue<Entry> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    /// <summary>The entries of one category (a type's full name, as <c>ILogger&lt;T&gt;</c> names it), in order.</summary>
    public IReadOnlyList<Entry> Of(string category) => [.. Entries.Where(e => e.Category == category)];

    public void Dispose()
    {
    }

    /// <summary>One log entry: its structured values by name ({OriginalFormat} included).</summary>
    public sealed record Entry(string Category, LogLevel Level, EventId EventId, string Message, IReadOnlyDictionary<string, object?> Values);

    private sealed class Logger(LogRecorder log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= log.Minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? pairs.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal)
                : new Dictionary<string, object?>(StringComparer.Ordinal);
            log.Entries.Enqueue(new Entry(category, logLevel, eventId, formatter(state, exception), values));
        }
    }
}

/// <summary>The values of one tag of one counter of a meter, as they are added while the recorder listens.</summary>
public sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<string> _values = new();
    private readonly ChangeSignal _recorded = new();

    public MetricRecorder(Meter meter, string instrument, string tag)
    {
        _listener.InstrumentPublished = (published, listener) =>
        {
            if (ReferenceEquals(published.Meter, meter) && published.Name == instrument)
            {
                listener.EnableMeasurementEvents(published);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (var t in tags)
            {
                if (t.Key == tag)
                {
                    _values.Enqueue((string)t.Value!);
                    _recorded.Raise();
                }
            }
        });
        _listener.Start();
    }

    public IReadOnlyList<string> Values => [.. _values];

    /// <summary>
    /// Waits until <paramref name="value"/> was recorded (a broker counts some refusals on another
    /// thread), re-checking at each value recorded; false when it was not within
    /// <paramref name="timeout"/> (10 s unless given), a bound for a test that would otherwise hang.
    /// </summary>
    public async Task<bool> WaitForAsync(string value, TimeSpan? timeout = null)
    {
        try
        {
            await Signals.WaitUntilAsync(() => _recorded.Next, () => _values.Contains(value)).WaitAsync(timeout ?? TimeSpan.FromSeconds(10));
            return true;
        }
        catch (TimeoutException)
        {
            return _values.Contains(value);
        }
    }

    public void Dispose() => _listener.Dispose();
}
