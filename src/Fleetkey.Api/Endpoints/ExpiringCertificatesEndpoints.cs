using Fleetkey.Api.Contracts;
using Fleetkey.Api.Wire;
using Fleetkey.Core.Naming;
using Fleetkey.Services.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Fleetkey.Api.Endpoints;

/// <summary>
/// <c>GET /expiring-certificates</c>: Fleetkey's own route (not in the AWS IoT model) for the certificates
/// that end within a window, soonest first, as <c>fleetkey certificates expiring</c> lists them.
/// </summary>
internal static class ExpiringCertificatesEndpoints
{
    public static IEndpointRouteBuilder MapExpiringCertificates(this IEndpointRouteBuilder routes)
    {
        routes.MapExtension("ListExpiringCertificates", List);
        return routes;
    }

    private static async Task<JsonHttpResult<ListExpiringCertificatesResponse>> List(
        AwsRequest<ListExpiringCertificatesRequest> request, CertificateExpiryService expiry, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var within = input.Within is { } text ? ExpiryWindow.Parse(text, "within") : ExpiryWindow.ThirtyDays;
        var query = new ExpiryQuery(within, input.Status, input.IncludeExpired ?? false);
        var page = await expiry.ListAsync(query, request.Page(input.MaxResults), cancellationToken);
        return TypedResults.Json(
            new ListExpiringCertificatesResponse
            {
                Certificates = [.. page.Items.Select(c => new ExpiringCertificate
                {
                    CertificateId = c.CertificateId,
                    CertificateArn = Arn.For(request.Scope, ResourceKind.Certificate, c.CertificateId),
                    Status = c.Status,
                    NotAfter = c.NotAfter,
                    CaCertificateId = c.CaCertificateId,
                    ThingNames = c.ThingNames,
                })],
                NextToken = request.NextToken(page),
            },
            ApiJsonContext.Default.ListExpiringCertificatesResponse);
    }
}
