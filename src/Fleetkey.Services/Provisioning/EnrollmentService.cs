using System.Security.Cryptography;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Paging;
using Fleetkey.Core.Registry;
using Fleetkey.Pki;
using Fleetkey.Services.Registry;
using Fleetkey.Storage;

namespace Fleetkey.Services.Provisioning;

/// <summary>What an enrollment group or an individual enrollment is created with.</summary>
/// <param name="Parameters">Fixed template parameters; null for none.</param>
/// <param name="Region">The region of the signed request that creates it (null: the CLI, no region); see <see cref="Enrollment.Region"/>.</param>
public sealed record EnrollmentSettings(
    string? TemplateName,
    bool AllowReprovisioning = false,
    IReadOnlyDictionary<string, string>? Parameters = null,
    string? SerialNumberPattern = null,
    string? Region = null);

/// <summary>
/// A change to an enrollment group or an individual enrollment: each member left null stays as it is;
/// <see cref="Parameters"/> replaces the whole map. <see cref="SerialNumberPattern"/> (groups only)
/// is set when the pattern changes; its value null removes the pattern.
/// </summary>
public sealed record EnrollmentPatch(
    string? TemplateName = null,
    bool? Enabled = null,
    bool? AllowReprovisioning = null,
    IReadOnlyDictionary<string, string>? Parameters = null,
    PatternChange? SerialNumberPattern = null);

/// <summary>The new serial-number pattern of a group; null matches every serial number.</summary>
public sealed record PatternChange(string? Pattern);

/// <summary>A group just created, with its key: the only time the key is ever shown.</summary>
public sealed record CreatedEnrollmentGroup(EnrollmentGroup Group, byte[] GroupKey);

/// <summary>An enrollment just created, with its secret: the only time the secret is ever shown.</summary>
public sealed record CreatedEnrollment(Enrollment Enrollment, byte[] DeviceSecret);

/// <summary>One line of a production run to import: a serial number and, if the factory has one, its secret.</summary>
public sealed record EnrollmentImportLine(int LineNumber, string SerialNumber, byte[]? DeviceSecret);

/// <summary>
/// What became of one import line: enrolled (with <see cref="GeneratedSecret"/> when Fleetkey made
/// the secret), already enrolled with the same secret and template (<see cref="AlreadyEnrolled"/>: a
/// run imported again), or refused with <see cref="Error"/>.
/// </summary>
public sealed record EnrollmentImportResult(int LineNumber, string SerialNumber, byte[]? GeneratedSecret, bool AlreadyEnrolled, string? Error)
{
    public bool Succeeded => Error is null;
}

/// <summary>
/// Enrollments: who may register through the device endpoint, with which template. Enrollment groups
/// hold a key from which each device's secret is derived (<see cref="EnrollmentSecrets"/>); individual
/// enrollments hold a secret of their own. Keys and secrets are generated here, shown once (in the
/// answer to their creation) and sealed at rest by <see cref="PassphraseSealer"/>; nothing here logs them.
/// </summary>
public sealed class EnrollmentService(IFleetStore store, IProvisioningTemplateResolver templates, PassphraseSealer sealer, TimeProvider time)
{
    public const string FleetProvisioningTemplateType = "FLEET_PROVISIONING";

    // ------------------------------------------------------------------ enrollment groups

    public async Task<CreatedEnrollmentGroup> CreateGroupAsync(string name, EnrollmentSettings settings, CancellationToken cancellationToken)
    {
        var errors = new List<string>();
        EnrollmentRules.CheckGroupName(name, errors);
        CheckSettings(settings, errors);
        EnrollmentRules.CheckSerialNumberPattern(settings.SerialNumberPattern, errors);
        EnrollmentRules.ThrowIfAny(errors);
        await EnsureTemplateAsync(settings.TemplateName!, cancellationToken);

        var key = EnrollmentSecrets.Generate();
        var sealedKey = sealer.Seal(key, EnrollmentSecrets.GroupKeyContext(name));
        var now = time.GetUtcNow();
        var group = new EnrollmentGroup(
            name,
            settings.TemplateName!,
            settings.SerialNumberPattern,
            settings.AllowReprovisioning,
            Enabled: true,
            Copy(settings.Parameters),
            sealedKey.Data,
            sealedKey.KekSalt,
            now,
            now,
            settings.Region);
        await store.WriteAsync(async (session, ct) =>
        {
            await session.EnrollmentGroups.InsertAsync(group, ct);
            return true;
        }, cancellationToken);
        return new CreatedEnrollmentGroup(group, key);
    }

