using Fleetkey.Api.Contracts;
using Fleetkey.Api.Wire;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Paging;
using Fleetkey.Pki;
using Fleetkey.Services.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Certificate = Fleetkey.Core.Registry.Certificate;

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
        routes.MapAws("ListCertificatesByCA", ListCertificatesByCa);
        routes.MapAws("UpdateCertificate", UpdateCertificate);
        routes.MapAws("DeleteCertificate", DeleteCertificate);

        // The chain devices pin to trust Fleetkey-issued certificates and the broker.
        routes.MapGet("/ca.pem", (CertificateAuthority authority) => TypedResults.Text(authority.ChainPem, "application/x-pem-file"))
            .AllowAnonymous()
            .WithName("CaChain");
        return routes;
    }

    private static string CertificateArn(IotScope scope, string id) => Arn.For(scope, ResourceKind.Certificate, id);

    private static async Task<JsonHttpResult<CreateKeysAndCertificateResponse>> CreateKeysAndCertificate(AwsRequest<CreateKeysAndCertificateRequest> request, CertificateService certificates, CancellationToken cancellationToken)
    {
        var (certificate, issued) = await certificates.CreateKeysAndCertificateAsync(request.Input.SetAsActive ?? false, cancellationToken);
        return TypedResults.Json(
            new CreateKeysAndCertificateResponse
            {
                CertificateArn = CertificateArn(request.Scope, certificate.CertificateId),
                CertificateId = certificate.CertificateId,
                CertificatePem = certificate.Pem,
                KeyPair = new KeyPair { PublicKey = issued.PublicKeyPem, PrivateKey = issued.PrivateKeyPem },
            },
            ApiJsonContext.Default.CreateKeysAndCertificateResponse);
    }

    private static async Task<JsonHttpResult<CreateCertificateFromCsrResponse>> CreateCertificateFromCsr(AwsRequest<CreateCertificateFromCsrRequest> request, CertificateService certificates, CancellationToken cancellationToken)
    {
        var certificate = await certificates.CreateFromCsrAsync(request.Input.CertificateSigningRequest, request.Input.SetAsActive ?? false, cancellationToken);
        return TypedResults.Json(
            new CreateCertificateFromCsrResponse
            {
                CertificateArn = CertificateArn(request.Scope, certificate.CertificateId),
                CertificateId = certificate.CertificateId,
                CertificatePem = certificate.Pem,
            },
            ApiJsonContext.Default.CreateCertificateFromCsrResponse);
    }

    private static async Task<JsonHttpResult<RegisterCertificateResponse>> RegisterCertificate(AwsRequest<RegisterCertificateRequest> request, CertificateService certificates, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var certificate = await certificates.RegisterAsync(input.CertificatePem, input.CaCertificatePem, input.Status, input.SetAsActive, cancellationToken);
        return TypedResults.Json(
            new RegisterCertificateResponse { CertificateArn = CertificateArn(request.Scope, certificate.CertificateId), CertificateId = certificate.CertificateId },
            ApiJsonContext.Default.RegisterCertificateResponse);
    }

    private static async Task<JsonHttpResult<RegisterCertificateWithoutCAResponse>> RegisterCertificateWithoutCa(AwsRequest<RegisterCertificateWithoutCARequest> request, CertificateService certificates, CancellationToken cancellationToken)
    {
        var certificate = await certificates.RegisterWithoutCaAsync(request.Input.CertificatePem, request.Input.Status, cancellationToken);
        return TypedResults.Json(
            new RegisterCertificateWithoutCAResponse { CertificateArn = CertificateArn(request.Scope, certificate.CertificateId), CertificateId = certificate.CertificateId },
            ApiJsonContext.Default.RegisterCertificateWithoutCAResponse);
    }

    private static async Task<JsonHttpResult<DescribeCertificateResponse>> DescribeCertificate(AwsRequest<DescribeCertificateRequest> request, CertificateService certificates, CancellationToken cancellationToken)
    {
        var c = await certificates.DescribeAsync(request.Input.CertificateId, cancellationToken);
        var description = new CertificateDescription
        {
            CertificateArn = CertificateArn(request.Scope, c.CertificateId),
            CertificateId = c.CertificateId,
            CaCertificateId = c.CaCertificateId,
            Status = c.Status,
            CertificatePem = c.Pem,
            OwnedBy = request.Scope.AccountId,
            CreationDate = c.CreatedAt,
            LastModifiedDate = c.LastModifiedAt,
            CustomerVersion = AwsResults.Integer(c.CustomerVersion),
            GenerationId = c.GenerationId,
            Validity = new CertificateValidity { NotBefore = c.NotBefore, NotAfter = c.NotAfter },
            CertificateMode = c.Mode,
        };
        return TypedResults.Json(new DescribeCertificateResponse { CertificateDescription = description }, ApiJsonContext.Default.DescribeCertificateResponse);
    }

    private static async Task<JsonHttpResult<ListCertificatesResponse>> ListCertificates(AwsRequest<ListCertificatesRequest> request, CertificateService certificates, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var page = await certificates.ListAsync(caCertificateId: null, input.AscendingOrder ?? false, request.Page(input.PageSize), cancellationToken);
        return TypedResults.Json(
            new ListCertificatesResponse { Certificates = Summaries(request.Scope, page), NextMarker = request.NextToken(page) },
            ApiJsonContext.Default.ListCertificatesResponse);
    }

    private static async Task<JsonHttpResult<ListCertificatesByCAResponse>> ListCertificatesByCa(AwsRequest<ListCertificatesByCARequest> request, CertificateService certificates, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var page = await certificates.ListAsync(input.CaCertificateId, input.AscendingOrder ?? false, request.Page(input.PageSize), cancellationToken);
        return TypedResults.Json(
            new ListCertificatesByCAResponse { Certificates = Summaries(request.Scope, page), NextMarker = request.NextToken(page) },
            ApiJsonContext.Default.ListCertificatesByCAResponse);
    }

    private static List<Contracts.Certificate> Summaries(IotScope scope, Page<Certificate> page) =>
        [.. page.Items.Select(c => new Contracts.Certificate
        {
            CertificateArn = CertificateArn(scope, c.CertificateId),
            CertificateId = c.CertificateId,
            Status = c.Status,
            CertificateMode = c.Mode,
            CreationDate = c.CreatedAt,
        })];

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
