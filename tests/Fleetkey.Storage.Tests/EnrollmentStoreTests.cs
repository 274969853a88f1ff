using Fleetkey.Core.Errors;
using Fleetkey.Core.Registry;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Fleetkey.Storage.Tests;

/// <summary>The enrollment tables behave the same on SQLite and PostgreSQL.</summary>
public sealed class EnrollmentStoreTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 29, 0, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start);

    private static EnrollmentGroup Group(string name, string template = "factory", string? pattern = null) =>
        new(name, template, pattern, false, true, new Dictionary<string, string> { ["Site"] = "plant-1", ["Ünïcode"] = "✓" }, [1, 2, 3], [4, 5], Start, Start);

    private static Enrollment Individual(string serial, string template = "factory", byte[]? secret = null) =>
        new(serial, template, false, true, new Dictionary<string, string>(), secret ?? [7, 7, 7], null, Start, Start);

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task EnrollmentGroup_InsertGetUpdateDelete_RoundTripsEveryColumn(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        var group = Group("line-1", pattern: "SN-[0-9]{4}");
        await test.Store.WriteAsync(async (s, ct) => { await s.EnrollmentGroups.InsertAsync(group, ct); return true; }, CancellationToken.None);

        var read = await test.Store.ReadAsync((s, ct) => s.EnrollmentGroups.GetAsync("line-1", ct), CancellationToken.None);
        Assert.NotNull(read);
        Assert.Equal(("line-1", "factory", "SN-[0-9]{4}", false, true, Start, Start), (read.Name, read.TemplateName, read.SerialNumberPattern, read.AllowReprovisioning, read.Enabled, read.CreatedAt, read.LastModifiedAt));
        Assert.Equal(group.Parameters, read.Parameters);
        Assert.Equal(group.GroupKeyData, read.GroupKeyData);
        Assert.Equal(group.GroupKeyKekSalt, read.GroupKeyKekSalt);

        var changed = read with { TemplateName = "other", SerialNumberPattern = null, AllowReprovisioning = true, Enabled = false, Parameters = new Dictionary<string, string>(), GroupKeyData = [0], LastModifiedAt = Start.AddHours(1) };
        Assert.True(await test.Store.WriteAsync((s, ct) => s.EnrollmentGroups.UpdateAsync(changed, ct), CancellationToken.None));
        var updated = await test.Store.ReadAsync((s, ct) => s.EnrollmentGroups.GetAsync("line-1", ct), CancellationToken.None);
        Assert.Equal(("other", null, true, false, Start.AddHours(1)), (updated!.TemplateName, updated.SerialNumberPattern, updated.AllowReprovisioning, updated.Enabled, updated.LastModifiedAt));
        Assert.Empty(updated.Parameters);
        Assert.Equal(group.GroupKeyData, updated.GroupKeyData);   // the key is never updated
        Assert.True(await test.Store.ReadAsync((s, ct) => s.EnrollmentGroups.AnyForTemplateAsync("other", ct), CancellationToken.None));
        Assert.False(await test.Store.ReadAsync((s, ct) => s.EnrollmentGroups.AnyForTemplateAsync("factory", ct), CancellationToken.None));

        Assert.True(await test.Store.WriteAsync((s, ct) => s.EnrollmentGroups.DeleteAsync("line-1", ct), CancellationToken.None));
        Assert.False(await test.Store.WriteAsync((s, ct) => s.EnrollmentGroups.DeleteAsync("line-1", ct), CancellationToken.None));
        Assert.False(await test.Store.WriteAsync((s, ct) => s.EnrollmentGroups.UpdateAsync(changed, ct), CancellationToken.None));
        Assert.Null(await test.Store.ReadAsync((s, ct) => s.EnrollmentGroups.GetAsync("line-1", ct), CancellationToken.None));
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task Insert_DuplicateGroupOrSerial_IsResourceAlreadyExists(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        await test.Store.WriteAsync(async (s, ct) => { await s.EnrollmentGroups.InsertAsync(Group("dup"), ct); await s.Enrollments.InsertAsync(Individual("SN-1"), ct); return true; }, CancellationToken.None);

        var group = await Assert.ThrowsAsync<ServiceException>(() => test.Store.WriteAsync(async (s, ct) => { await s.EnrollmentGroups.InsertAsync(Group("dup"), ct); return true; }, CancellationToken.None));
        var individual = await Assert.ThrowsAsync<ServiceException>(() => test.Store.WriteAsync(async (s, ct) => { await s.Enrollments.InsertAsync(Individual("SN-1"), ct); return true; }, CancellationToken.None));

        Assert.Equal(ErrorCode.ResourceAlreadyExists, group.Code);
        Assert.Equal(ErrorCode.ResourceAlreadyExists, individual.Code);
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task ListEnrollmentsAndGroups_Pages_FollowByteOrder(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        string[] names = ["b", "B", "_x", "a", "Z", "a-1", "a:2", "A"];
        await test.Store.WriteAsync(async (s, ct) =>
        {
            foreach (var name in names)
            {
                await s.EnrollmentGroups.InsertAsync(Group(name), ct);
                await s.Enrollments.InsertAsync(Individual(name), ct);
            }

            return true;
        }, CancellationToken.None);

        var groups = new List<string>();
        var serials = new List<string>();
        string? afterGroup = null, afterSerial = null;
        for (var i = 0; i < 3; i++)
        {
            var groupPage = await test.Store.ReadAsync((s, ct) => s.EnrollmentGroups.ListAsync(afterGroup, 3, ct), CancellationToken.None);
            var serialPage = await test.Store.ReadAsync((s, ct) => s.Enrollments.ListAsync(afterSerial, 3, ct), CancellationToken.None);
            groups.AddRange(groupPage.Select(g => g.Name));
            serials.AddRange(serialPage.Select(e => e.SerialNumber));
            afterGroup = groupPage[^1].Name;
            afterSerial = serialPage[^1].SerialNumber;
        }

        Assert.Equal(names.Order(StringComparer.Ordinal), groups);
        Assert.Equal(names.Order(StringComparer.Ordinal), serials);
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task InsertMany_ManyRows_InsertsAllAndFindManyFindsThem(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        var batch = Enumerable.Range(0, 1203).Select(i => Individual($"SN-{i:D5}", secret: [(byte)i, (byte)(i >> 8)])).ToList();

        await test.Store.WriteAsync(async (s, ct) => { await s.Enrollments.InsertManyAsync(batch, ct); return true; }, CancellationToken.None);

        var asked = new List<string> { "SN-00000", "SN-01202", "SN-00600", "SN-99999" };
        var found = await test.Store.ReadAsync((s, ct) => s.Enrollments.FindManyAsync(asked, ct), CancellationToken.None);
        Assert.Equal(["SN-00000", "SN-00600", "SN-01202"], found.Select(e => e.SerialNumber).Order(StringComparer.Ordinal));
        Assert.Equal(new byte[] { 0xB2, 0x04 }, found.Single(e => e.SerialNumber == "SN-01202").SecretData);
        Assert.Equal(1203, (await test.Store.ReadAsync((s, ct) => s.Enrollments.ListAsync(null, 2000, ct), CancellationToken.None)).Count);
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task InsertMany_OneSerialTaken_InsertsNoneOfTheBatch(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        await test.Store.WriteAsync(async (s, ct) => { await s.Enrollments.InsertAsync(Individual("SN-2"), ct); return true; }, CancellationToken.None);

        var error = await Assert.ThrowsAsync<ServiceException>(() => test.Store.WriteAsync(
            async (s, ct) => { await s.Enrollments.InsertManyAsync([Individual("SN-1"), Individual("SN-2"), Individual("SN-3")], ct); return true; },
            CancellationToken.None));

        Assert.Equal(ErrorCode.ResourceAlreadyExists, error.Code);
        Assert.Equal(["SN-2"], (await test.Store.ReadAsync((s, ct) => s.Enrollments.ListAsync(null, 10, ct), CancellationToken.None)).Select(e => e.SerialNumber));
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task Enrollment_UpdateAndDelete_KeepSecretAndCreationDate(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        await test.Store.WriteAsync(async (s, ct) => { await s.Enrollments.InsertAsync(Individual("SN-9", secret: [1, 2]), ct); return true; }, CancellationToken.None);

        var changed = Individual("SN-9", "other", secret: [3, 4]) with { Enabled = false, AllowReprovisioning = true, Parameters = new Dictionary<string, string> { ["k"] = "v" }, CreatedAt = Start.AddDays(1), LastModifiedAt = Start.AddHours(3) };
        Assert.True(await test.Store.WriteAsync((s, ct) => s.Enrollments.UpdateAsync(changed, ct), CancellationToken.None));

        var read = await test.Store.ReadAsync((s, ct) => s.Enrollments.GetAsync("SN-9", ct), CancellationToken.None);
        Assert.Equal(("other", false, true, "v", Start, Start.AddHours(3)), (read!.TemplateName, read.Enabled, read.AllowReprovisioning, read.Parameters["k"], read.CreatedAt, read.LastModifiedAt));
        Assert.Equal(new byte[] { 1, 2 }, read.SecretData);
        Assert.True(await test.Store.ReadAsync((s, ct) => s.Enrollments.AnyForTemplateAsync("other", ct), CancellationToken.None));
        Assert.True(await test.Store.WriteAsync((s, ct) => s.Enrollments.DeleteAsync("SN-9", ct), CancellationToken.None));
        Assert.Null(await test.Store.ReadAsync((s, ct) => s.Enrollments.GetAsync("SN-9", ct), CancellationToken.None));
    }
}
