namespace Fleetkey.Core.Registry;

/// <summary>Provisioning template types as AWS names them; a template's type is fixed at creation.</summary>
public static class ProvisioningTemplateType
{
    public const string FleetProvisioning = "FLEET_PROVISIONING";
    public const string Jitp = "JITP";
}

/// <summary>
/// A provisioning template (CreateProvisioningTemplate). Its bodies are its versions; the default
/// version is the one provisioning uses. The pre-provisioning hook is kept as given: Fleetkey stores
/// it for AWS compatibility but has no Lambda to call.
/// </summary>
public sealed record ProvisioningTemplate(
    string Name,
    string? Description,
    bool Enabled,
    string Type,
    string ProvisioningRoleArn,
    string? HookTargetArn,
    string? HookPayloadVersion,
    long DefaultVersionId,
    long NextVersionId,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastModifiedAt);

public sealed record ProvisioningTemplateVersion(string TemplateName, long VersionId, string Body, DateTimeOffset CreatedAt);
