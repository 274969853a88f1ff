namespace Fleetkey.Storage.Transfer;

/// <summary>How to write an export.</summary>
public sealed record ExportOptions
{
    /// <summary>Replaces the <c>ca_material</c> table (SQLite keeps the CA in files): see <see cref="FleetTransfer.CaMaterialRow"/>.</summary>
    public IReadOnlyDictionary<string, object?>? CaMaterial { get; init; }

    /// <summary>The CA passphrase (FLEETKEY_CA_PASSPHRASE); when set, the export carries a MAC keyed from it.</summary>
    public string? Passphrase { get; init; }

    public IProgress<TableProgress>? Progress { get; init; }

    /// <summary>The export's time, for its header.</summary>
    public DateTimeOffset Now { get; init; }
}
