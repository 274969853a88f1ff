using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Fleetkey.Storage.Sql;

namespace Fleetkey.Storage.Transfer;

/// <summary>
/// Moves a whole fleet between stores (SQLite ↔ PostgreSQL) row for row, so ids, ARNs, versions,
/// dates and secrets survive unchanged. The export is JSON Lines:
/// <code>
/// {"format":"fleetkey-export","formatVersion":1,"schemaVersion":3,"exportedAt":"…"}
/// {"table":"things","columns":["name","thing_id",…]}
/// ["sensor-1","3f0c…",null,…]                       one JSON array per row, in column order
/// …
/// {"end":true,"rows":1234}
/// </code>
/// Every table has a header line, even when empty; the end line lets the import detect a cut-off
/// file. Values are JSON strings, integers or null (the schema has only TEXT and BIGINT columns).
/// The file holds access-key secrets, and the CA keys, enrollment secrets and enrollment group keys
/// (encrypted only when FLEETKEY_CA_PASSPHRASE was set), so it must be kept as carefully as the
/// database.
/// </summary>
public static class FleetTransfer
{
    public const string Format = "fleetkey-export";
    public const int FormatVersion = 1;

    /// <summary>The CA material's table; stores that keep the CA in files hand it over separately.</summary>
    public const string CaMaterialTable = "ca_material";

    private const int RowsPerStatement = 500;

    /// <summary>
    /// Every table, parents before children (foreign keys), each with the order its rows are exported
    /// in. A group's path has its parent's path as a strict prefix, so ordering by length puts parents first.
    /// </summary>
    private static readonly (string Name, string OrderBy)[] Tables =
    [
        ("access_keys", "access_key_id"),
        ("thing_types", "name"),
        ("things", "name"),
        ("thing_attributes", "thing_name, name"),
        ("thing_groups", "length(path), path"),
        ("thing_group_members", "group_name, thing_name"),
        ("tags", "resource_kind, resource_name, tag_key"),
        ("ca_certificates", "certificate_id"),
        ("registration_codes", "account_id"),
        ("certificates", "certificate_id"),
        ("thing_principals", "thing_name, principal_kind, principal_id"),
        ("policies", "name"),
        ("policy_versions", "policy_name, version_id"),
        ("policy_targets", "policy_name, target_kind, target_id"),
        ("device_signatures", "signature_hash"),
        ("device_registrations", "certificate_id"),
        ("device_attempts", "attempt_id"),
        ("provisioning_templates", "name"),
        ("provisioning_template_versions", "template_name, version_id"),
        ("enrollment_groups", "name"),
        ("enrollments", "serial_number"),
        ("fleet_ownership_tokens", "token_hash"),
        ("provisioning_claims", "certificate_id"),
        (CaMaterialTable, "id"),
    ];

