using System.Collections.Concurrent;
using Fleetkey.Core.Errors;
using Fleetkey.Policies;
using Fleetkey.Services.Security;

namespace Fleetkey.Services.Access;

/// <summary>
/// Identity policies of access keys: IAM's grammar for <c>iot:</c> and <c>fleetkey:</c> actions, checked when
/// attached and parsed once per document (a document never changes once written: attaching a name again
/// stores a new one), with resource regions made <c>*</c> (<see cref="PolicyRegions"/>).
/// </summary>
public static class IdentityPolicies
{
    /// <summary>The longest policy name (IAM's).</summary>
    public const int MaxNameLength = 128;

    private const int MaxEntries = 10_000;
    private static readonly ConcurrentDictionary<string, PolicyDocument> Compiled = new(StringComparer.Ordinal);

    /// <summary>Checks a policy name as IAM does: 1–128 of letters, digits and <c>+=,.@_-</c>.</summary>
    public static void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '=' or ',' or '.' or '@' or '_' or '-'))
        {
            ThrowHelper.InvalidRequest($"A policy name is 1 to {MaxNameLength} letters, digits and +=,.@_- characters.");
        }
    }

    /// <summary>Parses and checks a document; a bad one is a MalformedPolicyException listing every problem.</summary>
    public static PolicyDocument Parse(string document)
    {
        ArgumentNullException.ThrowIfNull(document);
        if (Compiled.TryGetValue(document, out var compiled))
        {
            return compiled;
        }

        try
        {
            compiled = PolicyRegions.AnyRegion(PolicyDocumentParser.Parse(document, PolicyDialect.IdentityPolicy));
        }
        catch (PolicyDocumentException exception)
        {
            throw new ServiceException(ErrorCode.MalformedPolicy, exception.Message);
        }

        if (Compiled.Count >= MaxEntries)
        {
            Compiled.Clear();
        }

        Compiled[document] = compiled;
        return compiled;
    }
}
