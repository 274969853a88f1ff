namespace Fleetkey.Storage;

/// <summary>One open transaction and the repositories that work inside it.</summary>
public interface IStoreSession
{
    IThingRepository Things { get; }

    IThingTypeRepository ThingTypes { get; }

    IThingGroupRepository ThingGroups { get; }

    ITagRepository Tags { get; }

    IAccessKeyRepository AccessKeys { get; }

    ICertificateRepository Certificates { get; }

    ICaCertificateRepository CaCertificates { get; }

    IRevocationRepository Revocation { get; }

    IThingPrincipalRepository ThingPrincipals { get; }

    IPolicyRepository Policies { get; }

    ICaMaterialRepository CaMaterial { get; }

    IDeviceKeyPoolRepository DeviceKeyPool { get; }

    IDeviceEndpointRepository DeviceEndpoint { get; }

    IProvisioningTemplateRepository ProvisioningTemplates { get; }

    IEnrollmentGroupRepository EnrollmentGroups { get; }

    IEnrollmentRepository Enrollments { get; }

    IFleetProvisioningRepository FleetProvisioning { get; }

    ICertificateRenewalRepository CertificateRenewals { get; }

    IAuditRepository Audit { get; }
}
