namespace Fleetkey.Templates;

// The public surface of the provisioning-template interpreter: JSON template + parameters in,
// a resource plan or every error (each with its JSON path) out. Pure: no I/O, no clock.

public sealed record TemplateError(string Path, string Message);

public sealed record TemplateResult(ProvisioningPlan? Plan, IReadOnlyList<TemplateError> Errors)
{
    public bool Succeeded => Errors.Count == 0 && Plan is not null;
}

public enum OverrideAction
{
    DoNothing,
    Replace,
    Fail,
    Merge,
}

public sealed record ProvisioningPlan(
    IReadOnlyList<PlannedThing> Things,
    IReadOnlyList<PlannedCertificate> Certificates,
    IReadOnlyList<PlannedPolicy> Policies,
    IReadOnlyDictionary<string, string> DeviceConfiguration);

/// <summary>An <c>AWS::IoT::Thing</c>. Null members were not given by the template.</summary>
public sealed record PlannedThing(
    string LogicalName,
    string ThingName,
    IReadOnlyDictionary<string, string>? Attributes,
    string? ThingTypeName,
    IReadOnlyList<string>? ThingGroups,
    OverrideAction? AttributePayloadOverride,
    OverrideAction? ThingTypeNameOverride,
    OverrideAction? ThingGroupsOverride);

/// <summary>An <c>AWS::IoT::Certificate</c>: exactly one of id, PEM or CSR is set. Status is ACTIVE or INACTIVE.</summary>
public sealed record PlannedCertificate(
    string LogicalName,
    string? CertificateId,
    string? CertificatePem,
    string? CaCertificatePem,
    string? CertificateSigningRequest,
    string Status,
    OverrideAction? StatusOverride);

/// <summary>An <c>AWS::IoT::Policy</c>: an existing policy by name, or a document (named by its hash when unnamed).</summary>
public sealed record PlannedPolicy(string LogicalName, string PolicyName, string? PolicyDocument);
