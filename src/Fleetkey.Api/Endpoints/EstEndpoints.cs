using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Fleetkey.Api.Wire;
using Fleetkey.Core.Errors;
using Fleetkey.Pki;
using Fleetkey.Services.Devices;
using Fleetkey.Services.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Fleetkey.Api.Endpoints;

/// <summary>
/// Enrollment over Secure Transport (RFC 7030) on the device listener, under <c>/.well-known/est/</c>:
/// <c>cacerts</c>; <c>simpleenroll</c>, a first certificate for a CSR authenticated by the enrollment's
/// SharedAccessSignature (the rules of <c>POST /device/register</c>: one use per signature, rates, audit);
/// <c>simplereenroll</c>, a renewal authenticated by the device's current certificate over mutual TLS.
/// Requests and answers are base64 DER (PKCS#10 in, certs-only PKCS#7 out), as RFC 7030 and RFC 8951 say.
/// </summary>
internal static class EstEndpoints
{
    public const string Prefix = "/.well-known/est";

    /// <summary>A base64 PKCS#10 request of any key Fleetkey accepts is a few kilobytes; this bounds it well above.</summary>
    internal const int MaxRequestBytes = 16 * 1024;

    private const string Pkcs7 = "application/pkcs7-mime; smime-type=certs-only";

    public static IEndpointRouteBuilder MapEst(this IEndpointRouteBuilder routes)
    {
        routes.MapGet(Prefix + "/cacerts", CaCertificates).AllowAnonymous();
        routes.MapPost(Prefix + "/simpleenroll", EnrollAsync).AllowAnonymous();
        routes.MapPost(Prefix + "/simplereenroll", ReenrollAsync).AllowAnonymous();
        return routes;
    }

    private static CertsOnlyResult CaCertificates(CertificateAuthority authority) =>
        CertsOnly([authority.Issuing, authority.Root]);

    private static async Task<IResult> EnrollAsync(HttpContext context, DeviceRegistrationService devices, IOptions<DeviceEndpointOptions> options, CancellationToken cancellationToken)
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        if (!SharedAccessSignature.TryParse(authorization, out var token))
        {
            context.Response.Headers.WWWAuthenticate = SharedAccessSignature.Scheme;
            return Text(StatusCodes.Status401Unauthorized, "simpleenroll authenticates with Authorization: SharedAccessSignature sr=<serial number>&se=<expiry>&sig=<signature>, as POST /device/register.");
        }

        var (csr, error) = await ReadCsrAsync(context.Request, cancellationToken);
        var request = csr is null ? null : new DeviceRegistrationRequest(token.Resource, csr, Parameters: null);
        var attempt = new DeviceRegistrationAttempt(DeviceEndpoints.SourceAddress(context, options.Value), authorization, request, error, token.Resource);
        var outcome = await devices.RegisterAsync(attempt, cancellationToken);
        if (outcome.Error is { } failure)
        {
            if (outcome.RetryAfter is { } wait)
            {
                context.Response.Headers.RetryAfter = ((long)wait.TotalSeconds).ToString(CultureInfo.InvariantCulture);
            }

            if (failure.Code.HttpStatus == StatusCodes.Status401Unauthorized)
            {
                context.Response.Headers.WWWAuthenticate = SharedAccessSignature.Scheme;
            }

            return Text(failure.Code.HttpStatus, failure.Message);
        }

        using var issued = X509Certificate2.CreateFromPem(outcome.Registered!.CertificatePem);
        return CertsOnly([issued]);
    }

    private static async Task<IResult> ReenrollAsync(HttpContext context, CertificateRenewalService renewals, IOptions<CertificateRenewalOptions> options, CancellationToken cancellationToken)
    {
        var presented = await context.Connection.GetClientCertificateAsync(cancellationToken);
        if (presented is null)
        {
            return Text(StatusCodes.Status401Unauthorized, "simplereenroll authenticates with the device's current certificate: connect with it over mutual TLS (https).");
        }

        var (csr, error) = await ReadCsrAsync(context.Request, cancellationToken);
        if (csr is null)
        {
            return Text(StatusCodes.Status400BadRequest, error!);
        }

        try
        {
            var renewed = await renewals.RenewAsync(presented, csr, cancellationToken);
            using var certificate = X509Certificate2.CreateFromPem(renewed.Pem);
            return CertsOnly([certificate]);
        }
        catch (ServiceException exception)
        {
            if (exception.Code == ErrorCode.TooManyRequests)
            {
                context.Response.Headers.RetryAfter = ((long)Math.Ceiling(options.Value.MinInterval.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            }

            return Text(exception.Code.HttpStatus, exception.Message);
        }
    }

    /// <summary>The body as a PEM CSR, or why it is not one: bounded, base64 (line breaks allowed), a PKCS#10 request.</summary>
    internal static async Task<(string? Csr, string? Error)> ReadCsrAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentType is { } type && !type.StartsWith("application/pkcs10", StringComparison.OrdinalIgnoreCase))
        {
            return (null, "The request body is a base64 PKCS#10 certificate request (Content-Type: application/pkcs10).");
        }

        var body = await BoundedBody.ReadAsync(request, MaxRequestBytes, cancellationToken);
        if (body.Problem is { } problem)
        {
            return (null, problem);
        }

        return ParseCsr(body.Bytes.Span);
    }

    /// <summary>Base64 (whitespace ignored) of a DER PKCS#10 request, as PEM; or why not.</summary>
    internal static (string? Csr, string? Error) ParseCsr(ReadOnlySpan<byte> body)
    {
        const string NotBase64 = "The request body is not base64 of a DER PKCS#10 certificate request.";
        var text = Encoding.ASCII.GetString(body);
        byte[] der;
        try
        {
            der = Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            return (null, NotBase64);
        }

        try
        {
            // Parsed here only to tell "not a CSR" apart; the CA checks its signature and key when it signs.
            _ = CertificateRequest.LoadSigningRequest(der, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.SkipSignatureValidation);
        }
        catch (CryptographicException)
        {
            return (null, NotBase64);
        }

        return (PemEncoding.WriteString("CERTIFICATE REQUEST", der), null);
    }

    private static CertsOnlyResult CertsOnly(X509Certificate2[] certificates)
    {
        var collection = new X509Certificate2Collection(certificates);
        var der = collection.Export(X509ContentType.Pkcs7)!;
        return new CertsOnlyResult(Convert.ToBase64String(der, Base64FormattingOptions.InsertLineBreaks));
    }

    private static ContentHttpResult Text(int status, string message) => TypedResults.Text(message + "\n", "text/plain; charset=utf-8", Encoding.UTF8, status);

    /// <summary>A certs-only PKCS#7, base64; <c>Content-Transfer-Encoding</c> for RFC 7030 clients (RFC 8951 lets it go).</summary>
    private sealed class CertsOnlyResult(string base64) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status200OK;
            httpContext.Response.ContentType = Pkcs7;
            httpContext.Response.Headers["Content-Transfer-Encoding"] = "base64";
            httpContext.Response.Headers.CacheControl = "no-store";
            return httpContext.Response.WriteAsync(base64 + "\n");
        }
    }
}
