using System.Buffers;
using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Fleetkey.Core.Json;
using Fleetkey.Core.Text;
using Fleetkey.Storage.Sql;

namespace Fleetkey.Storage.Transfer;

/// <summary>
/// Moves a whole fleet between stores (SQLite ↔ PostgreSQL) row for row, so ids, ARNs, versions,
/// dates and secrets survive unchanged. The export is JSON Lines:
/// <code>
/// {"format":"fleetkey-export","formatVersion":2,"schemaVersion":9,"exportedAt":"…","integrity":{…}}
/// {"table":"things","columns":["name","thing_id",…]}
/// ["sensor-1","3f0c…",null,…]                       one JSON array per row, in column order
/// …
/// {"end":true,"rows":1234,"sha256":"…","hmac":"…"}
/// </code>
/// Every table has a header line, even when empty. The end line carries the row count and the
/// SHA-256 of every byte before it, and, when the fleet has a CA passphrase, an HMAC-SHA256 of the same
/// bytes under a key derived from the passphrase (see <see cref="ExportIntegrity"/>; the header's
/// <c>integrity</c> says which and holds the key derivation's salt). Values are JSON strings, integers
/// or null (the schema has only TEXT and BIGINT columns).
/// The file holds access-key secrets, and the CA keys, enrollment secrets and enrollment group keys
/// (encrypted only when FLEETKEY_CA_PASSPHRASE was set), so it must be kept as carefully as the
/// database.
/// </summary>
/// <remarks>
/// An import reads the file once, a line at a time (at most <see cref="MaxLineBytes"/> per line), and
/// inserts in batches bounded in rows and bytes, so its memory does not grow with the file. Every row
/// passes the product's rules (<see cref="IImportRowChecker"/>) before it is inserted, and the tables'
/// agreement with each other is checked once all rows are in; a refused import rolls back its one
/// transaction, leaving the target as it was.
/// </remarks>
public static class FleetTransfer
{
    public const string Format = "fleetkey-export";

    /// <summary>2: the integrity header and end line. Version 1 (no digest) is refused: no release wrote it.</summary>
    public const int FormatVersion = 2;

    /// <summary>The CA material's table; stores that keep the CA in files hand it over separately.</summary>
    public const string CaMaterialTable = "ca_material";

    /// <summary>The audit trail's one head-and-anchor row: every migrated store has it, so an import replaces it.</summary>
    public const string AuditChainTable = "audit_chain";

    // The hash schema 15 gives the chain's head and anchor before any record (AuditChain.Genesis).
    private static readonly string AuditGenesisHash = new('0', 64);

    /// <summary>
    /// The longest line an import reads. The longest rows (a policy document, whose whitespace AWS
    /// does not count, in a 2 MB request; a template body of 10,240 characters) are far below it once
    /// escaped; a longer line is damage, and is refused before it is read whole.
    /// </summary>
    public const int MaxLineBytes = 8 * 1024 * 1024;

    private const int RowsPerStatement = 500;
    private const int BytesPerStatement = 4 * 1024 * 1024;

    // Problems listed in a refusal; more are counted, not listed.
    private const int MaxListedProblems = 20;

