using Fleetkey.Core.Registry;
using Fleetkey.Storage.Sql;
using Microsoft.Data.Sqlite;
using Xunit;
using Xunit.Abstractions;

namespace Fleetkey.Storage.Sqlite.Tests;

/// <summary>
/// On a registry of 100,000 things, DescribeThing and a ListThings page must be answered from an
/// index: the plans below are SQLite's own account of how it runs the repository's queries. A full
/// scan ("SCAN t" without an index) or a sort of the whole result ("USE TEMP B-TREE") fails.
/// </summary>
public sealed class QueryPlanTests(LargeRegistryFixture registry, ITestOutputHelper output) : IClassFixture<LargeRegistryFixture>
{
    [Fact]
    public async Task DescribeThing_LargeRegistry_SearchesPrimaryKey()
    {
        var plan = await ExplainAsync(SqlThingRepository.SelectByName, ("@name", "thing-0054321"));

        Assert.Contains("SEARCH t USING INDEX", plan, StringComparison.Ordinal);
        Assert.Contains("(name=?)", plan, StringComparison.Ordinal);
        Assert.DoesNotContain("SCAN", plan, StringComparison.Ordinal);

        var thing = await registry.Store.ReadAsync((s, ct) => s.Things.GetAsync("thing-0054321", ct), CancellationToken.None);
        Assert.Equal("SN0054321", thing!.Attributes["serial"]);
    }

