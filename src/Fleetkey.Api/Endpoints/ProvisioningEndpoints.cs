using Fleetkey.Api.Contracts;
using Fleetkey.Api.Wire;
using Fleetkey.Core.Naming;
using Fleetkey.Services.Provisioning;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Fleetkey.Api.Endpoints;

internal static class ProvisioningEndpoints
{
    public static IEndpointRouteBuilder MapProvisioning(this IEndpointRouteBuilder routes)
    {
        routes.MapAws("RegisterThing", RegisterThing);
        routes.MapAws("CreateProvisioningClaim", CreateProvisioningClaim);
        return routes;
    }

    private static async Task<JsonHttpResult<CreateProvisioningClaimResponse>> CreateProvisioningClaim(AwsRequest<CreateProvisioningClaimRequest> request, FleetProvisioningService fleet, CancellationToken cancellationToken)
    {
        var claim = await fleet.CreateProvisioningClaimAsync(request.Input.TemplateName, cancellationToken);
        return TypedResults.Json(
            new CreateProvisioningClaimResponse
            {
                CertificateId = claim.CertificateId,
                CertificatePem = claim.CertificatePem,
                KeyPair = new KeyPair { PublicKey = claim.PublicKeyPem, PrivateKey = claim.PrivateKeyPem },
                Expiration = claim.Expiration,
            },
            ApiJsonContext.Default.CreateProvisioningClaimResponse);
    }

    private static async Task<JsonHttpResult<RegisterThingResponse>> RegisterThing(AwsRequest<RegisterThingRequest> request, RegistrationService registration, CancellationToken cancellationToken)
    {
        var result = await registration.RegisterThingAsync(request.Input.TemplateBody, request.Input.Parameters, cancellationToken);
        var arns = result.Resources.ToDictionary(r => r.Key, r => Arn.For(request.Scope, r.Value.Kind, r.Value.Name), StringComparer.Ordinal);
        return TypedResults.Json(new RegisterThingResponse { CertificatePem = result.CertificatePem, ResourceArns = arns }, ApiJsonContext.Default.RegisterThingResponse);
    }
}
