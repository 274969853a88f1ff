using Fleetkey.Core.Registry;
using Fleetkey.Services.Access;
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

    public static SqliteFleetStore OpenStore(string directory)
    {
        if (!Directory.Exists(directory))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(directory);
            }
            else
            {
                Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        return new SqliteFleetStore(Path.Combine(directory, DatabaseFile));
    }

    /// <summary>
    /// Applies migrations and makes sure a root access key exists: the one named by the environment,
    /// or, on a store with no keys at all, a generated one written to <c>credentials</c>.
    /// </summary>
    public static async Task InitializeAsync(string directory, SqliteFleetStore store, AccessKeyService keys, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        var applied = await store.InitializeAsync(time, cancellationToken);
        if (!OperatingSystem.IsWindows())
        {
            // The database holds the access keys' secrets: owner only, whatever the umask.
            File.SetUnixFileMode(store.DatabasePath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        if (applied.Count > 0)
        {
            LogMigrated(logger, store.DatabasePath, applied[^1], applied.Count);
        }

        var rootId = Environment.GetEnvironmentVariable(RootKeyIdVariable);
        var rootSecret = Environment.GetEnvironmentVariable(RootSecretVariable);
        if (!string.IsNullOrEmpty(rootId) && !string.IsNullOrEmpty(rootSecret))
        {
            if (await keys.FindAsync(rootId, cancellationToken) is null)
            {
                await keys.ImportAsync(new AccessKey(rootId, rootSecret, "root (from environment)", time.GetUtcNow()), cancellationToken);
                LogRootKeyImported(logger, rootId);
            }

            return;
        }

        if (await keys.AnyAsync(cancellationToken))
        {
            return;
        }

        var key = await keys.CreateAsync("root (generated)", cancellationToken);
        var path = Path.Combine(directory, CredentialsFile);
        await WriteCredentialsAsync(path, key, cancellationToken);
        LogRootKeyGenerated(logger, key.AccessKeyId, path);
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

    [LoggerMessage(EventId = 1, EventName = "SchemaMigrated", Level = LogLevel.Information, Message = "Database {Path} migrated to schema version {Version} ({Count} migrations applied)")]
    private static partial void LogMigrated(ILogger logger, string path, int version, int count);

    [LoggerMessage(EventId = 2, EventName = "RootKeyImported", Level = LogLevel.Information, Message = "Root access key {AccessKeyId} taken from the environment")]
    private static partial void LogRootKeyImported(ILogger logger, string accessKeyId);

    [LoggerMessage(EventId = 3, EventName = "RootKeyGenerated", Level = LogLevel.Warning, Message = "Generated root access key {AccessKeyId}; its secret is in {Path} (mode 0600)")]
    private static partial void LogRootKeyGenerated(ILogger logger, string accessKeyId, string path);
}
