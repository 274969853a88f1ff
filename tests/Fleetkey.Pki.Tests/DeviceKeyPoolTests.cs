using System.Diagnostics;
using System.Security.Cryptography;
using Xunit;

namespace Fleetkey.Pki.Tests;

public sealed class DeviceKeyPoolTests
{
    [Fact]
    public async Task Take_AfterWarmUp_ServesPooledKeysAndRefills()
    {
        using var pool = Started(new DeviceKeyPool(KeyAlgorithm.EcP256, capacity: 3));
        await WaitUntilAsync(() => pool.Available == 3);

        using var first = await pool.TakeAsync(CancellationToken.None);
        Assert.Equal((1, 0), pool.HandedOut);

        // The take wakes the generator, which makes one key to replace it.
        await WaitUntilAsync(() => pool.Generated == 4 && pool.Available == 3);

        using var second = await pool.TakeAsync(CancellationToken.None);
        Assert.Equal(KeyAlgorithm.EcP256, first.Algorithm);
        Assert.Equal(256, first.PublicKey.GetECDsaPublicKey()!.KeySize);
        Assert.NotEqual(first.PublicKey.ExportSubjectPublicKeyInfo(), second.PublicKey.ExportSubjectPublicKeyInfo());
    }

    [Fact]
    public async Task Take_WarmRsaPool_ReturnsAlreadyGeneratedKeys()
    {
        using var pool = Started(new DeviceKeyPool(KeyAlgorithm.Rsa2048, capacity: 3));
        await WaitUntilAsync(() => pool.Available == 3);

        // RSA.Create(2048) defers generation to first use; a pooled key must not. The fastest of three
        // takes stays far below one RSA-2048 generation (~50 ms at best here) even on a loaded machine.
        var fastest = TimeSpan.MaxValue;
        for (var i = 0; i < 3; i++)
        {
            var watch = Stopwatch.StartNew();
            using var key = await pool.TakeAsync(CancellationToken.None);
            _ = key.ExportPrivateKeyPem();
            fastest = watch.Elapsed < fastest ? watch.Elapsed : fastest;
        }

        Assert.True(fastest < TimeSpan.FromMilliseconds(20), $"fastest pooled take {fastest.TotalMilliseconds} ms");
    }

    [Fact]
    public async Task Take_NoPool_GeneratesInline()
    {
        using var pool = Started(new DeviceKeyPool(KeyAlgorithm.Rsa2048, capacity: 0));

        using var key = await pool.TakeAsync(CancellationToken.None);

        Assert.Equal(2048, key.PublicKey.GetRSAPublicKey()!.KeySize);
        Assert.Equal(0, pool.Available);
    }

    [Fact]
    public async Task Take_EmptyPool_GeneratesInline()
    {
        using var pool = Started(new DeviceKeyPool(KeyAlgorithm.Rsa2048, capacity: 1));

        // More keys than the pool holds, at once: whatever is not pooled is made on the spot.
        var keys = new List<DeviceKey>();
        for (var i = 0; i < 4; i++)
        {
            keys.Add(await pool.TakeAsync(CancellationToken.None));
        }

        Assert.Equal(4, keys.Select(k => Convert.ToBase64String(k.PublicKey.ExportSubjectPublicKeyInfo())).Distinct(StringComparer.Ordinal).Count());
        keys.ForEach(k => k.Dispose());
    }

    [Fact]
    public async Task Dispose_WhileGenerating_StopsPromptlyAndRefusesTakes()
    {
        var pool = Started(new DeviceKeyPool(KeyAlgorithm.Rsa2048, capacity: 64));
        await Task.Delay(50);
        var watch = Stopwatch.StartNew();

        pool.Dispose();
        pool.Dispose();

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"Dispose took {watch.Elapsed}");
        Assert.Equal(0, pool.Available);
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await pool.TakeAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Start_WhileServerBusy_GeneratesNothingUntilIdle()
    {
        var idle = false;
        using var pool = new DeviceKeyPool(KeyAlgorithm.EcP256, capacity: 4);
        pool.Start(() => Volatile.Read(ref idle));

        await Task.Delay(300);
        Assert.Equal(0, pool.Available);
        Assert.Equal(0, pool.Generated);

        Volatile.Write(ref idle, true);
        await WaitUntilAsync(() => pool.Available == 4);
        Assert.Equal(4, pool.Generated);
    }

