using System.Collections.Concurrent;
using System.Security.Cryptography;
using Fleetkey.Testing;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Fleetkey.Pki.Tests;

/// <remarks>
/// No test here races the wall clock: a test waits for the pool's own signal (<see cref="DeviceKeyPool.NextChange"/>)
/// or for a callback the pool makes, and where time matters the pool gets a <see cref="FakeTimeProvider"/>.
/// </remarks>
public sealed class DeviceKeyPoolTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Take_AfterWarmUp_ServesPooledKeysAndRefills()
    {
        using var pool = Started(new DeviceKeyPool(KeyAlgorithm.EcP256, capacity: 3));
        await Signals.WaitUntilAsync(() => pool.NextChange, () => pool.Available == 3);

        using var first = await pool.TakeAsync(None);
        Assert.Equal((1, 0), pool.HandedOut);

        // The take wakes the generator, which makes one key to replace it.
        await Signals.WaitUntilAsync(() => pool.NextChange, () => pool.Generated == 4 && pool.Available == 3);

        using var second = await pool.TakeAsync(None);
        Assert.Equal(KeyAlgorithm.EcP256, first.Algorithm);
        Assert.Equal(256, first.PublicKey.GetECDsaPublicKey()!.KeySize);
        Assert.NotEqual(first.PublicKey.ExportSubjectPublicKeyInfo(), second.PublicKey.ExportSubjectPublicKeyInfo());
    }

    [Fact]
    public async Task Take_WarmRsaPool_HandsOutKeysGeneratedBeforeAndGeneratesNone()
    {
        // Busy after the warm-up: the generator makes no replacement while the keys are taken.
        var busy = 0;
        using var pool = new DeviceKeyPool(KeyAlgorithm.Rsa2048, capacity: 3, firstTranche: 0);
        pool.Start(() => Volatile.Read(ref busy) == 0);
        await Signals.WaitUntilAsync(() => pool.NextChange, () => pool.Available == 3);
        Volatile.Write(ref busy, 1);

        // A pooled key is whole (a DeviceKey holds its PKCS#1 numbers, never a provider that would
        // generate on first use): no take generates, and each is a distinct, consistent 2,048-bit key.
        var keys = new List<DeviceKey>();
        for (var i = 0; i < 3; i++)
        {
            keys.Add(await pool.TakeAsync(None));
        }

        Assert.Equal((3L, 0L), pool.HandedOut);
        Assert.Equal(3, pool.Generated);
        Assert.All(keys, k => Assert.Equal(2048, k.PublicKey.GetRSAPublicKey()!.KeySize));
        Assert.All(keys, k => Assert.NotNull(DeviceKey.FromPkcs8(KeyAlgorithm.Rsa2048, k.ExportPkcs8())));
        Assert.Equal(3, keys.Select(k => Convert.ToBase64String(k.PublicKey.ExportSubjectPublicKeyInfo())).Distinct(StringComparer.Ordinal).Count());
        keys.ForEach(k => k.Dispose());
    }

    [Fact]
    public async Task Take_NoPool_GeneratesInline()
    {
        using var pool = Started(new DeviceKeyPool(KeyAlgorithm.Rsa2048, capacity: 0));

        using var key = await pool.TakeAsync(None);

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
            keys.Add(await pool.TakeAsync(None));
        }

        Assert.Equal(4, keys.Select(k => Convert.ToBase64String(k.PublicKey.ExportSubjectPublicKeyInfo())).Distinct(StringComparer.Ordinal).Count());
        keys.ForEach(k => k.Dispose());
    }

    [Fact]
    public async Task Dispose_WhileGenerating_StopsAndRefusesTakes()
    {
        var pool = Started(new DeviceKeyPool(KeyAlgorithm.Rsa2048, capacity: 64));
        await Signals.WaitUntilAsync(() => pool.NextChange, () => pool.Generated > 0);

        // Dispose waits for a generation in progress (at most a second); it must return, not hang.
        pool.Dispose();
        pool.Dispose();

        Assert.Equal(0, pool.Available);
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await pool.TakeAsync(None));
    }

    [Fact]
    public async Task Start_ServerBusyFromTheFirstRequest_TheFirstTakeGetsAKeyOfTheFirstTranche()
    {
        // Issue 17: the generator ran only while the server was idle, so a client calling a fresh
        // server back to back generated every key itself. The first tranche is made regardless.
        var firstIdleCheck = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var pool = new DeviceKeyPool(KeyAlgorithm.EcP256, capacity: 8, firstTranche: 4);
        pool.Start(() =>
        {
            firstIdleCheck.TrySetResult();
            return false;
        });

        // It asks whether the server is idle only once the tranche is made.
        await firstIdleCheck.Task;
        Assert.Equal(4, pool.Available);

        using var key = await pool.TakeAsync(None);
        Assert.Equal((1L, 0L), pool.HandedOut);
    }

    [Fact]
    public async Task Start_WhileServerBusy_GeneratesNothingBeyondTheFirstTrancheUntilIdle()
    {
        var idle = 0;
        var checks = 0;
        var askedOnce = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var askedTwice = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var becameIdle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var pool = new DeviceKeyPool(KeyAlgorithm.EcP256, capacity: 6, firstTranche: 2);
        pool.Start(
            () =>
            {
                var check = Interlocked.Increment(ref checks);
                (check == 1 ? askedOnce : askedTwice).TrySetResult();
                return Volatile.Read(ref idle) == 1;
            },
            whenIdle: ct => becameIdle.Task.WaitAsync(ct));

        // Told that the server is busy once the tranche is made, it waits; a take wakes it, and told
        // again that the server is busy, it makes no key beyond the tranche.
        await askedOnce.Task;
        Assert.Equal(2, pool.Generated);
        using (await pool.TakeAsync(None))
        {
        }

        await askedTwice.Task;
        Assert.Equal(2, pool.Generated);

        // The host's signal that the server is idle wakes it, and it fills the pool.
        Volatile.Write(ref idle, 1);
        becameIdle.SetResult();
        await Signals.WaitUntilAsync(() => pool.NextChange, () => pool.Available == 6);
        Assert.Equal(7, pool.Generated);
    }

    [Fact]
    public async Task Persistent_FillsStoreBehindBuffer_AndStopPutsBufferBack()
    {
        var store = new MemoryKeyStore();
        using (var pool = new DeviceKeyPool(KeyAlgorithm.EcP256, capacity: 20, store, bufferSize: 4))
        {
            await pool.PrepareAsync(None);
            pool.Start();
            await Signals.WaitUntilAsync(() => pool.NextChange, () => pool.Buffered == 4 && store.Count == 16);

            using var key = await pool.TakeAsync(None);
            Assert.Equal((1, 0), pool.HandedOut);

            // The pool refills to its capacity, not beyond it.
            await Signals.WaitUntilAsync(() => pool.NextChange, () => pool.Buffered == 4 && pool.Available == 20);
            await pool.StopAsync(None);
        }

        Assert.Equal(20, store.Count);
        Assert.Equal(20, store.Keys.Select(k => Convert.ToBase64String(k.Data)).Distinct(StringComparer.Ordinal).Count());
        Assert.All(store.Keys, k => Assert.Null(k.KekSalt));

        // A new pool (a restart) starts from the stored keys and generates none.
        using var restarted = new DeviceKeyPool(KeyAlgorithm.EcP256, capacity: 20, store, bufferSize: 4);
        await restarted.PrepareAsync(None);
        Assert.Equal(20, restarted.Stored);
        restarted.Start();
        await Signals.WaitUntilAsync(() => restarted.NextChange, () => restarted.Buffered == 4);
        Assert.Equal(0, restarted.Generated);
    }

    [Fact]
    public async Task Persistent_EmptyBufferWithStoredKeys_TakesABatchFromTheStoreInsteadOfGenerating()
    {
        const int Total = DeviceKeyPool.DirectTakeBatch + 12;
        var store = new MemoryKeyStore();
        using (var filler = new DeviceKeyPool(KeyAlgorithm.EcP256, capacity: Total, store, bufferSize: 1))
        {
            await filler.PrepareAsync(None);
            filler.Start();
            await Signals.WaitUntilAsync(() => filler.NextChange, () => filler.Available == Total);
            await filler.StopAsync(None);
        }

        Assert.Equal(Total, store.Count);

        // Not started: nothing tops the buffer up, as in a burst that outruns the prefetch.
        using var pool = new DeviceKeyPool(KeyAlgorithm.EcP256, capacity: Total, store, bufferSize: 16);
        await pool.PrepareAsync(None);
        Assert.Equal(0, pool.Buffered);

        using var first = await pool.TakeAsync(None);
        Assert.Equal((1L, 0L), pool.HandedOut);
        Assert.Equal(Total - DeviceKeyPool.DirectTakeBatch, store.Count);
        Assert.Equal(DeviceKeyPool.DirectTakeBatch - 1, pool.Buffered);

        // The rest of the batch serves the next requests; then the store again; never a generated key.
        var keys = new List<DeviceKey>();
        for (var i = 0; i < Total - 1; i++)
        {
            keys.Add(await pool.TakeAsync(None));
        }

        Assert.Equal(((long)Total, 0L), pool.HandedOut);
        Assert.Equal(0, pool.Generated);
        Assert.Equal(0, store.Count);
        Assert.Equal(Total, keys.Append(first).Select(k => Convert.ToBase64String(k.PublicKey.ExportSubjectPublicKeyInfo())).Distinct(StringComparer.Ordinal).Count());

        // The pool is empty now: the next key is generated on demand.
        using var generated = await pool.TakeAsync(None);
        Assert.Equal(((long)Total, 1L), pool.HandedOut);
        keys.ForEach(k => k.Dispose());
    }

    [Fact]
    public async Task Persistent_ConcurrentTakesWhileABatchIsOnItsWay_WaitForItInsteadOfGenerating()
    {
        var store = new MemoryKeyStore();
        await store.AddGeneratedAsync(KeyAlgorithm.EcP256, DeviceKeyPool.DirectTakeBatch);

        // One request's batch takes every stored key; the others find the store empty while those
        // keys are still on their way to the buffer (as at the end of a burst). The clock stands still:
        // no request has waited as long as a generation takes, so each waits for the batch.
        var landing = new TaskCompletionSource();
        store.HoldAnswers(landing.Task, DeviceKeyPool.DirectTakeBatch);
        using var pool = new DeviceKeyPool(KeyAlgorithm.EcP256, capacity: DeviceKeyPool.DirectTakeBatch, store, bufferSize: 16, time: new FakeTimeProvider());
        await pool.PrepareAsync(None);

        var takes = Enumerable.Range(0, DeviceKeyPool.DirectTakeBatch).Select(_ => pool.TakeAsync(None).AsTask()).ToList();
        landing.SetResult();
        var keys = await Task.WhenAll(takes);

        Assert.Equal(((long)DeviceKeyPool.DirectTakeBatch, 0L), pool.HandedOut);
        Assert.Equal(DeviceKeyPool.DirectTakeBatch, keys.Select(k => Convert.ToBase64String(k.PublicKey.ExportSubjectPublicKeyInfo())).Distinct(StringComparer.Ordinal).Count());
        Array.ForEach(keys, k => k.Dispose());
    }

    [Fact]
    public async Task Persistent_BatchOnItsWayLongerThanAGenerationTakes_TheRequestGeneratesItsOwnKey()
    {
        var store = new MemoryKeyStore();
        await store.AddGeneratedAsync(KeyAlgorithm.Rsa2048, 1);
        var landing = new TaskCompletionSource();
        store.HoldAnswers(landing.Task, 1);
        var clock = new FakeTimeProvider();
        using var pool = new DeviceKeyPool(KeyAlgorithm.Rsa2048, capacity: 4, store, bufferSize: 2, time: clock);
        await pool.PrepareAsync(None);

        // The first request takes the only stored key, and its answer is held up (a busy writer);
        // the second finds the store empty with that key on its way, and waits for it ...
        var first = pool.TakeAsync(None).AsTask();
        var second = pool.TakeAsync(None).AsTask();
        Assert.False(second.IsCompleted);

        // ... but not longer than generating its own would take (issue 17: up to 5 s).
        clock.Advance(KeyGenerationTime.Typical(KeyAlgorithm.Rsa2048));
        using (var own = await second)
        {
            Assert.Equal((0L, 1L), pool.HandedOut);
        }

        landing.SetResult();
        using var pooled = await first;
        Assert.Equal((1L, 1L), pool.HandedOut);
    }

    [Fact]
    public void GenerationTime_StartsAtTheTypicalFigure_AndFollowsMeasurementsSmoothly()
    {
        var time = new KeyGenerationTime(KeyAlgorithm.Rsa2048);
        Assert.Equal(TimeSpan.FromMilliseconds(200), time.Current);
        Assert.Equal(TimeSpan.FromMilliseconds(1), new KeyGenerationTime(KeyAlgorithm.EcP256).Current);

        // One slow key moves it by an eighth of the difference; a run of them brings it there.
        time.Record(TimeSpan.FromMilliseconds(1000));
        Assert.Equal(TimeSpan.FromMilliseconds(300), time.Current);
        for (var i = 0; i < 100; i++)
        {
            time.Record(TimeSpan.FromMilliseconds(1000));
        }

        Assert.InRange(time.Current, TimeSpan.FromMilliseconds(999), TimeSpan.FromMilliseconds(1000));
    }

    [Fact]
    public async Task Persistent_WithPassphrase_StoresOnlySealedKeysAndDropsOldPlainOnes()
    {
        var store = new MemoryKeyStore();
        using var plain = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await store.AddAsync([new SealedDeviceKey(KeyAlgorithm.EcP256, plain.ExportPkcs8PrivateKey(), null)], None);
        using var pool = new DeviceKeyPool(KeyAlgorithm.EcP256, capacity: 12, store, bufferSize: 2, passphrase: "correct horse");

        Assert.Equal(1, await pool.PrepareAsync(None));
        pool.Start();
        await Signals.WaitUntilAsync(() => pool.NextChange, () => store.Count == 10);

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
        private readonly Lock _keysLock = new();
        private readonly ConcurrentQueue<Task> _heldAnswers = new();

        public int Count
        {
            get
            {
                lock (_keysLock)
                {
                    return _keys.Count;
                }
            }
        }

        public List<SealedDeviceKey> Keys
        {
            get
            {
                lock (_keysLock)
                {
                    return [.. _keys];
                }
            }
        }

        public Task AddAsync(IReadOnlyList<SealedDeviceKey> keys, CancellationToken cancellationToken)
        {
            lock (_keysLock)
            {
                _keys.AddRange(keys);
            }

            return Task.CompletedTask;
        }

        /// <summary>The next <paramref name="takes"/> takes remove their keys at once and answer when <paramref name="answer"/> completes (a database round trip).</summary>
        public void HoldAnswers(Task answer, int takes)
        {
            for (var i = 0; i < takes; i++)
            {
                _heldAnswers.Enqueue(answer);
            }
        }

        public async Task AddGeneratedAsync(KeyAlgorithm algorithm, int count)
        {
            var sealer = new DeviceKeySealer(null);
            for (var i = 0; i < count; i++)
            {
                using var key = DeviceKey.Generate(algorithm);
                await AddAsync([sealer.Seal(key)], None);
            }
        }

        public async Task<IReadOnlyList<SealedDeviceKey>> TakeAsync(KeyAlgorithm algorithm, int count, CancellationToken cancellationToken)
        {
            List<SealedDeviceKey> taken;
            lock (_keysLock)
            {
                taken = _keys.Where(k => k.Algorithm == algorithm).Take(count).ToList();
                taken.ForEach(k => _keys.Remove(k));
            }

            if (_heldAnswers.TryDequeue(out var answer))
            {
                await answer.WaitAsync(cancellationToken);
            }

            return taken;
        }

        public Task<int> CountAsync(KeyAlgorithm algorithm, CancellationToken cancellationToken)
        {
            lock (_keysLock)
            {
                return Task.FromResult(_keys.Count(k => k.Algorithm == algorithm));
            }
        }

        public Task<int> DeleteUnsealedAsync(CancellationToken cancellationToken)
        {
            lock (_keysLock)
            {
                return Task.FromResult(_keys.RemoveAll(k => k.KekSalt is null));
            }
        }
    }
}
