using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using Fleetkey.Core.Errors;
using Fleetkey.Services.Provisioning;
using Spectre.Console;

namespace Fleetkey.Cli;

/// <summary>
/// <c>fleetkey enrollments import FILE.csv --template NAME</c>: enrolls a production run, one
/// individual enrollment per line <c>serial[,secret]</c>. Valid lines are imported in batches, each
/// batch in one transaction; invalid lines are reported with their line number and reason and do not
/// stop the others; the exit code is 1 when any line failed. Secrets Fleetkey generates (lines with no
/// secret) are written to a CSV the operator keeps (mode 0600), batch by batch as each commits.
/// </summary>
internal static class EnrollmentImportCommand
{
    public const int BatchSize = 500;

    private static readonly string[] HeaderWords = ["serial", "serialnumber", "serial_number"];

    public static Command Create(Action<IServiceCollection>? configure)
    {
        var (data, database) = (FleetkeyCommands.DataOption(), FleetkeyCommands.DatabaseOption());
        var file = new Argument<string>("file")
        {
            Description = "CSV lines serial[,secret]: the secret base64 (32 bytes) when the factory made it, else Fleetkey generates one. Blank lines, # comments and a header line are skipped.",
        };
        var template = EnrollmentCommands.TemplateOption();
        var reprovision = EnrollmentCommands.AllowReprovisioningOption();
        var parameters = EnrollmentCommands.ParameterOption();
        var secretsOut = new Option<string?>("--secrets-out")
        {
            Description = "Where to write the secrets Fleetkey generates, as CSV serialNumber,deviceSecret (mode 0600; must not exist). Default: FILE with .secrets.csv.",
        };
        var command = new Command("import", "Enroll the serial numbers of a CSV file as individual enrollments, with a progress bar and a per-line error report.")
        {
            data, database, file, template, reprovision, parameters, secretsOut,
        };
        command.SetAction((parse, ct) => EnrollmentCommands.RunAsync(parse, data, database, configure, (service, output) =>
        {
            var path = parse.GetValue(file)!;
            var settings = new EnrollmentSettings(parse.GetValue(template), parse.GetValue(reprovision), EnrollmentCommands.ParseParameters(parse.GetValue(parameters)));
            var secretsPath = parse.GetValue(secretsOut) ?? Path.ChangeExtension(path, null) + ".secrets.csv";
            return ImportAsync(service, path, settings, secretsPath, output, parse.InvocationConfiguration.Error, ct);
        }, ct));
        return command;
    }

    /// <summary>The lines of a production run, and the problems of those that cannot be imported.</summary>
    internal sealed record ParsedFile(IReadOnlyList<EnrollmentImportLine> Lines, IReadOnlyList<LineError> Errors, int DataLines);

    internal sealed record LineError(int LineNumber, string Reason);

    /// <summary>
    /// Reads <c>serial[,secret]</c> lines. Fields are trimmed; blank lines and lines starting with #
    /// are skipped, and so is a first line whose first field is a header word (serial, serialNumber).
    /// A secret is never repeated in an error.
    /// </summary>
    internal static ParsedFile Parse(IEnumerable<string> lines)
    {
        var valid = new List<EnrollmentImportLine>();
        var errors = new List<LineError>();
        var number = 0;
        var dataLines = 0;
        var first = true;
        foreach (var raw in lines)
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var fields = line.Split(',').Select(f => f.Trim()).ToArray();
            if (first && HeaderWords.Contains(fields[0].ToLowerInvariant(), StringComparer.Ordinal))
            {
                first = false;
                continue;
            }

            first = false;
            dataLines++;
            if (fields.Length > 2)
            {
                errors.Add(new LineError(number, string.Create(CultureInfo.InvariantCulture, $"expected serial[,secret], found {fields.Length} fields")));
                continue;
            }

            if (fields[0].Length == 0)
            {
                errors.Add(new LineError(number, "the serial number is empty"));
                continue;
            }

            byte[]? secret = null;
            if (fields.Length == 2 && fields[1].Length > 0)
            {
                secret = EnrollmentSecrets.TryParse(fields[1]);
                if (secret is null)
                {
                    errors.Add(new LineError(number, $"the secret is not {EnrollmentSecrets.Length} bytes of base64"));
                    continue;
                }
            }

            valid.Add(new EnrollmentImportLine(number, fields[0], secret));
        }

