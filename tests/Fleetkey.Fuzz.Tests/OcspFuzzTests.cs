using System.Security.Cryptography;
using CsCheck;
using Fleetkey.Pki;
using Fleetkey.Testing;
using Xunit;

namespace Fleetkey.Fuzz.Tests;

/// <summary>
/// <c>pki.ocsp</c>: the OCSP responder's request reader and its GET path decoding, which anyone on the
/// network reaches. Properties: random and mutated requests never throw and always get an OCSP response
/// BouncyCastle reads (successful ones signed and verifying, every other status malformedRequest or
/// unauthorized); a well-formed request of the CA's is always answered; any request survives the GET
/// encodings clients use (standard or URL-safe base64, percent-encoded or not), and anything else decodes
/// to nothing or to bytes within the bound.
/// </summary>
public sealed class OcspFuzzTests : IAsyncLifetime
{
    private const string Target = "pki.ocsp";

    private static readonly OcspStatusLookup Lookup = (_, serial, _) =>
        ValueTask.FromResult((serial.Span[^1] % 3) switch
        {
            0 => OcspCertificateStatus.Good,
            1 => OcspCertificateStatus.Revoked(DateTimeOffset.UnixEpoch.AddDays(20_000), System.Security.Cryptography.X509Certificates.X509RevocationReason.CertificateHold),
            _ => OcspCertificateStatus.Unknown,
        });

    private CertificateAuthority _ca = null!;
    private OcspSigner _signer = null!;
    private OcspResponder _responder = null!;
    private byte[][] _seeds = [];

    public async Task InitializeAsync()
    {
        _ca = await CertificateAuthority.LoadOrCreateAsync(
            new MemoryCaStore(), new PkiOptions { DeviceKeyAlgorithm = KeyAlgorithm.EcP256, KeyPoolSize = 0 }, TimeProvider.System, CancellationToken.None);
        _signer = new OcspSigner(_ca, TimeProvider.System);
        _responder = new OcspResponder(_ca, _signer, TimeProvider.System);
        _seeds =
        [
            OcspTestClient.Request(_ca.Issuing, "01"),
            OcspTestClient.Request(_ca.Issuing, ["7f0102030405060708090a0b0c0d0e0f", "00ff", "0102"], RandomNumberGenerator.GetBytes(16)),
            OcspTestClient.Request(_ca.Issuing, ["0abc"], RandomNumberGenerator.GetBytes(40), OcspTestClient.Sha256),
        ];
    }

    public Task DisposeAsync()
    {
        _signer.Dispose();
        _ca.Dispose();
        return Task.CompletedTask;
    }

    private Gen<byte[]> Requests => Gen.OneOf(
        Gen.Select(Gen.Int[0, _seeds.Length - 1], Gen.Int.Array[1, 6], (seed, edits) => Mutations.Apply(_seeds[seed], edits, value => (byte)(value >> 16))),
        Gen.Select(Gen.Int[0, _seeds.Length - 1], Gen.Int[0, 400], (seed, cut) => _seeds[seed][..Math.Min(cut, _seeds[seed].Length)]),
        Gen.Select(Gen.Int[0, _seeds.Length - 1], Gen.Byte.Array[1, 32], (seed, tail) => (byte[])[.. _seeds[seed], .. tail]),
        Gen.Byte.Array[0, 600],
        Gen.Byte.Array[0, 64].Select(bytes => (byte[])[0x30, .. bytes]));

    [Fact]
    public void RespondAsync_AnyBytes_AnOcspResponseNeverAnException()
    {
        Fuzz.Run(Target, Requests, request =>
        {
            var answer = _responder.RespondAsync(request, Lookup, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            var reply = OcspTestClient.Read(answer.Response);
            Assert.Equal((int)answer.Status, reply.Status);
            Assert.Contains(answer.Status, new[] { OcspResponseStatus.Successful, OcspResponseStatus.MalformedRequest, OcspResponseStatus.Unauthorized });
            if (reply.Basic is { } basic)
            {
                Assert.InRange(basic.Responses.Length, 1, 16);
            }
        }, cases: 3_000);
    }

    [Fact]
    public void RespondAsync_WellFormedRequestOfTheCa_AlwaysAnswered()
    {
        var serials = Gen.Byte.Array[1, 20].Select(bytes => Convert.ToHexStringLower([(byte)(bytes[0] & 0x7f | 0x01), .. bytes[1..]])).Array[1, 16];
        Fuzz.Run(Target, Gen.Select(serials, Gen.Byte.Array[1, 32]), input =>
        {
            var (asked, nonce) = input;
            var answer = _responder.RespondAsync(OcspTestClient.Request(_ca.Issuing, asked, nonce), Lookup, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            var reply = OcspTestClient.Read(answer.Response);
            Assert.Equal(asked.Length, reply.Successful.Responses.Length);
            Assert.Equal(nonce, reply.Nonce);
        }, cases: 500);
    }

    [Fact]
    public void DecodeGetPath_AnyEncodingOfARequest_TheRequest()
    {
        Fuzz.Run(Target, Gen.Select(Gen.Byte.Array[1, OcspResponder.MaxRequestBytes], Gen.Int[0, 3]), input =>
        {
            var (request, form) = input;
            var standard = Convert.ToBase64String(request);
            var path = form switch
            {
                0 => standard,
                1 => Uri.EscapeDataString(standard),
                2 => standard.TrimEnd('=').Replace('+', '-').Replace('/', '_'),
                _ => Uri.EscapeDataString(standard.Replace('+', '-').Replace('/', '_')),
            };
            Assert.Equal(request, OcspResponder.DecodeGetPath(path));
        }, cases: 2_000);
    }

    [Fact]
    public void DecodeGetPath_AnyText_BoundedBytesNeverAnException()
    {
        var text = Gen.OneOf(
            Gen.String,
            Gen.OneOf("%", "%2F", "%2B", "%3D", "%zz", "=", "==", "-", "_", "/", "+", "A", "MA", "MAA", "é", "\0", " ").Array[0, 12].Select(parts => string.Concat(parts)),
            Gen.Char["A-Za-z0-9+/=_%-"].Array[0, 64].Select(chars => new string(chars)));
        Fuzz.Run(Target, text, path =>
        {
            var decoded = OcspResponder.DecodeGetPath(path);
            Assert.InRange(decoded.Length, 0, OcspResponder.MaxRequestBytes);
        }, cases: 5_000);
    }

    [Theory]
    [InlineData("30")]
    [InlineData("3080")]
    [InlineData("30030201ff")]
    [InlineData("3082ffff")]
    [InlineData("300aa003020101300330013000")]
    public async Task RespondAsync_Degenerate_MalformedRequest(string hex)
    {
        var answer = await _responder.RespondAsync(Convert.FromHexString(hex), Lookup, CancellationToken.None);

        Assert.Equal(OcspResponseStatus.MalformedRequest, answer.Status);
    }
}
