namespace Fleetkey.Storage.Transfer;

/// <summary>How to read an export.</summary>
/// <param name="Checker">The product's rules every row must satisfy (a new one per import).</param>
public sealed record ImportOptions(IImportRowChecker Checker)
{
    /// <summary>
    /// The CA passphrase (FLEETKEY_CA_PASSPHRASE). An export with a MAC needs it; with it set, an
    /// export without a MAC is refused (else a MAC could be stripped).
    /// </summary>
    public string? Passphrase { get; init; }

    /// <summary>Where the CA material goes instead of the <c>ca_material</c> table (SQLite keeps the CA in files).</summary>
    public Func<StoredCaMaterial, CancellationToken, Task>? CaMaterialSink { get; init; }

    public IProgress<TableProgress>? Progress { get; init; }
}
