using System.Text;

namespace Fleetkey.Signing.Tests;

/// <summary>A request of the AWS test suite, split into the parts SigV4 covers.</summary>
internal sealed record SuiteRequest(
    string Method,
    string Path,
    string Query,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Headers,
    string PayloadHash)
{
    /// <summary>
    /// Parses a request in the suite's text form: request line, <c>Name:value</c> headers (a line
    /// starting with whitespace continues the previous value, obs-fold), a blank line, the body.
    /// The target is taken verbatim, as the suite writes it.
    /// </summary>
    public static SuiteRequest Parse(string text)
    {
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var requestLine = lines[0];
        var method = requestLine[..requestLine.IndexOf(' ', StringComparison.Ordinal)];
        var target = requestLine[(method.Length + 1)..requestLine.LastIndexOf(" HTTP/1.1", StringComparison.Ordinal)];

        var headers = new List<(string Name, string Value)>();
        var index = 1;
        for (; index < lines.Length && lines[index].Length > 0; index++)
        {
            var line = lines[index];
            if (line[0] is ' ' or '\t')
            {
                headers[^1] = (headers[^1].Name, headers[^1].Value + "\n" + line);
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers.Add((line[..colon], line[(colon + 1)..].TrimStart(' ', '\t')));
        }

        var body = index + 1 < lines.Length ? string.Join('\n', lines[(index + 1)..]) : string.Empty;
        var question = target.IndexOf('?', StringComparison.Ordinal);
        var byName = headers
            .GroupBy(h => h.Name, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, IReadOnlyList<string> (g) => [.. g.Select(h => h.Value)], StringComparer.OrdinalIgnoreCase);
        return new SuiteRequest(
            method,
            question < 0 ? target : target[..question],
            question < 0 ? string.Empty : target[(question + 1)..],
            byName,
            SigV4.PayloadHash(Encoding.UTF8.GetBytes(body)));
    }
}
