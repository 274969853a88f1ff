using Fleetkey.Testing;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Fleetkey.Storage.Sqlite.Tests;

/// <summary>A registry of 100,000 things (every tenth of type "Sensor"), loaded once for the class.</summary>
public sealed class LargeRegistryFixture : IAsyncLifetime
{
    public const int ThingCount = 100_000;
    private readonly TempDirectory _directory = new();

    public SqliteFleetStore Store { get; private set; } = null!;

    public string DatabasePath => Path.Combine(_directory.Path, "fleetkey.db");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory.Path);
        Store = new SqliteFleetStore(DatabasePath);
        await Store.InitializeAsync(TimeProvider.System, CancellationToken.None);
        RegistryBulkLoader.Load(DatabasePath, ThingCount, typeName: "Sensor");
    }

    public Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        _directory.Dispose();
        return Task.CompletedTask;
    }
}
