using System.Text;
using CsCheck;

namespace Fleetkey.Fuzz.Tests;

/// <summary>
/// Deterministic edits of a well-formed input (a signed header, a CSR's DER, a JSON body, a template),
/// driven by generated values so that CsCheck can shrink them: what a generator of well-formed inputs
/// does not reach.
/// </summary>
internal static class Mutations
{
    /// <param name="element">The element an edit writes, from the bits of its integer.</param>
    public static T[] Apply<T>(IReadOnlyList<T> seed, int[] edits, Func<uint, T> element)
    {
        var items = seed.ToList();
        foreach (var edit in edits)
        {
            var value = (uint)edit;
            var position = items.Count == 0 ? 0 : (int)(value / 4 % (uint)items.Count);
            switch (value % 4)
            {
                case 0 when items.Count > 0:
                    items[position] = element(value);
                    break;
                case 1:
                    items.Insert(position, element(value));
                    break;
                case 2 when items.Count > 0:
                    items.RemoveAt(position);
                    break;
                case 3 when items.Count > 1:
                    var other = (int)(value / 13 % (uint)items.Count);
                    (items[position], items[other]) = (items[other], items[position]);
                    break;
            }
        }

        return [.. items];
    }

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
