using System.CommandLine;
using System.Globalization;

namespace Fleetkey.Bench;

/// <summary>Everything a run was told, with the full-run or <c>--quick</c> defaults filled in.</summary>
internal sealed record BenchOptions
{
    public static readonly string[] AllScenarios = ["seed-register", "seed-register-provisioner", "seed-register-https", "seed-unregister", "csr", "describe", "list", "mqtt-connect", "mqtt-publish", "fleet-provisioning", "ocsp"];

    public Uri? Endpoint { get; init; }
    public string CredentialsPath { get; init; } = "./fleetkey-data/credentials";
    public string Region { get; init; } = "us-east-1";
    public int? ServerPid { get; init; }
    public bool StartServer { get; init; }
    public string? ServerDll { get; init; }
    public string? Database { get; init; }
    public string DeviceKeyAlgorithm { get; init; } = "rsa-2048";
    public string CaKeyAlgorithm { get; init; } = "ec-p256";
    public IReadOnlyList<string> ServerArgs { get; init; } = [];
    public IReadOnlyList<string> Scenarios { get; init; } = AllScenarios;
    public int Concurrency { get; init; }
    public TimeSpan Duration { get; init; }
    public TimeSpan Warmup { get; init; }
    public TimeSpan Settle { get; init; }
    public TimeSpan RequestTimeout { get; init; }
    public int? Devices { get; init; }
    public int Things { get; init; }
    public string Fill { get; init; } = "auto";
    public int FillConcurrency { get; init; }
    public TimeSpan CeilingDuration { get; init; }
    public bool Quick { get; init; }
    public string? JsonPath { get; init; }
    public bool KeepData { get; init; }
    public int? MqttPort { get; init; }
    public int MqttDevices { get; init; }
    public bool MqttCollector { get; init; } = true;

    /// <summary>Whether an MQTT scenario runs (the server's broker is then needed).</summary>
    public bool RunsMqtt => Runs("mqtt-connect") || Runs("mqtt-publish") || Runs("fleet-provisioning");

    public bool Runs(string scenario) => Scenarios.Contains(scenario, StringComparer.Ordinal);

