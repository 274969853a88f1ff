using CsCheck;
using Fleetkey.Policies;
using Xunit;

namespace Fleetkey.Fuzz.Tests;

/// <summary>
/// <c>policies.parser</c>: IAM-shaped documents assembled from valid and invalid pieces (keys given
/// twice, wrong types, lone surrogates raw and escaped, strings past the bounds, deep nesting, any
/// whitespace), the same mutated, and arbitrary text. The parser returns a document or throws
/// <see cref="PolicyDocumentException"/> with a bounded message, nothing else; and whatever it
/// accepts, the evaluator decides on without throwing.
/// </summary>
public sealed class PolicyParserFuzzTests
{
    // JSON string tokens, already quoted: mostly well-formed pieces, sometimes broken ones.
    private static readonly Gen<string> Text = Gen.Frequency(
        (30, Gen.OneOf(
            "iot:Publish", "iot:*", "*", "iot:Connect", "IOT:connect", "greengrass:*", "iot:Pub?ish", "arn:aws:iot:us-east-1:1:topic/a/*",
            "arn:aws:iot:*:*:client/${iot:ClientId}", "arn:aws:iot:r:1:topic/${iot:Connection.Thing.Attributes[x]}/${*}",
            "2012-10-17", "2008-10-17", "Allow", "Deny", "a", "", "iot:ClientId", "true").Select(Quote)),
        (4, Gen.OneOf(
            "s3:x", "iot:", "iot:a:b", "bucket", "arn:aws:s3:::b", "arn:x:iot:r:1:t/a", "arn:aws:iot:r:1:topic/${unclosed", "arn:aws:IoT:r:1:x/y",
            "arn:aws:iot:r:1:", "Permit", "2012-10-18").Select(Quote)),
        (1, Gen.OneOf(
            Quote(new string('a', PolicyDocumentParser.MaxStringLength + 1)), Quote("arn:aws:iot:r:1:topic/" + new string(' ', 2100)),
            "\"\ud800\"", "\"\\ud800\"", "\"\\udc00x\"", "\"é\"", "\"\\u0000\"", "\"\u0001\"", "\"unterminated")));

    private static readonly Gen<string> Scalar = Gen.Frequency((8, Text), (1, Gen.OneOf("1", "-2.5e3", "true", "false", "null", "{}", "[]")));

    private static readonly Gen<string> TextOrList = Gen.Frequency(
        (3, Text), (2, Text.Array[0, 5].Select(items => $"[{string.Join(",", items)}]")), (1, Scalar), (1, Scalar.Array[1, 3].Select(items => $"[{string.Join(",", items)}]")));

    private static readonly Gen<string> Condition = Gen.Select(
        Gen.OneOf("StringEquals", "StringLike", "StringNotLike", "Bool", "Null", "NullIfExists", "NumericLessThan", "ForAnyValue:StringLikeIfExists", "Bogus"),
        Gen.OneOf("iot:ClientId", "aws:SourceIp", "", "k"),
        Gen.Frequency((3, TextOrList), (1, Scalar)),
        (op, key, value) => $"{Quote(op)}:{{{Quote(key)}:{value}}}").Array[0, 3].Select(ops => $"{{{string.Join(",", ops)}}}");

    private static readonly Gen<string> Member = Gen.Frequency(
        (6, Gen.OneOf("\"Effect\":\"Allow\"", "\"Effect\":\"Deny\"")),
        (1, Gen.Select(Scalar, v => $"\"Effect\":{v}")),
        (6, Gen.Select(Gen.OneOf("Action", "NotAction"), TextOrList, (k, v) => $"\"{k}\":{v}")),
        (6, Gen.Select(Gen.OneOf("Resource", "NotResource"), TextOrList, (k, v) => $"\"{k}\":{v}")),
        (2, Gen.Select(Condition, c => $"\"Condition\":{c}")),
        (2, Gen.Select(Scalar, v => $"\"Sid\":{v}")),
        (1, Gen.Select(Gen.OneOf("Principal", "effect", "Extra"), Scalar, (k, v) => $"\"{k}\":{v}")));

