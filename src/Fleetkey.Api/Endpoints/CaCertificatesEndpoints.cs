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

    private static CaRegistrationConfig? ToConfig(RegistrationConfigDto? dto) =>
        dto is null ? null : new CaRegistrationConfig(dto.TemplateBody, dto.TemplateName, dto.RoleArn);

    private static async Task<JsonHttpResult<GetRegistrationCodeResponse>> GetRegistrationCode(HttpContext context, CaCertificateService cas, CancellationToken cancellationToken)
    {
        var code = await cas.GetRegistrationCodeAsync(AwsScope.Of(context), cancellationToken);
        return TypedResults.Json(new GetRegistrationCodeResponse(code), ApiJsonContext.Default.GetRegistrationCodeResponse);
    }

    private static async Task<ContentHttpResult> DeleteRegistrationCode(HttpContext context, CaCertificateService cas, CancellationToken cancellationToken)
    {
        await cas.DeleteRegistrationCodeAsync(AwsScope.Of(context), cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<JsonHttpResult<RegisterCertificateResponse>> RegisterCaCertificate(AwsRequest<RegisterCaCertificateRequest> request, CaCertificateService cas, CancellationToken cancellationToken)
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
        return TypedResults.Json(new RegisterCertificateResponse(CaArn(request.Scope, ca.CertificateId), ca.CertificateId), ApiJsonContext.Default.RegisterCertificateResponse);
    }

    private static async Task<JsonHttpResult<DescribeCaCertificateResponse>> DescribeCaCertificate(AwsRequest<CaCertificateIdRequest> request, CaCertificateService cas, CancellationToken cancellationToken)
    {
        var c = await cas.DescribeAsync(request.Input.CertificateId, cancellationToken);
        var registration = c.Registration is { } r ? new RegistrationConfigDto(r.TemplateBody, r.RoleArn, r.TemplateName) : null;
        return TypedResults.Json(
            new DescribeCaCertificateResponse(
                new CaCertificateDescription(
                    CaArn(request.Scope, c.CertificateId),
                    c.CertificateId,
                    c.Status,
                    c.Pem,
                    request.Scope.AccountId,
                    c.CreatedAt,
                    c.AutoRegistrationStatus,
                    c.LastModifiedAt,
                    c.CustomerVersion,
                    c.GenerationId,
                    new CertificateValidity(c.NotBefore, c.NotAfter),
                    c.Mode),
                registration),
            ApiJsonContext.Default.DescribeCaCertificateResponse);
    }

    private static async Task<ContentHttpResult> UpdateCaCertificate(AwsRequest<UpdateCaCertificateRequest> request, CaCertificateService cas, CancellationToken cancellationToken)
    {
        var input = request.Input;
        await cas.UpdateAsync(
            input.CertificateId,
            new CaCertificateService.CaCertificateUpdate(input.NewStatus, input.NewAutoRegistrationStatus, ToConfig(input.RegistrationConfig), input.RemoveAutoRegistration ?? false),
            cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<JsonHttpResult<ListCaCertificatesResponse>> ListCaCertificates(AwsRequest<ListCaCertificatesRequest> request, CaCertificateService cas, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var page = await cas.ListAsync(input.TemplateName, input.AscendingOrder ?? false, request.Page(input.PageSize), cancellationToken);
        var items = page.Items.Select(c => new CaCertificateSummary(CaArn(request.Scope, c.CertificateId), c.CertificateId, c.Status, c.CreatedAt)).ToList();
        return TypedResults.Json(new ListCaCertificatesResponse(items, request.NextToken(page)), ApiJsonContext.Default.ListCaCertificatesResponse);
    }

    private static async Task<ContentHttpResult> DeleteCaCertificate(AwsRequest<CaCertificateIdRequest> request, CaCertificateService cas, CancellationToken cancellationToken)
    {
        await cas.DeleteAsync(request.Input.CertificateId, cancellationToken);
        return AwsResults.Empty();
    }
}
