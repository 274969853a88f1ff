using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;

namespace Fleetkey.Bench;

/// <summary>
/// One run: the crypto ceilings, the server (started or given), the registry, then each scenario
/// (prepare, warm up, settle, measure), and the report.
/// </summary>
internal sealed class BenchRunner(BenchOptions options, BenchProgress progress)
{
    private const int MaxDistinctCsrs = 20_000;

    public async Task<BenchReport> RunAsync(MachineInfo machine, CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.UtcNow;
        var watch = Stopwatch.StartNew();
        var work = options.StartServer ? Directory.CreateTempSubdirectory("fleetkey-bench-").FullName : null;
        ServerProcess? server = null;
        var clean = false;
        try
        {
            var csrCount = options.Quick ? 200 : Math.Min(options.Devices ?? MaxDistinctCsrs, MaxDistinctCsrs);
            var csrPhase = progress.Begin($"making {csrCount:N0} EC P-256 CSRs", 0);
            var csrs = await Task.Run(() => PreparedCsr.Make(csrCount), cancellationToken);
            csrPhase.Complete($"{csrCount:N0} CSRs made");

            // The ceilings come first, before this run starts a server: nothing of the bench's competes with them.
            var caKeyAlgorithm = options.StartServer ? options.CaKeyAlgorithm : await IssuingCaAlgorithmAsync(options.Endpoint!, cancellationToken);
            IReadOnlyList<CeilingResult> ceilings =
            [
                .. await CryptoCeilings.MeasureAsync(caKeyAlgorithm, csrs, options.CeilingDuration, options.ServerPid, progress, cancellationToken),
                .. await ClientCeilings.MeasureAsync(options.Scenarios, csrs, options.CeilingDuration, options.ServerPid, progress, cancellationToken),
                .. options.Runs("mqtt-connect")
                    ? [await TlsHandshakeCeiling.MeasureAsync(options.Concurrency, options.CeilingDuration, options.ServerPid, progress, cancellationToken)]
                    : Array.Empty<CeilingResult>(),
            ];

            var needsRegistry = options.Runs("describe") || options.Runs("list");
            FillResult? fill = null;
            ServerInfo serverInfo;
            BenchClient client;
            BenchClient? tlsClient = null;
            int? serverPid;
            var mqttPort = options.MqttPort ?? 8883;
            if (options.StartServer)
            {
                var launch = new ServerLaunch(
                    options.ServerDll ?? ServerLaunch.DefaultDll(), options.DeviceKeyAlgorithm, caKeyAlgorithm, options.ServerArgs, options.RunsMqtt ? ServerProcess.FreePort() : 0);
                mqttPort = launch.MqttPort;
                var data = Path.Combine(work!, "data");
                if (needsRegistry && options.Fill != "api")
                {
                    fill = await RegistryFiller.ImportAsync(launch, work!, data, options.Database, options.Things, progress, cancellationToken);
                }

                var phase = progress.Begin("starting fleetkey serve", 0);
                server = await ServerProcess.StartAsync(launch, data, options.Database, cancellationToken);
                phase.Complete($"listening on {server.Endpoint} (pid {server.Pid})");
                serverPid = server.Pid;
                client = new BenchClient(server.Endpoint, AccessKey.Read(Path.Combine(data, "credentials")), options.Region, Math.Max(options.Concurrency, options.FillConcurrency), options.RequestTimeout);
                tlsClient = new BenchClient(server.TlsEndpoint, AccessKey.Read(Path.Combine(data, "credentials")), options.Region, options.Concurrency, options.RequestTimeout, server.CaBundle);
                serverInfo = ServerInfo.Started(launch, server, options.Database, data);
            }
            else
            {
                serverPid = options.ServerPid;
                client = new BenchClient(options.Endpoint!, AccessKey.Read(options.CredentialsPath), options.Region, Math.Max(options.Concurrency, options.FillConcurrency), options.RequestTimeout);
                serverInfo = ServerInfo.External(options.Endpoint!, serverPid, caKeyAlgorithm, options.DeviceKeyAlgorithm);
            }

            using var mqtt = !options.RunsMqtt ? null
                : await MqttTarget.OfServerAsync(server?.Endpoint ?? options.Endpoint!, mqttPort, cancellationToken);
            using (client)
            using (tlsClient)
            {
                if (needsRegistry && fill is null)
                {
                    fill = await RegistryFiller.ThroughApiAsync(client, options.Things, options.FillConcurrency, serverPid, progress, cancellationToken);
                }

                var context = new BenchContext(client, options, csrs, serverPid, mqtt, tlsClient);
                var results = new List<ScenarioReport>();
                foreach (var name in options.Scenarios)
                {
                    results.Add(await RunScenarioAsync(Scenario.Create(name, context), context, ceilings, cancellationToken));
                }

                serverInfo = serverInfo with { ObservedDeviceKeyAlgorithm = context.DeviceKeyAlgorithm };
                if (server is not null)
                {
                    var phase = progress.Begin("stopping fleetkey serve (SIGTERM)", 0);
                    var exit = await server.StopAsync(TimeSpan.FromSeconds(30));
                    serverInfo = serverInfo with { ExitCode = exit };
                    phase.Complete(exit is null ? "did not stop within 30 s: killed" : $"exited with code {exit}");
                }

                var report = new BenchReport(started, watch.Elapsed.TotalSeconds, machine, serverInfo, RunSettings.From(options), fill, ceilings, results, caKeyAlgorithm, ProcFs.LoadAverage());
                clean = report.Failed == 0 && serverInfo.ExitCode is null or 0;
                return report;
            }
        }
        finally
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }

