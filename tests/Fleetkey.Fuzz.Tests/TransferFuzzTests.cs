using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using Fleetkey.Services.Transfer;
using Fleetkey.Storage.Sqlite;
using Fleetkey.Storage.Transfer;
using Fleetkey.Testing;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Fleetkey.Fuzz.Tests;

/// <summary>
/// <c>transfer.import</c>: a real small export (a row in every table), damaged the ways files get
/// damaged or changed (bits flipped, bytes inserted or deleted, cut short, lines repeated, dropped or
/// swapped, values replaced), sometimes with its digest computed again so the damage reaches the rules
/// behind it, imported into a store. Property: never an exception other than a refusal
/// (<see cref="TransferException"/>); only the unchanged export is accepted; after a refusal the store is empty.
/// </summary>
public sealed class TransferFuzzTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private SqliteFleetStore _store = null!;
    private byte[] _export = [];

    public async Task InitializeAsync()
    {
        var fleet = await TransferFleet.GetAsync(encrypted: false);
        Directory.CreateDirectory(_directory.Path);
        using (var source = new SqliteFleetStore(Path.Combine(_directory.Path, "source.db")))
        {
            await source.InitializeAsync(TimeProvider.System, CancellationToken.None);
            await fleet.PopulateAsync(source);
            using var output = new MemoryStream();
            await FleetTransfer.ExportAsync(source, output, new ExportOptions { Now = TransferFleet.Start }, CancellationToken.None);
            _export = output.ToArray();
        }

        _store = await NewTargetAsync();
    }

    public Task DisposeAsync()
    {
        _store.Dispose();
        SqliteConnection.ClearAllPools();
        _directory.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Import_DamagedExports_AreRefusedCleanlyAndLeaveTheStoreEmpty()
    {
        await Fuzz.RunAsync("transfer.import", Damaged(), ImportAndCheckAsync, cases: 1_500);
    }

    /// <summary>
    /// <c>transfer.rows</c>: the row rules alone (no store, so many more inputs): rows of every table whose
    /// values are the export's own, other rows', mangled, or of the wrong kind. Property: a checker never
    /// throws, whatever a row holds; it answers with problems or none.
    /// </summary>
    [Fact]
    public void Check_AnyRow_NeverThrows()
    {
        var tables = Tables(_export);
        var names = tables.Keys.ToArray();
        var pool = tables.Values.SelectMany(t => t.Rows).SelectMany(r => r).Distinct().ToArray();
        var texts = pool.OfType<string>().Where(t => t.Length > 0).ToArray();
        var value = Gen.Frequency(
            (4, Gen.Int[0, pool.Length - 1].Select(i => pool[i])),
            (2, Gen.String.Select(x => (object?)x)),
            (1, Gen.Long.Select(x => (object?)x)),
            (1, Gen.Int[0, 0].Select(_ => (object?)null)),
            (2, Gen.Int[0, texts.Length - 1].SelectMany(i => Gen.Int[0, texts[i].Length - 1].Select(at => (object?)Mangle(texts[i], at)))));
        var rows = Gen.Int[0, names.Length - 1].SelectMany(t =>
        {
            var (columns, samples) = tables[names[t]];
            return Gen.Int[0, samples.Count - 1].SelectMany(s => Gen.Bool.Array[columns.Length].SelectMany(keep =>
                value.Array[columns.Length].Select(replacement => (names[t], columns, Values: columns.Select((_, c) => keep[c] ? samples[s][c] : replacement[c]).ToArray()))));
        });

        Fuzz.Run("transfer.rows", rows, input =>
        {
            var checker = new FleetImportChecker(null);
            var row = new ImportRow(input.Item1, input.columns);
            input.Values.CopyTo(row.Values, 0);
            row.Number = 1;
            var problems = new List<string>();
            checker.Check(row, problems);
            checker.Complete(problems);
            Assert.All(problems, p => Assert.False(string.IsNullOrWhiteSpace(p)));
        }, cases: 10_000);
    }

    [Fact]
    public async Task Import_TheExportAsWritten_IsAccepted()
    {
        var summary = await ImportAsync(_export);
        Assert.Equal(FleetTransfer.ExportedTables.Count, summary.Tables.Count);
    }

    /// <summary>
    /// Found by this target: a certificate whose notBefore was damaged into letters passed the PEM and
    /// DER checks and threw a CryptographicException when its validity was read (a 500 on registration
    /// too). The export keeps its digest broken, as the fuzzer's input had it.
    /// </summary>
    [Fact]
    public async Task Import_CertificateWithValidityThatIsNotADate_IsRefused()
    {
        var lines = Encoding.UTF8.GetString(_export).Split('\n')[..^1];
        var at = Array.FindIndex(lines, l => l.StartsWith("{\"table\":\"certificates\"", StringComparison.Ordinal)) + 1;
        var row = JsonNode.Parse(lines[at])!.AsArray();
        var pem = row[3]!.GetValue<string>();
        var fields = System.Security.Cryptography.PemEncoding.Find(pem);
        var der = Convert.FromBase64String(pem[fields.Base64Data]);
        der[der.AsSpan().IndexOf([(byte)0x17, (byte)0x0d]) + 2] = (byte)'a';
        row[3] = System.Security.Cryptography.PemEncoding.WriteString("CERTIFICATE", der) + "\n";
        lines[at] = row.ToJsonString();

        foreach (var input in new[] { Join(lines), Reseal(lines) })
        {
            var error = await Assert.ThrowsAsync<TransferException>(() => ImportAsync(input));
            Assert.Contains("certificates row 1: pem: The PEM does not hold a valid X.509 certificate.", error.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// A damaged file is refused (only the file as written imports, its digest says so); a file changed
    /// with its digest computed again, as someone changing it on purpose without a passphrase could, is
    /// refused or imported exactly as it reads: never an exception other than the refusal, never rows
    /// left behind by a refusal, never a value stored other than the file's.
    /// </summary>
    private async Task ImportAndCheckAsync((byte[] Bytes, bool Resealed) input)
    {
        var unchanged = input.Bytes.AsSpan().SequenceEqual(_export);
        try
        {
            await ImportAsync(input.Bytes);
        }
        catch (TransferException refused)
        {
            Assert.False(unchanged, "the export as written was refused: " + refused.Message);
            var left = await FleetTransfer.ExportAsync(_store, Stream.Null, new ExportOptions { Now = TransferFleet.Start }, CancellationToken.None);
            Assert.True(left.TotalRows == 0, $"a refused import left rows behind: {string.Join(", ", left.Tables.Where(t => t.Rows > 0).Select(t => t.Table))}; refused with: {refused.Message}");
            return;
        }

        using var again = new MemoryStream();
        try
        {
            await FleetTransfer.ExportAsync(_store, again, new ExportOptions { Now = TransferFleet.Start }, CancellationToken.None);
        }
        finally
        {
            _store.Dispose();
            _store = await NewTargetAsync();
        }

        Assert.True(unchanged || input.Resealed, "a damaged export was accepted");
        Assert.Equal(Rows(input.Bytes), Rows(again.ToArray()));
    }

    private Task<TransferSummary> ImportAsync(byte[] input) =>
        FleetTransfer.ImportAsync(_store, new MemoryStream(input), new ImportOptions(new FleetImportChecker(null)), CancellationToken.None);

    private async Task<SqliteFleetStore> NewTargetAsync()
    {
        var store = new SqliteFleetStore(Path.Combine(_directory.Path, $"target-{Guid.NewGuid():N}.db"));
        await store.InitializeAsync(TimeProvider.System, CancellationToken.None);
        return store;
    }

    // What an export says, whatever its JSON spelling and its rows' order within a table: each row
    // with its table, in one spelling, sorted.
    private static List<string> Rows(byte[] export)
    {
        var rows = new List<string>();
        var table = string.Empty;
        foreach (var line in Encoding.UTF8.GetString(export).Split('\n')[1..^2])
        {
            var node = JsonNode.Parse(line)!;
            if (node is JsonObject header)
            {
                table = header.ToJsonString();
            }
            else
            {
                rows.Add(table + node.ToJsonString());
            }
        }

        rows.Sort(StringComparer.Ordinal);
        return rows;
    }

    /// <summary>Each table of an export: its columns and its rows' values (strings, longs, nulls).</summary>
    private static Dictionary<string, (string[] Columns, List<object?[]> Rows)> Tables(byte[] export)
    {
        var tables = new Dictionary<string, (string[], List<object?[]>)>(StringComparer.Ordinal);
        (string[] Columns, List<object?[]> Rows) current = ([], []);
        foreach (var line in Encoding.UTF8.GetString(export).Split('\n')[1..^2])
        {
            var node = JsonNode.Parse(line)!;
            if (node is JsonObject header)
            {
                current = ([.. header["columns"]!.AsArray().Select(c => c!.GetValue<string>())], []);
                tables[header["table"]!.GetValue<string>()] = current;
            }
            else
            {
                current.Rows.Add([.. node.AsArray().Select(v => v is null ? null : v.GetValueKind() == System.Text.Json.JsonValueKind.Number ? v.GetValue<long>() : (object?)v.GetValue<string>())]);
            }
        }

        return tables.Where(t => t.Value.Item2.Count > 0).ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
    }

    private static string Mangle(string text, int at) => text[..at] + (char)(text[at] ^ 1) + text[(at + 1)..];

    // ------------------------------------------------------------------ generators

    private static readonly string[] Values =
    [
        "null", "0", "-1", "1", "9223372036854775807", "9223372036854775808", "1.5", "1e3", "true", "\"\"", "\"ACTIVE\"", "\"aCTIVE\"",
        "\"x\"", "\"\\u0000\"", "\"\\ud800\"", "[]", "{}", "\"{}\"", "\"[]\"", "\"{\\\"a\\\":1,\\\"a\\\":2}\"", "\"-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----\\n\"",
        "\"0c6f1d7e-6d39-4f0e-9a51-5d1ab0a0b099\"", "\"" + new string('a', 64) + "\"", "\"SN-1\"", "\"z-root/a-leaf\"", "\"" + new string('x', 3000) + "\"",
    ];

    private Gen<(byte[] Bytes, bool Resealed)> Damaged()
    {
        var export = _export;
        var lines = Encoding.UTF8.GetString(export).Split('\n')[..^1];
        var bytes = Gen.Int[0, export.Length - 1];
        var line = Gen.Int[0, lines.Length - 1];
        Gen<byte[]> raw = Gen.OneOf(
            // A bit flipped, a byte replaced, bytes inserted, a range deleted, the file cut short.
            Gen.Select(bytes, Gen.Int[0, 7], (at, bit) => With(export, at, (byte)(export[at] ^ (1 << bit)))),
            Gen.Select(bytes, Gen.Byte, (at, value) => With(export, at, value)),
            Gen.Select(bytes, Gen.Byte.Array[1, 8], (at, inserted) => (byte[])[.. export.AsSpan(0, at), .. inserted, .. export.AsSpan(at)]),
            Gen.Select(bytes, Gen.Int[1, 64], (at, count) => (byte[])[.. export.AsSpan(0, at), .. export.AsSpan(Math.Min(export.Length, at + count))]),
            bytes.Select(at => export[..at]),
            // A line repeated, dropped, or two swapped.
            line.Select(at => Join([.. lines[..(at + 1)], lines[at], .. lines[(at + 1)..]])),
            line.Select(at => Join([.. lines[..at], .. lines[(at + 1)..]])),
            Gen.Select(line, line, (a, b) => Join(Swap(lines, a, b))),
            // Something else entirely.
            Gen.Byte.Array[0, 200]);

        // Values replaced inside rows, the digest computed again: the damage meets the rules behind it.
        Gen<byte[]> resealed = Gen.Select(line, Gen.Int[0, 20], Gen.OneOf(Values), (at, column, value) => Reseal(ReplaceValue(lines, at, column, value)));
        Gen<byte[]> resealedRaw = raw.Select(b => Reseal(Encoding.UTF8.GetString(b).Split('\n')[..^1]));
        return Gen.Frequency(
            (5, raw.Select(b => (b, false))),
            (3, resealed.Select(b => (b, true))),
            (1, resealedRaw.Select(b => (b, true))));
    }

    private static byte[] With(byte[] source, int at, byte value)
    {
        var copy = (byte[])source.Clone();
        copy[at] = value;
        return copy;
    }

    private static string[] Swap(string[] lines, int a, int b)
    {
        var copy = (string[])lines.Clone();
        (copy[a], copy[b]) = (copy[b], copy[a]);
        return copy;
    }

    private static byte[] Join(string[] lines) => Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n");

    private static string[] ReplaceValue(string[] lines, int at, int column, string value)
    {
        var copy = (string[])lines.Clone();
        if (!copy[at].StartsWith('['))
        {
            return copy;
        }

        // Spelled out, not serialized: a value may be one a serializer refuses to write (a lone surrogate).
        var row = JsonNode.Parse(copy[at])!.AsArray();
        var values = row.Select(v => v?.ToJsonString() ?? "null").ToArray();
        values[column % values.Length] = value;
        copy[at] = "[" + string.Join(',', values) + "]";
        return copy;
    }

    /// <summary>The end line (the last line) computed again for what precedes it, when there is one.</summary>
    private static byte[] Reseal(string[] lines)
    {
        if (lines.Length < 2 || !lines[^1].StartsWith("{\"end\"", StringComparison.Ordinal))
        {
            return Join(lines);
        }

        var body = Encoding.UTF8.GetBytes(string.Join('\n', lines[..^1]) + "\n");
        var rows = lines.Count(l => l.StartsWith('['));
        return [.. body, .. Encoding.UTF8.GetBytes($"{{\"end\":true,\"rows\":{rows},\"sha256\":\"{Convert.ToHexStringLower(SHA256.HashData(body))}\"}}\n")];
    }
}
