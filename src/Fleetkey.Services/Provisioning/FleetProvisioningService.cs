using System.Security.Cryptography;
using System.Text;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Registry;
using Fleetkey.Pki;
using Fleetkey.Services.Security;
using Fleetkey.Storage;
using Microsoft.Extensions.Logging;

namespace Fleetkey.Services.Provisioning;

/// <summary>The connection a fleet-provisioning request came on: its (claim) certificate and client id.</summary>
public sealed record ClaimConnection(string CertificateId, string ClientId);

/// <summary>
/// A <c>/rejected</c> answer of the fleet provisioning MQTT API, with AWS's fields: <see cref="StatusCode"/>,
/// <see cref="ErrorCode"/> and the message.
/// </summary>
public sealed class FleetProvisioningException(int statusCode, string errorCode, string message) : Exception(message)
{
    public int StatusCode { get; } = statusCode;

    public string ErrorCode { get; } = errorCode;
}

/// <summary>
/// CreateKeysAndCertificate / CreateCertificateFromCsr over MQTT: the new certificate (PENDING_ACTIVATION),
/// its private key when Fleetkey made it, and the certificateOwnershipToken that RegisterThing needs.
/// </summary>
public sealed record FleetCertificate(string CertificateId, string CertificatePem, string? PrivateKeyPem, string CertificateOwnershipToken);

/// <summary>CreateProvisioningClaim: a temporary claim certificate, its key pair and when it expires.</summary>
public sealed record ProvisioningClaimCertificate(string CertificateId, string CertificatePem, string PublicKeyPem, string PrivateKeyPem, DateTimeOffset Expiration);

/// <summary>RegisterThing over MQTT: the template's DeviceConfiguration and the thing's name.</summary>
public sealed record FleetRegistration(string? ThingName, IReadOnlyDictionary<string, string> DeviceConfiguration);

