using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;

namespace Fleetkey.Services.Security;

/// <summary>Principals as the API names them (certificate ARNs) and as the store keeps them (kind + id).</summary>
public static class Principals
{
    /// <summary>The certificate id named by a certificate ARN of this account, in any region.</summary>
    public static string CertificateIdFromArn(IotScope scope, string principal)
    {
        if (!Arn.TryParse(principal, out var arn) || arn.Kind != ResourceKind.Certificate)
        {
            ThrowHelper.InvalidRequest($"Principal {principal} is not a certificate ARN; Fleetkey supports certificate principals.");
        }

        if (arn.AccountId != scope.AccountId)
        {
            ThrowHelper.NotFound($"The certificate {principal} does not exist in this account.");
        }

        return arn.Name;
    }

    public static string Render(IotScope scope, ThingPrincipal principal) =>
        Arn.For(scope, ResourceKind.Certificate, principal.PrincipalId);
}
