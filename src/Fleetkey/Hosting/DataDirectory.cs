using System.Security.Cryptography;
using System.Text;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Access;
using Fleetkey.Pki;
using Fleetkey.Services.Security;
using Fleetkey.Storage.Postgres;
using Fleetkey.Storage.Sql;
using Fleetkey.Storage.Sqlite;

namespace Fleetkey.Hosting;

/// <summary>
/// The data directory: the SQLite database and, when Fleetkey generated the root key, the
/// <c>credentials</c> file. The directory and what Fleetkey writes in it are readable by the owner only.
/// </summary>
internal static partial class DataDirectory
{
    public const string DatabaseFile = "fleetkey.db";
    public const string CredentialsFile = "credentials";
    public const string RootKeyIdVariable = "FLEETKEY_ROOT_ACCESS_KEY_ID";
    public const string RootSecretVariable = "FLEETKEY_ROOT_SECRET_ACCESS_KEY";

    /// <summary>
    /// Opens the store: the SQLite database in the data directory, or the PostgreSQL database named by
    /// <paramref name="database"/> (a postgres:// URL or an Npgsql connection string). The data
    /// directory is created for SQLite (it holds the database and the CA); with PostgreSQL it is made
    /// only when something is written there (a generated credentials file).
    /// </summary>
    public static OpenedStore Open(string directory, string? database)
    {
        if (database is not null)
        {
            var postgres = new PostgresFleetStore(database);
            return new OpenedStore(postgres, $"PostgreSQL {postgres.DisplayName}", (time, ct) => postgres.InitializeAsync(time, ct));
        }

        EnsureDirectory(directory);
        var sqlite = new SqliteFleetStore(Path.Combine(directory, DatabaseFile));
        return new OpenedStore(sqlite, sqlite.DatabasePath, async (time, ct) =>
        {
            var applied = await sqlite.InitializeAsync(time, ct);
            if (!OperatingSystem.IsWindows())
            {
                // The database holds the access keys' secrets: owner only, whatever the umask.
                File.SetUnixFileMode(sqlite.DatabasePath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            return applied;
        });
    }

    /// <summary>
    /// Opens the fleet that <c>serve</c> (or <c>migrate</c>, <c>import</c>) made, for the commands that
    /// work on one and must never make one (keys, export, enrollments): with SQLite the data directory
    /// must hold the database, with PostgreSQL the database must hold Fleetkey's schema. Brings the
    /// schema up to date as <c>serve</c> would. Throws <see cref="NoFleetException"/>, having created
    /// nothing, when there is no fleet.
    /// </summary>
    public static async Task<OpenedStore> OpenFleetAsync(string directory, string? database, CancellationToken cancellationToken)
    {
        if (database is null && !File.Exists(Path.Combine(directory, DatabaseFile)))
        {
            throw new NoFleetException($"no fleet at {directory} (run `fleetkey serve` first or pass --data)");
        }

        var opened = Open(directory, database);
        try
        {
            if (opened.Store is PostgresFleetStore postgres && !await postgres.HasSchemaAsync(cancellationToken))
            {
                throw new NoFleetException($"no fleet at {postgres.DisplayName} (run `fleetkey serve --database …` first or pass --database)");
            }

            await opened.MigrateAsync(TimeProvider.System, cancellationToken);
            return opened;
        }
        catch
        {
            await opened.DisposeAsync();
            throw;
        }
    }

    /// <summary>Where the CA material lives: files in the data directory with SQLite, the shared database with PostgreSQL.</summary>
    public static ICaMaterialStore CaStore(string directory, OpenedStore opened, TimeProvider time) =>
        opened.Store is PostgresFleetStore
            ? new StoreCaMaterialStore(opened.Store, time)
            : new FileCaMaterialStore(Path.Combine(directory, "ca"));

    /// <summary>Where <see cref="CaStore"/> keeps the CA, for messages.</summary>
    public static string CaStoreDescription(string directory, OpenedStore opened) =>
        opened.Store is PostgresFleetStore ? "the database (table ca_material)" : Path.Combine(directory, "ca");

    /// <summary>Serve's first lines: where the fleet is (absolute paths), and the migrations it applied.</summary>
    public static void LogStart(ILogger logger, string directory, OpenedStore opened, IReadOnlyList<int> applied)
    {
        LogOpened(logger, directory, opened.Description);
        if (applied.Count > 0)
        {
            LogMigrated(logger, opened.Description, applied[^1], applied.Count);
        }
    }

    /// <summary>The CA chain clients trust the listeners with, in the data directory.</summary>
    public const string CaBundleFile = "ca.pem";

    /// <summary>
    /// Makes sure a root access key exists: the one named by the environment, or, on a store with
    /// no keys at all, a generated one written to <c>credentials</c>. The root key has full access.
    /// </summary>
    public static async Task EnsureRootKeyAsync(string directory, AccessKeyService keys, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        var rootId = Environment.GetEnvironmentVariable(RootKeyIdVariable);
        var rootSecret = Environment.GetEnvironmentVariable(RootSecretVariable);
        if (!string.IsNullOrEmpty(rootId) && !string.IsNullOrEmpty(rootSecret))
        {
            var stored = await keys.FindAsync(rootId, cancellationToken);
            if (stored is null)
            {
                try
                {
                    await keys.ImportAsync(new AccessKey(rootId, rootSecret, "root (from environment)", time.GetUtcNow()) { FullAccess = true }, cancellationToken);
                    LogRootKeyImported(logger, rootId);
                    return;
                }
                catch (ServiceException exception) when (exception.Code == ErrorCode.ResourceAlreadyExists)
                {
                    // Another node on the same database stored it at the same moment.
                    stored = await keys.FindAsync(rootId, cancellationToken);
                }
            }

            if (stored is not null && !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(stored.SecretAccessKey), Encoding.UTF8.GetBytes(rootSecret)))
            {
                // Replacing it would lock out every client using the stored secret; keeping it
                // silently would make the environment's secret fail on every request.
                throw new InvalidOperationException(
                    $"{RootKeyIdVariable} {rootId} is already stored with a different secret; set {RootSecretVariable} to the stored secret, or delete the key (fleetkey keys delete {rootId}) to replace it.");
            }

            return;
        }

        if (await keys.AnyAsync(cancellationToken))
        {
            return;
        }

        var key = await keys.CreateAsync("root (generated)", [], fullAccess: true, cancellationToken);
        var path = Path.Combine(directory, CredentialsFile);
        try
        {
            EnsureDirectory(directory);
            await WriteCredentialsAsync(path, key, cancellationToken);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // A key whose secret reached no file could never be used, and the next start would not
            // generate another (the store has a key): take it back.
            await keys.DeleteAsync(key.AccessKeyId, CancellationToken.None);
            throw new InvalidOperationException($"Cannot write the generated root access key to {path}: {exception.Message}", exception);
        }

        LogRootKeyGenerated(logger, key.AccessKeyId, path);
    }

    /// <summary>
    /// Writes <c>ca.pem</c> (the issuing CA then the root) into the data directory at each start, so that
    /// clients on this machine can trust the HTTPS listeners and the broker (<c>aws --ca-bundle DIR/ca.pem</c>)
    /// without a first, unverified download. Written whole (a temporary file then a rename).
    /// </summary>
    public static void WriteCaBundle(string directory, Pki.CertificateAuthority authority)
    {
        var path = Path.Combine(directory, CaBundleFile);
        var temporary = path + ".tmp";
        try
        {
            EnsureDirectory(directory);
            File.WriteAllText(temporary, authority.ChainPem);
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"Cannot write the CA bundle to {path}: {exception.Message}", exception);
        }
    }