/// <summary>
/// Fleet provisioning by claim (AWS's MQTT API), independent of the transport: a device connected with a
/// claim certificate gets a new certificate (PENDING_ACTIVATION) and a certificateOwnershipToken, then
/// registers a thing with a FLEET_PROVISIONING template, which activates the certificate. The token is
/// random (256 bits), stored only as its SHA-256 (so it works on every node), bound to the new
/// certificate and to the claim connection (certificate and client id), valid one hour and usable once.
/// The template (after the pre-provisioning hook, if any) is applied and the token used up in one
/// transaction; a failed registration leaves the token usable.
/// </summary>
public sealed partial class FleetProvisioningService(
    IFleetStore store,
    CertificateService certificates,
    CertificateAuthority authority,
    RegistrationService registration,
    PolicyService policies,
    IProvisioningTemplateResolver templates,
    PreProvisioningHookClient hooks,
    TimeProvider time,
    ILogger<FleetProvisioningService> logger)
{
    /// <summary>How long a certificateOwnershipToken is valid, as on AWS.</summary>
    public static readonly TimeSpan TokenLifetime = TimeSpan.FromHours(1);

    /// <summary>The template parameter that carries the new certificate's id.</summary>
    public const string CertificateIdParameter = "AWS::IoT::Certificate::Id";

    /// <summary>How long a CreateProvisioningClaim certificate is valid, as on AWS.</summary>
    public static readonly TimeSpan ClaimLifetime = TimeSpan.FromMinutes(5);

    /// <summary>The policy attached to every claim certificate of a template (made on first use).</summary>
    public static string ClaimPolicyName(string templateName) => "FleetkeyProvisioningClaim-" + templateName;

    private const int SweepBatch = 500;

    /// <summary>
    /// CreateProvisioningClaim: a claim certificate (ACTIVE, valid five minutes, not listed by
    /// ListCertificates) whose policy allows only connecting and the fleet provisioning topics of the
    /// template. Fleetkey grants that through a policy it keeps, <see cref="ClaimPolicyName"/>; the
    /// sweep deletes the certificate once expired.
    /// </summary>
    public async Task<ProvisioningClaimCertificate> CreateProvisioningClaimAsync(string templateName, CancellationToken cancellationToken)
    {
        var template = await templates.ResolveAsync(templateName, cancellationToken)
            ?? throw new ServiceException(ErrorCode.ResourceNotFound, ProvisioningTemplateService.NotFoundMessage(templateName));
        if (!string.Equals(template.TemplateType, ProvisioningTemplateType.FleetProvisioning, StringComparison.Ordinal))
        {
            throw new ServiceException(ErrorCode.InvalidRequest, $"The provisioning template {templateName} is of type {template.TemplateType}; provisioning claims are for {ProvisioningTemplateType.FleetProvisioning} templates.");
        }

        var issued = await authority.IssueWithNewKeyAsync(ClaimLifetime, cancellationToken);
        var policyName = ClaimPolicyName(templateName);
        var policyDocument = ClaimPolicyDocument(templateName);
        await store.WriteAsync(
            async (session, ct) =>
            {
                await certificates.InsertIssuedAsync(session, issued, CertificateStatus.Active, ct);
                if (await session.Policies.GetAsync(policyName, ct) is null)
                {
                    await policies.CreateAsync(session, policyName, policyDocument, ct);
                }

                await policies.AttachAsync(session, policyName, new PolicyTarget(PolicyTarget.CertificateKind, issued.CertificateId), ct);
                await session.FleetProvisioning.InsertClaimAsync(new ProvisioningClaim(issued.CertificateId, templateName, time.GetUtcNow(), issued.NotAfter), ct);
                return true;
            },
            cancellationToken);
        LogClaimCreated(logger, issued.CertificateId, templateName, issued.NotAfter);
        return new ProvisioningClaimCertificate(issued.CertificateId, issued.CertificatePem, issued.PublicKeyPem, issued.PrivateKeyPem!, issued.NotAfter);
    }

    private static string ClaimPolicyDocument(string templateName) =>
        "{\"Version\":\"2012-10-17\",\"Statement\":["
        + "{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"*\"},"
        + "{\"Effect\":\"Allow\",\"Action\":[\"iot:Publish\",\"iot:Receive\"],\"Resource\":[\"arn:aws:iot:*:*:topic/$aws/certificates/create/*\",\"arn:aws:iot:*:*:topic/$aws/certificates/create-from-csr/*\",\"arn:aws:iot:*:*:topic/$aws/provisioning-templates/" + templateName + "/provision/*\"]},"
        + "{\"Effect\":\"Allow\",\"Action\":\"iot:Subscribe\",\"Resource\":[\"arn:aws:iot:*:*:topicfilter/$aws/certificates/create/*\",\"arn:aws:iot:*:*:topicfilter/$aws/certificates/create-from-csr/*\",\"arn:aws:iot:*:*:topicfilter/$aws/provisioning-templates/" + templateName + "/provision/*\"]}"
        + "]}";

    public async Task<FleetCertificate> CreateKeysAndCertificateAsync(ClaimConnection claim, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claim);
        var issued = await authority.IssueWithNewKeyAsync(cancellationToken);
        var token = await StoreAsync(claim, issued, cancellationToken);
        LogCertificateCreated(logger, issued.CertificateId, claim.ClientId, claim.CertificateId);
        return new FleetCertificate(issued.CertificateId, issued.CertificatePem, issued.PrivateKeyPem, token);
    }

    public async Task<FleetCertificate> CreateCertificateFromCsrAsync(ClaimConnection claim, string? csrPem, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claim);
        if (string.IsNullOrWhiteSpace(csrPem))
        {
            throw new FleetProvisioningException(400, "InvalidParameters", "Certificate signing request cannot be empty.");
        }

        IssuedCertificate issued;
        try
        {
            // A claim certificate is shared by a fleet and the thing is not known before RegisterThing:
            // the certificate gets the fixed device subject, whatever the CSR asks (CertificateService.SubjectFor).
            issued = certificates.IssueFromCsr(csrPem, CsrRequester.Device);
        }
        catch (ServiceException exception)
        {
            throw new FleetProvisioningException(400, "InvalidCertificateSigningRequest", exception.Message);
        }

        var token = await StoreAsync(claim, issued, cancellationToken);
        LogCertificateCreated(logger, issued.CertificateId, claim.ClientId, claim.CertificateId);
        return new FleetCertificate(issued.CertificateId, issued.CertificatePem, null, token);
    }

    private async Task<string> StoreAsync(ClaimConnection claim, IssuedCertificate issued, CancellationToken cancellationToken)
    {
        var token = NewToken();
        var now = time.GetUtcNow();
        var record = new OwnershipToken(Hash(token), issued.CertificateId, claim.CertificateId, claim.ClientId, now, now + TokenLifetime);
        await store.WriteAsync(
            async (session, ct) =>
            {
                await certificates.InsertIssuedAsync(session, issued, CertificateStatus.PendingActivation, ct);
                await session.FleetProvisioning.InsertTokenAsync(record, ct);
                return true;
            },
            cancellationToken);
        return token;
    }

    /// <summary>
    /// RegisterThing: checks the template (exists, enabled, FLEET_PROVISIONING) and the token (known, not
    /// expired, given to this connection), asks the pre-provisioning hook, then applies the template with
    /// <c>AWS::IoT::Certificate::Id</c> set and uses the token up, in one transaction.
    /// </summary>
    public async Task<FleetRegistration> RegisterThingAsync(
        ClaimConnection claim, string templateName, string? ownershipToken, IReadOnlyDictionary<string, string>? parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claim);
        if (string.IsNullOrEmpty(ownershipToken))
        {
            throw InvalidToken("Certificate ownership token cannot be empty.");
        }

        var template = await templates.ResolveAsync(templateName, cancellationToken);
        if (template is null || !string.Equals(template.TemplateType, ProvisioningTemplateType.FleetProvisioning, StringComparison.Ordinal))
        {
            throw new FleetProvisioningException(404, "ResourceNotFound", $"Template {templateName} not found.");
        }

        if (!template.Enabled)
        {
            throw new FleetProvisioningException(400, "InvalidParameters", $"Template {templateName} is disabled.");
        }

        var hash = Hash(ownershipToken);
        var token = await store.ReadAsync((session, ct) => session.FleetProvisioning.GetTokenAsync(hash, ct), cancellationToken);
        EnsureUsable(token, claim);
        var certificate = await store.ReadAsync((session, ct) => session.Certificates.GetAsync(token!.CertificateId, ct), cancellationToken)
            ?? throw InvalidToken("The certificate of this ownership token no longer exists.");

        var merged = new Dictionary<string, string>(parameters ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        if (template.PreProvisioningHook is { } hook)
        {
            var overrides = await hooks.InvokeAsync(
                hook,
                new PreProvisioningHookInput(claim.CertificateId, certificate.CertificateId, certificate.Pem, template.TemplateArn, claim.ClientId, merged),
                cancellationToken);
            foreach (var (key, value) in overrides)
            {
                merged[key] = value;
            }
        }

        merged[CertificateIdParameter] = certificate.CertificateId;
        RegistrationService.PreparedRegistration prepared;
        try
        {
            var plan = RegistrationService.Evaluate(template.TemplateBody, merged);
            if (plan.Certificates.Count == 0 || !string.Equals(plan.Certificates[0].CertificateId, certificate.CertificateId, StringComparison.OrdinalIgnoreCase))
            {
                throw new ServiceException(ErrorCode.ResourceRegistrationFailure, "The template's AWS::IoT::Certificate resource must name the new certificate (CertificateId: {\"Ref\": \"AWS::IoT::Certificate::Id\"}).");
            }

            prepared = registration.Prepare(plan, issued: null);
        }
        catch (ServiceException exception)
        {
            throw new FleetProvisioningException(400, "InvalidParameters", exception.Message);
        }

        RegistrationService.RegistrationResult result;
        try
        {
            result = await store.WriteAsync(
                async (session, ct) =>
                {
                    var taken = await session.FleetProvisioning.TakeTokenAsync(hash, ct);
                    EnsureUsable(taken, claim);
                    return await registration.ApplyAsync(session, prepared, ct);
                },
                cancellationToken);
        }
        catch (ServiceException exception)
        {
            throw new FleetProvisioningException(exception.Code.HttpStatus, exception.Code.Name.Replace("Exception", string.Empty, StringComparison.Ordinal), exception.Message);
        }

        var thingName = prepared.Plan.Things.Count > 0 ? prepared.Plan.Things[0].ThingName : null;
        LogRegistered(logger, certificate.CertificateId, thingName ?? "(none)", templateName, claim.ClientId);
        return new FleetRegistration(thingName, result.DeviceConfiguration);
    }

    private void EnsureUsable(OwnershipToken? token, ClaimConnection claim)
    {
        // One answer for unknown, used, expired and someone else's: the token says nothing to a guesser.
        if (token is null
            || token.ExpiresAt <= time.GetUtcNow()
            || !string.Equals(token.ClaimCertificateId, claim.CertificateId, StringComparison.Ordinal)
            || !string.Equals(token.ClientId, claim.ClientId, StringComparison.Ordinal))
        {
            throw InvalidToken("Certificate ownership token is invalid or expired.");
        }
    }

    private static FleetProvisioningException InvalidToken(string message) => new(400, "InvalidCertificateOwnershipToken", message);

    /// <summary>
    /// Deletes expired tokens, and with each the certificate it owned when that is still
    /// PENDING_ACTIVATION and attached to nothing; and expired provisioning claims with their
    /// certificates. Every node sweeps; what another node already deleted is skipped.
    /// </summary>
    public async Task<(int Tokens, int Certificates)> SweepAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var (tokens, deleted) = (0, 0);
        while (true)
        {
            var (batchTokens, batchDeleted, full) = await store.WriteAsync(
                async (session, ct) =>
                {
                    var (t, d) = (0, 0);
                    var expired = await session.FleetProvisioning.ListExpiredTokensAsync(now, SweepBatch, ct);
                    foreach (var token in expired)
                    {
                        t += await session.FleetProvisioning.DeleteTokenAsync(token.TokenHash, ct) ? 1 : 0;
                        d += await DeleteUnclaimedAsync(session, token.CertificateId, CertificateStatus.PendingActivation, ct) ? 1 : 0;
                    }

                    var claims = await session.FleetProvisioning.ListExpiredClaimsAsync(now, SweepBatch, ct);
                    foreach (var claim in claims)
                    {
                        await session.FleetProvisioning.DeleteClaimAsync(claim.CertificateId, ct);
                        await session.Policies.DetachAllAsync(new PolicyTarget(PolicyTarget.CertificateKind, claim.CertificateId), ct);
                        d += await DeleteUnclaimedAsync(session, claim.CertificateId, null, ct) ? 1 : 0;
                    }

                    return (t, d, expired.Count == SweepBatch || claims.Count == SweepBatch);
                },
                cancellationToken);
            tokens += batchTokens;
            deleted += batchDeleted;
            if (!full)
            {
                return (tokens, deleted);
            }
        }
    }

    private static async Task<bool> DeleteUnclaimedAsync(IStoreSession session, string certificateId, string? onlyWithStatus, CancellationToken cancellationToken)
    {
        var certificate = await session.Certificates.GetAsync(certificateId, cancellationToken);
        if (certificate is null || (onlyWithStatus is not null && certificate.Status != onlyWithStatus))
        {
            return false;
        }

        if ((await session.ThingPrincipals.ListForPrincipalAsync(PolicyTarget.CertificateKind, certificateId, null, 1, cancellationToken)).Count > 0
            || await session.Policies.CountAttachedAsync(new PolicyTarget(PolicyTarget.CertificateKind, certificateId), cancellationToken) > 0)
        {
            return false;
        }

        return await session.Certificates.DeleteAsync(certificateId, cancellationToken);
    }

    private static string NewToken()
    {
        Span<byte> bytes = stackalloc byte[32];
        RandomNumberGenerator.Fill(bytes);
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>The stored form of a token: hex SHA-256 of its UTF-8 bytes.</summary>
    internal static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    [LoggerMessage(EventId = 9200, EventName = "FleetCertificateCreated", Level = LogLevel.Information, Message = "Fleet provisioning: certificate {CertificateId} created (PENDING_ACTIVATION) for client {ClientId} with claim certificate {ClaimCertificateId}")]
    private static partial void LogCertificateCreated(ILogger logger, string certificateId, string clientId, string claimCertificateId);

    [LoggerMessage(EventId = 9206, EventName = "ProvisioningClaimCreated", Level = LogLevel.Information, Message = "Provisioning claim certificate {CertificateId} created for template {TemplateName}, valid until {Expiration}")]
    private static partial void LogClaimCreated(ILogger logger, string certificateId, string templateName, DateTimeOffset expiration);

    [LoggerMessage(EventId = 9201, EventName = "FleetThingRegistered", Level = LogLevel.Information, Message = "Fleet provisioning: certificate {CertificateId} registered as thing {ThingName} with template {TemplateName} by client {ClientId}")]
    private static partial void LogRegistered(ILogger logger, string certificateId, string thingName, string templateName, string clientId);
}
