using Fleetkey.Core.Errors;

namespace Fleetkey.Services.Registry;

/// <summary>
/// A validated page request: the sort key after which the page starts (null for the first page) and how many
/// items to return. The key comes from a page token the adapter has verified (<c>PageTokens</c>), never from
/// the client as it is.
/// </summary>
public readonly record struct PageRequest(string? After, int Limit)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 250;

    public static PageRequest From(string? after, int? maxResults, string sizeField = "maxResults")
    {
        if (maxResults is < 1 or > MaxLimit)
        {
            ThrowHelper.InvalidRequest($"1 validation error detected: Value '{maxResults}' at '{sizeField}' failed to satisfy constraint: Member must have value between 1 and {MaxLimit}");
        }

        return new PageRequest(after, maxResults ?? DefaultLimit);
    }

    /// <summary>One more than the page, so the query tells whether a next page exists.</summary>
    public int Fetch => Limit + 1;
}