    /// <summary>
    /// Every exported table, parents before children (foreign keys), each with the order its rows are
    /// exported in. A group's path has its parent's path as a strict prefix, so ordering by length puts parents first.
    /// </summary>
    private static readonly (string Name, string OrderBy)[] Tables =
    [
        ("access_keys", "access_key_id"),
        ("access_key_policies", "access_key_id, policy_name"),
        ("thing_types", "name"),
        ("things", "name"),
        ("thing_attributes", "thing_name, name"),
        ("thing_groups", "length(path), path"),
        ("thing_group_members", "group_name, thing_name"),
        ("tags", "resource_kind, resource_name, tag_key"),
        ("ca_certificates", "certificate_id"),
        ("registration_codes", "account_id"),
        ("certificates", "certificate_id"),
        ("certificate_tombstones", "certificate_id"),
        ("crl_numbers", "ca_certificate_id"),
        ("thing_principals", "thing_name, principal_kind, principal_id"),
        ("policies", "name"),
        ("policy_versions", "policy_name, version_id"),
        ("policy_targets", "policy_name, target_kind, target_id"),
        ("device_signatures", "signature_hash"),
        ("device_registrations", "certificate_id"),
        ("certificate_renewals", "old_certificate_id"),
        ("device_attempts", "attempt_id"),
        ("provisioning_templates", "name"),
        ("provisioning_template_versions", "template_name, version_id"),
        ("enrollment_groups", "name"),
        ("enrollments", "serial_number"),
        ("fleet_ownership_tokens", "token_hash"),
        ("provisioning_claims", "certificate_id"),
        ("audit_records", "sequence"),
        (AuditChainTable, "id"),
        (CaMaterialTable, "id"),
    ];

    /// <summary>The tables an export holds, in its order.</summary>
    public static IReadOnlyList<string> ExportedTables { get; } = [.. Tables.Select(t => t.Name)];

    /// <summary>The schema's other tables, each with why it stays behind.</summary>
    public static IReadOnlyDictionary<string, string> TablesNotExported { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["schema_migrations"] = "the target's own migration history; the export's header carries the schema version, which must match the target's",
        ["device_key_pool"] = "each pre-generated device private key must be handed out exactly once; a copy in an export would be handed out "
            + "again by every store it is imported into (and by the source, if it keeps serving). The target generates its own pool while idle",
    };

