using System.Net;
using CsCheck;
using Fleetkey.Api.Authentication;
using Fleetkey.Signing;
using Fleetkey.Testing;
using Microsoft.Extensions.Primitives;
using Xunit;

namespace Fleetkey.Fuzz.Tests;

/// <summary>
/// <c>api.sigv4</c>: the SigV4 parser and verifier on random and mutated requests. Properties: the verifier
/// never throws (every fault is a <see cref="SigV4Result"/> failure), a correctly signed request verifies
/// whatever its path, query and headers, a mutated one verifies only when its canonical request is
/// unchanged, and no Authorization header sent to the listener answers a 5xx.
/// </summary>
public sealed class SigV4FuzzTests
{
    private const string AccessKeyId = "AKIDFUZZ0000000000001";
    private const string Secret = "fuzz-secret-access-key-0000000000000000";
    private const string Region = "eu-west-1";

    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly StaticSecrets Secrets = new();

    // Path and query text: unreserved characters, escapes (good and bad), dot segments, slashes, non-ASCII.
    private static readonly Gen<string> WireText = Gen.OneOf(
            Gen.Const("a"), Gen.Const("Z9"), Gen.Const("-_.~"), Gen.Const("/"), Gen.Const("//"), Gen.Const("."), Gen.Const(".."),
            Gen.Const("%2F"), Gen.Const("%3A"), Gen.Const("%25"), Gen.Const("%zz"), Gen.Const("%"), Gen.Const("%e2%82%ac"),
            Gen.Const("%ff"), Gen.Const("+"), Gen.Const(" "), Gen.Const("="), Gen.Const("&"), Gen.Const("é"), Gen.Const("東"),
            Gen.Const("🚀"), Gen.Const("\ud800"), Gen.Const(":"), Gen.Const("*"), Gen.Const("'"), Gen.Char.Select(c => c.ToString()))
        .Array[0, 12]
        .Select(parts => string.Concat(parts));

    private static readonly Gen<string> HeaderValue = Gen.OneOf(
            Gen.String[Gen.Char['\x20', '\x7e'], 0, 40],
            Gen.OneOf(Gen.Const("  a  b  "), Gen.Const("\t"), Gen.Const("x\ny"), Gen.Const("é"), Gen.Const(""), Gen.Const(",")).Array[1, 4].Select(string.Concat));

    private static readonly Gen<SignedRequest> Requests =
        Gen.Select(
            Gen.OneOf(Gen.Const("GET"), Gen.Const("POST"), Gen.Const("PUT"), Gen.Const("DELETE"), Gen.Const("PATCH")),
            WireText.Select(t => "/" + t),
            WireText,
            Gen.Select(Gen.String[Gen.Char['a', 'z'], 1, 8], HeaderValue).Array[0, 3],
            Gen.Byte.Array[0, 64])
        .Select((method, path, query, extra, body) => SignedRequest.Create(method, path, query, extra, body));

    [Fact]
    public void Verify_SignedRequests_VerifyAndMutationsFailCleanly()
    {
        var gen = Gen.Select(Requests, Gen.Int[0, 15], Gen.Int, Gen.Char);
        Fuzz.Run("api.sigv4", gen, t =>
        {
            var (signed, mutation, at, c) = t;
            var original = Verify(signed.Request);
            Assert.True(original.Succeeded, $"{original.Failure}: {original.Message} for {signed.Request.Method} {signed.Request.RawPath}?{signed.Request.RawQuery}");

            var mutated = signed.Mutate(mutation, at, c);
            var result = Verify(mutated.Request);
            if (result.Succeeded)
            {
                // Only a change SigV4 does not cover may still verify: the canonical request must be the same.
                Assert.Equal(signed.Canonical, mutated.Canonical);
            }
            else
            {
                Assert.NotNull(result.Code);
                Assert.False(string.IsNullOrEmpty(result.Message));
            }
        }, cases: 12_000);
    }

