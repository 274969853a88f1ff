using Fleetkey.Api.Contracts;
using Fleetkey.Api.Wire;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Services.Registry;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Fleetkey.Api.Endpoints;

internal static class ThingGroupsEndpoints
{
    public static IEndpointRouteBuilder MapThingGroups(this IEndpointRouteBuilder routes)
    {
        routes.MapAws("CreateThingGroup", CreateThingGroup);
        routes.MapAws("DescribeThingGroup", DescribeThingGroup);
        routes.MapAws("UpdateThingGroup", UpdateThingGroup);
        routes.MapAws("DeleteThingGroup", DeleteThingGroup);
        routes.MapAws("ListThingGroups", ListThingGroups);
        routes.MapAws("AddThingToThingGroup", AddThingToThingGroup);
        routes.MapAws("RemoveThingFromThingGroup", RemoveThingFromThingGroup);
        routes.MapAws("UpdateThingGroupsForThing", UpdateThingGroupsForThing);
        routes.MapAws("ListThingsInThingGroup", ListThingsInThingGroup);
        routes.MapAws("ListThingGroupsForThing", ListThingGroupsForThing);
        return routes;
    }

    private static async Task<JsonHttpResult<CreateThingGroupResponse>> CreateThingGroup(AwsRequest<CreateThingGroupRequest> request, ThingGroupService groups, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var group = await groups.CreateAsync(
            input.ThingGroupName,
            input.ParentGroupName,
            input.ThingGroupProperties?.ThingGroupDescription,
            input.ThingGroupProperties?.AttributePayload?.Attributes,
            TagsEndpoints.ToTags(input.Tags),
            cancellationToken);
        return TypedResults.Json(
            new CreateThingGroupResponse { ThingGroupName = group.Name, ThingGroupArn = Arn.ThingGroup(request.Scope, group.Name), ThingGroupId = group.ThingGroupId },
            ApiJsonContext.Default.CreateThingGroupResponse);
    }

    private static async Task<JsonHttpResult<DescribeThingGroupResponse>> DescribeThingGroup(AwsRequest<DescribeThingGroupRequest> request, ThingGroupService groups, CancellationToken cancellationToken)
    {
        var group = await groups.DescribeAsync(request.Input.ThingGroupName, cancellationToken);
        var scope = request.Scope;
        var rootToParent = group.ParentName is null ? null : group.Ancestors.Select(name => NameAndArn(scope, name)).ToList();
        return TypedResults.Json(
            new DescribeThingGroupResponse
            {
                ThingGroupName = group.Name,
                ThingGroupId = group.ThingGroupId,
                ThingGroupArn = Arn.ThingGroup(scope, group.Name),
                Version = group.Version,
                ThingGroupProperties = new ThingGroupProperties
                {
                    ThingGroupDescription = group.Description,
                    AttributePayload = new AttributePayload { Attributes = group.Attributes },
                },
                ThingGroupMetadata = new ThingGroupMetadata { ParentGroupName = group.ParentName, RootToParentThingGroups = rootToParent, CreationDate = group.CreatedAt },
            },
            ApiJsonContext.Default.DescribeThingGroupResponse);
    }

    private static async Task<JsonHttpResult<UpdateThingGroupResponse>> UpdateThingGroup(AwsRequest<UpdateThingGroupRequest> request, ThingGroupService groups, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var version = await groups.UpdateAsync(
            input.ThingGroupName,
            input.ThingGroupProperties.ThingGroupDescription,
            input.ThingGroupProperties.AttributePayload?.Attributes,
            input.ThingGroupProperties.AttributePayload?.Merge ?? false,
            input.ExpectedVersion,
            cancellationToken);
        return TypedResults.Json(new UpdateThingGroupResponse { Version = version }, ApiJsonContext.Default.UpdateThingGroupResponse);
    }

