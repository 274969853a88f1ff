using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Hosting;
using Fleetkey.Pki;
using Fleetkey.Services;
using Fleetkey.Services.Provisioning;
using Fleetkey.Storage;

namespace Fleetkey.Cli;

/// <summary>
/// <c>fleetkey enrollments …</c>: enrollment groups and individual enrollments, offline or while the
/// server runs, through the same <see cref="EnrollmentService"/> as the control plane; <c>import</c>
/// loads a production run from CSV, <c>derive</c> computes a group's device secrets (the factory step).
/// </summary>
internal static class EnrollmentCommands
{
    private const string PassphraseVariable = "FLEETKEY_CA_PASSPHRASE";

    /// <param name="configureServices">Lets tests add services (a provisioning-template resolver) to what the commands use.</param>
    public static Command Create(Action<IServiceCollection>? configureServices = null)
    {
        var enrollments = new Command("enrollments", "Manage enrollments: who may register through the device endpoint, with which provisioning template.");
        var group = new Command("group", "Enrollment groups: every serial number matching a pattern, with secrets derived from the group key.");
        group.Subcommands.Add(CreateGroupCreate(configureServices));
        group.Subcommands.Add(CreateGroupGet(configureServices));
        group.Subcommands.Add(CreateGroupList(configureServices));
        group.Subcommands.Add(CreateGroupDelete(configureServices));
        enrollments.Subcommands.Add(group);
        enrollments.Subcommands.Add(CreateIndividualCreate(configureServices));
        enrollments.Subcommands.Add(CreateIndividualGet(configureServices));
        enrollments.Subcommands.Add(CreateIndividualList(configureServices));
        enrollments.Subcommands.Add(CreateIndividualDelete(configureServices));
        enrollments.Subcommands.Add(EnrollmentImportCommand.Create(configureServices));
        enrollments.Subcommands.Add(CreateDerive());
        return enrollments;
    }

    internal static Option<string> TemplateOption() => new("--template")
    {
        Description = "The provisioning template devices are registered with (FLEET_PROVISIONING).",
        Required = true,
    };

    internal static Option<bool> AllowReprovisioningOption() => new("--allow-reprovisioning")
    {
        Description = "Let a device that already has an active certificate register again (the old certificate is deactivated).",
    };

    internal static Option<string[]> ParameterOption() => new("--param")
    {
        Description = "A fixed template parameter, NAME=VALUE; repeat for more.",
        Arity = ArgumentArity.ZeroOrMore,
    };

    private static Command CreateGroupCreate(Action<IServiceCollection>? configure)
    {
        var (data, database) = (FleetkeyCommands.DataOption(), FleetkeyCommands.DatabaseOption());
        var name = new Argument<string>("name") { Description = "The enrollment group's name ([a-zA-Z0-9:_-], up to 128)." };
        var template = TemplateOption();
        var pattern = new Option<string?>("--serial-pattern") { Description = "A regular expression the whole serial number must match; every serial when absent." };
        var reprovision = AllowReprovisioningOption();
        var parameters = ParameterOption();
        var command = new Command("create", "Create an enrollment group and print its key once (base64); derive device secrets from it with `enrollments derive`.")
        {
            data, database, name, template, pattern, reprovision, parameters,
        };
        command.SetAction((parse, ct) => RunAsync(parse, data, database, configure, async (service, output) =>
        {
            var settings = new EnrollmentSettings(parse.GetValue(template), parse.GetValue(reprovision), ParseParameters(parse.GetValue(parameters)), parse.GetValue(pattern));
            var created = await service.CreateGroupAsync(parse.GetValue(name)!, settings, ct);
            await output.WriteLineAsync($"enrollmentGroupName = {created.Group.Name}");
            await output.WriteLineAsync($"groupKey = {Convert.ToBase64String(created.GroupKey)}");
            return 0;
        }, ct));
        return command;
    }

