using System.Text;
using System.Text.Json;
using CsCheck;
using Fleetkey.Core.Json;
using Xunit;

namespace Fleetkey.Fuzz.Tests;

public sealed class StrictJsonFuzzTests
{
    // JSON-ish bytes: structure characters, quotes, escapes and bytes that are not UTF-8.
    private static readonly Gen<byte[]> JsonishBytes = Gen.OneOf(
        Gen.Byte.Array[0, 256],
        Gen.OneOf<byte[]>(
                [.. new[] { "{", "}", "[", "]", ":", ",", "\"", "\\", "\\u", "d800", "dc00", "a", "1", "true", "null", " ", "\"k\"", "\"k\":", "é" }.Select(Encoding.UTF8.GetBytes), [0xff], [0xc3]])
            .Array[0, 40]
            .Select(parts => parts.SelectMany(p => p).ToArray()));

    [Fact]
    public void FindProblem_AnyBytes_NeverThrowsAndAcceptedTextReadsCleanly()
    {
        Fuzz.Run("core.strict-json", JsonishBytes, bytes =>
        {
            if (StrictJson.FindProblem(bytes) is null)
            {
                // What the check accepts, System.Text.Json reads to the last string without an exception.
                using var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { AllowDuplicateProperties = false });
                Walk(document.RootElement);
            }
        }, cases: 20_000);
    }

    [Theory]
    [InlineData("{\"thingTypeName\":\"a\",\"thingTypeName\":\"b\"}", "twice")]
    [InlineData("{\"a\":{\"b\":1,\"b\":2}}", "twice")]
    [InlineData("{\"a\\u0062\":1,\"ab\":2}", "twice")]
    [InlineData("{\"a\":\"\\ud800\"}", "lone surrogate")]
    [InlineData("{\"\\udc00\":1}", "lone surrogate")]
    [InlineData("{\"a\":", "malformed")]
    [InlineData("", "malformed")]
    [InlineData("{} {}", "malformed")]
    public void FindProblem_BadText_SaysWhy(string json, string expected)
    {
        Assert.Contains(expected, StrictJson.FindProblem(Encoding.UTF8.GetBytes(json)), StringComparison.Ordinal);
    }

    [Fact]
    public void FindProblem_InvalidUtf8_IsRefused()
    {
        byte[] body = [.. "{\"serialNumber\":\""u8, 0xff, .. "\"}"u8];
        Assert.Contains("UTF-8", StrictJson.FindProblem(body), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"a\":[{\"b\":1},{\"b\":2}],\"c\":\"\\ud83d\\ude00\"}")]
    [InlineData("[1,2,{\"a\":null}]")]
    [InlineData("\"x\"")]
    public void FindProblem_StrictText_IsAccepted(string json)
    {
        Assert.Null(StrictJson.FindProblem(Encoding.UTF8.GetBytes(json)));
    }

    private static void Walk(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var member in element.EnumerateObject())
                {
                    _ = member.Name;
                    Walk(member.Value);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    Walk(item);
                }

                break;
            case JsonValueKind.String:
                _ = element.GetString();
                break;
        }
    }
}
