using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Paging;
using Fleetkey.Core.Registry;
using Fleetkey.Pki;
using Fleetkey.Services.Provisioning;
using Fleetkey.Services.Registry;
using Fleetkey.Storage;

namespace Fleetkey.Services.Security;

/// <summary>
/// CA certificates registered by their owners (RegisterCACertificate and its family) and the
/// account's registration code, with AWS IoT's rules: in DEFAULT mode the owner proves possession of
/// the CA's key with a verification certificate whose common name is the registration code and which
/// the CA signed; a CA is deleted only when INACTIVE and no device certificate of it remains.
/// Fleetkey's own issuing CA (managed) can be described but not changed.
/// </summary>
public sealed class CaCertificateService(IFleetStore store, RegisteredCaTrust trust, TimeProvider time)
{
    public const string TagKind = "cacert";

    /// <summary>AWS's quota: at most ten CA certificates with the same subject per account.</summary>
    public const int MaxCasWithSameSubject = 10;

    /// <summary>RegisterCACertificate's input, as the model names it.</summary>
    public sealed record NewCaCertificate(
        string CaCertificatePem,
        string? VerificationCertificatePem,
        bool SetAsActive,
        bool AllowAutoRegistration,
        CaRegistrationConfig? RegistrationConfig,
        string? CertificateMode,
        IReadOnlyList<Tag>? Tags);

    /// <summary>UpdateCACertificate's input: a null member leaves the stored value as it is.</summary>
    public sealed record CaCertificateUpdate(
        string? NewStatus,
        string? NewAutoRegistrationStatus,
        CaRegistrationConfig? RegistrationConfig,
        bool RemoveAutoRegistration);

    public Task<string> GetRegistrationCodeAsync(IotScope scope, CancellationToken cancellationToken)
    {
        // 64 hex digits, the model's RegistrationCode pattern; made before the transaction (it may be retried).
        var candidate = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        return store.WriteAsync((session, ct) => session.CaCertificates.EnsureRegistrationCodeAsync(scope.AccountId, candidate, time.GetUtcNow(), ct), cancellationToken);
    }

    public Task DeleteRegistrationCodeAsync(IotScope scope, CancellationToken cancellationToken) =>
        store.WriteAsync(async (session, ct) =>
        {
            if (!await session.CaCertificates.DeleteRegistrationCodeAsync(scope.AccountId, ct))
            {
                ThrowHelper.NotFound("The account has no registration code.");
            }

            return true;
        }, cancellationToken);

