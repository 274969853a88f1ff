using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using Fleetkey.Core.Errors;
using Fleetkey.Services.Provisioning;
using Spectre.Console;

namespace Fleetkey.Cli;

/// <summary>
/// <c>fleetkey enrollments import FILE.csv --template NAME</c>: enrolls a production run, one
/// individual enrollment per line <c>serial[,secret]</c> (<see cref="EnrollmentCsv"/>). The whole file
/// is checked first, streaming: any bad line (reported with its number and reason) refuses the file,
/// and nothing is written. A good file is imported in batches, each in one transaction; a line whose
/// serial conflicts with an enrollment already stored is reported and does not stop the others; the
/// exit code is 1 when any line failed. Secrets Fleetkey generates (lines with no secret) are written to
/// a CSV the operator keeps (mode 0600), batch by batch as each commits.
/// </summary>
internal static class EnrollmentImportCommand
{
    public const int BatchSize = 500;

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

    internal static async Task<int> ImportAsync(
        EnrollmentService service, string path, EnrollmentSettings settings, string secretsPath, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        FileStream input;
        try
        {
            input = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan | FileOptions.Asynchronous);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"fleetkey: cannot read {path}: {exception.Message}");
            return 2;
        }

        await using (input)
        {
            await service.CheckImportSettingsAsync(settings, cancellationToken);

            // The whole file is checked before anything is written: a run with a bad line is refused
            // whole, so that a file that is wrong (a column too many, another encoding, a mangled
            // serial) never leaves half a production run enrolled.
            var check = await EnrollmentCsv.CheckAsync(input, cancellationToken);
            if (check.ErrorCount > 0)
            {
                foreach (var problem in check.Errors)
                {
                    await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"line {problem.LineNumber}: {problem.Reason}"));
                }

                if (check.ErrorCount > check.Errors.Count)
                {
                    await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"… and {check.ErrorCount - check.Errors.Count} more bad lines"));
                }

                await output.WriteLineAsync(string.Create(
                    CultureInfo.InvariantCulture,
                    $"Refused {path}: {check.ErrorCount} bad {(check.ErrorCount == 1 ? "line" : "lines")} of {check.DataLines}; nothing was imported. Fix {(check.ErrorCount == 1 ? "it" : "them")} and import the file again."));
                return 1;
            }

            input.Seek(0, SeekOrigin.Begin);
            return await ImportCheckedAsync(service, input, check, path, settings, secretsPath, output, error, cancellationToken);
        }
    }

    private static async Task<int> ImportCheckedAsync(
        EnrollmentService service, Stream input, EnrollmentCsv.CheckResult check, string path, EnrollmentSettings settings, string secretsPath, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        FileStream? secretsFile = null;
        StreamWriter? secrets = null;
        if (check.LinesWithoutSecret > 0)
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

        var errors = new List<EnrollmentCsv.LineError>();
        int imported = 0, already = 0, generated = 0;
        try
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(error) });
            await console.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask($"Importing {Path.GetFileName(path)}", maxValue: Math.Max(1, check.DataLines));
                    var batch = new List<EnrollmentImportLine>(BatchSize);
                    await foreach (var line in EnrollmentCsv.ReadAsync(input, cancellationToken))
                    {
                        batch.Add(line);
                        if (batch.Count == BatchSize)
                        {
                            await ImportBatchAsync(batch);
                        }
                    }

                    await ImportBatchAsync(batch);
                    task.Value = task.MaxValue;

                    async Task ImportBatchAsync(List<EnrollmentImportLine> lines)
                    {
                        if (lines.Count == 0)
                        {
                            return;
                        }

                        IReadOnlyList<EnrollmentImportResult> results;
                        try
                        {
                            results = await service.ImportBatchAsync(lines, settings, cancellationToken);
                        }
                        catch (ServiceException exception)
                        {
                            results = lines.Select(l => new EnrollmentImportResult(l.LineNumber, l.SerialNumber, null, false, $"the batch was refused: {exception.Message}")).ToList();
                        }

                        foreach (var result in results)
                        {
                            if (!result.Succeeded)
                            {
                                // The file was checked: what fails now conflicts with what is enrolled already.
                                if (errors.Count < EnrollmentCsv.MaxListedErrors)
                                {
                                    errors.Add(new EnrollmentCsv.LineError(result.LineNumber, result.Error!));
                                }
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

                        foreach (var line in lines)
                        {
                            if (line.DeviceSecret is { } given)
                            {
                                CryptographicOperations.ZeroMemory(given);
                            }
                        }

                        // The batch is committed: its generated secrets reach the disk before the next one.
                        if (secrets is not null)
                        {
                            await secrets.FlushAsync(cancellationToken);
                            secretsFile!.Flush(flushToDisk: true);
                        }

                        task.Increment(lines.Count);
                        lines.Clear();
                    }
                });
        }
        catch (InvalidDataException exception)
        {
            await error.WriteLineAsync($"fleetkey: {exception.Message}; the lines before it were imported, the rest not.");
            return 1;
        }
        finally
        {
            if (secrets is not null)
            {
                await secrets.DisposeAsync();
            }
        }

        var failed = check.DataLines - imported - already;
        foreach (var problem in errors)
        {
            await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"line {problem.LineNumber}: {problem.Reason}"));
        }

        if (failed > errors.Count)
        {
            await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"… and {failed - errors.Count} more lines failed"));
        }

        await output.WriteLineAsync(string.Create(
            CultureInfo.InvariantCulture,
            $"Imported {imported} enrollments ({already} already enrolled, {failed} failed) from {path}."));
        if (generated > 0)
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Generated {generated} device secrets into {secretsPath}: keep it, they are not shown again."));
        }
        else if (secretsFile is not null)
        {
            File.Delete(secretsPath);
        }

        return failed == 0 ? 0 : 1;
    }
}
