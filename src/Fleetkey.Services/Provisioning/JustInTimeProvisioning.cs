using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Security;
using Fleetkey.Storage;
using Fleetkey.Templates;

namespace Fleetkey.Services.Provisioning;

/// <summary>What a device's first connection with a certificate of a registered CA led to.</summary>
public enum JustInTimeOutcome
{
    /// <summary>JITR: the certificate is (or already was) PENDING_ACTIVATION; the registration event is due and the connection is refused.</summary>
    PendingActivation,

    /// <summary>JITP: the CA's template was applied; the certificate is registered with the template's status.</summary>
    Provisioned,
}

/// <summary>The certificate and CA a just-in-time registration concerned.</summary>
public sealed record JustInTimeResult(JustInTimeOutcome Outcome, Certificate Certificate, CaCertificate Ca);

/// <summary>
/// Just-in-time registration (JITR) and provisioning (JITP), as AWS IoT does them when a device first
/// connects with a certificate signed by a registered ACTIVE CA whose auto-registration is enabled:
/// without a registration config the certificate is registered PENDING_ACTIVATION (the broker then
/// publishes <c>$aws/events/certificates/registered/&lt;caCertificateId&gt;</c>); with one, the CA's
/// template (its body, or a JITP provisioning template by name) is applied with the parameters taken
/// from the certificate's subject. Either way in one transaction: a failed provisioning leaves nothing.
/// </summary>
public sealed class JustInTimeProvisioning(
    IFleetStore store,
    RegisteredCaTrust trust,
    CertificateService certificates,
    RegistrationService registrations,
    IProvisioningTemplateResolver templates)
{
    /// <summary>The parameters AWS fills from a device certificate's subject, by their X.500 attribute OIDs.</summary>
    private static readonly (string Parameter, string Oid)[] SubjectParameters =
    [
        ("AWS::IoT::Certificate::CommonName", "2.5.4.3"),
        ("AWS::IoT::Certificate::SerialNumber", "2.5.4.5"),
        ("AWS::IoT::Certificate::Country", "2.5.4.6"),
        ("AWS::IoT::Certificate::Organization", "2.5.4.10"),
        ("AWS::IoT::Certificate::OrganizationalUnit", "2.5.4.11"),
        ("AWS::IoT::Certificate::DistinguishedNameQualifier", "2.5.4.46"),
        ("AWS::IoT::Certificate::StateName", "2.5.4.8"),
    ];

    private const string IdParameter = "AWS::IoT::Certificate::Id";
    private const string ParameterPrefix = "AWS::IoT::Certificate::";

    /// <summary>
    /// Registers or provisions a device certificate that is unknown or PENDING_ACTIVATION; null when
    /// it does not qualify (no registered ACTIVE CA signed it, or that CA's auto-registration is
    /// disabled). Throws <see cref="ServiceException"/> (ResourceRegistrationFailure) when the CA's
    /// template cannot be applied; nothing is written then.
    /// </summary>
    public async Task<JustInTimeResult?> RegisterAsync(X509Certificate2 certificate, CancellationToken cancellationToken)
    {
        if (trust.FindIssuer(certificate) is not { } issuer)
        {
            return null;
        }

        var parsed = CertificateService.Parse(certificate.ExportCertificatePem());
        var registration = issuer.Record.Registration;
        RegistrationService.PreparedRegistration? prepared = null;
        if (registration is not null)
        {
            var body = await TemplateBodyAsync(registration, cancellationToken);
            var plan = RegistrationService.Evaluate(body, Parameters(certificate, parsed.CertificateId, TemplateEngine.DeclaredParameters(body)));
            if (plan.Certificates.Count != 1 || !string.Equals(plan.Certificates[0].CertificateId, parsed.CertificateId, StringComparison.OrdinalIgnoreCase))
            {
                throw Failure("The JITP template must have one AWS::IoT::Certificate resource with CertificateId: {\"Ref\": \"AWS::IoT::Certificate::Id\"}.");
            }

            prepared = registrations.Prepare(plan, issued: null);
        }

        return await store.WriteAsync(async (session, ct) =>
        {
            // The snapshot may be a moment old: the CA's state in this transaction decides.
            var ca = await session.CaCertificates.GetAsync(issuer.Record.CertificateId, ct);
            if (ca is not { Status: CertificateStatus.Active, AutoRegistrationStatus: AutoRegistrationStatus.Enable })
            {
                return null;
            }

            var existing = await session.Certificates.GetAsync(parsed.CertificateId, ct);
            if (existing is not null && existing.Status != CertificateStatus.PendingActivation)
            {
                return null;
            }

            existing ??= await certificates.RegisterAsync(session, parsed, ca.Pem, CertificateStatus.PendingActivation, ct);
            if (prepared is null)
            {
                return new JustInTimeResult(JustInTimeOutcome.PendingActivation, existing, ca);
            }

            try
            {
                await registrations.ApplyAsync(session, prepared, ct);
            }
            catch (ServiceException exception)
            {
                throw RegistrationService.AsRegistrationFailure(exception);
            }

            var provisioned = (await session.Certificates.GetAsync(parsed.CertificateId, ct))!;
            return new JustInTimeResult(JustInTimeOutcome.Provisioned, provisioned, ca);
        }, cancellationToken);
    }

    private async Task<string> TemplateBodyAsync(CaRegistrationConfig registration, CancellationToken cancellationToken)
    {
        if (registration.TemplateBody is { } body)
        {
            return body;
        }

        var name = registration.TemplateName!;
        var template = await templates.ResolveAsync(name, cancellationToken) ?? throw Failure($"The CA's provisioning template {name} does not exist.");
        if (!template.Enabled)
        {
            throw Failure($"The CA's provisioning template {name} is disabled.");
        }

        return template.TemplateBody;
    }

    /// <summary>
    /// The certificate's id and the declared AWS::IoT::Certificate:: parameters, from the subject; one
    /// the subject lacks fails provisioning, as on AWS. Undeclared subject fields are not passed.
    /// </summary>
    internal static Dictionary<string, string> Parameters(X509Certificate2 certificate, string certificateId, IReadOnlySet<string> declared)
    {
        var subject = SubjectAttributes(certificate.SubjectName);

        // The certificate's id is a pseudo-parameter: a template may refer to it without declaring it.
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal) { [IdParameter] = certificateId };
        var missing = new List<string>();
        foreach (var name in declared.Where(n => n.StartsWith(ParameterPrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            if (name == IdParameter)
            {
                continue;
            }

            var oid = SubjectParameters.FirstOrDefault(p => p.Parameter == name).Oid;
            if (oid is not null && subject.TryGetValue(oid, out var value))
            {
                parameters[name] = value;
            }
            else
            {
                missing.Add(name);
            }
        }

        if (missing.Count > 0)
        {
            throw Failure($"The certificate's subject has no value for the template's parameters: {string.Join(", ", missing)}.");
        }

        return parameters;
    }

    /// <summary>The subject's attributes by OID; the first value wins when an attribute repeats.</summary>
    private static Dictionary<string, string> SubjectAttributes(X500DistinguishedName name)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var rdn in name.EnumerateRelativeDistinguishedNames())
        {
            if (rdn.HasMultipleElements)
            {
                continue;
            }

            try
            {
                if (rdn.GetSingleElementValue() is { } value)
                {
                    attributes.TryAdd(rdn.GetSingleElementType().Value!, value);
                }
            }
            catch (Exception exception) when (exception is AsnContentException or System.Security.Cryptography.CryptographicException)
            {
                // An attribute whose value is not a string is not a parameter.
            }
        }

        return attributes;
    }

    private static ServiceException Failure(string message) => new(ErrorCode.ResourceRegistrationFailure, message);
}
