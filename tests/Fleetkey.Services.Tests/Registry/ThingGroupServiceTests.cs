using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Registry;
using Xunit;
using static Fleetkey.Services.Tests.ServiceDatabase;

namespace Fleetkey.Services.Tests.Registry;

public sealed class ThingGroupServiceTests : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly ServiceDatabase _db = new();

    public Task InitializeAsync() => _db.InitializeAsync();

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    private ThingGroupService Groups => _db.ThingGroups;

    private Task<ThingGroup> CreateAsync(string name, string? parent = null, string? description = null, IReadOnlyDictionary<string, string>? attributes = null, IReadOnlyList<Tag>? tags = null) =>
        Groups.CreateAsync(name, parent, description, attributes, tags, None);

    private Task<Thing> CreateThingAsync(string name) => _db.Things.CreateAsync(name, null, null, null, None);

    private async Task<ThingGroup> StoredAsync(string name) =>
        await _db.GetThingGroupAsync(name) ?? throw new InvalidOperationException($"Thing group {name} is not stored.");

    /// <summary>Creates the chain g1/g2/…/gN and returns the deepest name.</summary>
    private async Task<string> CreateChainAsync(int depth, string prefix = "g")
    {
        var parent = $"{prefix}1";
        await CreateAsync(parent);
        for (var level = 2; level <= depth; level++)
        {
            var name = $"{prefix}{level}";
            await CreateAsync(name, parent);
            parent = name;
        }

        return parent;
    }

    // ---- CreateAsync ----

    [Fact]
    public async Task CreateAsync_Root_StoresPathDepthVersionAndCreatedAt()
    {
        var created = await CreateAsync("fleet", description: "All", attributes: Attrs(("site", "berlin")));

        var stored = await StoredAsync("fleet");
        Assert.Equal(created.ThingGroupId, stored.ThingGroupId);
        Assert.Null(stored.ParentName);
        Assert.Equal("fleet", stored.Path);
        Assert.Equal(1, stored.Depth);
        Assert.Equal("All", stored.Description);
        Assert.Equal(Attrs(("site", "berlin")), stored.Attributes);
        Assert.Equal(1, stored.Version);
        Assert.Equal(ServiceDatabase.Start, stored.CreatedAt);
    }

    [Fact]
    public async Task CreateAsync_Child_PathRunsFromRoot()
    {
        await CreateAsync("fleet");
        await CreateAsync("eu", "fleet");

        await CreateAsync("berlin", "eu");

        var stored = await StoredAsync("berlin");
        Assert.Equal("eu", stored.ParentName);
        Assert.Equal("fleet/eu/berlin", stored.Path);
        Assert.Equal(["fleet", "eu"], stored.Ancestors);
        Assert.Equal("fleet", stored.RootName);
    }

    [Fact]
    public async Task CreateAsync_EmptyAttributeValues_AreDropped()
    {
        await CreateAsync("fleet", attributes: Attrs(("a", "1"), ("b", "")));

        Assert.Equal(Attrs(("a", "1")), (await StoredAsync("fleet")).Attributes);
    }

    [Fact]
    public async Task CreateAsync_IdenticalTwice_ReturnsSameId()
    {
        await CreateAsync("fleet");
        var first = await CreateAsync("eu", "fleet", "Europe", Attrs(("a", "1")));

        var second = await CreateAsync("eu", "fleet", "Europe", Attrs(("a", "1")));

        Assert.Equal(first.ThingGroupId, second.ThingGroupId);
        Assert.Equal(1, (await StoredAsync("eu")).Version);
    }

    public static TheoryData<string?, string?, string> DifferentProperties => new()
    {
        { null, "Europe", "1" },
        { "other", "Europe", "1" },
        { "fleet", "Elsewhere", "1" },
        { "fleet", null, "1" },
        { "fleet", "Europe", "2" },
    };

    [Theory]
    [MemberData(nameof(DifferentProperties))]
    public async Task CreateAsync_SameNameDifferentProperties_ThrowsResourceAlreadyExistsAndKeepsGroup(string? parent, string? description, string attributeValue)
    {
        await CreateAsync("fleet");
        await CreateAsync("other");
        var first = await CreateAsync("eu", "fleet", "Europe", Attrs(("a", "1")));

        var exception = await ServiceAssert.ThrowsAsync(
            ErrorCode.ResourceAlreadyExists,
            () => CreateAsync("eu", parent, description, Attrs(("a", attributeValue))),
            "Thing Group eu already exists in current account with different properties");

        Assert.Equal(first.ThingGroupId, exception.ResourceId);
        Assert.Equal(new ResourceRef(ResourceKind.ThingGroup, "eu"), exception.Resource);
        var stored = await StoredAsync("eu");
        Assert.Equal("fleet/eu", stored.Path);
        Assert.Equal("Europe", stored.Description);
        Assert.Equal(Attrs(("a", "1")), stored.Attributes);
    }

    [Fact]
    public async Task CreateAsync_SevenLevels_Succeeds()
    {
        var deepest = await CreateChainAsync(7);

        var stored = await StoredAsync(deepest);
        Assert.Equal(7, stored.Depth);
        Assert.Equal("g1/g2/g3/g4/g5/g6/g7", stored.Path);
    }

    [Fact]
    public async Task CreateAsync_EighthLevel_ThrowsInvalidRequestAndStoresNothing()
    {
        var deepest = await CreateChainAsync(7);

        await ServiceAssert.ThrowsAsync(
            ErrorCode.InvalidRequest,
            () => CreateAsync("g8", deepest),
            "Cannot create thing group g8: a thing group hierarchy can be at most 7 levels deep.");

        Assert.Null(await _db.GetThingGroupAsync("g8"));
    }

    [Fact]
    public async Task CreateAsync_ParentMissing_ThrowsInvalidRequestAndStoresNothing()
    {
        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => CreateAsync("eu", "nope"), "Parent thing group nope does not exist.");

        Assert.Null(await _db.GetThingGroupAsync("eu"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("has space")]
    public async Task CreateAsync_InvalidName_ThrowsInvalidRequest(string name)
    {
        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => CreateAsync(name), "at 'thingGroupName' failed to satisfy constraint");

        Assert.Null(await _db.GetThingGroupAsync(name));
    }

    [Fact]
    public async Task CreateAsync_InvalidAttribute_ThrowsInvalidRequestAndStoresNothing()
    {
        await ServiceAssert.ThrowsAsync(
            ErrorCode.InvalidRequest, () => CreateAsync("fleet", attributes: Attrs(("bad key", "1"))), "thingGroupProperties.attributePayload.attributes");

        Assert.Null(await _db.GetThingGroupAsync("fleet"));
    }

    [Fact]
    public async Task CreateAsync_InvalidAttributeNameWithEmptyValue_ThrowsInvalidRequest()
    {
        await ServiceAssert.ThrowsAsync(
            ErrorCode.InvalidRequest, () => CreateAsync("fleet", attributes: Attrs(("bad key", ""))), "thingGroupProperties.attributePayload.attributes");

        Assert.Null(await _db.GetThingGroupAsync("fleet"));
    }

    [Fact]
    public async Task CreateAsync_NameWithTrailingNewline_ThrowsInvalidRequestAndStoresNothing()
    {
        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => CreateAsync("fleet\n"), "at 'thingGroupName' failed to satisfy constraint");

        Assert.Null(await _db.GetThingGroupAsync("fleet\n"));
    }

    [Fact]
    public async Task CreateAsync_HundredAndFirstChild_ThrowsLimitExceeded()
    {
        await CreateAsync("fleet");
        for (var i = 0; i < 100; i++)
        {
            await CreateAsync($"child-{i:D3}", "fleet");
        }

        await ServiceAssert.ThrowsAsync(ErrorCode.LimitExceeded, () => CreateAsync("child-100", "fleet"), "Thing group fleet already has 100 child groups.");

        Assert.Null(await _db.GetThingGroupAsync("child-100"));
        await CreateAsync("grandchild", "child-000");
    }

    [Fact]
    public async Task CreateAsync_WithTags_StoresTags()
    {
        await CreateAsync("fleet", tags: [new Tag("team", "a")]);

        Assert.Equal([new Tag("team", "a")], await _db.StoredTagsAsync(ThingGroupService.TagKind, "fleet"));
    }

    [Fact]
    public async Task CreateAsync_ReservedTagKey_ThrowsInvalidRequestAndStoresNothing()
    {
        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => CreateAsync("fleet", tags: [new Tag("AWS:x", "1")]), "reserved");

        Assert.Null(await _db.GetThingGroupAsync("fleet"));
        Assert.Empty(await _db.StoredTagsAsync(ThingGroupService.TagKind, "fleet"));
    }

    [Fact]
    public async Task DescribeAsync_Missing_ThrowsResourceNotFound()
    {
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => Groups.DescribeAsync("nope", None), "Thing group nope does not exist.");
    }

    // ---- UpdateAsync ----

    [Fact]
    public async Task UpdateAsync_Merge_KeepsOtherAttributesAndReturnsNewVersion()
    {
        await CreateAsync("fleet", description: "All", attributes: Attrs(("a", "1"), ("b", "2")));

        var version = await Groups.UpdateAsync("fleet", null, Attrs(("b", "20"), ("c", "3")), merge: true, null, None);

        Assert.Equal(2, version);
        var stored = await StoredAsync("fleet");
        Assert.Equal(2, stored.Version);
        Assert.Equal("All", stored.Description);
        Assert.Equal(Attrs(("a", "1"), ("b", "20"), ("c", "3")), stored.Attributes);
    }

    [Fact]
    public async Task UpdateAsync_Replace_DropsAttributesNotGiven()
    {
        await CreateAsync("fleet", attributes: Attrs(("a", "1"), ("b", "2")));

        await Groups.UpdateAsync("fleet", null, Attrs(("c", "3")), merge: false, null, None);

        Assert.Equal(Attrs(("c", "3")), (await StoredAsync("fleet")).Attributes);
    }

    [Fact]
    public async Task UpdateAsync_EmptyValue_RemovesAttribute()
    {
        await CreateAsync("fleet", attributes: Attrs(("a", "1"), ("b", "2")));

        await Groups.UpdateAsync("fleet", null, Attrs(("a", "")), merge: true, null, None);

        Assert.Equal(Attrs(("b", "2")), (await StoredAsync("fleet")).Attributes);
    }

    [Fact]
    public async Task UpdateAsync_Description_ChangesDescriptionOnly()
    {
        await CreateAsync("fleet", description: "All", attributes: Attrs(("a", "1")));

        await Groups.UpdateAsync("fleet", "Everything", null, merge: false, 1, None);

        var stored = await StoredAsync("fleet");
        Assert.Equal("Everything", stored.Description);
        Assert.Equal(Attrs(("a", "1")), stored.Attributes);
    }

    [Fact]
    public async Task UpdateAsync_ExpectedVersionMismatch_ThrowsVersionConflictAndChangesNothing()
    {
        await CreateAsync("fleet", description: "All", attributes: Attrs(("a", "1")));

        await ServiceAssert.ThrowsAsync(
            ErrorCode.VersionConflict,
            () => Groups.UpdateAsync("fleet", "Other", Attrs(("a", "2")), merge: true, 2, None),
            "The version for thing group fleet does not match the expected version.");

        var stored = await StoredAsync("fleet");
        Assert.Equal(1, stored.Version);
        Assert.Equal("All", stored.Description);
        Assert.Equal(Attrs(("a", "1")), stored.Attributes);
    }

    [Fact]
    public async Task UpdateAsync_InvalidAttribute_ThrowsInvalidRequestAndChangesNothing()
    {
        await CreateAsync("fleet");

        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => Groups.UpdateAsync("fleet", null, Attrs(("k", "bad value")), merge: true, null, None));

        Assert.Equal(1, (await StoredAsync("fleet")).Version);
    }

    [Fact]
    public async Task UpdateAsync_InvalidAttributeNameWithEmptyValue_ThrowsInvalidRequest()
    {
        await CreateAsync("fleet");

        await ServiceAssert.ThrowsAsync(
            ErrorCode.InvalidRequest, () => Groups.UpdateAsync("fleet", null, Attrs(("bad key", "")), merge: true, null, None), "thingGroupProperties.attributePayload.attributes");

        Assert.Equal(1, (await StoredAsync("fleet")).Version);
    }

    [Fact]
    public async Task UpdateAsync_Missing_ThrowsResourceNotFound()
    {
        await ServiceAssert.ThrowsAsync(
            ErrorCode.ResourceNotFound, () => Groups.UpdateAsync("nope", "x", null, merge: true, null, None), "Thing group nope does not exist.");
    }

    // ---- DeleteAsync ----

    [Fact]
    public async Task DeleteAsync_WithChildren_ThrowsInvalidRequestWithAwsTextAndKeepsGroup()
    {
        await CreateAsync("fleet", tags: [new Tag("team", "a")]);
        await CreateAsync("eu", "fleet");

        await ServiceAssert.ThrowsAsync(
            ErrorCode.InvalidRequest,
            () => Groups.DeleteAsync("fleet", null, None),
            "Cannot delete thing group : fleet when there are still child groups attached to it.");

        Assert.NotNull(await _db.GetThingGroupAsync("fleet"));
        Assert.Equal([new Tag("team", "a")], await _db.StoredTagsAsync(ThingGroupService.TagKind, "fleet"));
    }

    [Fact]
    public async Task DeleteAsync_LeafThenParent_DeletesBoth()
    {
        await CreateAsync("fleet");
        await CreateAsync("eu", "fleet");

        await Groups.DeleteAsync("eu", null, None);
        await Groups.DeleteAsync("fleet", null, None);

        Assert.Null(await _db.GetThingGroupAsync("eu"));
        Assert.Null(await _db.GetThingGroupAsync("fleet"));
    }

    [Fact]
    public async Task DeleteAsync_Missing_DoesNotThrow()
    {
        await Groups.DeleteAsync("nope", null, None);
        await Groups.DeleteAsync("nope", 7, None);
    }

    [Fact]
    public async Task DeleteAsync_WrongExpectedVersion_ThrowsVersionConflictAndKeepsGroup()
    {
        await CreateAsync("fleet");

        await ServiceAssert.ThrowsAsync(
            ErrorCode.VersionConflict, () => Groups.DeleteAsync("fleet", 5, None), "The version for thing group fleet does not match the expected version.");

        Assert.NotNull(await _db.GetThingGroupAsync("fleet"));
    }

    [Fact]
    public async Task DeleteAsync_RightExpectedVersion_Deletes()
    {
        await CreateAsync("fleet");

        await Groups.DeleteAsync("fleet", 1, None);

        Assert.Null(await _db.GetThingGroupAsync("fleet"));
    }

    [Fact]
    public async Task DeleteAsync_WithThings_RemovesMembershipsAndKeepsThings()
    {
        await CreateAsync("fleet");
        await CreateThingAsync("sensor-1");
        await Groups.AddThingAsync("fleet", "sensor-1", None);

        await Groups.DeleteAsync("fleet", null, None);

        Assert.NotNull(await _db.GetThingAsync("sensor-1"));
        Assert.Empty(await _db.GroupsOfThingAsync("sensor-1"));
    }

    [Fact]
    public async Task DeleteAsync_Existing_RemovesItsTags()
    {
        await CreateAsync("fleet", tags: [new Tag("team", "a")]);

        await Groups.DeleteAsync("fleet", null, None);

        Assert.Empty(await _db.StoredTagsAsync(ThingGroupService.TagKind, "fleet"));
    }

    // ---- AddThingAsync / RemoveThingAsync ----

    [Fact]
    public async Task AddThingAsync_Twice_IsIdempotent()
    {
        await CreateAsync("fleet");
        await CreateThingAsync("sensor-1");

        await Groups.AddThingAsync("fleet", "sensor-1", None);
        await Groups.AddThingAsync("fleet", "sensor-1", None);

        Assert.Equal(["fleet"], await _db.GroupsOfThingAsync("sensor-1"));
        Assert.Equal(["sensor-1"], await _db.ThingsInGroupAsync("fleet"));
    }

    [Fact]
    public async Task AddThingAsync_GroupMissing_ThrowsResourceNotFound()
    {
        await CreateThingAsync("sensor-1");

        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => Groups.AddThingAsync("nope", "sensor-1", None), "Thing group nope does not exist.");
    }

    [Fact]
    public async Task AddThingAsync_ThingMissing_ThrowsResourceNotFound()
    {
        await CreateAsync("fleet");

        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => Groups.AddThingAsync("fleet", "nope", None), "Thing nope cannot be found.");

        Assert.Empty(await _db.ThingsInGroupAsync("fleet"));
    }

    [Fact]
    public async Task AddThingAsync_TenHierarchies_Succeeds_EleventhThrowsInvalidRequest()
    {
        await CreateThingAsync("sensor-1");
        for (var i = 0; i < 11; i++)
        {
            await CreateAsync($"root-{i:D2}");
        }

        for (var i = 0; i < 10; i++)
        {
            await Groups.AddThingAsync($"root-{i:D2}", "sensor-1", None);
        }

        await ServiceAssert.ThrowsAsync(
            ErrorCode.InvalidRequest,
            () => Groups.AddThingAsync("root-10", "sensor-1", None),
            "Thing sensor-1 is already in 10 thing groups, the most a thing can be in.");

        Assert.Equal(10, (await _db.GroupsOfThingAsync("sensor-1")).Count);
        Assert.Empty(await _db.ThingsInGroupAsync("root-10"));

        // Adding again to a group it is already in is still fine at the limit.
        await Groups.AddThingAsync("root-00", "sensor-1", None);
    }

    [Theory]
    [InlineData("fleet", "eu")]
    [InlineData("eu", "fleet")]
    [InlineData("eu", "us")]
    [InlineData("berlin", "us")]
    [InlineData("fleet", "berlin")]
    public async Task AddThingAsync_SecondGroupOfSameHierarchy_ThrowsInvalidRequest(string first, string second)
    {
        await CreateAsync("fleet");
        await CreateAsync("eu", "fleet");
        await CreateAsync("us", "fleet");
        await CreateAsync("berlin", "eu");
        await CreateThingAsync("sensor-1");
        await Groups.AddThingAsync(first, "sensor-1", None);

        await ServiceAssert.ThrowsAsync(
            ErrorCode.InvalidRequest,
            () => Groups.AddThingAsync(second, "sensor-1", None),
            $"Thing sensor-1 is already in thing group {first} of the hierarchy rooted at fleet");

        Assert.Equal([first], await _db.GroupsOfThingAsync("sensor-1"));
    }

    [Fact]
    public async Task AddThingAsync_ConcurrentlyToSiblings_AddsToExactlyOne()
    {
        await CreateAsync("fleet");
        var siblings = Enumerable.Range(0, 8).Select(i => $"site-{i}").ToArray();
        foreach (var sibling in siblings)
        {
            await CreateAsync(sibling, "fleet");
        }

        await CreateThingAsync("sensor-1");

        var results = await Task.WhenAll(siblings.Select(group => Task.Run(async () =>
        {
            try
            {
                await Groups.AddThingAsync(group, "sensor-1", None);
                return null;
            }
            catch (ServiceException exception)
            {
                return exception;
            }
        })));

        Assert.Single(results, r => r is null);
        Assert.All(results.OfType<ServiceException>(), e => Assert.Same(ErrorCode.InvalidRequest, e.Code));
        Assert.Single(await _db.GroupsOfThingAsync("sensor-1"));
    }

    [Fact]
    public async Task AddThingAsync_GroupsOfDifferentHierarchies_Succeeds()
    {
        await CreateAsync("fleet");
        await CreateAsync("eu", "fleet");
        await CreateAsync("sensors");
        await CreateAsync("temperature", "sensors");
        await CreateThingAsync("sensor-1");

        await Groups.AddThingAsync("eu", "sensor-1", None);
        await Groups.AddThingAsync("temperature", "sensor-1", None);

        Assert.Equal(["eu", "temperature"], await _db.GroupsOfThingAsync("sensor-1"));
    }

    [Fact]
    public async Task RemoveThingAsync_Member_RemovesMembership()
    {
        await CreateAsync("fleet");
        await CreateThingAsync("sensor-1");
        await Groups.AddThingAsync("fleet", "sensor-1", None);

        await Groups.RemoveThingAsync("fleet", "sensor-1", None);

        Assert.Empty(await _db.GroupsOfThingAsync("sensor-1"));
    }

    [Fact]
    public async Task RemoveThingAsync_NotMember_DoesNotThrow()
    {
        await CreateAsync("fleet");
        await CreateThingAsync("sensor-1");

        await Groups.RemoveThingAsync("fleet", "sensor-1", None);

        Assert.Empty(await _db.GroupsOfThingAsync("sensor-1"));
    }

    [Fact]
    public async Task RemoveThingAsync_GroupOrThingMissing_ThrowsResourceNotFound()
    {
        await CreateAsync("fleet");
        await CreateThingAsync("sensor-1");

        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => Groups.RemoveThingAsync("nope", "sensor-1", None), "Thing group nope does not exist.");
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => Groups.RemoveThingAsync("fleet", "nope", None), "Thing nope cannot be found.");
    }

    [Fact]
    public async Task DeleteThing_InGroups_RemovesMemberships()
    {
        await CreateAsync("fleet");
        await CreateThingAsync("sensor-1");
        await CreateThingAsync("sensor-2");
        await Groups.AddThingAsync("fleet", "sensor-1", None);
        await Groups.AddThingAsync("fleet", "sensor-2", None);

        await _db.Things.DeleteAsync("sensor-1", null, None);

        Assert.Equal(["sensor-2"], await _db.ThingsInGroupAsync("fleet"));
    }

    // ---- UpdateGroupsForThingAsync ----

    [Fact]
    public async Task UpdateGroupsForThingAsync_MoveWithinHierarchy_RemovesBeforeAdding()
    {
        await CreateAsync("fleet");
        await CreateAsync("eu", "fleet");
        await CreateAsync("us", "fleet");
        await CreateThingAsync("sensor-1");
        await Groups.AddThingAsync("eu", "sensor-1", None);

        await Groups.UpdateGroupsForThingAsync("sensor-1", add: ["us"], remove: ["eu"], None);

        Assert.Equal(["us"], await _db.GroupsOfThingAsync("sensor-1"));
    }

    [Fact]
    public async Task UpdateGroupsForThingAsync_FailingAdd_RollsBackRemovalsAndEarlierAdds()
    {
        await CreateAsync("fleet");
        await CreateAsync("eu", "fleet");
        await CreateAsync("sensors");
        await CreateThingAsync("sensor-1");
        await Groups.AddThingAsync("eu", "sensor-1", None);

        await ServiceAssert.ThrowsAsync(
            ErrorCode.ResourceNotFound,
            () => Groups.UpdateGroupsForThingAsync("sensor-1", add: ["sensors", "nope"], remove: ["eu"], None),
            "Thing group nope does not exist.");

        Assert.Equal(["eu"], await _db.GroupsOfThingAsync("sensor-1"));
    }

    [Fact]
    public async Task UpdateGroupsForThingAsync_AddBreakingHierarchyRule_RollsBack()
    {
        await CreateAsync("fleet");
        await CreateAsync("eu", "fleet");
        await CreateAsync("us", "fleet");
        await CreateAsync("sensors");
        await CreateAsync("other");
        await CreateThingAsync("sensor-1");
        await Groups.AddThingAsync("sensors", "sensor-1", None);

        await ServiceAssert.ThrowsAsync(
            ErrorCode.InvalidRequest,
            () => Groups.UpdateGroupsForThingAsync("sensor-1", add: ["other", "eu", "us"], remove: ["sensors"], None),
            "hierarchy rooted at fleet");

        Assert.Equal(["sensors"], await _db.GroupsOfThingAsync("sensor-1"));
    }

    [Fact]
    public async Task UpdateGroupsForThingAsync_ThingMissing_ThrowsResourceNotFound()
    {
        await CreateAsync("fleet");

        await ServiceAssert.ThrowsAsync(
            ErrorCode.ResourceNotFound, () => Groups.UpdateGroupsForThingAsync("nope", add: ["fleet"], remove: [], None), "Thing nope cannot be found.");

        Assert.Empty(await _db.ThingsInGroupAsync("fleet"));
    }

    // ---- ListThingsAsync ----

    private async Task SeedMembersAsync()
    {
        // fleet ─ eu ─ berlin        fleet-x (a root whose name starts like fleet's path)
        //       └ us                 fleet0, fleet:x
        await CreateAsync("fleet");
        await CreateAsync("eu", "fleet");
        await CreateAsync("us", "fleet");
        await CreateAsync("berlin", "eu");
        await CreateAsync("fleet-x");
        await CreateAsync("fleet0");
        await CreateAsync("fleet:x");
        foreach (var (thing, group) in new[]
        {
            ("t-root", "fleet"), ("t-eu", "eu"), ("t-berlin-1", "berlin"), ("t-berlin-2", "berlin"), ("t-us", "us"),
            ("t-x", "fleet-x"), ("t-0", "fleet0"), ("t-colon", "fleet:x"),
        })
        {
            await CreateThingAsync(thing);
            await Groups.AddThingAsync(group, thing, None);
        }
    }

    private async Task<IReadOnlyList<string>> ListThingsAsync(string group, bool recursive, int? maxResults = null)
    {
        var all = new List<string>();
        string? token = null;
        do
        {
            var page = await Groups.ListThingsAsync(group, recursive, PageRequest.From(token, maxResults), None);
            all.AddRange(page.Items);
            token = page.NextKey;
        }
        while (token is not null);

        return all;
    }

    [Fact]
    public async Task ListThingsAsync_NotRecursive_ReturnsDirectMembersOnly()
    {
        await SeedMembersAsync();

        Assert.Equal(["t-root"], await ListThingsAsync("fleet", recursive: false));
        Assert.Equal(["t-eu"], await ListThingsAsync("eu", recursive: false));
    }

    [Fact]
    public async Task ListThingsAsync_Recursive_ReturnsMembersOfDescendantsOnly()
    {
        await SeedMembersAsync();

        Assert.Equal(["t-berlin-1", "t-berlin-2", "t-eu", "t-root", "t-us"], await ListThingsAsync("fleet", recursive: true));
        Assert.Equal(["t-berlin-1", "t-berlin-2", "t-eu"], await ListThingsAsync("eu", recursive: true));
        Assert.Equal(["t-berlin-1", "t-berlin-2"], await ListThingsAsync("berlin", recursive: true));
    }

    [Fact]
    public async Task ListThingsAsync_RecursiveInPages_ReturnsEveryThingOnce()
    {
        await SeedMembersAsync();

        Assert.Equal(["t-berlin-1", "t-berlin-2", "t-eu", "t-root", "t-us"], await ListThingsAsync("fleet", recursive: true, maxResults: 2));
    }

    [Fact]
    public async Task ListThingsAsync_GroupMissing_ThrowsResourceNotFound()
    {
        await ServiceAssert.ThrowsAsync(
            ErrorCode.ResourceNotFound, () => Groups.ListThingsAsync("nope", false, PageRequest.From(null, null), None), "Thing group nope does not exist.");
    }

    [Fact]
    public async Task ListGroupsForThingAsync_Member_ReturnsGroupsSorted()
    {
        await CreateAsync("b-root");
        await CreateAsync("a-root");
        await CreateThingAsync("sensor-1");
        await Groups.AddThingAsync("b-root", "sensor-1", None);
        await Groups.AddThingAsync("a-root", "sensor-1", None);

        var page = await Groups.ListGroupsForThingAsync("sensor-1", PageRequest.From(null, null), None);

        Assert.Equal(["a-root", "b-root"], page.Items.Select(g => g.Name));
    }

    [Fact]
    public async Task ListGroupsForThingAsync_ThingMissing_ThrowsResourceNotFound()
    {
        await ServiceAssert.ThrowsAsync(
            ErrorCode.ResourceNotFound, () => Groups.ListGroupsForThingAsync("nope", PageRequest.From(null, null), None), "Thing nope cannot be found.");
    }

    // ---- ListAsync ----

    private async Task<IReadOnlyList<string>> ListGroupsAsync(string? parent, string? prefix, bool recursive, int? maxResults = null)
    {
        var all = new List<string>();
        string? token = null;
        do
        {
            var page = await Groups.ListAsync(parent, prefix, recursive, PageRequest.From(token, maxResults), None);
            all.AddRange(page.Items.Select(g => g.Name));
            token = page.NextKey;
        }
        while (token is not null);

        return all;
    }

    [Fact]
    public async Task ListAsync_NoParent_ReturnsEveryGroupSorted()
    {
        await SeedMembersAsync();

        var expected = new[] { "berlin", "eu", "fleet", "fleet-x", "fleet0", "fleet:x", "us" };
        Assert.Equal(expected, await ListGroupsAsync(null, null, recursive: false));
        Assert.Equal(expected, await ListGroupsAsync(null, null, recursive: true, maxResults: 3));
    }

    [Fact]
    public async Task ListAsync_ParentNotRecursive_ReturnsChildrenOnly()
    {
        await SeedMembersAsync();

        Assert.Equal(["eu", "us"], await ListGroupsAsync("fleet", null, recursive: false));
        Assert.Empty(await ListGroupsAsync("berlin", null, recursive: false));
    }

    [Fact]
    public async Task ListAsync_ParentRecursive_ReturnsDescendantsWithoutParent()
    {
        await SeedMembersAsync();

        Assert.Equal(["berlin", "eu", "us"], await ListGroupsAsync("fleet", null, recursive: true));
        Assert.Equal(["berlin"], await ListGroupsAsync("eu", null, recursive: true));
    }

    [Fact]
    public async Task ListAsync_Prefix_FiltersByNamePrefix()
    {
        await SeedMembersAsync();

        Assert.Equal(["fleet", "fleet-x", "fleet0", "fleet:x"], await ListGroupsAsync(null, "fleet", recursive: false));
        Assert.Equal(["fleet-x"], await ListGroupsAsync(null, "fleet-", recursive: false));
        Assert.Equal(["eu"], await ListGroupsAsync("fleet", "e", recursive: true));
        Assert.Equal(["berlin"], await ListGroupsAsync("fleet", "b", recursive: true));
        Assert.Empty(await ListGroupsAsync("fleet", "b", recursive: false));
    }

    [Fact]
    public async Task ListAsync_ParentMissing_ThrowsResourceNotFound()
    {
        await ServiceAssert.ThrowsAsync(
            ErrorCode.ResourceNotFound, () => Groups.ListAsync("nope", null, false, PageRequest.From(null, null), None), "Thing group nope does not exist.");
    }
}
