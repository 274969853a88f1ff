using System.CommandLine;
using System.Globalization;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Registry;
using Fleetkey.Pki;
using Fleetkey.Services.Access;

namespace Fleetkey.Cli;

/// <summary>
/// <c>fleetkey keys …</c>: control-plane access keys and their identity policies, on the store of a fleet
/// (offline or while the server runs). Every change is recorded in the audit trail (channel <c>cli</c>).
/// </summary>
internal static class KeyCommands
{
    private const string PassphraseVariable = "FLEETKEY_CA_PASSPHRASE";

    public static Command Create()
    {
        var keys = new Command("keys", "Manage control-plane access keys (SigV4) and their identity policies.");
        keys.Subcommands.Add(CreateKey());
        keys.Subcommands.Add(List());
        keys.Subcommands.Add(Simple("delete", "Delete an access key; requests signed with it fail from then on.", "DeleteAccessKey",
            async (service, id, ct) =>
            {
                if (!await service.DeleteAsync(id, ct))
                {
                    throw new ServiceException(ErrorCode.ResourceNotFound, $"no access key {id}");
                }

                return $"Deleted {id}";
            }));
        keys.Subcommands.Add(Simple("disable", "Turn a key off: requests signed with it are refused until it is enabled.", "UpdateAccessKey",
            async (service, id, ct) =>
            {
                await service.SetStatusAsync(id, AccessKey.Inactive, ct);
                return $"Disabled {id}";
            }));
        keys.Subcommands.Add(Simple("enable", "Turn a disabled key on again.", "UpdateAccessKey",
            async (service, id, ct) =>
            {
                await service.SetStatusAsync(id, AccessKey.Active, ct);
                return $"Enabled {id}";
            }));
        keys.Subcommands.Add(AttachPolicy());
        keys.Subcommands.Add(DetachPolicy());
        keys.Subcommands.Add(Rotate());
        return keys;
    }

    private static Command CreateKey()
    {
        var data = FleetkeyCommands.DataOption();
        var database = FleetkeyCommands.DatabaseOption();
        var description = new Option<string?>("--description") { Description = "What the key is for." };
        var policies = new Option<string[]>("--policy")
        {
            Description = $"An identity policy to attach: a shipped one by name ({string.Join(", ", ShippedPolicies.Names)}) or a JSON file (its name without .json names it). Repeatable. Without one the key may do nothing.",
            AllowMultipleArgumentsPerToken = false,
        };
        var create = new Command("create", "Create an access key and print it once, in the AWS credentials format.") { data, database, description, policies };
        create.SetAction((parse, cancellationToken) => RunAsync(parse.GetValue(data)!, parse.GetValue(database), "CreateAccessKey", async (service, ct) =>
        {
            var attached = (parse.GetValue(policies) ?? []).Select(ReadPolicy).ToList();
            var key = await service.CreateAsync(parse.GetValue(description), attached, fullAccess: false, ct);
            Console.WriteLine("[default]");
            Console.WriteLine($"aws_access_key_id = {key.AccessKeyId}");
            Console.WriteLine($"aws_secret_access_key = {key.SecretAccessKey}");
            if (attached.Count == 0)
            {
                await Console.Error.WriteLineAsync($"fleetkey: {key.AccessKeyId} has no policy, so it may do nothing yet: fleetkey keys attach-policy {key.AccessKeyId} read-only|provisioner|enrollment-operator|admin|FILE");
            }

            return (key.AccessKeyId, null);
        }, cancellationToken));
        return create;
    }

