using System.Diagnostics;
using Xunit;

namespace Fleetkey.Templates.Tests;

/// <summary>
/// Each bound of the interpreter's budget: a template just under it evaluates, one just over it fails
/// with the documented error (never an exception, never minutes or gigabytes); and the amplifying
/// templates that ran the interpreter out of memory before the budget existed.
/// </summary>
public sealed class TemplateBudgetTests
{
    private const string Root = "";
    private const string Config = "DeviceConfiguration.v";

    private static readonly string FullValue = new('a', TemplateEngine.MaxParameterValueLength);

    private sealed record BudgetCase(string Name, string Template, Dictionary<string, string>? Parameters, string? ErrorPath, string? ErrorFragment);

    public static TheoryData<string> CaseNames => [.. Cases.Select(c => c.Name)];

    private static readonly BudgetCase[] Cases =
    [
        // MaxStringLength (32768): eight maximum-length values joined, then one character more.
        new("Fn::Join at the string limit", Configuration(Join("", Repeat(Ref("A"), 8))), A(FullValue), null, null),
        new("Fn::Join one over the string limit", Configuration(Join("", [.. Repeat(Ref("A"), 8), "\"x\""])), A(FullValue), Config + ".Fn::Join",
            "Fn::Join would produce a string of more than 32768 characters (32769); at most 32768 are allowed"),
        new("Fn::Join's delimiter counts", Configuration(Join("\"x\"", Repeat(Ref("A"), 8))), A(FullValue), Config + ".Fn::Join", "(32775)"),
        new("Fn::Sub at the string limit", Configuration(Sub(string.Concat(Enumerable.Repeat("${A}", 8)))), A(FullValue), null, null),
        new("Fn::Sub one over the string limit", Configuration(Sub(string.Concat(Enumerable.Repeat("${A}", 8)) + "x")), A(FullValue), Config + ".Fn::Sub",
            "Fn::Sub would produce a string of more than 32768 characters"),

        // MaxEvaluationSteps (1,000,000): 250 Refs to a value of L characters cost 250 × (1 + L).
        new("steps at the limit", Configuration250(), A(new string('a', 3999)), null, null),
        new("steps one Ref over the limit", Configuration250(), A(new string('a', 4000)), "DeviceConfiguration.v249.Ref",
            "evaluating the template takes more than 1000000 steps"),

        // MaxNestingDepth (64): the root object is level 1.
        new("nesting at the depth limit", Nested(TemplateEngine.MaxNestingDepth), null, null, null),
        new("nesting one over the depth limit", Nested(TemplateEngine.MaxNestingDepth + 1), null, Root, "maximum configured depth of 64"),

        // Inline PolicyDocument objects: what they hold (characters and elements) is bounded like a string.
        new("inline PolicyDocument over the string limit",
            """{ "Parameters": { "A": { "Type": "String" } }, "Resources": { "p": { "Type": "AWS::IoT::Policy", "Properties": { "PolicyDocument": { "Statement": [ """
                + string.Join(",", Repeat(Ref("A"), 9)) + " ] } } } } }",
            A(FullValue), "Resources.p.Properties.PolicyDocument", "PolicyDocument would be more than 32768 characters"),

        // Amplification that ran the interpreter out of memory (8^9 characters from 579 characters).
        new("nested Fn::Sub variables", Configuration(NestedSub(9)), null, Config + ".Fn::Sub", "would produce a string of more than 32768"),
        new("nested Fn::Join over Fn::Split", Configuration(NestedJoinSplit(30)), null, Config, "would produce a string of more than 32768"),
    ];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Evaluate_Budget_JustUnderPassesJustOverFails(string name)
    {
        var @case = Cases.Single(c => c.Name == name);
        var clock = Stopwatch.StartNew();

        var result = TemplateEngine.Evaluate(@case.Template, @case.Parameters);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        var errors = string.Join("\n", result.Errors.Select(e => $"{e.Path}: {e.Message}"));
        if (@case.ErrorFragment is null)
        {
            Assert.True(result.Succeeded, errors);
            return;
        }

        Assert.False(result.Succeeded);
        Assert.True(
            result.Errors.Any(e => (@case.ErrorPath is null || e.Path.StartsWith(@case.ErrorPath, StringComparison.Ordinal)) && e.Message.Contains(@case.ErrorFragment, StringComparison.Ordinal)),
            $"no error at '{@case.ErrorPath}' containing '{@case.ErrorFragment}':\n{errors}");
    }

