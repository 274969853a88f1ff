using Xunit;

namespace Fleetkey.Pki.Tests;

public sealed class FileCaMaterialStoreTests
{
    [Fact]
    public async Task LoadAsync_MissingDirectory_ReturnsNull()
    {
        using var directory = new TempDirectory();
        var store = new FileCaMaterialStore(directory.File("ca"));

        Assert.Null(await store.LoadAsync(CancellationToken.None));
    }

    [Fact]
    public async Task LoadOrCreateAsync_FileStore_WritesFilesWithPrivateModesAndReloads()
    {
        using var directory = new TempDirectory();
        var store = new FileCaMaterialStore(directory.File(Path.Combine("data", "ca")));
        string issuingId;
        using (var created = await TestCa.CreateAsync(store: store))
        {
            issuingId = created.IssuingCertificateId;
            Assert.Equal(created.Root.ExportCertificatePem() + "\n", await File.ReadAllTextAsync(Path.Combine(store.Directory, "root.pem")));
            Assert.Equal(created.Issuing.ExportCertificatePem() + "\n", await File.ReadAllTextAsync(Path.Combine(store.Directory, "issuing.pem")));
        }

        Assert.Equal(["issuing.key", "issuing.pem", "root.key", "root.pem"], Directory.GetFiles(store.Directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", await File.ReadAllTextAsync(Path.Combine(store.Directory, "issuing.key")), StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(store.Directory));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(store.Directory, "root.key")));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(store.Directory, "issuing.key")));
        }

        // No staging directory left next to the CA.
        Assert.Equal([store.Directory], Directory.GetDirectories(directory.File("data")));
        var material = await store.LoadAsync(CancellationToken.None);
        Assert.NotNull(material);
        Assert.False(material.KeysEncrypted);
        using var loaded = await TestCa.CreateAsync(store: store);
        Assert.Equal(issuingId, loaded.IssuingCertificateId);
    }

    [Fact]
    public async Task LoadOrCreateAsync_FileStoreWithPassphrase_KeyFilesHoldOnlyEncryptedKeys()
    {
        using var directory = new TempDirectory();
        var store = new FileCaMaterialStore(directory.File("ca"));
        using (await TestCa.CreateAsync(store: store, configure: o => o.Passphrase = "s3cret passphrase"))
        {
        }

        foreach (var name in new[] { "root.key", "issuing.key" })
        {
            var text = await File.ReadAllTextAsync(Path.Combine(store.Directory, name));
            Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----", text, StringComparison.Ordinal);
            Assert.DoesNotContain("-----BEGIN PRIVATE KEY-----", text, StringComparison.Ordinal);
            Assert.DoesNotContain("s3cret", text, StringComparison.Ordinal);
        }

        Assert.True((await store.LoadAsync(CancellationToken.None))!.KeysEncrypted);
        var error = await Assert.ThrowsAsync<PkiException>(() => TestCa.CreateAsync(store: store));
        Assert.Equal(PkiError.CaLocked, error.Error);
    }

    [Fact]
    public async Task SaveAsync_ExistingDirectory_ReplacesFilesKeepingModes()
    {
        using var directory = new TempDirectory();
        var store = new FileCaMaterialStore(directory.File("ca"));
        await store.SaveAsync(new CaMaterial("root1", "key1", "issuing1", "ikey1", KeysEncrypted: false), CancellationToken.None);

        await store.SaveAsync(new CaMaterial("root2", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAA==\n-----END ENCRYPTED PRIVATE KEY-----\n", "issuing2", "ikey2", KeysEncrypted: true), CancellationToken.None);

        var material = await store.LoadAsync(CancellationToken.None);
        Assert.Equal("root2", material!.RootCertificatePem);
        Assert.Equal("ikey2", material.IssuingKeyPem);
        Assert.True(material.KeysEncrypted);
        Assert.Equal(4, Directory.GetFiles(store.Directory).Length);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(store.Directory, "root.key")));
        }
    }

    [Fact]
    public async Task LoadAsync_PartialMaterial_ThrowsNamingMissingFiles()
    {
        using var directory = new TempDirectory();
        var store = new FileCaMaterialStore(directory.File("ca"));
        await store.SaveAsync(new CaMaterial("root", "key", "issuing", "ikey", KeysEncrypted: false), CancellationToken.None);
        File.Delete(Path.Combine(store.Directory, "issuing.key"));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => store.LoadAsync(CancellationToken.None));

        Assert.Contains("issuing.key", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidOperationException>(() => TestCa.CreateAsync(store: store));
        Assert.False(File.Exists(Path.Combine(store.Directory, "issuing.key")));
    }
}