    /// <summary>Creates the data directory, owner only, unless it exists.</summary>
    internal static void EnsureDirectory(string directory)
    {
        if (Directory.Exists(directory))
        {
            return;
        }

        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    /// <summary>Writes a key in the AWS shared-credentials format, mode 0600.</summary>
    public static async Task WriteCredentialsAsync(string path, AccessKey key, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        await using var writer = new StreamWriter(path, options);
        await writer.WriteAsync($"[default]\naws_access_key_id = {key.AccessKeyId}\naws_secret_access_key = {key.SecretAccessKey}\n".AsMemory(), cancellationToken);
    }

    [LoggerMessage(EventId = 5, EventName = "FleetOpened", Level = LogLevel.Information, Message = "Data directory {Directory}, database {Database}")]
    private static partial void LogOpened(ILogger logger, string directory, string database);

    [LoggerMessage(EventId = 1, EventName = "SchemaMigrated", Level = LogLevel.Information, Message = "Database {Database} migrated to schema version {Version} ({Count} migrations applied)")]
    private static partial void LogMigrated(ILogger logger, string database, int version, int count);

    [LoggerMessage(EventId = 2, EventName = "RootKeyImported", Level = LogLevel.Information, Message = "Root access key {AccessKeyId} taken from the environment")]
    private static partial void LogRootKeyImported(ILogger logger, string accessKeyId);

    [LoggerMessage(EventId = 3, EventName = "RootKeyGenerated", Level = LogLevel.Warning, Message = "Generated root access key {AccessKeyId}; its secret is in {Path} (mode 0600)")]
    private static partial void LogRootKeyGenerated(ILogger logger, string accessKeyId, string path);
}

/// <summary>An opened store and how to bring its schema up to date; disposing it closes the store.</summary>
internal sealed record OpenedStore(SqlFleetStore Store, string Description, Func<TimeProvider, CancellationToken, Task<IReadOnlyList<int>>> MigrateAsync) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => Store.CloseAsync();
}

/// <summary>A command that works on a fleet found none where it was pointed (and made none).</summary>
internal sealed class NoFleetException(string message) : Exception(message);