    public async Task<EnrollmentGroup> GetGroupAsync(string name, CancellationToken cancellationToken)
    {
        CheckGroupName(name);
        return await store.ReadAsync((session, ct) => session.EnrollmentGroups.GetAsync(name, ct), cancellationToken)
            ?? ThrowHelper.NotFound<EnrollmentGroup>(GroupNotFound(name));
    }

    public async Task<EnrollmentGroup> UpdateGroupAsync(string name, EnrollmentPatch patch, CancellationToken cancellationToken)
    {
        var errors = new List<string>();
        EnrollmentRules.CheckGroupName(name, errors);
        CheckPatch(patch, errors);
        EnrollmentRules.CheckSerialNumberPattern(patch.SerialNumberPattern?.Pattern, errors);
        EnrollmentRules.ThrowIfAny(errors);
        if (patch.TemplateName is not null)
        {
            await EnsureTemplateAsync(patch.TemplateName, cancellationToken);
        }

        return await store.WriteAsync(async (session, ct) =>
        {
            var group = await session.EnrollmentGroups.GetAsync(name, ct) ?? ThrowHelper.NotFound<EnrollmentGroup>(GroupNotFound(name));
            var updated = group with
            {
                TemplateName = patch.TemplateName ?? group.TemplateName,
                Enabled = patch.Enabled ?? group.Enabled,
                AllowReprovisioning = patch.AllowReprovisioning ?? group.AllowReprovisioning,
                Parameters = patch.Parameters is null ? group.Parameters : Copy(patch.Parameters),
                SerialNumberPattern = patch.SerialNumberPattern is { } change ? change.Pattern : group.SerialNumberPattern,
                LastModifiedAt = time.GetUtcNow(),
            };
            await session.EnrollmentGroups.UpdateAsync(updated, ct);
            return updated;
        }, cancellationToken);
    }

    public async Task DeleteGroupAsync(string name, CancellationToken cancellationToken)
    {
        CheckGroupName(name);
        if (!await store.WriteAsync((session, ct) => session.EnrollmentGroups.DeleteAsync(name, ct), cancellationToken))
        {
            ThrowHelper.NotFound(GroupNotFound(name));
        }
    }

    public Task<Page<EnrollmentGroup>> ListGroupsAsync(PageRequest page, CancellationToken cancellationToken) =>
        store.ReadAsync(
            async (session, ct) => Paging.ToPage(await session.EnrollmentGroups.ListAsync(page.After, page.Fetch, ct), page.Limit, g => g.Name),
            cancellationToken);

    // ------------------------------------------------------------------ individual enrollments

    /// <param name="deviceSecret">The device's secret when the factory already has one (32 bytes); null to generate one.</param>
    public async Task<CreatedEnrollment> CreateAsync(string serialNumber, EnrollmentSettings settings, byte[]? deviceSecret, CancellationToken cancellationToken)
    {
        var errors = new List<string>();
        EnrollmentRules.CheckSerialNumber(serialNumber, errors);
        CheckSettings(settings, errors);
        if (settings.SerialNumberPattern is not null)
        {
            errors.Add("Value at 'serialNumberPattern' is not allowed: an individual enrollment is for one serial number");
        }

        if (deviceSecret is not null && deviceSecret.Length != EnrollmentSecrets.Length)
        {
            errors.Add($"Value at 'deviceSecret' failed to satisfy constraint: Member must be {EnrollmentSecrets.Length} bytes");
        }

        EnrollmentRules.ThrowIfAny(errors);
        await EnsureTemplateAsync(settings.TemplateName!, cancellationToken);

        var secret = deviceSecret is null ? EnrollmentSecrets.Generate() : (byte[])deviceSecret.Clone();
        var enrollment = NewEnrollment(serialNumber, settings, secret, time.GetUtcNow());
        await store.WriteAsync(async (session, ct) =>
        {
            await session.Enrollments.InsertAsync(enrollment, ct);
            return true;
        }, cancellationToken);
        return new CreatedEnrollment(enrollment, secret);
    }

    public async Task<Enrollment> GetAsync(string serialNumber, CancellationToken cancellationToken)
    {
        CheckSerialNumber(serialNumber);
        return await store.ReadAsync((session, ct) => session.Enrollments.GetAsync(serialNumber, ct), cancellationToken)
            ?? ThrowHelper.NotFound<Enrollment>(EnrollmentNotFound(serialNumber));
    }

