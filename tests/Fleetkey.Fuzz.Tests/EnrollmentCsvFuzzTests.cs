using System.Text;
using CsCheck;
using Fleetkey.Cli;
using Fleetkey.Core.Naming;
using Xunit;

namespace Fleetkey.Fuzz.Tests;

/// <summary>
/// <c>enrollments.csv</c>: the production-run CSV reader of <c>fleetkey enrollments import</c> over
/// CSV-like bytes (serials, commas, secrets, comments, CR and LF, a byte order mark, bytes that are not
/// UTF-8). Property: the check never throws; a file it passes is read again line for line without an
/// exception, every line a valid, distinct serial with a 32-byte secret or none, as many as it counted;
/// a file it refuses has its bad lines listed, in order, with line numbers inside the file.
/// </summary>
public sealed class EnrollmentCsvFuzzTests
{
    private static readonly string Secret = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());

    private static readonly Gen<byte[]> CsvBytes = Gen.OneOf(
        Gen.Byte.Array[0, 300],
        Gen.OneOf<byte[]>(
                [.. new[] { "SN-1", "SN-2", "SN-1", "sn:_-9", "serial", "serialNumber", ",", ",,", "\n", "\r\n", "\r", " ", "#", "# note\n", "bad serial!", Secret, "bm90IDMyIGJ5dGVz", "é", new string('A', 129), "\t" }
                    .Select(Encoding.UTF8.GetBytes), [0xef, 0xbb, 0xbf], [0xff], [0xc3], [0xfc], [0x00]])
            .Array[0, 60]
            .Select(parts => parts.SelectMany(p => p).ToArray()));

    [Fact]
    public void Check_AnyBytes_RefusesWithLineNumbersOrReadsBackExactlyWhatItCounted()
    {
        Fuzz.Run("enrollments.csv", CsvBytes, bytes => CheckAndReadAsync(bytes).GetAwaiter().GetResult(), cases: 20_000);
    }

    [Theory]
    [InlineData("SN-1\nSN-1\n", "line 2: serial number SN-1 is repeated (first on line 1)")]
    [InlineData("\uFEFFserial\r\nSN-1\r\nSN 2\r\n", "line 3: invalid serial number")]
    [InlineData("SN-1,a,b\n", "line 1: expected serial[,secret], found 3 fields")]
    [InlineData(",\n", "line 1: the serial number is empty")]
    public async Task Check_BadLines_AreNamed(string csv, string expected)
    {
        var result = await EnrollmentCsv.CheckAsync(new MemoryStream(Encoding.UTF8.GetBytes(csv)), CancellationToken.None);

        Assert.Contains(result.Errors, e => $"line {e.LineNumber}: {e.Reason}".StartsWith(expected, StringComparison.Ordinal));
    }

    private static async Task CheckAndReadAsync(byte[] bytes)
    {
        var result = await EnrollmentCsv.CheckAsync(new MemoryStream(bytes), CancellationToken.None);
        var lineCount = bytes.Count(b => b == (byte)'\n') + 1;
        Assert.True(result.ErrorCount >= result.Errors.Count);
        Assert.True(result.DataLines <= lineCount);
        if (result.ErrorCount > 0)
        {
            Assert.NotEmpty(result.Errors);
            Assert.All(result.Errors, e => Assert.InRange(e.LineNumber, 1, lineCount));
            Assert.All(result.Errors, e => Assert.False(string.IsNullOrEmpty(e.Reason)));
            Assert.All(result.Errors, e => Assert.DoesNotContain(Secret, e.Reason, StringComparison.Ordinal));
            return;
        }

        var serials = new HashSet<string>(StringComparer.Ordinal);
        var withoutSecret = 0;
        await foreach (var line in EnrollmentCsv.ReadAsync(new MemoryStream(bytes), CancellationToken.None))
        {
            Assert.True(NameRules.IsRegistryName(line.SerialNumber), line.SerialNumber);
            Assert.True(serials.Add(line.SerialNumber), $"{line.SerialNumber} twice");
            Assert.True(line.DeviceSecret is null or { Length: 32 });
            withoutSecret += line.DeviceSecret is null ? 1 : 0;
        }

        Assert.Equal(result.DataLines, serials.Count);
        Assert.Equal(result.LinesWithoutSecret, withoutSecret);
    }
}
