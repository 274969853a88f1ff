namespace Fleetkey.Services.Security;

/// <summary>
/// Which certificates an expiry list shows: those whose not-after falls within <see cref="Within"/> from
/// now, with one of <see cref="Statuses"/> (null or empty: ACTIVE only), and, with
/// <see cref="IncludeExpired"/>, those already past their not-after too.
/// </summary>
public sealed record ExpiryQuery(ExpiryWindow Within, IReadOnlyList<string>? Statuses = null, bool IncludeExpired = false);
