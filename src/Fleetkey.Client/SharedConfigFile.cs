namespace Fleetkey.Client;

/// <summary>
/// The AWS shared credentials and config files: INI sections of <c>key = value</c> lines, comments
/// starting with <c>#</c> or <c>;</c>. In the config file a profile's section is <c>[profile NAME]</c>
/// (<c>[default]</c> for the default one); in the credentials file it is <c>[NAME]</c>.
/// </summary>
internal sealed class SharedConfigFile
{
    private readonly Dictionary<string, Dictionary<string, string>> _sections;

    private SharedConfigFile(string path, Dictionary<string, Dictionary<string, string>> sections)
    {
        Path = path;
        _sections = sections;
    }

    public string Path { get; }

    /// <summary>Reads the file, or returns an empty one when it does not exist.</summary>
    public static SharedConfigFile Read(string path)
    {
        var sections = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        if (!File.Exists(path))
        {
            return new SharedConfigFile(path, sections);
        }

        Dictionary<string, string>? current = null;
        foreach (var rawLine in File.ReadLines(path))
        {
            var line = rawLine.Trim();
            if (line.Length == 0 || line[0] is '#' or ';')
            {
                continue;
            }

            if (line[0] == '[' && line[^1] == ']')
            {
                var name = string.Join(' ', line[1..^1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
                if (!sections.TryGetValue(name, out current))
                {
                    current = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                    sections.Add(name, current);
                }

                continue;
            }

            // An indented line belongs to a nested block (e.g. "s3 =" followed by its settings): not a profile key.
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (current is null || equals <= 0 || char.IsWhiteSpace(rawLine[0]))
            {
                continue;
            }

            current[line[..equals].Trim()] = line[(equals + 1)..].Trim();
        }

        return new SharedConfigFile(path, sections);
    }

    /// <summary>A profile's settings in the credentials file (<c>[NAME]</c>).</summary>
    public IReadOnlyDictionary<string, string>? CredentialsProfile(string profile) =>
        _sections.TryGetValue(profile, out var section) ? section : null;

    /// <summary>A profile's settings in the config file (<c>[profile NAME]</c>; <c>[default]</c> for the default).</summary>
    public IReadOnlyDictionary<string, string>? ConfigProfile(string profile)
    {
        if (_sections.TryGetValue("profile " + profile, out var section))
        {
            return section;
        }

        return profile == "default" && _sections.TryGetValue("default", out section) ? section : null;
    }
}