            if (work is not null && !options.KeepData)
            {
                // An error's explanation is in the server's log (a 500 names its request id there): keep it.
                var log = Path.Combine(work, "data", "server.log");
                if (!clean && File.Exists(log))
                {
                    var kept = Path.Combine(Path.GetTempPath(), $"fleetkey-bench-{started:yyyyMMdd-HHmmss}-server.log");
                    File.Copy(log, kept, overwrite: true);
                    await Console.Error.WriteLineAsync($"[bench] the run had errors; the server's log is kept in {kept}");
                }

                Directory.Delete(work, recursive: true);
            }
            else if (work is not null)
            {
                await Console.Error.WriteLineAsync($"[bench] data kept in {work}");
            }
        }
    }

    private async Task<ScenarioReport> RunScenarioAsync(Scenario scenario, BenchContext context, IReadOnlyList<CeilingResult> ceilings, CancellationToken cancellationToken)
    {
        var mode = scenario.CountMode
            ? string.Create(CultureInfo.InvariantCulture, $"{options.Devices:N0} {scenario.Unit}")
            : string.Create(CultureInfo.InvariantCulture, $"{options.Duration.TotalSeconds:0.#} s");
        try
        {
            await scenario.PrepareAsync(progress, cancellationToken);

            LoadResult? warmup = null;
            if (options.Warmup > TimeSpan.Zero)
            {
                var phase = progress.Begin($"{scenario.Name}: warm-up", options.Warmup.TotalSeconds);
                warmup = await LoadDriver.RunAsync(
                    new LoadPlan(options.Concurrency, options.Warmup, WarmupLimit(scenario, context)), scenario.RunOnceAsync, context.NextSequence, context.ServerPid, phase, cancellationToken);
                phase.Complete(string.Create(CultureInfo.InvariantCulture, $"{warmup.Succeeded:N0} {scenario.Unit}, {warmup.Failed} errors"));
            }

            double? settled = null;
            if (options.Settle > TimeSpan.Zero)
            {
                settled = await SettleAsync(scenario.Name, context.ServerPid, cancellationToken);
            }

            var countersBefore = await ServerMetricsProbe.ReadAsync(context.Client.Endpoint, cancellationToken);
            var measure = progress.Begin($"{scenario.Name}: {mode}", scenario.CountMode ? options.Devices!.Value : options.Duration.TotalSeconds);
            var plan = scenario.CountMode
                ? new LoadPlan(options.Concurrency, null, options.Devices)
                : new LoadPlan(options.Concurrency, options.Duration, null);
            scenario.MeasurementStarting();
            var result = await LoadDriver.RunAsync(plan, scenario.RunOnceAsync, context.NextSequence, context.ServerPid, measure, cancellationToken);
            var counters = countersBefore is null ? null : (await ServerMetricsProbe.ReadAsync(context.Client.Endpoint, cancellationToken))?.Since(countersBefore);
            var keys = counters?.Keys;
            var writer = counters?.Writer is { Writes: >= 100 } used ? used : null;
            var ceiling = ceilings.FirstOrDefault(c => c.Name == scenario.Ceiling);
            var ratio = ceiling is null ? (double?)null : result.Rate / ceiling.Rate;
            var failure = result.Succeeded == 0 ? $"no {scenario.Unit} done"
                : scenario.CountMode && result.Succeeded + result.Failed < options.Devices ? $"only {result.Succeeded + result.Failed:N0} of {options.Devices:N0} {scenario.Unit} done (the work ran out)"
                : null;
            measure.Complete(string.Create(CultureInfo.InvariantCulture,
                $"{result.Rate:N0} {scenario.Unit}/s, p99 {result.Latency.P99:N1} ms, {result.Failed} errors{(ratio is { } r ? $", {r:P0} of ceiling" : string.Empty)}{(failure is null ? string.Empty : " — " + failure)}"));
            var notes = await scenario.NotesAsync(result, cancellationToken);
            if (keys is not (null or { FromPool: 0, OnDemand: 0 }))
            {
                notes = [.. notes, string.Create(CultureInfo.InvariantCulture, $"Device keys handed out while measuring: {keys.FromPool:N0} from the key pool, {keys.OnDemand:N0} generated on demand (server metric fleetkey_key_pool_handed_out).")];
            }

            if (writer is not null)
            {
                notes = [.. notes, string.Create(CultureInfo.InvariantCulture,
                    $"Store writer (SQLite group commit) while measuring: {writer.Writes:N0} write transactions in {writer.Commits:N0} commits ({(double)writer.Writes / Math.Max(1, writer.Commits):N1} a commit), busy {writer.Utilisation(result.Seconds):P0} of the time, {writer.BusySeconds * 1e6 / writer.Writes:N0} µs a write transaction (server metrics fleetkey_store_group_commit_*).")];
            }

            if (counters is { Retries: > 0 and var retries })
            {
                notes = [.. notes, string.Create(CultureInfo.InvariantCulture,
                    $"Store transactions retried while measuring: {retries:N0} (database serialization conflicts between concurrent writers; server metric fleetkey_store_retries_total).")];
            }

            foreach (var note in notes)
            {
                progress.Begin(scenario.Name, 0).Complete(note);
            }

            return new ScenarioReport(scenario.Name, scenario.Unit, scenario.Description, mode, failure, warmup, settled, result, ceiling?.Name, ceiling?.Rate, ratio, notes)
            {
                DeviceKeys = keys is { FromPool: 0, OnDemand: 0 } ? null : keys,
                StoreWriter = writer,
            };
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var phase = progress.Begin(scenario.Name, 0);
            phase.Complete($"failed: {exception.Message}");
            return new ScenarioReport(scenario.Name, scenario.Unit, scenario.Description, mode, exception.Message, null, null, null, null, null, null);
        }
        finally
        {
            await scenario.ReleaseAsync();
        }
    }

    /// <summary>seed-unregister's warm-up takes at most a tenth of the devices, so that the measurement has some left.</summary>
    private static long? WarmupLimit(Scenario scenario, BenchContext context) =>
        scenario is SeedUnregisterScenario ? context.Devices.Count / 10 : null;

    /// <summary>Waits until the server has used under 5% of a core for a second (a background key pool full), at most --settle; the seconds waited.</summary>
    private async Task<double> SettleAsync(string scenario, int? serverPid, CancellationToken cancellationToken)
    {
        var phase = progress.Begin($"{scenario}: waiting for the server to go idle", options.Settle.TotalSeconds);
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < options.Settle)
        {
            var sampler = CpuSampler.Start(serverPid);
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            var cores = sampler.Stop().ServerCores;
            phase.Report(watch.Elapsed.TotalSeconds, cores is { } c ? string.Create(CultureInfo.InvariantCulture, $"server at {c:F2} cores") : "server CPU unknown: waiting the whole time");
            if (cores < 0.05)
            {
                break;
            }
        }

        phase.Complete(string.Create(CultureInfo.InvariantCulture, $"waited {watch.Elapsed.TotalSeconds:F0} s"));
        return watch.Elapsed.TotalSeconds;
    }

    /// <summary>The key algorithm of the CA that signs device certificates, from the chain a running server publishes.</summary>
    private static async Task<string> IssuingCaAlgorithmAsync(Uri endpoint, CancellationToken cancellationToken)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };
        var chain = new X509Certificate2Collection();
        chain.ImportFromPem(await http.GetStringAsync(new Uri(endpoint, "/ca.pem"), cancellationToken));
        try
        {
            return chain.Count > 0 ? KeyAlgorithms.OfCertificate(chain[0]) : "ec-p256";
        }
        finally
        {
            foreach (var certificate in chain)
            {
                certificate.Dispose();
            }
        }
    }
}
