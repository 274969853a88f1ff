using System.Buffers;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Fleetkey.Core.Errors;
using Fleetkey.Services.Registry;
using Fleetkey.Services.Security;
using Fleetkey.Storage;

namespace Fleetkey.Cli;

/// <summary>
/// <c>fleetkey certificates expiring</c>: the certificates that end within a window, soonest first, offline
/// or while the server runs, through the same <see cref="CertificateExpiryService"/> as the control plane's
/// <c>GET /expiring-certificates</c>.
/// </summary>
internal static class CertificateCommands
{
    /// <param name="time">The clock "now" is read from; tests pass a fake one.</param>
    public static Command Create(TimeProvider? time = null)
    {
        var certificates = new Command("certificates", "Device certificates: which expire when.");
        certificates.Subcommands.Add(CreateExpiring(time ?? TimeProvider.System));
        return certificates;
    }

    private static Command CreateExpiring(TimeProvider time)
    {
        var (data, database) = (FleetkeyCommands.DataOption(), FleetkeyCommands.DatabaseOption());
        var within = new Option<ExpiryWindow>("--within")
        {
            Description = $"How far ahead to look: {ExpiryWindow.Syntax}.",
            DefaultValueFactory = _ => ExpiryWindow.ThirtyDays,
            CustomParser = ParseWindow,
            HelpName = "duration",
        };
        var status = new Option<IReadOnlyList<string>>("--status")
        {
            Description = $"Statuses to list, comma-separated or repeated ({string.Join(", ", CertificateExpiryService.AllStatuses)}); default ACTIVE.",
            CustomParser = ParseStatuses,
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = false,
            HelpName = "status,…",
        };
        var includeExpired = new Option<bool>("--include-expired")
        {
            Description = "Also list certificates whose validity has already ended (they come first, the longest expired first).",
        };
        var json = new Option<bool>("--json")
        {
            Description = "Write one JSON document (window, time of the query, certificates) instead of tab-separated lines.",
        };
        var command = new Command(
            "expiring",
            "List the certificates whose validity ends within a window, soonest first: id, status, not-after, the things each is attached to, its CA (tab-separated; - when none).")
        {
            data, database, within, status, includeExpired, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var error = parse.InvocationConfiguration.Error;
            if (await FleetkeyCommands.OpenFleetAsync(parse.GetValue(data)!, parse.GetValue(database), error, cancellationToken) is not { } opened)
            {
                return 2;
            }

            await using (opened)
            {
                var query = new ExpiryQuery(parse.GetValue(within)!, parse.GetValue(status), parse.GetValue(includeExpired));
                var service = new CertificateExpiryService(opened.Store, time);
                var output = parse.InvocationConfiguration.Output;
                try
                {
                    if (parse.GetValue(json))
                    {
                        await WriteJsonAsync(output, service, query, time.GetUtcNow(), cancellationToken);
                    }
                    else
                    {
                        await foreach (var certificate in ListAllAsync(service, query, cancellationToken))
                        {
                            await output.WriteLineAsync(Line(certificate));
                        }
                    }
                }
                catch (ServiceException exception)
                {
                    await error.WriteLineAsync($"fleetkey: {exception.Code.Name}: {exception.Message}");
                    return 1;
                }
            }

            return 0;
        });
        return command;
    }

    /// <summary>One certificate as a line: id, status, not-after, things (comma-separated), CA; "-" for none.</summary>
    internal static string Line(ExpiringCertificate certificate) =>
        string.Join(
            '\t',
            certificate.CertificateId,
            certificate.Status,
            Instant(certificate.NotAfter),
            certificate.ThingNames.Count == 0 ? "-" : string.Join(',', certificate.ThingNames),
            certificate.CaCertificateId ?? "-");

    private static string Instant(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    private static async IAsyncEnumerable<ExpiringCertificate> ListAllAsync(
        CertificateExpiryService service, ExpiryQuery query, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? after = null;
        do
        {
            var page = await service.ListAsync(query, PageRequest.From(after, PageRequest.MaxLimit), cancellationToken);
            foreach (var certificate in page.Items)
            {
                yield return certificate;
            }

            after = page.NextKey;
        }
        while (after is not null);
    }

    /// <summary>The JSON document, written a page at a time so that a large fleet's list is never held whole.</summary>
    private static async Task WriteJsonAsync(TextWriter output, CertificateExpiryService service, ExpiryQuery query, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>();
        await using var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true });
        async Task FlushAsync()
        {
            await writer.FlushAsync(cancellationToken);
            await output.WriteAsync(Encoding.UTF8.GetString(buffer.WrittenSpan));
            buffer.ResetWrittenCount();
        }

        writer.WriteStartObject();
        writer.WriteString("within", query.Within.Text);
        writer.WriteString("at", Instant(at));
        writer.WriteStartArray("certificates");
        var written = 0;
        await foreach (var certificate in ListAllAsync(service, query, cancellationToken))
        {
            writer.WriteStartObject();
            writer.WriteString("certificateId", certificate.CertificateId);
            writer.WriteString("status", certificate.Status);
            writer.WriteString("notAfter", Instant(certificate.NotAfter));
            writer.WriteStartArray("thingNames");
            foreach (var thing in certificate.ThingNames)
            {
                writer.WriteStringValue(thing);
            }

            writer.WriteEndArray();
            if (certificate.CaCertificateId is { } ca)
            {
                writer.WriteString("caCertificateId", ca);
            }
            else
            {
                writer.WriteNull("caCertificateId");
            }

            writer.WriteEndObject();
            if (++written % PageRequest.MaxLimit == 0)
            {
                await FlushAsync();
            }
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        await FlushAsync();
        await output.WriteLineAsync();
    }

    private static ExpiryWindow ParseWindow(ArgumentResult result)
    {
        var text = result.Tokens[0].Value;
        if (ExpiryWindow.TryParse(text) is { } window)
        {
            return window;
        }

        result.AddError(ExpiryWindow.Problem(text, "--within"));
        return ExpiryWindow.ThirtyDays;
    }

    /// <summary>Statuses, comma-separated or repeated, in any case; an unknown one is a usage error naming the valid ones.</summary>
    private static List<string> ParseStatuses(ArgumentResult result)
    {
        var statuses = new List<string>();
        foreach (var token in result.Tokens)
        {
            foreach (var part in token.Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var upper = part.ToUpperInvariant();
                if (!CertificateExpiryService.AllStatuses.Contains(upper, StringComparer.Ordinal))
                {
                    result.AddError($"--status must name statuses among {string.Join(", ", CertificateExpiryService.AllStatuses)}, not '{part}'.");
                    return [];
                }

                if (!statuses.Contains(upper, StringComparer.Ordinal))
                {
                    statuses.Add(upper);
                }
            }
        }

        if (statuses.Count == 0)
        {
            result.AddError("--status must name at least one status.");
        }

        return statuses;
    }
}
