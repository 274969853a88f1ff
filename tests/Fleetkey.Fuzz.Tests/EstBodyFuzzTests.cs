using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using CsCheck;
using Fleetkey.Api.Endpoints;
using Xunit;

namespace Fleetkey.Fuzz.Tests;

/// <summary>
/// <c>device.est</c>: the EST request body reader (<see cref="EstEndpoints.ParseCsr"/>), which reads the
/// base64 PKCS#10 body of <c>simpleenroll</c> and <c>simplereenroll</c> from anyone who reaches the device
/// listener. Properties: it never throws, it answers a CSR or a reason (never both, never neither), and a
/// CSR it accepts is exactly the DER the body carried, whatever the line breaks and blanks around it.
/// </summary>
public sealed class EstBodyFuzzTests
{
    private const string Target = "device.est";

    private static readonly byte[] Seed = MakeSeed();

    private static readonly Gen<byte[]> Body = Gen.OneOf(
        // The seed's base64 with line breaks and blanks anywhere, as RFC 7030 clients send it.
        Gen.Int.Array[0, 12].Select(cuts => Encoding.ASCII.GetBytes(Spread(Convert.ToBase64String(Seed), cuts))),
        // The seed's DER mutated, cut or grown, then base64.
        Gen.Select(Gen.Int[0, Seed.Length - 1], Gen.Byte, (at, b) => Base64(Replace(Seed, at, b))),
        Gen.Int[0, 600].Select(cut => Base64(Seed[..Math.Min(cut, Seed.Length)])),
        Gen.Byte.Array[1, 64].Select(tail => Base64([.. Seed, .. tail])),
        // Random bytes, random base64 and random text.
        Gen.Byte.Array[0, 2048],
        Gen.Byte.Array[0, 1024].Select(Base64),
        Gen.String.Select(Encoding.UTF8.GetBytes));

    [Fact]
    public void ParseCsr_AnyBody_ACsrOrAReasonNeverAnException()
    {
        Fuzz.Run(Target, Body, body =>
        {
            var (csr, error) = EstEndpoints.ParseCsr(body);
            Assert.True(csr is null != error is null, "exactly one of a CSR and a reason");
            if (csr is not null)
            {
                var der = PemEncoding.Find(csr) is var fields ? Convert.FromBase64String(csr[fields.Base64Data]) : [];
                Assert.Equal(Convert.FromBase64String(Encoding.ASCII.GetString(body)), der);
            }
        }, cases: 10_000);
    }

    [Fact]
    public void ParseCsr_SeedWithLineBreaks_Accepted()
    {
        var (csr, error) = EstEndpoints.ParseCsr(Encoding.ASCII.GetBytes(Convert.ToBase64String(Seed, Base64FormattingOptions.InsertLineBreaks) + "\r\n"));

        Assert.Null(error);
        Assert.Contains("BEGIN CERTIFICATE REQUEST", csr, StringComparison.Ordinal);
    }

    private static byte[] MakeSeed()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new CertificateRequest("CN=SN-1", key, HashAlgorithmName.SHA256).CreateSigningRequest();
    }

    private static byte[] Base64(byte[] der) => Encoding.ASCII.GetBytes(Convert.ToBase64String(der));

    private static byte[] Replace(byte[] source, int at, byte value)
    {
        var copy = (byte[])source.Clone();
        copy[at] = value;
        return copy;
    }

    private static string Spread(string base64, int[] cuts)
    {
        var text = new StringBuilder(base64);
        foreach (var cut in cuts)
        {
            text.Insert(Math.Abs(cut % (text.Length + 1)), cut % 3 == 0 ? "\r\n" : cut % 3 == 1 ? "\n" : " ");
        }

        return text.ToString();
    }
}
