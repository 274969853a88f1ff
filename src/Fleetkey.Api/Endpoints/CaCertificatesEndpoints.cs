using Fleetkey.Api.Contracts;
using Fleetkey.Api.Wire;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Fleetkey.Api.Endpoints;

internal static class CaCertificatesEndpoints
{
    public static IEndpointRouteBuilder MapCaCertificates(this IEndpointRouteBuilder routes)
    {
        routes.MapAws("GetRegistrationCode", GetRegistrationCode);
        routes.MapAws("DeleteRegistrationCode", DeleteRegistrationCode);
        routes.MapAws("RegisterCACertificate", RegisterCaCertificate);
        routes.MapAws("DescribeCACertificate", DescribeCaCertificate);
        routes.MapAws("UpdateCACertificate", UpdateCaCertificate);
        routes.MapAws("ListCACertificates", ListCaCertificates);
        routes.MapAws("DeleteCACertificate", DeleteCaCertificate);
        return routes;
    }

    private static string CaArn(IotScope scope, string id) => Arn.For(scope, ResourceKind.CaCertificate, id);

    private static CaRegistrationConfig? ToConfig(RegistrationConfig? config) =>
        config is null ? null : new CaRegistrationConfig(config.TemplateBody, config.TemplateName, config.RoleArn);

    private static async Task<JsonHttpResult<GetRegistrationCodeResponse>> GetRegistrationCode(AwsRequest<GetRegistrationCodeRequest> request, CaCertificateService cas, CancellationToken cancellationToken)
    {
        var code = await cas.GetRegistrationCodeAsync(request.Scope, cancellationToken);
        return TypedResults.Json(new GetRegistrationCodeResponse { RegistrationCode = code }, ApiJsonContext.Default.GetRegistrationCodeResponse);
    }

    private static async Task<ContentHttpResult> DeleteRegistrationCode(AwsRequest<DeleteRegistrationCodeRequest> request, CaCertificateService cas, CancellationToken cancellationToken)
    {
        await cas.DeleteRegistrationCodeAsync(request.Scope, cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<JsonHttpResult<RegisterCACertificateResponse>> RegisterCaCertificate(AwsRequest<RegisterCACertificateRequest> request, CaCertificateService cas, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var ca = await cas.RegisterAsync(
            request.Scope,
            new CaCertificateService.NewCaCertificate(
                input.CaCertificate,
                input.VerificationCertificate,
                input.SetAsActive ?? false,
                input.AllowAutoRegistration ?? false,
                ToConfig(input.RegistrationConfig),
                input.CertificateMode,
                TagsEndpoints.ToTags(input.Tags)),
            cancellationToken);
        return TypedResults.Json(
            new RegisterCACertificateResponse { CertificateArn = CaArn(request.Scope, ca.CertificateId), CertificateId = ca.CertificateId },
            ApiJsonContext.Default.RegisterCACertificateResponse);
    }

    private static async Task<JsonHttpResult<DescribeCACertificateResponse>> DescribeCaCertificate(AwsRequest<DescribeCACertificateRequest> request, CaCertificateService cas, CancellationToken cancellationToken)
    {
        var c = await cas.DescribeAsync(request.Input.CertificateId, cancellationToken);
        var description = new CACertificateDescription
        {
            CertificateArn = CaArn(request.Scope, c.CertificateId),
            CertificateId = c.CertificateId,
            Status = c.Status,
            CertificatePem = c.Pem,
            OwnedBy = request.Scope.AccountId,
            CreationDate = c.CreatedAt,
            AutoRegistrationStatus = c.AutoRegistrationStatus,
            LastModifiedDate = c.LastModifiedAt,
            CustomerVersion = AwsResults.Integer(c.CustomerVersion),
            GenerationId = c.GenerationId,
            Validity = new CertificateValidity { NotBefore = c.NotBefore, NotAfter = c.NotAfter },
            CertificateMode = c.Mode,
        };
        var registration = c.Registration is { } r ? new RegistrationConfig { TemplateBody = r.TemplateBody, RoleArn = r.RoleArn, TemplateName = r.TemplateName } : null;
        return TypedResults.Json(
            new DescribeCACertificateResponse { CertificateDescription = description, RegistrationConfig = registration },
            ApiJsonContext.Default.DescribeCACertificateResponse);
    }

    private static async Task<ContentHttpResult> UpdateCaCertificate(AwsRequest<UpdateCACertificateRequest> request, CaCertificateService cas, CancellationToken cancellationToken)
    {
        var input = request.Input;
        await cas.UpdateAsync(
            input.CertificateId,
            new CaCertificateService.CaCertificateUpdate(input.NewStatus, input.NewAutoRegistrationStatus, ToConfig(input.RegistrationConfig), input.RemoveAutoRegistration ?? false),
            cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<JsonHttpResult<ListCACertificatesResponse>> ListCaCertificates(AwsRequest<ListCACertificatesRequest> request, CaCertificateService cas, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var page = await cas.ListAsync(input.TemplateName, input.AscendingOrder ?? false, request.Page(input.PageSize), cancellationToken);
        var items = page.Items
            .Select(c => new CACertificate { CertificateArn = CaArn(request.Scope, c.CertificateId), CertificateId = c.CertificateId, Status = c.Status, CreationDate = c.CreatedAt })
            .ToList();
        return TypedResults.Json(new ListCACertificatesResponse { Certificates = items, NextMarker = request.NextToken(page) }, ApiJsonContext.Default.ListCACertificatesResponse);
    }

    private static async Task<ContentHttpResult> DeleteCaCertificate(AwsRequest<DeleteCACertificateRequest> request, CaCertificateService cas, CancellationToken cancellationToken)
    {
        await cas.DeleteAsync(request.Input.CertificateId, cancellationToken);
        return AwsResults.Empty();
    }
}
