using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Fleetkey.Client;

namespace Fleetkey.Bench;

/// <summary>
/// Fills the registry that describe and list read: things <c>bench-0000000</c> … with attributes
/// <c>serial</c> = <c>SN0000000</c> … and <c>site</c> = <c>site-000</c> … <c>site-099</c>, every
/// tenth of thing type <c>BenchSensor</c>. Two ways:
/// <list type="bullet">
/// <item><description>import (when the bench starts the server): a throwaway server on SQLite makes
/// the CA, the access key, the thing type and two prototype things through the API; <c>fleetkey
/// export</c> writes them out; the bench streams that export into <c>fleetkey import</c> with each
/// prototype's rows (in whatever tables hold them) repeated for every thing, names, ids and
/// attribute values replaced. What the server reads is what its own API wrote, only more of it.</description></item>
/// <item><description>api: CreateThing for every thing, many in flight.</description></item>
/// </list>
/// </summary>
internal static class RegistryFiller
{
    public const string TypeName = "BenchSensor";

    public const string AlreadyThere = "already there";

    public static string ThingName(long index) => string.Create(CultureInfo.InvariantCulture, $"bench-{index:D7}");

    public static string Serial(long index) => string.Create(CultureInfo.InvariantCulture, $"SN{index:D7}");

    public static string Site(long index) => string.Create(CultureInfo.InvariantCulture, $"site-{index % 100:D3}");

    /// <summary>Things through the API, skipped when the first and last are already there (a second run against the same server).</summary>
    public static async Task<FillResult> ThroughApiAsync(BenchClient client, int things, int concurrency, int? serverPid, BenchProgress progress, CancellationToken cancellationToken)
    {
        if (await ExistsAsync(client.Iot, ThingName(0), cancellationToken) && await ExistsAsync(client.Iot, ThingName(things - 1), cancellationToken))
        {
            return new FillResult(AlreadyThere, things, 0, 0, $"{ThingName(0)} … {ThingName(things - 1)} were there already, not filled again", null);
        }

        await IgnoreExistingAsync(() => client.Iot.CreateThingTypeAsync(new CreateThingTypeRequest { ThingTypeName = TypeName }, cancellationToken));
        var phase = progress.Begin($"fill: CreateThing × {things:N0}", things);
        var next = -1L;
        var result = await LoadDriver.RunAsync(
            new LoadPlan(concurrency, null, things),
            async (index, ct) =>
            {
                await IgnoreExistingAsync(() => client.Iot.CreateThingAsync(NewThing(index), ct));
                return true;
            },
            () => Interlocked.Increment(ref next),
            serverPid,
            phase,
            cancellationToken);
        phase.Complete(string.Create(CultureInfo.InvariantCulture, $"{result.Succeeded:N0} things in {result.Seconds:F1} s ({result.Rate:N0}/s), {result.Failed} errors"));
        if (result.Failed > 0)
        {
            throw new InvalidOperationException($"Filling the registry failed {result.Failed} times: {string.Join("; ", result.Errors)}");
        }

        return new FillResult(
            "api", things, result.Seconds, result.Rate,
            $"CreateThing through the API, {concurrency} in flight", result.Cpu);
    }

