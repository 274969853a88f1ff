using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;

namespace Fleetkey.Bench;

/// <summary>How the bench starts <c>fleetkey serve</c>: the same binary and flags for every server it starts in a run.</summary>
/// <param name="MqttPort">The broker's port (on loopback); 0 leaves the broker off.</param>
internal sealed record ServerLaunch(string Dll, string DeviceKeyAlgorithm, string CaKeyAlgorithm, IReadOnlyList<string> ExtraArgs, int MqttPort = 0)
{
    /// <summary>The fleetkey.dll built next to the bench: src/Fleetkey/bin/&lt;configuration&gt;/net10.0 of the repository the bench was built in.</summary>
    public static string DefaultDll()
    {
        var configuration = typeof(ServerLaunch).Assembly
            .GetCustomAttributes(typeof(System.Reflection.AssemblyConfigurationAttribute), false)
            .OfType<System.Reflection.AssemblyConfigurationAttribute>().FirstOrDefault()?.Configuration ?? "Release";
        return Path.Combine(RepositoryRoot() ?? ".", "src", "Fleetkey", "bin", configuration, "net10.0", "fleetkey.dll");
    }

    /// <summary>The repository the bench was built in (the folder holding Fleetkey.slnx), found from the bench's own location.</summary>
    public static string? RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Fleetkey.slnx")))
            {
                return directory.FullName;
            }
        }

        return null;
    }

    /// <summary>The server's garbage collector, from its runtimeconfig.json (a setting that matters for throughput and memory).</summary>
    public string GarbageCollector()
    {
        var path = Path.ChangeExtension(Dll, ".runtimeconfig.json");
        var properties = File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path))?["runtimeOptions"]?["configProperties"] : null;
        var server = properties?["System.GC.Server"]?.GetValue<bool>() ?? false;
        var concurrent = properties?["System.GC.Concurrent"]?.GetValue<bool>() ?? true;
        return (server ? "server" : "workstation") + (concurrent ? ", concurrent" : ", non-concurrent");
    }
}

/// <summary>
/// A <c>fleetkey serve</c> the bench started: on loopback ports it picked, a data directory of its
/// own (and a PostgreSQL database when given), its output in <c>server.log</c> there. Stopped with
/// SIGTERM, as a service manager would.
/// </summary>
internal sealed partial class ServerProcess : IAsyncDisposable
{
    private const int SigTerm = 15;

    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Lock _logLock = new();
    private int? _exitCode;

    private ServerProcess(Process process, StreamWriter log, Uri endpoint, Uri tlsEndpoint, string caBundle, string logPath)
    {
        _process = process;
        _log = log;
        Endpoint = endpoint;
        TlsEndpoint = tlsEndpoint;
        CaBundle = caBundle;
        LogPath = logPath;
    }

    public Uri Endpoint { get; }

    /// <summary>The same control plane over HTTPS (the server's own certificate, trusted with <see cref="CaBundle"/>).</summary>
    public Uri TlsEndpoint { get; }

    /// <summary>DIR/ca.pem, which the server writes at start.</summary>
    public string CaBundle { get; }

    public int Pid => _process.Id;

    public string LogPath { get; }

    public static async Task<ServerProcess> StartAsync(ServerLaunch launch, string dataDirectory, string? database, CancellationToken cancellationToken)
    {
        if (!File.Exists(launch.Dll))
        {
            throw new FileNotFoundException($"{launch.Dll} does not exist: build the server (dotnet build -c Release) or give --server-dll.");
        }

        Directory.CreateDirectory(dataDirectory);
        var port = FreePort();
        var devicePort = FreePort();
        var endpoint = new Uri($"http://127.0.0.1:{port}");
        var tlsEndpoint = new Uri($"https://127.0.0.1:{FreePort()}");
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { launch.Dll, "serve", "--data", dataDirectory, "--http", $"{endpoint.ToString().TrimEnd('/')};{tlsEndpoint.ToString().TrimEnd('/')}", "--device-http", $"http://127.0.0.1:{devicePort}", "--mqtt-port", launch.MqttPort.ToString(CultureInfo.InvariantCulture), "--device-key-algorithm", launch.DeviceKeyAlgorithm, "--ca-key-algorithm", launch.CaKeyAlgorithm })
        {
            start.ArgumentList.Add(argument);
        }

        if (database is not null)
        {
            start.ArgumentList.Add("--database");
            start.ArgumentList.Add(database);
        }

        foreach (var argument in launch.ExtraArgs)
        {
            start.ArgumentList.Add(argument);
        }

        RemoveFleetkeySettings(start);
        var logPath = Path.Combine(dataDirectory, "server.log");
        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the server.");
        var server = new ServerProcess(process, log, endpoint, tlsEndpoint, Path.Combine(dataDirectory, "ca.pem"), logPath);
        process.OutputDataReceived += (_, e) => server.Log(e.Data);
        process.ErrorDataReceived += (_, e) => server.Log(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await server.WaitForHealthAsync(TimeSpan.FromMinutes(2), cancellationToken);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>SIGTERM, then up to <paramref name="timeout"/> for a clean exit (SIGKILL after); the exit code, or null when it had to be killed.</summary>
    public async Task<int?> StopAsync(TimeSpan timeout)
    {
        if (_process.HasExited)
        {
            return _exitCode ??= _process.ExitCode;
        }

        _ = Kill(_process.Id, SigTerm);
        using var wait = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(wait.Token);
            return _exitCode = _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(CancellationToken.None);
            return null;
        }
    }

    /// <summary>The last lines the server wrote, for an error message.</summary>
    public string LogTail(int lines = 20)
    {
        lock (_logLock)
        {
            _log.Flush();
        }

        try
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            return string.Join('\n', reader.ReadToEnd().Split('\n').TakeLast(lines));
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(30));
        _process.Dispose();
        lock (_logLock)
        {
            _log.Dispose();
        }
    }

    private void Log(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_logLock)
        {
            _log.WriteLine(line);
        }
    }

    private async Task WaitForHealthAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(5) };
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The server exited with code {_process.ExitCode} before it answered /health:\n{LogTail()}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(Endpoint, "/health"), cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // A slow start (a large store migrating): try again.
            }

            await Task.Delay(100, cancellationToken);
        }

        throw new TimeoutException($"The server did not answer /health within {timeout.TotalSeconds:F0} s:\n{LogTail()}");
    }

    /// <summary>
    /// Runs another <c>fleetkey</c> command (export, import) to completion, with the same clean
    /// environment as the server; <paramref name="input"/>, when given, writes its standard input.
    /// </summary>
    /// <returns>The exit code and everything it printed.</returns>
    public static async Task<(int ExitCode, string Output)> RunCommandAsync(
        string dll, IEnumerable<string> arguments, Func<Stream, Task>? input, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input is not null,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        RemoveFleetkeySettings(start);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {dll}.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        if (input is not null)
        {
            await using (var stdin = process.StandardInput.BaseStream)
            {
                await input(stdin);
            }
        }

        await process.WaitForExitAsync(cancellationToken);
        return (process.ExitCode, (await output) + (await error));
    }

    // The flags are the whole configuration: no FLEETKEY_* setting leaks in from the caller's environment.
    private static void RemoveFleetkeySettings(ProcessStartInfo start)
    {
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("FLEETKEY_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }
    }

    /// <summary>The dotnet host running the bench (so the server runs on the same runtime), else dotnet on the PATH.</summary>
    public static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
        : Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path
        : "dotnet";

    /// <summary>A loopback port free now (the OS's pick).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