    /// <summary>The CA material as a <c>ca_material</c> row (for stores that keep it outside the database).</summary>
    public static IReadOnlyDictionary<string, object?> CaMaterialRow(StoredCaMaterial material, DateTimeOffset createdAt) =>
        new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["id"] = 1L,
            ["root_certificate_pem"] = material.RootCertificatePem,
            ["root_key_pem"] = material.RootKeyPem,
            ["issuing_certificate_pem"] = material.IssuingCertificatePem,
            ["issuing_key_pem"] = material.IssuingKeyPem,
            ["keys_encrypted"] = material.KeysEncrypted ? 1L : 0L,
            ["created_at"] = createdAt.ToUnixTimeMilliseconds(),
        };

    /// <summary>
    /// Writes every row of <paramref name="store"/> from one consistent snapshot. When
    /// <paramref name="caMaterial"/> is given it replaces the <c>ca_material</c> table (SQLite keeps the CA in files).
    /// </summary>
    public static async Task<TransferSummary> ExportAsync(
        SqlFleetStore store,
        Stream output,
        IReadOnlyDictionary<string, object?>? caMaterial,
        IProgress<TableProgress>? progress,
        DateTimeOffset now,
        CancellationToken cancellationToken)
    {
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
                var sql = (SqlSession)session;
                var schemaVersion = await SchemaVersionAsync(sql, ct);
                await using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
                var counts = new List<TableProgress>();
                WriteLine(writer, output, w =>
                {
                    w.WriteStartObject();
                    w.WriteString("format", Format);
                    w.WriteNumber("formatVersion", FormatVersion);
                    w.WriteNumber("schemaVersion", schemaVersion);
                    w.WriteString("exportedAt", now.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
                    w.WriteEndObject();
                });

                long total = 0;
                foreach (var (table, orderBy) in Tables)
                {
                    long rows = 0;
                    if (table == CaMaterialTable && caMaterial is not null)
                    {
                        var columns = caMaterial.Keys.ToArray();
                        WriteHeader(writer, output, table, columns);
                        WriteLine(writer, output, w => WriteRow(w, columns.Select(c => caMaterial[c]).ToArray()));
                        rows = 1;
                    }
                    else
                    {
                        await using var command = sql.Command($"SELECT * FROM {table} ORDER BY {orderBy}");
                        await using var reader = await command.ExecuteReaderAsync(ct);
                        var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToArray();
                        WriteHeader(writer, output, table, columns);
                        var values = new object?[columns.Length];
                        while (await reader.ReadAsync(ct))
                        {
                            for (var i = 0; i < values.Length; i++)
                            {
                                values[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
                            }

                            WriteLine(writer, output, w => WriteRow(w, values));
                            rows++;
                            if (rows % 10_000 == 0)
                            {
                                await output.FlushAsync(ct);
                                progress?.Report(new TableProgress(table, rows, Done: false));
                            }
                        }
                    }

                    counts.Add(new TableProgress(table, rows, Done: true));
                    progress?.Report(counts[^1]);
                    total += rows;
                }

                WriteLine(writer, output, w =>
                {
                    w.WriteStartObject();
                    w.WriteBoolean("end", true);
                    w.WriteNumber("rows", total);
                    w.WriteEndObject();
                });
                await output.FlushAsync(ct);
                return new TransferSummary(schemaVersion, counts);
            },
            cancellationToken);
    }

    /// <summary>
    /// Loads an export into <paramref name="store"/>, which must be migrated to the export's schema
    /// version and hold no rows at all. Everything is inserted in one transaction: a bad or cut-off
    /// file leaves the store as it was. When <paramref name="caMaterialSink"/> is given, the CA
    /// material goes there instead of the <c>ca_material</c> table (SQLite keeps the CA in files); it is
    /// called inside the transaction, before the commit.
    /// </summary>
    public static async Task<TransferSummary> ImportAsync(
        SqlFleetStore store,
        Stream input,
        Func<StoredCaMaterial, CancellationToken, Task>? caMaterialSink,
        IProgress<TableProgress>? progress,
        CancellationToken cancellationToken)
    {
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
                return await ImportCoreAsync((SqlSession)session, input, caMaterialSink, progress, ct);
            },
            cancellationToken);
    }

    private static async Task<TransferSummary> ImportCoreAsync(
        SqlSession session,
        Stream input,
        Func<StoredCaMaterial, CancellationToken, Task>? caMaterialSink,
        IProgress<TableProgress>? progress,
        CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(input, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, bufferSize: 1 << 16, leaveOpen: true);
        var lineNumber = 0;

        async Task<string?> NextLineAsync()
        {
            var line = await reader.ReadLineAsync(cancellationToken);
            lineNumber++;
            return line;
        }

        var headerLine = await NextLineAsync() ?? throw new TransferException("The export is empty.");
        var schemaVersion = ReadHeader(headerLine);
        var targetVersion = await SchemaVersionAsync(session, cancellationToken);
        if (schemaVersion != targetVersion)
        {
            throw new TransferException(
                $"The export has schema version {schemaVersion} and the target store {targetVersion}; export and import with the same Fleetkey version.");
        }

        foreach (var (table, _) in Tables)
        {
            await using var count = session.Command($"SELECT COUNT(*) FROM {table}");
            var rows = Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
            if (rows > 0)
            {
                throw new TransferException(
                    $"The target store is not empty ({table} has {rows} rows); import into a new database that was only migrated (`fleetkey migrate`), never served.");
            }
        }

        var known = Tables.Select(t => t.Name).ToList();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var counts = new List<TableProgress>();
        TableBatch? batch = null;
        long total = 0;
        while (true)
        {
            var line = await NextLineAsync() ?? throw new TransferException($"The export ends at line {lineNumber - 1} without its end line: the file is incomplete.");
            if (line.Length == 0)
            {
                continue;
            }

            JsonElement element;
            try
            {
                using var document = JsonDocument.Parse(line);
                element = document.RootElement.Clone();
            }
            catch (JsonException exception)
            {
                throw new TransferException($"Line {lineNumber} is not valid JSON: {exception.Message}");
            }

            if (element.ValueKind == JsonValueKind.Array)
            {
                if (batch is null)
                {
                    throw new TransferException($"Line {lineNumber} is a row outside of any table.");
                }

                await batch.AddAsync(element, lineNumber, cancellationToken);
                total++;
                if (batch.Rows % 10_000 == 0)
                {
                    progress?.Report(new TableProgress(batch.Table, batch.Rows, Done: false));
                }

                continue;
            }

            if (element.ValueKind != JsonValueKind.Object)
            {
                throw new TransferException($"Line {lineNumber} is neither a row, a table header nor the end line.");
            }

            if (batch is not null)
            {
                await batch.FlushAsync(cancellationToken);
                counts.Add(new TableProgress(batch.Table, batch.Rows, Done: true));
                progress?.Report(counts[^1]);
                batch = null;
            }

            if (element.TryGetProperty("end", out _))
            {
                var declared = element.TryGetProperty("rows", out var rowsElement) && rowsElement.TryGetInt64(out var r) ? r : -1;
                if (declared != total)
                {
                    throw new TransferException($"The end line declares {declared} rows but the export holds {total}.");
                }

                var missing = known.Where(t => !seen.Contains(t)).ToList();
                if (missing.Count > 0)
                {
                    throw new TransferException($"The export has no section for {string.Join(", ", missing)}.");
                }

                return new TransferSummary(schemaVersion, counts);
            }

            if (!element.TryGetProperty("table", out var tableElement) || tableElement.GetString() is not { } table || !element.TryGetProperty("columns", out var columnsElement))
            {
                throw new TransferException($"Line {lineNumber} is neither a row, a table header nor the end line.");
            }

            var position = known.IndexOf(table);
            if (position < 0)
            {
                throw new TransferException($"Line {lineNumber}: unknown table '{table}'.");
            }

            if (!seen.Add(table) || known.Take(position).Any(t => !seen.Contains(t)))
            {
                throw new TransferException($"Line {lineNumber}: table '{table}' is out of order or repeated.");
            }

            var columns = columnsElement.EnumerateArray().Select(c => c.GetString() ?? string.Empty).ToArray();
            var targetColumns = await ColumnsAsync(session, table, cancellationToken);
            var unknown = columns.Where(c => !targetColumns.Contains(c)).ToList();
            var absent = targetColumns.Where(c => !columns.Contains(c, StringComparer.Ordinal)).ToList();
            if (unknown.Count > 0 || absent.Count > 0 || columns.Distinct(StringComparer.Ordinal).Count() != columns.Length)
            {
                throw new TransferException(
                    $"Line {lineNumber}: the columns of '{table}' do not match the target's (unknown: {string.Join(", ", unknown)}; missing: {string.Join(", ", absent)}).");
            }

            batch = table == CaMaterialTable && caMaterialSink is not null
                ? new TableBatch(session, table, columns, caMaterialSink)
                : new TableBatch(session, table, columns, null);
        }
    }

    private static int ReadHeader(string line)
    {
        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("format", out var format) || format.ValueKind != JsonValueKind.String || format.GetString() != Format)
            {
                throw new TransferException("The file is not a Fleetkey export (its first line has no \"format\": \"fleetkey-export\").");
            }

            if (!root.TryGetProperty("formatVersion", out var version) || !version.TryGetInt32(out var v) || v != FormatVersion)
            {
                throw new TransferException($"Unsupported export format version; this Fleetkey reads version {FormatVersion}.");
            }

            if (!root.TryGetProperty("schemaVersion", out var schema) || !schema.TryGetInt32(out var schemaVersion))
            {
                throw new TransferException("The export's first line has no schemaVersion.");
            }

            return schemaVersion;
        }
        catch (JsonException)
        {
            throw new TransferException("The file is not a Fleetkey export (its first line is not JSON).");
        }
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

    private static void WriteHeader(Utf8JsonWriter writer, Stream output, string table, IReadOnlyList<string> columns) =>
        WriteLine(writer, output, w =>
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
        });

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

    private static void WriteLine(Utf8JsonWriter writer, Stream output, Action<Utf8JsonWriter> write)
    {
        write(writer);
        writer.Flush();
        writer.Reset();
        output.WriteByte((byte)'\n');
    }

    /// <summary>Rows of one table collected into multi-row INSERTs.</summary>
    private sealed class TableBatch(SqlSession session, string table, string[] columns, Func<StoredCaMaterial, CancellationToken, Task>? caMaterialSink)
    {
        private readonly List<object?[]> _pending = [];

        public string Table => table;

        public long Rows { get; private set; }

        public async Task AddAsync(JsonElement row, int lineNumber, CancellationToken cancellationToken)
        {
            if (row.GetArrayLength() != columns.Length)
            {
                throw new TransferException($"Line {lineNumber}: a row of '{table}' has {row.GetArrayLength()} values for {columns.Length} columns.");
            }

            var values = new object?[columns.Length];
            var i = 0;
            foreach (var item in row.EnumerateArray())
            {
                values[i++] = item.ValueKind switch
                {
                    JsonValueKind.Null => null,
                    JsonValueKind.String => item.GetString(),
                    JsonValueKind.Number when item.TryGetInt64(out var number) => number,
                    _ => throw new TransferException($"Line {lineNumber}: value {i} of '{table}' is not a string, an integer or null."),
                };
            }

            Rows++;
            if (caMaterialSink is not null)
            {
                await caMaterialSink(ToCaMaterial(values, lineNumber), cancellationToken);
                return;
            }

            _pending.Add(values);
            if (_pending.Count == RowsPerStatement)
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

            await using var command = session.Command(sql.ToString(), [.. parameters]);
            try
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (DbException exception)
            {
                throw new TransferException($"Rows of '{table}' were refused by the target store: {exception.Message}");
            }

            _pending.Clear();
        }

        private StoredCaMaterial ToCaMaterial(object?[] values, int lineNumber)
        {
            object? Value(string column) => values[Array.IndexOf(columns, column)];
            string Text(string column) => Value(column) as string ?? throw new TransferException($"Line {lineNumber}: the CA material has no {column}.");
            return new StoredCaMaterial(
                Text("root_certificate_pem"),
                Text("root_key_pem"),
                Text("issuing_certificate_pem"),
                Text("issuing_key_pem"),
                Value("keys_encrypted") is long encrypted && encrypted != 0);
        }
    }
}

/// <summary>Rows of one table moved so far.</summary>
public sealed record TableProgress(string Table, long Rows, bool Done);

/// <summary>What an export or import moved.</summary>
public sealed record TransferSummary(int SchemaVersion, IReadOnlyList<TableProgress> Tables)
{
    public long TotalRows => Tables.Sum(t => t.Rows);
}

/// <summary>The export file is not one this store can take; nothing was changed.</summary>
public sealed class TransferException(string message) : Exception(message);
