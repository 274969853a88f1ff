using System.CommandLine;
using System.Text.Json.Nodes;
using Fleetkey.Cli;
using Fleetkey.Core.Registry;
using Fleetkey.Storage.Sqlite;
using Fleetkey.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Fleetkey.Api.Tests.Cli;

/// <summary><c>fleetkey certificates expiring</c> run in process against a data directory, as an operator runs it.</summary>
public sealed class CertificateCommandsTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory _directory = new();
    private readonly FakeTimeProvider _time = new(Start);

    private string DataDirectory => Path.Combine(_directory.Path, "data");

    private static string Id(char c) => new(c, 64);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }

    /// <summary>
    /// A fleet as `serve` leaves it, with: ACTIVE a (ends in 2 days, on things pump-1 and pump-2, under ca-1),
    /// b (in 20 days, registered without a CA), c (in 45 days) and d (ended a day ago); INACTIVE e (in 5 days).
    /// </summary>
    private async Task SeedAsync()
    {
        Directory.CreateDirectory(DataDirectory);
        using var store = new SqliteFleetStore(Path.Combine(DataDirectory, "fleetkey.db"));
        await store.InitializeAsync(TimeProvider.System, CancellationToken.None);
        await store.WriteAsync(
            async (s, ct) =>
            {
                foreach (var (id, status, days, ca) in new[]
                {
                    ('a', CertificateStatus.Active, 2, "ca-1"), ('b', CertificateStatus.Active, 20, null), ('c', CertificateStatus.Active, 45, "ca-1"),
                    ('d', CertificateStatus.Active, -1, "ca-1"), ('e', CertificateStatus.Inactive, 5, "ca-1"),
                })
                {
                    await s.Certificates.InsertAsync(new Certificate(Id(id), ca, status, "pem", "DEFAULT", Start.AddYears(-1), Start.AddDays(days), Start, Start, 1, "g"), ct);
                }

                foreach (var thing in new[] { "pump-2", "pump-1" })
                {
                    await s.Things.InsertAsync(new Thing(thing, Guid.NewGuid().ToString(), null, new Dictionary<string, string>(), 1, Start), ct);
                    await s.ThingPrincipals.AttachAsync(new ThingPrincipal(thing, PolicyTarget.CertificateKind, Id('a'), ThingPrincipalType.NonExclusive), Start, ct);
                }

                return true;
            },
            CancellationToken.None);
    }

    private async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        var root = new RootCommand();
        root.Subcommands.Add(CertificateCommands.Create(_time));
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }

    private static string[] Lines(string output) => output.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public async Task Expiring_NoFleetInTheDataDirectory_FailsWithOneLineAndMakesNothing()
    {
        var (code, output, error) = await RunAsync("certificates", "expiring", "--data", DataDirectory);

        Assert.Equal(2, code);
        Assert.Equal(string.Empty, output);
        Assert.Equal($"fleetkey: no fleet at {DataDirectory} (run `fleetkey serve` first or pass --data){Environment.NewLine}", error);
        Assert.False(Directory.Exists(DataDirectory));
    }

    [Fact]
    public async Task Expiring_Default_ActiveWithinThirtyDaysSoonestFirstOneLineEach()
    {
        await SeedAsync();

        var (code, output, error) = await RunAsync("certificates", "expiring", "--data", DataDirectory);

        Assert.Equal((0, string.Empty), (code, error));
        Assert.Equal(
            [
                $"{Id('a')}\tACTIVE\t2026-03-03T12:00:00Z\tpump-1,pump-2\tca-1",
                $"{Id('b')}\tACTIVE\t2026-03-21T12:00:00Z\t-\t-",
            ],
            Lines(output));
    }

    [Fact]
    public async Task Expiring_WindowStatusesAndExpired_AsAsked()
    {
        await SeedAsync();

        var (code, output, _) = await RunAsync("certificates", "expiring", "--data", DataDirectory, "--within", "168h", "--status", "inactive,ACTIVE", "--include-expired");

        Assert.Equal(0, code);
        Assert.Equal([Id('d'), Id('a'), Id('e')], Lines(output).Select(l => l.Split('\t')[0]));

        // The window is counted from the clock: ten days on, a has ended and c is 35 days out (a window's end is exclusive).
        _time.Advance(TimeSpan.FromDays(10));
        (_, output, _) = await RunAsync("certificates", "expiring", "--data", DataDirectory, "--within", "35d");
        Assert.Equal([Id('b')], Lines(output).Select(l => l.Split('\t')[0]));
        (_, output, _) = await RunAsync("certificates", "expiring", "--data", DataDirectory, "--within", "50401m");
        Assert.Equal([Id('b'), Id('c')], Lines(output).Select(l => l.Split('\t')[0]));
    }

    [Fact]
    public async Task Expiring_Json_OneDocumentWithTheWindowAndEveryCertificate()
    {
        await SeedAsync();

        var (code, output, _) = await RunAsync("certificates", "expiring", "--data", DataDirectory, "--json", "--within", "90d");

        Assert.Equal(0, code);
        var document = JsonNode.Parse(output)!;
        Assert.Equal("90d", document["within"]!.GetValue<string>());
        Assert.Equal("2026-03-01T12:00:00Z", document["at"]!.GetValue<string>());
        var certificates = document["certificates"]!.AsArray();
        Assert.Equal([Id('a'), Id('b'), Id('c')], certificates.Select(c => c!["certificateId"]!.GetValue<string>()));
        var a = certificates[0]!;
        Assert.Equal(("ACTIVE", "2026-03-03T12:00:00Z", "ca-1"), (a["status"]!.GetValue<string>(), a["notAfter"]!.GetValue<string>(), a["caCertificateId"]!.GetValue<string>()));
        Assert.Equal(["pump-1", "pump-2"], a["thingNames"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Null(certificates[1]!["caCertificateId"]);
        Assert.Empty(certificates[1]!["thingNames"]!.AsArray());

        // Nothing to list is an empty list, not an empty output.
        (_, output, _) = await RunAsync("certificates", "expiring", "--data", DataDirectory, "--json", "--within", "1m");
        Assert.Empty(JsonNode.Parse(output)!["certificates"]!.AsArray());
    }

    [Theory]
    [InlineData("--within", "3x", "--within must be a whole number of days, hours or minutes such as 30d, 12h or 90m, from 1m to 3650d, not '3x'.")]
    [InlineData("--within", "3651d", "--within must be a whole number of days, hours or minutes such as 30d, 12h or 90m, from 1m to 3650d, not '3651d'.")]
    [InlineData("--within", "-1d", "--within must be a whole number of days, hours or minutes such as 30d, 12h or 90m, from 1m to 3650d, not '-1d'.")]
    [InlineData("--status", "ACTIVE,expired", "--status must name statuses among ACTIVE, INACTIVE, REVOKED, PENDING_TRANSFER, REGISTER_INACTIVE, PENDING_ACTIVATION, not 'expired'.")]
    [InlineData("--status", ",", "--status must name at least one status.")]
    public void Expiring_BadValue_IsOneUsageErrorBeforeAnythingRuns(string option, string value, string message)
    {
        // As the executable parses it: a parse error is printed as one line, exit 2 (Program.cs).
        var parse = FleetkeyCommands.CreateRoot().Parse(["certificates", "expiring", "--data", DataDirectory, option, value]);

        Assert.Equal(message, Assert.Single(parse.Errors).Message);
        Assert.False(Directory.Exists(DataDirectory));
    }
}
