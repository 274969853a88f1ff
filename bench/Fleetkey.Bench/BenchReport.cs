using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Serialization;

namespace Fleetkey.Bench;

/// <summary>Everything a run measured, with what it ran on and how: printed as Markdown and, with --json, written as JSON.</summary>
internal sealed record BenchReport(
    DateTimeOffset StartedAt,
    double TotalSeconds,
    MachineInfo Machine,
    ServerInfo Server,
    RunSettings Settings,
    FillResult? Fill,
    IReadOnlyList<CeilingResult> Ceilings,
    IReadOnlyList<ScenarioReport> Scenarios,
    string CeilingCaKeyAlgorithm,
    string? LoadAverageAtEnd)
{
    public int Passed => Scenarios.Count(s => s.Passed);

    public int Failed => Scenarios.Count - Passed;
}

/// <param name="Name">The scenario.</param>
/// <param name="Unit">What one operation is.</param>
/// <param name="Description">The requests one operation sends.</param>
/// <param name="Mode">For how long or how many.</param>
/// <param name="Failure">Why it did not complete, when it did not.</param>
/// <param name="Warmup">The warm-up (not counted).</param>
/// <param name="SettledSeconds">How long it waited for the server to go idle before measuring.</param>
/// <param name="Result">The measurement.</param>
/// <param name="Ceiling">The crypto ceiling it is compared with.</param>
/// <param name="CeilingRate">That ceiling, operations a second.</param>
/// <param name="OfCeiling">The result as a fraction of the ceiling.</param>
/// <param name="Notes">More of what the measurement saw (e.g. messages a subscriber received).</param>
internal sealed record ScenarioReport(
    string Name,
    string Unit,
    string Description,
    string Mode,
    string? Failure,
    LoadResult? Warmup,
    double? SettledSeconds,
    LoadResult? Result,
    string? Ceiling,
    double? CeilingRate,
    double? OfCeiling,
    IReadOnlyList<string>? Notes = null)
{
    /// <summary>Completed, with at least one operation, and no error in the warm-up or the measurement.</summary>
    public bool Passed => Failure is null && Result is { Failed: 0, Succeeded: > 0 } && (Warmup?.Failed ?? 0) == 0;

    /// <summary>Device keys the server handed out during the measurement, by source (null when it handed out none).</summary>
    public KeyPoolUse? DeviceKeys { get; init; }

    /// <summary>The store's group-commit writer during the measurement (null on PostgreSQL, or when nothing was written).</summary>
    public StoreWriterUse? StoreWriter { get; init; }
}

/// <summary>How the load was applied.</summary>
internal sealed record RunSettings(
    IReadOnlyList<string> Arguments, int Concurrency, double DurationSeconds, double WarmupSeconds, double SettleSeconds, int? Devices, int Things, bool Quick, double CeilingSeconds)
{
    public static RunSettings From(BenchOptions options) => new(
        Environment.GetCommandLineArgs().Skip(1).ToArray(),
        options.Concurrency,
        options.Duration.TotalSeconds,
        options.Warmup.TotalSeconds,
        options.Settle.TotalSeconds,
        options.Devices,
        options.Things,
        options.Quick,
        options.CeilingDuration.TotalSeconds);
}

/// <summary>The server measured and its settings.</summary>
/// <param name="StartedByBench">Whether the bench started it (on a fresh data directory).</param>
/// <param name="Endpoint">Its control-plane URL.</param>
/// <param name="Pid">Its process, when known (CPU and memory are then reported).</param>
/// <param name="Commit">The repository commit the server was built from (with "+changes" for uncommitted changes under src/).</param>
/// <param name="Store">SQLite or PostgreSQL (password left out).</param>
/// <param name="DeviceKeyAlgorithm">--device-key-algorithm as configured (or, for a running server, as the bench was told).</param>
/// <param name="ObservedDeviceKeyAlgorithm">The algorithm of the keys CreateKeysAndCertificate actually returned.</param>
/// <param name="CaKeyAlgorithm">The issuing CA's key.</param>
/// <param name="Flags">The flags of `fleetkey serve` beyond the data directory and listeners.</param>
/// <param name="GarbageCollector">The server's GC mode, from its runtimeconfig.json.</param>
/// <param name="MemoryAtStart">RSS when it first answered.</param>
/// <param name="ExitCode">How it exited after SIGTERM (null: killed, or not started by the bench).</param>
internal sealed record ServerInfo(
    bool StartedByBench,
    string Endpoint,
    int? Pid,
    string? Commit,
    string Store,
    string DeviceKeyAlgorithm,
    string? ObservedDeviceKeyAlgorithm,
    string CaKeyAlgorithm,
    IReadOnlyList<string> Flags,
    string? GarbageCollector,
    ProcessMemory? MemoryAtStart,
    int? ExitCode)
{
    public static ServerInfo Started(ServerLaunch launch, ServerProcess server, string? database, string dataDirectory)
    {
        IReadOnlyList<string> flags = ["--mqtt-port", launch.MqttPort.ToString(CultureInfo.InvariantCulture), "--device-key-algorithm", launch.DeviceKeyAlgorithm, "--ca-key-algorithm", launch.CaKeyAlgorithm, .. launch.ExtraArgs];
        var store = database is null ? $"SQLite, {Path.GetFileName(dataDirectory)}/fleetkey.db in a fresh data directory" : "PostgreSQL " + RedactPassword(database);
        return new ServerInfo(true, server.Endpoint.ToString(), server.Pid, GitCommit(), store, launch.DeviceKeyAlgorithm, null, launch.CaKeyAlgorithm, flags, launch.GarbageCollector(), ProcFs.Memory(server.Pid), null);
    }

    public static ServerInfo External(Uri endpoint, int? pid, string caKeyAlgorithm, string deviceKeyAlgorithm) =>
        new(false, endpoint.ToString(), pid, null, "unknown (a running server)", deviceKeyAlgorithm, null, caKeyAlgorithm, [], null, pid is { } p ? ProcFs.Memory(p) : null, null);

    private static string RedactPassword(string database) =>
        Uri.TryCreate(database, UriKind.Absolute, out var uri) && uri.UserInfo.Contains(':', StringComparison.Ordinal)
            ? database.Replace(uri.UserInfo, uri.UserInfo.Split(':')[0] + ":***", StringComparison.Ordinal)
            : database.Contains("assword", StringComparison.OrdinalIgnoreCase) ? "(connection string)" : database;

    /// <summary>The commit of the repository the bench runs from, "+changes" when src/ has uncommitted changes.</summary>
    private static string? GitCommit()
    {
        if (ServerLaunch.RepositoryRoot() is not { } root)
        {
            return null;
        }

        static string? Git(string root, params string[] arguments)
        {
            try
            {
                var start = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                start.ArgumentList.Add("-C");
                start.ArgumentList.Add(root);
                foreach (var argument in arguments)
                {
                    start.ArgumentList.Add(argument);
                }

                using var process = Process.Start(start)!;
                var output = process.StandardOutput.ReadToEnd().Trim();
                process.WaitForExit();
                return process.ExitCode == 0 ? output : null;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                return null;
            }
        }

        var head = Git(root, "rev-parse", "--short", "HEAD");
        return head is null ? null : head + (Git(root, "status", "--porcelain", "--", "src") is { Length: > 0 } ? "+changes" : string.Empty);
    }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(BenchReport))]
internal sealed partial class BenchJsonContext : JsonSerializerContext;
