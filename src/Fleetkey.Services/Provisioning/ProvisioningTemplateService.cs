using System.Globalization;
using System.Text.RegularExpressions;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Paging;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Registry;
using Fleetkey.Storage;
using Fleetkey.Templates;

namespace Fleetkey.Services.Provisioning;

/// <summary>
/// Provisioning templates (CreateProvisioningTemplate and its family) and their versions, as AWS
/// keeps them: at most five versions, ids never reused, the default version cannot be deleted, the
/// type fixed at creation. Every body is checked by the template engine before it is stored.
/// Fleetkey has no IAM and no Lambda: the provisioning role is checked for form and kept, not used;
/// a pre-provisioning hook may be an http(s) URL, which fleet provisioning calls instead of a Lambda.
/// </summary>
public sealed partial class ProvisioningTemplateService(IFleetStore store, TimeProvider time)
{
    public const string TagKind = "provisioningtemplate";
    public const int MaxVersions = 5;
    public const int MaxNameLength = 36;

    /// <summary>The payload version AWS sends a pre-provisioning hook when none is given.</summary>
    public const string DefaultHookPayloadVersion = "2020-04-01";

    /// <summary>A pre-provisioning hook: a Lambda function and the payload version it is sent.</summary>
    public sealed record Hook(string TargetArn, string? PayloadVersion);

    public sealed record NewTemplate(
        string Name,
        string Body,
        string ProvisioningRoleArn,
        string? Description = null,
        bool? Enabled = null,
        string? Type = null,
        Hook? PreProvisioningHook = null,
        IReadOnlyList<Tag>? Tags = null);

    /// <summary>UpdateProvisioningTemplate's input: a null member leaves the stored value as it is.</summary>
    public sealed record TemplateUpdate(
        string? Description = null,
        bool? Enabled = null,
        long? DefaultVersionId = null,
        string? ProvisioningRoleArn = null,
        Hook? PreProvisioningHook = null,
        bool RemovePreProvisioningHook = false);

    public sealed record TemplateWithBody(ProvisioningTemplate Template, ProvisioningTemplateVersion DefaultVersion);

    [GeneratedRegex(@"^[0-9A-Za-z_-]+\z")]
    private static partial Regex NamePattern();

    // Fleetkey has no IAM: a role is only checked to be an IAM role ARN, as AWS requires.
    [GeneratedRegex(@"^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]+\z")]
    private static partial Regex RoleArnPattern();

    // AWS accepts only Lambda functions as pre-provisioning hooks.
    [GeneratedRegex(@"^arn:aws(-[a-z]+)*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?\z")]
    private static partial Regex LambdaArnPattern();

    public Task<TemplateWithBody> CreateAsync(NewTemplate request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var type = request.Type ?? ProvisioningTemplateType.FleetProvisioning;
        var problems = new List<string>();
        CheckName(request.Name, problems);
        CheckType(type, problems);
        CheckRoleArn(request.ProvisioningRoleArn, problems);
        CheckHook(request.PreProvisioningHook, type, problems);
        CheckBody(request.Body, problems);
        ThrowIfAny(problems);
        TagService.EnsureTags(request.Tags ?? [], 0);

        return store.WriteAsync(async (session, ct) =>
        {
            var now = time.GetUtcNow();
            var template = new ProvisioningTemplate(
                request.Name,
                request.Description,
                request.Enabled ?? false,
                type,
                request.ProvisioningRoleArn,
                request.PreProvisioningHook?.TargetArn,
                request.PreProvisioningHook is { } hook ? hook.PayloadVersion ?? DefaultHookPayloadVersion : null,
                DefaultVersionId: 1,
                NextVersionId: 2,
                now,
                now);
            var version = new ProvisioningTemplateVersion(request.Name, 1, request.Body, now);
            await session.ProvisioningTemplates.InsertAsync(template, version, ct);
            await session.Tags.SetAsync(TagKind, request.Name, request.Tags ?? [], ct);
            return new TemplateWithBody(template, version);
        }, cancellationToken);
    }

    /// <summary>The template with the body of its default version.</summary>
    public Task<TemplateWithBody> DescribeAsync(string name, CancellationToken cancellationToken) =>
        store.ReadAsync((session, ct) => DescribeAsync(session, name, ct), cancellationToken);

    /// <summary>The template and its default version, or null when no template has this name.</summary>
    public Task<TemplateWithBody?> FindAsync(string name, CancellationToken cancellationToken) =>
        store.ReadAsync<TemplateWithBody?>(
            async (session, ct) => await session.ProvisioningTemplates.GetAsync(name, ct) is null ? null : await DescribeAsync(session, name, ct),
            cancellationToken);

    private static async Task<TemplateWithBody> DescribeAsync(IStoreSession session, string name, CancellationToken cancellationToken)
    {
        var template = await RequireAsync(session, name, cancellationToken);
        var version = await session.ProvisioningTemplates.GetVersionAsync(name, template.DefaultVersionId, cancellationToken)
            ?? throw new InvalidOperationException($"Provisioning template {name} has no default version.");
        return new TemplateWithBody(template, version);
    }

