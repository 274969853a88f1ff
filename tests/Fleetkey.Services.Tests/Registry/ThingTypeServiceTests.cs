using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Registry;
using Xunit;

namespace Fleetkey.Services.Tests.Registry;

public sealed class ThingTypeServiceTests : IAsyncLifetime
{
    private const string Mqtt5 = """{"propagatingAttributes":[{"userPropertyKey":"site","thingAttribute":"site"}]}""";
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly ServiceDatabase _db = new();

    public Task InitializeAsync() => _db.InitializeAsync();

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    private ThingTypeService Types => _db.ThingTypes;

    private Task<ThingType> CreateAsync(string name, string? description = null, IReadOnlyList<string>? searchable = null, string? mqtt5 = null, IReadOnlyList<Tag>? tags = null) =>
        Types.CreateAsync(name, description, searchable, mqtt5, tags, None);

    private async Task<ThingType> StoredAsync(string name) =>
        await _db.GetThingTypeAsync(name) ?? throw new InvalidOperationException($"Thing type {name} is not stored.");

    private async Task DeprecateAsync(string name) => await Types.DeprecateAsync(name, undo: false, None);

    // ---- CreateAsync ----

    [Fact]
    public async Task CreateAsync_New_StoresPropertiesNotDeprecated()
    {
        var created = await CreateAsync("sensor", "Sensors", ["site", "floor"], Mqtt5);

        var stored = await StoredAsync("sensor");
        Assert.Equal(created.ThingTypeId, stored.ThingTypeId);
        Assert.True(Guid.TryParse(stored.ThingTypeId, out _));
        Assert.Equal("Sensors", stored.Description);
        Assert.Equal(["site", "floor"], stored.SearchableAttributes);
        Assert.Equal(Mqtt5, stored.Mqtt5ConfigurationJson);
        Assert.False(stored.Deprecated);
        Assert.Null(stored.DeprecatedAt);
        Assert.Equal(ServiceDatabase.Start, stored.CreatedAt);
    }

    [Fact]
    public async Task CreateAsync_IdenticalTwice_ReturnsSameId()
    {
        var first = await CreateAsync("sensor", "Sensors", ["site"], Mqtt5);
        _db.Time.Advance(TimeSpan.FromHours(1));

        var second = await CreateAsync("sensor", "Sensors", ["site"], Mqtt5);

        Assert.Equal(first.ThingTypeId, second.ThingTypeId);
        Assert.Equal(ServiceDatabase.Start, (await StoredAsync("sensor")).CreatedAt);
    }

    public static TheoryData<string?, string[], string?> DifferentProperties => new()
    {
        { "Other", ["site"], Mqtt5 },
        { null, ["site"], Mqtt5 },
        { "Sensors", ["floor"], Mqtt5 },
        { "Sensors", [], Mqtt5 },
        { "Sensors", ["site"], null },
        { "Sensors", ["site"], """{"propagatingAttributes":[]}""" },
    };

    [Theory]
    [MemberData(nameof(DifferentProperties))]
    public async Task CreateAsync_SameNameDifferentProperties_ThrowsResourceAlreadyExistsAndKeepsType(string? description, string[] searchable, string? mqtt5)
    {
        var first = await CreateAsync("sensor", "Sensors", ["site"], Mqtt5);

        var exception = await ServiceAssert.ThrowsAsync(
            ErrorCode.ResourceAlreadyExists,
            () => CreateAsync("sensor", description, searchable, mqtt5),
            "Thing Type sensor already exists in current account with different properties");

        Assert.Equal(first.ThingTypeId, exception.ResourceId);
        Assert.Equal(new ResourceRef(ResourceKind.ThingType, "sensor"), exception.Resource);
        var stored = await StoredAsync("sensor");
        Assert.Equal("Sensors", stored.Description);
        Assert.Equal(["site"], stored.SearchableAttributes);
        Assert.Equal(Mqtt5, stored.Mqtt5ConfigurationJson);
    }

