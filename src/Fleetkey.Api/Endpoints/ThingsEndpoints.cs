using Fleetkey.Api.Contracts;
using Fleetkey.Api.Wire;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Registry;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Fleetkey.Api.Endpoints;

internal static class ThingsEndpoints
{
    public static IEndpointRouteBuilder MapThings(this IEndpointRouteBuilder routes)
    {
        routes.MapAws("CreateThing", CreateThing);
        routes.MapAws("DescribeThing", DescribeThing);
        routes.MapAws("UpdateThing", UpdateThing);
        routes.MapAws("DeleteThing", DeleteThing);
        routes.MapAws("ListThings", ListThings);
        return routes;
    }

    private static async Task<JsonHttpResult<CreateThingResponse>> CreateThing(AwsRequest<CreateThingRequest> request, ThingService things, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var thing = await things.CreateAsync(input.ThingName, input.ThingTypeName, input.AttributePayload?.Attributes, input.BillingGroupName, cancellationToken);
        return TypedResults.Json(
            new CreateThingResponse { ThingName = thing.Name, ThingArn = Arn.Thing(request.Scope, thing.Name), ThingId = thing.ThingId },
            ApiJsonContext.Default.CreateThingResponse);
    }

    private static async Task<JsonHttpResult<DescribeThingResponse>> DescribeThing(AwsRequest<DescribeThingRequest> request, ThingService things, CancellationToken cancellationToken)
    {
        var thing = await things.DescribeAsync(request.Input.ThingName, cancellationToken);
        return TypedResults.Json(
            new DescribeThingResponse
            {
                DefaultClientId = thing.Name,
                ThingName = thing.Name,
                ThingId = thing.ThingId,
                ThingArn = Arn.Thing(request.Scope, thing.Name),
                ThingTypeName = thing.TypeName,
                Attributes = thing.Attributes,
                Version = thing.Version,
            },
            ApiJsonContext.Default.DescribeThingResponse);
    }

    private static async Task<ContentHttpResult> UpdateThing(AwsRequest<UpdateThingRequest> request, ThingService things, CancellationToken cancellationToken)
    {
        var input = request.Input;
        await things.UpdateAsync(
            input.ThingName,
            input.ThingTypeName,
            input.AttributePayload?.Attributes,
            input.AttributePayload?.Merge ?? false,
            input.ExpectedVersion,
            input.RemoveThingType ?? false,
            cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<ContentHttpResult> DeleteThing(AwsRequest<DeleteThingRequest> request, ThingService things, CancellationToken cancellationToken)
    {
        await things.DeleteAsync(request.Input.ThingName, request.Input.ExpectedVersion, cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<JsonHttpResult<ListThingsResponse>> ListThings(AwsRequest<ListThingsRequest> request, ThingService things, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var query = new ThingQuery(input.AttributeName, input.AttributeValue, input.UsePrefixAttributeValue ?? false, input.ThingTypeName);
        var page = await things.ListAsync(query, request.Page(input.MaxResults), cancellationToken);
        var items = page.Items.Select(t => ToThingAttribute(request.Scope, t)).ToList();
        return TypedResults.Json(new ListThingsResponse { Things = items, NextToken = request.NextToken(page) }, ApiJsonContext.Default.ListThingsResponse);
    }

    private static ThingAttribute ToThingAttribute(IotScope scope, Thing thing) => new()
    {
        ThingName = thing.Name,
        ThingTypeName = thing.TypeName,
        ThingArn = Arn.Thing(scope, thing.Name),
        Attributes = thing.Attributes,
        Version = thing.Version,
    };
}
