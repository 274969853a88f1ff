using System.Security.Cryptography;
using System.Text;
using Fleetkey.Services.Devices;
using Xunit;

namespace Fleetkey.Services.Tests.Devices;

public sealed class SharedAccessSignatureTests
{
    // Key 00 01 02 … 1f. Vectors computed outside .NET:
    //   python3 -c "import hmac,hashlib,base64; print(base64.b64encode(hmac.new(bytes(range(32)), b'sensor-0001\n1764400000', hashlib.sha256).digest()).decode())"
    //   printf 'sensor-0001\n1764400000' | openssl dgst -sha256 -mac HMAC -macopt hexkey:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f -binary | base64
    private static readonly byte[] Key = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();

    [Theory]
    [InlineData("sensor-0001", "1764400000", "yUBwMsngKb0uvzbpDKET9cRTgEYLiY2hwqSaPtfKquQ=")]
    [InlineData("ab:c_d-E", "1700000000", "qhk5YVOn4IMT8tKXFV5Q7xVNEIfKJQYcd7UVNL5lH4A=")]
    [InlineData("ab:c_d-E", "1700000004", "NVFJ+eOXop5FZBaJQBSEAG2s3oMpW6M18IrxeUcPQhg=")]
    public void Sign_KnownVectors_MatchPythonAndOpenssl(string serial, string expiry, string expected)
    {
        Assert.Equal(expected, Convert.ToBase64String(SharedAccessSignature.Sign(Key, serial, expiry)));
    }

    [Fact]
    public void StringToSign_IsSerialNewlineExpiry()
    {
        Assert.Equal(Encoding.UTF8.GetBytes("sensor-0001\n1764400000"), SharedAccessSignature.StringToSign("sensor-0001", "1764400000"));
    }

    [Fact]
    public void TryParse_UrlEncodedHeader_DecodesEveryField()
    {
        // The vector's signature has '+' and '/', sent percent-encoded as Python's urllib.parse.quote(sig, safe="") does.
        const string header = "SharedAccessSignature sr=sensor-0001&se=1764400000&sig=yUBwMsngKb0uvzbpDKET9cRTgEYLiY2hwqSaPtfKquQ%3D";

        Assert.True(SharedAccessSignature.TryParse(header, out var token));
        Assert.Equal("sensor-0001", token.Resource);
        Assert.Equal(1764400000, token.Expiry);
        Assert.True(token.IsSignedWith(Key));
    }

    [Fact]
    public void TryParse_FieldsInAnyOrderAndUnencodedPlus_Accepted()
    {
        // The signature of this vector has a '+', sent as is.
        Assert.True(SharedAccessSignature.TryParse("SharedAccessSignature sig=NVFJ+eOXop5FZBaJQBSEAG2s3oMpW6M18IrxeUcPQhg=&se=1700000004&sr=ab%3Ac_d-E", out var token));
        Assert.Equal("ab:c_d-E", token.Resource);
        Assert.True(token.IsSignedWith(Key));
    }

    [Fact]
    public void Create_RoundTripsThroughTryParse()
    {
        var header = SharedAccessSignature.Create(Key, "sensor-0001", 1764400000);

        Assert.True(SharedAccessSignature.TryParse(header, out var token));
        Assert.Equal("yUBwMsngKb0uvzbpDKET9cRTgEYLiY2hwqSaPtfKquQ=", Convert.ToBase64String(token.Signature));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Bearer abc")]
    [InlineData("SharedAccessSignature")]
    [InlineData("SharedAccessSignature sr=a&se=1")]
    [InlineData("SharedAccessSignature sr=a&se=1&sig=yUBwMsngKb0uvzbpDKET9cRTgEYLiY2hwqSaPtfKquQ%3D&x=1")]
    [InlineData("SharedAccessSignature sr=a&sr=b&se=1&sig=yUBwMsngKb0uvzbpDKET9cRTgEYLiY2hwqSaPtfKquQ%3D")]
    [InlineData("SharedAccessSignature sr=&se=1&sig=yUBwMsngKb0uvzbpDKET9cRTgEYLiY2hwqSaPtfKquQ%3D")]
    [InlineData("SharedAccessSignature sr=a&se=-1&sig=yUBwMsngKb0uvzbpDKET9cRTgEYLiY2hwqSaPtfKquQ%3D")]
    [InlineData("SharedAccessSignature sr=a&se=1.5&sig=yUBwMsngKb0uvzbpDKET9cRTgEYLiY2hwqSaPtfKquQ%3D")]
    [InlineData("SharedAccessSignature sr=a&se=99999999999999&sig=yUBwMsngKb0uvzbpDKET9cRTgEYLiY2hwqSaPtfKquQ%3D")]
    [InlineData("SharedAccessSignature sr=a&se=1&sig=not-base64!")]
    [InlineData("SharedAccessSignature sr=a&se=1&sig=AAAA")]
    [InlineData("SharedAccessSignature sr=a&se=1&noequals")]
    public void TryParse_Malformed_Refused(string? header)
    {
        Assert.False(SharedAccessSignature.TryParse(header, out _));
    }

    [Fact]
    public void TryParse_OverlongHeader_Refused()
    {
        var header = SharedAccessSignature.Create(Key, new string('a', 128), 1) + "&" + new string('x', SharedAccessSignature.MaxHeaderLength);
        Assert.False(SharedAccessSignature.TryParse(header, out _));
    }

    [Fact]
    public void IsSignedWith_OtherKeyOrOtherBytes_False()
    {
        Assert.True(SharedAccessSignature.TryParse(SharedAccessSignature.Create(Key, "sensor-0001", 1764400000), out var token));
        var other = (byte[])Key.Clone();
        other[31] ^= 1;

        Assert.False(token.IsSignedWith(other));

        // The signature covers the expiry: the same signature with another se fails.
        var sig = Uri.EscapeDataString(Convert.ToBase64String(token.Signature));
        Assert.True(SharedAccessSignature.TryParse($"SharedAccessSignature sr=sensor-0001&se=1764400001&sig={sig}", out var moved));
        Assert.False(moved.IsSignedWith(Key));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    public void IsSignedWith_OneByteOff_Refused(int position)
    {
        // The comparison covers every byte (CryptographicOperations.FixedTimeEquals, which also takes
        // the same time wherever the first difference is; that property is the framework's, not
        // measurable reliably here).
        var signature = SharedAccessSignature.Sign(Key, "sensor-0001", "1764400000");
        signature[position] ^= 0x80;
        var sig = Uri.EscapeDataString(Convert.ToBase64String(signature));

        Assert.True(SharedAccessSignature.TryParse($"SharedAccessSignature sr=sensor-0001&se=1764400000&sig={sig}", out var token));
        Assert.False(token.IsSignedWith(Key));
    }

    [Fact]
    public void ReplayKey_IsSha256OfTheSignature_NotTheSignature()
    {
        Assert.True(SharedAccessSignature.TryParse(SharedAccessSignature.Create(Key, "sensor-0001", 1764400000), out var token));

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(token.Signature)), token.ReplayKey());
        Assert.DoesNotContain(Convert.ToBase64String(token.Signature), token.ReplayKey(), StringComparison.Ordinal);
    }
}
