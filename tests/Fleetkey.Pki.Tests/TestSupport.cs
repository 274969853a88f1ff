using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;

namespace Fleetkey.Pki.Tests;

/// <summary>Runs the real openssl binary, as the compatibility suite and devices would.</summary>
internal static class OpenSsl
{
    private const string Path = "/usr/bin/openssl";

    public static async Task<(int ExitCode, string Output, string Error)> TryRunAsync(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo(Path)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("openssl did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }

    public static async Task<string> RunAsync(string workingDirectory, params string[] arguments)
    {
        var (exitCode, output, error) = await TryRunAsync(workingDirectory, arguments);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"openssl {string.Join(' ', arguments)} failed ({exitCode}): {error}{output}");
        }

        return output;
    }
}

internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = Directory.CreateTempSubdirectory("fleetkey-pki-").FullName;
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public async Task<string> WriteAsync(string name, string content)
    {
        await System.IO.File.WriteAllTextAsync(File(name), content);
        return File(name);
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

internal sealed class InMemoryCaMaterialStore : ICaMaterialStore
{
    public CaMaterial? Material { get; set; }

    public int Saves { get; private set; }

    public Task<CaMaterial?> LoadAsync(CancellationToken cancellationToken) => Task.FromResult(Material);

    public Task SaveAsync(CaMaterial material, CancellationToken cancellationToken)
    {
        Material = material;
        Saves++;
        return Task.CompletedTask;
    }
}

internal static class TestCa
{
    public static readonly DateTimeOffset Start = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    public static FakeTimeProvider Clock() => new(Start);

    /// <summary>A CA with EC device keys and no pool unless asked: most tests need neither RSA's cost nor a background thread.</summary>
    public static Task<CertificateAuthority> CreateAsync(
        KeyAlgorithm caKey = KeyAlgorithm.EcP256,
        KeyAlgorithm deviceKey = KeyAlgorithm.EcP256,
        TimeProvider? time = null,
        ICaMaterialStore? store = null,
        Action<PkiOptions>? configure = null)
    {
        var options = new PkiOptions { CaKeyAlgorithm = caKey, DeviceKeyAlgorithm = deviceKey, KeyPoolSize = 0 };
        configure?.Invoke(options);
        return CertificateAuthority.LoadOrCreateAsync(store ?? new InMemoryCaMaterialStore(), options, time ?? TimeProvider.System, CancellationToken.None);
    }
}
