using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.Json;
using Fleetkey.Services.Audit;
using Fleetkey.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fleetkey.Cli;

/// <summary><c>fleetkey audit</c>: query the audit trail; <c>fleetkey audit verify</c>: prove its hash chain unbroken.</summary>
internal static class AuditCommands
{
    private const int Page = 1000;

    public static Command Create()
    {
        var data = FleetkeyCommands.DataOption();
        var database = FleetkeyCommands.DatabaseOption();
        var since = Instant("--since", "Records at or after this time: ISO 8601 (2026-12-07T10:00:00Z) or a time ago (30m, 24h, 7d).");
        var until = Instant("--until", "Records before this time (same forms as --since).");
        var key = new Option<string?>("--key") { Description = "Only requests signed with this access key id." };
        var operation = new Option<string?>("--operation") { Description = "Only this operation (DeleteThing, CreateAccessKey, …)." };
        var resource = new Option<string?>("--resource") { Description = "Only requests naming this resource ARN." };
        var outcome = new Option<AuditOutcome?>("--outcome") { Description = "succeeded (2xx), denied (401/403) or failed (any other error)." };
        var format = new Option<string>("--format") { Description = "table (default) or jsonl (one JSON object a line).", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "jsonl");
        var limit = new Option<int?>("--limit") { Description = "At most this many records (default: all)." };
        var audit = new Command("audit", "Show the audit trail: control-plane changes and refused requests, oldest first.")
        {
            data, database, since, until, key, operation, resource, outcome, format, limit,
        };
        audit.SetAction(async (parse, cancellationToken) =>
        {
            if (await FleetkeyCommands.OpenFleetAsync(parse.GetValue(data)!, parse.GetValue(database), Console.Error, cancellationToken) is not { } opened)
            {
                return 2;
            }

            await using (opened)
            {
                await using var writer = new AuditWriter(opened.Store, NullLogger<AuditWriter>.Instance);
                var trail = new AuditTrail(opened.Store, writer);
                var query = new AuditQuery(parse.GetValue(since), parse.GetValue(until), parse.GetValue(key), parse.GetValue(operation), parse.GetValue(resource), parse.GetValue(outcome));
                var jsonl = parse.GetValue(format) == "jsonl";
                var left = parse.GetValue(limit) ?? int.MaxValue;
                long after = 0;
                if (!jsonl)
                {
                    Console.WriteLine("SEQ\tTIME\tCHANNEL\tKEY\tOPERATION\tSTATUS\tERROR\tSOURCE\tRESOURCES");
                }

                while (left > 0)
                {
                    var records = await trail.QueryAsync(query, after, Math.Min(Page, left), cancellationToken);
                    foreach (var r in records)
                    {
                        Console.WriteLine(jsonl ? Json(r) : Row(r));
                    }

                    left -= records.Count;
                    if (records.Count < Math.Min(Page, left + records.Count))
                    {
                        break;
                    }

                    after = records[^1].Sequence;
                }

                return 0;
            }
        });

        var verifyData = FleetkeyCommands.DataOption();
        var verifyDatabase = FleetkeyCommands.DatabaseOption();
        var verify = new Command("verify", "Walk the audit trail's hash chain from its anchor to its head; exit 1 naming the first record that breaks it.") { verifyData, verifyDatabase };
        verify.SetAction(async (parse, cancellationToken) =>
        {
            if (await FleetkeyCommands.OpenFleetAsync(parse.GetValue(verifyData)!, parse.GetValue(verifyDatabase), Console.Error, cancellationToken) is not { } opened)
            {
                return 2;
            }

            await using (opened)
            {
                await using var writer = new AuditWriter(opened.Store, NullLogger<AuditWriter>.Instance);
                var result = await new AuditTrail(opened.Store, writer).VerifyAsync(cancellationToken);
                if (result.Verified)
                {
                    Console.WriteLine(string.Create(
                        CultureInfo.InvariantCulture,
                        $"audit trail verified: {result.Checked} records, {result.AnchorSequence + 1} to {result.HeadSequence}, chain unbroken; head hash {result.HeadHash}"));
                    return 0;
                }

                await Console.Error.WriteLineAsync($"fleetkey: audit trail does not verify at record {result.BadSequence}: {result.Problem}");
                return 1;
            }
        });
        audit.Subcommands.Add(verify);
        return audit;
    }

    private static Option<DateTimeOffset?> Instant(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = result => ParseInstant(result),
    };

    private static DateTimeOffset? ParseInstant(ArgumentResult result)
    {
        var text = result.Tokens[0].Value;
        if (Fleetkey.Services.Security.ExpiryWindow.TryParse(text) is { } ago)
        {
            return DateTimeOffset.UtcNow - ago.Duration;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            return at;
        }

        result.AddError($"{result.Argument?.Name ?? "time"} {text} is neither an ISO 8601 time nor a time ago like 30m, 24h or 7d.");
        return null;
    }

    private static string Row(AuditRecord r) => string.Join('\t',
        r.Sequence.ToString(CultureInfo.InvariantCulture),
        r.RecordedAt.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
        r.Channel,
        r.AccessKeyId ?? "-",
        r.Operation,
        r.Status.ToString(CultureInfo.InvariantCulture),
        r.ErrorCode ?? "-",
        r.Source ?? "-",
        r.Resources.Count == 0 ? "*" : string.Join(',', r.Resources));

    private static string Json(AuditRecord r)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("sequence", r.Sequence);
            writer.WriteString("recordedAt", r.RecordedAt.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
            writer.WriteString("requestId", r.RequestId);
            writer.WriteString("channel", r.Channel);
            writer.WriteString("accessKeyId", r.AccessKeyId);
            writer.WriteString("operation", r.Operation);
            writer.WriteStartArray("resources");
            foreach (var resource in r.Resources)
            {
                writer.WriteStringValue(resource);
            }

            writer.WriteEndArray();
            writer.WriteString("source", r.Source);
            writer.WriteString("userAgent", r.UserAgent);
            writer.WriteNumber("status", r.Status);
            writer.WriteString("errorCode", r.ErrorCode);
            writer.WriteString("hash", r.Hash);
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
