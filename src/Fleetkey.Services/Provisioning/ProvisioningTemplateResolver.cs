using Fleetkey.Core.Naming;

namespace Fleetkey.Services.Provisioning;

/// <summary>
/// Stored provisioning templates for provisioning (enrollments, the device endpoint): the default
/// version's body. ARNs are rendered in <paramref name="scope"/>, the installation's account and
/// the region used where a request carries none (the device endpoint has no SigV4 scope).
/// </summary>
internal sealed class ProvisioningTemplateResolver(ProvisioningTemplateService templates, IotScope scope) : IProvisioningTemplateResolver
{
    public async Task<ResolvedTemplate?> ResolveAsync(string templateName, CancellationToken cancellationToken)
    {
        if (await templates.FindAsync(templateName, cancellationToken) is not { } found)
        {
            return null;
        }

        var template = found.Template;
        return new ResolvedTemplate(
            template.Name,
            Arn.For(scope, ResourceKind.ProvisioningTemplate, template.Name),
            found.DefaultVersion.Body,
            template.Enabled,
            template.Type,
            template.HookTargetArn);
    }
}
