using System.Buffers;
using System.Numerics;

namespace Fleetkey.Policies;

/// <summary>
/// IAM wildcard matching: <c>*</c> is any run of characters, <c>?</c> any one. Linear in the text
/// whatever the pattern: no regular expression, no backtracking.
/// </summary>
/// <remarks>
/// <para>A pattern is split at its <c>*</c>s into segments of fixed length. The first must match at the
/// start of the text and the last at its end; each one between is matched at its leftmost occurrence
/// after the one before (leftmost leaves the most room for the rest, so this is exact, the way
/// IAM-style matchers work).</para>
/// <para>Finding a segment with <c>?</c>s in it is the only costly step: a plain scan compares the
/// segment at each position and, on a text such as <c>aaaa…</c> against <c>*aaa…ab*</c>, does
/// text × segment comparisons (this was 82 ms per decision for a 2,000-character segment and a
/// 64 KB topic). The scan here gives up as soon as it has done more than a few comparisons per
/// position and finishes with Shift-And, a bit-parallel automaton that reads each character once
/// (64 segment positions per machine word): O(text × ⌈segment/64⌉) at worst, the plain scan's speed
/// on ordinary inputs.</para>
/// <para>Patterns are tokens: a character (≥ 0), <see cref="AnyRun"/> or <see cref="AnyOne"/>, so that a
/// substituted policy variable's <c>*</c> stays a literal character. With <c>ignoreCase</c> the
/// pattern's characters must already be folded with <see cref="Fold"/>.</para>
/// </remarks>
internal static class Wildcard
{
    public const int AnyRun = -1;
    public const int AnyOne = -2;

    private const int WordBits = 64;

    public static bool IsMatch(ReadOnlySpan<int> pattern, ReadOnlySpan<char> text, bool ignoreCase)
    {
        var firstStar = pattern.IndexOf(AnyRun);
        if (firstStar < 0)
        {
            return pattern.Length == text.Length && MatchesAt(pattern, text, ignoreCase);
        }

        var lastStar = pattern.LastIndexOf(AnyRun);
        var head = pattern[..firstStar];
        var tail = pattern[(lastStar + 1)..];
        if (head.Length + tail.Length > text.Length
            || !MatchesAt(head, text, ignoreCase)
            || !MatchesAt(tail, text[(text.Length - tail.Length)..], ignoreCase))
        {
            return false;
        }

        var window = text[head.Length..(text.Length - tail.Length)];
        var middle = firstStar < lastStar ? pattern[(firstStar + 1)..lastStar] : [];
        while (!middle.IsEmpty)
        {
            var star = middle.IndexOf(AnyRun);
            var segment = star < 0 ? middle : middle[..star];
            middle = star < 0 ? [] : middle[(star + 1)..];
            if (segment.IsEmpty)
            {
                continue;
            }

            var at = Find(segment, window, ignoreCase);
            if (at < 0)
            {
                return false;
            }

            window = window[(at + segment.Length)..];
        }

        return true;
    }

    /// <summary>The case folding of ignore-case matching (actions), as <c>char.ToUpperInvariant</c>.</summary>
    public static char Fold(char c) => c < 128 ? (char.IsAsciiLetterLower(c) ? (char)(c - ('a' - 'A')) : c) : char.ToUpperInvariant(c);

    // The pattern against the start of the text, which is at least as long.
    private static bool MatchesAt(ReadOnlySpan<int> pattern, ReadOnlySpan<char> text, bool ignoreCase)
    {
        for (var i = 0; i < pattern.Length; i++)
        {
            if (!Same(pattern[i], text[i], ignoreCase))
            {
                return false;
            }
        }

        return true;
    }

    private static bool Same(int token, char c, bool ignoreCase) => token == AnyOne || token == (ignoreCase ? Fold(c) : c);

    /// <summary>The leftmost start of <paramref name="segment"/> (no <see cref="AnyRun"/>) in the text, or -1.</summary>
    private static int Find(ReadOnlySpan<int> segment, ReadOnlySpan<char> text, bool ignoreCase)
    {
        var last = text.Length - segment.Length;
        var first = segment[0];
        var skip = first >= 0 && !ignoreCase;
        long work = 0;
        for (var i = 0; i <= last; i++)
        {
            if (skip)
            {
                // A literal first character: jump to its next occurrence (vectorised).
                var next = text[i..(last + 1)].IndexOf((char)first);
                if (next < 0)
                {
                    return -1;
                }

                i += next;
            }

            var j = 0;
            while (j < segment.Length && Same(segment[j], text[i + j], ignoreCase))
            {
                j++;
            }

            if (j == segment.Length)
            {
                return i;
            }

            // More than a few comparisons per position so far: partial matches are piling up, as on
            // an adversarial text. The rest is read once, bit-parallel.
            work += j + 1;
            if (work > (4L * (i + 1)) + (2L * segment.Length))
            {
                var rest = ShiftAnd(segment, text[(i + 1)..], ignoreCase);
                return rest < 0 ? -1 : i + 1 + rest;
            }
        }

        return -1;
    }

