using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;
using Fleetkey.Core.Json;

namespace Fleetkey.Templates;

/// <summary>
/// The AWS IoT provisioning-template interpreter: a template body and parameters in, a
/// <see cref="ProvisioningPlan"/> or every error (each with its JSON path) out. Pure: no I/O, no clock.
/// </summary>
/// <remarks>
/// Paths name template nodes with dots for object keys and brackets for list indexes, e.g.
/// <c>Resources.thing.Properties.ThingGroups[1].Ref</c>; errors about the template as a whole use
/// <c>""</c>, and errors about the caller's parameters use <c>$parameters.Name</c>. At most
/// <see cref="MaxErrors"/> are listed (a last one counts the rest). Evaluation runs under a budget
/// (<see cref="MaxNestingDepth"/>, <see cref="MaxStringLength"/>, <see cref="MaxEvaluationSteps"/>);
/// going over it is one more error, never an exception.
/// </remarks>
public static class TemplateEngine
{
    /// <summary>The AWS model's TemplateBody: at most 10240 characters.</summary>
    public const int MaxTemplateLength = 10240;

    /// <summary>RegisterThing's model: parameter names are at most 2048 characters.</summary>
    public const int MaxParameterNameLength = 2048;

    /// <summary>RegisterThing's model: parameter values are at most 4096 characters.</summary>
    public const int MaxParameterValueLength = 4096;

    // The budget. A template is small, but its functions are not linear: Fn::Sub's variables are
    // evaluated once and used many times, Fn::Join repeats its delimiter per element of a list that
    // Fn::Split can make long, and each can nest in the other, so a 600-character template could ask
    // for 8^9 characters. Every evaluation runs under these bounds and fails with an error (a 400
    // where the caller answers) rather than running out of memory or time.

    /// <summary>JSON nesting depth of a template (objects and lists), which also bounds the interpreter's recursion.</summary>
    public const int MaxNestingDepth = 64;

    /// <summary>
    /// The longest string one function may produce (Fn::Join, Fn::Sub), and the most an inline
    /// PolicyDocument object may hold (characters and elements): eight maximum-length parameter values.
    /// </summary>
    public const int MaxStringLength = 32768;

    /// <summary>
    /// The work one evaluation may do: each template node evaluated is a step, and so is each
    /// character (and each list element) that Ref, Fn::FindInMap, Fn::Join, Fn::Sub and Fn::Split
    /// return. Real templates use a few thousand; this bounds the time (milliseconds) and the memory
    /// (a few MB) of any template, whatever it repeats.
    /// </summary>
    public const int MaxEvaluationSteps = 1_000_000;

    /// <summary>Errors listed at most; the rest are counted in a last entry.</summary>
    public const int MaxErrors = 100;

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
        if (string.IsNullOrEmpty(templateBody) || templateBody.Length > MaxTemplateLength)
        {
            return names;
        }

        // Not strict JSON (a lone surrogate would throw when a name is read): nothing is declared.
        using var document = StrictJsonText.Parse(templateBody, default, out _);
        if (document is not null
            && document.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
            && document.RootElement.TryGetProperty("Parameters", out var parameters)
            && parameters.ValueKind == System.Text.Json.JsonValueKind.Object)
        {
            foreach (var parameter in parameters.EnumerateObject())
            {
                names.Add(parameter.Name);
            }
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
