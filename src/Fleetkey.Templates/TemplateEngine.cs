using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace Fleetkey.Templates;

/// <summary>
/// The AWS IoT provisioning-template interpreter: a template body and parameters in, a
/// <see cref="ProvisioningPlan"/> or every error (each with its JSON path) out. Pure: no I/O, no clock.
/// </summary>
/// <remarks>
/// Paths name template nodes with dots for object keys and brackets for list indexes, e.g.
/// <c>Resources.thing.Properties.ThingGroups[1].Ref</c>; errors about the template as a whole use
/// <c>""</c>, and errors about the caller's parameters use <c>$parameters.Name</c>.
/// </remarks>
public static class TemplateEngine
{
    public const int MaxTemplateLength = 10240;

    /// <summary>RegisterThing's model: parameter names are at most 2048 characters.</summary>
    public const int MaxParameterNameLength = 2048;

    /// <summary>RegisterThing's model: parameter values are at most 4096 characters.</summary>
    public const int MaxParameterValueLength = 4096;

    /// <summary>Evaluates a template against parameters; never throws for bad input, it reports errors.</summary>
    public static TemplateResult Evaluate(string templateBody, IReadOnlyDictionary<string, string>? parameters) =>
        TemplateEvaluator.EvaluateTemplate(templateBody, parameters);

    /// <summary>
    /// The names the template declares in its Parameters section, for callers that let a third party
    /// (a device) supply only declared parameters; empty when the body is not a JSON object with
    /// such a section (evaluation reports why).
    /// </summary>
    public static IReadOnlySet<string> DeclaredParameters(string templateBody)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (string.IsNullOrEmpty(templateBody) || templateBody.Length > MaxTemplateLength
            || Core.Json.StrictJson.FindProblem(System.Text.Encoding.UTF8.GetBytes(templateBody)) is not null)
        {
            return names;
        }

        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(templateBody);
            if (document.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
                && document.RootElement.TryGetProperty("Parameters", out var parameters)
                && parameters.ValueKind == System.Text.Json.JsonValueKind.Object)
            {
                foreach (var parameter in parameters.EnumerateObject())
                {
                    names.Add(parameter.Name);
                }
            }
        }
        catch (System.Text.Json.JsonException)
        {
            // Not JSON: nothing is declared.
        }

        return names;
    }

    /// <summary>
    /// Checks a template as stored (CreateProvisioningTemplate), before any parameters exist: its
    /// JSON, sections, declarations, resources, intrinsic functions and literals. Parameters and
    /// AWS::IoT:: pseudo-parameters are unknown here, so whatever depends on their values is left
    /// to provisioning time. Empty when the template is well formed.
    /// </summary>
    public static IReadOnlyList<TemplateError> Validate(string? templateBody) =>
        TemplateEvaluator.ValidateTemplate(templateBody);

    /// <summary>
    /// The name AWS gives a policy declared by document only: "a hash of the policy document". AWS does
    /// not name the hash; its example name is 40 uppercase hex digits, the length of SHA-1, so this is
    /// the uppercase hex SHA-1 of the document's UTF-8 text exactly as the plan carries it.
    /// </summary>
    [SuppressMessage("Security", "CA5350:Do Not Use Weak Cryptographic Algorithms", Justification = "A content-derived name matching AWS's 40-hex-digit form, not a security control.")]
    public static string PolicyNameForDocument(string policyDocument)
    {
        ArgumentNullException.ThrowIfNull(policyDocument);
        return Convert.ToHexString(SHA1.HashData(Encoding.UTF8.GetBytes(policyDocument)));
    }
}
