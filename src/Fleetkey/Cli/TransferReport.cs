using System.Globalization;
using System.Text;
using Fleetkey.Storage.Transfer;

namespace Fleetkey.Cli;

/// <summary>
/// What <c>export</c> and <c>import</c> say about the tables they moved: while they run, on a terminal,
/// one line that follows the table being moved and its rows so far; when they are done, every table's
/// row count in columns as wide as their widest cell, and the total.
/// </summary>
/// <remarks>
/// Reports arrive synchronously on the transfer's thread (Progress&lt;T&gt; would post them to the thread
/// pool and reorder them). A refused transfer prints no table: its one line says why. The table is
/// plain text with no trailing blanks, so that logs and scripts read it as a terminal shows it.
/// </remarks>
internal sealed class TransferReport(TextWriter error, bool live) : IProgress<TableProgress>
{
    private int _liveWidth;

    /// <summary>On standard error, live progress when it is a terminal.</summary>
    public TransferReport()
        : this(Console.Error, live: !Console.IsErrorRedirected)
    {
    }

    public void Report(TableProgress value)
    {
        if (!live)
        {
            return;
        }

        var line = string.Create(CultureInfo.InvariantCulture, $"  {value.Table}: {Count(value.Rows)} rows{(value.Done ? string.Empty : " …")}");
        error.Write('\r' + line.PadRight(_liveWidth));
        _liveWidth = Math.Max(_liveWidth, line.Length);
        error.Flush();
    }

    /// <summary>Writes the row counts of every table the transfer moved, aligned, with their total.</summary>
    public void WriteTable(TransferSummary summary)
    {
        if (_liveWidth > 0)
        {
            error.Write('\r' + new string(' ', _liveWidth) + '\r');
            _liveWidth = 0;
        }

        error.Write(Render(summary));
    }

    internal static string Render(TransferSummary summary)
    {
        const string NameHeader = "table", RowsHeader = "rows", TotalLabel = "total";
        var rows = summary.Tables.Select(t => (Name: t.Table, Rows: Count(t.Rows))).ToList();
        var total = Count(summary.TotalRows);
        var nameWidth = rows.Select(r => r.Name.Length).Append(NameHeader.Length).Append(TotalLabel.Length).Max();
        var rowsWidth = rows.Select(r => r.Rows.Length).Append(RowsHeader.Length).Append(total.Length).Max();

        var text = new StringBuilder();
        void Line(string name, string count) => text.Append("  ").Append(name.PadRight(nameWidth)).Append("  ").Append(count.PadLeft(rowsWidth)).Append('\n');
        var rule = new string('-', rowsWidth);
        Line(NameHeader, RowsHeader);
        Line(new string('-', nameWidth), rule);
        foreach (var (name, count) in rows)
        {
            Line(name, count);
        }

        Line(new string('-', nameWidth), rule);
        Line(TotalLabel, total);
        return text.ToString();
    }

    private static string Count(long rows) => rows.ToString("N0", CultureInfo.InvariantCulture);
}
