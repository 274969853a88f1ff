using System.Security.Cryptography;
using Fleetkey.Pki;
using Fleetkey.Services.Security;
using Fleetkey.Testing;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Fleetkey.Storage.Tests;

/// <summary>
/// The persistent device key pool on every store: each key handed out once, also to concurrent
/// takers (two nodes on one PostgreSQL), sealed at rest under a passphrase, kept across restarts, and
/// used by CreateKeysAndCertificate.
/// </summary>
public sealed class DeviceKeyPoolStoreTests
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 0, 0, 0, TimeSpan.Zero));

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task Take_ManyConcurrentTakers_HandOutEveryKeyExactlyOnce(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        var keys = Enumerable.Range(0, 120).Select(i => new StoredPooledKey("ec-p256", BitConverter.GetBytes(i), null)).ToList();
        await test.Store.WriteAsync(async (s, ct) => { await s.DeviceKeyPool.AddAsync(keys, _time.GetUtcNow(), ct); return true; }, None);

        var taken = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            var mine = new List<int>();
            while (true)
            {
                var batch = await test.Store.WriteAsync((s, ct) => s.DeviceKeyPool.TakeAsync("ec-p256", 5, ct), None);
                if (batch.Count == 0)
                {
                    return mine;
                }

                mine.AddRange(batch.Select(k => BitConverter.ToInt32(k.KeyData)));
            }
        })));

        var all = taken.SelectMany(t => t).ToList();
        Assert.Equal(120, all.Count);
        Assert.Equal(Enumerable.Range(0, 120), all.Order());
        Assert.Equal(0, await test.Store.ReadAsync((s, ct) => s.DeviceKeyPool.CountAsync("ec-p256", ct), None));
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task Take_OldestFirst_OnlyOfTheAlgorithm(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        byte[] salt = [1, 2, 3];
        await test.Store.WriteAsync(async (s, ct) =>
        {
            await s.DeviceKeyPool.AddAsync([new("rsa-2048", [1], null), new("ec-p256", [2], salt), new("rsa-2048", [3], salt)], _time.GetUtcNow(), ct);
            await s.DeviceKeyPool.AddAsync([new("rsa-2048", [4], null)], _time.GetUtcNow(), ct);
            return true;
        }, None);

        var first = await test.Store.WriteAsync((s, ct) => s.DeviceKeyPool.TakeAsync("rsa-2048", 2, ct), None);

        Assert.Equal([[1], [3]], first.Select(k => k.KeyData));
        Assert.Equal([null, salt], first.Select(k => k.KekSalt));
        Assert.Equal(1, await test.Store.ReadAsync((s, ct) => s.DeviceKeyPool.CountAsync("rsa-2048", ct), None));
        Assert.Equal(1, await test.Store.WriteAsync((s, ct) => s.DeviceKeyPool.DeleteUnsealedAsync(ct), None));
        Assert.Equal(0, await test.Store.ReadAsync((s, ct) => s.DeviceKeyPool.CountAsync("rsa-2048", ct), None));
        Assert.Equal(1, await test.Store.ReadAsync((s, ct) => s.DeviceKeyPool.CountAsync("ec-p256", ct), None));
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task Pool_WithPassphrase_StoresSealedKeysThatARestartHandsOut(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        var keyStore = new StoreDeviceKeyStore(test.Store, _time);
        using (var pool = new DeviceKeyPool(KeyAlgorithm.EcP256, capacity: 10, keyStore, bufferSize: 2, passphrase: "pool passphrase"))
        {
            await pool.PrepareAsync(None);
            pool.Start();
            await Signals.WaitUntilAsync(() => pool.NextChange, () => pool.Available == 10 && pool.Buffered == 2);
            await pool.StopAsync(None);
        }

        // At rest: ten rows, none of them a readable PKCS#8 key.
        var rows = await RawRowsAsync(test.Store);
        Assert.Equal(10, rows.Count);
        foreach (var (data, salt) in rows)
        {
            Assert.NotNull(salt);
            using var probe = ECDsa.Create();
            Assert.ThrowsAny<CryptographicException>(() => probe.ImportPkcs8PrivateKey(data, out _));
        }

        // The restart (another node) hands out exactly those keys, generating none while busy.
        using var restarted = new DeviceKeyPool(KeyAlgorithm.EcP256, capacity: 10, keyStore, bufferSize: 10, passphrase: "pool passphrase");
        await restarted.PrepareAsync(None);
        Assert.Equal(10, restarted.Stored);
        restarted.Start(isIdle: () => false);
        await Signals.WaitUntilAsync(() => restarted.NextChange, () => restarted.Buffered == 10);
        var handedOut = new List<DeviceKey>();
        for (var i = 0; i < 10; i++)
        {
            handedOut.Add(await restarted.TakeAsync(None));
        }

        Assert.Equal((10L, 0L), restarted.HandedOut);
        Assert.Equal(0, restarted.Generated);
        Assert.Equal(10, handedOut.Select(k => Convert.ToBase64String(k.PublicKey.ExportSubjectPublicKeyInfo())).Distinct(StringComparer.Ordinal).Count());
        Assert.Empty(await RawRowsAsync(test.Store));
        handedOut.ForEach(k => k.Dispose());
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task CreateKeysAndCertificate_UsesAPooledKey(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        var keyStore = new StoreDeviceKeyStore(test.Store, _time);
        using (var filler = new DeviceKeyPool(KeyAlgorithm.EcP256, capacity: 4, keyStore, bufferSize: 2))
        {
            await filler.PrepareAsync(None);
            filler.Start();
            await Signals.WaitUntilAsync(() => filler.NextChange, () => filler.Available == 4);
            await filler.StopAsync(None);
        }

        var stored = (await RawRowsAsync(test.Store)).Select(r => PublicKeyOf(r.Data)).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(4, stored.Count);

        // A busy server: the pool hands out what is stored and generates nothing.
        using var pool = new DeviceKeyPool(KeyAlgorithm.EcP256, capacity: 4, keyStore, bufferSize: 4);
        await pool.PrepareAsync(None);
        pool.Start(isIdle: () => false);
        await Signals.WaitUntilAsync(() => pool.NextChange, () => pool.Buffered == 4);
        var options = new PkiOptions { DeviceKeyAlgorithm = KeyAlgorithm.EcP256 };
        using var authority = await CertificateAuthority.LoadOrCreateAsync(new StoreCaMaterialStore(test.Store, _time), options, _time, pool, None);
        var certificates = new CertificateService(test.Store, authority, _time);
        var issued = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            var (_, certificate) = await certificates.CreateKeysAndCertificateAsync(setAsActive: true, None);
            using var privateKey = ECDsa.Create();
            privateKey.ImportFromPem(certificate.PrivateKeyPem);
            using var publicKey = ECDsa.Create();
            publicKey.ImportFromPem(certificate.PublicKeyPem);
            issued.Add(Convert.ToBase64String(privateKey.ExportSubjectPublicKeyInfo()));
            Assert.Equal(issued[^1], Convert.ToBase64String(publicKey.ExportSubjectPublicKeyInfo()));
        }

        Assert.Equal(stored.Order(StringComparer.Ordinal), issued.Order(StringComparer.Ordinal));
        Assert.Equal((4L, 0L), pool.HandedOut);
        Assert.Empty(await RawRowsAsync(test.Store));
    }

    private static string PublicKeyOf(byte[] pkcs8)
    {
        using var key = ECDsa.Create();
        key.ImportPkcs8PrivateKey(pkcs8, out _);
        return Convert.ToBase64String(key.ExportSubjectPublicKeyInfo());
    }

    private static async Task<List<(byte[] Data, byte[]? Salt)>> RawRowsAsync(Sql.SqlFleetStore store)
    {
        var rows = new List<(byte[], byte[]?)>();
        await store.WithConnectionAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT key_data, kek_salt FROM device_key_pool ORDER BY id";
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows.Add((reader.GetFieldValue<byte[]>(0), reader.IsDBNull(1) ? null : reader.GetFieldValue<byte[]>(1)));
            }
        }, None);
        return rows;
    }
}
