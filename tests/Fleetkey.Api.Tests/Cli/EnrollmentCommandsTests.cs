using System.CommandLine;
using System.Text;
using Fleetkey.Cli;
using Fleetkey.Pki;
using Fleetkey.Services.Provisioning;
using Fleetkey.Storage.Sqlite;
using Fleetkey.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Fleetkey.Api.Tests.Cli;

/// <summary><c>fleetkey enrollments …</c> run in process against a data directory, as an operator runs them.</summary>
public sealed class EnrollmentCommandsTests : IDisposable
{
    private static readonly string GivenSecret = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)(i + 1)).ToArray());
    private readonly TempDirectory _directory = new();
    private readonly InMemoryTemplateResolver _templates = new InMemoryTemplateResolver().Add("factory");

    private string DataDirectory => Path.Combine(_directory.Path, "data");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }

    /// <summary>Runs a command on the test's fleet, made first as `fleetkey serve` or `migrate` would make it.</summary>
    private async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        var database = Path.Combine(DataDirectory, "fleetkey.db");
        if (!File.Exists(database))
        {
            Directory.CreateDirectory(DataDirectory);
            using var store = new SqliteFleetStore(database);
            await store.InitializeAsync(TimeProvider.System, CancellationToken.None);
        }

        return await RunWithoutFleetAsync(args);
    }

    private async Task<(int Code, string Output, string Error)> RunWithoutFleetAsync(params string[] args)
    {
        var root = new RootCommand();
        root.Subcommands.Add(EnrollmentCommands.Create(s => s.AddSingleton<IProvisioningTemplateResolver>(_templates)));
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }

    private async Task<IReadOnlyList<DeviceEnrollment>> ResolveAsync(string serial)
    {
        using var store = new SqliteFleetStore(Path.Combine(DataDirectory, "fleetkey.db"));
        return await new EnrollmentResolver(store, new PassphraseSealer(null), new("eu-west-1", "000000000000")).ResolveAsync(serial, CancellationToken.None);
    }

    private string WriteCsv(params string[] lines)
    {
        Directory.CreateDirectory(_directory.Path);
        var path = Path.Combine(_directory.Path, "run-7.csv");
        File.WriteAllLines(path, lines);
        return path;
    }

    [Theory]
    [InlineData("list")]
    [InlineData("get", "SN-1")]
    [InlineData("create", "SN-1", "--template", "factory")]
    [InlineData("delete", "SN-1")]
    [InlineData("group", "list")]
    [InlineData("group", "create", "line-2", "--template", "factory")]
    public async Task AnyCommand_NoFleetInTheDataDirectory_FailsWithOneLineAndMakesNothing(params string[] command)
    {
        var (code, output, error) = await RunWithoutFleetAsync(["enrollments", .. command, "--data", DataDirectory]);

        Assert.Equal(2, code);
        Assert.Equal(string.Empty, output);
        Assert.Equal($"fleetkey: no fleet at {DataDirectory} (run `fleetkey serve` first or pass --data){Environment.NewLine}", error);
        Assert.False(Directory.Exists(DataDirectory));
    }

    [Fact]
    public async Task Import_FileWithBadLines_ReportsEveryBadLineAndImportsNothing()
    {
        var csv = WriteCsv(
            "# production run 7",
            "serialNumber,secret",
            "SN-0001",
            $"SN-0002, {GivenSecret}",
            "bad serial!",
            "SN-0003,bm90IDMyIGJ5dGVz",
            "SN-0001",
            "SN-0004,a,b",
            "",
            "SN-0005,");

        var (code, output, error) = await RunAsync("enrollments", "import", csv, "--template", "factory", "--data", DataDirectory, "--param", "Site=plant-1");

        Assert.Equal(1, code);
        Assert.Contains("4 bad lines of 7; nothing was imported", output, StringComparison.Ordinal);
        Assert.Contains("line 5: invalid serial number", error, StringComparison.Ordinal);
        Assert.Contains("line 6: the secret is not 32 bytes of base64", error, StringComparison.Ordinal);
        Assert.Contains("line 7: serial number SN-0001 is repeated (first on line 3)", error, StringComparison.Ordinal);
        Assert.Contains("line 8: expected serial[,secret], found 3 fields", error, StringComparison.Ordinal);
        Assert.DoesNotContain("bm90IDMyIGJ5dGVz", error, StringComparison.Ordinal);
        Assert.DoesNotContain(GivenSecret, error + output, StringComparison.Ordinal);
        Assert.True(error.IndexOf("line 5:", StringComparison.Ordinal) < error.IndexOf("line 8:", StringComparison.Ordinal), "errors are reported in line order");
        Assert.Empty(await ResolveAsync("SN-0001"));
        Assert.Empty(await ResolveAsync("SN-0002"));
        Assert.False(File.Exists(Path.Combine(_directory.Path, "run-7.secrets.csv")), "nothing was imported, so no secrets file");
    }

    [Fact]
    public async Task Import_GoodFile_ImportsEveryLineAndWritesTheGeneratedSecrets()
    {
        var csv = WriteCsv(
            "# production run 7",
            "serialNumber,secret",
            "SN-0001",
            $"SN-0002, {GivenSecret}",
            "",
            "SN-0005,");

        var (code, output, _) = await RunAsync("enrollments", "import", csv, "--template", "factory", "--data", DataDirectory, "--param", "Site=plant-1");

        Assert.Equal(0, code);
        Assert.Contains("Imported 3 enrollments (0 already enrolled, 0 failed)", output, StringComparison.Ordinal);

        // The generated secrets are in an owner-only CSV beside the input, and they are the ones enrolled.
        var secretsPath = Path.Combine(_directory.Path, "run-7.secrets.csv");
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(secretsPath));
        }

        var secrets = File.ReadAllLines(secretsPath);
        Assert.Equal("serialNumber,deviceSecret", secrets[0]);
        Assert.Equal(["SN-0001", "SN-0005"], secrets.Skip(1).Select(l => l.Split(',')[0]));
        foreach (var line in secrets.Skip(1))
        {
            var fields = line.Split(',');
            var resolved = Assert.Single(await ResolveAsync(fields[0]));
            Assert.Equal(Convert.FromBase64String(fields[1]), resolved.DeviceSecret);
            Assert.Equal("plant-1", resolved.Parameters["Site"]);
        }

        Assert.Equal(Convert.FromBase64String(GivenSecret), Assert.Single(await ResolveAsync("SN-0002")).DeviceSecret);
    }

    [Fact]
    public async Task Import_InvalidUtf8_IsRefusedWithItsLineNumberAndImportsNothing()
    {
        Directory.CreateDirectory(_directory.Path);
        var csv = Path.Combine(_directory.Path, "latin1.csv");
        await File.WriteAllBytesAsync(csv, [.. "SN-0001\nSN-0002\n"u8, .. "SN-Gr"u8, 0xfc, .. "n\nSN-0003\n"u8]);

        var (code, output, error) = await RunAsync("enrollments", "import", csv, "--template", "factory", "--data", DataDirectory);

        Assert.Equal(1, code);
        Assert.Contains("line 3: the line is not valid UTF-8", error, StringComparison.Ordinal);
        Assert.Contains("nothing was imported", output, StringComparison.Ordinal);
        Assert.Empty(await ResolveAsync("SN-0001"));
    }

    [Fact]
    public async Task Import_EndlessLine_IsRefusedWithoutReadingItWhole()
    {
        Directory.CreateDirectory(_directory.Path);
        var csv = Path.Combine(_directory.Path, "endless.csv");
        await using (var file = File.Create(csv))
        {
            await file.WriteAsync("SN-0001\n"u8.ToArray());
            var chunk = Enumerable.Repeat((byte)'x', 1 << 20).ToArray();
            for (var i = 0; i < 64; i++)
            {
                await file.WriteAsync(chunk);
            }
        }

        var (code, _, error) = await RunAsync("enrollments", "import", csv, "--template", "factory", "--data", DataDirectory);

        Assert.Equal(1, code);
        Assert.Contains($"line 2: the line is longer than {EnrollmentCsv.MaxLineBytes} bytes", error, StringComparison.Ordinal);
        Assert.Empty(await ResolveAsync("SN-0001"));
    }

    [Fact]
    public async Task Import_ByteOrderMarkAndCrLf_AreRead()
    {
        Directory.CreateDirectory(_directory.Path);
        var csv = Path.Combine(_directory.Path, "excel.csv");
        await File.WriteAllBytesAsync(csv, [0xef, 0xbb, 0xbf, .. "serial,secret\r\nSN-0001,\r\n"u8, .. Encoding.ASCII.GetBytes($"SN-0002,{GivenSecret}\r\n")]);

        var (code, output, error) = await RunAsync("enrollments", "import", csv, "--template", "factory", "--data", DataDirectory, "--secrets-out", Path.Combine(_directory.Path, "out.csv"));

        Assert.True(code == 0, error);
        Assert.Contains("Imported 2 enrollments", output, StringComparison.Ordinal);
        Assert.Equal(Convert.FromBase64String(GivenSecret), Assert.Single(await ResolveAsync("SN-0002")).DeviceSecret);
    }

    [Fact]
    public async Task Import_SameRunAgain_CountsLinesWithTheirSecretAsDoneAndNeverOverwritesSecrets()
    {
        var csv = WriteCsv("SN-0001", $"SN-0002,{GivenSecret}");
        Assert.Equal(0, (await RunAsync("enrollments", "import", csv, "--template", "factory", "--data", DataDirectory)).Code);
        var firstSecrets = await File.ReadAllTextAsync(Path.Combine(_directory.Path, "run-7.secrets.csv"));

        var refused = await RunAsync("enrollments", "import", csv, "--template", "factory", "--data", DataDirectory);
        Assert.Equal(2, refused.Code);
        Assert.Contains("choose another --secrets-out", refused.Error, StringComparison.Ordinal);
        Assert.Equal(firstSecrets, await File.ReadAllTextAsync(Path.Combine(_directory.Path, "run-7.secrets.csv")));

        var again = await RunAsync("enrollments", "import", csv, "--template", "factory", "--data", DataDirectory, "--secrets-out", Path.Combine(_directory.Path, "again.csv"));
        Assert.Equal(1, again.Code);
        Assert.Contains("Imported 0 enrollments (1 already enrolled, 1 failed)", again.Output, StringComparison.Ordinal);
        Assert.Contains("line 1: serial number SN-0001 is already enrolled", again.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_directory.Path, "again.csv")), "no secret was generated, so no secrets file is left");
    }

    [Fact]
    public async Task Import_UnknownTemplate_ImportsNothing()
    {
        var csv = WriteCsv("SN-0001");

        var (code, _, error) = await RunAsync("enrollments", "import", csv, "--template", "missing", "--data", DataDirectory);

        Assert.Equal(1, code);
        Assert.Contains("ResourceNotFoundException: Provisioning template missing does not exist.", error, StringComparison.Ordinal);
        Assert.Empty(await ResolveAsync("SN-0001"));
        Assert.False(File.Exists(Path.Combine(_directory.Path, "run-7.secrets.csv")));
    }

    [Fact]
    public async Task GroupCreateThenDerive_PrintsTheSecretsTheServerExpects()
    {
        var (code, output, _) = await RunAsync("enrollments", "group", "create", "line-2", "--template", "factory", "--serial-pattern", "SN-[0-9]+", "--data", DataDirectory);
        Assert.Equal(0, code);
        var groupKey = output.Split('\n').Single(l => l.StartsWith("groupKey = ", StringComparison.Ordinal))["groupKey = ".Length..].Trim();

        var derived = await RunAsync("enrollments", "derive", "--group-key", groupKey, "SN-1", "SN-2");

        Assert.Equal(0, derived.Code);
        var lines = derived.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        foreach (var line in lines)
        {
            var fields = line.Split(',');
            Assert.Equal(Convert.FromBase64String(fields[1]), Assert.Single(await ResolveAsync(fields[0])).DeviceSecret);
        }

        var shown = await RunAsync("enrollments", "group", "get", "line-2", "--data", DataDirectory);
        Assert.Contains("serialNumberPattern = SN-[0-9]+", shown.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(groupKey, shown.Output, StringComparison.Ordinal);
        Assert.Equal(2, (await RunAsync("enrollments", "derive", "--group-key", "c2hvcnQ=", "SN-1")).Code);
    }

    [Fact]
    public async Task IndividualCreateGetListDelete_WorkOffline()
    {
        var created = await RunAsync("enrollments", "create", "SN-9", "--template", "factory", "--allow-reprovisioning", "--data", DataDirectory);
        Assert.Equal(0, created.Code);
        var secret = created.Output.Split('\n').Single(l => l.StartsWith("deviceSecret = ", StringComparison.Ordinal))["deviceSecret = ".Length..].Trim();
        var resolved = Assert.Single(await ResolveAsync("SN-9"));
        Assert.Equal(Convert.FromBase64String(secret), resolved.DeviceSecret);
        Assert.True(resolved.AllowReprovisioning);

        var shown = await RunAsync("enrollments", "get", "SN-9", "--data", DataDirectory);
        Assert.Contains("allowReprovisioning = true", shown.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, shown.Output, StringComparison.Ordinal);
        Assert.Contains("SN-9\tfactory\tenabled", (await RunAsync("enrollments", "list", "--data", DataDirectory)).Output, StringComparison.Ordinal);

        Assert.Equal(0, (await RunAsync("enrollments", "delete", "SN-9", "--data", DataDirectory)).Code);
        var again = await RunAsync("enrollments", "delete", "SN-9", "--data", DataDirectory);
        Assert.Equal(1, again.Code);
        Assert.Contains("ResourceNotFoundException", again.Error, StringComparison.Ordinal);
    }
}
