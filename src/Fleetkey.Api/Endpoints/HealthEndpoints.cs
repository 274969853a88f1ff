using Fleetkey.Api.Contracts;
using Fleetkey.Api.Wire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Fleetkey.Api.Endpoints;

internal static class HealthEndpoints
{
    /// <summary><c>GET /health</c>: unauthenticated, for load balancers and orchestrators.</summary>
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder routes)
    {
        routes.MapExtension("Health", static () => TypedResults.Json(new HealthResponse { Status = "ok" }, ApiJsonContext.Default.HealthResponse))
            .AllowAnonymous();
        return routes;
    }
}
