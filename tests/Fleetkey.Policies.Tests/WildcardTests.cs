using Xunit;

namespace Fleetkey.Policies.Tests;

/// <summary>
/// The wildcard matcher's table: anchoring, empty runs, segments found leftmost, segments longer than
/// a machine word (Shift-And in chunks), texts on which the plain scan gives up, non-ASCII characters
/// and case folding. <c>*</c> and <c>?</c> in the patterns here are wildcards.
/// </summary>
public sealed class WildcardTests
{
    public static TheoryData<string, string, bool> Cases => new()
    {
        { "", "", true },
        { "", "a", false },
        { "*", "", true },
        { "?", "", false },
        { "**", "x", true },
        { "*?*", "", false },
        { "*?*", "x", true },
        { "a*b", "ab", true },
        { "a**b", "ab", true },
        { "a*b", "axxb", true },
        { "a*b", "axxbx", false },
        { "*a", "ba", true },
        { "a*", "ba", false },
        { "a*b*c", "abc", true },
        { "a*b*c", "acb", false },
        { "a*b*c", "abxbxc", true },
        { "ab*ba", "aba", false },
        { "ab*ba", "abba", true },
        { "*ab?d*", "abcabxd", true },
        { "*ab?d*", "abcabx", false },
        { "a?c", "abc", true },
        { "a?c", "ac", false },
        // Leftmost is right: the second segment still fits after the first's earliest place.
        { "*ab*ab*", "abab", true },
        { "*ab*ab*", "aba", false },
        // A segment longer than 64 positions, with and without ?.
        { "*" + new string('a', 100) + "b*", new string('a', 300) + "b", true },
        { "*" + new string('a', 100) + "b*", new string('a', 300), false },
        { "*" + string.Concat(Enumerable.Repeat("a?", 50)) + "c*", string.Concat(Enumerable.Repeat("ab", 100)) + "c", true },
        { "*" + string.Concat(Enumerable.Repeat("a?", 50)) + "c*", string.Concat(Enumerable.Repeat("ab", 100)) + "d", false },
        { "x*" + new string('a', 130) + "*y", "x" + new string('a', 129) + "y", false },
        { "x*" + new string('a', 130) + "*y", "x" + new string('a', 130) + "y", true },
        // Partial matches everywhere: the plain scan hands over to Shift-And part-way.
        { "*aaaab*", string.Concat(Enumerable.Repeat("aaaa", 200)) + "aaaab", true },
        { "*aaaab*", string.Concat(Enumerable.Repeat("aaaa", 200)), false },
        { "*a?aab*", string.Concat(Enumerable.Repeat("aaaa", 200)) + "axaab", true },
        // Characters outside ASCII, in the table's short list.
        { "*é?é*", "xéxéx", true },
        { "*é?é*", "xéxex", false },
        { "*" + new string('é', 70) + "b*", new string('é', 200) + "b", true },
        { "*" + new string('é', 70) + "b*", new string('é', 200), false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void IsMatch_Table(string pattern, string text, bool expected)
    {
        Assert.Equal(expected, Wildcard.IsMatch(Tokens(pattern, ignoreCase: false), text, ignoreCase: false));
    }

    [Fact]
    public void IsMatch_EveryHandOverPoint_FindsTheOnlyOccurrence()
    {
        // "a…ab" against "a…ab": the plain scan gives up somewhere before the one occurrence, and
        // Shift-And must start right after the last position it tried, whatever that is; across
        // these lengths the occurrence falls at every distance from the hand-over, in one word and in several.
        foreach (var length in new[] { 2, 3, 5, 8, 20, 63, 64, 65, 70, 130 })
        {
            for (var run = length; run < length + 300; run++)
            {
                var text = new string('a', run) + "b";
                var segment = new string('a', length - 1) + "b";
                Assert.True(Wildcard.IsMatch(Tokens("*" + segment + "*", ignoreCase: false), text, ignoreCase: false), $"{length}/{run}");
                Assert.True(Wildcard.IsMatch(Tokens("x*" + segment[1..] + "*", ignoreCase: false), "x" + text, ignoreCase: false), $"x {length}/{run}");
                Assert.False(Wildcard.IsMatch(Tokens("*" + segment + "b*", ignoreCase: false), text, ignoreCase: false), $"b {length}/{run}");
            }
        }
    }

    [Theory]
    [InlineData("iot:*shadow", "IOT:GetThingShadow", true)]
    [InlineData("IOT:?UBLISH", "iot:publish", true)]
    [InlineData("iot:*" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" + "b", "iot:" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", true)]
    [InlineData("*É*", "xéx", true)]
    [InlineData("iot:Publish", "iot:Subscribe", false)]
    public void IsMatch_IgnoreCase_FoldsBothSides(string pattern, string text, bool expected)
    {
        Assert.Equal(expected, Wildcard.IsMatch(Tokens(pattern, ignoreCase: true), text, ignoreCase: true));
    }

    private static int[] Tokens(string pattern, bool ignoreCase) =>
        [.. pattern.Select(c => c switch
        {
            '*' => Wildcard.AnyRun,
            '?' => Wildcard.AnyOne,
            _ => ignoreCase ? Wildcard.Fold(c) : c,
        })];
}