    private static async Task<ContentHttpResult> DeleteThingGroup(AwsRequest<DeleteThingGroupRequest> request, ThingGroupService groups, CancellationToken cancellationToken)
    {
        await groups.DeleteAsync(request.Input.ThingGroupName, request.Input.ExpectedVersion, cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<JsonHttpResult<ListThingGroupsResponse>> ListThingGroups(AwsRequest<ListThingGroupsRequest> request, ThingGroupService groups, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var page = await groups.ListAsync(input.ParentGroup, input.NamePrefixFilter, input.Recursive ?? false, request.Page(input.MaxResults), cancellationToken);
        var items = page.Items.Select(g => NameAndArn(request.Scope, g.Name)).ToList();
        return TypedResults.Json(new ListThingGroupsResponse { ThingGroups = items, NextToken = request.NextToken(page) }, ApiJsonContext.Default.ListThingGroupsResponse);
    }

    private static async Task<ContentHttpResult> AddThingToThingGroup(AwsRequest<AddThingToThingGroupRequest> request, ThingGroupService groups, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var (group, thing) = Resolve(input.ThingGroupName, input.ThingGroupArn, input.ThingName, input.ThingArn);
        await groups.AddThingAsync(group, thing, cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<ContentHttpResult> RemoveThingFromThingGroup(AwsRequest<RemoveThingFromThingGroupRequest> request, ThingGroupService groups, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var (group, thing) = Resolve(input.ThingGroupName, input.ThingGroupArn, input.ThingName, input.ThingArn);
        await groups.RemoveThingAsync(group, thing, cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<ContentHttpResult> UpdateThingGroupsForThing(AwsRequest<UpdateThingGroupsForThingRequest> request, ThingGroupService groups, CancellationToken cancellationToken)
    {
        var input = request.Input;
        if (input.ThingName is null)
        {
            ThrowHelper.InvalidRequest("1 validation error detected: Value null at 'thingName' failed to satisfy constraint: Member must not be null");
        }

        await groups.UpdateGroupsForThingAsync(input.ThingName, input.ThingGroupsToAdd ?? [], input.ThingGroupsToRemove ?? [], cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<JsonHttpResult<ListThingsInThingGroupResponse>> ListThingsInThingGroup(AwsRequest<ListThingsInThingGroupRequest> request, ThingGroupService groups, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var page = await groups.ListThingsAsync(input.ThingGroupName, input.Recursive ?? false, request.Page(input.MaxResults), cancellationToken);
        return TypedResults.Json(new ListThingsInThingGroupResponse { Things = page.Items, NextToken = request.NextToken(page) }, ApiJsonContext.Default.ListThingsInThingGroupResponse);
    }

    private static async Task<JsonHttpResult<ListThingGroupsForThingResponse>> ListThingGroupsForThing(AwsRequest<ListThingGroupsForThingRequest> request, ThingGroupService groups, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var page = await groups.ListGroupsForThingAsync(input.ThingName, request.Page(input.MaxResults), cancellationToken);
        var items = page.Items.Select(g => NameAndArn(request.Scope, g.Name)).ToList();
        return TypedResults.Json(new ListThingGroupsForThingResponse { ThingGroups = items, NextToken = request.NextToken(page) }, ApiJsonContext.Default.ListThingGroupsForThingResponse);
    }

    private static GroupNameAndArn NameAndArn(IotScope scope, string name) => new() { GroupName = name, GroupArn = Arn.ThingGroup(scope, name) };

    /// <summary>A membership names its group and thing by name or by ARN; a name wins over an ARN.</summary>
    private static (string Group, string Thing) Resolve(string? groupName, string? groupArn, string? thingName, string? thingArn)
    {
        var group = groupName ?? NameFromArn(groupArn, ResourceKind.ThingGroup, "thingGroupArn");
        var thing = thingName ?? NameFromArn(thingArn, ResourceKind.Thing, "thingArn");
        if (group is null)
        {
            ThrowHelper.InvalidRequest("Both thingGroupArn and thingGroupName are empty. Need to specify at least one of them");
        }

        if (thing is null)
        {
            ThrowHelper.InvalidRequest("Both thingArn and thingName are empty. Need to specify at least one of them");
        }

        return (group, thing);
    }

    private static string? NameFromArn(string? arn, ResourceKind kind, string field)
    {
        if (arn is null)
        {
            return null;
        }

        if (!Arn.TryParse(arn, out var parsed) || parsed.Kind != kind)
        {
            ThrowHelper.InvalidRequest($"The {field} {arn} is not a {Arn.TypeWord(kind)} ARN.");
        }

        return parsed.Name;
    }
}
