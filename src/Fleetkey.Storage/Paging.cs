using Fleetkey.Core.Paging;

namespace Fleetkey.Storage;

/// <summary>Helpers for callers that need a page and its token from a keyset query.</summary>
public static class Paging
{
    /// <summary>The page key of a resource listed by creation date: "unix-ms:id".</summary>
    public static string CreationKey(DateTimeOffset createdAt, string id) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{createdAt.ToUnixTimeMilliseconds()}:{id}");

    /// <summary>The page key of a certificate listed by expiry: "unix-ms of not-after:id".</summary>
    public static string ExpiryKey(DateTimeOffset notAfter, string certificateId) => CreationKey(notAfter, certificateId);

    /// <summary>
    /// Turns "limit + 1" rows into a page: the extra row only says that another page exists; the page
    /// carries the key of its last item, from which the next one starts.
    /// </summary>
    public static Page<T> ToPage<T>(IReadOnlyList<T> rows, int limit, Func<T, string> key)
    {
        if (rows.Count <= limit)
        {
            return new Page<T>(rows, null);
        }

        var items = rows.Take(limit).ToArray();
        return new Page<T>(items, key(items[^1]));
    }
}
