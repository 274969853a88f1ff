namespace Fleetkey.Core.Naming;

/// <summary>The resource kinds of the registry, with the ARN resource-type word AWS uses for each.</summary>
public enum ResourceKind
{
    Thing,
    ThingType,
    ThingGroup,
    Certificate,
    CaCertificate,
    Policy,
    ProvisioningTemplate,
    EnrollmentGroup,
    Enrollment,
}
