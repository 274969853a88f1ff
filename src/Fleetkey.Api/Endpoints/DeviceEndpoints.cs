using System.Globalization;
using System.Net;
using System.Text.Json;
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
/// body and the source address; <see cref="DeviceRegistrationService"/> decides everything else.
/// </summary>
internal static class DeviceEndpoints
{
    public const string RegisterPath = "/device/register";

    private const int MaxParameters = 50;

    public static IEndpointRouteBuilder MapDeviceEndpoint(this IEndpointRouteBuilder routes)
    {
        routes.MapPost(RegisterPath, RegisterAsync).AllowAnonymous().WithName("DeviceRegister");
        return routes;
    }

    private static async Task RegisterAsync(HttpContext context, DeviceRegistrationService devices, IOptions<DeviceEndpointOptions> options, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var (request, error, claimed) = await ReadBodyAsync(context.Request, settings.MaxBodyBytes, cancellationToken);
        var attempt = new DeviceRegistrationAttempt(SourceAddress(context, settings), context.Request.Headers.Authorization.ToString() is { Length: > 0 } header ? header : null, request, error, claimed);
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
        await TypedResults.Json(
                new DeviceRegisterResponse(r.ThingName, r.CertificateId, r.CertificateArn, r.CertificatePem, r.PrivateKeyPem, r.CaCertificatesPem, new DeviceMqttEndpoint(r.MqttHost, r.MqttPort)),
                ApiJsonContext.Default.DeviceRegisterResponse)
            .ExecuteAsync(context);
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

    /// <summary>Reads and checks the JSON body; every problem is reported at once.</summary>
    private static async Task<(DeviceRegistrationRequest? Request, string? Error, string? ClaimedSerial)> ReadBodyAsync(HttpRequest http, int maxBytes, CancellationToken cancellationToken)
    {
        if (http.ContentLength > maxBytes)
        {
            return (null, $"The request body is larger than {maxBytes} bytes.", null);
        }

        var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await http.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return (null, $"The request body is larger than {maxBytes} bytes.", null);
            }

            buffer.Write(chunk, 0, read);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(buffer.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException)
        {
            return (null, "The request body is not a JSON object.", null);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, "The request body is not a JSON object.", null);
            }

            var problems = new List<string>();
            string? serial = null, csr = null;
            Dictionary<string, string>? parameters = null;
            foreach (var member in root.EnumerateObject())
            {
                switch (member.Name)
                {
                    case "serialNumber" when member.Value.ValueKind == JsonValueKind.String:
                        serial = member.Value.GetString();
                        break;
                    case "serialNumber":
                        problems.Add("serialNumber must be a string");
                        break;
                    case "csr" when member.Value.ValueKind == JsonValueKind.String:
                        csr = member.Value.GetString();
                        break;
                    case "csr" when member.Value.ValueKind == JsonValueKind.Null:
                        break;
                    case "csr":
                        problems.Add("csr must be a PEM string");
                        break;
                    case "parameters" when member.Value.ValueKind == JsonValueKind.Null:
                        break;
                    case "parameters" when member.Value.ValueKind == JsonValueKind.Object:
                        parameters = new Dictionary<string, string>(StringComparer.Ordinal);
                        foreach (var parameter in member.Value.EnumerateObject())
                        {
                            if (parameter.Value.ValueKind != JsonValueKind.String)
                            {
                                problems.Add($"parameters.{parameter.Name} must be a string");
                            }
                            else
                            {
                                parameters[parameter.Name] = parameter.Value.GetString()!;
                            }
                        }

                        if (parameters.Count > MaxParameters)
                        {
                            problems.Add($"at most {MaxParameters} parameters are allowed");
                        }

                        break;
                    case "parameters":
                        problems.Add("parameters must be an object of strings");
                        break;
                    default:
                        problems.Add($"unknown member '{member.Name}'; expected serialNumber, csr and parameters");
                        break;
                }
            }

            if (serial is null && !problems.Any(p => p.StartsWith("serialNumber", StringComparison.Ordinal)))
            {
                problems.Add("serialNumber is required");
            }

            return problems.Count > 0
                ? (null, $"The request body is not valid: {string.Join("; ", problems)}.", serial)
                : (new DeviceRegistrationRequest(serial!, csr, parameters), null, serial);
        }
    }
}
