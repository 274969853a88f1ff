using System.Diagnostics;
using Fleetkey.Client.Tests.Integration;
using Xunit;

namespace Fleetkey.Client.Tests;

/// <summary>The generated client is current, and every one of its operations is exercised against a real server.</summary>
public sealed class GeneratedCodeTests
{
    [Fact]
    public async Task Generator_Check_GeneratedFilesAreCurrent()
    {
        var start = new ProcessStartInfo("python3")
        {
            ArgumentList = { Path.Combine(FleetkeyServer.RepositoryRoot, "tools", "generate-contracts.py"), "--check" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.True(process.ExitCode == 0, output + error);
    }

    [Fact]
    public void Client_Operations_AreTheOperationsTheServerMaps()
    {
        var mapped = Directory.EnumerateFiles(Path.Combine(FleetkeyServer.RepositoryRoot, "src", "Fleetkey.Api", "Endpoints"), "*.cs")
            .SelectMany(f => System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(f), "MapAws\\(\"(\\w+)\"").Select(m => m.Groups[1].Value))
            .Order(StringComparer.Ordinal);

        var methods = typeof(IIotClient).GetMethods().Select(m => m.Name[..^"Async".Length]).Order(StringComparer.Ordinal);

        Assert.Equal(mapped, methods);
    }

    [Fact]
    public void IntegrationTests_CallEveryClientMethod()
    {
        var sources = string.Concat(Directory.EnumerateFiles(Path.Combine(FleetkeyServer.RepositoryRoot, "tests", "Fleetkey.Client.Tests", "Integration"), "*.cs").Select(File.ReadAllText));

        var uncalled = typeof(IIotClient).GetMethods()
            .Select(m => m.Name)
            .Where(name => !sources.Contains("." + name + "(", StringComparison.Ordinal))
            .ToList();

        Assert.True(uncalled.Count == 0, "not called by any integration test: " + string.Join(", ", uncalled));
    }
}
