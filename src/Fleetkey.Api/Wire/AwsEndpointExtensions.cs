using Fleetkey.Api.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Fleetkey.Api.Wire;

internal static class AwsEndpointExtensions
{
    /// <summary>Maps a handler at the route and method the AWS IoT model gives the operation.</summary>
    public static RouteHandlerBuilder MapAws(this IEndpointRouteBuilder routes, string operationName, Delegate handler) =>
        routes.MapOperation(ServiceModel.Iot.Operation(operationName), handler);

    /// <summary>Maps a handler at the route and method Fleetkey's own model gives the operation.</summary>
    public static RouteHandlerBuilder MapExtension(this IEndpointRouteBuilder routes, string operationName, Delegate handler) =>
        routes.MapOperation(ServiceModel.Fleetkey.Operation(operationName), handler);

    private static RouteHandlerBuilder MapOperation(this IEndpointRouteBuilder routes, OperationModel operation, Delegate handler)
    {
        // The handler's input is the operation's input record (generated from the model under the shape's name):
        // a handler bound to another operation's record would read members this route does not have. And every
        // operation is authorized before its handler runs, by AwsRequest's binding (it has the input members that
        // name the resources): a handler without one would run unauthorized, so it is refused here, at start.
        var bound = false;
        foreach (var parameter in handler.Method.GetParameters())
        {
            if (parameter.ParameterType.IsGenericType && parameter.ParameterType.GetGenericTypeDefinition() == typeof(AwsRequest<>))
            {
                if (parameter.ParameterType.GetGenericArguments()[0].Name != operation.InputShape)
                {
                    throw new InvalidOperationException(
                        $"{operation.Name} binds {parameter.ParameterType.GetGenericArguments()[0].Name}; its input is {operation.InputShape}.");
                }

                bound = true;
            }
        }

        if (!bound && OperationPermissions.For(operation.Name) is not { Anonymous: true })
        {
            throw new InvalidOperationException($"{operation.Name}'s handler takes no AwsRequest<{operation.InputShape}>, so nothing would authorize it.");
        }

        return routes.MapMethods(operation.RoutePattern, [operation.Method], handler)
            .WithMetadata(operation)
            .WithName(operation.Name);
    }
}

/// <summary>Results shared by the AWS handlers.</summary>
internal static class AwsResults
{
    /// <summary>An operation with no output members answers 200 with an empty JSON object.</summary>
    public static ContentHttpResult Empty() => TypedResults.Content("{}", "application/json");

    /// <summary>
    /// A count Fleetkey keeps in 64 bits where the model's member is an <c>integer</c> (Java's, 32 bits):
    /// versions start at 1 and grow by one an update, so they stay far inside it; past it is a fault, not a wrap.
    /// </summary>
    public static int Integer(long value) => checked((int)value);
}
