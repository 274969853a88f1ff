namespace Fleetkey.Storage.Transfer;

/// <summary>Rows of one table moved so far.</summary>
public sealed record TableProgress(string Table, long Rows, bool Done);

/// <summary>What an export or import moved.</summary>
public sealed record TransferSummary(int SchemaVersion, IReadOnlyList<TableProgress> Tables)
{
    public long TotalRows => Tables.Sum(t => t.Rows);
}
