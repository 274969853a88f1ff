using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using Fleetkey.Client;

namespace Fleetkey.Bench;

/// <summary>
/// A closed loop: <c>concurrency</c> workers, each sending its next operation as soon as the last
/// one answered, for a duration or until a number of operations is done (or the work runs out).
/// </summary>
internal static class LoadDriver
{
    private const int KeptErrorMessages = 5;

    // Each worker's "latency ends here" mark, which an operation sets through EndTiming.
    private static readonly AsyncLocal<StrongBox<long>?> TimedEnd = new();

    /// <summary>
    /// Ends the running operation's latency now: what the operation does after this (an MQTT client's
    /// DISCONNECT, say) still occupies its worker, and so counts in the throughput, but not in the latency.
    /// </summary>
    public static void EndTiming()
    {
        if (TimedEnd.Value is { } mark)
        {
            mark.Value = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>
    /// One operation. <paramref name="sequence"/> numbers operations across the warm-up and the
    /// measurement, so names made from it never repeat. Returns false when there is no more work
    /// (not an error); throws on an error.
    /// </summary>
    public delegate ValueTask<bool> Operation(long sequence, CancellationToken cancellationToken);

    public static async Task<LoadResult> RunAsync(
        LoadPlan plan, Operation operation, Func<long> sequence, int? serverPid, BenchProgress.Phase phase, CancellationToken cancellationToken)
    {
        var stop = plan.Duration is { } duration ? Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        var state = new RunState();
        var sampler = CpuSampler.Start(serverPid);
        var watch = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, plan.Concurrency).Select(_ => Task.Run(() => WorkAsync(plan, operation, sequence, stop, state, cancellationToken), cancellationToken)).ToArray();
        var all = Task.WhenAll(workers);
        while (!all.IsCompleted)
        {
            await Task.WhenAny(all, Task.Delay(250, cancellationToken));
            var done = Volatile.Read(ref state.Succeeded) + Volatile.Read(ref state.Failed);
            var progress = plan.Count is { } count ? done : Math.Min(watch.Elapsed.TotalSeconds, plan.Duration!.Value.TotalSeconds);
            phase.Report(progress, string.Create(CultureInfo.InvariantCulture,
                $"{done:N0} done, {Volatile.Read(ref state.Succeeded) / watch.Elapsed.TotalSeconds:N0}/s, {Volatile.Read(ref state.Failed)} errors"));
        }

        await all;
        var elapsed = watch.Elapsed;
        var cpu = sampler.Stop();
        var latencies = state.Latencies.SelectMany(l => l).ToArray();
        Array.Sort(latencies);
        return new LoadResult(
            state.Succeeded,
            state.Failed,
            elapsed.TotalSeconds,
            state.Succeeded / elapsed.TotalSeconds,
            Latency.From(latencies),
            state.RanOut,
            [.. state.Errors.Take(KeptErrorMessages)],
            cpu,
            serverPid is { } pid ? ProcFs.Memory(pid) : null);
    }

    private static async Task WorkAsync(LoadPlan plan, Operation operation, Func<long> sequence, long stop, RunState state, CancellationToken cancellationToken)
    {
        var latencies = new List<long>(1024);
        lock (state.LatenciesLock)
        {
            state.Latencies.Add(latencies);
        }

        var timedEnd = new StrongBox<long>();
        TimedEnd.Value = timedEnd;

        while (Stopwatch.GetTimestamp() < stop && !cancellationToken.IsCancellationRequested)
        {
            if (plan.Count is { } count && Interlocked.Increment(ref state.Taken) > count)
            {
                return;
            }

            var started = Stopwatch.GetTimestamp();
            timedEnd.Value = 0;
            try
            {
                if (!await operation(sequence(), cancellationToken))
                {
                    state.RanOut = true;
                    return;
                }

                Interlocked.Increment(ref state.Succeeded);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                Interlocked.Increment(ref state.Failed);
                if (state.Errors.Count < KeptErrorMessages)
                {
                    state.Errors.Enqueue(Describe(exception));
                }
            }

            latencies.Add((timedEnd.Value != 0 ? timedEnd.Value : Stopwatch.GetTimestamp()) - started);
        }
    }

    private static string Describe(Exception exception) => exception switch
    {
        IotServiceException iot => $"{iot.ErrorCode} (HTTP {(int)iot.StatusCode}): {iot.Message}",
        TaskCanceledException => "timed out (--request-timeout)",
        _ => $"{exception.GetType().Name}: {exception.Message}",
    };

    private sealed class RunState
    {
        public readonly List<List<long>> Latencies = [];
        public readonly Lock LatenciesLock = new();
        public readonly ConcurrentQueue<string> Errors = new();
        public long Succeeded;
        public long Failed;
        public long Taken;
        public volatile bool RanOut;
    }
}

/// <summary>How long and how hard: <paramref name="Duration"/> or <paramref name="Count"/> operations (whichever is set), at <paramref name="Concurrency"/>.</summary>
internal sealed record LoadPlan(int Concurrency, TimeSpan? Duration, long? Count);

/// <param name="Succeeded">Operations that succeeded (the throughput counts these).</param>
/// <param name="Failed">Operations that failed: an error answer, a broken connection or a timeout.</param>
/// <param name="Seconds">Wall time from the first request to the last answer.</param>
/// <param name="Rate">Succeeded operations a second.</param>
/// <param name="Latency">Latency percentiles over every operation, failed ones included.</param>
/// <param name="RanOut">The work ran out before the duration (seed-unregister had no more devices).</param>
/// <param name="Errors">The first few error messages.</param>
/// <param name="Cpu">Where the CPU went meanwhile.</param>
/// <param name="ServerMemory">The server's memory at the end, when its process is known.</param>
internal sealed record LoadResult(
    long Succeeded, long Failed, double Seconds, double Rate, Latency Latency, bool RanOut, IReadOnlyList<string> Errors, CpuUsage Cpu, ProcessMemory? ServerMemory);

/// <summary>Latency percentiles in milliseconds (nearest rank).</summary>
internal sealed record Latency(double P50, double P90, double P99, double Max, double Mean)
{
    public static Latency From(long[] sortedTicks)
    {
        if (sortedTicks.Length == 0)
        {
            return new Latency(0, 0, 0, 0, 0);
        }

        double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
        double Percentile(double q) => Ms(sortedTicks[Math.Clamp((int)Math.Ceiling(q * sortedTicks.Length) - 1, 0, sortedTicks.Length - 1)]);
        return new Latency(Percentile(0.50), Percentile(0.90), Percentile(0.99), Ms(sortedTicks[^1]), sortedTicks.Average(Ms));
    }
}