    public Task UpdateAsync(string name, TemplateUpdate update, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(update);
        var problems = new List<string>();
        if (update.PreProvisioningHook is not null && update.RemovePreProvisioningHook)
        {
            problems.Add("preProvisioningHook and removePreProvisioningHook cannot be given together.");
        }

        if (update.ProvisioningRoleArn is not null)
        {
            CheckRoleArn(update.ProvisioningRoleArn, problems);
        }

        ThrowIfAny(problems);
        return store.WriteAsync(async (session, ct) =>
        {
            var template = await RequireAsync(session, name, ct);
            var hookProblems = new List<string>();
            CheckHook(update.PreProvisioningHook, template.Type, hookProblems);
            ThrowIfAny(hookProblems);
            if (update.DefaultVersionId is { } versionId)
            {
                _ = await session.ProvisioningTemplates.GetVersionAsync(name, versionId, ct)
                    ?? ThrowHelper.NotFound<ProvisioningTemplateVersion>(VersionNotFoundMessage(name, versionId));
            }

            var updated = template with
            {
                Description = update.Description ?? template.Description,
                Enabled = update.Enabled ?? template.Enabled,
                DefaultVersionId = update.DefaultVersionId ?? template.DefaultVersionId,
                ProvisioningRoleArn = update.ProvisioningRoleArn ?? template.ProvisioningRoleArn,
                LastModifiedAt = time.GetUtcNow(),
            };
            if (update.RemovePreProvisioningHook)
            {
                updated = updated with { HookTargetArn = null, HookPayloadVersion = null };
            }
            else if (update.PreProvisioningHook is { } hook)
            {
                updated = updated with { HookTargetArn = hook.TargetArn, HookPayloadVersion = hook.PayloadVersion ?? DefaultHookPayloadVersion };
            }

            await session.ProvisioningTemplates.UpdateAsync(updated, ct);
            return true;
        }, cancellationToken);
    }

    /// <summary>Deletes the template with every version and its tags.</summary>
    public Task DeleteAsync(string name, CancellationToken cancellationToken) =>
        store.WriteAsync(async (session, ct) =>
        {
            _ = await RequireAsync(session, name, ct);
            if (await session.EnrollmentGroups.AnyForTemplateAsync(name, ct) || await session.Enrollments.AnyForTemplateAsync(name, ct))
            {
                // As AWS refuses to delete a template a CA certificate still provisions with.
                throw new ServiceException(
                    ErrorCode.DeleteConflict,
                    $"The provisioning template {name} is used by enrollments; point them at another template or delete them first.");
            }

            await session.Tags.RemoveAllAsync(TagKind, name, ct);
            return await session.ProvisioningTemplates.DeleteAsync(name, ct);
        }, cancellationToken);

    /// <summary>Templates by name.</summary>
    public Task<Page<ProvisioningTemplate>> ListAsync(PageRequest page, CancellationToken cancellationToken) =>
        store.ReadAsync(async (session, ct) =>
            Paging.ToPage(await session.ProvisioningTemplates.ListAsync(page.After, page.Fetch, ct), page.Limit, t => t.Name), cancellationToken);

    public Task<(ProvisioningTemplateVersion Version, bool IsDefault)> CreateVersionAsync(string name, string body, bool setAsDefault, CancellationToken cancellationToken)
    {
        EnsureBody(body);
        return store.WriteAsync(async (session, ct) =>
        {
            var template = await RequireAsync(session, name, ct);
            if (await session.ProvisioningTemplates.CountVersionsAsync(name, ct) >= MaxVersions)
            {
                throw new ServiceException(
                    ErrorCode.VersionsLimitExceeded,
                    $"The provisioning template {name} already has the maximum number of versions ({MaxVersions}); delete a version that is not the default first.");
            }

            var now = time.GetUtcNow();
            var version = new ProvisioningTemplateVersion(name, template.NextVersionId, body, now);
            await session.ProvisioningTemplates.InsertVersionAsync(version, ct);
            await session.ProvisioningTemplates.UpdateAsync(
                template with
                {
                    NextVersionId = template.NextVersionId + 1,
                    DefaultVersionId = setAsDefault ? version.VersionId : template.DefaultVersionId,
                    LastModifiedAt = now,
                },
                ct);
            return (version, setAsDefault);
        }, cancellationToken);
    }

    public Task<(ProvisioningTemplate Template, ProvisioningTemplateVersion Version)> DescribeVersionAsync(string name, long versionId, CancellationToken cancellationToken) =>
        store.ReadAsync(async (session, ct) =>
        {
            var template = await RequireAsync(session, name, ct);
            var version = await session.ProvisioningTemplates.GetVersionAsync(name, versionId, ct)
                ?? ThrowHelper.NotFound<ProvisioningTemplateVersion>(VersionNotFoundMessage(name, versionId));
            return (template, version);
        }, cancellationToken);

