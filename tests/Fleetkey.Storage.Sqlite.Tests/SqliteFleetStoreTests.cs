using Fleetkey.Core.Registry;
using Fleetkey.Testing;
using Microsoft.Data.Sqlite;
using Xunit;
using Microsoft.Extensions.Time.Testing;

namespace Fleetkey.Storage.Sqlite.Tests;

public sealed class SqliteFleetStoreTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    private string DatabasePath => Path.Combine(_directory.Path, "fleetkey.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }

    [Fact]
    public async Task InitializeAsync_FreshDatabase_AppliesEveryMigrationOnce()
    {
        Directory.CreateDirectory(_directory.Path);
        var store = new SqliteFleetStore(DatabasePath);
        var time = new FakeTimeProvider();

        var first = await store.InitializeAsync(time, CancellationToken.None);
        var second = await store.InitializeAsync(time, CancellationToken.None);

        Assert.Equal(SqliteFleetStore.Migrations.Select(m => m.Version), first);
        Assert.Empty(second);
        await using var connection = new SqliteConnection($"Data Source={DatabasePath}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", (string?)await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task InitializeAsync_SecondStart_KeepsData()
    {
        Directory.CreateDirectory(_directory.Path);
        var time = new FakeTimeProvider();
        var store = new SqliteFleetStore(DatabasePath);
        await store.InitializeAsync(time, CancellationToken.None);
        var thing = new Thing("kept", Guid.NewGuid().ToString(), null, new Dictionary<string, string> { ["a"] = "1" }, 1, time.GetUtcNow());
        await store.WriteAsync(async (s, ct) => { await s.Things.InsertAsync(thing, ct); return true; }, CancellationToken.None);

        SqliteConnection.ClearAllPools();
        var reopened = new SqliteFleetStore(DatabasePath);
        await reopened.InitializeAsync(time, CancellationToken.None);
        var read = await reopened.ReadAsync((s, ct) => s.Things.GetAsync("kept", ct), CancellationToken.None);

        Assert.NotNull(read);
        Assert.Equal(thing.ThingId, read.ThingId);
        Assert.Equal("1", read.Attributes["a"]);
    }

    [Fact]
    public async Task WriteAsync_DelegateThrows_RollsBackEverything()
    {
        Directory.CreateDirectory(_directory.Path);
        var time = new FakeTimeProvider();
        var store = new SqliteFleetStore(DatabasePath);
        await store.InitializeAsync(time, CancellationToken.None);

        await Assert.ThrowsAsync<InvalidOperationException>(() => store.WriteAsync<bool>(async (s, ct) =>
        {
            await s.Things.InsertAsync(new Thing("half", "id-1", null, new Dictionary<string, string> { ["k"] = "v" }, 1, time.GetUtcNow()), ct);
            throw new InvalidOperationException("fail after the first write");
        }, CancellationToken.None));

        var rows = await store.ReadAsync((s, ct) => s.Things.ListAsync(new ThingQuery("k", "v", false, null), null, 10, ct), CancellationToken.None);
        Assert.Null(await store.ReadAsync((s, ct) => s.Things.GetAsync("half", ct), CancellationToken.None));
        Assert.Empty(rows);
    }

    [Fact]
    public async Task DeleteThing_WithAttributesAndGroups_CascadesToBoth()
    {
        Directory.CreateDirectory(_directory.Path);
        var time = new FakeTimeProvider();
        var store = new SqliteFleetStore(DatabasePath);
        await store.InitializeAsync(time, CancellationToken.None);
        var now = time.GetUtcNow();
        await store.WriteAsync(async (s, ct) =>
        {
            await s.Things.InsertAsync(new Thing("t1", "id-1", null, new Dictionary<string, string> { ["k"] = "v" }, 1, now), ct);
            await s.ThingGroups.InsertAsync(new ThingGroup("g1", "gid-1", null, "g1", null, new Dictionary<string, string>(), 1, now), ct);
            await s.ThingGroups.AddThingAsync("g1", "t1", now, ct);
            return true;
        }, CancellationToken.None);

        await store.WriteAsync((s, ct) => s.Things.DeleteAsync("t1", ct), CancellationToken.None);

        var group = await store.ReadAsync((s, ct) => s.ThingGroups.GetAsync("g1", ct), CancellationToken.None);
        var members = await store.ReadAsync((s, ct) => s.ThingGroups.ListThingNamesAsync(group!, false, null, 10, ct), CancellationToken.None);
        var byAttribute = await store.ReadAsync((s, ct) => s.Things.ListAsync(new ThingQuery("k", null, false, null), null, 10, ct), CancellationToken.None);
        Assert.Empty(members);
        Assert.Empty(byAttribute);
    }
}
