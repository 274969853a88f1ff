using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;
using Fleetkey.Core.Text;
using Fleetkey.Services.Provisioning;

namespace Fleetkey.Cli;

/// <summary>
/// The production-run CSV of <c>fleetkey enrollments import</c>: <c>serial[,secret]</c> lines, read
/// a line at a time whatever the file's size. <see cref="CheckAsync"/> reads the whole file once and
/// finds every bad line (not UTF-8, too long, too many fields, an invalid serial or secret, a serial
/// repeated) before anything is written; <see cref="ReadAsync"/> reads it again for the import.
/// </summary>
/// <remarks>
/// Fields are trimmed; blank lines, lines starting with # and a first line whose first field is a
/// header word (serial, serialNumber, serial_number) are skipped; a UTF-8 byte order mark and CR line
/// ends (spreadsheets write both) are accepted. A secret is never repeated in an error. Memory stays
/// bounded: one line of at most <see cref="MaxLineBytes"/>, the first <see cref="MaxListedErrors"/>
/// errors, and, to find repeated serials, a 16-byte hash per serial for at most <see cref="MaxDataLines"/>
/// lines (about 30 MB at the bound).
/// </remarks>
internal static class EnrollmentCsv
{
    /// <summary>A line holds a serial (128 characters at most) and a secret (44); comments are the only long lines.</summary>
    public const int MaxLineBytes = 4096;

    /// <summary>Lines of one production run; a larger run is split into files (importing is idempotent).</summary>
    public const int MaxDataLines = 1_000_000;

    /// <summary>Lines of any kind (comments and blank lines too).</summary>
    public const int MaxLines = 2 * MaxDataLines;

    public const int MaxListedErrors = 100;

    private static readonly string[] HeaderWords = ["serial", "serialnumber", "serial_number"];

    /// <summary>One line's problem, by its number; never quotes a secret.</summary>
    internal sealed record LineError(int LineNumber, string Reason);

    /// <summary>What the check found: data lines, how many carry no secret, and the bad lines (the first <see cref="MaxListedErrors"/>, and how many).</summary>
    internal sealed record CheckResult(int DataLines, int LinesWithoutSecret, IReadOnlyList<LineError> Errors, int ErrorCount);

    /// <summary>Reads the whole file and reports every bad line; nothing else is done with it.</summary>
    public static async Task<CheckResult> CheckAsync(Stream input, CancellationToken cancellationToken)
    {
        var errors = new List<LineError>();
        var errorCount = 0;
        var dataLines = 0;
        var withoutSecret = 0;
        var key = RandomNumberGenerator.GetBytes(32);
        var serials = new HashSet<UInt128>();
        var repeated = new List<(int LineNumber, string Serial, UInt128 Hash)>();

        void Fail(LineError error)
        {
            errorCount++;
            if (errors.Count < MaxListedErrors)
            {
                errors.Add(error);
            }
        }

        await foreach (var item in ParseAsync(input, cancellationToken))
        {
            dataLines++;
            if (item.Error is { } error)
            {
                Fail(error);
                continue;
            }

            var line = item.Line!;
            withoutSecret += line.DeviceSecret is null ? 1 : 0;
            var hash = Hash(key, line.SerialNumber);
            if (!serials.Add(hash))
            {
                // Only the listed ones are kept: a file of one serial a million times stays small.
                if (errors.Count < MaxListedErrors)
                {
                    repeated.Add((line.LineNumber, line.SerialNumber, hash));
                }

                Fail(new LineError(line.LineNumber, string.Empty));
            }

            ZeroSecret(line);
        }

        if (repeated.Count > 0)
        {
            // Which line each repeated serial was first on: one more read, for the few reported.
            var firstLines = await FirstLinesAsync(input, key, repeated.Select(r => r.Hash).ToHashSet(), cancellationToken);
            for (var i = 0; i < errors.Count; i++)
            {
                if (errors[i].Reason.Length == 0)
                {
                    var (number, serial, hash) = repeated.First(r => r.LineNumber == errors[i].LineNumber);
                    errors[i] = new LineError(number, string.Create(CultureInfo.InvariantCulture, $"serial number {serial} is repeated (first on line {firstLines[hash]})"));
                }
            }
        }

        return new CheckResult(dataLines, withoutSecret, errors, errorCount);
    }

