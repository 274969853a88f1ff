using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;
using Fleetkey.Pki;
using Fleetkey.Services.Provisioning;
using Fleetkey.Services.Security;
using Fleetkey.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fleetkey.Services.Devices;

/// <summary>
/// The certificate vending endpoint's rules: the source address's rate before anything else, the
/// SharedAccessSignature against each candidate enrollment, then the serial number's rate over
/// authenticated attempts with the signature used up (both rates counted in the store, so they hold
/// across nodes), the enrollment's template applied with a new certificate in one transaction,
/// re-registration rules, and an audit row for every attempt.
/// </summary>
/// <remarks>
/// The signature check is <see cref="DeviceAuthenticator"/>'s, which parameters a device may set
/// <see cref="DeviceTemplateParameters"/>'s. A step that refuses throws <see cref="DeviceRegistrationRefused"/>;
/// <see cref="RegisterAsync"/> audits, logs and answers it in one place.
/// </remarks>
public sealed partial class DeviceRegistrationService(
    IFleetStore store,
    IDeviceEnrollmentResolver enrollments,
    IProvisioningTemplateResolver templates,
    RegistrationService registration,
    CertificateService certificates,
    IOptions<DeviceEndpointOptions> options,
    TimeProvider time,
    ILogger<DeviceRegistrationService> logger,
    DeviceEndpointMetrics? metrics = null)
{
    /// <summary>The one answer for an unknown serial, a wrong signature, an expired or a replayed token.</summary>
    public const string UnauthorizedMessage = "The device could not be authenticated.";

    // A reason can quote the device's input (an unknown member's name): the audit keeps a bounded part.
    private const int MaxReasonLength = 512;
    private const int MaxLoggedReason = 200;

    private readonly IFleetStore _store = store;
    private readonly DeviceEndpointOptions _options = options.Value;
    private readonly DeviceAuthenticator _authenticator = new(store, enrollments, options.Value);
    private readonly DeviceEndpointMetrics _metrics = metrics ?? new DeviceEndpointMetrics();

    public async Task<DeviceRegistrationOutcome> RegisterAsync(DeviceRegistrationAttempt attempt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        var now = time.GetUtcNow();
        var attemptId = Guid.CreateVersion7(now);
        var token = SharedAccessSignature.TryParse(attempt.Authorization, out var parsed) ? parsed : null;
        var serial = Bounded(attempt.Request?.SerialNumber ?? attempt.ClaimedSerialNumber ?? token?.Resource);
        var address = Bounded(attempt.SourceAddress) ?? "unknown";

        // The address's rate first, before any secret is touched: a guesser is stopped by the count
        // alone. The count and this attempt's row are one transaction, so concurrent requests cannot
        // all slip under it. Every request counts here, whatever its body or credential.
        var addressWait = await _store.WriteAsync((session, ct) => ReserveAsync(session, attemptId, now, serial, address, ct), cancellationToken);
        if (addressWait is { } wait)
        {
            return Throttled(serial, address, "address", wait);
        }

        try
        {
            if (attempt.Request is not { } request)
            {
                throw DeviceRegistrationRefused.Refuse(ErrorCode.InvalidRequest, attempt.RequestError ?? "The request body is not valid.", DeviceAttemptOutcome.Invalid, "bad body: " + attempt.RequestError);
            }

            if (!NameRules.IsRegistryName(request.SerialNumber))
            {
                throw DeviceRegistrationRefused.Refuse(ErrorCode.InvalidRequest, "serialNumber must be 1 to 128 characters of a-z, A-Z, 0-9, ':', '_' and '-' (it becomes the thing name).", DeviceAttemptOutcome.Invalid, "bad serial number");
            }

            var (enrollment, verified) = await _authenticator.AuthenticateAsync(token, request, now, cancellationToken);
            var serialWait = await _store.WriteAsync((session, ct) => AdmitAsync(session, attemptId, request.SerialNumber, verified, now, ct), cancellationToken);
            if (serialWait is { } later)
            {
                return Throttled(serial, address, "serial", later);
            }

            var registered = await RegisterVerifiedAsync(attemptId, request, enrollment, now, cancellationToken);
            LogRegistered(logger, request.SerialNumber, registered.CertificateId, registered.ThingName);
            _metrics.Attempted(DeviceAttemptOutcome.Registered);
            return new DeviceRegistrationOutcome(registered, null, null);
        }
        catch (DeviceRegistrationRefused refused)
        {
            await FinishAsync(attemptId, refused.Outcome, refused.Reason, cancellationToken);
            var (loggedSerial, loggedReason) = (LogSafe(serial), LogText(refused.Reason));
            LogRefused(logger, loggedSerial, address, refused.Outcome, loggedReason);
            _metrics.Attempted(refused.Outcome);
            return DeviceRegistrationOutcome.Failed(refused.Error);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            await FinishAsync(attemptId, DeviceAttemptOutcome.Failed, "internal error", CancellationToken.None);
            _metrics.Attempted(DeviceAttemptOutcome.Failed);
            throw;
        }
    }

    private DeviceRegistrationOutcome Throttled(string? serial, string address, string limit, TimeSpan wait)
    {
        var loggedSerial = LogSafe(serial);
        LogThrottled(logger, loggedSerial, address, limit);
        _metrics.Throttled(limit);
        return DeviceRegistrationOutcome.Failed(new ServiceException(ErrorCode.TooManyRequests, "Too many registration attempts; retry later."), wait);
    }

    private async Task<TimeSpan?> ReserveAsync(IStoreSession session, Guid attemptId, DateTimeOffset now, string? serial, string address, CancellationToken cancellationToken)
    {
        TimeSpan? wait = null;
        if (_options.RatePerAddress > 0)
        {
            var window = await session.DeviceEndpoint.CountAddressAttemptsAsync(address, now - _options.AddressWindow, DeviceAttemptOutcome.Throttled, cancellationToken);
            if (window.Count >= _options.RatePerAddress)
            {
                wait = Later(window.Oldest!.Value + _options.AddressWindow - now);
            }
        }

        var (outcome, reason) = wait is null ? (DeviceAttemptOutcome.Pending, (string?)null) : (DeviceAttemptOutcome.Throttled, "address rate exceeded");
        await session.DeviceEndpoint.InsertAttemptAsync(new DeviceAttempt(attemptId, now, serial, address, outcome, reason, null), cancellationToken);
        return wait;
    }

    /// <summary>
    /// The serial number's rate, for a request whose signature verified: its authenticated attempts in
    /// the window, then (under the limit) the signature used up and this attempt marked authenticated,
    /// in one transaction, so that concurrent requests cannot all slip under the limit and concurrent
    /// copies of one token count once (the others are replays).
    /// </summary>
    /// <remarks>
    /// Why only authenticated attempts count: the serial's budget protects the device's registrations
    /// (each one issues a certificate and may replace the device's), and only a holder of the device's
    /// secret can spend it. A request anyone can send (a wrong signature, a replayed or expired token, a
    /// bad body) counts against its source address only; otherwise five of them an hour, from anywhere,
    /// would lock the real device out (issue 16). Guessing the secret is no way in either: it is 256
    /// random bits, and the address's rate bounds how fast anyone can try.
    /// A throttled attempt does not use its signature up: the device can retry with it while it is valid.
    /// </remarks>
    private async Task<TimeSpan?> AdmitAsync(IStoreSession session, Guid attemptId, string serialNumber, SharedAccessSignature token, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (_options.RatePerSerial > 0)
        {
            var window = await session.DeviceEndpoint.CountAuthenticatedAttemptsAsync(serialNumber, now - _options.SerialWindow, cancellationToken);
            if (window.Count >= _options.RatePerSerial)
            {
                await session.DeviceEndpoint.UpdateAttemptAsync(attemptId, DeviceAttemptOutcome.Throttled, "serial rate exceeded", null, cancellationToken);
                return Later(window.Oldest!.Value + _options.SerialWindow - now);
            }
        }

        var expiry = DateTimeOffset.FromUnixTimeSeconds(token.Expiry) + _options.ClockSkew;
        if (!await session.DeviceEndpoint.TryUseSignatureAsync(token.ReplayKey(), expiry, cancellationToken))
        {
            throw DeviceRegistrationRefused.Unauthorized("replayed token");
        }

        await session.DeviceEndpoint.MarkAuthenticatedAsync(attemptId, cancellationToken);
        return null;
    }

    // A wait in whole seconds (Retry-After), at least one.
    private static TimeSpan Later(TimeSpan wait) => TimeSpan.FromSeconds(Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds)));

    private async Task<DeviceRegistrationResult> RegisterVerifiedAsync(
        Guid attemptId,
        DeviceRegistrationRequest request,
        DeviceEnrollment enrollment,
        DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        // From here the device is authenticated and its token used up (AdmitAsync).
        if (!enrollment.Enabled)
        {
            throw DeviceRegistrationRefused.Refuse(ErrorCode.Forbidden, "The device's enrollment is disabled.", DeviceAttemptOutcome.Forbidden, "enrollment disabled");
        }

        var template = await templates.ResolveAsync(enrollment.TemplateName, cancellationToken);
        if (template is null || !template.Enabled || !string.Equals(template.TemplateType, "FLEET_PROVISIONING", StringComparison.Ordinal))
        {
            var why = template is null ? "does not exist" : !template.Enabled ? "is disabled" : $"is a {template.TemplateType} template";
            throw DeviceRegistrationRefused.Refuse(ErrorCode.Forbidden, $"The device's provisioning template {enrollment.TemplateName} {why}.", DeviceAttemptOutcome.Forbidden, $"template {why}");
        }

        var parameters = DeviceTemplateParameters.For(template, enrollment, request);
        var thingName = DeviceTemplateParameters.ThingNameOf(template.TemplateBody, parameters);

        // Refused re-registrations are answered before a key is spent; the transaction checks again.
        await _store.ReadAsync((session, ct) => ExistingCertificatesAsync(session, thingName, request.SerialNumber, enrollment, now, ct), cancellationToken);

        // The certificate is named after the thing whatever the CSR asks (CertificateService.SubjectFor).
        IssuedCertificate issued;
        try
        {
            issued = await certificates.IssueForThingAsync(request.Csr, thingName, cancellationToken);
        }
        catch (ServiceException exception)
        {
            throw DeviceRegistrationRefused.Refuse(ErrorCode.InvalidRequest, exception.Message, DeviceAttemptOutcome.Invalid, "bad CSR");
        }

        var plan = DeviceTemplateParameters.Evaluate(template.TemplateBody, parameters, issued.CertificateId);
        RegistrationService.PreparedRegistration prepared;
        try
        {
            prepared = registration.Prepare(plan, issued);
        }
        catch (ServiceException exception)
        {
            throw DeviceRegistrationRefused.Refuse(RegistrationService.AsRegistrationFailure(exception), DeviceAttemptOutcome.Invalid, "template cannot be applied");
        }

        try
        {
            await _store.WriteAsync(
                async (session, ct) =>
                {
                    var (replaced, replacedNote) = await ExistingCertificatesAsync(session, thingName, request.SerialNumber, enrollment, now, ct);
                    foreach (var (old, revoke) in replaced)
                    {
                        await certificates.SetStatusAsync(session, old, revoke ? CertificateStatus.Revoked : CertificateStatus.Inactive, ct);
                        await session.ThingPrincipals.DetachAsync(thingName, PolicyTarget.CertificateKind, old.CertificateId, ct);
                    }

                    await registration.ApplyAsync(session, prepared, ct);
                    await session.DeviceEndpoint.InsertRegistrationAsync(new DeviceRegistration(issued.CertificateId, request.SerialNumber, now, null), ct);
                    await session.DeviceEndpoint.UpdateAttemptAsync(attemptId, DeviceAttemptOutcome.Registered, replacedNote, issued.CertificateId, ct);
                    return true;
                },
                cancellationToken);
        }
        catch (ServiceException exception)
        {
            throw DeviceRegistrationRefused.Refuse(RegistrationService.AsRegistrationFailure(exception), DeviceAttemptOutcome.Invalid, "template cannot be applied");
        }

        var scope = ScopeOf(enrollment.EnrollmentArn);
        return new DeviceRegistrationResult(
            thingName,
            issued.CertificateId,
            Arn.For(scope, ResourceKind.Certificate, issued.CertificateId),
            issued.CertificatePem,
            issued.PrivateKeyPem,
            certificates.ChainPem,
            _options.MqttHost,
            _options.MqttPort);
    }

    /// <summary>
    /// The thing's ACTIVE certificates that registering replaces, each with whether it is revoked (a
    /// lost answer) or set INACTIVE (reprovisioning); 409 when the serial may not register again.
    /// </summary>
    private async Task<(List<(Certificate Certificate, bool Revoke)> Replaced, string? Note)> ExistingCertificatesAsync(
        IStoreSession session, string thingName, string serialNumber, DeviceEnrollment enrollment, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var replaced = new List<(Certificate, bool)>();
        if (await session.Things.GetAsync(thingName, cancellationToken) is null)
        {
            return (replaced, null);
        }

        var active = new List<Certificate>();
        foreach (var principal in await session.ThingPrincipals.ListForThingAsync(thingName, null, 1000, cancellationToken))
        {
            if (principal.PrincipalKind == PolicyTarget.CertificateKind
                && await session.Certificates.GetAsync(principal.PrincipalId, cancellationToken) is { Status: CertificateStatus.Active } certificate)
            {
                active.Add(certificate);
            }
        }

        if (active.Count == 0)
        {
            return (replaced, null);
        }

        var latest = await session.DeviceEndpoint.GetLatestRegistrationAsync(serialNumber, cancellationToken);
        if (active.Count == 1 && latest is { FirstConnectedAt: null } && string.Equals(latest.CertificateId, active[0].CertificateId, StringComparison.Ordinal)
            && now - latest.RegisteredAt <= _options.LostAnswerWindow)
        {
            replaced.Add((active[0], true));
            return (replaced, $"lost answer: revoked {active[0].CertificateId}");
        }

        if (!enrollment.AllowReprovisioning)
        {
            throw DeviceRegistrationRefused.Refuse(
                ErrorCode.Conflict,
                $"The device {serialNumber} already has an active certificate and its enrollment does not allow reprovisioning.",
                DeviceAttemptOutcome.Conflict,
                "already registered");
        }

        replaced.AddRange(active.Select(c => (c, false)));
        return (replaced, $"reprovisioned: deactivated {string.Join(", ", active.Select(c => c.CertificateId))}");
    }

    /// <summary>
    /// The region and account of the enrollment's ARN (the region of the request that created the
    /// enrollment: <see cref="EnrollmentResolver"/>), in which the certificate's ARN is given.
    /// </summary>
    private static IotScope ScopeOf(string enrollmentArn)
    {
        var parts = enrollmentArn.Split(':', 6);
        return parts.Length == 6 && parts[3].Length > 0 && parts[4].Length > 0
            ? new IotScope(parts[3], parts[4])
            : throw new InvalidOperationException($"The enrollment ARN '{enrollmentArn}' has no region and account.");
    }

    private async Task FinishAsync(Guid attemptId, string outcome, string reason, CancellationToken cancellationToken) =>
        await _store.WriteAsync(
            async (session, ct) =>
            {
                await session.DeviceEndpoint.UpdateAttemptAsync(attemptId, outcome, Truncate(reason, MaxReasonLength), null, ct);
                return true;
            },
            cancellationToken);

    private static string? Bounded(string? text) =>
        text is null ? null : Truncate(text, NameRules.MaxNameLength);

    // Never between the two halves of a surrogate pair: a lone surrogate is not text the database (or a
    // JSON answer) can hold.
    private static string Truncate(string text, int length) =>
        text.Length <= length ? text : text[..(char.IsHighSurrogate(text[length - 1]) ? length - 1 : length)];

    private static string LogText(string text) =>
        string.Create(Truncate(text, MaxLoggedReason).Length, text, (span, source) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = char.IsControl(source[i]) ? ' ' : source[i];
            }
        });

    // The serial is the device's claim, unauthenticated: logged only when it is a valid name (no line breaks to forge log lines).
    private static string LogSafe(string? serial) => NameRules.IsRegistryName(serial) ? serial! : "(invalid serial)";

    [LoggerMessage(EventId = 700, EventName = "DeviceRegistered", Level = LogLevel.Information, Message = "Device {SerialNumber} registered as {ThingName} with certificate {CertificateId}")]
    private static partial void LogRegistered(ILogger logger, string serialNumber, string certificateId, string thingName);

    [LoggerMessage(EventId = 701, EventName = "DeviceRegistrationRefused", Level = LogLevel.Information, Message = "Device registration of {SerialNumber} from {SourceAddress} refused: {Outcome} ({Reason})")]
    private static partial void LogRefused(ILogger logger, string? serialNumber, string sourceAddress, string outcome, string reason);

    [LoggerMessage(EventId = 702, EventName = "DeviceRegistrationThrottled", Level = LogLevel.Information, Message = "Device registration of {SerialNumber} from {SourceAddress} throttled by the {Limit} rate")]
    private static partial void LogThrottled(ILogger logger, string? serialNumber, string sourceAddress, string limit);
}
