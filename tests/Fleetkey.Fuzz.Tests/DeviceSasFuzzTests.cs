using System.Globalization;
using CsCheck;
using Fleetkey.Services.Devices;
using Xunit;

namespace Fleetkey.Fuzz.Tests;

/// <summary>
/// <c>device.sas</c>: the device endpoint's credential, <see cref="SharedAccessSignature"/>, which anyone
/// on the network can send. Properties: parsing any header never throws and yields a 32-byte signature;
/// a header that verifies under a key says exactly what was signed with it (no second reading of one
/// token: a mutation that still verifies must decode to the same serial, expiry text and signature).
/// </summary>
public sealed class DeviceSasFuzzTests
{
    private const string Target = "device.sas";

    private static readonly byte[] Key = Convert.FromHexString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

    // Serial numbers as the registry allows them, and a few that it does not.
    private static readonly Gen<string> Serial = Gen.OneOf(
        Gen.String[Gen.Char["abcXYZ0189:_-"], 1, 40],
        Gen.String[Gen.Char["a+/=&%é \n"], 1, 12],
        Gen.OneOf("SN-0001", "a", new string('x', 128), "sr=x", "x&sig=y"));

    private static readonly Gen<long> Expiry = Gen.OneOf(Gen.Long[0, 99_999_999_999], Gen.OneOf(0L, 1L, 999_999_999_999L));

    // Pieces of headers: the scheme, fields, separators, percent escapes, base64, and bytes no header should hold.
    private static readonly Gen<string> Header = Gen.OneOf(
        Gen.String,
        Gen.OneOf(
                SharedAccessSignature.Scheme + " ", "sr=", "se=", "sig=", "&", "=", "%", "%2B", "%2b", "%3D", "%26", "%00", "%ZZ", "%C3%A9", "%ED%A0%80",
                "SN-1", "1700000000", "0", "-1", "+", "/", "==", " ", "\t", "\n", "AAAA", new string('A', 43) + "=", new string('A', 44), "é", "\uD800")
            .Array[0, 16]
            .Select(parts => string.Concat(parts)));

    [Fact]
    public void TryParse_AnyHeader_NeverThrowsAndParsedTokensAreWellFormed()
    {
        Fuzz.Run(Target, Header, header =>
        {
            if (!SharedAccessSignature.TryParse(header, out var token))
            {
                return;
            }

            Assert.Equal(SharedAccessSignature.SignatureLength, token.Signature.Length);
            Assert.True(token.Expiry >= 0);
            Assert.Equal(token.Expiry.ToString(CultureInfo.InvariantCulture), token.ExpiryText.TrimStart('0').PadLeft(1, '0'));
            Assert.False(string.IsNullOrEmpty(token.Resource));
            Assert.Equal(64, token.ReplayKey().Length);
            _ = token.IsSignedWith(Key);
        }, cases: 15_000);
    }

    [Fact]
    public void TryParse_SignedHeaderMutated_VerifiesOnlyWhenItSaysWhatWasSigned()
    {
        // (serial, expiry, mutations): each mutation is (position, kind, value).
        var gen = Gen.Select(Serial, Expiry, Gen.Int.Array[0, 4]);
        Fuzz.Run(Target, gen, input =>
        {
            var (serial, expiry, mutations) = input;
            var header = SharedAccessSignature.Create(Key, serial, expiry);
            Assert.True(SharedAccessSignature.TryParse(header, out var original) || header.Length > SharedAccessSignature.MaxHeaderLength, header);
            if (original is not null)
            {
                Assert.Equal((serial, expiry), (original.Resource, original.Expiry));
                Assert.True(original.IsSignedWith(Key));
            }

            var mutated = Mutate(header, mutations);
            if (SharedAccessSignature.TryParse(mutated, out var token) && token.IsSignedWith(Key))
            {
                Assert.Equal(
                    (serial, expiry.ToString(CultureInfo.InvariantCulture), Convert.ToBase64String(original!.Signature)),
                    (token.Resource, token.ExpiryText, Convert.ToBase64String(token.Signature)));
            }
        }, cases: 10_000);
    }

    [Theory]
    [InlineData("SharedAccessSignature sr=SN-1&se=1&sig=" + "%ED%A0%80")]
    [InlineData("SharedAccessSignature sr=SN-1&se=0001&sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=&")]
    [InlineData("SharedAccessSignature sr=SN-1&sr=SN-2&se=1&sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("SharedAccessSignature sr=SN-1&se=9999999999999&sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("SharedAccessSignature sr=SN-1&se=1&sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==")]
    public void TryParse_MalformedHeader_Refused(string header)
    {
        Assert.False(SharedAccessSignature.TryParse(header, out _));
    }

    private static string Mutate(string header, int[] edits)
    {
        const string Alphabet = "&=%+/ 0129AZaz-_:.2BbDd\u00e9";
        return new string(Mutations.Apply(header.ToCharArray(), edits, value => Alphabet[(int)(value >> 8) % Alphabet.Length]));
    }
}
