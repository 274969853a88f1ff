using System.Diagnostics;
using Spectre.Console;

namespace Fleetkey.Bench;

/// <summary>Where a run tells what it is doing: a live display on a terminal, plain lines when the output is redirected.</summary>
internal abstract class BenchProgress
{
    /// <summary>Runs <paramref name="body"/> with the progress shown that fits the console.</summary>
    public static Task<T> RunAsync<T>(Func<BenchProgress, Task<T>> body)
    {
        if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            return body(new LineProgress());
        }

        return AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(context => body(new LiveProgress(context)));
    }

    /// <summary>Starts a phase; <paramref name="total"/> is what <see cref="Phase.Report"/> counts up to (0: unknown).</summary>
    public abstract Phase Begin(string name, double total);

    /// <summary>One step of a run: reports how far it is, then how it ended.</summary>
    internal abstract class Phase
    {
        /// <summary>Progress so far (of the phase's total) and a short status, e.g. the current rate.</summary>
        public abstract void Report(double value, string status);

        /// <summary>Ends the phase with its outcome.</summary>
        public abstract void Complete(string summary);
    }

    private sealed class LiveProgress(ProgressContext context) : BenchProgress
    {
        public override Phase Begin(string name, double total)
        {
            var task = context.AddTask(Markup.Escape(name), autoStart: true, maxValue: total > 0 ? total : 1);
            task.IsIndeterminate = total <= 0;
            return new LivePhase(task, name);
        }

        private sealed class LivePhase(ProgressTask task, string name) : Phase
        {
            public override void Report(double value, string status)
            {
                task.Value = Math.Min(value, task.MaxValue);
                task.Description = Markup.Escape($"{name}: {status}");
            }

            public override void Complete(string summary)
            {
                task.IsIndeterminate = false;
                task.Value = task.MaxValue;
                task.Description = Markup.Escape($"{name}: {summary}");
                task.StopTask();
            }
        }
    }

    /// <summary>A line when a phase starts, one every few seconds while it runs, and one when it ends.</summary>
    private sealed class LineProgress : BenchProgress
    {
        private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

        public override Phase Begin(string name, double total)
        {
            Console.Error.WriteLine($"[bench] {name} ...");
            return new LinePhase(name);
        }

        private sealed class LinePhase(string name) : Phase
        {
            private long _lastLine = Stopwatch.GetTimestamp();

            public override void Report(double value, string status)
            {
                if (Stopwatch.GetElapsedTime(_lastLine) >= Interval)
                {
                    _lastLine = Stopwatch.GetTimestamp();
                    Console.Error.WriteLine($"[bench] {name}: {status}");
                }
            }

            public override void Complete(string summary) => Console.Error.WriteLine($"[bench] {name}: {summary}");
        }
    }
}
