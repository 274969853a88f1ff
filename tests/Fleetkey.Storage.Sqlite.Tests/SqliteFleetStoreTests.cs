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
    public async Task ChangeStamp_CommitOnAnotherConnection_Changes()
    {
        Directory.CreateDirectory(_directory.Path);
        var time = new FakeTimeProvider();
        using var server = new SqliteFleetStore(DatabasePath);
        using var cli = new SqliteFleetStore(DatabasePath);
        await server.InitializeAsync(time, CancellationToken.None);

        var before = await server.ChangeStampAsync(CancellationToken.None);
        Assert.NotNull(before);
        Assert.Equal(before, await server.ChangeStampAsync(CancellationToken.None));
        await server.ReadAsync((s, ct) => s.Things.GetAsync("nothing", ct), CancellationToken.None);
        Assert.Equal(before, await server.ChangeStampAsync(CancellationToken.None));

        await cli.WriteAsync(async (s, ct) => { await s.Things.InsertAsync(new Thing("t", "id", null, new Dictionary<string, string>(), 1, time.GetUtcNow()), ct); return true; }, CancellationToken.None);
        var afterOther = await server.ChangeStampAsync(CancellationToken.None);
        Assert.NotEqual(before, afterOther);

        // The store's own writes run on other connections than the one that watches: they count too.
        await server.WriteAsync((s, ct) => s.Things.DeleteAsync("t", ct), CancellationToken.None);
        Assert.NotEqual(afterOther, await server.ChangeStampAsync(CancellationToken.None));
    }

    [Fact]
    public async Task FindForRequest_KeyDeletedByTheCli_IsRefusedAtOnce()
    {
        Directory.CreateDirectory(_directory.Path);
        var time = new FakeTimeProvider();
        using var server = new SqliteFleetStore(DatabasePath);
        using var cli = new SqliteFleetStore(DatabasePath);
        await server.InitializeAsync(time, CancellationToken.None);
        var sealer = new Pki.PassphraseSealer(null);
        var serving = new Services.Access.AccessKeyService(server, sealer, time);
        var key = await new Services.Access.AccessKeyService(cli, sealer, time).CreateAsync("cli", [], fullAccess: false, CancellationToken.None);

        Assert.Equal(key.SecretAccessKey, (await serving.FindForRequestAsync(key.AccessKeyId, CancellationToken.None))?.SecretAccessKey);
        Assert.NotNull(await serving.FindForRequestAsync(key.AccessKeyId, CancellationToken.None));

        Assert.True(await new Services.Access.AccessKeyService(cli, sealer, time).DeleteAsync(key.AccessKeyId, CancellationToken.None));

        Assert.Null(await serving.FindForRequestAsync(key.AccessKeyId, CancellationToken.None));
    }

    [Fact]
    public async Task Write_ManyConcurrent_EachFailureRolledBackAloneOthersCommitted()
    {
        Directory.CreateDirectory(_directory.Path);
        var time = new FakeTimeProvider();
        using var store = new SqliteFleetStore(DatabasePath);
        await store.InitializeAsync(time, CancellationToken.None);
        var thing = new Thing("t", "id", null, new Dictionary<string, string> { ["k"] = "v" }, 1, time.GetUtcNow());

        // Concurrent writes are committed in groups: a failing write must take nothing of the others
        // with it, and leave nothing of its own behind.
        var writes = Enumerable.Range(0, 64).Select(i => Task.Run(() => store.WriteAsync<bool>(async (s, ct) =>
        {
            await s.Things.InsertAsync(thing with { Name = $"thing-{i:D2}", ThingId = Guid.NewGuid().ToString() }, ct);
            if (i % 5 == 0)
            {
                throw new InvalidOperationException($"write {i} fails after its insert");
            }

            return true;
        }, CancellationToken.None))).ToList();
        var duplicates = Enumerable.Range(0, 8).Select(_ => Task.Run(() => store.WriteAsync(async (s, ct) =>
        {
            await s.Things.InsertAsync(thing with { Name = "same", ThingId = Guid.NewGuid().ToString() }, ct);
            return true;
        }, CancellationToken.None))).ToList();

        for (var i = 0; i < writes.Count; i++)
        {
            if (i % 5 == 0)
            {
                await Assert.ThrowsAsync<InvalidOperationException>(() => writes[i]);
            }
            else
            {
                Assert.True(await writes[i]);
            }
        }

        var outcomes = await Task.WhenAll(duplicates.Select(async d =>
        {
            try
            {
                return await d ? "ok" : "false";
            }
            catch (Core.Errors.ServiceException e)
            {
                return e.Code.Name;
            }
        }));
        Assert.Single(outcomes, o => o == "ok");
        Assert.All(outcomes.Where(o => o != "ok"), o => Assert.Equal("ResourceAlreadyExistsException", o));

        var names = (await store.ReadAsync((s, ct) => s.Things.ListAsync(new ThingQuery(null, null, false, null), null, 1000, ct), CancellationToken.None)).Select(t => t.Name).ToList();
        Assert.Equal(Enumerable.Range(0, 64).Where(i => i % 5 != 0).Select(i => $"thing-{i:D2}").Append("same").Order(StringComparer.Ordinal), names);
        var attributeRows = await store.ReadAsync((s, ct) => s.Things.ListAsync(new ThingQuery("k", "v", false, null), null, 1000, ct), CancellationToken.None);
        Assert.Equal(names.Count, attributeRows.Count);
    }

    [Fact]
    public async Task Write_FailsMidTransaction_ConnectionIsReusedClean()
    {
        Directory.CreateDirectory(_directory.Path);
        var time = new FakeTimeProvider();
        using var store = new SqliteFleetStore(DatabasePath);
        await store.InitializeAsync(time, CancellationToken.None);
        var thing = new Thing("t", "id", null, new Dictionary<string, string>(), 1, time.GetUtcNow());

        // Many more failures than pooled connections: a connection left inside its transaction would
        // hold the write lock and the next write would fail.
        for (var i = 0; i < 40; i++)
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => store.WriteAsync<bool>(async (s, ct) =>
            {
                await s.Things.InsertAsync(thing with { Name = $"half-{i}" }, ct);
                throw new InvalidOperationException("after the first write");
            }, CancellationToken.None));
        }

        await store.WriteAsync(async (s, ct) => { await s.Things.InsertAsync(thing, ct); return true; }, CancellationToken.None);
        Assert.Equal(["t"], (await store.ReadAsync((s, ct) => s.Things.ListAsync(new ThingQuery(null, null, false, null), null, 100, ct), CancellationToken.None)).Select(t => t.Name));
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
