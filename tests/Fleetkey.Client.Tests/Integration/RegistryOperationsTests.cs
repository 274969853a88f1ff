using Xunit;

namespace Fleetkey.Client.Tests.Integration;

/// <summary>Things, thing types, thing groups and tags through <see cref="IotClient"/> against a real <c>fleetkey serve</c>.</summary>
public sealed class RegistryOperationsTests(FleetkeyServer server) : IClassFixture<FleetkeyServer>
{
    private readonly IotClient _client = server.CreateClient();

    [Fact]
    public async Task ThingTypes_CreateDescribeUpdateListDeprecateDelete_RoundTrip()
    {
        var before = DateTimeOffset.UtcNow.AddMinutes(-1);
        var created = await _client.CreateThingTypeAsync(new CreateThingTypeRequest
        {
            ThingTypeName = "sensor",
            ThingTypeProperties = new ThingTypeProperties { ThingTypeDescription = "temperature sensors", SearchableAttributes = ["serial", "site"] },
            Tags = [new Tag { Key = "team", Value = "factory" }],
        });
        Assert.Equal("sensor", created.ThingTypeName);
        Assert.Equal(FleetkeyServer.Arn("thingtype", "sensor"), created.ThingTypeArn);
        Assert.False(string.IsNullOrEmpty(created.ThingTypeId));

        var described = await _client.DescribeThingTypeAsync(new DescribeThingTypeRequest { ThingTypeName = "sensor" });
        Assert.Equal(created.ThingTypeId, described.ThingTypeId);
        Assert.Equal("temperature sensors", described.ThingTypeProperties?.ThingTypeDescription);
        Assert.Equal(["serial", "site"], described.ThingTypeProperties?.SearchableAttributes);
        Assert.False(described.ThingTypeMetadata?.Deprecated);
        Assert.InRange(described.ThingTypeMetadata!.CreationDate!.Value, before, DateTimeOffset.UtcNow.AddMinutes(1));

        // As on AWS, only the MQTT 5 configuration of a thing type can change.
        await _client.UpdateThingTypeAsync(new UpdateThingTypeRequest
        {
            ThingTypeName = "sensor",
            ThingTypeProperties = new ThingTypeProperties
            {
                Mqtt5Configuration = new Mqtt5Configuration { PropagatingAttributes = [new PropagatingAttribute { UserPropertyKey = "sn", ThingAttribute = "serial" }] },
            },
        });
        var propagated = (await _client.DescribeThingTypeAsync(new DescribeThingTypeRequest { ThingTypeName = "sensor" })).ThingTypeProperties;
        Assert.Equal([("sn", "serial")], propagated?.Mqtt5Configuration?.PropagatingAttributes?.Select(a => (a.UserPropertyKey, a.ThingAttribute)));
        Assert.Equal("temperature sensors", propagated?.ThingTypeDescription);

        await _client.CreateThingTypeAsync(new CreateThingTypeRequest { ThingTypeName = "gateway" });
        // Other tests of this class make thing types too.
        var listed = (await _client.ListThingTypesAsync()).ThingTypes!.Select(t => t.ThingTypeName).ToList();
        Assert.Contains("gateway", listed);
        Assert.Contains("sensor", listed);
        Assert.Equal(listed, await _client.ListAllThingTypesAsync(new ListThingTypesRequest { MaxResults = 1 }).Select(t => t.ThingTypeName).ToListAsync());
        Assert.Equal(["sensor"], (await _client.ListThingTypesAsync(new ListThingTypesRequest { ThingTypeName = "sensor" })).ThingTypes!.Select(t => t.ThingTypeName));

        await _client.DeprecateThingTypeAsync(new DeprecateThingTypeRequest { ThingTypeName = "sensor" });
        var deprecated = await _client.DescribeThingTypeAsync(new DescribeThingTypeRequest { ThingTypeName = "sensor" });
        Assert.True(deprecated.ThingTypeMetadata?.Deprecated);
        Assert.NotNull(deprecated.ThingTypeMetadata?.DeprecationDate);

        await _client.DeprecateThingTypeAsync(new DeprecateThingTypeRequest { ThingTypeName = "sensor", UndoDeprecate = true });
        Assert.False((await _client.DescribeThingTypeAsync(new DescribeThingTypeRequest { ThingTypeName = "sensor" })).ThingTypeMetadata?.Deprecated);

        await _client.DeprecateThingTypeAsync(new DeprecateThingTypeRequest { ThingTypeName = "sensor" });
        await _client.DeleteThingTypeAsync(new DeleteThingTypeRequest { ThingTypeName = "sensor" });
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.DescribeThingTypeAsync(new DescribeThingTypeRequest { ThingTypeName = "sensor" }));
    }

    [Fact]
    public async Task Things_CreateDescribeUpdateListDelete_RoundTrip()
    {
        await _client.CreateThingTypeAsync(new CreateThingTypeRequest { ThingTypeName = "meter" });
        var created = await _client.CreateThingAsync(new CreateThingRequest
        {
            ThingName = "meter:0001",
            ThingTypeName = "meter",
            AttributePayload = new AttributePayload { Attributes = new Dictionary<string, string> { ["site"] = "hall#a/2=b", ["serial"] = "0001" } },
        });
        Assert.Equal("meter:0001", created.ThingName);
        Assert.Equal(FleetkeyServer.Arn("thing", "meter:0001"), created.ThingArn);
        await _client.CreateThingAsync(new CreateThingRequest { ThingName = "meter-0002", AttributePayload = new AttributePayload { Attributes = new Dictionary<string, string> { ["site"] = "hall-b" } } });

        var described = await _client.DescribeThingAsync(new DescribeThingRequest { ThingName = "meter:0001" });
        Assert.Equal((created.ThingId, "meter", 1L, "meter:0001"), (described.ThingId, described.ThingTypeName, described.Version, described.DefaultClientId));
        Assert.Equal(new Dictionary<string, string> { ["site"] = "hall#a/2=b", ["serial"] = "0001" }, described.Attributes);

        var updated = await _client.UpdateThingAsync(new UpdateThingRequest
        {
            ThingName = "meter:0001",
            ExpectedVersion = 1,
            AttributePayload = new AttributePayload { Attributes = new Dictionary<string, string> { ["firmware"] = "1.2" }, Merge = true },
        });
        Assert.NotNull(updated);
        described = await _client.DescribeThingAsync(new DescribeThingRequest { ThingName = "meter:0001" });
        Assert.Equal(2L, described.Version);
        Assert.Equal(new Dictionary<string, string> { ["site"] = "hall#a/2=b", ["serial"] = "0001", ["firmware"] = "1.2" }, described.Attributes);

        // The attribute value has '#', '/' and '=': the query string must be encoded as the server decodes it.
        var bySite = await _client.ListThingsAsync(new ListThingsRequest { AttributeName = "site", AttributeValue = "hall#a/2=b" });
        Assert.Equal(["meter:0001"], bySite.Things!.Select(t => t.ThingName));
        Assert.Equal(2L, bySite.Things![0].Version);
        var byType = await _client.ListThingsAsync(new ListThingsRequest { ThingTypeName = "meter" });
        Assert.Equal(["meter:0001"], byType.Things!.Select(t => t.ThingName));
        var byPrefix = await _client.ListThingsAsync(new ListThingsRequest { AttributeName = "site", AttributeValue = "hall", UsePrefixAttributeValue = true });
        Assert.Equal(["meter-0002", "meter:0001"], byPrefix.Things!.Select(t => t.ThingName).Order(StringComparer.Ordinal));

        await _client.DeleteThingAsync(new DeleteThingRequest { ThingName = "meter:0001", ExpectedVersion = 2 });
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.DescribeThingAsync(new DescribeThingRequest { ThingName = "meter:0001" }));
    }

    [Fact]
    public async Task ThingGroups_HierarchyMembershipAndDelete_RoundTrip()
    {
        var parent = await _client.CreateThingGroupAsync(new CreateThingGroupRequest
        {
            ThingGroupName = "plant",
            ThingGroupProperties = new ThingGroupProperties
            {
                ThingGroupDescription = "the plant",
                AttributePayload = new AttributePayload { Attributes = new Dictionary<string, string> { ["city"] = "Lyon" } },
            },
        });
        Assert.Equal(FleetkeyServer.Arn("thinggroup", "plant"), parent.ThingGroupArn);
        var child = await _client.CreateThingGroupAsync(new CreateThingGroupRequest { ThingGroupName = "line-1", ParentGroupName = "plant" });
        Assert.False(string.IsNullOrEmpty(child.ThingGroupId));

        var describedChild = await _client.DescribeThingGroupAsync(new DescribeThingGroupRequest { ThingGroupName = "line-1" });
        Assert.Equal("plant", describedChild.ThingGroupMetadata?.ParentGroupName);
        Assert.Equal(["plant"], describedChild.ThingGroupMetadata?.RootToParentThingGroups?.Select(g => g.GroupName));
        var describedParent = await _client.DescribeThingGroupAsync(new DescribeThingGroupRequest { ThingGroupName = "plant" });
        Assert.Equal(("the plant", 1L), (describedParent.ThingGroupProperties?.ThingGroupDescription, describedParent.Version));
        Assert.Equal("Lyon", describedParent.ThingGroupProperties?.AttributePayload?.Attributes?["city"]);

        var updated = await _client.UpdateThingGroupAsync(new UpdateThingGroupRequest
        {
            ThingGroupName = "plant",
            ExpectedVersion = 1,
            ThingGroupProperties = new ThingGroupProperties { ThingGroupDescription = "the Lyon plant" },
        });
        Assert.Equal(2L, updated.Version);
        Assert.Equal("the Lyon plant", (await _client.DescribeThingGroupAsync(new DescribeThingGroupRequest { ThingGroupName = "plant" })).ThingGroupProperties?.ThingGroupDescription);

        // Other tests of this class make groups too.
        var allGroups = (await _client.ListThingGroupsAsync()).ThingGroups!.Select(g => g.GroupName).ToList();
        Assert.Contains("plant", allGroups);
        Assert.Contains("line-1", allGroups);
        Assert.Equal(allGroups, await _client.ListAllThingGroupsAsync(new ListThingGroupsRequest { MaxResults = 1 }).Select(g => g.GroupName).ToListAsync());
        Assert.Equal(["line-1"], (await _client.ListThingGroupsAsync(new ListThingGroupsRequest { ParentGroup = "plant" })).ThingGroups!.Select(g => g.GroupName));

        await _client.CreateThingAsync(new CreateThingRequest { ThingName = "robot-1" });
        await _client.AddThingToThingGroupAsync(new AddThingToThingGroupRequest { ThingName = "robot-1", ThingGroupName = "plant" });
        Assert.Equal(["robot-1"], (await _client.ListThingsInThingGroupAsync(new ListThingsInThingGroupRequest { ThingGroupName = "plant" })).Things);
        Assert.Equal(["plant"], (await _client.ListThingGroupsForThingAsync(new ListThingGroupsForThingRequest { ThingName = "robot-1" })).ThingGroups!.Select(g => g.GroupName));

        await _client.UpdateThingGroupsForThingAsync(new UpdateThingGroupsForThingRequest { ThingName = "robot-1", ThingGroupsToAdd = ["line-1"], ThingGroupsToRemove = ["plant"] });
        var groups = await _client.ListAllThingGroupsForThingAsync(new ListThingGroupsForThingRequest { ThingName = "robot-1" }).ToListAsync();
        Assert.Equal([("line-1", FleetkeyServer.Arn("thinggroup", "line-1"))], groups.Select(g => (g.GroupName, g.GroupArn)));
        Assert.Equal(["robot-1"], await _client.ListAllThingsInThingGroupAsync(new ListThingsInThingGroupRequest { ThingGroupName = "plant", Recursive = true }).ToListAsync());

        await _client.RemoveThingFromThingGroupAsync(new RemoveThingFromThingGroupRequest { ThingName = "robot-1", ThingGroupName = "line-1" });
        Assert.Empty((await _client.ListThingsInThingGroupAsync(new ListThingsInThingGroupRequest { ThingGroupName = "line-1" })).Things!);

        await _client.DeleteThingGroupAsync(new DeleteThingGroupRequest { ThingGroupName = "line-1" });
        await _client.DeleteThingGroupAsync(new DeleteThingGroupRequest { ThingGroupName = "plant", ExpectedVersion = 2 });
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.DescribeThingGroupAsync(new DescribeThingGroupRequest { ThingGroupName = "plant" }));
    }

    [Fact]
    public async Task Tags_TagListUntag_RoundTrip()
    {
        var group = await _client.CreateThingGroupAsync(new CreateThingGroupRequest { ThingGroupName = "tagged", Tags = [new Tag { Key = "owner", Value = "ops" }] });
        var arn = group.ThingGroupArn!;

        await _client.TagResourceAsync(new TagResourceRequest { ResourceArn = arn, Tags = [new Tag { Key = "env", Value = "prod" }, new Tag { Key = "cost", Value = "42" }] });
        var tags = await _client.ListTagsForResourceAsync(new ListTagsForResourceRequest { ResourceArn = arn });
        Assert.Equal([("cost", "42"), ("env", "prod"), ("owner", "ops")], tags.Tags!.Select(t => (t.Key, t.Value)).Order());

        await _client.UntagResourceAsync(new UntagResourceRequest { ResourceArn = arn, TagKeys = ["env", "owner"] });
        Assert.Equal([("cost", "42")], await _client.ListAllTagsForResourceAsync(new ListTagsForResourceRequest { ResourceArn = arn }).Select(t => (t.Key, t.Value)).ToListAsync());
    }
}
