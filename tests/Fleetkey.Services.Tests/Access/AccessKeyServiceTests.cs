using Fleetkey.Core.Errors;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Access;
using Xunit;

namespace Fleetkey.Services.Tests.Access;

public sealed class AccessKeyServiceTests : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly ServiceDatabase _db = new();

    public Task InitializeAsync() => _db.InitializeAsync();

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    private AccessKeyService Keys => _db.AccessKeys;

    private static AccessKey Key(string id = "AKIAFLEETKEYTEST0001", string secret = "0123456789abcdef0123456789abcdef01234567", string? description = null) =>
        new(id, secret, description, ServiceDatabase.Start);

    [Fact]
    public async Task CreateAsync_New_HasAwsShapedIdAndFortyCharacterSecret()
    {
        var key = await Keys.CreateAsync("ci", [], fullAccess: false, None);

        Assert.Matches("^AKIA[A-Z2-7]{16}$", key.AccessKeyId);
        Assert.Matches("^[A-Za-z0-9+/]{40}$", key.SecretAccessKey);
        Assert.Equal("ci", key.Description);
        Assert.Equal(ServiceDatabase.Start, key.CreatedAt);
    }

    [Fact]
    public async Task CreateAsync_New_IsStored()
    {
        var key = await Keys.CreateAsync(null, [], fullAccess: false, None);

        Assert.Equal(key, await Keys.FindAsync(key.AccessKeyId, None));
        Assert.True(await Keys.AnyAsync(None));
    }

    [Fact]
    public async Task CreateAsync_Many_AreWellFormedAndDistinct()
    {
        var keys = new List<AccessKey>();
        for (var i = 0; i < 20; i++)
        {
            keys.Add(await Keys.CreateAsync(null, [], fullAccess: false, None));
        }

        Assert.All(keys, key => Assert.Matches("^AKIA[A-Z2-7]{16}$", key.AccessKeyId));
        Assert.All(keys, key => Assert.Matches("^[A-Za-z0-9+/]{40}$", key.SecretAccessKey));
        Assert.Equal(20, keys.Select(k => k.AccessKeyId).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(20, keys.Select(k => k.SecretAccessKey).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(20, (await Keys.ListAsync(None)).Count);
    }

    [Fact]
    public async Task ImportAsync_Valid_StoresAsGiven()
    {
        var key = Key(description: "root");

        var imported = await Keys.ImportAsync(key, None);

        Assert.Equal(key, imported);
        Assert.Equal(key, await Keys.FindAsync(key.AccessKeyId, None));
    }

    [Theory]
    [InlineData(16)]
    [InlineData(128)]
    public async Task ImportAsync_IdLengthAtBounds_Succeeds(int length)
    {
        var key = Key(id: new string('A', length));

        await Keys.ImportAsync(key, None);

        Assert.NotNull(await Keys.FindAsync(key.AccessKeyId, None));
    }

    [Theory]
    [InlineData("")]
    [InlineData("AKIA12345678901")]
    [InlineData("AKIA-FLEETKEY-TEST")]
    [InlineData("AKIA_FLEETKEY_TEST")]
    [InlineData("AKIAFLEETKEYTEST 1")]
    [InlineData("AKIAFLEETKEYTESTÄ")]
    [InlineData("AKIAFLEETKEYTEST٣")]
    public async Task ImportAsync_InvalidId_ThrowsInvalidRequestAndStoresNothing(string id)
    {
        await ServiceAssert.ThrowsAsync(
            ErrorCode.InvalidRequest, () => Keys.ImportAsync(Key(id: id), None), "An access key id is 16 to 128 ASCII letters and digits.");

        Assert.False(await Keys.AnyAsync(None));
    }

    [Fact]
    public async Task ImportAsync_IdOf129_ThrowsInvalidRequest()
    {
        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => Keys.ImportAsync(Key(id: new string('A', 129)), None));

        Assert.False(await Keys.AnyAsync(None));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0123456789abcde")]
    public async Task ImportAsync_ShortSecret_ThrowsInvalidRequestAndStoresNothing(string secret)
    {
        await ServiceAssert.ThrowsAsync(
            ErrorCode.InvalidRequest, () => Keys.ImportAsync(Key(secret: secret), None), "A secret access key is at least 16 characters.");

        Assert.False(await Keys.AnyAsync(None));
    }

    [Fact]
    public async Task ImportAsync_SecretOf16_Succeeds()
    {
        await Keys.ImportAsync(Key(secret: "0123456789abcdef"), None);

        Assert.True(await Keys.AnyAsync(None));
    }

    [Fact]
    public async Task ImportAsync_DuplicateId_ThrowsResourceAlreadyExistsAndKeepsOriginal()
    {
        await Keys.ImportAsync(Key(), None);

        await ServiceAssert.ThrowsAsync(
            ErrorCode.ResourceAlreadyExists, () => Keys.ImportAsync(Key(secret: "another-secret-of-enough-length"), None), "Access key AKIAFLEETKEYTEST0001 already exists.");

        Assert.Equal(Key(), await Keys.FindAsync("AKIAFLEETKEYTEST0001", None));
        Assert.Single(await Keys.ListAsync(None));
    }

    [Fact]
    public async Task DeleteAsync_Existing_RemovesAndReturnsTrue()
    {
        await Keys.ImportAsync(Key(), None);
        var other = await Keys.CreateAsync(null, [], fullAccess: false, None);

        Assert.True(await Keys.DeleteAsync("AKIAFLEETKEYTEST0001", None));

        Assert.Null(await Keys.FindAsync("AKIAFLEETKEYTEST0001", None));
        Assert.Equal([other.AccessKeyId], (await Keys.ListAsync(None)).Select(k => k.AccessKeyId));
    }

    [Fact]
    public async Task DeleteAsync_Missing_ReturnsFalse()
    {
        Assert.False(await Keys.DeleteAsync("AKIAFLEETKEYTEST0001", None));
    }

    [Fact]
    public async Task FindAsync_Missing_ReturnsNull()
    {
        Assert.Null(await Keys.FindAsync("AKIAFLEETKEYTEST0001", None));
    }

    [Fact]
    public async Task FindAsync_IdInOtherCase_ReturnsNull()
    {
        await Keys.ImportAsync(Key(), None);

        Assert.Null(await Keys.FindAsync("akiafleetkeytest0001", None));
    }

    [Fact]
    public async Task ListAsync_Keys_OrderedByCreationTime()
    {
        var first = await Keys.CreateAsync("first", [], fullAccess: false, None);
        _db.Time.Advance(TimeSpan.FromSeconds(1));
        var second = await Keys.CreateAsync("second", [], fullAccess: false, None);

        var listed = await Keys.ListAsync(None);
        Assert.Equal([first.AccessKeyId, second.AccessKeyId], listed.Select(k => k.AccessKeyId));
        Assert.All(listed, k => Assert.Empty(k.SecretAccessKey));
    }

    [Fact]
    public async Task AnyAsync_EmptyStore_ReturnsFalse()
    {
        Assert.False(await Keys.AnyAsync(None));
    }
}
