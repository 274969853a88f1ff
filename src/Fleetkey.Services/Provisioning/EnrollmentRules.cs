using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;

namespace Fleetkey.Services.Provisioning;

/// <summary>
/// What an enrollment may hold, checked before anything is stored. Each check adds its problems to a
/// list, so that a caller sees every bad field at once (<see cref="ThrowIfAny"/>).
/// </summary>
/// <remarks>
/// Group names and serial numbers follow the thing-name rule (<c>[a-zA-Z0-9:_-]+</c>, 1 to 128
/// characters): the serial number becomes the device's thing name. Template names follow the AWS
/// model's TemplateName (<c>[0-9A-Za-z_-]+</c>, 1 to 36). A serial-number pattern is a .NET regular
/// expression the whole serial number must match, run by the non-backtracking engine (linear in the
/// serial's length, so no pattern can stall the server) with a match timeout as a second fence.
/// </remarks>
public static partial class EnrollmentRules
{
    public const int MaxTemplateNameLength = 36;
    public const int MaxPatternLength = 1024;
    public const int MaxParameters = 50;
    public const int MaxParameterNameLength = 2048;
    public const int MaxParameterValueLength = 4096;

    private const int MaxCachedPatterns = 1024;

    /// <summary>Parameters the device endpoint sets from the serial number; an enrollment cannot fix them.</summary>
    public static readonly IReadOnlyList<string> ReservedParameters = ["SerialNumber", "ThingName"];

    // No wall-clock timeout: the non-backtracking engine matches in time linear in the input (a serial
    // is at most 128 characters), so there is no runaway match to stop, and a timeout would only turn a
    // busy moment on a loaded server into a wrongly refused device (it did, in CI, under load).
    private static readonly TimeSpan MatchTimeout = Regex.InfiniteMatchTimeout;
    private static readonly ConcurrentDictionary<string, Regex> Patterns = new(StringComparer.Ordinal);

    [GeneratedRegex(@"^[0-9A-Za-z_-]+\z")]
    private static partial Regex TemplateNamePattern();

    public static void CheckGroupName(string? name, List<string> errors) => CheckName(name, "enrollmentGroupName", errors);

    public static void CheckSerialNumber(string? serialNumber, List<string> errors) => CheckName(serialNumber, "serialNumber", errors);

    private static void CheckName(string? name, string field, List<string> errors)
    {
        if (!NameRules.IsRegistryName(name))
        {
            errors.Add($"Value '{name}' at '{field}' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9:_-]+ and have length between 1 and {NameRules.MaxNameLength}");
        }
    }

    public static void CheckTemplateName(string? templateName, List<string> errors)
    {
        if (templateName is null)
        {
            errors.Add("Value null at 'templateName' failed to satisfy constraint: Member must not be null");
        }
        else if (templateName.Length is 0 or > MaxTemplateNameLength || !TemplateNamePattern().IsMatch(templateName))
        {
            errors.Add($"Value '{templateName}' at 'templateName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9A-Za-z_-]+$ and have length between 1 and {MaxTemplateNameLength}");
        }
    }

    public static void CheckSerialNumberPattern(string? pattern, List<string> errors)
    {
        if (pattern is null)
        {
            return;
        }

        if (pattern.Length is 0 or > MaxPatternLength)
        {
            errors.Add($"Value at 'serialNumberPattern' failed to satisfy constraint: Member must have length between 1 and {MaxPatternLength}");
            return;
        }

        try
        {
            _ = Compile(pattern);
        }
        catch (Exception exception) when (exception is ArgumentException or NotSupportedException)
        {
            // RegexParseException is an ArgumentException; NotSupportedException: a construct the
            // non-backtracking engine does not run (backreferences, lookarounds, atomic groups).
            errors.Add($"Value '{pattern}' at 'serialNumberPattern' is not a usable regular expression: {exception.Message}");
        }
    }

    public static void CheckParameters(IReadOnlyDictionary<string, string>? parameters, List<string> errors)
    {
        if (parameters is null)
        {
            return;
        }

        if (parameters.Count > MaxParameters)
        {
            errors.Add($"Value at 'parameters' failed to satisfy constraint: Member must have at most {MaxParameters} entries");
        }

        foreach (var (name, value) in parameters)
        {
            if (name.Length is 0 or > MaxParameterNameLength)
            {
                errors.Add($"Value '{name}' at 'parameters' failed to satisfy constraint: Map keys must have length between 1 and {MaxParameterNameLength}");
            }
            else if (ReservedParameters.Contains(name, StringComparer.Ordinal))
            {
                errors.Add($"Value '{name}' at 'parameters' is not allowed: the device endpoint sets {string.Join(" and ", ReservedParameters)} from the serial number");
            }

            if (value is null || value.Length > MaxParameterValueLength)
            {
                errors.Add($"Value at 'parameters.{name}' failed to satisfy constraint: Member must be a string of length at most {MaxParameterValueLength}");
            }
        }
    }

    /// <summary>Throws one InvalidRequestException listing every problem, as AWS words validation errors.</summary>
    public static void ThrowIfAny(List<string> errors) => ThrowHelper.ThrowIfInvalid(errors);

    /// <summary>
    /// Whether the whole serial number matches the pattern. A pattern that cannot run here (stored by
    /// hand, or timing out) matches nothing.
    /// </summary>
    public static bool MatchesPattern(string pattern, string serialNumber)
    {
        try
        {
            return Compile(pattern).IsMatch(serialNumber);
        }
        catch (Exception exception) when (exception is ArgumentException or NotSupportedException)
        {
            return false;
        }
    }

    private static Regex Compile(string pattern)
    {
        if (Patterns.TryGetValue(pattern, out var cached))
        {
            return cached;
        }

        // Parsed alone first, so that the pattern cannot close the group it is wrapped in ("a)|(b").
        // Anchored: "SN-[0-9]+" must not admit "XSN-12". \z, not $: $ also matches before a final newline.
        const RegexOptions options = RegexOptions.NonBacktracking | RegexOptions.CultureInvariant;
        _ = new Regex(pattern, options, MatchTimeout);
        var regex = new Regex(@"\A(?:" + pattern + @")\z", options, MatchTimeout);
        if (Patterns.Count >= MaxCachedPatterns)
        {
            Patterns.Clear();
        }

        Patterns[pattern] = regex;
        return regex;
    }
}
