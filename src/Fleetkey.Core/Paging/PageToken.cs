using System.Text;
using Fleetkey.Core.Errors;

namespace Fleetkey.Core.Paging;

/// <summary>
/// Opaque pagination tokens (<c>nextToken</c> and <c>marker</c>). A token carries the sort key of
/// the last item returned, so a page is a keyset query (<c>WHERE key &gt; @after</c>) that uses an
/// index and stays stable while items are added or removed. Tokens are standard base64, which fits
/// the model's <c>Marker</c> pattern <c>[A-Za-z0-9+/]+={0,2}</c>.
/// </summary>
public static class PageToken
{
    private const string Prefix = "fk1\n";

    public static string Encode(string lastKey) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(Prefix + lastKey));

    /// <summary>Returns the key after which the next page starts, or null for the first page.</summary>
    public static string? Decode(string? token, string field = "nextToken")
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(token));
            if (text.StartsWith(Prefix, StringComparison.Ordinal) && text.Length > Prefix.Length)
            {
                return text[Prefix.Length..];
            }
        }
        catch (FormatException)
        {
        }

        ThrowHelper.InvalidRequest($"The {field} is not valid: it was not returned by a previous call.");
        return null;
    }
}

/// <summary>One page of results and the token for the next one (null on the last page).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextToken);