    /// <summary>The lines to import, read again; a bad line now means the file changed since <see cref="CheckAsync"/>.</summary>
    public static async IAsyncEnumerable<EnrollmentImportLine> ReadAsync(Stream input, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var item in ParseAsync(input, cancellationToken))
        {
            if (item.Error is { } error)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"the file changed while it was imported (line {error.LineNumber}: {error.Reason})"));
            }

            yield return item.Line!;
        }
    }

    private static async IAsyncEnumerable<(EnrollmentImportLine? Line, LineError? Error)> ParseAsync(Stream input, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var reader = new BoundedLineReader(input, MaxLineBytes);
        var first = true;
        var dataLines = 0;
        while (true)
        {
            (ReadOnlyMemory<byte> Line, bool Terminated)? next;
            var tooLong = false;
            try
            {
                next = await reader.ReadLineAsync(cancellationToken);
            }
            catch (InvalidDataException)
            {
                next = null;
                tooLong = true;
            }

            if (tooLong)
            {
                // The rest of an endless line is not worth reading: this is not a production run.
                yield return (null, new LineError(reader.LineNumber + 1, string.Create(CultureInfo.InvariantCulture, $"the line is longer than {MaxLineBytes} bytes; the file is not a serial[,secret] CSV")));
            }

            if (next is not { } read)
            {
                yield break;
            }

            if (reader.LineNumber > MaxLines)
            {
                yield return (null, new LineError(reader.LineNumber, string.Create(CultureInfo.InvariantCulture, $"the file has more than {MaxLines} lines; split the run into several files")));
                yield break;
            }

            var (line, error, isData) = ParseLine(read.Line.Span, reader.LineNumber, ref first);
            if (!isData)
            {
                continue;
            }

            if (++dataLines > MaxDataLines)
            {
                yield return (null, new LineError(reader.LineNumber, string.Create(CultureInfo.InvariantCulture, $"the file has more than {MaxDataLines} serial numbers; split the run into several files")));
                yield break;
            }

            yield return (line, error);
        }
    }

    /// <summary>One line: a serial and maybe a secret, or what is wrong with it; isData false for lines that are skipped.</summary>
    internal static (EnrollmentImportLine? Line, LineError? Error, bool IsData) ParseLine(ReadOnlySpan<byte> raw, int number, ref bool first)
    {
        if (number == 1 && raw.StartsWith("\uFEFF"u8))
        {
            raw = raw[3..];
        }

        if (!Utf8.IsValid(raw))
        {
            first = false;
            return (null, new LineError(number, "the line is not valid UTF-8 (save the file as UTF-8)"), true);
        }

        var text = Encoding.UTF8.GetString(raw).Trim();
        if (text.Length == 0 || text[0] == '#')
        {
            return (null, null, false);
        }

        var fields = text.Split(',').Select(f => f.Trim()).ToArray();
        if (first && HeaderWords.Contains(fields[0].ToLowerInvariant(), StringComparer.Ordinal))
        {
            first = false;
            return (null, null, false);
        }

        first = false;
        if (fields.Length > 2)
        {
            return (null, new LineError(number, string.Create(CultureInfo.InvariantCulture, $"expected serial[,secret], found {fields.Length} fields")), true);
        }

        var problems = new List<string>();
        EnrollmentRules.CheckSerialNumber(fields[0], problems);
        if (problems.Count > 0)
        {
            return (null, new LineError(number, fields[0].Length == 0
                ? "the serial number is empty"
                : $"invalid serial number: it must match [a-zA-Z0-9:_-]+ and be 1 to {Core.Naming.NameRules.MaxNameLength} characters"), true);
        }

        byte[]? secret = null;
        if (fields.Length == 2 && fields[1].Length > 0)
        {
            secret = EnrollmentSecrets.TryParse(fields[1]);
            if (secret is null)
            {
                return (null, new LineError(number, $"the secret is not {EnrollmentSecrets.Length} bytes of base64"), true);
            }
        }

        return (new EnrollmentImportLine(number, fields[0], secret), null, true);
    }

    private static async Task<Dictionary<UInt128, int>> FirstLinesAsync(Stream input, byte[] key, HashSet<UInt128> wanted, CancellationToken cancellationToken)
    {
        input.Seek(0, SeekOrigin.Begin);
        var first = new Dictionary<UInt128, int>();
        await foreach (var item in ParseAsync(input, cancellationToken))
        {
            if (item.Line is { } line)
            {
                var hash = Hash(key, line.SerialNumber);
                if (wanted.Contains(hash))
                {
                    first.TryAdd(hash, line.LineNumber);
                }

                ZeroSecret(line);
            }
        }

        return first;
    }

    // 128 bits of a keyed hash: two different serials of one file collide with a probability near 2^-90
    // even at the line bound, and the key (new for each import) keeps anyone from choosing ones that do.
    private static UInt128 Hash(byte[] key, string serial)
    {
        Span<byte> hash = stackalloc byte[32];
        HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(serial), hash);
        return new UInt128(BitConverter.ToUInt64(hash), BitConverter.ToUInt64(hash[8..]));
    }

    private static void ZeroSecret(EnrollmentImportLine line)
    {
        if (line.DeviceSecret is { } secret)
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }
}
