using Fleetkey.Api.Authentication;
using Fleetkey.Services.Audit;
using Fleetkey.Storage;
using Microsoft.AspNetCore.Http;

namespace Fleetkey.Api.Wire;

/// <summary>
/// Records control-plane requests in the audit trail before their answer is sent (as the response starts):
/// every request to an operation that changes state, whatever its outcome, and every refused request
/// (401/403: bad signature, unknown or disabled key, access denied) of any kind. Reads (List, Describe,
/// Get, Test) that succeed or fail for another reason are not recorded. Anonymous routes (health, the CA,
/// the device endpoint, EST, CRL/OCSP) are not either: the device endpoint keeps its own attempt log.
/// </summary>
internal sealed class AuditMiddleware(RequestDelegate next, AuditTrail trail, TimeProvider time)
{
    private static readonly string[] ReadPrefixes = ["List", "Describe", "Get", "Test", "Search", "Verify"];

    public Task InvokeAsync(HttpContext context)
    {
        var audit = new RequestAudit();
        context.Features.Set(audit);
        context.Response.OnStarting(() => RecordAsync(context, audit));
        return next(context);
    }

    private async Task RecordAsync(HttpContext context, RequestAudit audit)
    {
        if (!audit.SignatureRequired)
        {
            return;
        }

        var status = context.Response.StatusCode;
        var operation = context.GetEndpoint()?.Metadata.GetMetadata<OperationModel>();
        var refused = status is StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden;
        if (!refused && (operation is null || IsRead(operation)))
        {
            return;
        }

        var record = AuditRecord.Unnumbered(
            time.GetUtcNow(),
            context.Response.Headers["x-amzn-RequestId"].ToString(),
            AuditRecord.Api,
            Cut(audit.AccessKeyId),
            operation?.Name ?? Cut($"{context.Request.Method} {context.Request.Path}")!,
            audit.Resources,
            ControlPlaneAuthorization.SourceAddress(context),
            Cut(context.Request.Headers.UserAgent.ToString()),
            status,
            context.Response.Headers["x-amzn-ErrorType"].ToString() is { Length: > 0 } error ? error : null);

        try
        {
            // Recorded whatever the client does meanwhile: the record must not depend on the client waiting.
            await trail.RecordAsync(record, CancellationToken.None);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // AuditWriter has logged why; the answer (whose work is done) still goes out.
        }
    }

    private static bool IsRead(OperationModel operation) =>
        HttpMethods.IsGet(operation.Method) || ReadPrefixes.Any(p => operation.Name.StartsWith(p, StringComparison.Ordinal));

    private static string? Cut(string? value) =>
        string.IsNullOrEmpty(value) ? null : value.Length <= AuditRecord.MaxText ? value : value[..AuditRecord.MaxText];
}