    [Fact]
    public async Task CreateAsync_ThreeSearchableAttributes_Succeeds()
    {
        await CreateAsync("sensor", searchable: ["a", "b", "c"]);

        Assert.Equal(["a", "b", "c"], (await StoredAsync("sensor")).SearchableAttributes);
    }

    [Fact]
    public async Task CreateAsync_FourSearchableAttributes_ThrowsInvalidRequestAndStoresNothing()
    {
        await ServiceAssert.ThrowsAsync(
            ErrorCode.InvalidRequest,
            () => CreateAsync("sensor", searchable: ["a", "b", "c", "d"]),
            "A thing type can have at most 3 searchable attributes; 4 were given.");

        Assert.Null(await _db.GetThingTypeAsync("sensor"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("a/b")]
    public async Task CreateAsync_InvalidName_ThrowsInvalidRequest(string name)
    {
        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => CreateAsync(name), "at 'thingTypeName' failed to satisfy constraint");

        Assert.Null(await _db.GetThingTypeAsync(name));
    }

    [Fact]
    public async Task CreateAsync_WithTags_StoresTags()
    {
        await CreateAsync("sensor", tags: [new Tag("team", "a"), new Tag("env", "prod")]);

        Assert.Equal([new Tag("env", "prod"), new Tag("team", "a")], await _db.StoredTagsAsync(ThingTypeService.TagKind, "sensor"));
    }

    [Fact]
    public async Task CreateAsync_ReservedTagKey_ThrowsInvalidRequestAndStoresNothing()
    {
        await ServiceAssert.ThrowsAsync(
            ErrorCode.InvalidRequest,
            () => CreateAsync("sensor", tags: [new Tag("team", "a"), new Tag("aws:owner", "x")]),
            "Tag keys starting with 'aws:' are reserved: aws:owner");

        Assert.Null(await _db.GetThingTypeAsync("sensor"));
        Assert.Empty(await _db.StoredTagsAsync(ThingTypeService.TagKind, "sensor"));
    }

    [Fact]
    public async Task CreateAsync_FiftyOneTags_ThrowsLimitExceededAndStoresNothing()
    {
        var tags = Enumerable.Range(0, 51).Select(i => new Tag($"k{i}", "v")).ToArray();

        await ServiceAssert.ThrowsAsync(ErrorCode.LimitExceeded, () => CreateAsync("sensor", tags: tags), "at most 50 tags");

        Assert.Null(await _db.GetThingTypeAsync("sensor"));
        Assert.Empty(await _db.StoredTagsAsync(ThingTypeService.TagKind, "sensor"));
    }

    [Fact]
    public async Task CreateAsync_FiftyTags_Succeeds()
    {
        var tags = Enumerable.Range(0, 50).Select(i => new Tag($"k{i:D2}", "v")).ToArray();

        await CreateAsync("sensor", tags: tags);

        Assert.Equal(50, (await _db.StoredTagsAsync(ThingTypeService.TagKind, "sensor")).Count);
    }

    // ---- DescribeAsync ----

    [Fact]
    public async Task DescribeAsync_Missing_ThrowsResourceNotFound()
    {
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => Types.DescribeAsync("nope", None), "Thing type nope does not exist.");
    }

    [Fact]
    public async Task DescribeAsync_Existing_ReturnsIt()
    {
        var created = await CreateAsync("sensor", "Sensors");

        var described = await Types.DescribeAsync("sensor", None);

        Assert.Equal(created.ThingTypeId, described.ThingTypeId);
        Assert.Equal("Sensors", described.Description);
    }

    // ---- UpdateAsync ----

    [Fact]
    public async Task UpdateAsync_Mqtt5Only_UpdatesConfiguration()
    {
        await CreateAsync("sensor", "Sensors", ["site"]);

        await Types.UpdateAsync("sensor", null, null, Mqtt5, None);

        var stored = await StoredAsync("sensor");
        Assert.Equal(Mqtt5, stored.Mqtt5ConfigurationJson);
        Assert.Equal("Sensors", stored.Description);
        Assert.Equal(["site"], stored.SearchableAttributes);
    }

