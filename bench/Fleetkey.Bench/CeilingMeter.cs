using System.Diagnostics;
using System.Globalization;

namespace Fleetkey.Bench;

/// <summary>Runs one operation on every core for a while, as fast as it goes: the ceilings the scenarios are compared with.</summary>
internal static class CeilingMeter
{
    /// <summary>
    /// Measures <paramref name="name"/>: one thread a core, each with its own state from
    /// <paramref name="createForThread"/> (an operation taking a running index, and what to dispose after).
    /// </summary>
    public static async Task<CeilingResult> MeasureAsync(
        string name,
        TimeSpan duration,
        int? serverPid,
        Func<(Action<int> Run, IDisposable? Owned)> createForThread,
        BenchProgress progress,
        CancellationToken cancellationToken)
    {
        var phase = progress.Begin($"ceiling: {name}", duration.TotalSeconds);
        var result = await Task.Run(() => Measure(name, duration, serverPid, createForThread, phase, cancellationToken), cancellationToken);
        phase.Complete(string.Create(CultureInfo.InvariantCulture, $"{result.Rate:N0}/s on {result.Threads} threads ({result.Rate / result.Threads:N0}/s a core)"));
        return result;
    }

    private static CeilingResult Measure(
        string name, TimeSpan duration, int? serverPid, Func<(Action<int> Run, IDisposable? Owned)> createForThread, BenchProgress.Phase phase, CancellationToken cancellationToken)
    {
        var threads = Environment.ProcessorCount;
        var counts = new long[threads];
        var lastDone = new long[threads];
        using var start = new Barrier(threads + 1);
        var stop = 0;
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var (run, owned) = createForThread();
            using (owned)
            {
                run(t); // one untimed round: JIT and first-use setup
                start.SignalAndWait(cancellationToken);
                var i = t;
                while (Volatile.Read(ref stop) == 0)
                {
                    run(i);
                    i += threads;
                    counts[t]++;
                    Volatile.Write(ref lastDone[t], Stopwatch.GetTimestamp());
                }
            }
        })
        { IsBackground = true, Name = $"ceiling-{t}" }).ToList();
        workers.ForEach(w => w.Start());
        start.SignalAndWait(cancellationToken);
        var started = Stopwatch.GetTimestamp();

        var sampler = CpuSampler.Start(serverPid);
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < duration)
        {
            cancellationToken.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(250));
            cancellationToken.ThrowIfCancellationRequested();
            phase.Report(watch.Elapsed.TotalSeconds, string.Create(CultureInfo.InvariantCulture, $"{counts.Sum() / watch.Elapsed.TotalSeconds:N0}/s"));
        }

        var cpu = sampler.Stop();
        var elapsed = watch.Elapsed;
        Volatile.Write(ref stop, 1);
        workers.ForEach(w => w.Join());

        // Each thread's rate over the time up to its own last finished operation, so that an
        // operation cut off by the stop (up to ~1 s for an RSA key) neither counts nor dilutes.
        var rate = Enumerable.Range(0, threads)
            .Where(t => counts[t] > 0)
            .Sum(t => counts[t] / Stopwatch.GetElapsedTime(started, lastDone[t]).TotalSeconds);
        return new CeilingResult(name, counts.Sum(), elapsed.TotalSeconds, rate, threads, cpu);
    }
}

/// <param name="Name">Which ceiling.</param>
/// <param name="Operations">Operations done.</param>
/// <param name="Seconds">Measured wall time.</param>
/// <param name="Rate">Operations a second, all threads together.</param>
/// <param name="Threads">Threads used: one a core.</param>
/// <param name="Cpu">Where the machine's CPU went meanwhile (other load lowers the ceiling).</param>
internal sealed record CeilingResult(string Name, long Operations, double Seconds, double Rate, int Threads, CpuUsage Cpu);
