namespace Fleetkey.Storage;

/// <summary>
/// The certificates an expiry query selects: those with one of <see cref="Statuses"/> (at least one)
/// whose not-after is at or after <see cref="From"/> and before <see cref="Before"/>. A null
/// <see cref="From"/> selects every certificate that ends before <see cref="Before"/>, expired ones included.
/// </summary>
public sealed record ExpiryRange(IReadOnlyList<string> Statuses, DateTimeOffset? From, DateTimeOffset Before);
