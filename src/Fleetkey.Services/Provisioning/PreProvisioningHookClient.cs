using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;

namespace Fleetkey.Services.Provisioning;

/// <summary>What a pre-provisioning hook is sent (AWS's hook input).</summary>
public sealed record PreProvisioningHookInput(
    [property: JsonPropertyName("claimCertificateId")] string ClaimCertificateId,
    [property: JsonPropertyName("certificateId")] string CertificateId,
    [property: JsonPropertyName("certificatePem")] string CertificatePem,
    [property: JsonPropertyName("templateArn")] string TemplateArn,
    [property: JsonPropertyName("clientId")] string ClientId,
    [property: JsonPropertyName("parameters")] IReadOnlyDictionary<string, string> Parameters);

/// <summary>What a pre-provisioning hook answers (AWS's hook output).</summary>
public sealed record PreProvisioningHookOutput(
    [property: JsonPropertyName("allowProvisioning")] bool? AllowProvisioning,
    [property: JsonPropertyName("parameterOverrides")] Dictionary<string, string>? ParameterOverrides);

[JsonSerializable(typeof(PreProvisioningHookInput))]
[JsonSerializable(typeof(PreProvisioningHookOutput))]
internal sealed partial class PreProvisioningHookJsonContext : JsonSerializerContext;

/// <summary>
/// Calls a template's pre-provisioning hook. Fleetkey has no Lambda: a hook whose target is an http(s)
/// URL is POSTed AWS's hook input as JSON and must answer, within <see cref="Timeout"/>, a 2xx with
/// <c>{"allowProvisioning": true, "parameterOverrides": {...}}</c>. Anything else (refusal, error status,
/// unreadable answer, timeout, connection failure, a Lambda ARN Fleetkey cannot call) refuses
/// provisioning with ACCESS_DENIED, as AWS does when its Lambda fails.
/// </summary>
public sealed partial class PreProvisioningHookClient(IHttpClientFactory clients, TimeProvider time, ILogger<PreProvisioningHookClient> logger)
{
    /// <summary>The named HttpClient the hook calls use.</summary>
    public const string HttpClientName = "fleetkey-pre-provisioning-hook";

    /// <summary>How long a hook may take, as AWS allows its Lambda.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>The http(s) URL a hook target names, or null when it is not one (a Lambda ARN).</summary>
    public static Uri? AsUrl(string target) =>
        Uri.TryCreate(target, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) ? uri : null;

    /// <summary>The hook's parameter overrides; <see cref="FleetProvisioningException"/> ACCESS_DENIED when it does not allow provisioning.</summary>
    public async Task<IReadOnlyDictionary<string, string>> InvokeAsync(string target, PreProvisioningHookInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        var url = AsUrl(target);
        if (url is null)
        {
            LogFailed(logger, target, "Fleetkey cannot invoke Lambda functions; use an http(s) URL as the hook");
            throw Denied();
        }

        // A hook URL may carry a secret (user info, a key in its query): only scheme, host, port and path are logged.
        target = $"{url.Scheme}://{url.Host}:{url.Port}{url.AbsolutePath}";
        using var deadline = new CancellationTokenSource(Timeout, time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        PreProvisioningHookOutput? output;
        try
        {
            var client = clients.CreateClient(HttpClientName);
            using var response = await client.PostAsJsonAsync(url, input, PreProvisioningHookJsonContext.Default.PreProvisioningHookInput, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                LogFailed(logger, target, $"HTTP {(int)response.StatusCode}");
                throw Denied();
            }

            output = await response.Content.ReadFromJsonAsync(PreProvisioningHookJsonContext.Default.PreProvisioningHookOutput, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            LogFailed(logger, target, $"no answer within {Timeout.TotalSeconds:0} s");
            throw Denied();
        }
        catch (Exception exception) when (exception is HttpRequestException or JsonException or NotSupportedException)
        {
            LogFailed(logger, target, exception.GetType().Name + ": " + exception.Message);
            throw Denied();
        }

        if (output?.AllowProvisioning != true)
        {
            LogRefused(logger, target, input.CertificateId);
            throw Denied();
        }

        return output.ParameterOverrides ?? [];
    }

    private static FleetProvisioningException Denied() =>
        new(403, "AccessDenied", "ACCESS_DENIED: the pre-provisioning hook did not allow provisioning.");

    [LoggerMessage(EventId = 9202, EventName = "PreProvisioningHookFailed", Level = LogLevel.Warning, Message = "Pre-provisioning hook {Target} failed: {Reason}; provisioning refused")]
    private static partial void LogFailed(ILogger logger, string target, string reason);

    [LoggerMessage(EventId = 9203, EventName = "PreProvisioningHookRefused", Level = LogLevel.Information, Message = "Pre-provisioning hook {Target} did not allow provisioning certificate {CertificateId}")]
    private static partial void LogRefused(ILogger logger, string target, string certificateId);
}
