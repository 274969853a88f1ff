using Fleetkey.Core.Errors;
using Fleetkey.Core.Paging;

namespace Fleetkey.Services.Registry;

/// <summary>A validated page request: where to start and how many items to return.</summary>
public readonly record struct PageRequest(string? After, int Limit)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 250;

    public static PageRequest From(string? token, int? maxResults, string tokenField = "nextToken", string sizeField = "maxResults")
    {
        if (maxResults is < 1 or > MaxLimit)
        {
            ThrowHelper.InvalidRequest($"1 validation error detected: Value '{maxResults}' at '{sizeField}' failed to satisfy constraint: Member must have value between 1 and {MaxLimit}");
        }

        return new PageRequest(PageToken.Decode(token, tokenField), maxResults ?? DefaultLimit);
    }

    /// <summary>One more than the page, so the query tells whether a next page exists.</summary>
    public int Fetch => Limit + 1;
}
