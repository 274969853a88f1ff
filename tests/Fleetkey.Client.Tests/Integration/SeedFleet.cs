namespace Fleetkey.Client.Tests.Integration;

/// <summary>What the seed's template needs beforehand (seed README): the NewDevice thing type, the NewDevices group and DefaultNewDevicePolicy.</summary>
internal static class SeedFleet
{
    public const string ThingType = "NewDevice";
    public const string ThingGroup = "NewDevices";
    public const string Policy = "DefaultNewDevicePolicy";

    // A device connects only as its own thing name and talks only on its own topics (as tests/seed uses).
    private static readonly string PolicyDocument =
        $$"""
        {"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Action":"iot:Connect","Resource":"{{FleetkeyServer.Arn("client", "${iot:Connection.Thing.ThingName}")}}"},
          {"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":"{{FleetkeyServer.Arn("topic", "devices/${iot:Connection.Thing.ThingName}/*")}}"},
          {"Effect":"Allow","Action":"iot:Subscribe","Resource":"{{FleetkeyServer.Arn("topicfilter", "devices/${iot:Connection.Thing.ThingName}/*")}}"}]}
        """;

    public static async Task CreateAsync(IIotClient client)
    {
        await client.CreateThingTypeAsync(new CreateThingTypeRequest
        {
            ThingTypeName = ThingType,
            ThingTypeProperties = new ThingTypeProperties { ThingTypeDescription = "Devices provisioned by the internal server", SearchableAttributes = ["serialNumber"] },
        });
        await client.CreateThingGroupAsync(new CreateThingGroupRequest { ThingGroupName = ThingGroup });
        await client.CreatePolicyAsync(new CreatePolicyRequest { PolicyName = Policy, PolicyDocument = PolicyDocument });
    }
}
