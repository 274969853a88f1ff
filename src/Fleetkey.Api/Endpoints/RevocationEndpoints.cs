using System.Buffers;
using Fleetkey.Api.Wire;
using Fleetkey.Pki;
using Fleetkey.Services.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Fleetkey.Api.Endpoints;

/// <summary>
/// Revocation for relying parties, on the device listener, unauthenticated (<see cref="RevocationUrls"/>):
/// <c>GET /crl/ID.crl</c> (the issuing CA's CRL, DER), <c>GET /ca/ID.cer</c> (a Fleetkey CA certificate,
/// DER) and the OCSP responder, <c>POST /ocsp</c> and <c>GET /ocsp/BASE64</c> (RFC 6960 A.1). Every OCSP
/// request is answered with an OCSP response, HTTP 200, whatever it holds (a malformed one with
/// <c>malformedRequest</c>), as RFC 5019 responders do.
/// </summary>
internal static class RevocationEndpoints
{
    private const string CrlContentType = "application/pkix-crl";
    private const string CertificateContentType = "application/pkix-cert";
    private const string OcspResponseContentType = "application/ocsp-response";

    private static readonly SearchValues<char> LowerHex = SearchValues.Create("0123456789abcdef");

    public static IEndpointRouteBuilder MapRevocation(this IEndpointRouteBuilder routes)
    {
        routes.MapGet(RevocationUrls.CrlPath + "/{file}", GetCrlAsync).AllowAnonymous();
        routes.MapGet(RevocationUrls.CaPath + "/{file}", GetCaCertificate).AllowAnonymous();
        routes.MapPost(RevocationUrls.OcspPath, PostOcspAsync).AllowAnonymous();
        routes.MapGet(RevocationUrls.OcspPath + "/{**request}", GetOcspAsync).AllowAnonymous();
        return routes;
    }

    private static async Task<IResult> GetCrlAsync(string file, HttpContext context, CrlService crls, CancellationToken cancellationToken)
    {
        if (Id(file, RevocationUrls.CrlExtension) is not { } id || await crls.GetAsync(id, cancellationToken) is not { } der)
        {
            return TypedResults.NotFound();
        }

        context.Response.Headers.CacheControl = "no-cache";
        return TypedResults.Bytes(der, CrlContentType);
    }

    private static IResult GetCaCertificate(string file, CertificateService certificates) =>
        Id(file, RevocationUrls.CaExtension) is { } id && certificates.FindOwnCaCertificate(id) is { } der
            ? TypedResults.Bytes(der, CertificateContentType)
            : TypedResults.NotFound();

    private static async Task PostOcspAsync(HttpContext context, OcspService ocsp, CancellationToken cancellationToken)
    {
        var body = await BoundedBody.ReadAsync(context.Request, OcspResponder.MaxRequestBytes, cancellationToken);

        // A body that is too long or unreadable is answered as the malformed request it is.
        await WriteAsync(context, await ocsp.RespondAsync(body.Problem is null ? body.Bytes : ReadOnlyMemory<byte>.Empty, cancellationToken), cancellationToken);
    }

    private static async Task GetOcspAsync(HttpContext context, OcspService ocsp, CancellationToken cancellationToken)
    {
        // The path, not the route value: base64 may hold '/', which a client may or may not escape.
        var encoded = context.Request.Path.Value![(RevocationUrls.OcspPath.Length + 1)..];
        var request = OcspResponder.DecodeGetPath(encoded);
        await WriteAsync(context, await ocsp.RespondAsync(request, cancellationToken), cancellationToken);
    }

    private static Task WriteAsync(HttpContext context, OcspAnswer answer, CancellationToken cancellationToken)
    {
        // Answers are signed per request from the store as it is now: caches must not keep them.
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.ContentType = OcspResponseContentType;
        context.Response.ContentLength = answer.Response.Length;
        return context.Response.Body.WriteAsync(answer.Response, cancellationToken).AsTask();
    }

    /// <summary>The certificate id in "ID.ext": 64 lowercase hex digits, else null.</summary>
    private static string? Id(string file, string extension) =>
        file.Length == 64 + extension.Length && file.EndsWith(extension, StringComparison.Ordinal) && !file.AsSpan(0, 64).ContainsAnyExcept(LowerHex)
            ? file[..64]
            : null;
}
