using System.Text;
using CsCheck;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Paging;
using Xunit;

namespace Fleetkey.Fuzz.Tests;

/// <summary>
/// <c>core.page-token</c>: page tokens under random and altered input. Properties: any string given as a
/// token is either the key it was made for, under the scope it was made for, or "Invalid nextToken" (never
/// another exception, never another key); every token fits the model's <c>Marker</c> shape.
/// </summary>
public sealed class PageTokensFuzzTests
{
    private static readonly PageTokens Tokens = new(Encoding.UTF8.GetBytes("fuzz secret of thirty-two bytes!"));

    // Keys as the stores make them: names, "unix-ms:id", "kind/id", numbers; any well-formed text.
    private static readonly Gen<string> Keys = Gen.OneOf(
        Gen.String[Gen.Char['!', '~'], 1, 128],
        Gen.Select(Gen.Long[0, long.MaxValue], Gen.String[Gen.Char['a', 'f'], 1, 64]).Select((ms, id) => $"{ms}:{id}"),
        Gen.String.Where(s => s.Length > 0 && s.Length < 300 && Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(s)) == s));

    private static readonly Gen<string> Scopes = Gen.OneOf(
        Gen.Const("ListThings"), Gen.Const("ListThings\nthingTypeName=\"a\""), Gen.Const("ListThings\nthingTypeName=\"b\""),
        Gen.Const("ListPolicies\nascendingOrder=true"), Gen.Const("ListPolicies\nascendingOrder=false"), Gen.String[0, 40]);

    [Fact]
    public void Unprotect_AnyString_IsTheKeyOrInvalidNextToken()
    {
        var tokens = Gen.OneOf(
            Gen.String,
            Gen.String[Gen.Char["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="], 0, 120],
            Gen.Byte.Array[0, 200].Select(Convert.ToBase64String));
        Fuzz.Run("core.page-token", Gen.Select(tokens, Scopes), t =>
        {
            var (token, scope) = t;
            try
            {
                _ = Tokens.Unprotect(scope, token, "nextToken");

                // Only the empty token is the first page: anything else accepted must be a token made here.
                Assert.True(string.IsNullOrEmpty(token), $"accepted a token never made: {token}");
            }
            catch (ServiceException e)
            {
                Assert.Same(ErrorCode.InvalidRequest, e.Code);
                Assert.Equal("Invalid nextToken", e.Message);
            }
        }, cases: 20_000);
    }

    [Fact]
    public void Unprotect_ProtectedThenAltered_IsTheSameKeyOrRefused()
    {
        var gen = Gen.Select(Keys, Scopes, Scopes, Gen.Int, Gen.Char["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="]);
        Fuzz.Run("core.page-token", gen, t =>
        {
            var (key, scope, otherScope, at, c) = t;
            var token = Tokens.Protect(scope, key);
            Assert.Matches("^[A-Za-z0-9+/]+={0,2}$", token);
            Assert.True(Encoding.UTF8.GetByteCount(key) > 700 || token.Length <= 1024);
            Assert.Equal(key, Tokens.Unprotect(scope, token, "marker"));

            if (otherScope != scope)
            {
                Assert.Throws<ServiceException>(() => Tokens.Unprotect(otherScope, token, "marker"));
            }

            var i = Math.Abs(at % token.Length);
            var altered = string.Concat(token.AsSpan(0, i), c.ToString(), token.AsSpan(i + 1));
            try
            {
                // Base64 has spellings that decode alike (the unused bits of the last character): those may pass.
                Assert.Equal(key, Tokens.Unprotect(scope, altered, "marker"));
                Assert.Equal(Convert.FromBase64String(token), Convert.FromBase64String(altered));
            }
            catch (ServiceException e)
            {
                Assert.Equal("Invalid marker", e.Message);
            }
        }, cases: 20_000);
    }
}
