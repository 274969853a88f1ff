using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Fleetkey.Testing;

// Drives a running Fleetkey through its public API, as clients would, and prints throughput and
// latency percentiles per scenario. Usage:
//   fleetkey-bench --endpoint http://127.0.0.1:5080 --credentials DIR/credentials [--things 100000] [--devices 2000]
//                  [--concurrency 16] [--seconds 10] [--template ../shared/seed/register-thing-template-body.json]
var options = BenchOptions.Parse(args);
var (keyId, secret) = BenchOptions.ReadCredentials(options.CredentialsPath);
using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = options.Concurrency * 2, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
using var client = new HttpClient(new SigningHandler(new SigV4Signer(keyId, secret, "us-east-1", () => DateTimeOffset.UtcNow)) { InnerHandler = handler })
{
    BaseAddress = new Uri(options.Endpoint),
};

Console.WriteLine($"# Fleetkey bench: {options.Endpoint}, concurrency {options.Concurrency}, {Environment.ProcessorCount} cores");
Console.WriteLine();
Console.WriteLine("| scenario | requests | errors | req/s | p50 ms | p95 ms | p99 ms |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");

var prefix = "bench-" + DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture) + "-";
await Send(client, HttpMethod.Post, "/thing-types/BenchSensor", "{}");

// 1. Fill the registry through CreateThing (every thing with two attributes, every tenth with a type).
var create = await Scenario.RunCountAsync($"CreateThing (fill to {options.Things:N0})", options.Things, options.Concurrency, async i =>
{
    var type = i % 10 == 0 ? "\"thingTypeName\":\"BenchSensor\"," : string.Empty;
    var body = $"{{{type}\"attributePayload\":{{\"attributes\":{{\"serial\":\"SN{i:D7}\",\"site\":\"site-{i % 100:D3}\"}}}}}}";
    return await Send(client, HttpMethod.Post, $"/things/{prefix}{i:D7}", body);
});
create.Print();

var random = new ThreadLocal<Random>(() => new Random(Environment.CurrentManagedThreadId));
(await Scenario.RunForAsync($"DescribeThing (random of {options.Things:N0})", options.Duration, options.Concurrency, _ =>
    Send(client, HttpMethod.Get, $"/things/{prefix}{random.Value!.Next(options.Things):D7}"))).Print();

(await Scenario.RunForAsync("ListThings (page of 100 from a random start)", options.Duration, options.Concurrency, async _ =>
{
    // A page that starts in the middle: the token of the thing before a random one.
    var token = Convert.ToBase64String(Encoding.UTF8.GetBytes($"fk1\n{prefix}{random.Value!.Next(options.Things):D7}"));
    return await Send(client, HttpMethod.Get, "/things?maxResults=100&nextToken=" + Uri.EscapeDataString(token));
})).Print();

(await Scenario.RunForAsync("ListThings (attribute serial = random value)", options.Duration, options.Concurrency, _ =>
    Send(client, HttpMethod.Get, $"/things?attributeName=serial&attributeValue=SN{random.Value!.Next(options.Things):D7}"))).Print();

(await Scenario.RunForAsync("ListThings (type BenchSensor, page of 100)", options.Duration, options.Concurrency, _ =>
    Send(client, HttpMethod.Get, "/things?thingTypeName=BenchSensor&maxResults=100"))).Print();

(await Scenario.RunForAsync("UpdateThing (merge one attribute)", options.Duration, options.Concurrency, _ =>
    Send(client, HttpMethod.Patch, $"/things/{prefix}{random.Value!.Next(options.Things):D7}", "{\"attributePayload\":{\"attributes\":{\"fw\":\"1.2.3\"},\"merge\":true}}"))).Print();

// The seed's flows: provisioning by CreateKeysAndCertificate + RegisterThing, then deprovisioning.
var template = File.ReadAllText(options.TemplatePath);
await Send(client, HttpMethod.Post, "/thing-types/NewDevice", "{}");
await Send(client, HttpMethod.Post, "/thing-groups/NewDevices", "{}");
var policyDocument = """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]}""";
await Send(client, HttpMethod.Post, "/policies/DefaultNewDevicePolicy", new JsonObject { ["policyDocument"] = policyDocument }.ToJsonString());
var serialPrefix = prefix + "sn-";
var certificateIds = new string[options.Devices];
(await Scenario.RunCountAsync($"Seed registration: CreateKeysAndCertificate + RegisterThing ({options.Devices:N0})", options.Devices, options.Concurrency, async i =>
{
    var keys = await SendJson(client, HttpMethod.Post, "/keys-and-certificate?setAsActive=true", null);
    if (keys is null)
    {
        return false;
    }

    certificateIds[i] = keys["certificateId"]!.GetValue<string>();
    var body = new JsonObject
    {
        ["templateBody"] = template,
        ["parameters"] = new JsonObject { ["ThingName"] = $"{serialPrefix}{i:D6}", ["SerialNumber"] = $"{serialPrefix}{i:D6}", ["CertificateId"] = certificateIds[i] },
    };
    return await SendJson(client, HttpMethod.Post, "/things", body.ToJsonString()) is not null;
})).Print();