    public async Task<Enrollment> UpdateAsync(string serialNumber, EnrollmentPatch patch, CancellationToken cancellationToken)
    {
        var errors = new List<string>();
        EnrollmentRules.CheckSerialNumber(serialNumber, errors);
        CheckPatch(patch, errors);
        if (patch.SerialNumberPattern is not null)
        {
            errors.Add("Value at 'serialNumberPattern' is not allowed: an individual enrollment is for one serial number");
        }

        EnrollmentRules.ThrowIfAny(errors);
        if (patch.TemplateName is not null)
        {
            await EnsureTemplateAsync(patch.TemplateName, cancellationToken);
        }

        return await store.WriteAsync(async (session, ct) =>
        {
            var enrollment = await session.Enrollments.GetAsync(serialNumber, ct) ?? ThrowHelper.NotFound<Enrollment>(EnrollmentNotFound(serialNumber));
            var updated = enrollment with
            {
                TemplateName = patch.TemplateName ?? enrollment.TemplateName,
                Enabled = patch.Enabled ?? enrollment.Enabled,
                AllowReprovisioning = patch.AllowReprovisioning ?? enrollment.AllowReprovisioning,
                Parameters = patch.Parameters is null ? enrollment.Parameters : Copy(patch.Parameters),
                LastModifiedAt = time.GetUtcNow(),
            };
            await session.Enrollments.UpdateAsync(updated, ct);
            return updated;
        }, cancellationToken);
    }

    public async Task DeleteAsync(string serialNumber, CancellationToken cancellationToken)
    {
        CheckSerialNumber(serialNumber);
        if (!await store.WriteAsync((session, ct) => session.Enrollments.DeleteAsync(serialNumber, ct), cancellationToken))
        {
            ThrowHelper.NotFound(EnrollmentNotFound(serialNumber));
        }
    }

    public Task<Page<Enrollment>> ListAsync(PageRequest page, CancellationToken cancellationToken) =>
        store.ReadAsync(
            async (session, ct) => Paging.ToPage(await session.Enrollments.ListAsync(page.After, page.Fetch, ct), page.Limit, e => e.SerialNumber),
            cancellationToken);

    /// <summary>
    /// Checks the settings shared by every line of an import (template name and existence, parameters)
    /// once, before the first batch.
    /// </summary>
    public async Task CheckImportSettingsAsync(EnrollmentSettings settings, CancellationToken cancellationToken)
    {
        var errors = new List<string>();
        CheckSettings(settings, errors);
        EnrollmentRules.ThrowIfAny(errors);
        await EnsureTemplateAsync(settings.TemplateName!, cancellationToken);
    }

    /// <summary>
    /// Imports one batch of a production run in one transaction: every valid line not enrolled yet is
    /// enrolled; a line whose serial number is invalid, repeated in the batch, or already enrolled
    /// (with another secret or template, or with a secret Fleetkey generated) is refused with its
    /// reason and does not stop the others. A serial already enrolled with the same secret and
    /// template counts as done, so a run can be imported again after fixing its bad lines.
    /// Call <see cref="CheckImportSettingsAsync"/> first.
    /// </summary>
    public async Task<IReadOnlyList<EnrollmentImportResult>> ImportBatchAsync(
        IReadOnlyList<EnrollmentImportLine> lines, EnrollmentSettings settings, CancellationToken cancellationToken)
    {
        var results = new EnrollmentImportResult?[lines.Count];
        var candidates = new List<(int Index, EnrollmentImportLine Line)>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            var errors = new List<string>();
            EnrollmentRules.CheckSerialNumber(line.SerialNumber, errors);
            if (errors.Count > 0)
            {
                results[i] = Refused(line, $"invalid serial number: it must match [a-zA-Z0-9:_-]+ and be 1 to {NameRules.MaxNameLength} characters");
            }
            else if (line.DeviceSecret is { Length: not EnrollmentSecrets.Length })
            {
                results[i] = Refused(line, $"the device secret must be {EnrollmentSecrets.Length} bytes, base64-encoded");
            }
            else if (seen.TryGetValue(line.SerialNumber, out var first))
            {
                results[i] = Refused(line, $"serial number {line.SerialNumber} is repeated (first on line {first})");
            }
            else
            {
                seen[line.SerialNumber] = line.LineNumber;
                candidates.Add((i, line));
            }
        }

        // Secrets are generated and sealed before the transaction, which may run more than once.
        var now = time.GetUtcNow();
        var prepared = candidates
            .Select(c =>
            {
                var secret = c.Line.DeviceSecret is { } given ? (byte[])given.Clone() : EnrollmentSecrets.Generate();
                return (c.Index, c.Line, Secret: secret, Enrollment: NewEnrollment(c.Line.SerialNumber, settings, secret, now));
            })
            .ToList();