    /// <summary>The command line: every flag and its default in one place.</summary>
    public static RootCommand CreateCommand(Func<BenchOptions, CancellationToken, Task<int>> run)
    {
        var endpoint = new Option<Uri?>("--endpoint")
        {
            Description = "Control-plane URL of a running `fleetkey serve` to drive (instead of --start-server).",
            CustomParser = result =>
            {
                var text = result.Tokens.Single().Value;
                if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
                {
                    return uri;
                }

                result.AddError($"--endpoint: '{text}' is not an http(s) URL.");
                return null;
            },
        };
        var credentials = new Option<string>("--credentials") { Description = "AWS shared-credentials file with the server's access key ([default] profile); the server writes one in its data directory.", DefaultValueFactory = _ => "./fleetkey-data/credentials" };
        var region = new Option<string>("--region") { Description = "Region the requests are signed for.", DefaultValueFactory = _ => "us-east-1" };
        var serverPid = new Option<int?>("--server-pid") { Description = "Process id of the server given by --endpoint, to report its CPU and memory (read from /proc)." };
        var startServer = new Option<bool>("--start-server") { Description = "Start `fleetkey serve` on a fresh data directory and loopback ports, and stop it (SIGTERM) at the end." };
        var serverDll = new Option<string?>("--server-dll") { Description = "fleetkey.dll to start (default: the one built with the bench, src/Fleetkey/bin/<configuration>/net10.0)." };
        var database = new Option<string?>("--database") { Description = "With --start-server: serve from this empty PostgreSQL database (postgres:// URL) instead of SQLite." };
        var deviceKeys = new Option<string>("--device-key-algorithm") { Description = "With --start-server: keys CreateKeysAndCertificate makes, rsa-2048 (the server's default) or ec-p256. Chooses seed-register's ceiling.", DefaultValueFactory = _ => "rsa-2048" };
        deviceKeys.AcceptOnlyFromAmong("rsa-2048", "ec-p256");
        var caKeys = new Option<string>("--ca-key-algorithm") { Description = "With --start-server: the new CA's key, ec-p256 (the server's default), ec-p384 or rsa-2048. The ceilings sign with the same kind of key.", DefaultValueFactory = _ => "ec-p256" };
        caKeys.AcceptOnlyFromAmong("ec-p256", "ec-p384", "rsa-2048");
        var serverArgs = new Option<string?>("--server-args") { Description = "With --start-server: more `fleetkey serve` flags, as one string split at spaces (e.g. \"--device-validity-days 365\")." };
        var scenarios = new Option<string>("--scenarios") { Description = $"Comma-separated scenarios to run, in this order: {string.Join(',', AllScenarios)}.", DefaultValueFactory = _ => string.Join(',', AllScenarios) };
        scenarios.Validators.Add(result =>
        {
            var unknown = Split(result.GetValueOrDefault<string>() ?? string.Empty).Where(s => !AllScenarios.Contains(s, StringComparer.Ordinal)).ToList();
            if (unknown.Count > 0)
            {
                result.AddError($"Unknown scenario(s) {string.Join(", ", unknown)}; known: {string.Join(", ", AllScenarios)}.");
            }
        });
        var concurrency = new Option<int?>("--concurrency") { Description = "Requests in flight at once (workers, each over a kept-alive connection). Default 64; 4 with --quick." };
        var duration = DurationOption("--duration", "How long each scenario is measured, e.g. 60s, 500ms, 2m. Default 60s; 2s with --quick.");
        var warmup = DurationOption("--warmup", "Load before each measurement, not counted (JIT, connections, caches). Default 5s; 0.5s with --quick.");
        var settle = DurationOption("--settle", "Before each measurement, wait at most this long for the server to go idle (under 5% of a core for 1 s): lets a background key pool refill. Default 0.");
        var requestTimeout = DurationOption("--request-timeout", "A request not answered within this counts as an error (as an SDK's timeout would). Default 60s.");
        var devices = new Option<int?>("--devices") { Description = "Run seed-register (and its -provisioner and -https variants) and csr for exactly this many devices/certificates (a burst) instead of for --duration; also how many devices seed-unregister registers first when seed-register did not run (default 2,000; 50 with --quick)." };
        var things = new Option<int?>("--things") { Description = "Things in the registry describe and list read (bench-0000000 …). Default 1,000,000; 2,000 with --quick." };
        var fill = new Option<string>("--fill") { Description = "How the registry is filled: import (a generated `fleetkey import`, before the server starts; needs --start-server), api (CreateThing through the API) or auto (import when the bench starts the server).", DefaultValueFactory = _ => "auto" };
        fill.AcceptOnlyFromAmong("auto", "import", "api");
        var fillConcurrency = new Option<int?>("--fill-concurrency") { Description = "Requests in flight while filling through the API. Default 64." };
        var ceilingDuration = DurationOption("--ceiling-duration", "How long each in-process ceiling (crypto, client only) is measured; RSA key generation twice as long. Default 5s; 1s with --quick.");
        var quick = new Option<bool>("--quick") { Description = "Smoke test: a few seconds per scenario, 2,000 things, small device counts. Exits non-zero if a scenario has errors or does not complete." };
        var json = new Option<string?>("--json") { Description = "Also write the results, machine and settings to this JSON file." };
        var keepData = new Option<bool>("--keep-data") { Description = "With --start-server: keep the data directory (and the server log) instead of deleting it." };
        var mqttPort = new Option<int?>("--mqtt-port") { Description = "With --endpoint: the MQTT broker's port on the endpoint's host (default 8883). With --start-server the bench picks a free loopback port and starts the broker on it when an MQTT scenario runs." };
        var mqttDevices = new Option<int?>("--mqtt-devices") { Description = "Devices mqtt-connect provisions (untimed) and connects as in turn, each used by one connection at a time. Default twice --concurrency; at least --concurrency." };
        var noCollector = new Option<bool>("--no-mqtt-collector") { Description = "mqtt-publish without the collector device that subscribes to every device's topic (then no delivery and no iot:Receive check)." };

        var command = new RootCommand(
            "Drives a `fleetkey serve` through its public AWS IoT API with Fleetkey.Client (SigV4, kept-alive connections) and prints throughput, latency " +
            "percentiles and errors per scenario, each next to the machine's own crypto ceiling measured in the same run.")
        {
            endpoint, credentials, region, serverPid, startServer, serverDll, database, deviceKeys, caKeys, serverArgs, scenarios, concurrency,
            duration, warmup, settle, requestTimeout, devices, things, fill, fillConcurrency, ceilingDuration, quick, json, keepData, mqttPort, mqttDevices, noCollector,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(startServer) == (result.GetValue(endpoint) is not null))
            {
                result.AddError("Give either --start-server or --endpoint (with --credentials).");
            }

            if (result.GetValue(concurrency) is < 1 || result.GetValue(fillConcurrency) is < 1 || result.GetValue(devices) is < 1)
            {
                result.AddError("--concurrency, --fill-concurrency and --devices must be at least 1.");
            }

            // list starts a page of 100 at a random thing and expects 100 after it.
            if (result.GetValue(things) is < 200)
            {
                result.AddError("--things must be at least 200.");
            }

            if (result.GetValue(mqttDevices) is { } count && count < (result.GetValue(concurrency) ?? (result.GetValue(quick) ? 4 : 64)))
            {
                result.AddError("--mqtt-devices must be at least --concurrency: mqtt-connect never connects one device twice at once.");
            }

            if (result.GetValue(mqttPort) is not null && result.GetValue(startServer))
            {
                result.AddError("--mqtt-port is for --endpoint: with --start-server the bench picks the broker's port.");
            }

            if (result.GetValue(fill) == "import" && !result.GetValue(startServer))
            {
                result.AddError("--fill import needs --start-server: the registry is imported before the server starts.");
            }
        });

        command.SetAction((parse, cancellationToken) =>
        {
            var isQuick = parse.GetValue(quick);
            var inFlight = parse.GetValue(concurrency) ?? (isQuick ? 4 : 64);
            var options = new BenchOptions
            {
                Endpoint = parse.GetValue(endpoint),
                CredentialsPath = parse.GetValue(credentials)!,
                Region = parse.GetValue(region)!,
                ServerPid = parse.GetValue(serverPid),
                StartServer = parse.GetValue(startServer),
                ServerDll = parse.GetValue(serverDll),
                Database = parse.GetValue(database),
                DeviceKeyAlgorithm = parse.GetValue(deviceKeys)!,
                CaKeyAlgorithm = parse.GetValue(caKeys)!,
                ServerArgs = parse.GetValue(serverArgs)?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [],
                Scenarios = AllScenarios.Where(Split(parse.GetValue(scenarios)!).Contains).ToArray(),
                Concurrency = inFlight,
                Duration = parse.GetValue(duration) ?? TimeSpan.FromSeconds(isQuick ? 2 : 60),
                Warmup = parse.GetValue(warmup) ?? TimeSpan.FromSeconds(isQuick ? 0.5 : 5),
                Settle = parse.GetValue(settle) ?? TimeSpan.Zero,
                RequestTimeout = parse.GetValue(requestTimeout) ?? TimeSpan.FromSeconds(60),
                Devices = parse.GetValue(devices),
                Things = parse.GetValue(things) ?? (isQuick ? 2_000 : 1_000_000),
                Fill = parse.GetValue(fill)!,
                FillConcurrency = parse.GetValue(fillConcurrency) ?? 64,
                CeilingDuration = parse.GetValue(ceilingDuration) ?? TimeSpan.FromSeconds(isQuick ? 1 : 5),
                Quick = isQuick,
                JsonPath = parse.GetValue(json),
                KeepData = parse.GetValue(keepData),
                MqttPort = parse.GetValue(mqttPort),
                MqttDevices = parse.GetValue(mqttDevices) ?? 2 * inFlight,
                MqttCollector = !parse.GetValue(noCollector),
            };
            return run(options, cancellationToken);
        });
        return command;
    }

    /// <summary>How many devices seed-unregister registers for itself when seed-register did not run before it.</summary>
    public int UnregisterDevices => Devices ?? (Quick ? 50 : 2_000);

    private static string[] Split(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static Option<TimeSpan?> DurationOption(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = result =>
        {
            var text = result.Tokens.Single().Value;
            if (TryParseDuration(text, out var value))
            {
                return value;
            }

            result.AddError($"{name}: '{text}' is not a duration (e.g. 60s, 500ms, 2m).");
            return null;
        },
    };

    internal static bool TryParseDuration(string text, out TimeSpan value)
    {
        (string Suffix, double Seconds)[] units = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)];
        foreach (var (suffix, seconds) in units)
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal)
                && double.TryParse(text[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && number >= 0)
            {
                value = TimeSpan.FromSeconds(number * seconds);
                return true;
            }
        }

        var plain = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var bare) && bare >= 0;
        value = plain ? TimeSpan.FromSeconds(bare) : TimeSpan.Zero;
        return plain;
    }
}
