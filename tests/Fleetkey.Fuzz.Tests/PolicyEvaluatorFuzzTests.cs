using CsCheck;
using Fleetkey.Policies;
using Xunit;

namespace Fleetkey.Fuzz.Tests;

/// <summary>
/// <c>policies.evaluator</c>: decisions compared with a reference written here to be obviously right
/// (variables substituted by a plain scan, wildcards matched by the textbook dynamic programme over
/// pattern × text), on patterns and topics from a small alphabet so that near misses are common, with
/// runs long enough to cross the matcher's 64-position words and the point where it leaves its plain
/// scan. Plus random documents × resources × variables, decided twice (cached and freshly parsed).
/// </summary>
public sealed class PolicyEvaluatorFuzzTests
{
    private const string Prefix = "arn:aws:iot:r:1:topic/";
    private const int Star = -1;
    private const int One = -2;

    private static readonly Gen<string> Run = Gen.Int[1, 90].Select(n => new string('a', n));

    private static readonly Gen<string> PatternPart = Gen.Frequency(
        (6, Gen.OneOf("a", "b", "*", "?", "é")),
        (2, Run),
        (2, Gen.OneOf("${v}", "${w}", "${*}", "${?}", "${$}", "$", "{", "}")));

    private static readonly Gen<string> TextPart = Gen.Frequency((6, Gen.OneOf("a", "b", "é", "*", "?", "$")), (3, Run));

    private static readonly Gen<string> Pattern = PatternPart.Array[0, 12].Select(string.Concat);

    private static readonly Gen<string> Topic = TextPart.Array[0, 14].Select(string.Concat);

    private static readonly Gen<Dictionary<string, string>> Variables = Gen.Select(
        Gen.Frequency((3, Gen.OneOf("a", "*", "ab", "", "?", "é")), (1, Run)),
        Gen.Frequency((1, Gen.Const<string?>(() => null)), (1, Gen.OneOf<string?>("b", "a*", "aaaa"))),
        (v, w) =>
        {
            var variables = new Dictionary<string, string>(StringComparer.Ordinal) { ["v"] = v, ["k"] = "" };
            if (w is not null)
            {
                variables["w"] = w;
            }

            return variables;
        });

    [Fact]
    public void Decide_ResourcePatterns_AgreeWithReference()
    {
        var gen = Gen.Select(Pattern, Topic, Variables, Gen.Bool, Gen.Bool, (p, t, v, current, deny) => (p, t, v, current, deny));
        Fuzz.Run("policies.evaluator", gen, input =>
        {
            var (pattern, topic, variables, current, deny) = input;
            var version = current ? PolicyDocumentParser.CurrentVersion : PolicyDocumentParser.LegacyVersion;
            var statement = $$"""{"Effect":"{{(deny ? "Deny" : "Allow")}}","Action":"iot:Publish","Resource":"{{Prefix}}{{pattern}}"}""";
            var json = deny
                ? $$"""{"Version":"{{version}}","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"},{{statement}}]}"""
                : $$"""{"Version":"{{version}}","Statement":[{{statement}}]}""";
            if (!TryParse(json, out var document))
            {
                return;
            }

            // A pattern naming an absent variable never allows, and denies when it is a Deny (fail closed).
            var tokens = Tokens(pattern, current, variables);
            var applies = tokens is null || Matches(tokens, topic, ignoreCase: false);
            var expected = deny
                ? (applies ? PolicyDecision.ExplicitDeny : PolicyDecision.Allowed)
                : (tokens is not null && applies ? PolicyDecision.Allowed : PolicyDecision.ImplicitDeny);

            Assert.Equal(expected, PolicyEvaluator.Decide([document], "iot:Publish", Prefix + topic, variables));
        }, cases: 8_000);
    }