    /// <summary>The CA material as a <c>ca_material</c> row (for stores that keep it outside the database).</summary>
    public static IReadOnlyDictionary<string, object?> CaMaterialRow(StoredCaMaterial material, DateTimeOffset createdAt)
    {
        ArgumentNullException.ThrowIfNull(material);
        return new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["id"] = 1L,
            ["root_certificate_pem"] = material.RootCertificatePem,
            ["root_key_pem"] = material.RootKeyPem,
            ["issuing_certificate_pem"] = material.IssuingCertificatePem,
            ["issuing_key_pem"] = material.IssuingKeyPem,
            ["keys_encrypted"] = material.KeysEncrypted ? 1L : 0L,
            ["created_at"] = createdAt.ToUnixTimeMilliseconds(),
        };
    }

    /// <summary>
    /// Writes every row of <paramref name="store"/> from one consistent snapshot, with its digest (and
    /// its MAC when <see cref="ExportOptions.Passphrase"/> is set).
    /// </summary>
    public static async Task<TransferSummary> ExportAsync(SqlFleetStore store, Stream output, ExportOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(options);
        var started = false;
        return await store.ReadAsync(
            async (session, ct) =>
            {
                // A read is retried only after a serialization failure, which a read-only snapshot
                // does not get; output already written cannot be taken back, so never run twice.
                if (started)
                {
                    throw new InvalidOperationException("The export's read transaction was interrupted; run the export again.");
                }

                started = true;
                using var integrity = ExportIntegrity.ForExport(options.Passphrase);
                using var writer = new ExportWriter(output, integrity);
                return await ExportCoreAsync((SqlSession)session, writer, integrity, options, ct);
            },
            cancellationToken);
    }

    private static async Task<TransferSummary> ExportCoreAsync(SqlSession sql, ExportWriter writer, ExportIntegrity integrity, ExportOptions options, CancellationToken ct)
    {
        var schemaVersion = await SchemaVersionAsync(sql, ct);
        await writer.WriteLineAsync(w =>
        {
            w.WriteStartObject();
            w.WriteString("format", Format);
            w.WriteNumber("formatVersion", FormatVersion);
            w.WriteNumber("schemaVersion", schemaVersion);
            w.WriteString("exportedAt", options.Now.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
            w.WriteStartObject("integrity");
            w.WriteString("digest", ExportIntegrity.DigestAlgorithm);
            if (integrity.Mac is { } mac)
            {
                w.WriteString("mac", ExportIntegrity.MacAlgorithm);
                w.WriteString("kdf", ExportIntegrity.KeyDerivation);
                w.WriteNumber("iterations", mac.Iterations);
                w.WriteString("salt", Convert.ToBase64String(mac.Salt));
            }
            else
            {
                w.WriteNull("mac");
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }, ct);

        var counts = new List<TableProgress>();
        long total = 0;
        foreach (var (table, orderBy) in Tables)
        {
            long rows = 0;
            if (table == CaMaterialTable && options.CaMaterial is { } caMaterial)
            {
                var columns = caMaterial.Keys.ToArray();
                await WriteHeaderAsync(writer, table, columns, ct);
                await writer.WriteLineAsync(w => WriteRow(w, [.. columns.Select(c => caMaterial[c])]), ct);
                rows = 1;
            }
            else
            {
                // The chain's genesis row (no record ever written) is every migrated store's: nothing to carry.
                var where = table == AuditChainTable
                    ? $" WHERE NOT (last_sequence = 0 AND anchor_sequence = 0 AND last_hash = '{AuditGenesisHash}' AND anchor_hash = '{AuditGenesisHash}')"
                    : string.Empty;
                await using var command = sql.Command($"SELECT * FROM {table}{where} ORDER BY {orderBy}");
                await using var reader = await command.ExecuteReaderAsync(ct);
                var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToArray();
                await WriteHeaderAsync(writer, table, columns, ct);
                var values = new object?[columns.Length];
                while (await reader.ReadAsync(ct))
                {
                    for (var i = 0; i < values.Length; i++)
                    {
                        values[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
                    }

                    await writer.WriteLineAsync(w => WriteRow(w, values), ct);
                    rows++;
                    if (rows % 10_000 == 0)
                    {
                        options.Progress?.Report(new TableProgress(table, rows, Done: false));
                    }
                }
            }

            counts.Add(new TableProgress(table, rows, Done: true));
            options.Progress?.Report(counts[^1]);
            total += rows;
        }

        var (digest, hmac) = integrity.Finish();
        await writer.WriteLineAsync(w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("end", true);
            w.WriteNumber("rows", total);
            w.WriteString("sha256", digest);
            if (hmac is not null)
            {
                w.WriteString("hmac", hmac);
            }

            w.WriteEndObject();
        }, ct, hashed: false);
        await writer.FlushAsync(ct);
        return new TransferSummary(schemaVersion, counts);
    }

    /// <summary>
    /// Loads an export into <paramref name="store"/>, which must be migrated to the export's schema
    /// version and hold no rows at all. Everything is inserted in one transaction: a bad, altered or
    /// cut-off file leaves the store as it was. When <see cref="ImportOptions.CaMaterialSink"/> is given,
    /// the CA material goes there instead of the <c>ca_material</c> table (SQLite keeps the CA in files);
    /// it is called inside the transaction once everything else was checked, before the commit.
    /// </summary>
    /// <exception cref="TransferException">The file is refused; the message says every problem found.</exception>
    public static async Task<TransferSummary> ImportAsync(SqlFleetStore store, Stream input, ImportOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(options);
        var started = false;
        return await store.WriteAsync(
            async (session, ct) =>
            {
                // The input is read once; a retried transaction could not read it again.
                if (started)
                {
                    throw new TransferException("Another writer interrupted the import; import into a store no Fleetkey node is using.");
                }

                started = true;
                return await new Importer((SqlSession)session, new BoundedLineReader(input, MaxLineBytes), options).RunAsync(ct);
            },
            cancellationToken);
    }

    private static async Task<int> SchemaVersionAsync(SqlSession session, CancellationToken cancellationToken)
    {
        await using var command = session.Command("SELECT MAX(version) FROM schema_migrations");
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is null or DBNull ? 0 : Convert.ToInt32(value, CultureInfo.InvariantCulture);
    }

    private static async Task<HashSet<string>> ColumnsAsync(SqlSession session, string table, CancellationToken cancellationToken)
    {
        await using var command = session.Command($"SELECT * FROM {table} WHERE 1 = 0");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToHashSet(StringComparer.Ordinal);
    }

    private static Task WriteHeaderAsync(ExportWriter writer, string table, IReadOnlyList<string> columns, CancellationToken cancellationToken) =>
        writer.WriteLineAsync(w =>
        {
            w.WriteStartObject();
            w.WriteString("table", table);
            w.WriteStartArray("columns");
            foreach (var column in columns)
            {
                w.WriteStringValue(column);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }, cancellationToken);

    private static void WriteRow(Utf8JsonWriter writer, IReadOnlyList<object?> values)
    {
        writer.WriteStartArray();
        foreach (var value in values)
        {
            switch (value)
            {
                case null:
                    writer.WriteNullValue();
                    break;
                case string text:
                    writer.WriteStringValue(text);
                    break;
                case long number:
                    writer.WriteNumberValue(number);
                    break;
                case int number:
                    writer.WriteNumberValue(number);
                    break;
                default:
                    throw new InvalidOperationException($"Unexpected column value of type {value.GetType().Name}; the schema has only TEXT and BIGINT columns.");
            }
        }

        writer.WriteEndArray();
    }

    /// <summary>Writes lines to the export, each through the digest and MAC (all but the end line).</summary>
    private sealed class ExportWriter(Stream output, ExportIntegrity integrity) : IDisposable
    {
        private readonly ArrayBufferWriter<byte> _line = new(4096);
        private readonly Utf8JsonWriter _json = new(Stream.Null, new JsonWriterOptions { SkipValidation = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

        public async Task WriteLineAsync(Action<Utf8JsonWriter> write, CancellationToken cancellationToken, bool hashed = true)
        {
            _line.ResetWrittenCount();
            _json.Reset(_line);
            write(_json);
            _json.Flush();
            _line.GetSpan(1)[0] = (byte)'\n';
            _line.Advance(1);
            if (hashed)
            {
                integrity.Append(_line.WrittenSpan);
            }

            await output.WriteAsync(_line.WrittenMemory, cancellationToken);
        }

        public Task FlushAsync(CancellationToken cancellationToken) => output.FlushAsync(cancellationToken);

        public void Dispose() => _json.Dispose();
    }

    /// <summary>One import: reads the file, checks each row, inserts in bounded batches, then checks the whole.</summary>
    private sealed class Importer(SqlSession session, BoundedLineReader reader, ImportOptions options)
    {
        private readonly SqlSession _session = session;
        private readonly BoundedLineReader _reader = reader;
        private readonly ImportOptions _options = options;
        private readonly List<string> _problems = [];
        private readonly List<TableProgress> _counts = [];
        private int _problemCount;
        private ExportIntegrity? _integrity;
        private StoredCaMaterial? _caMaterial;
        private long _total;

        public async Task<TransferSummary> RunAsync(CancellationToken cancellationToken)
        {
            var header = await NextLineAsync(cancellationToken) ?? throw new TransferException("The export is empty.");
            var (schemaVersion, mac) = ReadHeader(header.Line.Span);
            using var integrity = ExportIntegrity.ForImport(mac, _options.Passphrase);
            _integrity = integrity;
            Hash(header);

            var targetVersion = await SchemaVersionAsync(_session, cancellationToken);
            if (schemaVersion != targetVersion)
            {
                throw new TransferException(
                    $"The export has schema version {schemaVersion} and the target store {targetVersion}; export and import with the same Fleetkey version.");
            }

            await EnsureEmptyAsync(cancellationToken);

            var seen = new List<string>();
            TableBatch? batch = null;
            while (true)
            {
                var next = await NextLineAsync(cancellationToken)
                    ?? throw new TransferException($"The export ends at line {_reader.LineNumber} without its end line: the file is incomplete.");
                var line = next.Line;
                var problem = StrictJson.FindProblem(line.Span);
                if (problem is not null)
                {
                    throw new TransferException($"Line {_reader.LineNumber} is not a row, a table header or the end line: {problem}");
                }

                using var document = JsonDocument.Parse(line);
                var element = document.RootElement;
                if (element.ValueKind == JsonValueKind.Array)
                {
                    if (batch is null)
                    {
                        throw new TransferException($"Line {_reader.LineNumber} is a row outside of any table.");
                    }

                    Hash(next);
                    await batch.AddAsync(element, line.Length, cancellationToken);
                    _total++;
                    continue;
                }

                if (element.ValueKind != JsonValueKind.Object)
                {
                    throw new TransferException($"Line {_reader.LineNumber} is neither a row, a table header nor the end line.");
                }

                if (batch is not null)
                {
                    await batch.FlushAsync(cancellationToken);
                    _counts.Add(new TableProgress(batch.Table, batch.Rows, Done: true));
                    _options.Progress?.Report(_counts[^1]);
                    batch = null;
                }

                if (element.TryGetProperty("end", out _))
                {
                    await FinishAsync(element, next.Terminated, seen, cancellationToken);
                    return new TransferSummary(schemaVersion, _counts);
                }

                Hash(next);
                batch = await StartTableAsync(element, seen, cancellationToken);
            }
        }

        private async ValueTask<(ReadOnlyMemory<byte> Line, bool Terminated)?> NextLineAsync(CancellationToken cancellationToken)
        {
            try
            {
                return await _reader.ReadLineAsync(cancellationToken);
            }
            catch (InvalidDataException exception)
            {
                throw new TransferException($"{exception.Message} No row of an export is that long: the file is damaged or not an export.");
            }
        }

        private void Hash((ReadOnlyMemory<byte> Line, bool Terminated) line)
        {
            _integrity!.Append(line.Line.Span);
            if (line.Terminated)
            {
                _integrity.Append("\n"u8);
            }
        }

        private async Task EnsureEmptyAsync(CancellationToken cancellationToken)
        {
            // One statement for every table, instead of a round trip each.
            var sql = string.Join(" UNION ALL ", Tables.Where(t => t.Name != AuditChainTable).Select(t => $"SELECT '{t.Name}' WHERE EXISTS (SELECT 1 FROM {t.Name})"));
            await using var command = _session.Command(sql + " LIMIT 1");
            if (await command.ExecuteScalarAsync(cancellationToken) is string table)
            {
                throw new TransferException(
                    $"The target store is not empty ({table} has rows); import into a new database that was only migrated (`fleetkey migrate`), never served.");
            }
        }

        private async Task<TableBatch> StartTableAsync(JsonElement element, List<string> seen, CancellationToken cancellationToken)
        {
            var lineNumber = _reader.LineNumber;
            if (!element.TryGetProperty("table", out var tableElement) || tableElement.ValueKind != JsonValueKind.String
                || !element.TryGetProperty("columns", out var columnsElement) || columnsElement.ValueKind != JsonValueKind.Array
                || columnsElement.EnumerateArray().Any(c => c.ValueKind != JsonValueKind.String))
            {
                throw new TransferException($"Line {lineNumber} is neither a row, a table header nor the end line.");
            }

            var table = tableElement.GetString()!;
            var position = Array.FindIndex(Tables, t => t.Name == table);
            if (position < 0)
            {
                throw new TransferException($"Line {lineNumber}: unknown table '{Shorten(table)}'.");
            }

            if (seen.Contains(table) || seen.Count != position)
            {
                throw new TransferException($"Line {lineNumber}: table '{table}' is out of order or repeated.");
            }

            seen.Add(table);
            var columns = columnsElement.EnumerateArray().Select(c => c.GetString()!).ToArray();
            var targetColumns = await ColumnsAsync(_session, table, cancellationToken);
            var unknown = columns.Where(c => !targetColumns.Contains(c)).Select(Shorten).ToList();
            var absent = targetColumns.Where(c => !columns.Contains(c, StringComparer.Ordinal)).ToList();
            if (unknown.Count > 0 || absent.Count > 0 || columns.Distinct(StringComparer.Ordinal).Count() != columns.Length)
            {
                throw new TransferException(
                    $"Line {lineNumber}: the columns of '{table}' do not match the target's (unknown: {string.Join(", ", unknown)}; missing: {string.Join(", ", absent)}).");
            }

            return new TableBatch(this, table, columns);
        }

        private async Task FinishAsync(JsonElement end, bool terminated, List<string> seen, CancellationToken cancellationToken)
        {
            // Everything is taken from the end line before reading on: the reader reuses its buffer.
            var lineNumber = _reader.LineNumber;
            var (digest, mac) = _integrity!.Finish();
            var declared = end.TryGetProperty("rows", out var rowsElement) && rowsElement.TryGetInt64(out var r) ? r : -1;
            var declaredDigest = end.TryGetProperty("sha256", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
            var declaredMac = end.TryGetProperty("hmac", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
            if (declared != _total)
            {
                throw new TransferException(string.Create(CultureInfo.InvariantCulture, $"The end line declares {declared} rows but the export holds {_total}."));
            }

            if (!terminated || await NextLineAsync(cancellationToken) is not null)
            {
                throw new TransferException($"Line {lineNumber} is the end line, but the file does not end there: data was added after it, or it was cut.");
            }

            var integrityProblems = new List<string>();
            if (!ExportIntegrity.SameHex(digest, declaredDigest))
            {
                integrityProblems.Add("The export's SHA-256 does not match the one in its end line: the file was damaged or changed after it was written.");
            }
            else if (mac is not null && !ExportIntegrity.SameHex(mac, declaredMac))
            {
                integrityProblems.Add(
                    "The export's MAC does not verify with FLEETKEY_CA_PASSPHRASE: the file was changed after it was written (and its digest computed again), "
                    + "or it was exported under another passphrase.");
            }

            if (_problemCount > 0 || integrityProblems.Count > 0)
            {
                throw Refusal(integrityProblems, intact: integrityProblems.Count == 0);
            }

            var missing = Tables.Select(t => t.Name).Where(t => !seen.Contains(t)).ToList();
            if (missing.Count > 0)
            {
                throw new TransferException($"The export has no section for {string.Join(", ", missing)}.");
            }

            _options.Checker.Complete(_problems);
            await ImportConsistency.CheckAsync(_session, _problems, cancellationToken);
            _problemCount = _problems.Count;
            if (_problemCount > 0)
            {
                throw Refusal([], intact: true);
            }

            if (_caMaterial is not null && _options.CaMaterialSink is { } sink)
            {
                await sink(_caMaterial, cancellationToken);
            }
        }

        private TransferException Refusal(List<string> integrityProblems, bool intact)
        {
            var message = new StringBuilder();
            if (_problemCount > 0)
            {
                message.Append(CultureInfo.InvariantCulture, $"The export breaks rules the product relies on ({_problemCount} {(_problemCount == 1 ? "problem" : "problems")}):");
                foreach (var problem in _problems)
                {
                    message.Append("\n  ").Append(problem);
                }

                if (_problemCount > _problems.Count)
                {
                    message.Append(CultureInfo.InvariantCulture, $"\n  … and {_problemCount - _problems.Count} more");
                }

                message.Append('\n');
                if (intact)
                {
                    // The file is as it was written: the source store itself holds these rows.
                    message.Append("The export's digest matches: the source store holds these rows as they are; repair them there and export again.");
                }
            }

            message.AppendJoin('\n', integrityProblems);
            return new TransferException(message.ToString().TrimEnd('\n'));
        }

        private void AddProblem(string problem)
        {
            _problemCount++;
            if (_problems.Count < MaxListedProblems)
            {
                _problems.Add(problem);
            }
        }

        /// <summary>Rows of one table, checked one by one and collected into multi-row INSERTs.</summary>
        private sealed class TableBatch(Importer importer, string table, string[] columns)
        {
            private readonly List<object?[]> _pending = [];
            private readonly ImportRow _row = new(table, columns);
            private readonly List<string> _rowProblems = [];
            private long _pendingBytes;

            public string Table => table;

            public long Rows { get; private set; }

            public async Task AddAsync(JsonElement row, int bytes, CancellationToken cancellationToken)
            {
                var lineNumber = importer._reader.LineNumber;
                Rows++;
                if (row.GetArrayLength() != columns.Length)
                {
                    throw new TransferException(string.Create(
                        CultureInfo.InvariantCulture, $"Line {lineNumber}: row {Rows} of '{table}' has {row.GetArrayLength()} values for {columns.Length} columns."));
                }

                var values = _row.Values;
                var i = 0;
                foreach (var item in row.EnumerateArray())
                {
                    values[i] = item.ValueKind switch
                    {
                        JsonValueKind.Null => null,
                        JsonValueKind.String => item.GetString(),
                        JsonValueKind.Number when item.TryGetInt64(out var number) => number,
                        _ => throw new TransferException(string.Create(
                            CultureInfo.InvariantCulture, $"Line {lineNumber}: row {Rows} of '{table}', column {columns[i]}: not a string, an integer or null.")),
                    };
                    i++;
                }

                _row.Number = Rows;
                _rowProblems.Clear();
                importer._options.Checker.Check(_row, _rowProblems);
                foreach (var problem in _rowProblems)
                {
                    importer.AddProblem(string.Create(CultureInfo.InvariantCulture, $"line {lineNumber}, {table} row {Rows}: {problem}"));
                }

                if (importer._options.Progress is { } progress && Rows % 10_000 == 0)
                {
                    progress.Report(new TableProgress(table, Rows, Done: false));
                }

                if (importer._problemCount > 0)
                {
                    // Refused already: the rest is read only to check it (and the digest) and report it all at once.
                    _pending.Clear();
                    return;
                }

                if (table == CaMaterialTable && importer._options.CaMaterialSink is not null)
                {
                    importer._caMaterial = ToCaMaterial(values);
                    return;
                }

                _pending.Add((object?[])values.Clone());
                _pendingBytes += bytes;
                if (_pending.Count == RowsPerStatement || _pendingBytes >= BytesPerStatement)
                {
                    await FlushAsync(cancellationToken);
                }
            }

            public async Task FlushAsync(CancellationToken cancellationToken)
            {
                if (_pending.Count == 0)
                {
                    return;
                }

                var sql = new StringBuilder($"INSERT INTO {table} ({string.Join(", ", columns)}) VALUES ");
                var parameters = new List<(string, object?)>(_pending.Count * columns.Length);
                for (var r = 0; r < _pending.Count; r++)
                {
                    sql.Append(r == 0 ? "(" : ", (");
                    for (var c = 0; c < columns.Length; c++)
                    {
                        var name = string.Create(CultureInfo.InvariantCulture, $"@p{parameters.Count}");
                        sql.Append(c == 0 ? name : ", " + name);
                        parameters.Add((name, _pending[r][c]));
                    }

                    sql.Append(')');
                }

                if (table == AuditChainTable)
                {
                    // The migration's genesis row gives way to the exported chain.
                    sql.Append(" ON CONFLICT (id) DO UPDATE SET ").AppendJoin(", ", columns.Where(c => c != "id").Select(c => $"{c} = excluded.{c}"));
                }

                await using var command = importer._session.Command(sql.ToString(), [.. parameters]);
                try
                {
                    await command.ExecuteNonQueryAsync(cancellationToken);
                }
                catch (DbException exception)
                {
                    throw new TransferException($"Rows of '{table}' were refused by the target store: {exception.Message}");
                }

                _pending.Clear();
                _pendingBytes = 0;
            }

            private StoredCaMaterial ToCaMaterial(object?[] values)
            {
                object? Value(string column) => values[Array.IndexOf(columns, column)];
                return new StoredCaMaterial(
                    (string)Value("root_certificate_pem")!,
                    (string)Value("root_key_pem")!,
                    (string)Value("issuing_certificate_pem")!,
                    (string)Value("issuing_key_pem")!,
                    Value("keys_encrypted") is 1L);
            }
        }
    }

    private static (int SchemaVersion, MacParameters? Mac) ReadHeader(ReadOnlySpan<byte> line)
    {
        if (StrictJson.FindProblem(line) is not null)
        {
            throw new TransferException("The file is not a Fleetkey export (its first line is not JSON).");
        }

        using var document = JsonDocument.Parse(line.ToArray());
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("format", out var format) || format.ValueKind != JsonValueKind.String || format.GetString() != Format)
        {
            throw new TransferException("The file is not a Fleetkey export (its first line has no \"format\": \"fleetkey-export\").");
        }

        if (!root.TryGetProperty("formatVersion", out var version) || !version.TryGetInt32(out var v))
        {
            throw new TransferException("The export's first line has no formatVersion.");
        }

        if (v == 1)
        {
            throw new TransferException(
                "The export is format version 1, written before exports carried a digest, so nothing proves it undamaged; "
                + "export the fleet again with this Fleetkey (`fleetkey export`) and import that.");
        }

        if (v != FormatVersion)
        {
            throw new TransferException($"Unsupported export format version {v}; this Fleetkey reads version {FormatVersion}.");
        }

        if (!root.TryGetProperty("schemaVersion", out var schema) || !schema.TryGetInt32(out var schemaVersion))
        {
            throw new TransferException("The export's first line has no schemaVersion.");
        }

        return (schemaVersion, ReadMacParameters(root));
    }

    private static MacParameters? ReadMacParameters(JsonElement header)
    {
        if (!header.TryGetProperty("integrity", out var integrity) || integrity.ValueKind != JsonValueKind.Object
            || !integrity.TryGetProperty("digest", out var digest) || digest.ValueKind != JsonValueKind.String || digest.GetString() != ExportIntegrity.DigestAlgorithm)
        {
            throw new TransferException($"The export's first line does not say how its integrity is checked (\"integrity\": {{\"digest\": \"{ExportIntegrity.DigestAlgorithm}\", …}}).");
        }

        if (!integrity.TryGetProperty("mac", out var mac) || mac.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (mac.ValueKind != JsonValueKind.String || mac.GetString() != ExportIntegrity.MacAlgorithm
            || !integrity.TryGetProperty("kdf", out var kdf) || kdf.ValueKind != JsonValueKind.String || kdf.GetString() != ExportIntegrity.KeyDerivation)
        {
            throw new TransferException($"The export's MAC is not one this Fleetkey checks ({ExportIntegrity.MacAlgorithm} keyed by {ExportIntegrity.KeyDerivation}).");
        }

        if (!integrity.TryGetProperty("iterations", out var iterationsElement) || !iterationsElement.TryGetInt32(out var iterations)
            || iterations is < ExportIntegrity.MinIterations or > ExportIntegrity.MaxIterations)
        {
            throw new TransferException(string.Create(
                CultureInfo.InvariantCulture,
                $"The export's MAC key derivation must use {ExportIntegrity.MinIterations} to {ExportIntegrity.MaxIterations} iterations."));
        }

        byte[]? salt = null;
        if (integrity.TryGetProperty("salt", out var saltElement) && saltElement.ValueKind == JsonValueKind.String)
        {
            var bytes = new byte[ExportIntegrity.MaxSaltBytes];
            if (Convert.TryFromBase64String(saltElement.GetString()!, bytes, out var written) && written >= ExportIntegrity.SaltBytes)
            {
                salt = bytes[..written];
            }
        }

        return salt is null
            ? throw new TransferException(string.Create(
                CultureInfo.InvariantCulture, $"The export's MAC salt must be {ExportIntegrity.SaltBytes} to {ExportIntegrity.MaxSaltBytes} bytes of base64."))
            : new MacParameters(salt, iterations);
    }

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "…";
}