    [Fact]
    public async Task ListThings_FirstPage_WalksNameIndexInOrder()
    {
        var (sql, parameters) = SqlThingRepository.ListQuery(new ThingQuery(null, null, false, null), null, 101);
        var plan = await ExplainAsync(sql, parameters);

        Assert.Contains("USING INDEX sqlite_autoindex_things_1", plan, StringComparison.Ordinal);
        Assert.DoesNotContain("TEMP B-TREE", plan, StringComparison.Ordinal);

        var page = await registry.Store.ReadAsync((s, ct) => s.Things.ListAsync(new ThingQuery(null, null, false, null), null, 100, ct), CancellationToken.None);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"thing-{i:D7}"), page.Select(t => t.Name));
    }

    [Fact]
    public async Task ListThings_LaterPage_SeeksToTokenKey()
    {
        var (sql, parameters) = SqlThingRepository.ListQuery(new ThingQuery(null, null, false, null), "thing-0090000", 101);
        var plan = await ExplainAsync(sql, parameters);

        Assert.Contains("SEARCH t USING INDEX sqlite_autoindex_things_1 (name>?)", plan, StringComparison.Ordinal);
        Assert.DoesNotContain("TEMP B-TREE", plan, StringComparison.Ordinal);

        var page = await registry.Store.ReadAsync((s, ct) => s.Things.ListAsync(new ThingQuery(null, null, false, null), "thing-0090000", 3, ct), CancellationToken.None);
        Assert.Equal(["thing-0090001", "thing-0090002", "thing-0090003"], page.Select(t => t.Name));
    }

    [Fact]
    public async Task ListThings_ByAttributeValue_SearchesAttributeIndex()
    {
        var query = new ThingQuery("serial", "SN0077777", false, null);
        var (sql, parameters) = SqlThingRepository.ListQuery(query, null, 101);
        var plan = await ExplainAsync(sql, parameters);

        Assert.Contains("SEARCH a USING COVERING INDEX ix_thing_attributes_value (name=? AND value=?", plan, StringComparison.Ordinal);
        Assert.Contains("SEARCH t USING INDEX sqlite_autoindex_things_1 (name=?)", plan, StringComparison.Ordinal);
        Assert.DoesNotContain("TEMP B-TREE", plan, StringComparison.Ordinal);

        var page = await registry.Store.ReadAsync((s, ct) => s.Things.ListAsync(query, null, 100, ct), CancellationToken.None);
        Assert.Equal("thing-0077777", Assert.Single(page).Name);
    }

    [Fact]
    public async Task ListThings_ByAttributePrefix_SearchesAttributeRange()
    {
        var query = new ThingQuery("serial", "SN00777", true, null);
        var (sql, parameters) = SqlThingRepository.ListQuery(query, null, 101);
        var plan = await ExplainAsync(sql, parameters);

        Assert.Contains("SEARCH a USING COVERING INDEX ix_thing_attributes_value (name=? AND value>? AND value<?)", plan, StringComparison.Ordinal);

        var page = await registry.Store.ReadAsync((s, ct) => s.Things.ListAsync(query, null, 250, ct), CancellationToken.None);
        Assert.Equal(100, page.Count);
        Assert.All(page, t => Assert.StartsWith("thing-00777", t.Name, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ListThings_ByType_SearchesTypeIndexInOrder()
    {
        var query = new ThingQuery(null, null, false, "Sensor");
        var (sql, parameters) = SqlThingRepository.ListQuery(query, "thing-0050000", 101);
        var plan = await ExplainAsync(sql, parameters);

        Assert.Contains("SEARCH t USING INDEX ix_things_type (type_name=? AND name>?)", plan, StringComparison.Ordinal);
        Assert.DoesNotContain("TEMP B-TREE", plan, StringComparison.Ordinal);

        var page = await registry.Store.ReadAsync((s, ct) => s.Things.ListAsync(query, "thing-0050000", 2, ct), CancellationToken.None);
        Assert.Equal(["thing-0050010", "thing-0050020"], page.Select(t => t.Name));
    }

    [Fact]
    public async Task ExpiringCertificates_LaterPage_SeeksTheNotAfterIndexInOrder()
    {
        var range = new ExpiryRange([CertificateStatus.Active, CertificateStatus.Inactive], null, DateTimeOffset.UnixEpoch.AddDays(30));
        var (sql, parameters) = SqlCertificateRepository.ExpiringQuery(range, "86400000:" + new string('0', 64), 251);
        var plan = await ExplainAsync(sql, parameters);

        Assert.Contains("SEARCH certificates USING INDEX ix_certificates_not_after ((not_after,certificate_id)>(?,?) AND not_after<?)", plan, StringComparison.Ordinal);
        Assert.DoesNotContain("TEMP B-TREE", plan, StringComparison.Ordinal);
        Assert.DoesNotContain("SCAN certificates", plan, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExpiringCertificates_Count_ReadsOnlyTheWindowOfTheNotAfterIndex()
    {
        var range = new ExpiryRange([CertificateStatus.Active], DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddDays(30));
        var (sql, parameters) = SqlCertificateRepository.CountQuery(range);
        var plan = await ExplainAsync(sql, parameters);

        Assert.Contains("SEARCH certificates USING INDEX ix_certificates_not_after (not_after>? AND not_after<?)", plan, StringComparison.Ordinal);
        Assert.DoesNotContain("SCAN certificates", plan, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeviceSerialRate_CountsAuthenticatedAttemptsFromThePartialIndex()
    {
        var plan = await ExplainAsync(SqlDeviceEndpointRepository.CountAuthenticatedSql, ("@value", "SN-1"), ("@since", 0L));

        Assert.Contains("USING COVERING INDEX ix_device_attempts_serial_authenticated (serial_number=? AND attempted_at>?)", plan, StringComparison.Ordinal);
        Assert.DoesNotContain("SCAN", plan, StringComparison.Ordinal);
    }

    private async Task<string> ExplainAsync(string sql, params (string Name, object? Value)[] parameters)
    {
        await using var connection = new SqliteConnection($"Data Source={registry.DatabasePath};Mode=ReadOnly");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            lines.Add(reader.GetString(3));
        }

        var plan = string.Join('\n', lines);
        output.WriteLine(sql);
        output.WriteLine(plan);
        return plan;
    }
}
