using System.Runtime.CompilerServices;

namespace Fleetkey.Client;

/// <summary>Walks a paginated operation, as botocore's paginators do.</summary>
internal static class Paginator
{
    /// <summary>
    /// The pages from <paramref name="request"/> on: each next request is the previous one with the
    /// page's token, until the token is empty. A token the service hands back twice would loop
    /// forever, so it ends the walk with an error instead.
    /// </summary>
    public static async IAsyncEnumerable<TResponse> Pages<TRequest, TResponse>(
        TRequest request,
        Func<TRequest, CancellationToken, Task<TResponse>> call,
        Func<TRequest, string?> requestToken,
        Func<TRequest, string?, TRequest> withToken,
        Func<TResponse, string?> nextToken,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var page = await call(request, cancellationToken).ConfigureAwait(false);
            yield return page;

            var token = nextToken(page);
            if (string.IsNullOrEmpty(token))
            {
                yield break;
            }

            if (token == requestToken(request))
            {
                throw new InvalidOperationException($"The service returned the pagination token it was sent ('{token}'); stopping instead of looping.");
            }

            request = withToken(request, token);
        }
    }

    /// <summary>The items of every page, in order.</summary>
    public static async IAsyncEnumerable<TItem> Items<TResponse, TItem>(
        IAsyncEnumerable<TResponse> pages,
        Func<TResponse, IReadOnlyList<TItem>?> items,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var page in pages.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            foreach (var item in items(page) ?? [])
            {
                yield return item;
            }
        }
    }
}
