using System.Diagnostics;
using System.Globalization;
using CsCheck;

namespace Fleetkey.Fuzz.Tests;

/// <summary>
/// Runs a fuzz target a bounded number of times and reports how many inputs it tried. CI runs each
/// target's own count (<see cref="Scale"/> 1); <c>FLEETKEY_FUZZ_SCALE=N</c> multiplies every count for a
/// long run. When <c>FLEETKEY_FUZZ_REPORT</c> names a file, each target appends
/// <c>target, cases, seconds</c> to it (tab-separated), which <c>test.sh</c> sums and prints.
/// </summary>
/// <remarks>
/// A failing case makes CsCheck throw with the shrunk input and its seed; keep that input as a
/// regression case beside the target (a plain xunit case), so it runs on every build.
/// </remarks>
internal static class Fuzz
{
    private static readonly Lock ReportLock = new();

    /// <summary>How many times each target's count is run (1 unless FLEETKEY_FUZZ_SCALE says more).</summary>
    public static long Scale { get; } =
        long.TryParse(Environment.GetEnvironmentVariable("FLEETKEY_FUZZ_SCALE"), NumberStyles.None, CultureInfo.InvariantCulture, out var scale) && scale > 0 ? scale : 1;

    /// <summary>Checks <paramref name="property"/> (it throws when it does not hold) on <paramref name="cases"/> × <see cref="Scale"/> inputs.</summary>
    public static void Run<T>(string target, Gen<T> gen, Action<T> property, long cases, int threads = -1)
    {
        var tried = 0L;
        var clock = Stopwatch.StartNew();
        try
        {
            gen.Sample(
                input =>
                {
                    Interlocked.Increment(ref tried);
                    property(input);
                },
                iter: cases * Scale,
                threads: threads);
        }
        finally
        {
            Report(target, Interlocked.Read(ref tried), clock.Elapsed);
        }
    }

    /// <summary>As <see cref="Run{T}"/> for a property that awaits (a real listener); one input at a time.</summary>
    public static async Task RunAsync<T>(string target, Gen<T> gen, Func<T, Task> property, long cases)
    {
        var tried = 0L;
        var clock = Stopwatch.StartNew();
        try
        {
            await gen.SampleAsync(
                async input =>
                {
                    Interlocked.Increment(ref tried);
                    await property(input);
                },
                iter: cases * Scale,
                threads: 1);
        }
        finally
        {
            Report(target, Interlocked.Read(ref tried), clock.Elapsed);
        }
    }

    /// <summary>Records inputs a target tried outside CsCheck (a replayed corpus, a loop over a live connection).</summary>
    public static void Report(string target, long cases, TimeSpan elapsed)
    {
        if (Environment.GetEnvironmentVariable("FLEETKEY_FUZZ_REPORT") is not { Length: > 0 } path)
        {
            return;
        }

        lock (ReportLock)
        {
            File.AppendAllText(path, string.Create(CultureInfo.InvariantCulture, $"{target}\t{cases}\t{elapsed.TotalSeconds:F1}\n"));
        }
    }
}
