using System.CommandLine;
using System.Diagnostics;
using Fleetkey.Hosting;
using Fleetkey.Pki;
using Fleetkey.Storage;
using Fleetkey.Storage.Postgres;
using Fleetkey.Storage.Transfer;

namespace Fleetkey.Cli;

/// <summary>
/// <c>fleetkey export</c> and <c>fleetkey import</c>: move a fleet between SQLite and PostgreSQL
/// (either way) with every id, ARN, version, date, access key and the CA unchanged.
/// </summary>
internal static class TransferCommands
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public static Command CreateExport()
    {
        var data = FleetkeyCommands.DataOption();
        var database = FleetkeyCommands.DatabaseOption();
        var file = new Argument<string>("file")
        {
            Description = "Where to write the export (JSON Lines, mode 0600: it holds access-key secrets and the CA keys); - for standard output.",
        };
        var command = new Command("export", "Write the whole fleet (registry, certificates, policies, access keys, CA) to a file, from one consistent snapshot.")
        {
            data, database, file,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var path = parse.GetValue(file)!;
            var opened = DataDirectory.Open(parse.GetValue(data)!, parse.GetValue(database));
            try
            {
                await opened.MigrateAsync(TimeProvider.System, cancellationToken);
                IReadOnlyDictionary<string, object?>? ca = null;
                if (opened.Store is not PostgresFleetStore)
                {
                    // SQLite keeps the CA in DATA/ca; PostgreSQL in its ca_material table, exported with the rest.
                    var files = new FileCaMaterialStore(Path.Combine(parse.GetValue(data)!, "ca"));
                    if (await files.LoadAsync(cancellationToken) is { } material)
                    {
                        ca = FleetTransfer.CaMaterialRow(
                            new StoredCaMaterial(material.RootCertificatePem, material.RootKeyPem, material.IssuingCertificatePem, material.IssuingKeyPem, material.KeysEncrypted),
                            File.GetLastWriteTimeUtc(Path.Combine(files.Directory, "root.pem")));
                    }
                }

                var stopwatch = Stopwatch.StartNew();
                TransferSummary summary;
                if (path == "-")
                {
                    await using var stdout = Console.OpenStandardOutput();
                    await using var buffered = new BufferedStream(stdout, 1 << 16);
                    summary = await FleetTransfer.ExportAsync(opened.Store, buffered, ca, Progress(), DateTimeOffset.UtcNow, cancellationToken);
                }
                else
                {
                    // Written beside the target and renamed when complete, so a cut-off export never sits under the final name.
                    var partial = path + ".partial";
                    await using (var stream = new FileStream(partial, OwnerOnlyCreate()))
                    {
                        summary = await FleetTransfer.ExportAsync(opened.Store, stream, ca, Progress(), DateTimeOffset.UtcNow, cancellationToken);
                    }

                    File.Move(partial, path, overwrite: true);
                }

                await Console.Error.WriteLineAsync(
                    $"Exported {summary.TotalRows} rows (schema version {summary.SchemaVersion}) from {opened.Description} in {stopwatch.Elapsed.TotalSeconds:F1} s{(path == "-" ? string.Empty : " to " + path)}.");
                return 0;
            }
            finally
            {
                await DisposeAsync(opened.Store);
            }
        });
        return command;
    }

    public static Command CreateImport()
    {
        var data = FleetkeyCommands.DataOption();
        var database = FleetkeyCommands.DatabaseOption();
        var file = new Argument<string>("file") { Description = "An export written by `fleetkey export`; - for standard input." };
        var command = new Command("import", "Load an export into a new, empty store (SQLite in --data, or PostgreSQL with --database), in one transaction.")
        {
            data, database, file,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var path = parse.GetValue(file)!;
            var directory = parse.GetValue(data)!;
            var opened = DataDirectory.Open(directory, parse.GetValue(database));
            var caDirectory = Path.Combine(directory, "ca");
            var wroteCaFiles = false;
            try
            {
                await opened.MigrateAsync(TimeProvider.System, cancellationToken);
                Func<StoredCaMaterial, CancellationToken, Task>? caSink = null;
                if (opened.Store is not PostgresFleetStore)
                {
                    var files = new FileCaMaterialStore(caDirectory);
                    if (await files.LoadAsync(cancellationToken) is not null)
                    {
                        await Console.Error.WriteLineAsync($"fleetkey: {caDirectory} already holds a CA; import into a new data directory.");
                        return 1;
                    }

                    caSink = async (material, ct) =>
                    {
                        wroteCaFiles = true;
                        await files.SaveAsync(new CaMaterial(material.RootCertificatePem, material.RootKeyPem, material.IssuingCertificatePem, material.IssuingKeyPem, material.KeysEncrypted), ct);
                    };
                }

                var stopwatch = Stopwatch.StartNew();
                TransferSummary summary;
                await using (var input = path == "-" ? Console.OpenStandardInput() : new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16))
                {
                    summary = await FleetTransfer.ImportAsync(opened.Store, input, caSink, Progress(), cancellationToken);
                }

                await Console.Error.WriteLineAsync(
                    $"Imported {summary.TotalRows} rows (schema version {summary.SchemaVersion}) into {opened.Description} in {stopwatch.Elapsed.TotalSeconds:F1} s.");
                return 0;
            }
            catch (Exception exception)
            {
                if (wroteCaFiles)
                {
                    // The rows were rolled back; the CA files written for them go too.
                    Directory.Delete(caDirectory, recursive: true);
                }

                if (exception is not (TransferException or FileNotFoundException))
                {
                    throw;
                }

                await Console.Error.WriteLineAsync($"fleetkey: import failed, nothing was imported: {exception.Message}");
                return 1;
            }
            finally
            {
                await DisposeAsync(opened.Store);
            }
        });
        return command;
    }

    private static ConsoleProgress Progress() => new();

    /// <summary>A new file readable by its owner only (it holds secrets), whatever the umask.</summary>
    internal static FileStreamOptions OwnerOnlyCreate(FileMode mode = FileMode.Create)
    {
        var options = new FileStreamOptions { Mode = mode, Access = FileAccess.Write, BufferSize = 1 << 16 };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }

        return options;
    }

    /// <summary>Closes a store the command opened (SQLite and PostgreSQL stores are disposable).</summary>
    internal static async ValueTask DisposeAsync(object store)
    {
        switch (store)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync();
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }

    /// <summary>Prints each table when it is done, synchronously (Progress&lt;T&gt; would post to the thread pool and reorder lines).</summary>
    private sealed class ConsoleProgress : IProgress<TableProgress>
    {
        public void Report(TableProgress value)
        {
            if (value.Done)
            {
                Console.Error.WriteLine($"  {value.Table,-20} {value.Rows,10} rows");
            }
        }
    }
}
