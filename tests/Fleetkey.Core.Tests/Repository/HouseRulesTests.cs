using System.Text.RegularExpressions;
using Xunit;

namespace Fleetkey.Core.Tests.Repository;

/// <summary>
/// House rules the compiler's analyzers do not check, checked over every C# file of the repository (the
/// naming rule is the build's own: IDE1006 is an error in .editorconfig).
/// </summary>
public sealed partial class HouseRulesTests
{
    private static readonly string Root = FindRoot();

    /// <summary>
    /// One lock type: every <c>lock</c> statement takes a <see cref="Lock"/> declared as such in its file, never a
    /// collection or an <c>object</c> (the compiler would take either without a word).
    /// </summary>
    [Fact]
    public void LockStatements_EachTakesASystemThreadingLock()
    {
        var problems = new List<string>();
        foreach (var file in SourceFiles())
        {
            var text = File.ReadAllText(file);
            foreach (Match statement in LockStatement().Matches(text))
            {
                var name = statement.Groups["name"].Value.Split('.')[^1];
                if (!Regex.IsMatch(text, $@"\bLock\s+{Regex.Escape(name)}\b|\b{Regex.Escape(name)}\s*=\s*new\s+Lock\(\)", RegexOptions.CultureInvariant))
                {
                    var line = text.AsSpan(0, statement.Index).Count('\n') + 1;
                    problems.Add($"{Path.GetRelativePath(Root, file)}:{line}: lock ({statement.Groups["name"].Value}) is not a System.Threading.Lock");
                }
            }
        }

        Assert.Empty(problems);
    }

    private static IEnumerable<string> SourceFiles() =>
        new[] { "src", "tests", "bench" }
            .SelectMany(d => Directory.EnumerateFiles(Path.Combine(Root, d), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains("node_modules", StringComparison.Ordinal));

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Fleetkey.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (Fleetkey.slnx) is not above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"^\s*lock\s*\((?<name>[\w.]+)\)", RegexOptions.Multiline | RegexOptions.CultureInvariant)]
    private static partial Regex LockStatement();
}
