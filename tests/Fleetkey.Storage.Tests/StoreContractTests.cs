using Fleetkey.Core.Errors;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Registry;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Fleetkey.Storage.Tests;

/// <summary>
/// One contract for every store: the same operations must behave the same on SQLite and PostgreSQL
/// (ordering, uniqueness, cascades, rollback, concurrency).
/// </summary>
public sealed class StoreContractTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 0, 0, 0, TimeSpan.Zero));

    private Thing NewThing(string name, IReadOnlyDictionary<string, string>? attributes = null) =>
        new(name, Guid.NewGuid().ToString(), null, attributes ?? new Dictionary<string, string>(), 1, _time.GetUtcNow());

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task Insert_DuplicateName_IsResourceAlreadyExists(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        await test.Store.WriteAsync(async (s, ct) => { await s.Things.InsertAsync(NewThing("dup"), ct); return true; }, CancellationToken.None);

        var error = await Assert.ThrowsAsync<ServiceException>(() =>
            test.Store.WriteAsync(async (s, ct) => { await s.Things.InsertAsync(NewThing("dup"), ct); return true; }, CancellationToken.None));

        Assert.Equal(ErrorCode.ResourceAlreadyExists, error.Code);
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task TryInsert_InsertsANewThing_AndLeavesAnExistingOneAsItWas(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        var first = NewThing("maybe", new Dictionary<string, string> { ["serial"] = "1" });
        Assert.True(await test.Store.WriteAsync((s, ct) => s.Things.TryInsertAsync(first, ct), CancellationToken.None));

        var second = NewThing("maybe", new Dictionary<string, string> { ["serial"] = "2" });
        Assert.False(await test.Store.WriteAsync((s, ct) => s.Things.TryInsertAsync(second, ct), CancellationToken.None));

        var stored = await test.Store.ReadAsync((s, ct) => s.Things.GetAsync("maybe", ct), CancellationToken.None);
        Assert.Equal(first.ThingId, stored!.ThingId);
        Assert.Equal("1", stored.Attributes["serial"]);

        // The attribute index holds the first thing's attribute only (the second wrote none).
        var bySerial = await test.Store.ReadAsync((s, ct) => s.Things.ListAsync(new ThingQuery("serial", "2", false, null), null, 10, ct), CancellationToken.None);
        Assert.Empty(bySerial);
        var byFirst = await test.Store.ReadAsync((s, ct) => s.Things.ListAsync(new ThingQuery("serial", "1", false, null), null, 10, ct), CancellationToken.None);
        Assert.Equal("maybe", Assert.Single(byFirst).Name);
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task Write_DelegateThrows_RollsBackEveryStatement(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);

        await Assert.ThrowsAsync<InvalidOperationException>(() => test.Store.WriteAsync<bool>(async (s, ct) =>
        {
            await s.Things.InsertAsync(NewThing("half", new Dictionary<string, string> { ["k"] = "v" }), ct);
            throw new InvalidOperationException("after the first write");
        }, CancellationToken.None));

        Assert.Null(await test.Store.ReadAsync((s, ct) => s.Things.GetAsync("half", ct), CancellationToken.None));
        Assert.Empty(await test.Store.ReadAsync((s, ct) => s.Things.ListAsync(new ThingQuery("k", "v", false, null), null, 10, ct), CancellationToken.None));
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task ListThings_Pages_FollowByteOrderOfNames(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        string[] names = ["b", "B", "_x", "a", "Z", "a-1", "a:2", "A"];
        await test.Store.WriteAsync(async (s, ct) =>
        {
            foreach (var name in names)
            {
                await s.Things.InsertAsync(NewThing(name), ct);
            }

            return true;
        }, CancellationToken.None);

        var walked = new List<string>();
        string? after = null;
        while (true)
        {
            var page = await test.Store.ReadAsync((s, ct) => s.Things.ListAsync(new ThingQuery(null, null, false, null), after, 3, ct), CancellationToken.None);
            walked.AddRange(page.Select(t => t.Name));
            if (page.Count < 3)
            {
                break;
            }

            after = page[^1].Name;
        }

        Assert.Equal(names.Order(StringComparer.Ordinal), walked);
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task ListThings_AttributePrefix_IsCaseSensitiveRange(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        await test.Store.WriteAsync(async (s, ct) =>
        {
            await s.Things.InsertAsync(NewThing("t1", new Dictionary<string, string> { ["fw"] = "v1.2" }), ct);
            await s.Things.InsertAsync(NewThing("t2", new Dictionary<string, string> { ["fw"] = "v1.10" }), ct);
            await s.Things.InsertAsync(NewThing("t3", new Dictionary<string, string> { ["fw"] = "V1.3" }), ct);
            await s.Things.InsertAsync(NewThing("t4", new Dictionary<string, string> { ["fw"] = "v2" }), ct);
            return true;
        }, CancellationToken.None);

        var page = await test.Store.ReadAsync((s, ct) => s.Things.ListAsync(new ThingQuery("fw", "v1.", true, null), null, 10, ct), CancellationToken.None);

        Assert.Equal(["t1", "t2"], page.Select(t => t.Name));
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task DeleteThing_RemovesAttributesAndMemberships(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        var now = _time.GetUtcNow();
        await test.Store.WriteAsync(async (s, ct) =>
        {
            await s.Things.InsertAsync(NewThing("t1", new Dictionary<string, string> { ["k"] = "v" }), ct);
            await s.ThingGroups.InsertAsync(new ThingGroup("g1", "gid-1", null, "g1", null, new Dictionary<string, string>(), 1, now), ct);
            await s.ThingGroups.AddThingAsync("g1", "t1", now, ct);
            return true;
        }, CancellationToken.None);

        await test.Store.WriteAsync((s, ct) => s.Things.DeleteAsync("t1", ct), CancellationToken.None);

        var group = await test.Store.ReadAsync((s, ct) => s.ThingGroups.GetAsync("g1", ct), CancellationToken.None);
        Assert.Empty(await test.Store.ReadAsync((s, ct) => s.ThingGroups.ListThingNamesAsync(group!, false, null, 10, ct), CancellationToken.None));
        Assert.Empty(await test.Store.ReadAsync((s, ct) => s.Things.ListAsync(new ThingQuery("k", null, false, null), null, 10, ct), CancellationToken.None));
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task ListCertificates_SameInstant_PagesByIdBothWays(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        var ids = Enumerable.Range(0, 7).Select(i => i.ToString("x64", System.Globalization.CultureInfo.InvariantCulture)).ToList();
        await test.Store.WriteAsync(async (s, ct) =>
        {
            for (var i = 0; i < ids.Count; i++)
            {
                var created = _time.GetUtcNow().AddSeconds(i / 3);
                await s.Certificates.InsertAsync(new Certificate(ids[i], null, CertificateStatus.Active, "pem", "DEFAULT", created, created, created, created, 1, "g"), ct);
            }

            return true;
        }, CancellationToken.None);

        foreach (var ascending in new[] { true, false })
        {
            var walked = new List<string>();
            string? after = null;
            while (true)
            {
                var page = await test.Store.ReadAsync((s, ct) => s.Certificates.ListAsync(null, ascending, after, 2, ct), CancellationToken.None);
                walked.AddRange(page.Select(c => c.CertificateId));
                if (page.Count < 2)
                {
                    break;
                }

                after = Paging.CreationKey(page[^1].CreatedAt, page[^1].CertificateId);
            }

            Assert.Equal(ascending ? ids : ids.AsEnumerable().Reverse(), walked);
        }
    }

    private ProvisioningTemplate NewTemplate(string name) =>
        new(name, "d", true, ProvisioningTemplateType.FleetProvisioning, "arn:aws:iam::000000000000:role/Provisioning", null, null, 1, 2, _time.GetUtcNow(), _time.GetUtcNow());

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task ProvisioningTemplates_InsertDuplicate_IsResourceAlreadyExistsAndKeepsTheFirst(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        await test.Store.WriteAsync(async (s, ct) => { await s.ProvisioningTemplates.InsertAsync(NewTemplate("t"), new ProvisioningTemplateVersion("t", 1, "first", _time.GetUtcNow()), ct); return true; }, CancellationToken.None);

        var error = await Assert.ThrowsAsync<ServiceException>(() => test.Store.WriteAsync(async (s, ct) =>
        {
            await s.ProvisioningTemplates.InsertAsync(NewTemplate("t") with { Description = "second" }, new ProvisioningTemplateVersion("t", 1, "second", _time.GetUtcNow()), ct);
            return true;
        }, CancellationToken.None));

        Assert.Equal(ErrorCode.ResourceAlreadyExists, error.Code);
        Assert.Equal("d", (await test.Store.ReadAsync((s, ct) => s.ProvisioningTemplates.GetAsync("t", ct), CancellationToken.None))!.Description);
        Assert.Equal("first", (await test.Store.ReadAsync((s, ct) => s.ProvisioningTemplates.GetVersionAsync("t", 1, ct), CancellationToken.None))!.Body);
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task ProvisioningTemplates_ListAndVersions_PageInOrderAndDeleteCascades(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        string[] names = ["b", "B", "_x", "a-1", "A"];
        await test.Store.WriteAsync(async (s, ct) =>
        {
            foreach (var name in names)
            {
                await s.ProvisioningTemplates.InsertAsync(NewTemplate(name), new ProvisioningTemplateVersion(name, 1, "{}", _time.GetUtcNow()), ct);
            }

            for (var id = 2; id <= 4; id++)
            {
                await s.ProvisioningTemplates.InsertVersionAsync(new ProvisioningTemplateVersion("b", id, "v" + id, _time.GetUtcNow().AddMinutes(id)), ct);
            }

            await s.ProvisioningTemplates.UpdateAsync(NewTemplate("b") with { Enabled = false, HookTargetArn = "arn:aws:lambda:eu-west-1:000000000000:function:f", HookPayloadVersion = "2020-04-01", DefaultVersionId = 3, NextVersionId = 5 }, ct);
            return true;
        }, CancellationToken.None);

        var first = await test.Store.ReadAsync((s, ct) => s.ProvisioningTemplates.ListAsync(null, 3, ct), CancellationToken.None);
        var rest = await test.Store.ReadAsync((s, ct) => s.ProvisioningTemplates.ListAsync(first[^1].Name, 3, ct), CancellationToken.None);
        Assert.Equal(names.Order(StringComparer.Ordinal), first.Concat(rest).Select(t => t.Name));

        var b = await test.Store.ReadAsync((s, ct) => s.ProvisioningTemplates.GetAsync("b", ct), CancellationToken.None);
        Assert.Equal((false, 3L, 5L, "2020-04-01"), (b!.Enabled, b.DefaultVersionId, b.NextVersionId, b.HookPayloadVersion));
        Assert.Equal(4, await test.Store.ReadAsync((s, ct) => s.ProvisioningTemplates.CountVersionsAsync("b", ct), CancellationToken.None));
        var after2 = await test.Store.ReadAsync((s, ct) => s.ProvisioningTemplates.ListVersionsAsync("b", 2, 10, ct), CancellationToken.None);
        Assert.Equal([3L, 4L], after2.Select(v => v.VersionId));
        Assert.Equal(_time.GetUtcNow().AddMinutes(3), after2[0].CreatedAt);

        Assert.True(await test.Store.WriteAsync((s, ct) => s.ProvisioningTemplates.DeleteVersionAsync("b", 2, ct), CancellationToken.None));
        Assert.False(await test.Store.WriteAsync((s, ct) => s.ProvisioningTemplates.DeleteVersionAsync("b", 2, ct), CancellationToken.None));
        Assert.True(await test.Store.WriteAsync((s, ct) => s.ProvisioningTemplates.DeleteAsync("b", ct), CancellationToken.None));

        Assert.Null(await test.Store.ReadAsync((s, ct) => s.ProvisioningTemplates.GetAsync("b", ct), CancellationToken.None));
        Assert.Empty(await test.Store.ReadAsync((s, ct) => s.ProvisioningTemplates.ListVersionsAsync("b", null, 10, ct), CancellationToken.None));
        Assert.Equal(1, await test.Store.ReadAsync((s, ct) => s.ProvisioningTemplates.CountVersionsAsync("a-1", ct), CancellationToken.None));
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task Tags_SetTwice_UpdatesValue(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);

        await test.Store.WriteAsync(async (s, ct) => { await s.Tags.SetAsync("thinggroup", "g", [new Tag("env", "dev"), new Tag("team", "a")], ct); return true; }, CancellationToken.None);
        await test.Store.WriteAsync(async (s, ct) => { await s.Tags.SetAsync("thinggroup", "g", [new Tag("env", "prod")], ct); return true; }, CancellationToken.None);

        var tags = await test.Store.ReadAsync((s, ct) => s.Tags.ListAsync("thinggroup", "g", null, 10, ct), CancellationToken.None);
        Assert.Equal([new Tag("env", "prod"), new Tag("team", "a")], tags);
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task CreateThing_ConcurrentDifferentAttributes_OneWinnerOthersAlreadyExist(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        var things = new ThingService(test.Store, _time);

        var attempts = await Task.WhenAll(Enumerable.Range(0, 8).Select(async i =>
        {
            try
            {
                await things.CreateAsync("contended", null, new Dictionary<string, string> { ["writer"] = $"w{i}" }, null, CancellationToken.None);
                return "created";
            }
            catch (ServiceException exception) when (exception.Code == ErrorCode.ResourceAlreadyExists)
            {
                return "exists";
            }
        }));

        Assert.Equal(1, attempts.Count(a => a == "created"));
        Assert.Equal(7, attempts.Count(a => a == "exists"));
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task UpdateThing_ConcurrentSameExpectedVersion_OneWins(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        var things = new ThingService(test.Store, _time);
        await things.CreateAsync("versioned", null, null, null, CancellationToken.None);

        var attempts = await Task.WhenAll(Enumerable.Range(0, 6).Select(async i =>
        {
            try
            {
                await things.UpdateAsync("versioned", null, new Dictionary<string, string> { ["writer"] = $"w{i}" }, merge: true, expectedVersion: 1, removeThingType: false, CancellationToken.None);
                return "updated";
            }
            catch (ServiceException exception) when (exception.Code == ErrorCode.VersionConflict)
            {
                return "conflict";
            }
        }));

        Assert.Equal(1, attempts.Count(a => a == "updated"));
        Assert.Equal(2, (await things.DescribeAsync("versioned", CancellationToken.None)).Version);
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task Write_SerializationFailureAtCommit_IsRetried(string kind)
    {
        // Write skew: each writer reads the name the other inserts, and both insert before either
        // commits. PostgreSQL (SERIALIZABLE) lets the first commit and fails the second at COMMIT,
        // after its statements succeeded; that writer must be retried, not answered with an error.
        // SQLite runs one writer at a time, so there the writers cannot meet: each runs on its own, and
        // both must still commit. The wait only bounds a rendezvous that PostgreSQL always reaches.
        await using var test = await TestStores.CreateAsync(kind, _time);
        var writersMeet = kind == "postgres";
        var wait = TimeSpan.FromSeconds(30);
        TaskCompletionSource firstRead = new(TaskCreationOptions.RunContinuationsAsynchronously), secondRead = new(TaskCreationOptions.RunContinuationsAsynchronously);
        TaskCompletionSource firstInserted = new(TaskCreationOptions.RunContinuationsAsynchronously), secondInserted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        int firstAttempts = 0, secondAttempts = 0;

        var first = test.Store.WriteAsync(async (s, ct) =>
        {
            var rendezvous = Interlocked.Increment(ref firstAttempts) == 1 && writersMeet;
            await s.Things.GetAsync("skew-b", ct);
            await Meet(rendezvous, firstRead, secondRead);
            await s.Things.InsertAsync(NewThing("skew-a"), ct);
            await Meet(rendezvous, firstInserted, secondInserted);
            return true;
        }, CancellationToken.None);
        var second = test.Store.WriteAsync(async (s, ct) =>
        {
            var rendezvous = Interlocked.Increment(ref secondAttempts) == 1 && writersMeet;
            await s.Things.GetAsync("skew-a", ct);
            await Meet(rendezvous, secondRead, firstRead);
            await s.Things.InsertAsync(NewThing("skew-b"), ct);
            await Meet(rendezvous, secondInserted, firstInserted);
            if (rendezvous)
            {
                // Commit only once the first writer's commit is through, so this one is the loser.
                await Task.WhenAny(first, Task.Delay(wait, ct));
            }

            return true;
        }, CancellationToken.None);

        Assert.True(await first);
        Assert.True(await second);
        Assert.NotNull(await test.Store.ReadAsync((s, ct) => s.Things.GetAsync("skew-a", ct), CancellationToken.None));
        Assert.NotNull(await test.Store.ReadAsync((s, ct) => s.Things.GetAsync("skew-b", ct), CancellationToken.None));
        if (kind == "postgres")
        {
            Assert.True(firstAttempts + secondAttempts > 2, "the writers should have conflicted once");
        }

        async Task Meet(bool rendezvous, TaskCompletionSource mine, TaskCompletionSource theirs)
        {
            if (rendezvous)
            {
                mine.TrySetResult();
                await Task.WhenAny(theirs.Task, Task.Delay(wait));
            }
        }
    }
}