    public async Task<CaCertificate> RegisterAsync(IotScope scope, NewCaCertificate request, CancellationToken cancellationToken)
    {
        var mode = request.CertificateMode ?? CaCertificateMode.Default;
        var problems = new List<string>();
        if (mode is not (CaCertificateMode.Default or CaCertificateMode.SniOnly))
        {
            problems.Add($"certificateMode '{mode}' must be {CaCertificateMode.Default} or {CaCertificateMode.SniOnly}.");
        }

        if (mode == CaCertificateMode.Default && request.VerificationCertificatePem is null)
        {
            problems.Add($"verificationCertificate is required when certificateMode is {CaCertificateMode.Default}.");
        }

        CheckRegistrationConfig(request.RegistrationConfig, problems);
        if (request.Tags is { } tags)
        {
            TagService.EnsureTags(tags, 0);
        }

        ThrowHelper.ThrowIfInvalid(problems);

        var ca = CertificateService.Parse(request.CaCertificatePem);
        var now = time.GetUtcNow();
        EnsureUsableCa(ca, now);
        ParsedCertificate? verification = null;
        if (mode == CaCertificateMode.Default)
        {
            verification = CertificateService.Parse(request.VerificationCertificatePem!);
            if (!CertificateInspector.IsIssuedBy(verification.Certificate, ca.Certificate))
            {
                throw new ServiceException(ErrorCode.CertificateValidation, "The verification certificate is not signed by the CA certificate's private key.");
            }
        }

        var registration = Normalize(request.RegistrationConfig);
        var record = new CaCertificate(
            ca.CertificateId,
            ca.CertificatePem,
            ca.Subject,
            request.SetAsActive ? CertificateStatus.Active : CertificateStatus.Inactive,
            request.AllowAutoRegistration ? AutoRegistrationStatus.Enable : AutoRegistrationStatus.Disable,
            Managed: false,
            ca.NotBefore,
            ca.NotAfter,
            now,
            now,
            1,
            Guid.NewGuid().ToString(),
            mode,
            registration);

        var stored = await store.WriteAsync(async (session, ct) =>
        {
            if (verification is not null)
            {
                var code = await session.CaCertificates.GetRegistrationCodeAsync(scope.AccountId, ct)
                    ?? throw new ServiceException(ErrorCode.RegistrationCodeValidation, "The account has no registration code: call GetRegistrationCode first.");
                if (!string.Equals(CommonName(verification.Certificate), code, StringComparison.OrdinalIgnoreCase))
                {
                    throw new ServiceException(ErrorCode.RegistrationCodeValidation, "The verification certificate's common name (CN) is not the account's registration code.");
                }
            }

            await EnsureTemplateAsync(session, registration, ct);
            var sameSubject = (await session.CaCertificates.ListAsync(ct)).Count(c => !c.Managed && string.Equals(c.Subject, ca.Subject, StringComparison.Ordinal));
            if (sameSubject >= MaxCasWithSameSubject && await session.CaCertificates.GetAsync(ca.CertificateId, ct) is null)
            {
                ThrowHelper.LimitExceeded($"At most {MaxCasWithSameSubject} CA certificates may have the same subject ({ca.Subject}).");
            }

            await session.CaCertificates.InsertAsync(record, ct);
            if (request.Tags is { Count: > 0 } newTags)
            {
                await session.Tags.SetAsync(TagKind, record.CertificateId, newTags, ct);
            }

            return record;
        }, cancellationToken);
        await trust.RefreshAsync(cancellationToken);
        return stored;
    }

    /// <summary>A CA certificate to register must be a CA (basicConstraints CA:TRUE) and not expired.</summary>
    private static void EnsureUsableCa(ParsedCertificate ca, DateTimeOffset now)
    {
        if (!ca.IsCertificateAuthority)
        {
            throw new ServiceException(ErrorCode.CertificateValidation, "The certificate is not a CA certificate: its basic constraints do not say CA:TRUE.");
        }

        if (ca.NotAfter < now)
        {
            throw new ServiceException(ErrorCode.CertificateValidation, "The CA certificate has expired.");
        }
    }

