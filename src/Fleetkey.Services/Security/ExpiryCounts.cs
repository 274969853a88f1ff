namespace Fleetkey.Services.Security;

/// <summary>
/// ACTIVE certificates by expiry at <see cref="At"/>: for each window, how many end within it (and have
/// not ended yet), in the windows' order; and how many have already ended while still ACTIVE.
/// </summary>
public sealed record ExpiryCounts(DateTimeOffset At, IReadOnlyList<(ExpiryWindow Window, long Count)> Expiring, long Expired);
