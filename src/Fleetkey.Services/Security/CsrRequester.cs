namespace Fleetkey.Services.Security;

/// <summary>Who sent a CSR, which decides what of it a certificate keeps (<see cref="CertificateService.SubjectFor"/>).</summary>
public enum CsrRequester
{
    /// <summary>Authenticated with SigV4 as an operator of this installation.</summary>
    Operator,

    /// <summary>A device: through the device endpoint, or fleet provisioning with a claim certificate.</summary>
    Device,
}