    /// <summary>
    /// Prepares <paramref name="dataDirectory"/> (or the empty PostgreSQL <paramref name="database"/>)
    /// holding <paramref name="things"/> things, its CA and a root key whose credentials file it
    /// writes there; the server is then started on it.
    /// </summary>
    public static async Task<FillResult> ImportAsync(
        ServerLaunch launch, string workDirectory, string dataDirectory, string? database, int things, BenchProgress progress, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var phase = progress.Begin($"fill: import {things:N0} things", things);
        var seedDirectory = Path.Combine(workDirectory, "seed");
        phase.Report(0, "making the prototype things on a throwaway server");
        await using (var seed = await ServerProcess.StartAsync(launch, seedDirectory, database: null, cancellationToken))
        {
            using var client = new BenchClient(seed.Endpoint, AccessKey.Read(Path.Combine(seedDirectory, "credentials")), "us-east-1", 1, TimeSpan.FromSeconds(60));
            await client.Iot.CreateThingTypeAsync(new CreateThingTypeRequest { ThingTypeName = TypeName }, cancellationToken);
            foreach (var prototype in Prototype.All)
            {
                await client.Iot.CreateThingAsync(prototype.Request(), cancellationToken);
            }

            if (await seed.StopAsync(TimeSpan.FromSeconds(30)) is not 0)
            {
                throw new InvalidOperationException($"The throwaway server did not stop cleanly:\n{seed.LogTail()}");
            }
        }

        var exportPath = Path.Combine(workDirectory, "seed.jsonl");
        var (exported, exportOutput) = await ServerProcess.RunCommandAsync(launch.Dll, ["export", "--data", seedDirectory, exportPath], null, cancellationToken);
        if (exported != 0)
        {
            throw new InvalidOperationException($"fleetkey export failed ({exported}):\n{exportOutput}");
        }

        var prepared = watch.Elapsed;
        phase.Report(0, "importing");
        var importWatch = Stopwatch.StartNew();
        string[] importArguments = database is null
            ? ["import", "--data", dataDirectory, "-"]
            : ["import", "--data", dataDirectory, "--database", database, "-"];
        var (imported, importOutput) = await ServerProcess.RunCommandAsync(
            launch.Dll,
            importArguments,
            stdin => Task.Run(() => Expand(exportPath, stdin, things, phase), cancellationToken),
            cancellationToken);
        if (imported != 0)
        {
            throw new InvalidOperationException($"fleetkey import failed ({imported}):\n{importOutput}");
        }

        File.Copy(Path.Combine(seedDirectory, "credentials"), Path.Combine(dataDirectory, "credentials"), overwrite: true);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path.Combine(dataDirectory, "credentials"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        var importSeconds = importWatch.Elapsed.TotalSeconds;
        phase.Complete(string.Create(CultureInfo.InvariantCulture, $"{things:N0} things in {watch.Elapsed.TotalSeconds:F1} s (import {importSeconds:F1} s)"));
        return new FillResult(
            "import", things, watch.Elapsed.TotalSeconds, things / watch.Elapsed.TotalSeconds,
            string.Create(CultureInfo.InvariantCulture,
                $"`fleetkey import` of a generated export before the server started: {prepared.TotalSeconds:F1} s for the throwaway server, its prototype things and `fleetkey export`, then {importSeconds:F1} s generating and importing ({things / importSeconds:N0} things/s, one transaction)"),
            null);
    }

    private static CreateThingRequest NewThing(long index) => new()
    {
        ThingName = ThingName(index),
        ThingTypeName = index % 10 == 0 ? TypeName : null,
        AttributePayload = new AttributePayload { Attributes = new Dictionary<string, string> { ["serial"] = Serial(index), ["site"] = Site(index) } },
    };

    /// <summary>
    /// Copies the export to <paramref name="output"/>, every row that names a prototype thing left
    /// out and repeated, at the end of its table, once for every thing of that prototype's kind.
    /// </summary>
    private static void Expand(string exportPath, Stream output, int things, BenchProgress.Phase phase)
    {
        // The import checks the SHA-256 of every byte before the end line: the expanded copy gets its own.
        using var digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var buffered = new BufferedStream(new DigestingStream(output, digest), 1 << 20);
        using var writer = new Utf8JsonWriter(buffered, new JsonWriterOptions { SkipValidation = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        var salt = RandomNumberGenerator.GetBytes(8);
        var prototypeRows = new List<(Prototype Prototype, JsonElement[] Cells)>();
        string[] columns = [];
        var table = string.Empty;
        long rows = 0;
        var ids = new Dictionary<Prototype, string>();

        void WriteLine(ReadOnlySpan<byte> line)
        {
            buffered.Write(line);
            buffered.WriteByte((byte)'\n');
        }

        void FlushPrototypes()
        {
            if (prototypeRows.Count == 0)
            {
                return;
            }

            for (var index = 0L; index < things; index++)
            {
                var kind = Prototype.For(index);
                var replacements = kind.Replacements(index, ids.GetValueOrDefault(kind), ThingId(salt, index));
                foreach (var (prototype, cells) in prototypeRows)
                {
                    if (prototype != kind)
                    {
                        continue;
                    }

                    writer.WriteStartArray();
                    foreach (var cell in cells)
                    {
                        if (cell.ValueKind == JsonValueKind.String)
                        {
                            writer.WriteStringValue(Replace(cell.GetString()!, replacements));
                        }
                        else
                        {
                            cell.WriteTo(writer);
                        }
                    }

                    writer.WriteEndArray();
                    writer.Flush();
                    writer.Reset(buffered);
                    buffered.WriteByte((byte)'\n');
                    rows++;
                }

                if (index % 50_000 == 0)
                {
                    phase.Report(index, string.Create(CultureInfo.InvariantCulture, $"{table}: rows of {index:N0} things written to fleetkey import"));
                }
            }

            prototypeRows.Clear();
        }

        foreach (var line in File.ReadLines(exportPath, Encoding.UTF8))
        {
            if (line.Length == 0)
            {
                continue;
            }

            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Array)
            {
                var cells = root.EnumerateArray().Select(c => c.Clone()).ToArray();
                // The audit trail names the prototypes too (their CreateThing), but it is one hash chain of numbered records, not a
                // thing's rows: it is copied as it is, as the import refuses a repeated sequence number.
                var prototype = table == "audit_records" ? null
                    : Prototype.All.FirstOrDefault(p => cells.Any(c => c.ValueKind == JsonValueKind.String && c.GetString()!.Contains(p.Name, StringComparison.Ordinal)));
                if (prototype is null)
                {
                    WriteLine(Encoding.UTF8.GetBytes(line));
                    rows++;
                    continue;
                }

                // The things row gives the prototype's thing id, which rows of later tables may repeat.
                var idColumn = Array.IndexOf(columns, "thing_id");
                var nameColumn = Array.IndexOf(columns, "name");
                if (idColumn >= 0 && nameColumn >= 0 && cells[nameColumn].ValueKind == JsonValueKind.String && cells[nameColumn].GetString() == prototype.Name)
                {
                    ids[prototype] = cells[idColumn].GetString()!;
                }

                prototypeRows.Add((prototype, cells));
                continue;
            }

            // A table header or the end line: the table before it is complete.
            FlushPrototypes();
            if (root.TryGetProperty("end", out _))
            {
                buffered.Flush();
                var sha256 = Convert.ToHexStringLower(digest.GetHashAndReset());
                writer.WriteStartObject();
                writer.WriteBoolean("end", true);
                writer.WriteNumber("rows", rows);
                writer.WriteString("sha256", sha256);
                writer.WriteEndObject();
                writer.Flush();
                buffered.WriteByte((byte)'\n');
                break;
            }

            if (root.TryGetProperty("columns", out var names))
            {
                table = root.GetProperty("table").GetString() ?? string.Empty;
                columns = names.EnumerateArray().Select(c => c.GetString() ?? string.Empty).ToArray();
            }

            WriteLine(Encoding.UTF8.GetBytes(line));
        }

        buffered.Flush();
    }

    private static string Replace(string value, (string From, string To)[] replacements)
    {
        foreach (var (from, to) in replacements)
        {
            value = value.Replace(from, to, StringComparison.Ordinal);
        }

        return value;
    }

    /// <summary>A thing id in the server's format (a GUID), the same for the same thing in every table, unique across runs.</summary>
    private static string ThingId(byte[] salt, long index)
    {
        Span<byte> bytes = stackalloc byte[16];
        salt.CopyTo(bytes);
        BinaryPrimitives.WriteInt64BigEndian(bytes[8..], index);
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x40); // version 4
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // RFC 4122 variant
        return new Guid(bytes, bigEndian: true).ToString("D");
    }

    private static async Task<bool> ExistsAsync(IotClient client, string thingName, CancellationToken cancellationToken)
    {
        try
        {
            await client.DescribeThingAsync(new DescribeThingRequest { ThingName = thingName }, cancellationToken);
            return true;
        }
        catch (ResourceNotFoundException)
        {
            return false;
        }
    }

    private static async Task IgnoreExistingAsync(Func<Task> create)
    {
        try
        {
            await create();
        }
        catch (ResourceAlreadyExistsException)
        {
            // Made by an earlier run: the same name, type and attributes.
        }
    }

    /// <summary>A thing the throwaway server makes, whose rows stand for every thing of its kind: typed (every tenth) or not.</summary>
    private sealed class Prototype(string name, string serial, string site, bool typed)
    {
        public static readonly Prototype Typed = new("benchprotoT", "SNprotoT", "SITEprotoT", typed: true);
        public static readonly Prototype Plain = new("benchprotoU", "SNprotoU", "SITEprotoU", typed: false);
        public static readonly Prototype[] All = [Typed, Plain];

        public string Name { get; } = name;

        public static Prototype For(long index) => index % 10 == 0 ? Typed : Plain;

        public CreateThingRequest Request() => new()
        {
            ThingName = Name,
            ThingTypeName = typed ? TypeName : null,
            AttributePayload = new AttributePayload { Attributes = new Dictionary<string, string> { ["serial"] = serial, ["site"] = site } },
        };

        public (string From, string To)[] Replacements(long index, string? thingId, string newThingId) => thingId is null
            ? [(Name, ThingName(index)), (serial, Serial(index)), (site, Site(index))]
            : [(Name, ThingName(index)), (thingId, newThingId), (serial, Serial(index)), (site, Site(index))];
    }
}

/// <param name="Method">import, api, or already there.</param>
/// <param name="Things">Things in the registry.</param>
/// <param name="Seconds">Wall time of the whole fill.</param>
/// <param name="Rate">Things a second.</param>
/// <param name="Detail">How it was done, for the report.</param>
/// <param name="Cpu">Where the CPU went (API fill only).</param>
internal sealed record FillResult(string Method, long Things, double Seconds, double Rate, string Detail, CpuUsage? Cpu);

/// <summary>Passes writes through to a stream and adds them to a hash (the export's digest).</summary>
internal sealed class DigestingStream(Stream inner, IncrementalHash hash) : Stream
{
    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        hash.AppendData(buffer);
        inner.Write(buffer);
    }

    public override void Flush() => inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
