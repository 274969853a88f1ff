using System.Buffers;

namespace Fleetkey.Policies;

/// <summary>
/// A pattern of a policy statement (an action, a resource, a condition value), read once: its
/// wildcards and, in 2012-10-17 documents, its <c>${variables}</c>, which are looked up per request
/// and whose values are literal text.
/// </summary>
internal sealed class PolicyPattern
{
    // Token values below AnyOne name a variable: VariableBase - index into _variables.
    private const int VariableBase = Wildcard.AnyOne - 1;

    private readonly int[] _tokens;
    private readonly string[] _variables;

    // With no variables, the pattern as text with its wildcards as the characters they were written
    // as (for the String* condition operators, which compare text).
    private readonly string? _text;

    private PolicyPattern(int[] tokens, string[] variables)
    {
        _tokens = tokens;
        _variables = variables;
        _text = variables.Length == 0 ? Render(tokens) : null;
    }

    /// <summary>
    /// Reads a pattern. With <paramref name="substitute"/>, <c>${name}</c> is a variable and
    /// <c>${*}</c>, <c>${?}</c>, <c>${$}</c> stand for those characters; without it all is plain text.
    /// With <paramref name="ignoreCase"/> literal characters are folded for <see cref="Wildcard"/>.
    /// </summary>
    public static PolicyPattern Compile(string pattern, bool substitute, bool ignoreCase)
    {
        var tokens = new List<int>(pattern.Length);
        var variables = new List<string>();
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (substitute && c == '$' && i + 1 < pattern.Length && pattern[i + 1] == '{')
            {
                var end = pattern.IndexOf('}', i + 2);
                if (end > 0)
                {
                    var name = pattern[(i + 2)..end];
                    if (name is "*" or "?" or "$")
                    {
                        tokens.Add(Literal(name[0], ignoreCase));
                    }
                    else
                    {
                        tokens.Add(VariableBase - variables.Count);
                        variables.Add(name);
                    }

                    i = end;
                    continue;
                }
            }

            tokens.Add(c switch
            {
                '*' => Wildcard.AnyRun,
                '?' => Wildcard.AnyOne,
                _ => Literal(c, ignoreCase),
            });
        }

        return new PolicyPattern([.. tokens], [.. variables]);
    }

    /// <summary>
    /// Whether the pattern matches <paramref name="text"/>; null when it names a variable that
    /// <paramref name="variables"/> lacks (the caller fails closed).
    /// </summary>
    public bool? Matches(ReadOnlySpan<char> text, IReadOnlyDictionary<string, string> variables, bool ignoreCase)
    {
        if (_variables.Length == 0)
        {
            return Wildcard.IsMatch(_tokens, text, ignoreCase);
        }

        if (!HasAll(variables))
        {
            return null;
        }

        // Substituted values could make the pattern as long as their product with the pattern; but a
        // pattern with more characters than the text (wildcard runs aside) cannot match it, so the
        // expansion stops there and stays within the text's length.
        var buffer = ArrayPool<int>.Shared.Rent(_tokens.Length + text.Length + 1);
        try
        {
            var length = 0;
            var fixedCount = 0;
            foreach (var token in _tokens)
            {
                if (token <= VariableBase)
                {
                    var value = variables[_variables[VariableBase - token]];
                    fixedCount += value.Length;
                    if (fixedCount > text.Length)
                    {
                        return false;
                    }

                    foreach (var c in value)
                    {
                        buffer[length++] = Literal(c, ignoreCase);
                    }
                }
                else
                {
                    if (token != Wildcard.AnyRun && ++fixedCount > text.Length)
                    {
                        return false;
                    }

                    buffer[length++] = token;
                }
            }

            return Wildcard.IsMatch(buffer.AsSpan(0, length), text, ignoreCase);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Whether the pattern, its variables substituted and its wildcards read as plain characters,
    /// equals <paramref name="text"/>; false when a variable is absent (it matches nothing).
    /// </summary>
    public bool EqualsText(string text, IReadOnlyDictionary<string, string> variables, StringComparison comparison)
    {
        if (_text is not null)
        {
            return string.Equals(_text, text, comparison);
        }

        if (!HasAll(variables))
        {
            return false;
        }

        var buffer = ArrayPool<char>.Shared.Rent(text.Length + 1);
        try
        {
            var length = 0;
            foreach (var token in _tokens)
            {
                if (token <= VariableBase)
                {
                    var value = variables[_variables[VariableBase - token]];
                    if (length + value.Length > text.Length)
                    {
                        return false;
                    }

                    value.CopyTo(buffer.AsSpan(length));
                    length += value.Length;
                }
                else
                {
                    if (length == text.Length)
                    {
                        return false;
                    }

                    buffer[length++] = Character(token);
                }
            }

            return buffer.AsSpan(0, length).Equals(text, comparison);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    private bool HasAll(IReadOnlyDictionary<string, string> variables)
    {
        foreach (var name in _variables)
        {
            if (!variables.ContainsKey(name))
            {
                return false;
            }
        }

        return true;
    }

    private static int Literal(char c, bool ignoreCase) => ignoreCase ? Wildcard.Fold(c) : c;

    private static char Character(int token) => token switch
    {
        Wildcard.AnyRun => '*',
        Wildcard.AnyOne => '?',
        _ => (char)token,
    };

    private static string Render(int[] tokens) => string.Create(tokens.Length, tokens, static (span, tokens) =>
    {
        for (var i = 0; i < tokens.Length; i++)
        {
            span[i] = Character(tokens[i]);
        }
    });
}
