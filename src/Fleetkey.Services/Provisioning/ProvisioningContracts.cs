namespace Fleetkey.Services.Provisioning;

/// <summary>
/// A stored provisioning template as provisioning uses it: the body of its default version.
/// <see cref="TemplateType"/> is <c>FLEET_PROVISIONING</c> or <c>JITP</c>; <see cref="PreProvisioningHook"/>
/// the hook's target (a Lambda ARN, or the http(s) URL Fleetkey calls instead), null without a hook.
/// </summary>
public sealed record ResolvedTemplate(string TemplateName, string TemplateArn, string TemplateBody, bool Enabled, string TemplateType, string? PreProvisioningHook = null);

/// <summary>Looks up stored provisioning templates (CreateProvisioningTemplate and its family) by name.</summary>
public interface IProvisioningTemplateResolver
{
    /// <summary>The template's default version, or null when no template has this name.</summary>
    Task<ResolvedTemplate?> ResolveAsync(string templateName, CancellationToken cancellationToken);
}

/// <summary>
/// One enrollment a device's serial number may authenticate against: an individual enrollment, or an
/// enrollment group whose pattern matches the serial. <see cref="DeviceSecret"/> is the decrypted
/// secret the device's signature must be made with: the individual enrollment's secret, or
/// HMAC-SHA256(groupKey, serialNumber) for a group. <see cref="EnrollmentGroupName"/> is null for an
/// individual enrollment. <see cref="Parameters"/> are the fixed template parameters of the enrollment.
/// </summary>
public sealed record DeviceEnrollment(
    string SerialNumber,
    string EnrollmentArn,
    string? EnrollmentGroupName,
    byte[] DeviceSecret,
    string TemplateName,
    bool Enabled,
    bool AllowReprovisioning,
    IReadOnlyDictionary<string, string> Parameters);

/// <summary>Finds the enrollments a serial number may register under.</summary>
public interface IDeviceEnrollmentResolver
{
    /// <summary>
    /// The candidates for a serial, in the order they are tried: the individual enrollment alone when
    /// the serial has one (it wins over every group), otherwise every enrollment group whose
    /// serialNumberPattern matches it (or that has no pattern), by group name. Disabled ones are
    /// included (the device endpoint answers 403 for them once the signature verified). Empty when
    /// nothing matches.
    /// </summary>
    Task<IReadOnlyList<DeviceEnrollment>> ResolveAsync(string serialNumber, CancellationToken cancellationToken);
}