        return new ParsedFile(valid, errors, dataLines);
    }

    internal static async Task<int> ImportAsync(
        EnrollmentService service, string path, EnrollmentSettings settings, string secretsPath, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            await error.WriteLineAsync($"fleetkey: {path} does not exist.");
            return 2;
        }

        var parsed = Parse(await File.ReadAllLinesAsync(path, cancellationToken));
        await service.CheckImportSettingsAsync(settings, cancellationToken);

        FileStream? secretsFile = null;
        StreamWriter? secrets = null;
        if (parsed.Lines.Any(l => l.DeviceSecret is null))
        {
            try
            {
                secretsFile = new FileStream(secretsPath, TransferCommands.OwnerOnlyCreate(FileMode.CreateNew));
            }
            catch (IOException exception)
            {
                // Never overwrite: it may hold the only copy of secrets of an earlier run.
                await error.WriteLineAsync($"fleetkey: cannot create {secretsPath} for the generated secrets ({exception.Message}); choose another --secrets-out.");
                return 2;
            }

            secrets = new StreamWriter(secretsFile);
            await secrets.WriteLineAsync("serialNumber,deviceSecret");
        }

        var errors = new List<LineError>(parsed.Errors);
        int imported = 0, already = 0, generated = 0;
        try
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(error) });
            await console.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask($"Importing {Path.GetFileName(path)}", maxValue: Math.Max(1, parsed.DataLines));
                    task.Increment(parsed.Errors.Count);
                    foreach (var batch in parsed.Lines.Chunk(BatchSize))
                    {
                        IReadOnlyList<EnrollmentImportResult> results;
                        try
                        {
                            results = await service.ImportBatchAsync(batch, settings, cancellationToken);
                        }
                        catch (ServiceException exception)
                        {
                            results = batch.Select(l => new EnrollmentImportResult(l.LineNumber, l.SerialNumber, null, false, $"the batch was refused: {exception.Message}")).ToList();
                        }

                        foreach (var result in results)
                        {
                            if (!result.Succeeded)
                            {
                                errors.Add(new LineError(result.LineNumber, result.Error!));
                            }
                            else if (result.AlreadyEnrolled)
                            {
                                already++;
                            }
                            else
                            {
                                imported++;
                                if (result.GeneratedSecret is { } secret)
                                {
                                    generated++;
                                    await secrets!.WriteLineAsync($"{result.SerialNumber},{Convert.ToBase64String(secret)}");
                                    CryptographicOperations.ZeroMemory(secret);
                                }
                            }
                        }

                        // The batch is committed: its generated secrets reach the disk before the next one.
                        if (secrets is not null)
                        {
                            await secrets.FlushAsync(cancellationToken);
                            secretsFile!.Flush(flushToDisk: true);
                        }

                        task.Increment(batch.Length);
                    }

                    task.Value = task.MaxValue;
                });
        }
        finally
        {
            if (secrets is not null)
            {
                await secrets.DisposeAsync();
            }
        }

        foreach (var problem in errors.OrderBy(e => e.LineNumber))
        {
            await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"line {problem.LineNumber}: {problem.Reason}"));
        }

        await output.WriteLineAsync(string.Create(
            CultureInfo.InvariantCulture,
            $"Imported {imported} enrollments ({already} already enrolled, {errors.Count} failed) from {path}."));
        if (generated > 0)
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Generated {generated} device secrets into {secretsPath}: keep it, they are not shown again."));
        }
        else if (secretsFile is not null)
        {
            File.Delete(secretsPath);
        }

        return errors.Count == 0 ? 0 : 1;
    }
}
