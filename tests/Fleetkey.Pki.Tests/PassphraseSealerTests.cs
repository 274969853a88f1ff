using System.Security.Cryptography;
using System.Text;
using Xunit;

namespace Fleetkey.Pki.Tests;

public sealed class PassphraseSealerTests
{
    private static readonly byte[] Secret = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
    private static readonly byte[] Context = Encoding.UTF8.GetBytes("fleetkey:enrollment:SN-1");

    [Fact]
    public void Seal_WithPassphrase_EncryptsAndOpensOnAnyNodeWithThePassphrase()
    {
        var sealedSecret = new PassphraseSealer("correct horse").Seal(Secret, Context);

        Assert.NotNull(sealedSecret.KekSalt);
        Assert.Equal(1 + 12 + 16 + Secret.Length, sealedSecret.Data.Length);
        Assert.False(sealedSecret.Data.AsSpan().IndexOf(Secret.AsSpan(0, 8)) >= 0, "the secret must not be in the sealed data");

        // Another node (its own random salt) with the same passphrase opens it.
        Assert.Equal(Secret, new PassphraseSealer("correct horse").Open(sealedSecret, Context));
    }

    [Fact]
    public void Open_WrongPassphraseContextOrTampering_IsRefused()
    {
        var sealer = new PassphraseSealer("correct horse");
        var sealedSecret = sealer.Seal(Secret, Context);

        Assert.Null(new PassphraseSealer("battery staple").Open(sealedSecret, Context));
        Assert.Null(new PassphraseSealer(null).Open(sealedSecret, Context));
        Assert.Null(sealer.Open(sealedSecret, Encoding.UTF8.GetBytes("fleetkey:enrollment:SN-2")));
        var tampered = (byte[])sealedSecret.Data.Clone();
        tampered[^1] ^= 1;
        Assert.Null(sealer.Open(sealedSecret with { Data = tampered }, Context));
        Assert.Null(sealer.Open(sealedSecret with { Data = sealedSecret.Data[..20] }, Context));
    }

    [Fact]
    public void Seal_WithoutPassphrase_KeepsTheSecretInTheClear()
    {
        var sealer = new PassphraseSealer(null);

        var sealedSecret = sealer.Seal(Secret, Context);

        Assert.False(sealer.Encrypts);
        Assert.Null(sealedSecret.KekSalt);
        Assert.Equal(Secret, sealedSecret.Data);
        Assert.Equal(Secret, sealer.Open(sealedSecret, Context));

        // A secret stored in the clear still opens once a passphrase is configured.
        Assert.Equal(Secret, new PassphraseSealer("correct horse").Open(sealedSecret, Context));
    }

    [Fact]
    public void Seal_SameSecretTwice_UsesFreshNonces()
    {
        var sealer = new PassphraseSealer("correct horse");

        var a = sealer.Seal(Secret, Context);
        var b = sealer.Seal(Secret, Context);

        Assert.False(CryptographicOperations.FixedTimeEquals(a.Data, b.Data));
    }
}