    /// <summary>Shift-And: the leftmost start of the segment in the text, reading each character once per 64 segment positions.</summary>
    private static int ShiftAnd(ReadOnlySpan<int> segment, ReadOnlySpan<char> text, bool ignoreCase)
    {
        if (segment.Length > text.Length)
        {
            return -1;
        }

        if (segment.Length > WordBits)
        {
            return ShiftAndLong(segment, text, ignoreCase);
        }

        var masks = new Masks(stackalloc ulong[128], stackalloc char[WordBits], stackalloc ulong[WordBits]);
        masks.Build(segment);
        var goal = 1UL << (segment.Length - 1);
        var state = 0UL;
        for (var i = 0; i < text.Length; i++)
        {
            state = ((state << 1) | 1) & masks.For(text[i], ignoreCase);
            if ((state & goal) != 0)
            {
                return i - segment.Length + 1;
            }
        }

        return -1;
    }

    // A segment longer than a word: each 64-position chunk is run over the text on its own, marking the
    // starts at which that chunk fits; a start where every chunk fits is an occurrence.
    private static int ShiftAndLong(ReadOnlySpan<int> segment, ReadOnlySpan<char> text, bool ignoreCase)
    {
        var starts = text.Length - segment.Length + 1;
        var words = (starts + WordBits - 1) / WordBits;
        var candidateArray = ArrayPool<ulong>.Shared.Rent(words);
        var fitArray = ArrayPool<ulong>.Shared.Rent(words);
        try
        {
            var candidates = candidateArray.AsSpan(0, words);
            var fits = fitArray.AsSpan(0, words);
            candidates.Fill(ulong.MaxValue);
            var masks = new Masks(stackalloc ulong[128], stackalloc char[WordBits], stackalloc ulong[WordBits]);
            for (var offset = 0; offset < segment.Length; offset += WordBits)
            {
                var chunk = segment.Slice(offset, Math.Min(WordBits, segment.Length - offset));
                masks.Build(chunk);
                fits.Clear();
                var goal = 1UL << (chunk.Length - 1);
                var state = 0UL;
                var scan = text.Slice(offset, starts - 1 + chunk.Length);
                for (var end = 0; end < scan.Length; end++)
                {
                    state = ((state << 1) | 1) & masks.For(scan[end], ignoreCase);
                    if ((state & goal) != 0)
                    {
                        var start = end - chunk.Length + 1;
                        fits[start / WordBits] |= 1UL << (start % WordBits);
                    }
                }

                for (var w = 0; w < words; w++)
                {
                    candidates[w] &= fits[w];
                }
            }

            for (var w = 0; w < words; w++)
            {
                if (candidates[w] != 0)
                {
                    return (w * WordBits) + BitOperations.TrailingZeroCount(candidates[w]);
                }
            }

            return -1;
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(candidateArray);
            ArrayPool<ulong>.Shared.Return(fitArray);
        }
    }

    /// <summary>
    /// Shift-And's masks for up to 64 segment positions: for a character, the positions it may stand
    /// at. A table for ASCII, and a short list for the segment's other characters (at most 64).
    /// </summary>
    private ref struct Masks(Span<ulong> ascii, Span<char> others, Span<ulong> otherMasks)
    {
        private readonly Span<ulong> _ascii = ascii;
        private readonly Span<char> _others = others;
        private readonly Span<ulong> _otherMasks = otherMasks;
        private int _otherCount;
        private ulong _anyOne;

        public void Build(ReadOnlySpan<int> chunk)
        {
            _ascii.Clear();
            _otherCount = 0;
            _anyOne = 0;
            for (var j = 0; j < chunk.Length; j++)
            {
                var bit = 1UL << j;
                var token = chunk[j];
                if (token == AnyOne)
                {
                    _anyOne |= bit;
                }
                else if (token < 128)
                {
                    _ascii[token] |= bit;
                }
                else
                {
                    var k = _others[.._otherCount].IndexOf((char)token);
                    if (k < 0)
                    {
                        k = _otherCount++;
                        _others[k] = (char)token;
                        _otherMasks[k] = 0;
                    }

                    _otherMasks[k] |= bit;
                }
            }

            for (var c = 0; c < _ascii.Length; c++)
            {
                _ascii[c] |= _anyOne;
            }

            for (var k = 0; k < _otherCount; k++)
            {
                _otherMasks[k] |= _anyOne;
            }
        }

        public readonly ulong For(char c, bool ignoreCase)
        {
            if (ignoreCase)
            {
                c = Fold(c);
            }

            if (c < 128)
            {
                return _ascii[c];
            }

            var k = _others[.._otherCount].IndexOf(c);
            return k < 0 ? _anyOne : _otherMasks[k];
        }
    }
}
