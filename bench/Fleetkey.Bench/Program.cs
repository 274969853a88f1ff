using System.Text.Encodings.Web;
using System.Text.Json;
using Fleetkey.Bench;

// fleetkey bench: see BENCHMARKS.md, or run with --help.
return await BenchOptions.CreateCommand(RunAsync).Parse(args).InvokeAsync();

static async Task<int> RunAsync(BenchOptions options, CancellationToken cancellationToken)
{
    var machine = MachineInfo.Read();
    Console.Error.WriteLine($"[bench] {machine.Summary()}; load average {machine.LoadAverage}");
    BenchReport report;
    try
    {
        report = await BenchProgress.RunAsync(progress => new BenchRunner(options, progress).RunAsync(machine, cancellationToken));
    }
    catch (Exception exception) when (exception is InvalidOperationException or IOException or TimeoutException or HttpRequestException or Fleetkey.Client.IotServiceException)
    {
        await Console.Error.WriteLineAsync($"bench: {exception.Message}");
        Console.WriteLine($"bench: 0 passed, {options.Scenarios.Count} failed");
        return 1;
    }

    Console.WriteLine();
    ReportWriter.Write(Console.Out, report);
    if (options.JsonPath is { } path)
    {
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(report, new BenchJsonContext(new JsonSerializerOptions(BenchJsonContext.Default.Options) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }).BenchReport), cancellationToken);
        await Console.Error.WriteLineAsync($"[bench] results written to {path}");
    }

    Console.WriteLine();
    Console.WriteLine($"bench: {report.Passed} passed, {report.Failed} failed");
    return report.Failed == 0 ? 0 : 1;
}
