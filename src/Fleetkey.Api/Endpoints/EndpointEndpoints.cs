using Fleetkey.Api.Contracts;
using Fleetkey.Api.Hosting;
using Fleetkey.Api.Wire;
using Fleetkey.Core.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Fleetkey.Api.Endpoints;

internal static class EndpointEndpoints
{
    public static IEndpointRouteBuilder MapDescribeEndpoint(this IEndpointRouteBuilder routes)
    {
        routes.MapAws("DescribeEndpoint", DescribeEndpoint);
        return routes;
    }

    /// <summary>
    /// Both data endpoint types (legacy <c>iot:Data</c>, the default, and <c>iot:Data-ATS</c>) name
    /// Fleetkey's MQTT broker: it has one certificate chain, Fleetkey's own CA. Fleetkey has no
    /// credential provider or jobs endpoint, so those types are refused rather than invented.
    /// </summary>
    private static JsonHttpResult<DescribeEndpointResponse> DescribeEndpoint(AwsRequest<DescribeEndpointRequest> request, IOptions<ApiOptions> options)
    {
        var type = request.Input.EndpointType ?? "iot:Data";
        if (type is not ("iot:Data" or "iot:Data-ATS"))
        {
            ThrowHelper.InvalidRequest($"Endpoint type {type} is not supported by Fleetkey; use iot:Data-ATS or iot:Data.");
        }

        return TypedResults.Json(new DescribeEndpointResponse { EndpointAddress = options.Value.PublicHost }, ApiJsonContext.Default.DescribeEndpointResponse);
    }
}
