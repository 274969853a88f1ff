using System.Diagnostics;
using System.Text;
using CsCheck;
using Fleetkey.Templates;
using Xunit;

namespace Fleetkey.Fuzz.Tests;

/// <summary>
/// <c>templates.engine</c>: random provisioning templates built from the interpreter's own constructs
/// (every intrinsic, nested, with conditions that may refer to one another in cycles, mappings and
/// parameters from empty to over the limit), and the same templates mutated byte by byte. Whatever
/// the input, Evaluate, Validate and DeclaredParameters answer (an error list, never an exception),
/// within the budget's bounds and in well under a second.
/// </summary>
public sealed class TemplateEngineFuzzTests
{
    private static readonly string Big = new('x', 3000);

    // Mostly what templates hold; now and then what breaks them (a lone surrogate, a long literal).
    private static readonly Gen<string> Literal = Gen.Frequency(
        (40, Gen.OneOf(
            "\"\"", "\"a\"", "\"a,b,,c\"", "\"${A}-${B}\"", "\"${!Literal}\"", "\"${a.b}\"", "\"${\"", "1", "2.50", "true",
            "\"SN-1\"", "\",\"", "\"é\"", "\"0\"", "\"-1\"", "\"99\"", "[]", "{}", "\"ACTIVE\"", "\"MERGE\"")),
        (1, Gen.OneOf("null", "\"${Undeclared}\"", $"\"{Big}\"", "\"\\ud800\"")));

    private static readonly Gen<string> Reference = Gen.OneOf("A", "B", "C", "AWS::IoT::Certificate::Id", "Undeclared", "AWS::NoValue")
        .Select(name => $"{{\"Ref\":\"{name}\"}}");

    private static readonly Gen<string> ConditionName = Gen.OneOf("C0", "C1", "C2", "C3", "Missing");

    private static readonly Gen<string> Value = Values(5);

    // Each level uses its variable several times, or joins a split list with the level below as
    // delimiter: the shapes that multiply output, at a random depth and width.
    private static readonly Gen<string> Amplifier = Gen.Select(Gen.Int[1, 14], Gen.Int[1, 9], Gen.Bool, (depth, width, sub) =>
    {
        var inner = "\"xy\"";
        for (var i = 0; i < depth; i++)
        {
            inner = sub
                ? $$"""{"Fn::Sub":["{{string.Concat(Enumerable.Repeat("${v}", width))}}",{"v":{{inner}}}]}"""
                : $$"""{"Fn::Join":[{{inner}},{"Fn::Split":[",","{{new string(',', width)}}"]}]}""";
        }

        return inner;
    });

    private static readonly Gen<string> Condition = Conditions(3);

    private static readonly Gen<Dictionary<string, string>?> Parameters = Gen.Frequency(
        (1, Gen.Const((Dictionary<string, string>?)null)),
        (6, Gen.Select(ParameterValue(), ParameterValue(), ParameterValue(), Gen.Int[0, 7], (a, b, c, present) =>
        {
            var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
            if ((present & 1) != 0)
            {
                parameters["A"] = a;
            }

            if ((present & 2) != 0)
            {
                parameters["B"] = b;
            }

            if ((present & 4) != 0)
            {
                parameters["AWS::IoT::Certificate::Id"] = c;
            }

            parameters["C"] = a + b;
            return (Dictionary<string, string>?)parameters;
        })));

    private static readonly Gen<string> Template = Gen.Select(
        Gen.Select(Condition.Array[0, 4], Gen.Int[0, 31], (conditions, sections) => (conditions, sections)),
        Gen.Frequency((3, Value), (1, Amplifier)).Array[1, 5],
        Gen.OneOf("AWS::IoT::Thing", "AWS::IoT::Policy", "AWS::IoT::Certificate", "AWS::S3::Bucket").Array[1, 4],
        ConditionName,
        (head, values, types, resourceCondition) => Assemble(head.conditions, head.sections, values, types, resourceCondition));

    // Edits of a template: a byte replaced, inserted or removed, or the text cut short.
    private static readonly Gen<string> Mutated =
        Gen.Select(Template, Mutations.Edits("{}[]\",:\\ \u0000ab1$é\ud800", most: 6), Mutations.Apply);

    [Fact]
    public void Evaluate_GeneratedTemplates_AnswerWithinBudget()
    {
        Fuzz.Run("templates.engine", Gen.Select(Template, Parameters), input => Check(input.Item1, input.Item2), cases: 4_000);
    }

