namespace Fleetkey.Policies;

/// <summary>One condition key under one operator, with its values as written and as patterns.</summary>
internal sealed record CompiledCondition(string Operator, string Key, IReadOnlyList<string> Texts, PolicyPattern[] Values);
