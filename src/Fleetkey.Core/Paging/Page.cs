namespace Fleetkey.Core.Paging;

/// <summary>
/// One page of results and the sort key of its last item when another page follows (null on the last page).
/// The adapter that answers the request turns the key into a token (<see cref="PageTokens"/>).
/// </summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextKey);
