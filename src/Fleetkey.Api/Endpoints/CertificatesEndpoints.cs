using Fleetkey.Api.Contracts;
using Fleetkey.Api.Wire;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;
using Fleetkey.Pki;
using Fleetkey.Services.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Fleetkey.Api.Endpoints;

internal static class CertificatesEndpoints
{
    public static IEndpointRouteBuilder MapCertificates(this IEndpointRouteBuilder routes)
    {
        routes.MapAws("CreateKeysAndCertificate", CreateKeysAndCertificate);
        routes.MapAws("CreateCertificateFromCsr", CreateCertificateFromCsr);
        routes.MapAws("RegisterCertificate", RegisterCertificate);
        routes.MapAws("RegisterCertificateWithoutCA", RegisterCertificateWithoutCa);
        routes.MapAws("DescribeCertificate", DescribeCertificate);
        routes.MapAws("ListCertificates", ListCertificates);
        routes.MapAws("ListCertificatesByCA", ListCertificates);
        routes.MapAws("UpdateCertificate", UpdateCertificate);
        routes.MapAws("DeleteCertificate", DeleteCertificate);

        // The chain devices pin to trust Fleetkey-issued certificates and the broker.
        routes.MapGet("/ca.pem", (CertificateAuthority authority) => TypedResults.Text(authority.ChainPem, "application/x-pem-file"))
            .AllowAnonymous()
            .WithName("CaChain");
        return routes;
    }

    private static string CertificateArn(IotScope scope, string id) => Arn.For(scope, ResourceKind.Certificate, id);

    private static async Task<JsonHttpResult<CreateKeysAndCertificateResponse>> CreateKeysAndCertificate(AwsRequest<SetAsActiveRequest> request, CertificateService certificates, CancellationToken cancellationToken)
    {
        var (certificate, issued) = await certificates.CreateKeysAndCertificateAsync(request.Input.SetAsActive ?? false, cancellationToken);
        return TypedResults.Json(
            new CreateKeysAndCertificateResponse(
                CertificateArn(request.Scope, certificate.CertificateId),
                certificate.CertificateId,
                certificate.Pem,
                new KeyPairDto(issued.PublicKeyPem, issued.PrivateKeyPem)),
            ApiJsonContext.Default.CreateKeysAndCertificateResponse);
    }

    private static async Task<JsonHttpResult<CreateCertificateFromCsrResponse>> CreateCertificateFromCsr(AwsRequest<CreateCertificateFromCsrRequest> request, CertificateService certificates, CancellationToken cancellationToken)
    {
        var certificate = await certificates.CreateFromCsrAsync(request.Input.CertificateSigningRequest, request.Input.SetAsActive ?? false, cancellationToken);
        return TypedResults.Json(
            new CreateCertificateFromCsrResponse(CertificateArn(request.Scope, certificate.CertificateId), certificate.CertificateId, certificate.Pem),
            ApiJsonContext.Default.CreateCertificateFromCsrResponse);
    }

    private static async Task<JsonHttpResult<RegisterCertificateResponse>> RegisterCertificate(AwsRequest<RegisterCertificateRequest> request, CertificateService certificates, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var certificate = await certificates.RegisterAsync(input.CertificatePem, input.CaCertificatePem, input.Status, input.SetAsActive, cancellationToken);
        return TypedResults.Json(new RegisterCertificateResponse(CertificateArn(request.Scope, certificate.CertificateId), certificate.CertificateId), ApiJsonContext.Default.RegisterCertificateResponse);
    }

    private static async Task<JsonHttpResult<RegisterCertificateResponse>> RegisterCertificateWithoutCa(AwsRequest<RegisterCertificateRequest> request, CertificateService certificates, CancellationToken cancellationToken)
    {
        var certificate = await certificates.RegisterWithoutCaAsync(request.Input.CertificatePem, request.Input.Status, cancellationToken);
        return TypedResults.Json(new RegisterCertificateResponse(CertificateArn(request.Scope, certificate.CertificateId), certificate.CertificateId), ApiJsonContext.Default.RegisterCertificateResponse);
    }

    private static async Task<JsonHttpResult<DescribeCertificateResponse>> DescribeCertificate(AwsRequest<CertificateIdRequest> request, CertificateService certificates, CancellationToken cancellationToken)
    {
        var c = await certificates.DescribeAsync(request.Input.CertificateId, cancellationToken);
        return TypedResults.Json(
            new DescribeCertificateResponse(new CertificateDescription(
                CertificateArn(request.Scope, c.CertificateId),
                c.CertificateId,
                c.CaCertificateId,
                c.Status,
                c.Pem,
                request.Scope.AccountId,
                c.CreatedAt,
                c.LastModifiedAt,
                c.CustomerVersion,
                c.GenerationId,
                new CertificateValidity(c.NotBefore, c.NotAfter),
                c.Mode)),
            ApiJsonContext.Default.DescribeCertificateResponse);
    }

    private static async Task<JsonHttpResult<ListCertificatesResponse>> ListCertificates(AwsRequest<ListCertificatesRequest> request, CertificateService certificates, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var page = await certificates.ListAsync(input.CaCertificateId, input.AscendingOrder ?? false, request.Page(input.PageSize), cancellationToken);
        var items = page.Items.Select(c => Summary(request.Scope, c)).ToList();
        return TypedResults.Json(new ListCertificatesResponse(items, request.NextToken(page)), ApiJsonContext.Default.ListCertificatesResponse);
    }

    private static CertificateSummary Summary(IotScope scope, Certificate c) =>
        new(CertificateArn(scope, c.CertificateId), c.CertificateId, c.Status, c.Mode, c.CreatedAt);

    private static async Task<ContentHttpResult> UpdateCertificate(AwsRequest<UpdateCertificateRequest> request, CertificateService certificates, CancellationToken cancellationToken)
    {
        await certificates.UpdateStatusAsync(request.Input.CertificateId, request.Input.NewStatus, cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<ContentHttpResult> DeleteCertificate(AwsRequest<DeleteCertificateRequest> request, CertificateService certificates, CancellationToken cancellationToken)
    {
        await certificates.DeleteAsync(request.Scope, request.Input.CertificateId, request.Input.ForceDelete ?? false, cancellationToken);
        return AwsResults.Empty();
    }
}
