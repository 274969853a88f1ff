using System.Globalization;

namespace Fleetkey.Core.Text;

/// <summary>
/// Reads a file of lines (an export, an enrollment CSV) line by line, as bytes, holding at most one
/// line (of at most <see cref="MaxLineBytes"/>) in memory whatever the file's size: a file of one
/// endless line is refused when the line passes the bound, not read whole. Bytes are handed out
/// undecoded, so a digest covers exactly what the file holds and invalid UTF-8 is found and refused
/// by the caller, never silently replaced as a <see cref="StreamReader"/> would.
/// </summary>
public sealed class BoundedLineReader(Stream input, int maxLineBytes)
{
    private byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;
    private bool _eof;

    public int MaxLineBytes => maxLineBytes;

    /// <summary>The number of the line last returned (1-based).</summary>
    public int LineNumber { get; private set; }

    /// <summary>
    /// The next line without its '\n' (valid until the next call), or null at the end of the input;
    /// <see cref="InvalidDataException"/> when the line is longer than <see cref="MaxLineBytes"/>.
    /// <c>Terminated</c> tells whether the line ended with '\n' (every line of an export does).
    /// </summary>
    public async ValueTask<(ReadOnlyMemory<byte> Line, bool Terminated)?> ReadLineAsync(CancellationToken cancellationToken)
    {
        var scanned = 0;
        while (true)
        {
            var newline = _buffer.AsSpan(_start + scanned, _end - _start - scanned).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                var length = scanned + newline;
                var line = _buffer.AsMemory(_start, length);
                _start += length + 1;
                LineNumber++;
                return (line, true);
            }

            scanned = _end - _start;
            if (scanned > maxLineBytes)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"Line {LineNumber + 1} is longer than {maxLineBytes} bytes."));
            }

            if (_eof)
            {
                if (scanned == 0)
                {
                    return null;
                }

                var last = _buffer.AsMemory(_start, scanned);
                _start = _end;
                LineNumber++;
                return (last, false);
            }

            await FillAsync(cancellationToken);
        }
    }

    private async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            // Keep the partial line at the front; the line returned before this call is no longer used.
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            // One more byte than the bound, so that a line of exactly the bound still finds its '\n'.
            Array.Resize(ref _buffer, Math.Min(_buffer.Length * 2, maxLineBytes + 2));
        }

        var read = await input.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        if (read == 0)
        {
            _eof = true;
        }

        _end += read;
    }
}
