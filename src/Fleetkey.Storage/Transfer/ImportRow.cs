namespace Fleetkey.Storage.Transfer;

/// <summary>
/// One row of an export as the import reads it: each value is a string, a long or null. The import
/// reuses the instance for the next row of the table, so a checker must not keep it.
/// </summary>
public sealed class ImportRow
{
    private readonly Dictionary<string, int> _ordinals;

    internal ImportRow(string table, string[] columns)
    {
        Table = table;
        Columns = columns;
        Values = new object?[columns.Length];
        _ordinals = new Dictionary<string, int>(columns.Length, StringComparer.Ordinal);
        for (var i = 0; i < columns.Length; i++)
        {
            _ordinals[columns[i]] = i;
        }
    }

    public string Table { get; }

    /// <summary>The column names, in the export's order.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>The row's position in its table (1-based).</summary>
    public long Number { get; internal set; }

    internal object?[] Values { get; }

    /// <summary>The value of <paramref name="column"/>: a string, a long or null (also when the table has no such column).</summary>
    public object? this[string column] => _ordinals.TryGetValue(column, out var i) ? Values[i] : null;

    /// <summary>The value at <paramref name="ordinal"/> in <see cref="Columns"/>.</summary>
    public object? ValueAt(int ordinal) => Values[ordinal];
}
