namespace Fleetkey.Fuzz.Tests;

/// <summary>
/// Deterministic edits of a well-formed input (a signed header, a CSR's DER, a JSON body), driven by
/// generated integers so that CsCheck can shrink them: each integer sets, inserts, deletes or swaps one
/// element at a position it chooses.
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
}