    [Fact]
    public async Task UpdateAsync_SameDescriptionAndSearchable_UpdatesMqtt5()
    {
        await CreateAsync("sensor", "Sensors", ["site"]);

        await Types.UpdateAsync("sensor", "Sensors", ["site"], Mqtt5, None);

        Assert.Equal(Mqtt5, (await StoredAsync("sensor")).Mqtt5ConfigurationJson);
    }

    [Fact]
    public async Task UpdateAsync_NoMqtt5_KeepsConfiguration()
    {
        await CreateAsync("sensor", mqtt5: Mqtt5);

        await Types.UpdateAsync("sensor", null, null, null, None);

        Assert.Equal(Mqtt5, (await StoredAsync("sensor")).Mqtt5ConfigurationJson);
    }

    [Fact]
    public async Task UpdateAsync_DescriptionChange_ThrowsInvalidRequestAndChangesNothing()
    {
        await CreateAsync("sensor", "Sensors");

        await ServiceAssert.ThrowsAsync(
            ErrorCode.InvalidRequest, () => Types.UpdateAsync("sensor", "Other", null, Mqtt5, None), "Can only update mqtt5Configuration.");

        var stored = await StoredAsync("sensor");
        Assert.Equal("Sensors", stored.Description);
        Assert.Null(stored.Mqtt5ConfigurationJson);
    }

    [Fact]
    public async Task UpdateAsync_SearchableChange_ThrowsInvalidRequestAndChangesNothing()
    {
        await CreateAsync("sensor", searchable: ["site"]);

        await ServiceAssert.ThrowsAsync(
            ErrorCode.InvalidRequest, () => Types.UpdateAsync("sensor", null, ["site", "floor"], Mqtt5, None), "Can only update mqtt5Configuration.");

        var stored = await StoredAsync("sensor");
        Assert.Equal(["site"], stored.SearchableAttributes);
        Assert.Null(stored.Mqtt5ConfigurationJson);
    }

