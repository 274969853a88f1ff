using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Access;
using Fleetkey.Services.Registry;
using Fleetkey.Storage.Sqlite;
using Fleetkey.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Fleetkey.Services.Tests;

/// <summary>
/// A real SQLite database in a temp directory with every service of the application layer wired to
/// it and a clock the test controls. One per test: xunit makes a test class instance per test.
/// </summary>
internal sealed class ServiceDatabase : IAsyncDisposable
{
    /// <summary>A whole millisecond, since the store keeps instants as Unix milliseconds.</summary>
    public static readonly DateTimeOffset Start = new(2025, 3, 14, 15, 9, 26, TimeSpan.Zero);

    private readonly TempDirectory _directory = new();

    public ServiceDatabase()
    {
        Directory.CreateDirectory(_directory.Path);
        Store = new SqliteFleetStore(System.IO.Path.Combine(_directory.Path, "fleetkey.db"));
        Things = new ThingService(Store, Time);
        ThingTypes = new ThingTypeService(Store, Time);
        ThingGroups = new ThingGroupService(Store, Time);
        Tags = new TagService(Store);
        AccessKeys = new AccessKeyService(Store, Time);
    }

    public IotScope Scope { get; } = new("eu-west-1", "123456789012");

    public FakeTimeProvider Time { get; } = new(Start);

    public SqliteFleetStore Store { get; }

    public ThingService Things { get; }

    public ThingTypeService ThingTypes { get; }

    public ThingGroupService ThingGroups { get; }

    public TagService Tags { get; }

    public AccessKeyService AccessKeys { get; }

    public async Task InitializeAsync() => await Store.InitializeAsync(Time, CancellationToken.None);

    public ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        _directory.Dispose();
        return ValueTask.CompletedTask;
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