    [Fact]
    public void Validate_NestedSubOfLiterals_FailsFastWithoutParameters()
    {
        // CreateProvisioningTemplate checks a body without parameters; literals alone amplify too.
        var clock = Stopwatch.StartNew();

        var errors = TemplateEngine.Validate(Configuration(NestedSub(12)));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        Assert.Contains(errors, e => e.Message.Contains("would produce a string of more than 32768", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(TemplateEngine.MaxErrors, TemplateEngine.MaxErrors)]
    [InlineData(TemplateEngine.MaxErrors + 1, TemplateEngine.MaxErrors + 1)]
    [InlineData(700, TemplateEngine.MaxErrors + 1)]
    public void Evaluate_ManyErrors_ListsAtMostMaxAndCountsTheRest(int nulls, int expectedEntries)
    {
        var body = """{ "Resources": {}, "DeviceConfiguration": { """ + string.Join(",", Enumerable.Range(0, nulls).Select(i => $"\"k{i}\": null")) + " } }";

        var errors = TemplateEngine.Evaluate(body, null).Errors;

        Assert.Equal(expectedEntries, errors.Count);
        if (nulls > TemplateEngine.MaxErrors)
        {
            Assert.Equal($"and {nulls - TemplateEngine.MaxErrors} more error(s) not listed (at most 100 are)", errors[^1].Message);
        }
    }

    [Fact]
    public void Evaluate_LongKeys_PathsAndMessagesStayShort()
    {
        // Error paths name their keys: a 4000-character key under which every node fails must not
        // make 100 errors of 4000 characters each.
        var key = new string('k', 4000);
        var body = $$"""{ "Resources": {}, "DeviceConfiguration": { "{{key}}": {"Fn::Join": ["", [{{string.Join(",", Enumerable.Repeat("null", 150))}}]]} } }""";

        var errors = TemplateEngine.Evaluate(body, null).Errors;

        Assert.Equal(TemplateEngine.MaxErrors + 1, errors.Count);
        Assert.All(errors, e => Assert.True(e.Path.Length <= 600 && e.Message.Length <= 1100, $"{e.Path.Length}/{e.Message.Length}"));
        Assert.StartsWith("DeviceConfiguration." + new string('k', 64) + "…", errors[0].Path, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_LoneSurrogate_IsAnErrorNotAThrow()
    {
        // Raw in the string, escaped in a value, escaped in a key: System.Text.Json threw ArgumentException
        // or InvalidOperationException for each (a 500). Built here: test data with a lone surrogate does
        // not survive xunit's serialisation.
        string[] bodies =
        [
            "{\"Resources\":{\"a\ud800\":{}}}",
            "{\"Resources\":{},\"DeviceConfiguration\":{\"a\":\"\\ud800\"}}",
            "{\"Resources\":{\"\\udc00\":{}}}",
        ];
        foreach (var body in bodies)
        {
            var error = Assert.Single(TemplateEngine.Evaluate(body, null).Errors);
            Assert.Equal("", error.Path);
            Assert.Contains("not valid", error.Message, StringComparison.Ordinal);
            Assert.Single(TemplateEngine.Validate(body));
            Assert.Empty(TemplateEngine.DeclaredParameters(body.Replace("Resources", "Parameters", StringComparison.Ordinal)));
        }
    }

    [Fact]
    public void Evaluate_PolicyDocumentParameterWithLoneSurrogate_IsAnError()
    {
        const string body = """{ "Parameters": { "D": { "Type": "String" } }, "Resources": { "p": { "Type": "AWS::IoT::Policy", "Properties": { "PolicyDocument": { "Ref": "D" } } } } }""";

        var result = TemplateEngine.Evaluate(body, A("{\"Version\":\"\ud800\"}", "D"));

        var error = Assert.Single(result.Errors);
        Assert.Equal("Resources.p.Properties.PolicyDocument", error.Path);
    }

    [Fact]
    public void Evaluate_LongestConditionChainThatFits_Evaluates()
    {
        // Conditions naming conditions recurse; the template's size bounds the chain (about 450 here).
        var names = Enumerable.Range(0, 10_000).Select(i => $"c{i}").ToList();
        var conditions = new List<string>();
        var length = 200;
        for (var i = 0; length < TemplateEngine.MaxTemplateLength - 100; i++)
        {
            var entry = $"\"{names[i]}\":{{\"Condition\":\"{names[i + 1]}\"}}";
            conditions.Add(entry);
            length += entry.Length + 1;
        }

        conditions.Add($"\"{names[conditions.Count]}\":{{\"Fn::Equals\":[\"a\",\"a\"]}}");
        var body = $$"""{ "Conditions": { {{string.Join(",", conditions)}} }, "Resources": {}, "DeviceConfiguration": { "v": {"Fn::If": ["c0", "yes", "no"]} } }""";

        var result = TemplateEngine.Evaluate(body, null);

        Assert.True(result.Succeeded, string.Join("; ", result.Errors.Select(e => e.Message)));
        Assert.Equal("yes", result.Plan!.DeviceConfiguration["v"]);
    }

    private static Dictionary<string, string> A(string value, string name = "A") => new(StringComparer.Ordinal) { [name] = value };

    private static string Ref(string name) => $$"""{"Ref": "{{name}}"}""";

    private static string[] Repeat(string item, int count) => [.. Enumerable.Repeat(item, count)];

    private static string Join(string delimiterJson, string[] items) => $$"""{"Fn::Join": [{{(delimiterJson.Length == 0 ? "\"\"" : delimiterJson)}}, [{{string.Join(",", items)}}]]}""";

    private static string Sub(string format) => $$"""{"Fn::Sub": "{{format}}"}""";

    private static string Configuration(string value) =>
        $$"""{ "Parameters": { "A": { "Type": "String", "Default": "" } }, "Resources": {}, "DeviceConfiguration": { "v": {{value}} } }""";

    private static string Configuration250() =>
        """{ "Parameters": { "A": { "Type": "String" } }, "Resources": {}, "DeviceConfiguration": { """
        + string.Join(",", Enumerable.Range(0, 250).Select(i => $"\"v{i}\": {Ref("A")}")) + " } }";

    // A policy document of nested objects, so that the whole template is exactly `depth` levels deep:
    // the root, Resources, p, Properties and PolicyDocument are five.
    private static string Nested(int depth) =>
        """{ "Resources": { "p": { "Type": "AWS::IoT::Policy", "Properties": { "PolicyDocument": """
        + string.Concat(Enumerable.Repeat("{\"a\":", depth - 5)) + "{}" + new string('}', depth - 5) + " } } } }";

    // Each level uses its variable eight times: 8^depth characters from a few hundred.
    private static string NestedSub(int depth)
    {
        var inner = "\"xxxxxxxx\"";
        for (var i = 0; i < depth; i++)
        {
            inner = $$"""{"Fn::Sub": ["${a}${a}${a}${a}${a}${a}${a}${a}", {"a": {{inner}}}]}""";
        }

        return inner;
    }

    // Each level joins seven empty pieces with the previous level as delimiter: 6^depth characters.
    private static string NestedJoinSplit(int depth)
    {
        var inner = "\"xx\"";
        for (var i = 0; i < depth; i++)
        {
            inner = $$"""{"Fn::Join": [{{inner}}, {"Fn::Split": [",", ",,,,,,"]}]}""";
        }

        return inner;
    }
}
