using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Fleetkey.Testing;
using Xunit;

namespace Fleetkey.Client.Tests.Integration;

/// <summary>
/// A real <c>fleetkey serve</c> process (this build's fleetkey.dll) on loopback ports with its own
/// data directory and root key, as the compatibility suites run it: started when the test class
/// starts, stopped with SIGTERM when it ends. The server log is kept next to the data directory and
/// printed when the server fails to start.
/// </summary>
public sealed class FleetkeyServer : IAsyncLifetime
{
    public const string Region = "eu-west-1";
    public const string AccountId = "000000000000";
    public const string AccessKeyId = "AKIDFLEETKEYCLIENT01";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);

    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("fleetkey-client-").FullName;
    private readonly StringBuilder _log = new();
    private readonly Lock _logLock = new();
    private readonly List<HttpClient> _httpClients = [];
    private readonly Lock _httpClientsLock = new();
    private Process? _process;

    public string SecretAccessKey { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));

    public Uri Endpoint { get; private set; } = null!;

    /// <summary>The same control plane over HTTPS, with the certificate Fleetkey's CA issues.</summary>
    public Uri TlsEndpoint { get; private set; } = null!;

    /// <summary>DIR/ca.pem, which the server writes at each start: the CA its HTTPS listeners chain to.</summary>
    public string CaBundle => Path.Combine(_dataDirectory, "data", "ca.pem");

    /// <summary>The exit code after SIGTERM, once the server has stopped.</summary>
    public int? ExitCode { get; private set; }

    public static string RepositoryRoot => RepositoryFiles.Root;

    public static string Arn(string kind, string name) => $"arn:aws:iot:{Region}:{AccountId}:{kind}/{name}";

    /// <summary>A client of this server signing with the root key (or <paramref name="secret"/>), with fast retries.</summary>
    public IotClient CreateClient(string? secret = null, HttpMessageHandler? handler = null, int maxAttempts = 3)
    {
        var http = new HttpClient(handler ?? new SocketsHttpHandler());
        lock (_httpClientsLock)
        {
            _httpClients.Add(http);
        }

        return new IotClient(
            http,
            new IotClientOptions
            {
                Endpoint = Endpoint,
                Region = Region,
                AccessKeyId = AccessKeyId,
                SecretAccessKey = secret ?? SecretAccessKey,
                MaxAttempts = maxAttempts,
                BaseRetryDelay = TimeSpan.FromMilliseconds(20),
            });
    }

    public async Task InitializeAsync()
    {
        var dll = Environment.GetEnvironmentVariable("FLEETKEY_DLL") is { Length: > 0 } configured
            ? configured
            : Path.Combine(RepositoryRoot, "src", "Fleetkey", "bin", BuildConfiguration(), "net10.0", "fleetkey.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: build the solution first (dotnet build Fleetkey.slnx -c Release) or set FLEETKEY_DLL.");

        var port = FreePort();
        Endpoint = new Uri($"http://127.0.0.1:{port}");
        TlsEndpoint = new Uri($"https://127.0.0.1:{FreePort()}");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _dataDirectory,
            ArgumentList =
            {
                dll, "serve", "--data", Path.Combine(_dataDirectory, "data"), "--http", $"{Endpoint.ToString().TrimEnd('/')};{TlsEndpoint.ToString().TrimEnd('/')}",
                "--device-http", $"http://127.0.0.1:{FreePort()}", "--mqtt-port", "0",
            },
            Environment =
            {
                ["FLEETKEY_ROOT_ACCESS_KEY_ID"] = AccessKeyId,
                ["FLEETKEY_ROOT_SECRET_ACCESS_KEY"] = SecretAccessKey,
                ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
                ["DOTNET_NOLOGO"] = "1",
            },
        };
        _process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        _process.OutputDataReceived += (_, e) => AppendLog(e.Data);
        _process.ErrorDataReceived += (_, e) => AppendLog(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        string last = "no answer";
        while (deadline.Elapsed < StartTimeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"fleetkey serve exited with {_process.ExitCode} before /health answered 200.\n{Log}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(Endpoint, "/health"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }

                last = $"HTTP {(int)response.StatusCode}";
            }
            catch (HttpRequestException exception)
            {
                last = exception.Message;
            }
            catch (TaskCanceledException)
            {
                last = "timeout";
            }

            await Task.Delay(200);
        }

        throw new InvalidOperationException($"GET /health did not answer 200 within {StartTimeout} (last: {last}).\n{Log}");
    }

    public async Task DisposeAsync()
    {
        lock (_httpClientsLock)
        {
            _httpClients.ForEach(h => h.Dispose());
        }

        await StopAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    /// <summary>Sends SIGTERM and waits for the exit (SIGKILL after 15 s).</summary>
    public async Task StopAsync()
    {
        if (_process is null || ExitCode is not null)
        {
            return;
        }

        if (!_process.HasExited)
        {
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            using var timeout = new CancellationTokenSource(StopTimeout);
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        ExitCode = _process.ExitCode;
        _process.Dispose();
    }

    private string Log
    {
        get
        {
            lock (_logLock)
            {
                return _log.ToString();
            }
        }
    }

    private void AppendLog(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_logLock)
        {
            // Enough to see why a start failed; a long run's log is not kept in memory.
            if (_log.Length < 256 * 1024)
            {
                _log.AppendLine(line);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string BuildConfiguration() =>
        typeof(FleetkeyServer).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "Configuration").Value!;
}
