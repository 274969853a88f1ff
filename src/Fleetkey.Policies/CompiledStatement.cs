using System.Runtime.CompilerServices;

namespace Fleetkey.Policies;

/// <summary>
/// A statement's patterns read once, for the evaluator: the broker decides on every CONNECT, PUBLISH,
/// SUBSCRIBE and delivery, and reading the same patterns again each time cost more than matching them.
/// Kept beside the statement (weakly: it goes when the parsed document goes), one per variable
/// language, since a document's Version decides whether <c>${…}</c> is a variable.
/// </summary>
internal sealed class CompiledStatement
{
    public static readonly IReadOnlyDictionary<string, string> NoVariables = new Dictionary<string, string>(StringComparer.Ordinal);

    private static readonly ConditionalWeakTable<PolicyStatement, CompiledStatement> WithVariables = [];
    private static readonly ConditionalWeakTable<PolicyStatement, CompiledStatement> PlainText = [];
    private static readonly ConditionalWeakTable<PolicyStatement, CompiledStatement>.CreateValueCallback CompileWithVariables = s => new(s, substitute: true);
    private static readonly ConditionalWeakTable<PolicyStatement, CompiledStatement>.CreateValueCallback CompilePlainText = s => new(s, substitute: false);

    private CompiledStatement(PolicyStatement statement, bool substitute)
    {
        Actions = [.. statement.Actions.Select(a => PolicyPattern.Compile(a, substitute: false, ignoreCase: true))];
        NotActions = [.. statement.NotActions.Select(a => PolicyPattern.Compile(a, substitute: false, ignoreCase: true))];
        Resources = [.. statement.Resources.Select(r => PolicyPattern.Compile(r, substitute, ignoreCase: false))];
        NotResources = [.. statement.NotResources.Select(r => PolicyPattern.Compile(r, substitute, ignoreCase: false))];
        Conditions = [.. statement.Conditions.SelectMany(op => op.Value.Select(key => new CompiledCondition(op.Key, key.Key, key.Value, substitute)))];
    }

    public PolicyPattern[] Actions { get; }

    public PolicyPattern[] NotActions { get; }

    public PolicyPattern[] Resources { get; }

    public PolicyPattern[] NotResources { get; }

    public CompiledCondition[] Conditions { get; }

    public static CompiledStatement Of(PolicyStatement statement, bool substitute) => substitute
        ? WithVariables.GetValue(statement, CompileWithVariables)
        : PlainText.GetValue(statement, CompilePlainText);
}