(await Scenario.RunCountAsync($"Seed deprovisioning: 5 calls per device ({options.Devices:N0})", options.Devices, options.Concurrency, async i =>
{
    var thing = $"{serialPrefix}{i:D6}";
    var principals = await SendJson(client, HttpMethod.Get, $"/things/{thing}/principals", null);
    if (principals is null)
    {
        return false;
    }

    foreach (var principal in principals["principals"]!.AsArray().Select(p => p!.GetValue<string>()))
    {
        var id = principal[(principal.LastIndexOf('/') + 1)..];
        using var detach = new HttpRequestMessage(HttpMethod.Delete, $"/things/{thing}/principals");
        detach.Headers.Add("x-amzn-principal", principal);
        using var detached = await client.SendAsync(detach);
        if (!detached.IsSuccessStatusCode
            || !await Send(client, HttpMethod.Put, $"/certificates/{id}?newStatus=INACTIVE")
            || !await Send(client, HttpMethod.Delete, $"/certificates/{id}?forceDelete=true"))
        {
            return false;
        }
    }

    return await Send(client, HttpMethod.Delete, $"/things/{thing}");
})).Print();

// CSR signing: EC P-256 CSRs made up front, so the client's key generation is not measured.
var csrs = Enumerable.Range(0, Math.Min(options.Devices, 2000)).Select(i =>
{
    using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
    var request = new System.Security.Cryptography.X509Certificates.CertificateRequest($"CN=bench-{i}", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
    return request.CreateSigningRequestPem();
}).ToArray();
(await Scenario.RunCountAsync($"CreateCertificateFromCsr (EC P-256 CSRs, {csrs.Length:N0})", csrs.Length, options.Concurrency, i =>
    Send(client, HttpMethod.Post, "/certificates?setAsActive=true", new JsonObject { ["certificateSigningRequest"] = csrs[i] }.ToJsonString()))).Print();

return 0;

static async Task<JsonNode?> SendJson(HttpClient client, HttpMethod method, string path, string? body)
{
    using var request = new HttpRequestMessage(method, path);
    if (body is not null)
    {
        request.Content = new StringContent(body, Encoding.UTF8, "application/json");
    }

    using var response = await client.SendAsync(request);
    var text = await response.Content.ReadAsStringAsync();
    return response.StatusCode == HttpStatusCode.OK ? JsonNode.Parse(text) : null;
}

static async Task<bool> Send(HttpClient client, HttpMethod method, string path, string? body = null)
{
    using var request = new HttpRequestMessage(method, path);
    if (body is not null)
    {
        request.Content = new StringContent(body, Encoding.UTF8, "application/json");
    }

    using var response = await client.SendAsync(request);
    await response.Content.LoadIntoBufferAsync();
    return response.StatusCode == HttpStatusCode.OK;
}

internal sealed record BenchOptions(string Endpoint, string CredentialsPath, int Things, int Devices, int Concurrency, TimeSpan Duration, string TemplatePath)
{
    public static BenchOptions Parse(string[] args)
    {
        string Get(string name, string fallback)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }

        return new BenchOptions(
            Get("--endpoint", "http://127.0.0.1:5080"),
            Get("--credentials", "./fleetkey-data/credentials"),
            int.Parse(Get("--things", "100000"), CultureInfo.InvariantCulture),
            int.Parse(Get("--devices", "2000"), CultureInfo.InvariantCulture),
            int.Parse(Get("--concurrency", "16"), CultureInfo.InvariantCulture),
            TimeSpan.FromSeconds(double.Parse(Get("--seconds", "10"), CultureInfo.InvariantCulture)),
            Get("--template", "../shared/seed/register-thing-template-body.json"));
    }

    public static (string KeyId, string Secret) ReadCredentials(string path)
    {
        var lines = File.ReadAllLines(path);
        string Value(string key) => lines.First(l => l.StartsWith(key, StringComparison.Ordinal)).Split('=', 2)[1].Trim();
        return (Value("aws_access_key_id"), Value("aws_secret_access_key"));
    }
}

internal sealed class Scenario(string name)
{
    private readonly List<double> _latencies = [];
    private int _errors;
    private TimeSpan _elapsed;

    public static async Task<Scenario> RunCountAsync(string name, int count, int concurrency, Func<int, Task<bool>> operation)
    {
        var scenario = new Scenario(name);
        var next = -1;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                await scenario.TimeAsync(() => operation(i));
            }
        }));
        scenario._elapsed = watch.Elapsed;
        return scenario;
    }

    public static async Task<Scenario> RunForAsync(string name, TimeSpan duration, int concurrency, Func<int, Task<bool>> operation)
    {
        var scenario = new Scenario(name);
        var watch = Stopwatch.StartNew();
        var n = 0;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (watch.Elapsed < duration)
            {
                await scenario.TimeAsync(() => operation(Interlocked.Increment(ref n)));
            }
        }));
        scenario._elapsed = watch.Elapsed;
        return scenario;
    }

    private async Task TimeAsync(Func<Task<bool>> operation)
    {
        var start = Stopwatch.GetTimestamp();
        var ok = await operation();
        var ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        lock (_latencies)
        {
            _latencies.Add(ms);
            if (!ok)
            {
                _errors++;
            }
        }
    }

    public void Print()
    {
        _latencies.Sort();
        double P(double q) => _latencies.Count == 0 ? 0 : _latencies[Math.Min(_latencies.Count - 1, (int)(q * _latencies.Count))];
        var rate = _latencies.Count / _elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {_latencies.Count} | {_errors} | {rate:F0} | {P(0.50):F2} | {P(0.95):F2} | {P(0.99):F2} |"));
    }
}
