namespace Fleetkey.Services.Changes;

/// <summary>
/// A point in the store's history of commits, as <see cref="FleetChanges.CurrentAsync"/> read it: two
/// known stamps that are equal mean nothing was committed in between, here or on another node.
/// <see cref="Unknown"/> is what a store that cannot tell cheaply gives; it never vouches for anything.
/// </summary>
/// <remarks>Compare stamps with <see cref="ChangedSince"/>, not <c>==</c>: two unknown stamps are equal and say nothing.</remarks>
public readonly record struct ChangeStamp
{
    private readonly long? _value;

    public ChangeStamp(long? value) => _value = value;

    /// <summary>No stamp: the store cannot tell whether it changed (or nothing was read yet).</summary>
    public static ChangeStamp Unknown => default;

    public bool IsKnown => _value is not null;

    /// <summary>
    /// Whether anything may have been committed between <paramref name="earlier"/> and this stamp:
    /// false only when both are known and equal.
    /// </summary>
    public bool ChangedSince(ChangeStamp earlier) => _value is null || _value != earlier._value;
}