    private static Command List()
    {
        var data = FleetkeyCommands.DataOption();
        var database = FleetkeyCommands.DatabaseOption();
        var list = new Command("list", "List access keys: id, status, policies, last use and its source, description (secrets are never shown again).") { data, database };
        list.SetAction((parse, cancellationToken) => RunAsync(parse.GetValue(data)!, parse.GetValue(database), null, async (service, ct) =>
        {
            Console.WriteLine("ACCESS KEY ID\tSTATUS\tCREATED\tPOLICIES\tLAST USED\tFROM\tDESCRIPTION");
            foreach (var key in await service.ListAsync(ct))
            {
                var policies = key.FullAccess ? "(root: full access)" : key.Policies.Count == 0 ? "(none)" : string.Join(",", key.Policies.Select(p => p.PolicyName));
                var lastUsed = key.LastUsedAt is { } at ? at.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) : "never";
                Console.WriteLine($"{key.AccessKeyId}\t{key.Status}\t{key.CreatedAt.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}\t{policies}\t{lastUsed}\t{key.LastUsedSource ?? "-"}\t{key.Description}");
            }

            return (null, null);
        }, cancellationToken));
        return list;
    }

    private static Command AttachPolicy()
    {
        var data = FleetkeyCommands.DataOption();
        var database = FleetkeyCommands.DatabaseOption();
        var id = new Argument<string>("access-key-id");
        var policy = new Argument<string>("policy") { Description = $"A shipped policy ({string.Join(", ", ShippedPolicies.Names)}) or a JSON file." };
        var name = new Option<string?>("--name") { Description = "The name to attach it under (default: the shipped name or the file's name without .json)." };
        var command = new Command("attach-policy", "Attach an identity policy to a key (replacing one attached under the same name).") { data, database, id, policy, name };
        command.SetAction((parse, cancellationToken) => RunAsync(parse.GetValue(data)!, parse.GetValue(database), "AttachAccessKeyPolicy", async (service, ct) =>
        {
            var read = ReadPolicy(parse.GetValue(policy)!);
            var policyName = parse.GetValue(name) ?? read.PolicyName;
            await service.AttachPolicyAsync(parse.GetValue(id)!, policyName, read.Document, ct);
            Console.WriteLine($"Attached {policyName} to {parse.GetValue(id)}");
            return (parse.GetValue(id), $"accesskey/{parse.GetValue(id)}/policy/{policyName}");
        }, cancellationToken));
        return command;
    }

    private static Command DetachPolicy()
    {
        var data = FleetkeyCommands.DataOption();
        var database = FleetkeyCommands.DatabaseOption();
        var id = new Argument<string>("access-key-id");
        var name = new Argument<string>("policy-name");
        var command = new Command("detach-policy", "Detach an identity policy from a key.") { data, database, id, name };
        command.SetAction((parse, cancellationToken) => RunAsync(parse.GetValue(data)!, parse.GetValue(database), "DetachAccessKeyPolicy", async (service, ct) =>
        {
            await service.DetachPolicyAsync(parse.GetValue(id)!, parse.GetValue(name)!, ct);
            Console.WriteLine($"Detached {parse.GetValue(name)} from {parse.GetValue(id)}");
            return (parse.GetValue(id), null);
        }, cancellationToken));
        return command;
    }

    private static Command Rotate()
    {
        var data = FleetkeyCommands.DataOption();
        var database = FleetkeyCommands.DatabaseOption();
        var id = new Argument<string>("access-key-id");
        var grace = new Option<TimeSpan?>("--grace")
        {
            Description = "How long the old secret keeps working: a whole number of seconds, minutes, hours or days (90s, 30m, 24h, 7d; 0s: not at all). Default 24h, at most 30d.",
            CustomParser = ParseGrace,
        };
        var command = new Command("rotate", "Give a key a new secret, printed once; the old one works for the grace period.") { data, database, id, grace };
        command.SetAction((parse, cancellationToken) => RunAsync(parse.GetValue(data)!, parse.GetValue(database), "RotateAccessKey", async (service, ct) =>
        {
            var rotated = await service.RotateAsync(parse.GetValue(id)!, parse.GetValue(grace) ?? AccessKeyService.DefaultRotationGrace, ct);
            Console.WriteLine("[default]");
            Console.WriteLine($"aws_access_key_id = {rotated.AccessKeyId}");
            Console.WriteLine($"aws_secret_access_key = {rotated.SecretAccessKey}");
            await Console.Error.WriteLineAsync(rotated.PreviousSecretExpiresAt is { } until
                ? $"fleetkey: the previous secret of {rotated.AccessKeyId} works until {until.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}"
                : $"fleetkey: the previous secret of {rotated.AccessKeyId} no longer works");
            return (rotated.AccessKeyId, null);
        }, cancellationToken));
        return command;
    }

    private static TimeSpan? ParseGrace(System.CommandLine.Parsing.ArgumentResult result)
    {
        var text = result.Tokens[0].Value;
        if (text.Length is >= 2 and <= 8 && long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var count))
        {
            TimeSpan? grace = text[^1] switch
            {
                's' => TimeSpan.FromSeconds(count),
                'm' => TimeSpan.FromMinutes(count),
                'h' => TimeSpan.FromHours(count),
                'd' => TimeSpan.FromDays(count),
                _ => null,
            };
            if (grace is { } value && value <= AccessKeyService.MaxRotationGrace)
            {
                return value;
            }
        }

        result.AddError($"--grace {text} is not a duration from 0s to 30d like 90s, 30m, 24h or 7d.");
        return null;
    }

    private static Command Simple(string verb, string description, string operation, Func<AccessKeyService, string, CancellationToken, Task<string>> work)
    {
        var data = FleetkeyCommands.DataOption();
        var database = FleetkeyCommands.DatabaseOption();
        var id = new Argument<string>("access-key-id");
        var command = new Command(verb, description) { data, database, id };
        command.SetAction((parse, cancellationToken) => RunAsync(parse.GetValue(data)!, parse.GetValue(database), operation, async (service, ct) =>
        {
            Console.WriteLine(await work(service, parse.GetValue(id)!, ct));
            return (parse.GetValue(id), null);
        }, cancellationToken));
        return command;
    }

    /// <summary>A shipped policy by name, or a JSON file (named after the file).</summary>
    internal static AccessKeyPolicy ReadPolicy(string nameOrFile)
    {
        if (ShippedPolicies.Find(nameOrFile) is { } shipped)
        {
            return new AccessKeyPolicy(nameOrFile, shipped, DateTimeOffset.UtcNow);
        }

        if (!File.Exists(nameOrFile))
        {
            throw new ServiceException(ErrorCode.InvalidRequest, $"{nameOrFile} is neither a shipped policy ({string.Join(", ", ShippedPolicies.Names)}) nor a file.");
        }

        var info = new FileInfo(nameOrFile);
        if (info.Length > 131_072)
        {
            throw new ServiceException(ErrorCode.InvalidRequest, $"{nameOrFile} is larger than a policy can be.");
        }

        return new AccessKeyPolicy(Path.GetFileNameWithoutExtension(nameOrFile), File.ReadAllText(nameOrFile), DateTimeOffset.UtcNow);
    }

    /// <summary>
    /// Runs <paramref name="work"/> on the access keys of an existing fleet and records it in the audit trail
    /// (when <paramref name="operation"/> is given: a change) with its outcome. The root key is serve's to make.
    /// </summary>
    private static async Task<int> RunAsync(
        string dataDirectory, string? database, string? operation, Func<AccessKeyService, CancellationToken, Task<(string? KeyId, string? Resource)>> work, CancellationToken cancellationToken)
    {
        if (await FleetkeyCommands.OpenFleetAsync(dataDirectory, database, Console.Error, cancellationToken) is not { } opened)
        {
            return 2;
        }

        await using (opened)
        {
            var passphrase = Environment.GetEnvironmentVariable(PassphraseVariable) is { Length: > 0 } value ? value : null;
            var service = new AccessKeyService(opened.Store, new PassphraseSealer(passphrase), TimeProvider.System);
            ServiceException? failure = null;
            (string? KeyId, string? Resource) result = (null, null);
            try
            {
                result = await work(service, cancellationToken);
                return 0;
            }
            catch (ServiceException exception)
            {
                failure = exception;
                await Console.Error.WriteLineAsync($"fleetkey: {exception.Message}");
                return 1;
            }
            finally
            {
                if (operation is not null)
                {
                    await CliAudit.RecordAsync(opened.Store, operation, result.KeyId is { } id ? [$"accesskey/{id}"] : [], failure);
                }
            }
        }
    }
}