    private static string? CommonName(X509Certificate2 certificate) =>
        certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);

    private static void CheckRegistrationConfig(CaRegistrationConfig? config, List<string> problems)
    {
        if (config is null)
        {
            return;
        }

        if (config.TemplateBody is not null && config.TemplateName is not null)
        {
            problems.Add("registrationConfig may have a templateBody or a templateName, not both.");
        }

        if (config.TemplateBody is { } body)
        {
            var errors = Templates.TemplateEngine.Validate(body);
            if (errors.Count > 0)
            {
                problems.Add($"registrationConfig.templateBody is not a valid provisioning template: {ProvisioningTemplateService.Describe(errors)}.");
            }
        }
    }

    /// <summary>An empty registration config is no config.</summary>
    private static CaRegistrationConfig? Normalize(CaRegistrationConfig? config) =>
        config is null || (config.TemplateBody is null && config.TemplateName is null && config.RoleArn is null) ? null : config;

    /// <summary>A templateName must name a provisioning template of type JITP.</summary>
    private static async Task EnsureTemplateAsync(IStoreSession session, CaRegistrationConfig? registration, CancellationToken cancellationToken)
    {
        if (registration?.TemplateName is not { } name)
        {
            return;
        }

        var template = await ProvisioningTemplateService.RequireAsync(session, name, cancellationToken);
        if (template.Type != ProvisioningTemplateType.Jitp)
        {
            ThrowHelper.InvalidRequest($"The provisioning template {name} is of type {template.Type}; a CA's registrationConfig needs a template of type {ProvisioningTemplateType.Jitp}.");
        }
    }

    public async Task<CaCertificate> DescribeAsync(string certificateId, CancellationToken cancellationToken) =>
        await store.ReadAsync((session, ct) => session.CaCertificates.GetAsync(certificateId, ct), cancellationToken)
        ?? ThrowHelper.NotFound<CaCertificate>(NotFoundMessage(certificateId));

    public Task<Page<CaCertificate>> ListAsync(string? templateName, bool ascending, PageRequest page, CancellationToken cancellationToken) =>
        store.ReadAsync(async (session, ct) =>
            Paging.ToPage(
                await session.CaCertificates.ListRegisteredAsync(templateName, ascending, page.After, page.Fetch, ct),
                page.Limit,
                c => Paging.CreationKey(c.CreatedAt, c.CertificateId)),
            cancellationToken);

    public async Task UpdateAsync(string certificateId, CaCertificateUpdate update, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        if (update.NewStatus is not (null or CertificateStatus.Active or CertificateStatus.Inactive))
        {
            problems.Add($"newStatus '{update.NewStatus}' must be ACTIVE or INACTIVE.");
        }

        if (update.NewAutoRegistrationStatus is not (null or AutoRegistrationStatus.Enable or AutoRegistrationStatus.Disable))
        {
            problems.Add($"newAutoRegistrationStatus '{update.NewAutoRegistrationStatus}' must be ENABLE or DISABLE.");
        }

        if (update.RemoveAutoRegistration && update.RegistrationConfig is not null)
        {
            problems.Add("removeAutoRegistration and registrationConfig cannot be given together.");
        }

        CheckRegistrationConfig(update.RegistrationConfig, problems);
        ThrowHelper.ThrowIfInvalid(problems);

        await store.WriteAsync(async (session, ct) =>
        {
            var existing = await RequireRegisteredAsync(session, certificateId, ct);
            var registration = existing.Registration;
            var autoRegistration = update.NewAutoRegistrationStatus ?? existing.AutoRegistrationStatus;
            if (update.RemoveAutoRegistration)
            {
                registration = null;
                autoRegistration = update.NewAutoRegistrationStatus ?? AutoRegistrationStatus.Disable;
            }
            else if (update.RegistrationConfig is not null)
            {
                registration = Normalize(update.RegistrationConfig);
                await EnsureTemplateAsync(session, registration, ct);
            }

            await session.CaCertificates.UpdateAsync(
                existing with
                {
                    Status = update.NewStatus ?? existing.Status,
                    AutoRegistrationStatus = autoRegistration,
                    Registration = registration,
                    LastModifiedAt = time.GetUtcNow(),
                    CustomerVersion = existing.CustomerVersion + 1,
                    GenerationId = Guid.NewGuid().ToString(),
                },
                ct);
            return true;
        }, cancellationToken);
        await trust.RefreshAsync(cancellationToken);
    }

    public async Task DeleteAsync(string certificateId, CancellationToken cancellationToken)
    {
        await store.WriteAsync(async (session, ct) =>
        {
            var existing = await RequireRegisteredAsync(session, certificateId, ct);
            if (existing.Status != CertificateStatus.Inactive)
            {
                throw new ServiceException(ErrorCode.CertificateState, "The CA certificate must be deactivated (INACTIVE) before deletion.");
            }

            if (await session.CaCertificates.HasDeviceCertificatesAsync(certificateId, ct))
            {
                throw new ServiceException(ErrorCode.CertificateState, "The CA certificate still has device certificates registered with it; delete them first.");
            }

            await session.Tags.RemoveAllAsync(TagKind, certificateId, ct);
            return await session.CaCertificates.DeleteAsync(certificateId, ct);
        }, cancellationToken);
        await trust.RefreshAsync(cancellationToken);
    }

    private static async Task<CaCertificate> RequireRegisteredAsync(IStoreSession session, string certificateId, CancellationToken cancellationToken)
    {
        var existing = await session.CaCertificates.GetAsync(certificateId, cancellationToken) ?? ThrowHelper.NotFound<CaCertificate>(NotFoundMessage(certificateId));
        if (existing.Managed)
        {
            ThrowHelper.InvalidRequest($"The CA certificate {certificateId} is Fleetkey's own issuing CA; it cannot be changed or deleted.");
        }

        return existing;
    }

    internal static string NotFoundMessage(string certificateId) => $"The CA certificate {certificateId} does not exist.";
}
