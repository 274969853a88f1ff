using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Fleetkey.Api.Wire;

internal static class AwsEndpointExtensions
{
    /// <summary>Maps a handler at the route and method the service model gives the operation.</summary>
    public static RouteHandlerBuilder MapAws(this IEndpointRouteBuilder routes, string operationName, Delegate handler)
    {
        var operation = ServiceModel.Iot.Operation(operationName);
        return routes.MapMethods(operation.RoutePattern, [operation.Method], handler)
            .WithMetadata(operation)
            .WithName(operationName);
    }
}

/// <summary>Results shared by the AWS handlers.</summary>
internal static class AwsResults
{
    /// <summary>An operation with no output members answers 200 with an empty JSON object.</summary>
    public static ContentHttpResult Empty() => TypedResults.Content("{}", "application/json");
}