    private static readonly Gen<string> Statement = Member.Array[0, 6].Select(members => $"{{{string.Join(",", members)}}}");

    private static readonly Gen<string> Document = Gen.Select(
        Gen.Frequency((8, Gen.OneOf("\"Version\":\"2012-10-17\"", "\"Version\":\"2008-10-17\"")), (1, Gen.OneOf("", "\"Version\":1", "\"Version\":\"2012\""))),
        Gen.Frequency((6, Statement), (4, Statement.Array[0, 4].Select(s => $"[{string.Join(",", s)}]")), (1, Scalar)),
        Gen.Frequency((8, Gen.Const("")), (1, Gen.OneOf("\"Id\":\"p\"", "\"Extra\":1", "\"Version\":\"2012-10-17\"", "\"Id\":" + new string('[', 40) + new string(']', 40)))),
        Gen.OneOf("", " ", "\n    "),
        (version, statement, extra, space) =>
        {
            var members = new[] { version, $"\"Statement\":{statement}", extra }.Where(m => m.Length > 0);
            return "{" + space + string.Join("," + space, members) + space + "}";
        });

    private static readonly Gen<string> Mutated =
        Gen.Select(Document, Mutations.Edits("{}[]\",:\\ \u0000a*?$é\ud800", most: 5), Mutations.Apply);

    private static readonly string[] Resources =
    [
        "arn:aws:iot:us-east-1:1:topic/a/b", "arn:aws:iot:us-east-1:1:client/c1", "arn:aws:iot:r:1:topic/*", "", "arn:aws:iot:us-east-1:1:topic/" + new string('a', 5000),
    ];

    private static readonly Dictionary<string, string> Variables = new(StringComparer.Ordinal)
    {
        ["iot:ClientId"] = "c1",
        ["iot:Connection.Thing.Attributes[x]"] = "*",
        ["k"] = "a",
    };

    [Fact]
    public void Parse_GeneratedDocuments_DocumentOrMalformed()
    {
        Fuzz.Run("policies.parser", Document, Check, cases: 6_000);
    }

    [Fact]
    public void Parse_MutatedDocuments_DocumentOrMalformed()
    {
        Fuzz.Run("policies.parser", Mutated, Check, cases: 3_000);
    }

    [Fact]
    public void Parse_ArbitraryText_DocumentOrMalformed()
    {
        Fuzz.Run("policies.parser", Gen.Char["{}[]\",:\\ \t\nAa1*?$é\ud800\udc00"].Array[0, 80].Select(c => new string(c)), Check, cases: 3_000);
    }

    private static void Check(string json)
    {
        PolicyDocument document;
        try
        {
            document = PolicyDocumentParser.Parse(json);
        }
        catch (PolicyDocumentException e)
        {
            Assert.StartsWith("Policy document is Malformed: ", e.Message, StringComparison.Ordinal);

            // At most 20 problems, each quoting at most one string (≤ 2048 characters) and a path.
            Assert.True(e.Message.Length <= 64_000, $"a {e.Message.Length}-character message");
            return;
        }

        Assert.NotEmpty(document.Statements);
        Assert.Contains(document.Version, new[] { PolicyDocumentParser.CurrentVersion, PolicyDocumentParser.LegacyVersion });
        foreach (var statement in document.Statements)
        {
            Assert.True(statement.Actions.Count + statement.NotActions.Count > 0);
            Assert.True(statement.Resources.Count + statement.NotResources.Count > 0);
            Assert.All(statement.Resources.Concat(statement.NotResources).Concat(statement.Actions).Concat(statement.NotActions),
                s => Assert.True(s.Length <= PolicyDocumentParser.MaxStringLength));
        }

        // Whatever the parser accepts, the evaluator decides on.
        foreach (var action in new[] { "iot:Publish", "iot:Connect", "greengrass:X" })
        {
            foreach (var resource in Resources)
            {
                var decision = PolicyEvaluator.Decide([document], action, resource, Variables);
                Assert.Equal(decision == PolicyDecision.Allowed, PolicyEvaluator.IsAllowed([document], action, resource, Variables));
            }
        }
    }

    private static string Quote(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
