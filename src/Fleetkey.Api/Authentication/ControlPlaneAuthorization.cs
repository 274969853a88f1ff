using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Fleetkey.Api.Hosting;
using Fleetkey.Api.Wire;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Access;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Fleetkey.Api.Authentication;

/// <summary>
/// Authorizes a signed control-plane request before its handler runs: the operation's action on the
/// resources its input names (<see cref="OperationPermissions"/>), decided by the signing key's identity
/// policies (<see cref="AccessAuthorizer"/>) with IAM's global condition keys of the request. A refusal is
/// 403 AccessDeniedException in AWS's words; the resources are kept for the audit trail either way.
/// </summary>
internal static class ControlPlaneAuthorization
{
    public static async ValueTask AuthorizeAsync(HttpContext context, OperationModel operation, JsonObject? input)
    {
        var audit = context.Features.Get<RequestAudit>();
        if (audit is { Authorized: true })
        {
            return;
        }

        var identity = context.Features.Get<SigV4Identity>();
        if (identity is null)
        {
            // An anonymous route (the SigV4 middleware lets nothing else through unsigned).
            return;
        }

        var permission = OperationPermissions.For(operation.Name)
            ?? throw new InvalidOperationException($"{operation.Name} has no entry in iot-authorization.json.");
        if (permission.Action is null)
        {
            throw new InvalidOperationException($"{operation.Name} is signed but has no action in iot-authorization.json.");
        }

        var options = context.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value;
        string? Route(string member) => context.Request.RouteValues.TryGetValue(member, out var v) ? v as string : null;
        var resources = OperationPermissions.Resources(permission, input, Route, identity.Region, options.AccountId);
        if (audit is not null)
        {
            audit.Resources = resources;
            audit.Authorized = true;
        }

        var keys = context.RequestServices.GetRequiredService<AccessKeyService>();
        // Read again (kept while nothing is committed): a key deleted or disabled since its signature was checked is refused.
        var key = await keys.FindForRequestAsync(identity.AccessKeyId, context.RequestAborted);
        if (key is not { Status: AccessKey.Active })
        {
            throw new ServiceException(ErrorCode.UnrecognizedClient, SigV4Messages.InvalidSecurityToken);
        }

        var time = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        var source = SourceAddress(context);
        context.RequestServices.GetRequiredService<AccessKeyUsage>().Note(key.AccessKeyId, time, source ?? "unknown");
        if (key.FullAccess)
        {
            return;
        }

        var principal = AccessAuthorizer.PrincipalArn(options.AccountId, key.AccessKeyId);
        var keysOfRequest = Context(context, identity, principal, options.AccountId, source, time);
        if (OperationPermissions.ThingArn(permission, input, Route, identity.Region, options.AccountId) is { } thingArn)
        {
            keysOfRequest["iot:thingArn"] = thingArn;
        }

        var request = new AccessRequest(permission.Action, resources, keysOfRequest);
        var decision = AccessAuthorizer.Decide(key, request);
        if (!decision.IsAllowed)
        {
            throw AccessAuthorizer.Refusal(principal, permission.Action, decision);
        }
    }

    /// <summary>The request's source address as <c>aws:SourceIp</c> gives it: IPv4 for an IPv4-mapped IPv6 peer.</summary>
    public static string? SourceAddress(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress;
        if (address is null)
        {
            return null;
        }

        return (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();
    }

    // IAM's global condition keys that mean something here; also the policy variables ${aws:username} etc.
    private static Dictionary<string, string> Context(HttpContext context, SigV4Identity identity, string principal, string accountId, string? source, DateTimeOffset now)
    {
        var keys = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["aws:SecureTransport"] = context.Request.IsHttps ? "true" : "false",
            ["aws:CurrentTime"] = now.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["aws:EpochTime"] = now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
            ["aws:PrincipalArn"] = principal,
            ["aws:PrincipalAccount"] = accountId,
            ["aws:PrincipalType"] = "User",
            ["aws:username"] = identity.AccessKeyId,
            ["aws:userid"] = identity.AccessKeyId,
            ["aws:RequestedRegion"] = identity.Region,
        };
        if (source is not null && IPAddress.TryParse(source, out _))
        {
            keys["aws:SourceIp"] = source;
        }

        if (context.Request.Headers.UserAgent.ToString() is { Length: > 0 } agent)
        {
            keys["aws:UserAgent"] = agent;
        }

        return keys;
    }
}