    /// <summary>The template's versions, oldest first.</summary>
    public Task<(ProvisioningTemplate Template, Page<ProvisioningTemplateVersion> Versions)> ListVersionsAsync(string name, PageRequest page, CancellationToken cancellationToken)
    {
        long? after = null;
        if (page.After is { } token)
        {
            if (!long.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                ThrowHelper.InvalidRequest("The nextToken is not valid.");
            }

            after = id;
        }

        return store.ReadAsync(async (session, ct) =>
        {
            var template = await RequireAsync(session, name, ct);
            var versions = await session.ProvisioningTemplates.ListVersionsAsync(name, after, page.Fetch, ct);
            return (template, Paging.ToPage(versions, page.Limit, v => v.VersionId.ToString(CultureInfo.InvariantCulture)));
        }, cancellationToken);
    }

    public Task DeleteVersionAsync(string name, long versionId, CancellationToken cancellationToken) =>
        store.WriteAsync(async (session, ct) =>
        {
            var template = await RequireAsync(session, name, ct);
            if (template.DefaultVersionId == versionId)
            {
                throw new ServiceException(
                    ErrorCode.DeleteConflict,
                    $"Version {versionId} is the default version of the provisioning template {name} and cannot be deleted; make another version the default first.");
            }

            if (!await session.ProvisioningTemplates.DeleteVersionAsync(name, versionId, ct))
            {
                ThrowHelper.NotFound(VersionNotFoundMessage(name, versionId));
            }

            return true;
        }, cancellationToken);

    /// <summary>
    /// Checks a body with the template engine: one InvalidRequestException naming every problem, each
    /// with its JSON path.
    /// </summary>
    public static void EnsureBody(string body)
    {
        var problems = new List<string>();
        CheckBody(body, problems);
        ThrowIfAny(problems);
    }

    private static void CheckBody(string body, List<string> problems)
    {
        var errors = TemplateEngine.Validate(body);
        if (errors.Count > 0)
        {
            problems.Add($"The template body is not a valid provisioning template: {Describe(errors)}.");
        }
    }

    /// <summary>Template errors as one message: "path: message; …" (the root's without a path).</summary>
    internal static string Describe(IEnumerable<TemplateError> errors) =>
        string.Join("; ", errors.Select(e => e.Path.Length == 0 ? e.Message : $"{e.Path}: {e.Message}"));

    internal static async Task<ProvisioningTemplate> RequireAsync(IStoreSession session, string name, CancellationToken cancellationToken) =>
        await session.ProvisioningTemplates.GetAsync(name, cancellationToken) ?? ThrowHelper.NotFound<ProvisioningTemplate>(NotFoundMessage(name));

    internal static string NotFoundMessage(string name) => $"The provisioning template {name} does not exist.";

    private static string VersionNotFoundMessage(string name, long versionId) => $"Version {versionId} of the provisioning template {name} does not exist.";

    private static void CheckName(string? name, List<string> problems)
    {
        if (name is not { Length: > 0 and <= MaxNameLength } || !NamePattern().IsMatch(name))
        {
            problems.Add($"templateName '{name}' must match ^[0-9A-Za-z_-]+$ and be 1 to {MaxNameLength} characters.");
        }
    }

    private static void CheckType(string type, List<string> problems)
    {
        if (type is not (ProvisioningTemplateType.FleetProvisioning or ProvisioningTemplateType.Jitp))
        {
            problems.Add($"type '{type}' must be {ProvisioningTemplateType.FleetProvisioning} or {ProvisioningTemplateType.Jitp}.");
        }
    }

    /// <summary>Whether <paramref name="roleArn"/> has the form of an IAM role ARN (also for imported rows).</summary>
    internal static bool IsRoleArn(string? roleArn) => roleArn is not null && RoleArnPattern().IsMatch(roleArn);

    /// <summary>Whether <paramref name="target"/> is a pre-provisioning hook Fleetkey keeps: a Lambda function ARN or an http(s) URL.</summary>
    internal static bool IsHookTarget(string target) => LambdaArnPattern().IsMatch(target) || PreProvisioningHookClient.AsUrl(target) is not null;

    private static void CheckRoleArn(string? roleArn, List<string> problems)
    {
        if (!IsRoleArn(roleArn))
        {
            problems.Add($"provisioningRoleArn '{roleArn}' is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME).");
        }
    }

    private static void CheckHook(Hook? hook, string type, List<string> problems)
    {
        if (hook is null)
        {
            return;
        }

        if (type != ProvisioningTemplateType.FleetProvisioning)
        {
            problems.Add($"preProvisioningHook is only supported by templates of type {ProvisioningTemplateType.FleetProvisioning}.");
        }

        // Fleetkey has no Lambda: an http(s) URL (a webhook called with AWS's hook input) stands in for one.
        if (!IsHookTarget(hook.TargetArn))
        {
            problems.Add($"preProvisioningHook.targetArn '{hook.TargetArn}' is neither a Lambda function ARN nor an http(s) URL (Fleetkey calls a URL instead of a Lambda).");
        }
    }

    private static void ThrowIfAny(List<string> problems)
    {
        if (problems.Count > 0)
        {
            ThrowHelper.InvalidRequest(string.Join(" ", problems));
        }
    }
}