    [Fact]
    public void Evaluate_MutatedTemplates_AnswerWithinBudget()
    {
        Fuzz.Run("templates.engine", Gen.Select(Mutated, Parameters), input => Check(input.Item1, input.Item2), cases: 3_000);
    }

    [Fact]
    public void Evaluate_ManyRefsToLongValues_StopAtTheStepBudget()
    {
        // Each Ref of a 4096-character value costs 4097 steps: some hundred of them reach the budget.
        var full = new Dictionary<string, string>(StringComparer.Ordinal) { ["A"] = new string('a', TemplateEngine.MaxParameterValueLength) };
        var gen = Gen.Int[1, 500].Select(count =>
            """{"Parameters":{"A":{"Type":"String"}},"Resources":{},"DeviceConfiguration":{"""
            + string.Join(",", Enumerable.Range(0, count).Select(i => $"\"k{i}\":{{\"Ref\":\"A\"}}")) + "}}");
        Fuzz.Run("templates.engine", gen, body => Check(body, full), cases: 300);
    }

    [Fact]
    public void Evaluate_AmplifyingTemplates_FailFastWithBudgetErrors()
    {
        // The shapes that ran the interpreter out of memory, every depth and width (including those
        // under the bounds, which must evaluate).
        var gen = Gen.Select(Amplifier, Gen.Int[0, 2], (value, place) => place switch
        {
            0 => """{"Resources":{},"DeviceConfiguration":{"v":""" + value + "}}",
            1 => """{"Resources":{"t":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":""" + value + "}}}}",
            _ => """{"Resources":{"p":{"Type":"AWS::IoT::Policy","Properties":{"PolicyDocument":{"Statement":[""" + value + "," + value + "]}}}}}",
        });
        Fuzz.Run("templates.engine", gen, body => Check(body, null), cases: 1_000);
    }

    private static void Check(string body, Dictionary<string, string>? parameters)
    {
        var clock = Stopwatch.StartNew();
        var result = TemplateEngine.Evaluate(body, parameters);
        var validation = TemplateEngine.Validate(body);
        _ = TemplateEngine.DeclaredParameters(body);

        // A budget-sized evaluation takes milliseconds; a minute of wall time on a loaded machine is
        // still far from the seconds and gigabytes of an unbounded one.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}: {Shorten(body)}");
        Assert.Equal(result.Errors.Count == 0, result.Succeeded);
        foreach (var errors in new[] { result.Errors, validation })
        {
            Assert.True(errors.Count <= TemplateEngine.MaxErrors + 1, $"{errors.Count} errors");
            foreach (var error in errors)
            {
                Assert.True(error.Path.Length <= 600 && error.Message.Length <= 1100, $"error of {error.Path.Length}+{error.Message.Length} characters");
            }
        }

        if (result.Plan is { } plan)
        {
            Assert.All(plan.DeviceConfiguration.Values, v => Assert.True(v.Length <= TemplateEngine.MaxStringLength));
            Assert.All(plan.Policies, p => Assert.True((p.PolicyDocument?.Length ?? 0) <= 6 * TemplateEngine.MaxStringLength));
            Assert.All(plan.Things, t => Assert.True(t.ThingName.Length <= 128));
        }
    }

    private static Gen<string> ParameterValue() => Gen.Frequency(
        (20, Gen.OneOf(
            "", "a", "SN-1", "a,b,c", "${A}", "prod", "0", "true", new string('a', TemplateEngine.MaxParameterValueLength),
            "cd82bb924d4c6ccbb14986dcb4f40f30d892cc6b3ce7ad5008ed6542eea2b049",
            """{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iot:*","Resource":"*"}}""")),
        (1, Gen.OneOf("\ud800", new string('a', TemplateEngine.MaxParameterValueLength + 1))));

