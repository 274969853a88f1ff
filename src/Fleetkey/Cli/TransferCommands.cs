using System.CommandLine;
using System.Data.Common;
using System.Diagnostics;
using Fleetkey.Hosting;
using Fleetkey.Pki;
using Fleetkey.Services.Transfer;
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
            var passphrase = Passphrase();
            if (await FleetkeyCommands.OpenFleetAsync(parse.GetValue(data)!, parse.GetValue(database), Console.Error, cancellationToken) is not { } opened)
            {
                return 2;
            }

            try
            {
                IReadOnlyDictionary<string, object?>? ca = null;
                StoredCaMaterial? material;
                if (opened.Store is PostgresFleetStore)
                {
                    // PostgreSQL keeps the CA in its ca_material table, exported with the rest.
                    material = await opened.Store.ReadAsync((s, ct) => s.CaMaterial.GetAsync(ct), cancellationToken);
                }
                else
                {
                    // SQLite keeps the CA in DATA/ca.
                    var files = new FileCaMaterialStore(Path.Combine(parse.GetValue(data)!, "ca"));
                    material = await files.LoadAsync(cancellationToken) is { } loaded
                        ? new StoredCaMaterial(loaded.RootCertificatePem, loaded.RootKeyPem, loaded.IssuingCertificatePem, loaded.IssuingKeyPem, loaded.KeysEncrypted)
                        : null;
                    if (material is not null)
                    {
                        ca = FleetTransfer.CaMaterialRow(material, File.GetLastWriteTimeUtc(Path.Combine(files.Directory, "root.pem")));
                    }
                }

                if (material is not null && CertificateAuthority.FindMaterialProblem(
                        new CaMaterial(material.RootCertificatePem, material.RootKeyPem, material.IssuingCertificatePem, material.IssuingKeyPem, material.KeysEncrypted), passphrase) is { } problem)
                {
                    // An export the import would refuse helps no one; and the passphrase keys the
                    // export's MAC, so it must be the fleet's (the one that opens its CA keys).
                    await Console.Error.WriteLineAsync($"fleetkey: nothing was exported: the CA material in {DataDirectory.CaStoreDescription(parse.GetValue(data)!, opened)} cannot be used: {problem}");
                    return 1;
                }

                var report = new TransferReport();
                var options = new ExportOptions { CaMaterial = ca, Passphrase = passphrase, Progress = report, Now = DateTimeOffset.UtcNow };
                var stopwatch = Stopwatch.StartNew();
                TransferSummary summary;
                if (path == "-")
                {
                    await using var stdout = Console.OpenStandardOutput();
                    await using var buffered = new BufferedStream(stdout, 1 << 16);
                    summary = await FleetTransfer.ExportAsync(opened.Store, buffered, options, cancellationToken);
                }
                else
                {
                    // Written beside the target and renamed when complete, so a cut-off export never sits under the final name.
                    var partial = path + ".partial";
                    await using (var stream = new FileStream(partial, OwnerOnlyCreate()))
                    {
                        summary = await FleetTransfer.ExportAsync(opened.Store, stream, options, cancellationToken);
                    }

                    File.Move(partial, path, overwrite: true);
                }

                report.WriteTable(summary);
                await Console.Error.WriteLineAsync(
                    $"Exported {summary.TotalRows} rows (schema version {summary.SchemaVersion}) from {opened.Description} in {stopwatch.Elapsed.TotalSeconds:F1} s"
                    + $"{(path == "-" ? string.Empty : " to " + path)}, with {(passphrase is null ? "a SHA-256 digest (no MAC: FLEETKEY_CA_PASSPHRASE is not set)" : "a SHA-256 digest and a MAC keyed from FLEETKEY_CA_PASSPHRASE")}.");
                return 0;
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or DbException)
            {
                // A target that cannot be written, a database that cannot be read: one line, and no
                // half-written export under the final name (it is written beside it and renamed).
                await Console.Error.WriteLineAsync($"fleetkey: export failed: {exception.Message}");
                return 1;
            }
            finally
            {
                await opened.DisposeAsync();
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
            var sqlite = parse.GetValue(database) is null;

            // What this import adds to the data directory, so that a refused one takes back exactly
            // that: the directory itself if it made it, else the files it made in it.
            var created = ImportTarget.Before(directory, sqlite);
            DataDirectoryLock? dataLock = null;
            try
            {
                dataLock = sqlite ? DataDirectoryLock.Acquire(directory, "import") : null;
            }
            catch (IOException exception)
            {
                created.Remove();
                await Console.Error.WriteLineAsync($"fleetkey: import refused, nothing was imported: {exception.Message}");
                return 2;
            }

            var opened = DataDirectory.Open(directory, parse.GetValue(database));
            var caDirectory = Path.Combine(directory, "ca");
            var imported = false;
            try
            {
                await opened.MigrateAsync(TimeProvider.System, cancellationToken);
                var report = new TransferReport();
                var options = new ImportOptions(new FleetImportChecker(Passphrase())) { Passphrase = Passphrase(), Progress = report };
                if (opened.Store is not PostgresFleetStore)
                {
                    var files = new FileCaMaterialStore(caDirectory);
                    if (await files.LoadAsync(cancellationToken) is not null)
                    {
                        await Console.Error.WriteLineAsync($"fleetkey: {caDirectory} already holds a CA; import into a new data directory.");
                        return 1;
                    }

                    options = options with
                    {
                        CaMaterialSink = async (material, ct) =>
                        {
                            await files.SaveAsync(new CaMaterial(material.RootCertificatePem, material.RootKeyPem, material.IssuingCertificatePem, material.IssuingKeyPem, material.KeysEncrypted), ct);
                        },
                    };
                }

                var stopwatch = Stopwatch.StartNew();
                TransferSummary summary;
                await using (var input = path == "-" ? Console.OpenStandardInput() : new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16))
                {
                    summary = await FleetTransfer.ImportAsync(opened.Store, input, options, cancellationToken);
                }

                imported = true;
                report.WriteTable(summary);
                await Console.Error.WriteLineAsync(
                    $"Imported {summary.TotalRows} rows (schema version {summary.SchemaVersion}) into {opened.Description} in {stopwatch.Elapsed.TotalSeconds:F1} s.");
                return 0;
            }
            catch (Exception exception)
            {
                if (exception is OperationCanceledException)
                {
                    throw;
                }

                // The transaction was rolled back whatever went wrong: say so, in one message. A type
                // outside the expected ones is a bug, named for the report.
                var expected = exception is TransferException or IOException or UnauthorizedAccessException or DbException;
                await Console.Error.WriteLineAsync(
                    $"fleetkey: import refused, nothing was imported: {exception.Message}{(expected ? string.Empty : $" ({exception.GetType().Name})")}");
                return 1;
            }
            finally
            {
                await opened.DisposeAsync();
                dataLock?.Dispose();
                if (!imported)
                {
                    // The rows were rolled back; the database, CA files and directory made for them go too.
                    created.Remove();
                }
            }
        });
        return command;
    }

    private static string? Passphrase() => Environment.GetEnvironmentVariable("FLEETKEY_CA_PASSPHRASE") is { Length: > 0 } value ? value : null;

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


    /// <summary>
    /// What a SQLite import target held before the import, so that a refused import removes exactly
    /// what it added: the data directory if it made it, else the database, CA and lock files it made
    /// there; nothing that was there before. A PostgreSQL import adds nothing to the directory.
    /// </summary>
    private sealed class ImportTarget
    {
        private readonly string _directory;
        private readonly bool _madeDirectory;
        private readonly string[] _newEntries;

        private ImportTarget(string directory, bool madeDirectory, string[] newEntries)
        {
            _directory = directory;
            _madeDirectory = madeDirectory;
            _newEntries = newEntries;
        }

        public static ImportTarget Before(string directory, bool sqlite)
        {
            if (!sqlite)
            {
                return new ImportTarget(directory, madeDirectory: false, []);
            }

            var database = Path.Combine(directory, DataDirectory.DatabaseFile);
            string[] entries = [database, database + "-wal", database + "-shm", database + "-journal", Path.Combine(directory, "ca"), .. DataDirectoryLock.Files(directory)];
            return new ImportTarget(directory, !Directory.Exists(directory), [.. entries.Where(e => !Path.Exists(e))]);
        }

        public void Remove()
        {
            try
            {
                if (_madeDirectory)
                {
                    if (Directory.Exists(_directory))
                    {
                        Directory.Delete(_directory, recursive: true);
                    }

                    return;
                }

                foreach (var entry in _newEntries)
                {
                    if (Directory.Exists(entry))
                    {
                        Directory.Delete(entry, recursive: true);
                    }
                    else
                    {
                        File.Delete(entry);
                    }
                }
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"fleetkey: could not remove what the refused import made in {_directory}: {exception.Message}");
            }
        }
    }
}
