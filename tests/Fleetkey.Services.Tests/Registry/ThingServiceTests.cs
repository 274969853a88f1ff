using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Registry;
using Xunit;
using static Fleetkey.Services.Tests.ServiceDatabase;

namespace Fleetkey.Services.Tests.Registry;

public sealed class ThingServiceTests : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly ServiceDatabase _db = new();

    public Task InitializeAsync() => _db.InitializeAsync();

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    private ThingService Things => _db.Things;

    private Task<Thing> CreateAsync(string name, string? type = null, IReadOnlyDictionary<string, string>? attributes = null) =>
        Things.CreateAsync(name, type, attributes, null, None);

    private Task UpdateAsync(string name, string? type = null, IReadOnlyDictionary<string, string>? attributes = null, bool merge = true, long? expectedVersion = null, bool removeThingType = false) =>
        Things.UpdateAsync(name, type, attributes, merge, expectedVersion, removeThingType, None);

    private Task<ThingType> CreateTypeAsync(string name) => _db.ThingTypes.CreateAsync(name, null, null, null, null, None);

    private async Task<Thing> StoredAsync(string name) =>
        await _db.GetThingAsync(name) ?? throw new InvalidOperationException($"Thing {name} is not stored.");

    // ---- CreateAsync ----

    [Fact]
    public async Task CreateAsync_NewThing_StoresVersionOneAndCreatedAt()
    {
        var created = await CreateAsync("sensor-1", attributes: Attrs(("serial", "42")));

        var stored = await StoredAsync("sensor-1");
        Assert.Equal(created.ThingId, stored.ThingId);
        Assert.True(Guid.TryParse(stored.ThingId, out _));
        Assert.Null(stored.TypeName);
        Assert.Equal(1, stored.Version);
        Assert.Equal(ServiceDatabase.Start, stored.CreatedAt);
        Assert.Equal(Attrs(("serial", "42")), stored.Attributes);
    }

    [Fact]
    public async Task CreateAsync_IdenticalTwice_ReturnsSameThingIdAndKeepsVersion()
    {
        await CreateTypeAsync("sensor");
        var first = await CreateAsync("sensor-1", "sensor", Attrs(("a", "1"), ("b", "2")));
        _db.Time.Advance(TimeSpan.FromMinutes(1));

        var second = await CreateAsync("sensor-1", "sensor", Attrs(("b", "2"), ("a", "1")));

        Assert.Equal(first.ThingId, second.ThingId);
        var stored = await StoredAsync("sensor-1");
        Assert.Equal(1, stored.Version);
        Assert.Equal(ServiceDatabase.Start, stored.CreatedAt);
    }

    [Fact]
    public async Task CreateAsync_IdenticalWithEmptyValueAdded_ReturnsSameThing()
    {
        var first = await CreateAsync("sensor-1", attributes: Attrs(("a", "1")));

        var second = await CreateAsync("sensor-1", attributes: Attrs(("a", "1"), ("gone", "")));

        Assert.Equal(first.ThingId, second.ThingId);
    }

    [Fact]
    public async Task CreateAsync_ConcurrentIdentical_AllReturnSameThingId()
    {
        var creates = Enumerable.Range(0, 10).Select(_ => Task.Run(() => CreateAsync("sensor-1", attributes: Attrs(("a", "1")))));

        var things = await Task.WhenAll(creates);

        Assert.Single(things.Select(t => t.ThingId).Distinct(StringComparer.Ordinal));
        Assert.Equal(things[0].ThingId, (await StoredAsync("sensor-1")).ThingId);
    }

    [Fact]
    public async Task CreateAsync_SameNameDifferentAttributes_ThrowsResourceAlreadyExistsAndKeepsThing()
    {
        var first = await CreateAsync("sensor-1", attributes: Attrs(("a", "1")));

        var exception = await ServiceAssert.ThrowsAsync(
            ErrorCode.ResourceAlreadyExists,
            () => CreateAsync("sensor-1", attributes: Attrs(("a", "2"))),
            "Thing sensor-1 already exists in account with different attributes");

        Assert.Equal(first.ThingId, exception.ResourceId);
        Assert.Equal(new ResourceRef(ResourceKind.Thing, "sensor-1"), exception.Resource);
        var stored = await StoredAsync("sensor-1");
        Assert.Equal(Attrs(("a", "1")), stored.Attributes);
        Assert.Equal(1, stored.Version);
        Assert.Empty(await _db.ThingNamesWhereAsync(new ThingQuery("a", "2", false, null)));
    }

    [Fact]
    public async Task CreateAsync_SameNameDifferentType_ThrowsResourceAlreadyExists()
    {
        await CreateTypeAsync("sensor");
        await CreateAsync("sensor-1");

        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceAlreadyExists, () => CreateAsync("sensor-1", "sensor"));

        Assert.Null((await StoredAsync("sensor-1")).TypeName);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("slash/name")]
    [InlineData("dot.name")]
    public async Task CreateAsync_InvalidName_ThrowsInvalidRequestAndStoresNothing(string name)
    {
        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => CreateAsync(name), "at 'thingName' failed to satisfy constraint");

        Assert.Null(await _db.GetThingAsync(name));
    }

    [Fact]
    public async Task CreateAsync_NameLength128And129_AcceptsOnly128()
    {
        await CreateAsync(new string('n', 128));

        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => CreateAsync(new string('n', 129)));

        Assert.NotNull(await _db.GetThingAsync(new string('n', 128)));
        Assert.Null(await _db.GetThingAsync(new string('n', 129)));
    }

    [Theory]
    [InlineData("bad key", "v")]
    [InlineData("key", "bad value")]
    [InlineData("key", "$")]
    public async Task CreateAsync_InvalidAttribute_ThrowsInvalidRequestAndStoresNothing(string key, string value)
    {
        await ServiceAssert.ThrowsAsync(
            ErrorCode.InvalidRequest, () => CreateAsync("sensor-1", attributes: Attrs((key, value))), "attributePayload.attributes");

        Assert.Null(await _db.GetThingAsync("sensor-1"));
    }

    [Fact]
    public async Task CreateAsync_NameWithTrailingNewline_ThrowsInvalidRequestAndStoresNothing()
    {
        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => CreateAsync("sensor\n"), "at 'thingName' failed to satisfy constraint");

        Assert.Null(await _db.GetThingAsync("sensor\n"));
    }

    [Fact]
    public async Task CreateAsync_InvalidAttributeNameWithEmptyValue_ThrowsInvalidRequest()
    {
        await ServiceAssert.ThrowsAsync(
            ErrorCode.InvalidRequest, () => CreateAsync("sensor-1", attributes: Attrs(("bad key", ""))), "attributePayload.attributes");

        Assert.Null(await _db.GetThingAsync("sensor-1"));
    }

    [Fact]
    public async Task CreateAsync_ThreeAttributesWithoutType_Succeeds()
    {
        await CreateAsync("sensor-1", attributes: ManyAttrs(3));

        Assert.Equal(3, (await StoredAsync("sensor-1")).Attributes.Count);
    }

    [Fact]
    public async Task CreateAsync_FourAttributesWithoutType_ThrowsInvalidRequestAndStoresNothing()
    {
        await ServiceAssert.ThrowsAsync(
            ErrorCode.InvalidRequest,
            () => CreateAsync("sensor-1", attributes: ManyAttrs(4)),
            "A thing without a thing type can have at most 3 attributes; 4 were given.");

        Assert.Null(await _db.GetThingAsync("sensor-1"));
        Assert.Empty(await _db.ThingNamesWhereAsync(new ThingQuery("attr00", null, false, null)));
    }

    [Fact]
    public async Task CreateAsync_EmptyValues_AreDroppedAndDoNotCount()
    {
        var attributes = ManyAttrs(3);
        attributes["empty"] = string.Empty;

        await CreateAsync("sensor-1", attributes: attributes);

        var stored = await StoredAsync("sensor-1");
        Assert.Equal(3, stored.Attributes.Count);
        Assert.False(stored.Attributes.ContainsKey("empty"));
    }

    [Fact]
    public async Task CreateAsync_FiftyAttributesWithType_Succeeds()
    {
        await CreateTypeAsync("sensor");

        await CreateAsync("sensor-1", "sensor", ManyAttrs(50));

        var stored = await StoredAsync("sensor-1");
        Assert.Equal(50, stored.Attributes.Count);
        Assert.Equal(["sensor-1"], await _db.ThingNamesWhereAsync(new ThingQuery("attr49", "value49", false, null)));
    }

    [Fact]
    public async Task CreateAsync_FiftyOneAttributesWithType_ThrowsInvalidRequestAndStoresNothing()
    {
        await CreateTypeAsync("sensor");

        await ServiceAssert.ThrowsAsync(
            ErrorCode.InvalidRequest,
            () => CreateAsync("sensor-1", "sensor", ManyAttrs(51)),
            "A thing can have at most 50 attributes; 51 were given.");

        Assert.Null(await _db.GetThingAsync("sensor-1"));
    }

    [Fact]
    public async Task CreateAsync_UnknownType_ThrowsResourceNotFoundAndStoresNothing()
    {
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => CreateAsync("sensor-1", "nope"), "Thing type nope does not exist.");

        Assert.Null(await _db.GetThingAsync("sensor-1"));
    }

    [Fact]
    public async Task CreateAsync_DeprecatedType_ThrowsInvalidRequestAndStoresNothing()
    {
        await CreateTypeAsync("old");
        await _db.ThingTypes.DeprecateAsync("old", undo: false, None);

        await ServiceAssert.ThrowsAsync(
            ErrorCode.InvalidRequest, () => CreateAsync("sensor-1", "old"), "Can not create new thing with deprecated thing type: old");

        Assert.Null(await _db.GetThingAsync("sensor-1"));
    }

    [Fact]
    public async Task CreateAsync_BillingGroup_ThrowsResourceNotFound()
    {
        await ServiceAssert.ThrowsAsync(
            ErrorCode.ResourceNotFound, () => Things.CreateAsync("sensor-1", null, null, "billing", None), "Billing group billing does not exist");

        Assert.Null(await _db.GetThingAsync("sensor-1"));
    }

    // ---- DescribeAsync ----

    [Fact]
    public async Task DescribeAsync_Existing_ReturnsStoredThing()
    {
        var created = await CreateAsync("sensor-1", attributes: Attrs(("a", "1")));

        var described = await Things.DescribeAsync("sensor-1", None);

        Assert.Equal(created.ThingId, described.ThingId);
        Assert.Equal(Attrs(("a", "1")), described.Attributes);
    }

    [Fact]
    public async Task DescribeAsync_Missing_ThrowsResourceNotFound()
    {
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => Things.DescribeAsync("nope", None), "Thing nope cannot be found.");
    }

    // ---- UpdateAsync ----

    [Fact]
    public async Task UpdateAsync_Merge_KeepsOtherAttributesAndOverwritesGiven()
    {
        await CreateAsync("sensor-1", attributes: Attrs(("a", "1"), ("b", "2")));

        await UpdateAsync("sensor-1", attributes: Attrs(("b", "20"), ("c", "3")), merge: true);

        Assert.Equal(Attrs(("a", "1"), ("b", "20"), ("c", "3")), (await StoredAsync("sensor-1")).Attributes);
        Assert.Equal(["sensor-1"], await _db.ThingNamesWhereAsync(new ThingQuery("b", "20", false, null)));
        Assert.Empty(await _db.ThingNamesWhereAsync(new ThingQuery("b", "2", false, null)));
    }

    [Fact]
    public async Task UpdateAsync_Replace_DropsAttributesNotGiven()
    {
        await CreateAsync("sensor-1", attributes: Attrs(("a", "1"), ("b", "2")));

        await UpdateAsync("sensor-1", attributes: Attrs(("c", "3")), merge: false);

        Assert.Equal(Attrs(("c", "3")), (await StoredAsync("sensor-1")).Attributes);
        Assert.Empty(await _db.ThingNamesWhereAsync(new ThingQuery("a", null, false, null)));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task UpdateAsync_EmptyValue_RemovesAttribute(bool merge)
    {
        await CreateAsync("sensor-1", attributes: Attrs(("a", "1"), ("b", "2")));

        await UpdateAsync("sensor-1", attributes: Attrs(("a", ""), ("b", "2")), merge: merge);

        Assert.Equal(Attrs(("b", "2")), (await StoredAsync("sensor-1")).Attributes);
        Assert.Empty(await _db.ThingNamesWhereAsync(new ThingQuery("a", null, false, null)));
    }

    [Fact]
    public async Task UpdateAsync_NoAttributePayload_KeepsAttributes()
    {
        await CreateTypeAsync("sensor");
        await CreateAsync("sensor-1", attributes: Attrs(("a", "1")));

        await UpdateAsync("sensor-1", type: "sensor", attributes: null, merge: false);

        var stored = await StoredAsync("sensor-1");
        Assert.Equal("sensor", stored.TypeName);
        Assert.Equal(Attrs(("a", "1")), stored.Attributes);
    }

    [Fact]
    public async Task UpdateAsync_EachUpdate_IncrementsVersion()
    {
        await CreateAsync("sensor-1");

        await UpdateAsync("sensor-1", attributes: Attrs(("a", "1")));
        Assert.Equal(2, (await StoredAsync("sensor-1")).Version);

        await UpdateAsync("sensor-1", attributes: Attrs(("a", "2")), expectedVersion: 2);
        Assert.Equal(3, (await StoredAsync("sensor-1")).Version);
    }

    [Fact]
    public async Task UpdateAsync_ExpectedVersionMismatch_ThrowsVersionConflictAndChangesNothing()
    {
        await CreateAsync("sensor-1", attributes: Attrs(("a", "1")));
        await UpdateAsync("sensor-1", attributes: Attrs(("a", "2")));

        await ServiceAssert.ThrowsAsync(
            ErrorCode.VersionConflict,
            () => UpdateAsync("sensor-1", attributes: Attrs(("a", "3")), expectedVersion: 1),
            "The version for thing sensor-1 does not match the expected version.");

        var stored = await StoredAsync("sensor-1");
        Assert.Equal(2, stored.Version);
        Assert.Equal(Attrs(("a", "2")), stored.Attributes);
    }

    [Fact]
    public async Task UpdateAsync_RemoveThingTypeAndTypeName_ThrowsInvalidRequestAndChangesNothing()
    {
        await CreateTypeAsync("sensor");
        await CreateAsync("sensor-1", "sensor");

        await ServiceAssert.ThrowsAsync(
            ErrorCode.InvalidRequest,
            () => UpdateAsync("sensor-1", type: "sensor", removeThingType: true),
            "Cannot set thingTypeName and removeThingType in the same request.");

        var stored = await StoredAsync("sensor-1");
        Assert.Equal("sensor", stored.TypeName);
        Assert.Equal(1, stored.Version);
    }

    [Fact]
    public async Task UpdateAsync_RemoveThingType_ClearsType()
    {
        await CreateTypeAsync("sensor");
        await CreateAsync("sensor-1", "sensor", Attrs(("a", "1")));

        await UpdateAsync("sensor-1", removeThingType: true);

        var stored = await StoredAsync("sensor-1");
        Assert.Null(stored.TypeName);
        Assert.Equal(2, stored.Version);
        Assert.Empty(await _db.ThingNamesWhereAsync(new ThingQuery(null, null, false, "sensor")));
    }

    [Fact]
    public async Task UpdateAsync_RemoveThingTypeWithFourAttributes_ThrowsInvalidRequestAndKeepsType()
    {
        await CreateTypeAsync("sensor");
        await CreateAsync("sensor-1", "sensor", ManyAttrs(4));

        await ServiceAssert.ThrowsAsync(
            ErrorCode.InvalidRequest, () => UpdateAsync("sensor-1", removeThingType: true), "A thing without a thing type can have at most 3 attributes");

        var stored = await StoredAsync("sensor-1");
        Assert.Equal("sensor", stored.TypeName);
        Assert.Equal(1, stored.Version);
    }

    [Fact]
    public async Task UpdateAsync_SetTypeAndManyAttributes_Succeeds()
    {
        await CreateTypeAsync("sensor");
        await CreateAsync("sensor-1", attributes: ManyAttrs(3));

        await UpdateAsync("sensor-1", type: "sensor", attributes: ManyAttrs(50));

        var stored = await StoredAsync("sensor-1");
        Assert.Equal("sensor", stored.TypeName);
        Assert.Equal(50, stored.Attributes.Count);
    }

    [Fact]
    public async Task UpdateAsync_MergePastLimitWithoutType_ThrowsInvalidRequestAndChangesNothing()
    {
        await CreateAsync("sensor-1", attributes: ManyAttrs(3));

        await ServiceAssert.ThrowsAsync(
            ErrorCode.InvalidRequest, () => UpdateAsync("sensor-1", attributes: Attrs(("extra", "1"))), "at most 3 attributes; 4 were given");

        var stored = await StoredAsync("sensor-1");
        Assert.Equal(ManyAttrs(3), stored.Attributes);
        Assert.Equal(1, stored.Version);
        Assert.Empty(await _db.ThingNamesWhereAsync(new ThingQuery("extra", null, false, null)));
    }

    [Fact]
    public async Task UpdateAsync_FiftyOneAttributesWithType_ThrowsInvalidRequest()
    {
        await CreateTypeAsync("sensor");
        await CreateAsync("sensor-1", "sensor", ManyAttrs(50));

        await ServiceAssert.ThrowsAsync(
            ErrorCode.InvalidRequest, () => UpdateAsync("sensor-1", attributes: Attrs(("extra", "1"))), "at most 50 attributes; 51 were given");

        Assert.Equal(50, (await StoredAsync("sensor-1")).Attributes.Count);
    }

    [Fact]
    public async Task UpdateAsync_InvalidAttribute_ThrowsInvalidRequestAndChangesNothing()
    {
        await CreateAsync("sensor-1", attributes: Attrs(("a", "1")));

        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => UpdateAsync("sensor-1", attributes: Attrs(("bad key", "1"))));

        Assert.Equal(1, (await StoredAsync("sensor-1")).Version);
    }

    [Fact]
    public async Task UpdateAsync_InvalidAttributeNameWithEmptyValue_ThrowsInvalidRequest()
    {
        await CreateAsync("sensor-1");

        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => UpdateAsync("sensor-1", attributes: Attrs(("bad key", ""))), "attributePayload.attributes");

        Assert.Equal(1, (await StoredAsync("sensor-1")).Version);
    }

    [Fact]
    public async Task UpdateAsync_UnknownType_ThrowsResourceNotFoundAndChangesNothing()
    {
        await CreateAsync("sensor-1", attributes: Attrs(("a", "1")));

        await ServiceAssert.ThrowsAsync(
            ErrorCode.ResourceNotFound, () => UpdateAsync("sensor-1", type: "nope", attributes: Attrs(("a", "2"))), "Thing type nope does not exist.");

        var stored = await StoredAsync("sensor-1");
        Assert.Null(stored.TypeName);
        Assert.Equal(Attrs(("a", "1")), stored.Attributes);
        Assert.Equal(1, stored.Version);
    }

    [Fact]
    public async Task UpdateAsync_ToDeprecatedType_ThrowsInvalidRequest()
    {
        await CreateTypeAsync("old");
        await _db.ThingTypes.DeprecateAsync("old", undo: false, None);
        await CreateAsync("sensor-1");

        await ServiceAssert.ThrowsAsync(
            ErrorCode.InvalidRequest, () => UpdateAsync("sensor-1", type: "old"), "Can not update a thing to use deprecated thing type: old");

        Assert.Null((await StoredAsync("sensor-1")).TypeName);
    }

    [Fact]
    public async Task UpdateAsync_ThingOfTypeDeprecatedLater_CanStillChangeAttributes()
    {
        await CreateTypeAsync("old");
        await CreateAsync("sensor-1", "old");
        await _db.ThingTypes.DeprecateAsync("old", undo: false, None);

        await UpdateAsync("sensor-1", type: "old", attributes: Attrs(("a", "1")));

        var stored = await StoredAsync("sensor-1");
        Assert.Equal("old", stored.TypeName);
        Assert.Equal(Attrs(("a", "1")), stored.Attributes);
    }

    [Fact]
    public async Task UpdateAsync_Missing_ThrowsResourceNotFound()
    {
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => UpdateAsync("nope", attributes: Attrs(("a", "1"))), "Thing nope cannot be found.");

        Assert.Null(await _db.GetThingAsync("nope"));
    }

    // ---- DeleteAsync ----

    [Fact]
    public async Task DeleteAsync_Existing_RemovesThingAndItsAttributes()
    {
        await CreateAsync("sensor-1", attributes: Attrs(("a", "1")));

        await Things.DeleteAsync("sensor-1", null, None);

        Assert.Null(await _db.GetThingAsync("sensor-1"));
        Assert.Empty(await _db.ThingNamesWhereAsync(new ThingQuery("a", null, false, null)));
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => Things.DescribeAsync("sensor-1", None));
    }

    [Fact]
    public async Task DeleteAsync_Missing_DoesNotThrow()
    {
        await Things.DeleteAsync("nope", null, None);
        await Things.DeleteAsync("nope", 3, None);
    }

    [Fact]
    public async Task DeleteAsync_WrongExpectedVersion_ThrowsVersionConflictAndKeepsThing()
    {
        await CreateAsync("sensor-1");

        await ServiceAssert.ThrowsAsync(
            ErrorCode.VersionConflict, () => Things.DeleteAsync("sensor-1", 2, None), "The version for thing sensor-1 does not match the expected version.");

        Assert.NotNull(await _db.GetThingAsync("sensor-1"));
    }

    [Fact]
    public async Task DeleteAsync_RightExpectedVersion_Deletes()
    {
        await CreateAsync("sensor-1");
        await UpdateAsync("sensor-1", attributes: Attrs(("a", "1")));

        await Things.DeleteAsync("sensor-1", 2, None);

        Assert.Null(await _db.GetThingAsync("sensor-1"));
    }

    [Fact]
    public async Task DeleteAsync_ThenCreateSameName_IsANewThing()
    {
        var first = await CreateAsync("sensor-1", attributes: Attrs(("a", "1")));
        await Things.DeleteAsync("sensor-1", null, None);

        var second = await CreateAsync("sensor-1", attributes: Attrs(("b", "2")));

        Assert.NotEqual(first.ThingId, second.ThingId);
        Assert.Equal(Attrs(("b", "2")), (await StoredAsync("sensor-1")).Attributes);
        Assert.Empty(await _db.ThingNamesWhereAsync(new ThingQuery("a", null, false, null)));
    }

    // ---- ListAsync ----

    private async Task<IReadOnlyList<string>> ListNamesAsync(ThingQuery query, int? maxResults = null)
    {
        var page = await Things.ListAsync(query, PageRequest.From(null, maxResults), None);
        return page.Items.Select(t => t.Name).ToArray();
    }

    private static ThingQuery Query(string? attributeName = null, string? attributeValue = null, bool prefix = false, string? type = null) =>
        new(attributeName, attributeValue, prefix, type);

    private async Task SeedListingAsync()
    {
        await CreateTypeAsync("camera");
        await CreateTypeAsync("sensor");
        await CreateAsync("t1", "sensor", Attrs(("site", "berlin"), ("floor", "1")));
        await CreateAsync("t2", "sensor", Attrs(("site", "bern")));
        await CreateAsync("t3", "camera", Attrs(("site", "berlin")));
        await CreateAsync("t4", null, Attrs(("site", "Berlin")));
        await CreateAsync("t5", null, Attrs(("floor", "berlin")));
        await CreateAsync("t6");
    }

    [Fact]
    public async Task ListAsync_NoFilter_ReturnsEveryThingSorted()
    {
        await SeedListingAsync();

        Assert.Equal(["t1", "t2", "t3", "t4", "t5", "t6"], await ListNamesAsync(Query()));
    }

    [Fact]
    public async Task ListAsync_AttributeExact_MatchesNameAndWholeValueCaseSensitively()
    {
        await SeedListingAsync();

        Assert.Equal(["t1", "t3"], await ListNamesAsync(Query("site", "berlin")));
        Assert.Equal(["t4"], await ListNamesAsync(Query("site", "Berlin")));
        Assert.Empty(await ListNamesAsync(Query("site", "ber")));
    }

    [Fact]
    public async Task ListAsync_AttributePrefix_MatchesValuesStartingWithPrefix()
    {
        await SeedListingAsync();

        Assert.Equal(["t1", "t2", "t3"], await ListNamesAsync(Query("site", "ber", prefix: true)));
        Assert.Equal(["t1", "t3"], await ListNamesAsync(Query("site", "berlin", prefix: true)));
        Assert.Empty(await ListNamesAsync(Query("site", "berlinx", prefix: true)));
    }

    [Fact]
    public async Task ListAsync_AttributeNameOnly_ReturnsThingsHavingIt()
    {
        await SeedListingAsync();

        Assert.Equal(["t1", "t5"], await ListNamesAsync(Query("floor")));
    }

    [Fact]
    public async Task ListAsync_Type_ReturnsThingsOfType()
    {
        await SeedListingAsync();

        Assert.Equal(["t1", "t2"], await ListNamesAsync(Query(type: "sensor")));
        Assert.Equal(["t3"], await ListNamesAsync(Query(type: "camera")));
        Assert.Empty(await ListNamesAsync(Query(type: "nope")));
    }

    [Fact]
    public async Task ListAsync_TypeAndAttribute_ReturnsIntersection()
    {
        await SeedListingAsync();

        Assert.Equal(["t1"], await ListNamesAsync(Query("site", "berlin", type: "sensor")));
        Assert.Equal(["t1", "t2"], await ListNamesAsync(Query("site", "ber", prefix: true, type: "sensor")));
        Assert.Empty(await ListNamesAsync(Query("floor", "berlin", type: "sensor")));
    }

    [Fact]
    public async Task ListAsync_AttributeValueWithoutName_ThrowsInvalidRequest()
    {
        await ServiceAssert.ThrowsAsync(
            ErrorCode.InvalidRequest,
            () => Things.ListAsync(Query(attributeValue: "berlin"), PageRequest.From(null, null), None),
            "attributeValue can only be used together with attributeName.");
    }

    [Fact]
    public async Task ListAsync_WalkAllPages_ReturnsEveryThingOnceSortedAndEndsWithNullToken()
    {
        var names = Enumerable.Range(0, 25).Select(i => $"thing-{i:D2}").ToArray();
        foreach (var name in names.Reverse())
        {
            await CreateAsync(name);
        }

        var seen = new List<string>();
        var pageSizes = new List<int>();
        string? token = null;
        do
        {
            var page = await Things.ListAsync(Query(), PageRequest.From(token, 7), None);
            seen.AddRange(page.Items.Select(t => t.Name));
            pageSizes.Add(page.Items.Count);
            token = page.NextKey;
        }
        while (token is not null);

        Assert.Equal(names, seen);
        Assert.Equal([7, 7, 7, 4], pageSizes);
    }

    [Fact]
    public async Task ListAsync_WalkAllPagesWithAttributeFilter_ReturnsEveryMatchOnce()
    {
        await CreateTypeAsync("sensor");
        for (var i = 0; i < 12; i++)
        {
            await CreateAsync($"thing-{i:D2}", "sensor", Attrs(("parity", i % 2 == 0 ? "even" : "odd")));
        }

        var seen = new List<string>();
        string? token = null;
        do
        {
            var page = await Things.ListAsync(Query("parity", "even", type: "sensor"), PageRequest.From(token, 4), None);
            seen.AddRange(page.Items.Select(t => t.Name));
            token = page.NextKey;
        }
        while (token is not null);

        Assert.Equal(["thing-00", "thing-02", "thing-04", "thing-06", "thing-08", "thing-10"], seen);
    }

    [Fact]
    public async Task ListAsync_ExactlyOnePageOfItems_HasNoNextToken()
    {
        for (var i = 0; i < 7; i++)
        {
            await CreateAsync($"thing-{i}");
        }

        var page = await Things.ListAsync(Query(), PageRequest.From(null, 7), None);

        Assert.Equal(7, page.Items.Count);
        Assert.Null(page.NextKey);
    }

    [Fact]
    public async Task ListAsync_PageThenDeleteNext_ContinuesAfterLastReturned()
    {
        foreach (var name in new[] { "a", "b", "c", "d" })
        {
            await CreateAsync(name);
        }

        var first = await Things.ListAsync(Query(), PageRequest.From(null, 2), None);
        await Things.DeleteAsync("c", null, None);
        var second = await Things.ListAsync(Query(), PageRequest.From(first.NextKey, 2), None);

        Assert.Equal(["a", "b"], first.Items.Select(t => t.Name));
        Assert.Equal(["d"], second.Items.Select(t => t.Name));
        Assert.Null(second.NextKey);
    }

    [Fact]
    public async Task ListAsync_NextKeyIsTheLastName()
    {
        await CreateAsync("a:1");
        await CreateAsync("a:2");

        var page = await Things.ListAsync(Query(), PageRequest.From(null, 1), None);

        Assert.Equal("a:1", page.NextKey);
    }
}