    private static Gen<string> Values(int depth)
    {
        var leaf = Gen.Frequency((3, Literal), (2, Reference));
        if (depth == 0)
        {
            return leaf;
        }

        var inner = Values(depth - 1);
        return Gen.Frequency(
            (4, leaf),
            (2, Gen.Select(inner, inner.Array[0, 5], (d, items) => Fn("Fn::Join", $"[{d},[{string.Join(",", items)}]]"))),
            (1, Gen.Select(inner, (d) => Fn("Fn::Join", $"[\"-\",{d}]"))),
            (2, Gen.Select(Gen.OneOf("${a}", "${a}${a}${b}", "x${A}y${b}", "${!a}${AWS::IoT::Certificate::Id}"), inner, inner,
                (format, a, b) => Fn("Fn::Sub", $"[\"{format}\",{{\"a\":{a},\"b\":{b}}}]"))),
            (1, Gen.Select(inner, d => Fn("Fn::Sub", d))),
            (1, Gen.Select(inner, inner, (d, s) => Fn("Fn::Split", $"[{d},{s}]"))),
            (1, Gen.Select(Gen.OneOf("\"0\"", "\"1\"", "\"-1\"", "\"x\"", "0"), inner, (i, list) => Fn("Fn::Select", $"[{i},{list}]"))),
            (1, Gen.Select(Gen.OneOf("\"M\"", "\"N\""), Gen.OneOf("\"k\"", "\"z\""), Gen.OneOf("\"v\"", "\"l\"", "\"w\""),
                (m, k, v) => Fn("Fn::FindInMap", $"[{m},{k},{v}]"))),
            (1, Gen.Select(ConditionName, inner, inner, (c, t, f) => Fn("Fn::If", $"[\"{c}\",{t},{f}]"))),
            (1, Gen.Select(inner.Array[0, 4], items => $"[{string.Join(",", items)}]")),
            (1, Gen.Select(inner, inner, (a, b) => $"{{\"k1\":{a},\"k2\":{b}}}")),
            (1, Gen.Select(Gen.OneOf("Fn::GetAtt", "Fn::Equals", "Fn::Base64", "Fn::Join", "Fn::If"), inner, (name, a) => Fn(name, a))));
    }

    private static Gen<string> Conditions(int depth)
    {
        var value = Values(2);
        var leaf = Gen.Frequency(
            (3, Gen.Select(value, value, (a, b) => Fn("Fn::Equals", $"[{a},{b}]"))),
            (2, Gen.Select(ConditionName, name => $"{{\"Condition\":\"{name}\"}}")),
            (1, Gen.OneOf("\"yes\"", "{}", "{\"Fn::Equals\":[\"a\"]}")));
        if (depth == 0)
        {
            return leaf;
        }

        var inner = Conditions(depth - 1);
        return Gen.Frequency(
            (3, leaf),
            (1, Gen.Select(inner, c => Fn("Fn::Not", $"[{c}]"))),
            (1, Gen.Select(Gen.OneOf("Fn::And", "Fn::Or"), inner.Array[0, 11], (name, items) => Fn(name, $"[{string.Join(",", items)}]"))));
    }

    private static string Fn(string name, string argument) => $"{{\"{name}\":{argument}}}";

    private static string Assemble(string[] conditions, int sections, string[] values, string[] types, string resourceCondition)
    {
        var body = new StringBuilder("{");
        var first = true;
        void Section(string text)
        {
            body.Append(first ? "" : ",").Append(text);
            first = false;
        }

        if ((sections & 1) != 0)
        {
            Section("""
                "Parameters":{"A":{"Type":"String"},"B":{"Type":"String","Default":"d"},"C":{"Type":"String"}}
                """);
        }

        if ((sections & 2) != 0)
        {
            Section("""
                "Mappings":{"M":{"k":{"v":"x","l":["a","b"]}},"N":{"k":{"v":"y"}}}
                """);
        }

        if ((sections & 4) != 0 && conditions.Length > 0)
        {
            Section("\"Conditions\":{" + string.Join(",", conditions.Select((c, i) => $"\"C{i}\":{c}")) + "}");
        }

        if ((sections & 8) != 0)
        {
            var resources = types.Select((type, i) =>
            {
                var value = values[i % values.Length];
                var properties = type switch
                {
                    "AWS::IoT::Thing" => $"{{\"ThingName\":{value},\"ThingGroups\":{value},\"AttributePayload\":{{\"a\":{value}}}}}",
                    "AWS::IoT::Policy" => $"{{\"PolicyDocument\":{value}}}",
                    "AWS::IoT::Certificate" => $"{{\"CertificateId\":{value},\"Status\":{value}}}",
                    _ => "{}",
                };
                var condition = i % 2 == 1 ? $",\"Condition\":\"{resourceCondition}\"" : "";
                return $"\"r{i}\":{{\"Type\":\"{type}\",\"Properties\":{properties}{condition}}}";
            });
            Section("\"Resources\":{" + string.Join(",", resources) + "}");
        }
        else
        {
            Section("\"Resources\":{}");
        }

        if ((sections & 16) != 0)
        {
            Section("\"DeviceConfiguration\":{" + string.Join(",", values.Select((v, i) => $"\"d{i}\":{v}")) + "}");
        }

        return body.Append('}').ToString();
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";
}
