using System.Text;
using CsCheck;

namespace Fleetkey.Fuzz.Tests;

/// <summary>Byte-level edits of a valid input: what a generator of well-formed inputs does not reach.</summary>
internal static class Mutation
{
    /// <summary>
    /// Up to <paramref name="most"/> edits at random places: a character from <paramref name="characters"/>
    /// replaced, inserted, or one removed, or (with <paramref name="cuts"/>) the text cut short there.
    /// </summary>
    public static Gen<(int At, int Kind, char Char)[]> Edits(string characters, int most, bool cuts = true) =>
        Gen.Select(Gen.Int[0, 1_000_000], Gen.Int[0, cuts ? 3 : 2], Gen.Char[characters]).Array[0, most];

    public static string Apply(string text, (int At, int Kind, char Char)[] edits)
    {
        var result = new StringBuilder(text);
        foreach (var (at, kind, c) in edits)
        {
            if (result.Length == 0)
            {
                break;
            }

            var position = at % result.Length;
            switch (kind)
            {
                case 0: result[position] = c; break;
                case 1: result.Insert(position, c); break;
                case 2: result.Remove(position, 1); break;
                default: result.Length = position; break;
            }
        }

        return result.ToString();
    }
}