    [Fact]
    public async Task Persistent_FillsStoreBehindBuffer_AndStopPutsBufferBack()
    {
        var store = new MemoryKeyStore();
        using (var pool = new DeviceKeyPool(KeyAlgorithm.EcP256, capacity: 20, store, bufferSize: 4))
        {
            await pool.PrepareAsync(CancellationToken.None);
            pool.Start();
            await WaitUntilAsync(() => pool.Buffered == 4 && store.Count == 16);

            using var key = await pool.TakeAsync(CancellationToken.None);
            Assert.Equal((1, 0), pool.HandedOut);

            // The pool refills to its capacity, not beyond it.
            await WaitUntilAsync(() => pool.Buffered == 4 && pool.Available == 20);
            await pool.StopAsync(CancellationToken.None);
        }

        Assert.Equal(20, store.Count);
        Assert.Equal(20, store.Keys.Select(k => Convert.ToBase64String(k.Data)).Distinct(StringComparer.Ordinal).Count());
        Assert.All(store.Keys, k => Assert.Null(k.KekSalt));

        // A new pool (a restart) starts from the stored keys and generates none.
        using var restarted = new DeviceKeyPool(KeyAlgorithm.EcP256, capacity: 20, store, bufferSize: 4);
        await restarted.PrepareAsync(CancellationToken.None);
        Assert.Equal(20, restarted.Stored);
        restarted.Start();
        await WaitUntilAsync(() => restarted.Buffered == 4);
        Assert.Equal(0, restarted.Generated);
    }

    [Fact]
    public async Task Persistent_EmptyBufferWithStoredKeys_TakesABatchFromTheStoreInsteadOfGenerating()
    {
        const int Total = DeviceKeyPool.DirectTakeBatch + 12;
        var store = new MemoryKeyStore();
        using (var filler = new DeviceKeyPool(KeyAlgorithm.EcP256, capacity: Total, store, bufferSize: 1))
        {
            await filler.PrepareAsync(CancellationToken.None);
            filler.Start();
            await WaitUntilAsync(() => filler.Available == Total);
            await filler.StopAsync(CancellationToken.None);
        }

        Assert.Equal(Total, store.Count);

        // Not started: nothing tops the buffer up, as in a burst that outruns the prefetch.
        using var pool = new DeviceKeyPool(KeyAlgorithm.EcP256, capacity: Total, store, bufferSize: 16);
        await pool.PrepareAsync(CancellationToken.None);
        Assert.Equal(0, pool.Buffered);

        using var first = await pool.TakeAsync(CancellationToken.None);
        Assert.Equal((1L, 0L), pool.HandedOut);
        Assert.Equal(Total - DeviceKeyPool.DirectTakeBatch, store.Count);
        Assert.Equal(DeviceKeyPool.DirectTakeBatch - 1, pool.Buffered);

        // The rest of the batch serves the next requests; then the store again; never a generated key.
        var keys = new List<DeviceKey>();
        for (var i = 0; i < Total - 1; i++)
        {
            keys.Add(await pool.TakeAsync(CancellationToken.None));
        }

        Assert.Equal(((long)Total, 0L), pool.HandedOut);
        Assert.Equal(0, pool.Generated);
        Assert.Equal(0, store.Count);
        Assert.Equal(Total, keys.Append(first).Select(k => Convert.ToBase64String(k.PublicKey.ExportSubjectPublicKeyInfo())).Distinct(StringComparer.Ordinal).Count());

        // The pool is empty now: the next key is generated on demand.
        using var generated = await pool.TakeAsync(CancellationToken.None);
        Assert.Equal(((long)Total, 1L), pool.HandedOut);
        keys.ForEach(k => k.Dispose());
    }

    [Fact]
    public async Task Persistent_ConcurrentTakesWhileABatchIsOnItsWay_WaitForItInsteadOfGenerating()
    {
        var store = new MemoryKeyStore();
        using (var filler = new DeviceKeyPool(KeyAlgorithm.EcP256, capacity: DeviceKeyPool.DirectTakeBatch, store, bufferSize: 1))
        {
            await filler.PrepareAsync(CancellationToken.None);
            filler.Start();
            await WaitUntilAsync(() => filler.Available == DeviceKeyPool.DirectTakeBatch);
            await filler.StopAsync(CancellationToken.None);
        }

        // One request's batch takes every stored key; the others find the store empty while those
        // keys are still on their way to the buffer (as at the end of a burst).
        store.TakeDelay = TimeSpan.FromMilliseconds(200);
        using var pool = new DeviceKeyPool(KeyAlgorithm.EcP256, capacity: DeviceKeyPool.DirectTakeBatch, store, bufferSize: 16);
        await pool.PrepareAsync(CancellationToken.None);

        var keys = await Task.WhenAll(Enumerable.Range(0, DeviceKeyPool.DirectTakeBatch).Select(_ => pool.TakeAsync(CancellationToken.None).AsTask()));

        Assert.Equal(((long)DeviceKeyPool.DirectTakeBatch, 0L), pool.HandedOut);
        Assert.Equal(DeviceKeyPool.DirectTakeBatch, keys.Select(k => Convert.ToBase64String(k.PublicKey.ExportSubjectPublicKeyInfo())).Distinct(StringComparer.Ordinal).Count());
        Array.ForEach(keys, k => k.Dispose());
    }

