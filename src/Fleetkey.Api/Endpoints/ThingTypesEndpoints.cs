using System.Text.Json;
using Fleetkey.Api.Contracts;
using Fleetkey.Api.Wire;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Registry;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Fleetkey.Api.Endpoints;

internal static class ThingTypesEndpoints
{
    public static IEndpointRouteBuilder MapThingTypes(this IEndpointRouteBuilder routes)
    {
        routes.MapAws("CreateThingType", CreateThingType);
        routes.MapAws("DescribeThingType", DescribeThingType);
        routes.MapAws("UpdateThingType", UpdateThingType);
        routes.MapAws("DeprecateThingType", DeprecateThingType);
        routes.MapAws("DeleteThingType", DeleteThingType);
        routes.MapAws("ListThingTypes", ListThingTypes);
        return routes;
    }

    private static async Task<JsonHttpResult<CreateThingTypeResponse>> CreateThingType(AwsRequest<CreateThingTypeRequest> request, ThingTypeService types, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var properties = input.ThingTypeProperties;
        var type = await types.CreateAsync(
            input.ThingTypeName,
            properties?.ThingTypeDescription,
            properties?.SearchableAttributes,
            Mqtt5Json(properties?.Mqtt5Configuration),
            TagsEndpoints.ToTags(input.Tags),
            cancellationToken);
        return TypedResults.Json(
            new CreateThingTypeResponse { ThingTypeName = type.Name, ThingTypeArn = Arn.ThingType(request.Scope, type.Name), ThingTypeId = type.ThingTypeId },
            ApiJsonContext.Default.CreateThingTypeResponse);
    }

    private static async Task<JsonHttpResult<DescribeThingTypeResponse>> DescribeThingType(AwsRequest<DescribeThingTypeRequest> request, ThingTypeService types, CancellationToken cancellationToken)
    {
        var type = await types.DescribeAsync(request.Input.ThingTypeName, cancellationToken);
        return TypedResults.Json(
            new DescribeThingTypeResponse
            {
                ThingTypeName = type.Name,
                ThingTypeId = type.ThingTypeId,
                ThingTypeArn = Arn.ThingType(request.Scope, type.Name),
                ThingTypeProperties = Properties(type),
                ThingTypeMetadata = Metadata(type),
            },
            ApiJsonContext.Default.DescribeThingTypeResponse);
    }

    private static async Task<ContentHttpResult> UpdateThingType(AwsRequest<UpdateThingTypeRequest> request, ThingTypeService types, CancellationToken cancellationToken)
    {
        var properties = request.Input.ThingTypeProperties;
        await types.UpdateAsync(
            request.Input.ThingTypeName,
            properties?.ThingTypeDescription,
            properties?.SearchableAttributes,
            Mqtt5Json(properties?.Mqtt5Configuration),
            cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<ContentHttpResult> DeprecateThingType(AwsRequest<DeprecateThingTypeRequest> request, ThingTypeService types, CancellationToken cancellationToken)
    {
        await types.DeprecateAsync(request.Input.ThingTypeName, request.Input.UndoDeprecate ?? false, cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<ContentHttpResult> DeleteThingType(AwsRequest<DeleteThingTypeRequest> request, ThingTypeService types, CancellationToken cancellationToken)
    {
        await types.DeleteAsync(request.Input.ThingTypeName, cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<JsonHttpResult<ListThingTypesResponse>> ListThingTypes(AwsRequest<ListThingTypesRequest> request, ThingTypeService types, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var page = await types.ListAsync(input.ThingTypeName, request.Page(input.MaxResults), cancellationToken);
        var items = page.Items
            .Select(t => new ThingTypeDefinition { ThingTypeName = t.Name, ThingTypeArn = Arn.ThingType(request.Scope, t.Name), ThingTypeProperties = Properties(t), ThingTypeMetadata = Metadata(t) })
            .ToList();
        return TypedResults.Json(new ListThingTypesResponse { ThingTypes = items, NextToken = request.NextToken(page) }, ApiJsonContext.Default.ListThingTypesResponse);
    }

    private static ThingTypeProperties Properties(ThingType type) => new()
    {
        ThingTypeDescription = type.Description,
        SearchableAttributes = type.SearchableAttributes,
        Mqtt5Configuration = type.Mqtt5ConfigurationJson is null ? null : JsonSerializer.Deserialize(type.Mqtt5ConfigurationJson, ApiJsonContext.Default.Mqtt5Configuration),
    };

    private static ThingTypeMetadata Metadata(ThingType type) => new() { Deprecated = type.Deprecated, DeprecationDate = type.DeprecatedAt, CreationDate = type.CreatedAt };

    private static string? Mqtt5Json(Mqtt5Configuration? configuration) =>
        configuration is null ? null : JsonSerializer.Serialize(configuration, ApiJsonContext.Default.Mqtt5Configuration);
}