    [Fact]
    public void Verify_RandomAuthorizationAndDate_NeverThrows()
    {
        var authorization = Gen.OneOf(
            Gen.String,
            Gen.String[Gen.Char['\x20', '\x7e'], 0, 120],
            Gen.Select(
                    Gen.OneOf(Gen.Const("AWS4-HMAC-SHA256"), Gen.Const("AWS4-HMAC-SHA512"), Gen.Const("AWS4-"), Gen.Const("Bearer"), Gen.Const("")),
                    Gen.OneOf(
                            Gen.Const("Credential="), Gen.Const(AccessKeyId + "/20260301/eu-west-1/iot/aws4_request"), Gen.Const("SignedHeaders="),
                            Gen.Const("host;x-amz-date"), Gen.Const("Signature="), Gen.Const(new string('a', 64)), Gen.Const(","), Gen.Const(" "),
                            Gen.Const("="), Gen.Const("/"), Gen.Const(";"), Gen.Const("\t"), Gen.Const("zz"), Gen.Const("\u00e9"))
                        .Array[0, 14])
                .Select((algorithm, parts) => algorithm + " " + string.Concat(parts)));
        var date = Gen.OneOf(
            Gen.Const("20260301T120000Z"), Gen.Const("20260301T121000Z"), Gen.Const("2026-03-01T12:00:00Z"), Gen.Const("Sun, 01 Mar 2026 12:00:00 GMT"),
            Gen.Const("99999999T999999Z"), Gen.Const(""), Gen.String[Gen.Char['0', 'Z'], 0, 20]);
        var gen = Gen.Select(authorization, date, Gen.Bool, WireText, Gen.Int[0, 3]);
        Fuzz.Run("api.sigv4", gen, t =>
        {
            var (auth, amzDate, useDateHeader, query, copies) = t;
            var headers = new List<KeyValuePair<string, StringValues>> { new("host", "iot.fleetkey.test") };
            for (var i = 0; i < copies; i++)
            {
                headers.Add(new("Authorization", auth));
            }

            headers.Add(new(useDateHeader ? "Date" : "X-Amz-Date", amzDate));

            // A presigned (query-string) form too: Fleetkey does not support it, so it is unauthenticated.
            var presigned = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + Uri.EscapeDataString(AccessKeyId + "/20260301/eu-west-1/iot/aws4_request")
                + "&X-Amz-Date=" + amzDate + "&X-Amz-SignedHeaders=host&X-Amz-Signature=" + new string('0', 64) + "&" + query;
            var result = Verify(new SigV4Request("GET", "/things", presigned, headers, SigV4.PayloadHash([])));
            Assert.False(result.Succeeded);
            Assert.NotNull(result.Code);
        }, cases: 12_000);
    }

    [Fact]
    public void Canonical_AnyPathAndQuery_NeverThrows()
    {
        Fuzz.Run("api.sigv4", Gen.Select(Gen.String, WireText), t =>
        {
            var (anything, wire) = t;
            _ = SigV4Canonical.Path(anything);
            _ = SigV4Canonical.Query(anything);
            _ = SigV4Canonical.Path(wire);
            _ = SigV4Canonical.Query(wire);
            _ = SigV4Canonical.HeaderValue([anything, wire]);
        }, cases: 10_000);
    }

    [Fact]
    public async Task Listener_RandomAuthorizationHeaders_AreNeverServerErrors()
    {
        await using var host = await FleetkeyTestHost.StartAsync();
        var authorization = Gen.OneOf(
            Gen.String[Gen.Char['\x20', '\x7e'], 0, 200],
            Requests.Select(r => r.Request.Headers.First(h => h.Key == "Authorization").Value.ToString()),
            Requests.Select(r => r.Request.Headers.First(h => h.Key == "Authorization").Value.ToString().Replace(AccessKeyId, host.AccessKeyId, StringComparison.Ordinal)));
        var gen = Gen.Select(authorization, Gen.OneOf(Gen.Const("/things"), Gen.Const("/things/x"), Gen.Const("/health"), Gen.Const("/no/route")), Gen.Bool);
        await Fuzz.RunAsync("api.sigv4", gen, async t =>
        {
            var (auth, path, withDate) = t;
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.TryAddWithoutValidation("Authorization", auth);
            if (withDate)
            {
                request.Headers.TryAddWithoutValidation("X-Amz-Date", SigV4.FormatRequestTime(host.Time.GetUtcNow()));
            }

            using var response = await host.Anonymous.SendAsync(request);
            Assert.True((int)response.StatusCode < 500, $"{(int)response.StatusCode} for Authorization: {auth}");
            if (path != "/health")
            {
                Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
            }
        }, cases: 1_000);
    }

    // Inputs that once found a bug stay here as plain cases.
    [Theory]
    [InlineData("/", "")]
    [InlineData("/%", "%")]
    [InlineData("/\ud800", "a=\ud800")]
    [InlineData("//a/../b/./c", "b=2&a=1&a=0")]
    public void Verify_EdgeRequests_Verify(string path, string query)
    {
        Assert.True(Verify(SignedRequest.Create("GET", path, query, [], []).Request).Succeeded);
    }

    private static SigV4Result Verify(SigV4Request request) =>
        SigV4Verifier.VerifyAsync(request, "iot", Now, Secrets, CancellationToken.None).AsTask().GetAwaiter().GetResult();

