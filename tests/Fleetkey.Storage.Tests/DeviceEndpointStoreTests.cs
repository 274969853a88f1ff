using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Fleetkey.Storage.Tests;

/// <summary>The device endpoint's tables behave the same on SQLite and PostgreSQL.</summary>
public sealed class DeviceEndpointStoreTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 29, 0, 0, 0, TimeSpan.Zero);
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly FakeTimeProvider _time = new(Start);

    private static Task<T> WriteAsync<T>(TestStore test, Func<IDeviceEndpointRepository, CancellationToken, Task<T>> work) =>
        test.Store.WriteAsync((s, ct) => work(s.DeviceEndpoint, ct), None);

    private static Task<T> ReadAsync<T>(TestStore test, Func<IDeviceEndpointRepository, CancellationToken, Task<T>> work) =>
        test.Store.ReadAsync((s, ct) => work(s.DeviceEndpoint, ct), None);

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task TryUseSignature_SecondUse_FalseAndTransactionStillUsable(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);

        Assert.True(await WriteAsync(test, (r, ct) => r.TryUseSignatureAsync("h1", Start.AddHours(1), ct)));

        // In one transaction: the refused insert must not end it (PostgreSQL aborts on errors).
        var (again, other) = await test.Store.WriteAsync(
            async (s, ct) => (await s.DeviceEndpoint.TryUseSignatureAsync("h1", Start.AddHours(1), ct), await s.DeviceEndpoint.TryUseSignatureAsync("h2", Start.AddHours(1), ct)),
            None);
        Assert.False(again);
        Assert.True(other);
        Assert.True(await ReadAsync(test, (r, ct) => r.IsSignatureUsedAsync("h2", ct)));
        Assert.False(await ReadAsync(test, (r, ct) => r.IsSignatureUsedAsync("h3", ct)));
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task TryUseSignature_ConcurrentWriters_ExactlyOneWins(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => WriteAsync(test, (r, ct) => r.TryUseSignatureAsync("race", Start.AddHours(1), ct)))));

        Assert.Equal(1, results.Count(r => r));
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task PruneSignatures_RemovesOnlyExpired(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        await WriteAsync(test, async (r, ct) => (await r.TryUseSignatureAsync("old", Start, ct), await r.TryUseSignatureAsync("new", Start.AddHours(1), ct)));

        Assert.Equal(1, await WriteAsync(test, (r, ct) => r.PruneSignaturesAsync(Start.AddMinutes(1), ct)));

        Assert.False(await ReadAsync(test, (r, ct) => r.IsSignatureUsedAsync("old", ct)));
        Assert.True(await ReadAsync(test, (r, ct) => r.IsSignatureUsedAsync("new", ct)));
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task Registrations_LatestBySerialAndFirstConnectionOnce(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        await WriteAsync(test, async (r, ct) =>
        {
            await r.InsertRegistrationAsync(new DeviceRegistration("c1", "sn", Start, null), ct);
            await r.InsertRegistrationAsync(new DeviceRegistration("c2", "sn", Start.AddMinutes(5), null), ct);
            await r.InsertRegistrationAsync(new DeviceRegistration("c3", "other", Start.AddMinutes(9), null), ct);
            return true;
        });

        Assert.Equal("c2", (await ReadAsync(test, (r, ct) => r.GetLatestRegistrationAsync("sn", ct)))!.CertificateId);
        Assert.Null(await ReadAsync(test, (r, ct) => r.GetLatestRegistrationAsync("nobody", ct)));
        Assert.True(await WriteAsync(test, (r, ct) => r.RecordConnectionAsync("c2", Start.AddMinutes(6), ct)));
        Assert.False(await WriteAsync(test, (r, ct) => r.RecordConnectionAsync("c2", Start.AddMinutes(7), ct)));
        Assert.False(await WriteAsync(test, (r, ct) => r.RecordConnectionAsync("unknown", Start.AddMinutes(7), ct)));
        Assert.Equal(Start.AddMinutes(6), (await ReadAsync(test, (r, ct) => r.GetRegistrationAsync("c2", ct)))!.FirstConnectedAt);
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task Attempts_CountedPerAuthenticatedSerialAndPerAddressInTheWindow(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        DeviceAttempt Attempt(int minute, string? serial, string address, string outcome, bool authenticated = false) =>
            new(Guid.CreateVersion7(Start.AddMinutes(minute)), Start.AddMinutes(minute), serial, address, outcome, null, null, authenticated);
        var marked = Attempt(50, "sn", "a3", "pending");
        await WriteAsync(test, async (r, ct) =>
        {
            await r.InsertAttemptAsync(Attempt(0, "sn", "a1", "conflict", authenticated: true), ct);
            await r.InsertAttemptAsync(Attempt(5, "sn", "a1", "unauthorized"), ct);
            await r.InsertAttemptAsync(Attempt(10, "sn", "a2", "registered", authenticated: true), ct);
            await r.InsertAttemptAsync(Attempt(20, "sn", "a1", "throttled"), ct);
            await r.InsertAttemptAsync(Attempt(30, null, "a1", "invalid"), ct);
            await r.InsertAttemptAsync(Attempt(40, "other", "a1", "pending", authenticated: true), ct);
            await r.InsertAttemptAsync(marked, ct);
            await r.MarkAuthenticatedAsync(marked.AttemptId, ct);
            return true;
        });

        // Unauthenticated attempts (a wrong signature, a bad body) never count against a serial.
        Assert.Equal(new AttemptWindow(3, Start), await ReadAsync(test, (r, ct) => r.CountAuthenticatedAttemptsAsync("sn", Start.AddMinutes(-1), ct)));
        Assert.Equal(new AttemptWindow(2, Start.AddMinutes(10)), await ReadAsync(test, (r, ct) => r.CountAuthenticatedAttemptsAsync("sn", Start, ct)));
        Assert.Equal(new AttemptWindow(2, Start.AddMinutes(30)), await ReadAsync(test, (r, ct) => r.CountAddressAttemptsAsync("a1", Start.AddMinutes(10), "throttled", ct)));
        Assert.Equal(new AttemptWindow(0, null), await ReadAsync(test, (r, ct) => r.CountAddressAttemptsAsync("a9", Start, "throttled", ct)));
        Assert.True((await ReadAsync(test, (r, ct) => r.ListAttemptsAsync("sn", 10, ct)))[^1].Authenticated);
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task Attempts_UpdatedListedAndPruned(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        var first = Guid.CreateVersion7(Start);
        var second = Guid.CreateVersion7(Start.AddDays(2));
        await WriteAsync(test, async (r, ct) =>
        {
            await r.InsertAttemptAsync(new DeviceAttempt(first, Start, "sn", "a1", "pending", null, null), ct);
            await r.InsertAttemptAsync(new DeviceAttempt(second, Start.AddDays(2), "sn", "a1", "pending", null, null), ct);
            await r.UpdateAttemptAsync(first, "registered", "reprovisioned", "cert-1", ct);
            return true;
        });

        var listed = await ReadAsync(test, (r, ct) => r.ListAttemptsAsync("sn", 10, ct));
        Assert.Equal(
            [new DeviceAttempt(first, Start, "sn", "a1", "registered", "reprovisioned", "cert-1"), new DeviceAttempt(second, Start.AddDays(2), "sn", "a1", "pending", null, null)],
            listed);

        Assert.Equal(1, await WriteAsync(test, (r, ct) => r.PruneAttemptsAsync(Start.AddDays(1), ct)));
        Assert.Equal([second], (await ReadAsync(test, (r, ct) => r.ListAttemptsAsync(null, 10, ct))).Select(a => a.AttemptId));
    }
}
