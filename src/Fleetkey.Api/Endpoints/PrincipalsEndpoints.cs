using Fleetkey.Api.Contracts;
using Fleetkey.Api.Wire;
using Fleetkey.Services.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Fleetkey.Api.Endpoints;

internal static class PrincipalsEndpoints
{
    public static IEndpointRouteBuilder MapThingPrincipals(this IEndpointRouteBuilder routes)
    {
        routes.MapAws("AttachThingPrincipal", AttachThingPrincipal);
        routes.MapAws("DetachThingPrincipal", DetachThingPrincipal);
        routes.MapAws("ListThingPrincipals", ListThingPrincipals);
        routes.MapAws("ListThingPrincipalsV2", ListThingPrincipalsV2);
        routes.MapAws("ListPrincipalThings", ListPrincipalThings);
        routes.MapAws("ListPrincipalThingsV2", ListPrincipalThingsV2);
        return routes;
    }

    private static async Task<ContentHttpResult> AttachThingPrincipal(AwsRequest<AttachThingPrincipalRequest> request, PrincipalService principals, CancellationToken cancellationToken)
    {
        var input = request.Input;
        await principals.AttachAsync(request.Scope, input.ThingName, input.Principal, input.ThingPrincipalType, cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<ContentHttpResult> DetachThingPrincipal(AwsRequest<DetachThingPrincipalRequest> request, PrincipalService principals, CancellationToken cancellationToken)
    {
        await principals.DetachAsync(request.Scope, request.Input.ThingName, request.Input.Principal, cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<JsonHttpResult<ListThingPrincipalsResponse>> ListThingPrincipals(AwsRequest<ListThingPrincipalsRequest> request, PrincipalService principals, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var page = await principals.ListForThingAsync(input.ThingName, null, request.Page(input.MaxResults), cancellationToken);
        return TypedResults.Json(
            new ListThingPrincipalsResponse { Principals = [.. page.Items.Select(p => Principals.Render(request.Scope, p))], NextToken = request.NextToken(page) },
            ApiJsonContext.Default.ListThingPrincipalsResponse);
    }

    private static async Task<JsonHttpResult<ListThingPrincipalsV2Response>> ListThingPrincipalsV2(AwsRequest<ListThingPrincipalsV2Request> request, PrincipalService principals, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var page = await principals.ListForThingAsync(input.ThingName, input.ThingPrincipalType, request.Page(input.MaxResults), cancellationToken);
        return TypedResults.Json(
            new ListThingPrincipalsV2Response
            {
                ThingPrincipalObjects = [.. page.Items.Select(p => new ThingPrincipalObject { Principal = Principals.Render(request.Scope, p), ThingPrincipalType = p.PrincipalType })],
                NextToken = request.NextToken(page),
            },
            ApiJsonContext.Default.ListThingPrincipalsV2Response);
    }

    private static async Task<JsonHttpResult<ListPrincipalThingsResponse>> ListPrincipalThings(AwsRequest<ListPrincipalThingsRequest> request, PrincipalService principals, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var page = await principals.ListForPrincipalAsync(request.Scope, input.Principal, null, request.Page(input.MaxResults), cancellationToken);
        return TypedResults.Json(
            new ListPrincipalThingsResponse { Things = [.. page.Items.Select(p => p.ThingName)], NextToken = request.NextToken(page) },
            ApiJsonContext.Default.ListPrincipalThingsResponse);
    }

    private static async Task<JsonHttpResult<ListPrincipalThingsV2Response>> ListPrincipalThingsV2(AwsRequest<ListPrincipalThingsV2Request> request, PrincipalService principals, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var page = await principals.ListForPrincipalAsync(request.Scope, input.Principal, input.ThingPrincipalType, request.Page(input.MaxResults), cancellationToken);
        return TypedResults.Json(
            new ListPrincipalThingsV2Response
            {
                PrincipalThingObjects = [.. page.Items.Select(p => new PrincipalThingObject { ThingName = p.ThingName, ThingPrincipalType = p.PrincipalType })],
                NextToken = request.NextToken(page),
            },
            ApiJsonContext.Default.ListPrincipalThingsV2Response);
    }
}