    private static Command CreateGroupGet(Action<IServiceCollection>? configure)
    {
        var (data, database) = (FleetkeyCommands.DataOption(), FleetkeyCommands.DatabaseOption());
        var name = new Argument<string>("name") { Description = "The enrollment group's name." };
        var command = new Command("get", "Show an enrollment group (never its key).") { data, database, name };
        command.SetAction((parse, ct) => RunAsync(parse, data, database, configure, async (service, output) =>
        {
            var group = await service.GetGroupAsync(parse.GetValue(name)!, ct);
            await output.WriteLineAsync($"enrollmentGroupName = {group.Name}");
            await WriteCommonAsync(output, group.TemplateName, group.Enabled, group.AllowReprovisioning, group.Parameters, group.CreatedAt, group.LastModifiedAt);
            await output.WriteLineAsync($"serialNumberPattern = {group.SerialNumberPattern ?? "(none: every serial number)"}");
            return 0;
        }, ct));
        return command;
    }

    private static Command CreateGroupList(Action<IServiceCollection>? configure)
    {
        var (data, database) = (FleetkeyCommands.DataOption(), FleetkeyCommands.DatabaseOption());
        var command = new Command("list", "List enrollment groups: name, template, enabled, pattern.") { data, database };
        command.SetAction((parse, ct) => RunAsync(parse, data, database, configure, async (service, output) =>
        {
            string? token = null;
            do
            {
                var page = await service.ListGroupsAsync(Services.Registry.PageRequest.From(token, Services.Registry.PageRequest.MaxLimit), ct);
                foreach (var group in page.Items)
                {
                    await output.WriteLineAsync($"{group.Name}\t{group.TemplateName}\t{(group.Enabled ? "enabled" : "disabled")}\t{group.SerialNumberPattern}");
                }

                token = page.NextKey;
            }
            while (token is not null);
            return 0;
        }, ct));
        return command;
    }

    private static Command CreateGroupDelete(Action<IServiceCollection>? configure)
    {
        var (data, database) = (FleetkeyCommands.DataOption(), FleetkeyCommands.DatabaseOption());
        var name = new Argument<string>("name") { Description = "The enrollment group to delete; its devices can no longer register (registered ones keep their certificates)." };
        var command = new Command("delete", "Delete an enrollment group.") { data, database, name };
        command.SetAction((parse, ct) => RunAsync(parse, data, database, configure, async (service, output) =>
        {
            await service.DeleteGroupAsync(parse.GetValue(name)!, ct);
            await output.WriteLineAsync($"Deleted enrollment group {parse.GetValue(name)}");
            return 0;
        }, ct));
        return command;
    }

    private static Command CreateIndividualCreate(Action<IServiceCollection>? configure)
    {
        var (data, database) = (FleetkeyCommands.DataOption(), FleetkeyCommands.DatabaseOption());
        var serial = new Argument<string>("serial-number") { Description = "The device's serial number (it becomes its thing name)." };
        var template = TemplateOption();
        var reprovision = AllowReprovisioningOption();
        var parameters = ParameterOption();
        var command = new Command("create", "Enroll one serial number and print its device secret once (base64).")
        {
            data, database, serial, template, reprovision, parameters,
        };
        command.SetAction((parse, ct) => RunAsync(parse, data, database, configure, async (service, output) =>
        {
            var settings = new EnrollmentSettings(parse.GetValue(template), parse.GetValue(reprovision), ParseParameters(parse.GetValue(parameters)));
            var created = await service.CreateAsync(parse.GetValue(serial)!, settings, deviceSecret: null, ct);
            await output.WriteLineAsync($"serialNumber = {created.Enrollment.SerialNumber}");
            await output.WriteLineAsync($"deviceSecret = {Convert.ToBase64String(created.DeviceSecret)}");
            return 0;
        }, ct));
        return command;
    }

    private static Command CreateIndividualGet(Action<IServiceCollection>? configure)
    {
        var (data, database) = (FleetkeyCommands.DataOption(), FleetkeyCommands.DatabaseOption());
        var serial = new Argument<string>("serial-number") { Description = "The enrolled serial number." };
        var command = new Command("get", "Show an individual enrollment (never its secret).") { data, database, serial };
        command.SetAction((parse, ct) => RunAsync(parse, data, database, configure, async (service, output) =>
        {
            var enrollment = await service.GetAsync(parse.GetValue(serial)!, ct);
            await output.WriteLineAsync($"serialNumber = {enrollment.SerialNumber}");
            await WriteCommonAsync(output, enrollment.TemplateName, enrollment.Enabled, enrollment.AllowReprovisioning, enrollment.Parameters, enrollment.CreatedAt, enrollment.LastModifiedAt);
            return 0;
        }, ct));
        return command;
    }

