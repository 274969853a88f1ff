using System.Globalization;

namespace Fleetkey.Bench;

/// <summary>The report as Markdown, ready to paste into BENCHMARKS.md.</summary>
internal static class ReportWriter
{
    private const double MiB = 1024 * 1024;

    public static void Write(TextWriter output, BenchReport report)
    {
        var m = report.Machine;
        var s = report.Server;
        var settings = report.Settings;
        output.WriteLine(F($"## Fleetkey bench, {report.StartedAt:yyyy-MM-dd HH:mm} UTC"));
        output.WriteLine();
        output.WriteLine(F($"- Machine: {m.Summary()}; load average {m.LoadAverage} at the start, {report.LoadAverageAtEnd} at the end"));
        output.WriteLine(s.StartedByBench
            ? F($"- Server: started by the bench (pid {s.Pid}) from commit {s.Commit ?? "unknown"}; {s.Store}; `fleetkey serve {string.Join(' ', s.Flags)}`; GC {s.GarbageCollector}; RSS {Mb(s.MemoryAtStart?.ResidentBytes)} when it first answered")
            : F($"- Server: running at {s.Endpoint}{(s.Pid is { } pid ? $" (pid {pid})" : " (pid not given: no server CPU or memory)")}; issuing CA key {s.CaKeyAlgorithm}"));
        output.WriteLine(F($"- Device keys from CreateKeysAndCertificate: {s.ObservedDeviceKeyAlgorithm ?? "not seen (seed-register did not run)"}; CA key {s.CaKeyAlgorithm}"));
        if (report.Fill is { } fill)
        {
            output.WriteLine(fill.Method == RegistryFiller.AlreadyThere
                ? F($"- Registry: {fill.Things:N0} things (2 attributes each, every tenth of a thing type): {fill.Detail}")
                : F($"- Registry: {fill.Things:N0} things (2 attributes each, every tenth of a thing type), filled in {fill.Seconds:F1} s by {fill.Detail}"));
        }

        var mqtt = report.Scenarios.Any(x => x.Name.StartsWith("mqtt-", StringComparison.Ordinal)) ? " (MQTT scenarios: MQTTnet clients over mutual TLS, as many operations in flight)" : string.Empty;
        output.WriteLine(F($"- Load: Fleetkey.Client (SigV4, retries off) over one HttpClient, {settings.Concurrency} requests in flight{mqtt}; {settings.WarmupSeconds:0.#} s warm-up, then {(settings.Devices is { } d ? $"{d:N0} devices (seed-register, csr) or " : string.Empty)}{settings.DurationSeconds:0.#} s per scenario{(settings.SettleSeconds > 0 ? F($", up to {settings.SettleSeconds:0} s for the server to go idle before each") : string.Empty)}"));
        output.WriteLine(F($"- Arguments: `{string.Join(' ', settings.Arguments)}`"));
        output.WriteLine();

        output.WriteLine("| scenario | done | errors | per s | p50 ms | p90 ms | p99 ms | max ms | ceiling per s | of ceiling | server CPU | bench CPU | other CPU | server RSS |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var scenario in report.Scenarios)
        {
            if (scenario.Result is not { } r)
            {
                output.WriteLine(F($"| {scenario.Name} | — | failed: {scenario.Failure} | | | | | | | | | | | |"));
                continue;
            }

            output.WriteLine(F(
                $"| {scenario.Name} ({scenario.Mode}) | {r.Succeeded:N0} {scenario.Unit} | {r.Failed + (scenario.Warmup?.Failed ?? 0):N0} | {Rate(r.Rate)} | {Ms(r.Latency.P50)} | {Ms(r.Latency.P90)} | {Ms(r.Latency.P99)} | {Ms(r.Latency.Max)} | {(scenario.CeilingRate is { } c ? Rate(c) : "—")} | {(scenario.OfCeiling is { } x ? x.ToString("P0", CultureInfo.InvariantCulture) : "—")} | {Cores(r.Cpu.ServerCores)} | {Cores(r.Cpu.BenchCores)} | {Cores(r.Cpu.OtherCores)} | {Mb(r.ServerMemory?.ResidentBytes)} |"));
        }

        output.WriteLine();
        output.WriteLine("Latency is per operation (a device is 2 requests to register and 5 to unregister; for mqtt-connect to the CONNACK, for mqtt-publish to the PUBACK; for fleet-provisioning from the claim connect to the CONNACK of the new certificate), failed ones included. CPU columns are cores busy on average during the measurement (1.00 = one core all the time): the server process, the bench process, and everything else on the machine (other builds and benchmarks share it).");
        output.WriteLine();
        output.WriteLine(F($"Where the CPU went, per operation (CPU µs: CPU time over operations done; less sensitive to other load than the rates, though a saturated machine still inflates it). Fleetkey.Client alone is the bench's CPU for the same calls against canned answers, without the HTTP stack; crypto alone is the scenario's ceiling operation. The CPU-bound limit is the rate at which the server and the bench together would keep all {m.Cores} cores busy with nothing else running; a result well under it with idle CPU left waited on something else (store commits, locks, too few requests in flight)."));
        output.WriteLine();
        output.WriteLine("| scenario | server CPU µs/op | bench CPU µs/op | Fleetkey.Client alone µs/op | crypto alone µs/op | CPU-bound limit per s | measured per s | idle CPU | I/O wait |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var scenario in report.Scenarios)
        {
            if (scenario.Result is not { Rate: > 0 } r)
            {
                continue;
            }

            double? PerOp(double? cores) => cores * 1e6 / r.Rate;
            var server = PerOp(r.Cpu.ServerCores);
            var bench = PerOp(r.Cpu.BenchCores);
            double? limit = server is { } a && bench is { } b && a + b > 0 ? m.Cores * 1e6 / (a + b) : null;
            double? idle = r.Cpu.MachineCores is { } busy ? Math.Max(0, m.Cores - busy) : null;
            var client = CpuPerOperation(report.Ceilings.FirstOrDefault(c => c.Name == ClientCeilings.NameOf(scenario.Name)));
            var crypto = CpuPerOperation(report.Ceilings.FirstOrDefault(c => c.Name == scenario.Ceiling));
            output.WriteLine(F($"| {scenario.Name} | {Micros(server)} | {Micros(bench)} | {Micros(client)} | {Micros(crypto)} | {(limit is { } l ? Rate(l) : "—")} | {Rate(r.Rate)} | {Cores(idle)} | {Cores(r.Cpu.IoWaitCores)} |"));
        }

        output.WriteLine();
        output.WriteLine(F($"Ceilings, measured in process on {m.Cores} threads before the server started, with System.Security.Cryptography and a CA key like the server's ({report.CeilingCaKeyAlgorithm}), and Fleetkey.Client against canned answers. The idle-machine estimate is what all cores would do if nothing else ran: {m.Cores} × 10⁶ / CPU µs per operation."));
        output.WriteLine();
        output.WriteLine("| ceiling | per s, this run | CPU µs/op | idle-machine estimate per s | other CPU | what one operation is |");
        output.WriteLine("|---|---:|---:|---:|---:|---|");
        foreach (var ceiling in report.Ceilings)
        {
            var cpu = CpuPerOperation(ceiling);
            output.WriteLine(F($"| {ceiling.Name} | {Rate(ceiling.Rate)} | {Micros(cpu)} | {(cpu is { } us ? Rate(m.Cores * 1e6 / us) : "—")} | {Cores(ceiling.Cpu.OtherCores)} | {CryptoCeilings.Describe(ceiling.Name, report.CeilingCaKeyAlgorithm)} |"));
        }

        output.WriteLine();
        output.WriteLine("Scenarios:");
        foreach (var scenario in report.Scenarios)
        {
            output.WriteLine(F($"- {scenario.Name}: {scenario.Description}."));
            if (scenario.Result is { RanOut: true })
            {
                output.WriteLine(F($"  Ran out of devices before the duration: every device registered before was unregistered."));
            }

            if (scenario.SettledSeconds is { } settled)
            {
                output.WriteLine(F($"  Waited {settled:F0} s for the server to go idle before measuring."));
            }

            foreach (var note in scenario.Notes ?? [])
            {
                output.WriteLine(F($"  {note}"));
            }

            foreach (var error in (scenario.Warmup?.Errors ?? []).Concat(scenario.Result?.Errors ?? []).Distinct().Take(5))
            {
                output.WriteLine(F($"  Error: {error}"));
            }
        }

        if (s.Pid is not null)
        {
            var peak = report.Scenarios.Select(x => x.Result?.ServerMemory?.PeakResidentBytes).Max();
            output.WriteLine();
            output.WriteLine(F($"Server memory: RSS {Mb(s.MemoryAtStart?.ResidentBytes)} when it first answered, peak {Mb(peak)}; after each scenario in the table."));
        }

        if (s.StartedByBench)
        {
            output.WriteLine(s.ExitCode is { } code
                ? F($"Server stopped with SIGTERM: exit code {code}.")
                : "Server did not exit within 30 s of SIGTERM and was killed.");
        }

        output.WriteLine(F($"Total run time {report.TotalSeconds:F0} s."));
    }

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>CPU time one operation of a ceiling took: the bench's CPU over the operations done.</summary>
    private static double? CpuPerOperation(CeilingResult? ceiling) =>
        ceiling is { Rate: > 0, Cpu.BenchCores: { } cores } ? cores * 1e6 / ceiling.Rate : null;

    private static string Micros(double? micros) => micros is { } us ? us.ToString("N0", CultureInfo.InvariantCulture) : "—";

    private static string Rate(double perSecond) => perSecond.ToString(perSecond < 100 ? "N1" : "N0", CultureInfo.InvariantCulture);

    private static string Ms(double milliseconds) => milliseconds.ToString(milliseconds < 10 ? "F2" : milliseconds < 100 ? "F1" : "N0", CultureInfo.InvariantCulture);

    private static string Cores(double? cores) => cores is { } c ? c.ToString("F2", CultureInfo.InvariantCulture) : "—";

    private static string Mb(long? bytes) => bytes is { } b ? (b / MiB).ToString("N0", CultureInfo.InvariantCulture) + " MiB" : "—";
}
