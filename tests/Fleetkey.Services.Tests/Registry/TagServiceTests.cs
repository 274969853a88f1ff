using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Registry;
using Xunit;

namespace Fleetkey.Services.Tests.Registry;

public sealed class TagServiceTests : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly ServiceDatabase _db = new();

    public Task InitializeAsync() => _db.InitializeAsync();

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    private TagService Tags => _db.Tags;

    private string TypeArn => Arn.ThingType(_db.Scope, "sensor");

    private string GroupArn => Arn.ThingGroup(_db.Scope, "fleet");

    private async Task SeedAsync()
    {
        await _db.ThingTypes.CreateAsync("sensor", null, null, null, null, None);
        await _db.ThingGroups.CreateAsync("fleet", null, null, null, null, None);
    }

    private async Task<IReadOnlyList<Tag>> ListAllAsync(string arn, int? maxResults = null)
    {
        var all = new List<Tag>();
        string? token = null;
        do
        {
            var page = await Tags.ListAsync(_db.Scope, arn, PageRequest.From(token, maxResults), None);
            all.AddRange(page.Items);
            token = page.NextKey;
        }
        while (token is not null);

        return all;
    }

    private static Tag[] ManyTags(int count, string prefix = "k") =>
        Enumerable.Range(0, count).Select(i => new Tag($"{prefix}{i:D2}", $"v{i}")).ToArray();

    [Fact]
    public async Task TagAsync_ThingType_ListsTagsSortedByKey()
    {
        await SeedAsync();

        await Tags.TagAsync(_db.Scope, TypeArn, [new Tag("team", "a"), new Tag("env", "prod")], None);

        Assert.Equal([new Tag("env", "prod"), new Tag("team", "a")], await ListAllAsync(TypeArn));
        Assert.Equal([new Tag("env", "prod"), new Tag("team", "a")], await _db.StoredTagsAsync(ThingTypeService.TagKind, "sensor"));
    }

    [Fact]
    public async Task TagAsync_ThingGroup_ListsTags()
    {
        await SeedAsync();

        await Tags.TagAsync(_db.Scope, GroupArn, [new Tag("team", "a")], None);

        Assert.Equal([new Tag("team", "a")], await ListAllAsync(GroupArn));
    }

    [Fact]
    public async Task TagAsync_TypeAndGroupOfSameName_KeepSeparateTags()
    {
        await _db.ThingTypes.CreateAsync("same", null, null, null, null, None);
        await _db.ThingGroups.CreateAsync("same", null, null, null, null, None);

        await Tags.TagAsync(_db.Scope, Arn.ThingType(_db.Scope, "same"), [new Tag("kind", "type")], None);
        await Tags.TagAsync(_db.Scope, Arn.ThingGroup(_db.Scope, "same"), [new Tag("kind", "group")], None);

        Assert.Equal([new Tag("kind", "type")], await ListAllAsync(Arn.ThingType(_db.Scope, "same")));
        Assert.Equal([new Tag("kind", "group")], await ListAllAsync(Arn.ThingGroup(_db.Scope, "same")));
    }

    [Fact]
    public async Task TagAsync_ExistingKey_ReplacesValue()
    {
        await SeedAsync();
        await Tags.TagAsync(_db.Scope, TypeArn, [new Tag("team", "a"), new Tag("env", "prod")], None);

        await Tags.TagAsync(_db.Scope, TypeArn, [new Tag("team", "b")], None);

        Assert.Equal([new Tag("env", "prod"), new Tag("team", "b")], await ListAllAsync(TypeArn));
    }

    [Fact]
    public async Task TagAsync_OtherRegionSameAccount_Tags()
    {
        await SeedAsync();

        await Tags.TagAsync(_db.Scope, Arn.ThingType(_db.Scope with { Region = "us-east-1" }, "sensor"), [new Tag("team", "a")], None);

        Assert.Equal([new Tag("team", "a")], await ListAllAsync(TypeArn));
    }

    [Fact]
    public async Task TagAsync_FiftyInOneRequest_Succeeds()
    {
        await SeedAsync();

        await Tags.TagAsync(_db.Scope, TypeArn, ManyTags(50), None);

        Assert.Equal(ManyTags(50), await ListAllAsync(TypeArn));
    }

    [Fact]
    public async Task TagAsync_FiftyOneInOneRequest_ThrowsLimitExceededAndWritesNothing()
    {
        await SeedAsync();

        await ServiceAssert.ThrowsAsync(ErrorCode.LimitExceeded, () => Tags.TagAsync(_db.Scope, TypeArn, ManyTags(51), None), "at most 50 tags");

        Assert.Empty(await _db.StoredTagsAsync(ThingTypeService.TagKind, "sensor"));
    }

    [Fact]
    public async Task TagAsync_NewKeyPastFifty_ThrowsLimitExceededAndChangesNothing()
    {
        await SeedAsync();
        await Tags.TagAsync(_db.Scope, GroupArn, ManyTags(50), None);

        await ServiceAssert.ThrowsAsync(
            ErrorCode.LimitExceeded,
            () => Tags.TagAsync(_db.Scope, GroupArn, [new Tag("k00", "changed"), new Tag("new", "1")], None),
            $"this request would give {GroupArn} 51");

        Assert.Equal(ManyTags(50), await _db.StoredTagsAsync(ThingGroupService.TagKind, "fleet"));
    }

    [Fact]
    public async Task TagAsync_ExistingKeysAtFifty_Succeeds()
    {
        await SeedAsync();
        await Tags.TagAsync(_db.Scope, GroupArn, ManyTags(50), None);

        await Tags.TagAsync(_db.Scope, GroupArn, [new Tag("k00", "changed"), new Tag("k49", "changed")], None);

        var tags = await ListAllAsync(GroupArn);
        Assert.Equal(50, tags.Count);
        Assert.Equal("changed", tags[0].Value);
        Assert.Equal("changed", tags[^1].Value);
    }

    [Fact]
    public async Task TagAsync_AfterUntag_CountsOnlyRemainingTags()
    {
        await SeedAsync();
        await Tags.TagAsync(_db.Scope, GroupArn, ManyTags(50), None);
        await Tags.UntagAsync(_db.Scope, GroupArn, ["k00"], None);

        await Tags.TagAsync(_db.Scope, GroupArn, [new Tag("new", "1")], None);

        Assert.Equal(50, (await ListAllAsync(GroupArn)).Count);
    }

    [Theory]
    [InlineData("aws:owner")]
    [InlineData("AWS:owner")]
    [InlineData("Aws:")]
    public async Task TagAsync_ReservedKey_ThrowsInvalidRequestAndWritesNothing(string key)
    {
        await SeedAsync();

        await ServiceAssert.ThrowsAsync(
            ErrorCode.InvalidRequest,
            () => Tags.TagAsync(_db.Scope, TypeArn, [new Tag("team", "a"), new Tag(key, "x")], None),
            $"Tag keys starting with 'aws:' are reserved: {key}");

        Assert.Empty(await _db.StoredTagsAsync(ThingTypeService.TagKind, "sensor"));
    }

    [Fact]
    public async Task TagAsync_KeyContainingAws_IsAllowed()
    {
        await SeedAsync();

        await Tags.TagAsync(_db.Scope, TypeArn, [new Tag("my-aws:key", "x"), new Tag("aws", "y")], None);

        Assert.Equal(2, (await ListAllAsync(TypeArn)).Count);
    }

    [Fact]
    public async Task TagAsync_DuplicateKeyInRequest_ThrowsInvalidRequestAndWritesNothing()
    {
        await SeedAsync();

        await ServiceAssert.ThrowsAsync(
            ErrorCode.InvalidRequest,
            () => Tags.TagAsync(_db.Scope, TypeArn, [new Tag("team", "a"), new Tag("team", "b")], None),
            "A tag key can appear only once in a request.");

        Assert.Empty(await _db.StoredTagsAsync(ThingTypeService.TagKind, "sensor"));
    }

    [Fact]
    public async Task UntagAsync_Keys_RemovesOnlyThoseKeys()
    {
        await SeedAsync();
        await Tags.TagAsync(_db.Scope, TypeArn, [new Tag("a", "1"), new Tag("b", "2"), new Tag("c", "3")], None);

        await Tags.UntagAsync(_db.Scope, TypeArn, ["a", "c", "not-there"], None);

        Assert.Equal([new Tag("b", "2")], await ListAllAsync(TypeArn));
    }

    [Fact]
    public async Task ListAsync_InPages_ReturnsEveryTagOnceAndEndsWithNullToken()
    {
        await SeedAsync();
        await Tags.TagAsync(_db.Scope, GroupArn, ManyTags(23), None);

        var first = await Tags.ListAsync(_db.Scope, GroupArn, PageRequest.From(null, 10), None);

        Assert.Equal(10, first.Items.Count);
        Assert.NotNull(first.NextKey);
        Assert.Equal(ManyTags(23), await ListAllAsync(GroupArn, maxResults: 10));
    }

    public static TheoryData<string> UnknownResources => new()
    {
        "arn:aws:iot:eu-west-1:123456789012:thingtype/nope",
        "arn:aws:iot:eu-west-1:123456789012:thinggroup/nope",
        // Exists, but in another account.
        "arn:aws:iot:eu-west-1:999999999999:thingtype/sensor",
        "arn:aws:iot:eu-west-1:999999999999:thinggroup/fleet",
        // Things and the other kinds cannot be tagged through this service.
        "arn:aws:iot:eu-west-1:123456789012:thing/sensor-1",
        "arn:aws:iot:eu-west-1:123456789012:policy/sensor",
        "arn:aws:iot:eu-west-1:123456789012:cert/sensor",
        // A type name given as a group and the other way round.
        "arn:aws:iot:eu-west-1:123456789012:thinggroup/sensor",
        "arn:aws:iot:eu-west-1:123456789012:thingtype/fleet",
    };

    [Theory]
    [MemberData(nameof(UnknownResources))]
    public async Task TagAsync_UnknownOrUntaggableResource_ThrowsResourceNotFound(string arn)
    {
        await SeedAsync();
        await _db.Things.CreateAsync("sensor-1", null, null, null, None);

        await ServiceAssert.ThrowsAsync(
            ErrorCode.ResourceNotFound, () => Tags.TagAsync(_db.Scope, arn, [new Tag("team", "a")], None), $"Resource {arn} does not exist or cannot be tagged.");

        Assert.Empty(await _db.StoredTagsAsync(ThingTypeService.TagKind, "sensor"));
        Assert.Empty(await _db.StoredTagsAsync(ThingGroupService.TagKind, "fleet"));
        Assert.Empty(await _db.StoredTagsAsync(ThingTypeService.TagKind, "nope"));
        Assert.Empty(await _db.StoredTagsAsync(ThingGroupService.TagKind, "nope"));
    }

    [Theory]
    [MemberData(nameof(UnknownResources))]
    public async Task UntagAndListAsync_UnknownOrUntaggableResource_ThrowsResourceNotFound(string arn)
    {
        await SeedAsync();
        await _db.Things.CreateAsync("sensor-1", null, null, null, None);

        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => Tags.UntagAsync(_db.Scope, arn, ["team"], None));
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => Tags.ListAsync(_db.Scope, arn, PageRequest.From(null, null), None));
    }

    [Theory]
    [InlineData("not-an-arn")]
    [InlineData("arn:aws:s3:::bucket/key")]
    [InlineData("arn:aws:iot:eu-west-1:123456789012:thingtype/")]
    public async Task TagAsync_MalformedArn_ThrowsInvalidRequest(string arn)
    {
        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => Tags.TagAsync(_db.Scope, arn, [new Tag("team", "a")], None), $"Invalid resource ARN: {arn}");
    }

    [Fact]
    public async Task TagAsync_DeletedGroup_ThrowsResourceNotFound()
    {
        await SeedAsync();
        await _db.ThingGroups.DeleteAsync("fleet", null, None);

        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => Tags.TagAsync(_db.Scope, GroupArn, [new Tag("team", "a")], None));
    }
}