    private static Command CreateIndividualList(Action<IServiceCollection>? configure)
    {
        var (data, database) = (FleetkeyCommands.DataOption(), FleetkeyCommands.DatabaseOption());
        var command = new Command("list", "List individual enrollments: serial number, template, enabled.") { data, database };
        command.SetAction((parse, ct) => RunAsync(parse, data, database, configure, async (service, output) =>
        {
            string? token = null;
            do
            {
                var page = await service.ListAsync(Services.Registry.PageRequest.From(token, Services.Registry.PageRequest.MaxLimit), ct);
                foreach (var enrollment in page.Items)
                {
                    await output.WriteLineAsync($"{enrollment.SerialNumber}\t{enrollment.TemplateName}\t{(enrollment.Enabled ? "enabled" : "disabled")}");
                }

                token = page.NextKey;
            }
            while (token is not null);
            return 0;
        }, ct));
        return command;
    }

    private static Command CreateIndividualDelete(Action<IServiceCollection>? configure)
    {
        var (data, database) = (FleetkeyCommands.DataOption(), FleetkeyCommands.DatabaseOption());
        var serial = new Argument<string>("serial-number") { Description = "The serial number to unenroll." };
        var command = new Command("delete", "Delete an individual enrollment.") { data, database, serial };
        command.SetAction((parse, ct) => RunAsync(parse, data, database, configure, async (service, output) =>
        {
            await service.DeleteAsync(parse.GetValue(serial)!, ct);
            await output.WriteLineAsync($"Deleted enrollment {parse.GetValue(serial)}");
            return 0;
        }, ct));
        return command;
    }

    private static Command CreateDerive()
    {
        var groupKey = new Option<string>("--group-key")
        {
            Description = "The enrollment group's key, base64, as `enrollments group create` printed it.",
            Required = true,
        };
        var serials = new Argument<string[]>("serial-number") { Description = "Serial numbers to derive device secrets for.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("derive", "Print each serial number's device secret in a group, HMAC-SHA256(groupKey, serialNumber), base64, as CSV lines `serial,secret` (the factory step; needs no server).")
        {
            groupKey, serials,
        };
        command.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var key = EnrollmentSecrets.TryParse(parse.GetValue(groupKey));
            if (key is null)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"fleetkey: --group-key must be {EnrollmentSecrets.Length} bytes, base64-encoded.");
                return 2;
            }

            foreach (var serial in parse.GetValue(serials)!)
            {
                await output.WriteLineAsync($"{serial},{Convert.ToBase64String(EnrollmentSecrets.DeriveDeviceSecret(key, serial))}");
            }