    [Fact]
    public async Task Persistent_WithPassphrase_StoresOnlySealedKeysAndDropsOldPlainOnes()
    {
        var store = new MemoryKeyStore();
        using var plain = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await store.AddAsync([new SealedDeviceKey(KeyAlgorithm.EcP256, plain.ExportPkcs8PrivateKey(), null)], CancellationToken.None);
        using var pool = new DeviceKeyPool(KeyAlgorithm.EcP256, capacity: 12, store, bufferSize: 2, passphrase: "correct horse");

        Assert.Equal(1, await pool.PrepareAsync(CancellationToken.None));
        pool.Start();
        await WaitUntilAsync(() => store.Count == 10);

        foreach (var stored in store.Keys)
        {
            Assert.NotNull(stored.KekSalt);
            using var probe = ECDsa.Create();
            Assert.ThrowsAny<CryptographicException>(() => probe.ImportPkcs8PrivateKey(stored.Data, out _));
        }
    }

    [Fact]
    public void Sealer_OpensOwnKeys_AndRefusesOtherPassphraseTamperingAndRelabelling()
    {
        var sealer = new DeviceKeySealer("passphrase one");
        using var key = DeviceKey.Generate(KeyAlgorithm.EcP256);
        var sealedKey = sealer.Seal(key);

        using (var opened = sealer.Open(sealedKey))
        {
            Assert.NotNull(opened);
            Assert.Equal(key.PublicKey.ExportSubjectPublicKeyInfo(), opened.PublicKey.ExportSubjectPublicKeyInfo());
        }

        // Another node with the same passphrase (its own salt) opens it too.
        Assert.NotNull(new DeviceKeySealer("passphrase one").Open(sealedKey));
        Assert.Null(new DeviceKeySealer("passphrase two").Open(sealedKey));
        Assert.Null(new DeviceKeySealer(null).Open(sealedKey));
        Assert.Null(sealer.Open(sealedKey with { Algorithm = KeyAlgorithm.EcP384 }));
        var tampered = (byte[])sealedKey.Data.Clone();
        tampered[^1] ^= 1;
        Assert.Null(sealer.Open(sealedKey with { Data = tampered }));

        // A key stored in the clear is not used once a passphrase is configured.
        Assert.Null(sealer.Open(new SealedDeviceKey(KeyAlgorithm.EcP256, key.ExportPkcs8(), null)));
    }

    private static DeviceKeyPool Started(DeviceKeyPool pool)
    {
        pool.Start();
        return pool;
    }

    /// <summary>A store in memory with the contract's take semantics (each key returned once).</summary>
    private sealed class MemoryKeyStore : IDeviceKeyStore
    {
        private readonly List<SealedDeviceKey> _keys = [];

        public int Count
        {
            get
            {
                lock (_keys)
                {
                    return _keys.Count;
                }
            }
        }

        public List<SealedDeviceKey> Keys
        {
            get
            {
                lock (_keys)
                {
                    return [.. _keys];
                }
            }
        }

        public Task AddAsync(IReadOnlyList<SealedDeviceKey> keys, CancellationToken cancellationToken)
        {
            lock (_keys)
            {
                _keys.AddRange(keys);
            }

            return Task.CompletedTask;
        }

        /// <summary>How long a take's answer takes to come back after the keys left the store (a database round trip).</summary>
        public TimeSpan TakeDelay { get; set; }

        public async Task<IReadOnlyList<SealedDeviceKey>> TakeAsync(KeyAlgorithm algorithm, int count, CancellationToken cancellationToken)
        {
            List<SealedDeviceKey> taken;
            lock (_keys)
            {
                taken = _keys.Where(k => k.Algorithm == algorithm).Take(count).ToList();
                taken.ForEach(k => _keys.Remove(k));
            }

            if (TakeDelay > TimeSpan.Zero)
            {
                await Task.Delay(TakeDelay, cancellationToken);
            }

            return taken;
        }

        public Task<int> CountAsync(KeyAlgorithm algorithm, CancellationToken cancellationToken)
        {
            lock (_keys)
            {
                return Task.FromResult(_keys.Count(k => k.Algorithm == algorithm));
            }
        }

        public Task<int> DeleteUnsealedAsync(CancellationToken cancellationToken)
        {
            lock (_keys)
            {
                return Task.FromResult(_keys.RemoveAll(k => k.KekSalt is null));
            }
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(20), "condition not met in time");
            await Task.Delay(10);
        }
    }
}