        var outcomes = await store.WriteAsync(async (session, ct) =>
        {
            var existing = (await session.Enrollments.FindManyAsync(prepared.Select(p => p.Line.SerialNumber).ToList(), ct))
                .ToDictionary(e => e.SerialNumber, StringComparer.Ordinal);
            var batch = new List<Enrollment>(prepared.Count);
            var outcome = new List<(int Index, EnrollmentImportResult Result)>(prepared.Count);
            foreach (var (index, line, secret, enrollment) in prepared)
            {
                if (existing.TryGetValue(line.SerialNumber, out var stored))
                {
                    outcome.Add((index, SameAsStored(line, stored, settings)
                        ? new EnrollmentImportResult(line.LineNumber, line.SerialNumber, null, AlreadyEnrolled: true, null)
                        : Refused(line, $"serial number {line.SerialNumber} is already enrolled{(line.DeviceSecret is null ? string.Empty : " with another secret or template")}")));
                    continue;
                }

                batch.Add(enrollment);
                outcome.Add((index, new EnrollmentImportResult(line.LineNumber, line.SerialNumber, line.DeviceSecret is null ? secret : null, AlreadyEnrolled: false, null)));
            }

            await session.Enrollments.InsertManyAsync(batch, ct);
            return outcome;
        }, cancellationToken);

        foreach (var (index, result) in outcomes)
        {
            results[index] = result;
        }

        return results.Select(r => r!).ToList();
    }

    // ------------------------------------------------------------------ shared

    private bool SameAsStored(EnrollmentImportLine line, Enrollment stored, EnrollmentSettings settings)
    {
        if (line.DeviceSecret is null || !string.Equals(stored.TemplateName, settings.TemplateName, StringComparison.Ordinal))
        {
            return false;
        }

        var storedSecret = sealer.Open(new SealedSecret(stored.SecretData, stored.SecretKekSalt), EnrollmentSecrets.DeviceSecretContext(stored.SerialNumber));
        if (storedSecret is null)
        {
            return false;
        }

        try
        {
            return EnrollmentSecrets.AreEqual(storedSecret, line.DeviceSecret);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(storedSecret);
        }
    }

    private Enrollment NewEnrollment(string serialNumber, EnrollmentSettings settings, byte[] secret, DateTimeOffset now)
    {
        var sealedSecret = sealer.Seal(secret, EnrollmentSecrets.DeviceSecretContext(serialNumber));
        return new Enrollment(
            serialNumber,
            settings.TemplateName!,
            settings.AllowReprovisioning,
            Enabled: true,
            Copy(settings.Parameters),
            sealedSecret.Data,
            sealedSecret.KekSalt,
            now,
            now,
            settings.Region);
    }

    private static EnrollmentImportResult Refused(EnrollmentImportLine line, string reason) =>
        new(line.LineNumber, line.SerialNumber, null, AlreadyEnrolled: false, reason);

    private static void CheckSettings(EnrollmentSettings settings, List<string> errors)
    {
        EnrollmentRules.CheckTemplateName(settings.TemplateName, errors);
        EnrollmentRules.CheckParameters(settings.Parameters, errors);
    }

    private static void CheckPatch(EnrollmentPatch patch, List<string> errors)
    {
        if (patch.TemplateName is not null)
        {
            EnrollmentRules.CheckTemplateName(patch.TemplateName, errors);
        }

        EnrollmentRules.CheckParameters(patch.Parameters, errors);
    }

    private static void CheckGroupName(string name)
    {
        var errors = new List<string>();
        EnrollmentRules.CheckGroupName(name, errors);
        EnrollmentRules.ThrowIfAny(errors);
    }

    private static void CheckSerialNumber(string serialNumber)
    {
        var errors = new List<string>();
        EnrollmentRules.CheckSerialNumber(serialNumber, errors);
        EnrollmentRules.ThrowIfAny(errors);
    }

    /// <summary>The template must exist and be one a device can be provisioned with (not JITP).</summary>
    private async Task EnsureTemplateAsync(string templateName, CancellationToken cancellationToken)
    {
        var template = await templates.ResolveAsync(templateName, cancellationToken)
            ?? ThrowHelper.NotFound<ResolvedTemplate>($"Provisioning template {templateName} does not exist.");
        if (!string.Equals(template.TemplateType, FleetProvisioningTemplateType, StringComparison.Ordinal))
        {
            ThrowHelper.InvalidRequest(
                $"Provisioning template {templateName} is of type {template.TemplateType}; enrollments provision devices with {FleetProvisioningTemplateType} templates.");
        }
    }

    private static Dictionary<string, string> Copy(IReadOnlyDictionary<string, string>? parameters) =>
        parameters is null ? new Dictionary<string, string>(StringComparer.Ordinal) : parameters.ToDictionary(StringComparer.Ordinal);

    internal static string GroupNotFound(string name) => $"Enrollment group {name} does not exist.";

    internal static string EnrollmentNotFound(string serialNumber) => $"No enrollment for serial number {serialNumber}.";
}
