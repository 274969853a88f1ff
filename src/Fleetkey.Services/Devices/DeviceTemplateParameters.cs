using Fleetkey.Core.Errors;
using Fleetkey.Services.Provisioning;
using Fleetkey.Templates;

namespace Fleetkey.Services.Devices;

/// <summary>
/// The provisioning template as the device endpoint applies it: which parameters a device may set,
/// the enrollment's and the endpoint's own, and the template evaluated with them. What a device may
/// not do is a <see cref="DeviceRegistrationRefused"/>.
/// </summary>
internal static class DeviceTemplateParameters
{
    /// <summary>The template parameter that carries the new certificate's id, as AWS fleet provisioning names it.</summary>
    public const string CertificateIdPseudoParameter = "AWS::IoT::Certificate::Id";

    private const string PlaceholderCertificateId = "0000000000000000000000000000000000000000000000000000000000000000";

    // Parameters the endpoint sets itself: a device may not supply them, an enrollment's value is overridden.
    private static readonly string[] ReservedParameters = ["SerialNumber", "ThingName", "CertificateId"];

    /// <summary>
    /// The template's parameters: what the device may supply (declared by the template, not reserved,
    /// not fixed by the enrollment), then the enrollment's fixed ones, then the endpoint's own.
    /// </summary>
    public static Dictionary<string, string> For(ResolvedTemplate template, DeviceEnrollment enrollment, DeviceRegistrationRequest request)
    {
        var declared = TemplateEngine.DeclaredParameters(template.TemplateBody);
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        var refused = new List<string>();
        foreach (var (name, value) in request.Parameters ?? new Dictionary<string, string>())
        {
            if (!declared.Contains(name) || ReservedParameters.Contains(name, StringComparer.Ordinal)
                || name.StartsWith("AWS::", StringComparison.Ordinal) || enrollment.Parameters.ContainsKey(name))
            {
                refused.Add(name);
            }
            else
            {
                parameters[name] = value;
            }
        }

        if (refused.Count > 0)
        {
            var names = string.Join(", ", refused.Order(StringComparer.Ordinal));
            throw DeviceRegistrationRefused.Refuse(
                ErrorCode.InvalidRequest,
                $"The device may not set the parameters {names}: a device sets only parameters its template declares and its enrollment does not fix.",
                DeviceAttemptOutcome.Invalid,
                "parameters not allowed: " + names);
        }

        foreach (var (name, value) in enrollment.Parameters)
        {
            parameters[name] = value;
        }

        parameters["SerialNumber"] = request.SerialNumber;
        parameters["ThingName"] = request.SerialNumber;
        return parameters;
    }

    /// <summary>The thing the template makes, known before a certificate is issued (evaluated with a placeholder id).</summary>
    public static string ThingNameOf(string templateBody, Dictionary<string, string> parameters)
    {
        var plan = Evaluate(templateBody, parameters, PlaceholderCertificateId);
        return plan.Things.Count > 0
            ? plan.Things[0].ThingName
            : throw DeviceRegistrationRefused.Refuse(ErrorCode.ResourceRegistrationFailure, "The device's provisioning template makes no thing.", DeviceAttemptOutcome.Invalid, "template makes no thing");
    }

    /// <summary>The template evaluated with the parameters and the new certificate's id.</summary>
    public static ProvisioningPlan Evaluate(string templateBody, Dictionary<string, string> parameters, string certificateId)
    {
        var withCertificate = new Dictionary<string, string>(parameters, StringComparer.Ordinal)
        {
            [CertificateIdPseudoParameter] = certificateId,
            ["CertificateId"] = certificateId,
        };
        try
        {
            return RegistrationService.Evaluate(templateBody, withCertificate);
        }
        catch (ServiceException exception)
        {
            throw DeviceRegistrationRefused.Refuse(exception, DeviceAttemptOutcome.Invalid, "template evaluation failed");
        }
    }
}