    [Fact]
    public void Decide_ActionPatterns_AgreeWithReference()
    {
        var action = Gen.Char["aAbB1*?"].Array[1, 12].Select(c => new string(c));
        var name = Gen.Char["aAbB1"].Array[1, 14].Select(c => new string(c));
        Fuzz.Run("policies.evaluator", Gen.Select(action, name), input =>
        {
            var (pattern, actionName) = input;
            var document = PolicyDocumentParser.Parse("""{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iot:""" + pattern + "\",\"Resource\":\"*\"}}");

            var expected = Matches(Tokens("iot:" + pattern, substitute: false, new Dictionary<string, string>())!, "iot:" + actionName, ignoreCase: true);

            Assert.Equal(expected, PolicyEvaluator.IsAllowed([document], "iot:" + actionName, Prefix + "x", new Dictionary<string, string>()));
        }, cases: 3_000);
    }

    [Fact]
    public void Decide_StringLikeAndStringEquals_AgreeWithReference()
    {
        Fuzz.Run("policies.evaluator", Gen.Select(Pattern, Topic, Variables, Gen.Bool), input =>
        {
            var (pattern, value, variables, like) = input;
            var op = like ? "StringLike" : "StringEquals";
            var json = """{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{""" + $"\"{op}\":{{\"c\":\"{pattern}\"}}}}}}}}";
            if (!TryParse(json, out var document))
            {
                return;
            }

            var withKey = new Dictionary<string, string>(variables, StringComparer.Ordinal) { ["c"] = value };

            // A value naming an absent variable matches nothing; StringEquals compares text, wildcards included.
            var tokens = Tokens(pattern, substitute: true, withKey);
            var expected = tokens is not null && (like
                ? Matches(tokens, value, ignoreCase: false)
                : string.Equals(new string([.. tokens.Select(t => t switch { Star => '*', One => '?', _ => (char)t })]), value, StringComparison.Ordinal));

            Assert.Equal(expected, PolicyEvaluator.IsAllowed([document], "iot:Connect", "arn:aws:iot:r:1:client/x", withKey));
        }, cases: 4_000);
    }

    [Fact]
    public void IsMatch_LongRunsAndSegments_AgreeWithReference()
    {
        // The matcher itself on longer inputs: segments of up to a few hundred positions (several
        // machine words) against texts of a few hundred characters, mostly 'a' so that partial
        // matches pile up and the plain scan hands over to Shift-And.
        // Texts are mostly the pattern itself with its wildcards filled in and a character or two
        // changed, so that the answer turns on exact positions.
        var part = Gen.Frequency((3, Gen.OneOf("a", "b", "?", "é")), (3, Gen.Int[1, 140].Select(n => new string('a', n))), (2, Gen.Const("*")));
        var pattern = part.Array[0, 8].Select(string.Concat);
        var free = Gen.Frequency((1, Gen.OneOf("b", "é", "?")), (4, Gen.Int[1, 200].Select(n => new string('a', n)))).Array[0, 4].Select(string.Concat);
        var filling = Gen.Int[0, 80].Select(n => new string('a', n));
        var gen = Gen.SelectMany(pattern, Gen.Bool, (p, fromPattern) => Gen.Select(
            fromPattern ? Gen.Select(filling.Array[8], Mutations.Edits("abé", most: 2, cuts: false), (fill, edits) => Mutations.Apply(Instantiate(p, fill), edits)) : free,
            Gen.Bool,
            (text, ignoreCase) => (p, text, ignoreCase)));
        Fuzz.Run("policies.evaluator", gen, input =>
        {
            var (pattern, subject, ignoreCase) = input;
            var tokens = Tokens(pattern, substitute: false, new Dictionary<string, string>())!;
            var folded = tokens.Select(t => t >= 0 && ignoreCase ? Wildcard.Fold((char)t) : t).ToArray();

            Assert.Equal(Matches(tokens, subject, ignoreCase), Wildcard.IsMatch(folded, subject, ignoreCase));
        }, cases: 8_000);
    }

