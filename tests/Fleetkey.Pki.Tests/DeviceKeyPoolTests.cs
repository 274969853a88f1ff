using System.Diagnostics;
using System.Security.Cryptography;
using Xunit;

namespace Fleetkey.Pki.Tests;

public sealed class DeviceKeyPoolTests
{
    [Fact]
    public async Task Take_AfterWarmUp_ServesPooledKeysAndRefills()
    {
        using var pool = new DeviceKeyPool(KeyAlgorithm.EcP256, capacity: 3);
        await WaitUntilAsync(() => pool.Available == 3);

        using var first = pool.Take();
        Assert.InRange(pool.Available, 0, 2);
        await WaitUntilAsync(() => pool.Available == 3);

        using var second = pool.Take();
        var a = Assert.IsAssignableFrom<ECDsa>(first);
        var b = Assert.IsAssignableFrom<ECDsa>(second);
        Assert.Equal(256, a.KeySize);
        Assert.NotEqual(a.ExportSubjectPublicKeyInfo(), b.ExportSubjectPublicKeyInfo());
    }

    [Fact]
    public async Task Take_WarmRsaPool_ReturnsAlreadyGeneratedKeys()
    {
        using var pool = new DeviceKeyPool(KeyAlgorithm.Rsa2048, capacity: 3);
        await WaitUntilAsync(() => pool.Available == 3);

        // RSA.Create(2048) defers generation to first use; a pooled key must not. The fastest of three
        // takes stays far below one RSA-2048 generation (~50 ms at best here) even on a loaded machine.
        var fastest = TimeSpan.MaxValue;
        for (var i = 0; i < 3; i++)
        {
            var watch = Stopwatch.StartNew();
            using var key = pool.Take();
            _ = key.ExportSubjectPublicKeyInfo();
            fastest = watch.Elapsed < fastest ? watch.Elapsed : fastest;
        }

        Assert.True(fastest < TimeSpan.FromMilliseconds(20), $"fastest pooled take {fastest.TotalMilliseconds} ms");
    }

    [Fact]
    public void Take_NoPool_GeneratesInline()
    {
        using var pool = new DeviceKeyPool(KeyAlgorithm.Rsa2048, capacity: 0);

        using var key = pool.Take();

        Assert.Equal(2048, Assert.IsAssignableFrom<RSA>(key).KeySize);
        Assert.Equal(0, pool.Available);
    }

    [Fact]
    public void Take_EmptyPool_GeneratesInline()
    {
        using var pool = new DeviceKeyPool(KeyAlgorithm.Rsa2048, capacity: 1);

        // More keys than the pool holds, at once: whatever is not pooled is made on the spot.
        var keys = Enumerable.Range(0, 4).Select(_ => pool.Take()).ToList();

        Assert.Equal(4, keys.Select(k => Convert.ToBase64String(k.ExportSubjectPublicKeyInfo())).Distinct(StringComparer.Ordinal).Count());
        keys.ForEach(k => k.Dispose());
    }

    [Fact]
    public async Task Dispose_WhileGenerating_StopsPromptlyAndRefusesTakes()
    {
        var pool = new DeviceKeyPool(KeyAlgorithm.Rsa2048, capacity: 64);
        await Task.Delay(50);
        var watch = Stopwatch.StartNew();

        pool.Dispose();
        pool.Dispose();

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"Dispose took {watch.Elapsed}");
        Assert.Equal(0, pool.Available);
        Assert.Throws<ObjectDisposedException>(() => pool.Take());
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