    [Fact]
    public async Task UpdateAsync_Missing_ThrowsResourceNotFound()
    {
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => Types.UpdateAsync("nope", null, null, Mqtt5, None), "Thing type nope does not exist.");
    }

    // ---- DeprecateAsync ----

    [Fact]
    public async Task DeprecateAsync_Active_SetsDeprecatedAtToNow()
    {
        await CreateAsync("sensor");
        _db.Time.Advance(TimeSpan.FromMinutes(10));

        await DeprecateAsync("sensor");

        var stored = await StoredAsync("sensor");
        Assert.True(stored.Deprecated);
        Assert.Equal(ServiceDatabase.Start.AddMinutes(10), stored.DeprecatedAt);
    }

    [Fact]
    public async Task DeprecateAsync_AlreadyDeprecated_KeepsFirstDeprecatedAt()
    {
        await CreateAsync("sensor");
        await DeprecateAsync("sensor");
        _db.Time.Advance(TimeSpan.FromMinutes(10));

        await DeprecateAsync("sensor");

        Assert.Equal(ServiceDatabase.Start, (await StoredAsync("sensor")).DeprecatedAt);
    }

    [Fact]
    public async Task DeprecateAsync_Undo_ClearsDeprecationAndAllowsNewThings()
    {
        await CreateAsync("sensor");
        await DeprecateAsync("sensor");

        await Types.DeprecateAsync("sensor", undo: true, None);

        var stored = await StoredAsync("sensor");
        Assert.False(stored.Deprecated);
        Assert.Null(stored.DeprecatedAt);
        await _db.Things.CreateAsync("sensor-1", "sensor", null, null, None);
        Assert.Equal("sensor", (await _db.GetThingAsync("sensor-1"))?.TypeName);
    }

    [Fact]
    public async Task DeprecateAsync_UndoThenDeprecateAgain_TakesNewTime()
    {
        await CreateAsync("sensor");
        await DeprecateAsync("sensor");
        await Types.DeprecateAsync("sensor", undo: true, None);
        _db.Time.Advance(TimeSpan.FromMinutes(5));

        await DeprecateAsync("sensor");

        Assert.Equal(ServiceDatabase.Start.AddMinutes(5), (await StoredAsync("sensor")).DeprecatedAt);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task DeprecateAsync_Missing_ThrowsResourceNotFound(bool undo)
    {
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => Types.DeprecateAsync("nope", undo, None), "Thing type nope does not exist.");
    }

    // ---- DeleteAsync ----

    [Fact]
    public async Task DeleteAsync_NotDeprecated_ThrowsInvalidRequestAndKeepsType()
    {
        await CreateAsync("sensor", tags: [new Tag("team", "a")]);

        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => Types.DeleteAsync("sensor", None), "Cannot delete thing type : sensor. Deprecate it first.");

        Assert.NotNull(await _db.GetThingTypeAsync("sensor"));
        Assert.Equal([new Tag("team", "a")], await _db.StoredTagsAsync(ThingTypeService.TagKind, "sensor"));
    }

    [Fact]
    public async Task DeleteAsync_ThingsUseIt_ThrowsInvalidRequestAndKeepsTypeAndTags()
    {
        await CreateAsync("sensor", tags: [new Tag("team", "a")]);
        await _db.Things.CreateAsync("sensor-1", "sensor", null, null, None);
        await DeprecateAsync("sensor");

        await ServiceAssert.ThrowsAsync(
            ErrorCode.InvalidRequest, () => Types.DeleteAsync("sensor", None), "Cannot delete thing type : sensor while things are associated with it.");

        Assert.NotNull(await _db.GetThingTypeAsync("sensor"));
        Assert.Equal([new Tag("team", "a")], await _db.StoredTagsAsync(ThingTypeService.TagKind, "sensor"));
    }

    [Fact]
    public async Task DeleteAsync_ThingsMovedOff_Deletes()
    {
        await CreateAsync("sensor");
        await _db.Things.CreateAsync("sensor-1", "sensor", null, null, None);
        await DeprecateAsync("sensor");
        await _db.Things.UpdateAsync("sensor-1", null, null, true, null, removeThingType: true, None);

        await Types.DeleteAsync("sensor", None);

        Assert.Null(await _db.GetThingTypeAsync("sensor"));
    }

    [Fact]
    public async Task DeleteAsync_Deprecated_RemovesTypeAndItsTags()
    {
        await CreateAsync("sensor", tags: [new Tag("team", "a")]);
        await DeprecateAsync("sensor");

        await Types.DeleteAsync("sensor", None);

        Assert.Null(await _db.GetThingTypeAsync("sensor"));
        Assert.Empty(await _db.StoredTagsAsync(ThingTypeService.TagKind, "sensor"));

        // A new type of the same name starts without the old tags.
        await CreateAsync("sensor");
        var tags = await _db.Tags.ListAsync(_db.Scope, Arn.ThingType(_db.Scope, "sensor"), PageRequest.From(null, null), None);
        Assert.Empty(tags.Items);
    }

    [Fact]
    public async Task DeleteAsync_Missing_ThrowsResourceNotFound()
    {
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => Types.DeleteAsync("nope", None), "Thing type nope does not exist.");
    }

    // ---- ListAsync ----

    [Fact]
    public async Task ListAsync_WalkAllPages_ReturnsEveryTypeOnceSorted()
    {
        var names = Enumerable.Range(0, 11).Select(i => $"type-{i:D2}").ToArray();
        foreach (var name in names.Reverse())
        {
            await CreateAsync(name);
        }

        var seen = new List<string>();
        string? token = null;
        do
        {
            var page = await Types.ListAsync(null, PageRequest.From(token, 4), None);
            seen.AddRange(page.Items.Select(t => t.Name));
            token = page.NextKey;
        }
        while (token is not null);

        Assert.Equal(names, seen);
    }

    [Fact]
    public async Task ListAsync_Name_ReturnsOnlyThatType()
    {
        await CreateAsync("sensor");
        await CreateAsync("sensor-2");
        await CreateAsync("camera");

        var page = await Types.ListAsync("sensor", PageRequest.From(null, null), None);

        Assert.Equal(["sensor"], page.Items.Select(t => t.Name));
        Assert.Null(page.NextKey);
    }
}