    /// <summary>A request signed as an SDK signs it (host, x-amz-date, the extra headers), with its canonical form.</summary>
    private sealed record SignedRequest(SigV4Request Request, string Canonical, string SignedHeaders)
    {
        public static SignedRequest Create(string method, string path, string query, (string Name, string Value)[] extra, byte[] body)
        {
            var headers = new List<KeyValuePair<string, StringValues>>
            {
                new("host", "iot.fleetkey.test"),
                new("x-amz-date", SigV4.FormatRequestTime(Now)),
            };
            foreach (var (name, value) in extra)
            {
                if (name is not ("host" or "authorization" or "x-amz-date" or "date" or "x-amz-security-token" or "x-amz-content-sha256"))
                {
                    headers.Add(new("x-fuzz-" + name, value));
                }
            }

            return Sign(method, path, query, headers, SigV4.PayloadHash(body));
        }

        /// <summary>One change to what the verifier sees; <paramref name="kind"/> picks which part.</summary>
        public SignedRequest Mutate(int kind, int at, char c)
        {
            var headers = Request.Headers.ToList();
            var authorization = headers.Single(h => h.Key == "Authorization").Value.ToString();
            string Change(string text) => text.Length == 0 ? c.ToString() : text.Remove(Math.Abs(at % text.Length), 1).Insert(Math.Abs(at % text.Length), c.ToString());
            var request = kind switch
            {
                0 => Request with { RawPath = Change(Request.RawPath) },
                1 => Request with { RawQuery = Change(Request.RawQuery) },
                2 => Request with { Method = Change(Request.Method) },
                3 => Request with { PayloadHash = Change(Request.PayloadHash) },
                4 => WithHeader(headers, "Authorization", Change(authorization)),
                5 => WithHeader(headers, "x-amz-date", Change(SigV4.FormatRequestTime(Now))),
                6 => WithHeader(headers, "host", Change("iot.fleetkey.test")),
                7 => Request with { Headers = [.. headers, new("Authorization", authorization)] },
                8 => Request with { Headers = [.. headers, new("x-amz-security-token", "t")] },
                9 => WithHeader(headers, "x-amz-date", SigV4.FormatRequestTime(Now.AddMinutes(at % 2 == 0 ? 6 : -6))),
                10 => WithHeader(headers, "Authorization", authorization.Replace(AccessKeyId, "AKIDUNKNOWN", StringComparison.Ordinal)),
                11 => WithHeader(headers, "Authorization", authorization.Replace(Region, "us-east-1", StringComparison.Ordinal)),
                12 => Request with { Headers = [.. headers, new("x-amz-content-sha256", Change(Request.PayloadHash))] },
                13 => Request with { Headers = [.. headers.Where(h => h.Key != "x-amz-date"), new("date", "Sun, 01 Mar 2026 12:00:00 GMT")] },
                _ => Request with { Headers = [.. headers, new("x-unsigned", c.ToString())] },
            };
            var canonical = SigV4.CanonicalRequest(request.Method, request.RawPath, request.RawQuery, SigV4Verifier.IndexHeaders(request.Headers), SignedHeaders, request.PayloadHash);
            return new SignedRequest(request, canonical, SignedHeaders);
        }

        private SigV4Request WithHeader(List<KeyValuePair<string, StringValues>> headers, string name, string value) =>
            Request with { Headers = [.. headers.Where(h => h.Key != name), new(name, value)] };

        private static SignedRequest Sign(string method, string path, string query, List<KeyValuePair<string, StringValues>> headers, string payloadHash)
        {
            var index = SigV4Verifier.IndexHeaders(headers);
            var signedHeaders = string.Join(';', index.Keys.Select(k => k.ToLowerInvariant()).Order(StringComparer.Ordinal));
            var canonical = SigV4.CanonicalRequest(method, path, query, index, signedHeaders, payloadHash);
            var date = SigV4.FormatRequestTime(Now);
            var scope = SigV4.CredentialScope(date[..8], Region, "iot");
            var signature = SigV4.Sign(Secret, date[..8], Region, "iot", SigV4.StringToSign(date, scope, canonical));
            headers.Add(new("Authorization", SigV4.AuthorizationHeader(AccessKeyId, scope, signedHeaders, signature)));
            return new SignedRequest(new SigV4Request(method, path, query, headers, payloadHash), canonical, signedHeaders);
        }
    }

    private sealed class StaticSecrets : ISigningSecretProvider
    {
        public ValueTask<string?> FindSecretAsync(string accessKeyId, CancellationToken cancellationToken) =>
            ValueTask.FromResult(accessKeyId == AccessKeyId ? Secret : null);
    }
}
