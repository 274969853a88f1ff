using Fleetkey.Services.Audit;
using Fleetkey.Storage;
using Fleetkey.Storage.Sql;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Fleetkey.Services.Tests.Audit;

/// <summary>The audit trail on a real store (both databases): appended in order, queried, verified, tampering found, pruned.</summary>
public sealed class AuditTrailTests : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly ServiceDatabase _db = new();
    private AuditWriter _writer = null!;
    private AuditTrail _trail = null!;

    public async Task InitializeAsync()
    {
        await _db.InitializeAsync();
        _writer = new AuditWriter(_db.Store, NullLogger<AuditWriter>.Instance);
        _trail = new AuditTrail(_db.Store, _writer);
    }

    public async Task DisposeAsync()
    {
        await _writer.DisposeAsync();
        await _db.DisposeAsync();
    }

    private AuditRecord Entry(string operation, int status = 200, string? key = "AKIAFLEETKEYTEST0001", string? error = null, params string[] resources) =>
        AuditRecord.Unnumbered(_db.Time.GetUtcNow(), Guid.NewGuid().ToString(), AuditRecord.Api, key, operation, resources, "127.0.0.1", "boto3/1.0", status, error);

    [Fact]
    public async Task Record_Concurrent_AreNumberedWithoutGapsAndVerify()
    {
        await Task.WhenAll(Enumerable.Range(0, 200).Select(i => _trail.RecordAsync(Entry($"Op{i % 7}"), None)));

        var records = await _trail.QueryAsync(new AuditQuery(), 0, AuditTrail.MaxPage, None);
        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), records.Select(r => r.Sequence));
        var result = await _trail.VerifyAsync(None);
        Assert.True(result.Verified, result.Problem);
        Assert.Equal(200, result.Checked);
        Assert.Equal(records[^1].Hash, result.HeadHash);
    }

    [Fact]
    public async Task Record_TwoNodesAtOnce_AppendToOneChainThatVerifies()
    {
        // Two stores on one database, as two nodes (on PostgreSQL the head row orders them; SQLite has one writer).
        var other = await _db.OpenAnotherStoreAsync();
        try
        {
            await using var otherWriter = new AuditWriter(other, NullLogger<AuditWriter>.Instance);
            var otherTrail = new AuditTrail(other, otherWriter);
            await Task.WhenAll(Enumerable.Range(0, 120).Select(i => (i % 2 == 0 ? _trail : otherTrail).RecordAsync(Entry($"Op{i}"), None)));
        }
        finally
        {
            await other.CloseAsync();
        }

        var records = await _trail.QueryAsync(new AuditQuery(), 0, AuditTrail.MaxPage, None);
        Assert.Equal(Enumerable.Range(1, 120).Select(i => (long)i), records.Select(r => r.Sequence));
        Assert.Equal(120, records.Select(r => r.Operation).Distinct(StringComparer.Ordinal).Count());
        var result = await _trail.VerifyAsync(None);
        Assert.True(result.Verified, result.Problem);
    }

    [Fact]
    public async Task Query_Filters_ByKeyOperationResourceOutcomeAndTime()
    {
        await _trail.RecordAsync(Entry("DeleteThing", resources: "arn:aws:iot:us-east-1:000000000000:thing/a"), None);
        _db.Time.Advance(TimeSpan.FromMinutes(1));
        await _trail.RecordAsync(Entry("DeleteCACertificate", 403, error: "AccessDeniedException", resources: "arn:aws:iot:us-east-1:000000000000:cacert/x"), None);
        await _trail.RecordAsync(Entry("ListThings", 403, key: "AKIAOTHERKEY00000000", error: "InvalidSignatureException"), None);
        await _trail.RecordAsync(Entry("CreateThing", 409, error: "ResourceAlreadyExistsException", resources: "arn:aws:iot:us-east-1:000000000000:thing/ab"), None);

        async Task<string[]> Ops(AuditQuery q) => [.. (await _trail.QueryAsync(q, 0, 100, None)).Select(r => r.Operation)];
        Assert.Equal(["DeleteCACertificate", "ListThings"], await Ops(new AuditQuery(Outcome: AuditOutcome.Denied)));
        Assert.Equal(["DeleteThing"], await Ops(new AuditQuery(Outcome: AuditOutcome.Succeeded)));
        Assert.Equal(["CreateThing"], await Ops(new AuditQuery(Outcome: AuditOutcome.Failed)));
        Assert.Equal(["ListThings"], await Ops(new AuditQuery(AccessKeyId: "AKIAOTHERKEY00000000")));
        Assert.Equal(["DeleteCACertificate"], await Ops(new AuditQuery(Operation: "DeleteCACertificate")));

        // A resource matches whole, not as a prefix of another (thing/a is not thing/ab).
        Assert.Equal(["DeleteThing"], await Ops(new AuditQuery(Resource: "arn:aws:iot:us-east-1:000000000000:thing/a")));
        Assert.Equal(["DeleteThing"], await Ops(new AuditQuery(Until: ServiceDatabase.Start.AddSeconds(30))));
        Assert.Equal(3, (await Ops(new AuditQuery(Since: ServiceDatabase.Start.AddSeconds(30)))).Length);
    }

    [Theory]
    [InlineData("operation = 'DeleteThinG'")]
    [InlineData("status = 200")]
    [InlineData("resources = '[]'")]
    [InlineData("access_key_id = NULL")]
    [InlineData("recorded_at = recorded_at + 1")]
    public async Task Verify_OneColumnOfOneRecordChanged_FailsNamingThatRecord(string change)
    {
        for (var i = 0; i < 5; i++)
        {
            await _trail.RecordAsync(Entry("DeleteThing", 403, error: "AccessDeniedException", resources: $"arn:aws:iot:us-east-1:000000000000:thing/t{i}"), None);
        }

        await _db.Store.WriteAsync(async (s, ct) => await ((SqlSession)s).ExecuteAsync($"UPDATE audit_records SET {change} WHERE sequence = 3", ct), None);

        var result = await _trail.VerifyAsync(None);
        Assert.False(result.Verified);
        Assert.Equal(3, result.BadSequence);
        Assert.Contains("record 3", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_RecordDeletedOrHeadMoved_Fails()
    {
        for (var i = 0; i < 4; i++)
        {
            await _trail.RecordAsync(Entry("DeleteThing"), None);
        }

        await Execute("DELETE FROM audit_records WHERE sequence = 2");
        var gap = await _trail.VerifyAsync(None);
        Assert.Equal(2, gap.BadSequence);

        await Execute("DELETE FROM audit_records WHERE sequence >= 2");
        var truncated = await _trail.VerifyAsync(None);
        Assert.Equal(2, truncated.BadSequence);
    }

    [Fact]
    public async Task Prune_OldRecords_KeepsTheRestVerifiable()
    {
        for (var i = 0; i < 6; i++)
        {
            await _trail.RecordAsync(Entry("DeleteThing"), None);
            _db.Time.Advance(TimeSpan.FromDays(1));
        }

        Assert.Equal(3, await _trail.PruneAsync(ServiceDatabase.Start.AddDays(2.5), None));
        var left = await _trail.QueryAsync(new AuditQuery(), 0, 100, None);
        Assert.Equal([4L, 5L, 6L], left.Select(r => r.Sequence));
        var result = await _trail.VerifyAsync(None);
        Assert.True(result.Verified, result.Problem);
        Assert.Equal(3, result.AnchorSequence);

        await _trail.RecordAsync(Entry("CreateThing"), None);
        Assert.True((await _trail.VerifyAsync(None)).Verified);

        // The anchor is part of the proof: changing it breaks the first kept record.
        await Execute("UPDATE audit_chain SET anchor_hash = '" + new string('1', 64) + "'");
        Assert.Equal(4, (await _trail.VerifyAsync(None)).BadSequence);
    }

    [Fact]
    public async Task Verify_EmptyTrail_Verifies()
    {
        var result = await _trail.VerifyAsync(None);
        Assert.True(result.Verified);
        Assert.Equal(0, result.Checked);
        Assert.Equal(AuditChain.Genesis, result.HeadHash);
    }

    private Task<int> Execute(string sql) =>
        _db.Store.WriteAsync(async (s, ct) => await ((SqlSession)s).ExecuteAsync(sql, ct), None);
}