            return 0;
        });
        return command;
    }

    /// <summary>Parses repeated NAME=VALUE options; throws an InvalidRequestException naming the bad one.</summary>
    internal static Dictionary<string, string>? ParseParameters(string[]? values)
    {
        if (values is not { Length: > 0 })
        {
            return null;
        }

        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            var equals = value.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                ThrowHelper.InvalidRequest($"--param {value}: expected NAME=VALUE.");
            }

            parameters[value[..equals]] = value[(equals + 1)..];
        }

        return parameters;
    }

    private static async Task WriteCommonAsync(TextWriter output, string templateName, bool enabled, bool allowReprovisioning, IReadOnlyDictionary<string, string> parameters, DateTimeOffset created, DateTimeOffset modified)
    {
        await output.WriteLineAsync($"templateName = {templateName}");
        await output.WriteLineAsync($"enabled = {(enabled ? "true" : "false")}");
        await output.WriteLineAsync($"allowReprovisioning = {(allowReprovisioning ? "true" : "false")}");
        foreach (var (name, value) in parameters.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            await output.WriteLineAsync($"parameter {name} = {value}");
        }

        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"created = {created:yyyy-MM-ddTHH:mm:ssZ}"));
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"lastModified = {modified:yyyy-MM-ddTHH:mm:ssZ}"));
    }

    /// <summary>
    /// Opens the store and the enrollment service, runs <paramref name="work"/>, and turns a service
    /// error into a message and exit code 1 (a usage or setup problem: 2).
    /// </summary>
    internal static async Task<int> RunAsync(
        ParseResult parse,
        Option<string> data,
        Option<string?> database,
        Action<IServiceCollection>? configure,
        Func<EnrollmentService, TextWriter, Task<int>> work,
        CancellationToken cancellationToken)
    {
        var error = parse.InvocationConfiguration.Error;
        if (await FleetkeyCommands.OpenFleetAsync(parse.GetValue(data)!, parse.GetValue(database), error, cancellationToken) is not { } store)
        {
            return 2;
        }

        await using var opened = await OpenAsync(parse.GetValue(data)!, store, configure, cancellationToken);
        if (opened.Problem is { } problem)
        {
            await error.WriteLineAsync($"fleetkey: {problem}");
            return 2;
        }

        var change = Change(parse);
        ServiceException? failure = null;
        try
        {
            return await work(opened.Service!, parse.InvocationConfiguration.Output);
        }
        catch (ServiceException exception)
        {
            failure = exception;
            await error.WriteLineAsync($"fleetkey: {exception.Code.Name}: {exception.Message}");
            return 1;
        }
        finally
        {
            if (change is { } recorded)
            {
                await CliAudit.RecordAsync(store.Store, recorded.Operation, recorded.Resources, failure);
            }
        }
    }

    // The control-plane operation a changing command stands for in the audit trail, with what it names; null for reads.
    private static (string Operation, IReadOnlyList<string> Resources)? Change(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        var inGroup = parse.CommandResult.Parent is System.CommandLine.Parsing.CommandResult { Command.Name: "group" };
        var operation = (inGroup, command.Name) switch
        {
            (true, "create") => "CreateEnrollmentGroup",
            (true, "delete") => "DeleteEnrollmentGroup",
            (false, "create") => "CreateEnrollment",
            (false, "delete") => "DeleteEnrollment",
            (false, "import") => "ImportEnrollments",
            _ => null,
        };
        if (operation is null)
        {
            return null;
        }

        var name = command.Arguments.FirstOrDefault() is Argument<string> argument ? parse.GetValue(argument) : null;
        return (operation, name is null ? [] : [(inGroup ? "enrollmentgroup/" : "enrollment/") + name]);
    }

    private static async Task<OpenedEnrollments> OpenAsync(string dataDirectory, OpenedStore opened, Action<IServiceCollection>? configure, CancellationToken cancellationToken)
    {
        var passphrase = Environment.GetEnvironmentVariable(PassphraseVariable) is { Length: > 0 } value ? value : null;

        var services = new ServiceCollection();
        services.AddSingleton<IFleetStore>(opened.Store);
        services.AddSingleton(new PassphraseSealer(passphrase));

        // The ARN scope services may render ARNs in (the template resolver does); the CLI signs nothing, so the default region.
        services.AddSingleton(new IotScope("us-east-1", Environment.GetEnvironmentVariable("FLEETKEY_ACCOUNT_ID") is { Length: > 0 } account ? account : "000000000000"));
        services.AddFleetkeyServices();
        configure?.Invoke(services);
        var provider = services.BuildServiceProvider();
        var result = new OpenedEnrollments(opened, provider);

        if (provider.GetService<IProvisioningTemplateResolver>() is null)
        {
            result.Problem = "this build cannot read provisioning templates (no IProvisioningTemplateResolver is registered).";
            return result;
        }

        // Secrets sealed under another passphrase (or left in the clear beside encrypted CA keys)
        // would fail or weaken the server: use exactly the CA's passphrase.
        var ca = await DataDirectory.CaStore(dataDirectory, opened, TimeProvider.System).LoadAsync(cancellationToken);
        if (ca is { KeysEncrypted: true })
        {
            if (passphrase is null)
            {
                result.Problem = $"the CA keys are encrypted: set {PassphraseVariable} (the server's passphrase) so that enrollment secrets are encrypted too.";
                return result;
            }

            try
            {
                using var root = X509Certificate2.CreateFromPem(ca.RootCertificatePem);
                CaKeyPem.Import(root, ca.RootKeyPem, passphrase, "root CA").Dispose();
            }
            catch (PkiException exception)
            {
                result.Problem = exception.Message;
                return result;
            }
        }

        result.Service = provider.GetRequiredService<EnrollmentService>();
        return result;
    }

    private sealed class OpenedEnrollments(OpenedStore store, ServiceProvider provider) : IAsyncDisposable
    {
        public EnrollmentService? Service { get; set; }

        public string? Problem { get; set; }

        public async ValueTask DisposeAsync()
        {
            await provider.DisposeAsync();
            await store.DisposeAsync();
        }
    }
}
