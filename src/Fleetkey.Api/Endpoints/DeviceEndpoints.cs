using System.Globalization;
using System.Net;
using Fleetkey.Api.Contracts;
using Fleetkey.Api.Wire;
using Fleetkey.Services.Devices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Fleetkey.Api.Endpoints;

/// <summary>
/// <c>POST /device/register</c>, the certificate vending endpoint devices call on the device listener
/// (never SigV4: the SharedAccessSignature header is the credential). This adapter reads the bounded
/// body (<see cref="DeviceRequestReader"/>) and the source address; <see cref="DeviceRegistrationService"/>
/// decides everything else, for a body it could not read too (so every request is counted and audited).
/// </summary>
internal static class DeviceEndpoints
{
    public static IEndpointRouteBuilder MapDeviceEndpoint(this IEndpointRouteBuilder routes)
    {
        routes.MapExtension("DeviceRegister", RegisterAsync).AllowAnonymous();
        return routes;
    }

    private static async Task RegisterAsync(HttpContext context, DeviceRegistrationService devices, IOptions<DeviceEndpointOptions> options, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var (request, error, claimed) = await ReadBodyAsync(context.Request, settings.MaxBodyBytes, cancellationToken);
        var authorization = context.Request.Headers.Authorization.ToString() is { Length: > 0 } header ? header : null;
        var attempt = new DeviceRegistrationAttempt(SourceAddress(context, settings), authorization, request, error, claimed);
        var outcome = await devices.RegisterAsync(attempt, cancellationToken);
        if (outcome.Error is { } failure)
        {
            var headers = new Dictionary<string, string>(StringComparer.Ordinal);
            if (outcome.RetryAfter is { } wait)
            {
                headers["Retry-After"] = ((long)wait.TotalSeconds).ToString(CultureInfo.InvariantCulture);
            }

            if (failure.Code.HttpStatus == StatusCodes.Status401Unauthorized)
            {
                headers["WWW-Authenticate"] = SharedAccessSignature.Scheme;
            }

            await AwsErrorMiddleware.WriteAsync(context, failure, context.Response.Headers["x-amzn-RequestId"].ToString(), headers);
            return;
        }

        var r = outcome.Registered!;
        context.Response.Headers.CacheControl = "no-store";
        var response = new DeviceRegisterResponse
        {
            ThingName = r.ThingName,
            CertificateId = r.CertificateId,
            CertificateArn = r.CertificateArn,
            CertificatePem = r.CertificatePem,
            PrivateKey = r.PrivateKeyPem,
            CaCertificatesPem = r.CaCertificatesPem,
            Mqtt = new DeviceMqttEndpoint { Host = r.MqttHost, Port = r.MqttPort },
        };
        await TypedResults.Json(response, ApiJsonContext.Default.DeviceRegisterResponse).ExecuteAsync(context);
    }

    /// <summary>
    /// The socket's address, or with <see cref="DeviceEndpointOptions.TrustForwardedFor"/> the last
    /// X-Forwarded-For entry: the one the proxy in front appended (earlier entries are the client's to choose).
    /// </summary>
    internal static string SourceAddress(HttpContext context, DeviceEndpointOptions options)
    {
        if (options.TrustForwardedFor)
        {
            var forwarded = context.Request.Headers["X-Forwarded-For"].ToString();
            var last = forwarded.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
            if (last is not null && IPAddress.TryParse(last, out var address))
            {
                return Normalize(address);
            }
        }

        return context.Connection.RemoteIpAddress is { } remote ? Normalize(remote) : "unknown";
    }

    private static string Normalize(IPAddress address) =>
        (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();

    /// <summary>
    /// Reads the body within <paramref name="maxBytes"/> (<see cref="BoundedBody"/>) and hands it to
    /// <see cref="DeviceRequestReader"/>. A body that cannot be read (too large, malformed chunking, too
    /// slow) is a refusal like any other: the service counts and audits it.
    /// </summary>
    private static async Task<DeviceRequestBody> ReadBodyAsync(HttpRequest http, int maxBytes, CancellationToken cancellationToken)
    {
        if (DeviceRequestReader.CheckContentType(http.ContentType) is { } wrongType)
        {
            return DeviceRequestBody.Refused(wrongType);
        }

        var body = await BoundedBody.ReadAsync(http, maxBytes, cancellationToken);
        return body.Problem is { } problem ? DeviceRequestBody.Refused(problem) : DeviceRequestReader.Parse(body.Bytes.Span);
    }
}
