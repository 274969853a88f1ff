using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Access;
using Fleetkey.Services.Registry;
using Fleetkey.Storage.Postgres;
using Fleetkey.Storage.Sql;
using Fleetkey.Storage.Sqlite;
using Fleetkey.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Fleetkey.Services.Tests;

/// <summary>
/// A real database with every service of the application layer wired to it and a clock the test
/// controls: SQLite in a temp directory, or, with FLEETKEY_TEST_STORE=postgres, a fresh PostgreSQL
/// database (dropped on dispose). One per test: xunit makes a test class instance per test. The
/// store and the services exist once <see cref="InitializeAsync"/> has run.
/// </summary>
internal sealed class ServiceDatabase : IAsyncDisposable
{
    /// <summary>A whole millisecond, since the store keeps instants as Unix milliseconds.</summary>
    public static readonly DateTimeOffset Start = new(2025, 3, 14, 15, 9, 26, TimeSpan.Zero);

    private readonly TempDirectory _directory = new();
    private TestDatabase? _database;

    public IotScope Scope { get; } = new("eu-west-1", "123456789012");

    public FakeTimeProvider Time { get; } = new(Start);

    public SqlFleetStore Store { get; private set; } = null!;

    public ThingService Things { get; private set; } = null!;

    public ThingTypeService ThingTypes { get; private set; } = null!;

    public ThingGroupService ThingGroups { get; private set; } = null!;

    public TagService Tags { get; private set; } = null!;

    public AccessKeyService AccessKeys { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (TestPostgres.Selected)
        {
            _database = await TestPostgres.CreateDatabaseAsync();
            var postgres = new PostgresFleetStore(_database.ConnectionString);
            Store = postgres;
            await postgres.InitializeAsync(Time, CancellationToken.None);
        }
        else
        {
            Directory.CreateDirectory(_directory.Path);
            var sqlite = new SqliteFleetStore(System.IO.Path.Combine(_directory.Path, "fleetkey.db"));
            Store = sqlite;
            await sqlite.InitializeAsync(Time, CancellationToken.None);
        }

        Things = new ThingService(Store, Time);
        ThingTypes = new ThingTypeService(Store, Time);
        ThingGroups = new ThingGroupService(Store, Time);
        Tags = new TagService(Store);
        AccessKeys = new AccessKeyService(Store, new Fleetkey.Pki.PassphraseSealer(null), Time);
    }

    /// <summary>Another store on the same database, as another node opens it (on PostgreSQL its change stamp runs on the system clock); the caller disposes it.</summary>
    public async Task<SqlFleetStore> OpenAnotherStoreAsync()
    {
        if (_database is not null)
        {
            var postgres = new PostgresFleetStore(_database.ConnectionString);
            await postgres.InitializeAsync(Time, CancellationToken.None);
            return postgres;
        }

        var sqlite = new SqliteFleetStore(System.IO.Path.Combine(_directory.Path, "fleetkey.db"));
        await sqlite.InitializeAsync(Time, CancellationToken.None);
        return sqlite;
    }

    public async ValueTask DisposeAsync()
    {
        switch (Store)
        {
            case PostgresFleetStore postgres:
                await postgres.DisposeAsync();
                break;
            case SqliteFleetStore sqlite:
                sqlite.Dispose();
                break;
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }

    // Reads straight from the store, so a test sees what is persisted, not what a service returned.
    public Task<Thing?> GetThingAsync(string name) =>
        Store.ReadAsync((session, ct) => session.Things.GetAsync(name, ct), CancellationToken.None);

    public Task<ThingType?> GetThingTypeAsync(string name) =>
        Store.ReadAsync((session, ct) => session.ThingTypes.GetAsync(name, ct), CancellationToken.None);

    public Task<ThingGroup?> GetThingGroupAsync(string name) =>
        Store.ReadAsync((session, ct) => session.ThingGroups.GetAsync(name, ct), CancellationToken.None);

    public async Task<IReadOnlyList<string>> GroupsOfThingAsync(string thingName) =>
        (await Store.ReadAsync((session, ct) => session.ThingGroups.ListForThingAsync(thingName, null, 1000, ct), CancellationToken.None))
        .Select(g => g.Name).ToArray();

    public Task<IReadOnlyList<string>> ThingsInGroupAsync(string groupName, bool recursive = false) =>
        Store.ReadAsync(
            async (session, ct) =>
            {
                var group = await session.ThingGroups.GetAsync(groupName, ct) ?? throw new InvalidOperationException($"No group {groupName}.");
                return await session.ThingGroups.ListThingNamesAsync(group, recursive, null, 1000, ct);
            },
            CancellationToken.None);

    public Task<IReadOnlyList<Tag>> StoredTagsAsync(string kind, string name) =>
        Store.ReadAsync((session, ct) => session.Tags.ListAsync(kind, name, null, 1000, ct), CancellationToken.None);

    public async Task<IReadOnlyList<string>> ThingNamesWhereAsync(ThingQuery query) =>
        (await Store.ReadAsync((session, ct) => session.Things.ListAsync(query, null, 1000, ct), CancellationToken.None))
        .Select(t => t.Name).ToArray();

    public static Dictionary<string, string> Attrs(params (string Key, string Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    public static Dictionary<string, string> ManyAttrs(int count) =>
        Enumerable.Range(0, count).ToDictionary(i => $"attr{i:D2}", i => $"value{i}", StringComparer.Ordinal);
}
