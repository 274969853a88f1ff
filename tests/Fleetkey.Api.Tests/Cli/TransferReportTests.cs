using Fleetkey.Cli;
using Fleetkey.Storage.Transfer;
using Xunit;

namespace Fleetkey.Api.Tests.Cli;

/// <summary>The row counts <c>fleetkey export</c> and <c>import</c> print: one table, aligned whatever the names and counts.</summary>
public sealed class TransferReportTests
{
    [Fact]
    public void Render_NamesAndCountsOfAnyLength_EveryLineIsAsWideAndCountsAlignRight()
    {
        // Longer than the 30 characters the fixed-width lines had room for, and a count past 10 digits.
        var summary = new TransferSummary(10, [
            new TableProgress("things", 12_345_678_901, Done: true),
            new TableProgress("provisioning_template_versions_and_more", 7, Done: true),
            new TableProgress("ca_material", 1, Done: true),
        ]);

        var lines = TransferReport.Render(summary).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(
            [
                "  table                                              rows",
                "  ---------------------------------------  --------------",
                "  things                                   12,345,678,901",
                "  provisioning_template_versions_and_more               7",
                "  ca_material                                           1",
                "  ---------------------------------------  --------------",
                "  total                                    12,345,678,909",
            ],
            lines);
    }

    [Fact]
    public void Render_ShortNamesAndCounts_ColumnsAreAsWideAsTheirHeaders()
    {
        var lines = TransferReport.Render(new TransferSummary(10, [new TableProgress("tags", 3, Done: true)])).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(["  table  rows", "  -----  ----", "  tags      3", "  -----  ----", "  total     3"], lines);
    }

    [Fact]
    public void Report_NotATerminal_WritesNothingUntilTheTable()
    {
        using var error = new StringWriter();
        var report = new TransferReport(error, live: false);

        report.Report(new TableProgress("things", 10_000, Done: false));
        report.Report(new TableProgress("things", 12_000, Done: true));

        Assert.Equal(string.Empty, error.ToString());
        report.WriteTable(new TransferSummary(10, [new TableProgress("things", 12_000, Done: true)]));
        Assert.StartsWith("  table   ", error.ToString(), StringComparison.Ordinal);
    }
}