    [Fact]
    public void Decide_RandomDocuments_SameDecisionCachedAndFresh()
    {
        var statement = Gen.Select(
            Gen.OneOf("Allow", "Deny"), Gen.OneOf("iot:*", "iot:Publish", "iot:P*", "*", "iot:?onnect"), Pattern, Gen.Bool,
            (effect, action, pattern, not) => $$"""{"Effect":"{{effect}}","Action":"{{action}}","{{(not ? "NotResource" : "Resource")}}":"{{Prefix}}{{pattern}}"}""");
        var gen = Gen.Select(statement.Array[1, 4], Topic, Variables, Gen.OneOf("iot:Publish", "iot:Connect", "iot:Receive"), (s, t, v, a) => (s, t, v, a));
        Fuzz.Run("policies.evaluator", gen, input =>
        {
            var (statements, topic, variables, action) = input;
            var json = $$"""{"Version":"2012-10-17","Statement":[{{string.Join(",", statements)}}]}""";
            if (!TryParse(json, out var document))
            {
                return;
            }

            var first = PolicyEvaluator.Decide([document], action, Prefix + topic, variables);
            Assert.Equal(first, PolicyEvaluator.Decide([document], action, Prefix + topic, variables));
            Assert.Equal(first, PolicyEvaluator.Decide([PolicyDocumentParser.Parse(json)], action, Prefix + topic, variables));
        }, cases: 3_000);
    }

    // The pattern with each * replaced by a filling ('a' runs, so that segments of 'a's nearly match
    // everywhere) and each ? by 'b'.
    private static string Instantiate(string pattern, string[] fillings)
    {
        var text = new System.Text.StringBuilder();
        var star = 0;
        foreach (var c in pattern)
        {
            text.Append(c switch
            {
                '*' => fillings[star++ % fillings.Length],
                '?' => "b",
                _ => c.ToString(),
            });
        }

        return text.ToString();
    }

    // Reference tokenisation: a plain scan, written apart from the product's.
    private static List<int>? Tokens(string pattern, bool substitute, Dictionary<string, string> variables)
    {
        var tokens = new List<int>();
        for (var i = 0; i < pattern.Length; i++)
        {
            if (substitute && pattern[i] == '$' && i + 1 < pattern.Length && pattern[i + 1] == '{' && pattern.IndexOf('}', i + 2) is var end and >= 0)
            {
                var name = pattern[(i + 2)..end];
                if (name is "*" or "?" or "$")
                {
                    tokens.Add(name[0]);
                }
                else if (variables.TryGetValue(name, out var value))
                {
                    tokens.AddRange(value.Select(c => (int)c));
                }
                else
                {
                    return null;
                }

                i = end;
                continue;
            }

            tokens.Add(pattern[i] switch { '*' => Star, '?' => One, var c => c });
        }

        return tokens;
    }

    // Reference matcher: matched[i, j] = the first i tokens match the first j characters.
    private static bool Matches(List<int> pattern, string text, bool ignoreCase)
    {
        var matched = new bool[pattern.Count + 1, text.Length + 1];
        matched[0, 0] = true;
        for (var i = 1; i <= pattern.Count; i++)
        {
            for (var j = 0; j <= text.Length; j++)
            {
                matched[i, j] = pattern[i - 1] switch
                {
                    Star => matched[i - 1, j] || (j > 0 && matched[i, j - 1]),
                    One => j > 0 && matched[i - 1, j - 1],
                    var c => j > 0 && matched[i - 1, j - 1] && (ignoreCase
                        ? char.ToUpperInvariant((char)c) == char.ToUpperInvariant(text[j - 1])
                        : c == text[j - 1]),
                };
            }
        }

        return matched[pattern.Count, text.Length];
    }

    private static bool TryParse(string json, out PolicyDocument document)
    {
        try
        {
            document = PolicyDocumentParser.Parse(json);
            return true;
        }
        catch (PolicyDocumentException)
        {
            // Unclosed ${ or an over-long string: the parser's to refuse, not the evaluator's to decide.
            document = null!;
            return false;
        }
    }
}
