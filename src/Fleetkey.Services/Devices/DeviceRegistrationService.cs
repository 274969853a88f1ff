using System.Collections.Concurrent;
using System.Security.Cryptography;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;
using Fleetkey.Pki;
using Fleetkey.Services.Provisioning;
using Fleetkey.Services.Security;
using Fleetkey.Storage;
using Fleetkey.Templates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fleetkey.Services.Devices;

/// <summary>What a device sent to <c>POST /device/register</c>, once the body parsed.</summary>
public sealed record DeviceRegistrationRequest(string SerialNumber, string? Csr, IReadOnlyDictionary<string, string>? Parameters);

/// <summary>
/// One request as the adapter received it: the source address, the Authorization header, and the
/// body parsed (<see cref="Request"/>) or why it did not parse (<see cref="RequestError"/>, with the
/// serial number when it could be read).
/// </summary>
public sealed record DeviceRegistrationAttempt(
    string SourceAddress,
    string? Authorization,
    DeviceRegistrationRequest? Request,
    string? RequestError,
    string? ClaimedSerialNumber = null);

/// <summary>A registered device's answer. <see cref="PrivateKeyPem"/> is null in CSR mode (the key never left the device).</summary>
public sealed record DeviceRegistrationResult(
    string ThingName,
    string CertificateId,
    string CertificateArn,
    string CertificatePem,
    string? PrivateKeyPem,
    string CaCertificatesPem,
    string MqttHost,
    int MqttPort);

/// <summary>Either the registration or the error to answer (with Retry-After for 429).</summary>
public sealed record DeviceRegistrationOutcome(DeviceRegistrationResult? Registered, ServiceException? Error, TimeSpan? RetryAfter)
{
    public static DeviceRegistrationOutcome Failed(ServiceException error, TimeSpan? retryAfter = null) => new(null, error, retryAfter);
}

/// <summary>The outcome words of the audit log (<c>device_attempts.outcome</c>).</summary>
public static class DeviceAttemptOutcome
{
    public const string Pending = "pending";
    public const string Registered = "registered";
    public const string Throttled = "throttled";
    public const string Unauthorized = "unauthorized";
    public const string Forbidden = "forbidden";
    public const string Conflict = "conflict";
    public const string Invalid = "invalid";
    public const string Failed = "failed";
}

/// <summary>
/// The certificate vending endpoint's rules: the source address's rate before anything else, the
/// SharedAccessSignature against each candidate enrollment, then the serial number's rate over
/// authenticated attempts with the signature used up (both rates counted in the store, so they hold
/// across nodes), the enrollment's template applied with a new certificate in one transaction,
/// re-registration rules, and an audit row for every attempt.
/// </summary>
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

    /// <summary>The template parameter that carries the new certificate's id, as AWS fleet provisioning names it.</summary>
    public const string CertificateIdPseudoParameter = "AWS::IoT::Certificate::Id";

    private const string PlaceholderCertificateId = "0000000000000000000000000000000000000000000000000000000000000000";
    private const int MaxRecordedConnections = 100_000;

    // Parameters the endpoint sets itself: a device may not supply them, an enrollment's value is overridden.
    private static readonly string[] ReservedParameters = ["SerialNumber", "ThingName", "CertificateId"];

    private readonly DeviceEndpointOptions _options = options.Value;

    // Certificates whose first connection is recorded (or that the endpoint did not issue): the broker
    // calls on every connect, and only the first one of a certificate needs a write.
    private readonly ConcurrentDictionary<string, byte> _connectionsRecorded = new(StringComparer.Ordinal);

    private readonly DeviceEndpointMetrics _metrics = metrics ?? new DeviceEndpointMetrics();

    private sealed class RegistrationRefused(ServiceException error, string outcome, string reason) : Exception(error.Message)
    {
        public ServiceException Error { get; } = error;

        public string Outcome { get; } = outcome;

        public string Reason { get; } = reason;
    }

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
        var addressWait = await store.WriteAsync((session, ct) => ReserveAsync(session, attemptId, now, serial, address, ct), cancellationToken);
        if (addressWait is { } wait)
        {
            return Throttled(serial, address, "address", wait);
        }

        try
        {
            if (attempt.Request is not { } request)
            {
                throw Refuse(ErrorCode.InvalidRequest, attempt.RequestError ?? "The request body is not valid.", DeviceAttemptOutcome.Invalid, "bad body: " + attempt.RequestError);
            }

            if (!NameRules.IsRegistryName(request.SerialNumber))
            {
                throw Refuse(ErrorCode.InvalidRequest, "serialNumber must be 1 to 128 characters of a-z, A-Z, 0-9, ':', '_' and '-' (it becomes the thing name).", DeviceAttemptOutcome.Invalid, "bad serial number");
            }

            var (enrollment, verified) = await AuthenticateAsync(token, request, now, cancellationToken);
            var serialWait = await store.WriteAsync((session, ct) => AdmitAsync(session, attemptId, request.SerialNumber, verified, now, ct), cancellationToken);
            if (serialWait is { } later)
            {
                return Throttled(serial, address, "serial", later);
            }

            var registered = await RegisterVerifiedAsync(attemptId, request, enrollment, now, cancellationToken);
            LogRegistered(logger, request.SerialNumber, registered.CertificateId, registered.ThingName);
            _metrics.Attempted(DeviceAttemptOutcome.Registered);
            return new DeviceRegistrationOutcome(registered, null, null);
        }
        catch (RegistrationRefused refused)
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
            throw Unauthorized("replayed token");
        }

        await session.DeviceEndpoint.MarkAuthenticatedAsync(attemptId, cancellationToken);
        return null;
    }

    // A wait in whole seconds (Retry-After), at least one.
    private static TimeSpan Later(TimeSpan wait) => TimeSpan.FromSeconds(Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds)));

    private async Task<(DeviceEnrollment Enrollment, SharedAccessSignature Token)> AuthenticateAsync(SharedAccessSignature? token, DeviceRegistrationRequest request, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (token is null)
        {
            throw Unauthorized("missing or malformed token");
        }

        if (!string.Equals(token.Resource, request.SerialNumber, StringComparison.Ordinal))
        {
            throw Unauthorized("token for another serial number");
        }

        var expiry = DateTimeOffset.FromUnixTimeSeconds(Math.Min(token.Expiry, DateTimeOffset.MaxValue.ToUnixTimeSeconds()));
        if (expiry < now - _options.ClockSkew)
        {
            throw Unauthorized("token expired");
        }

        if (expiry > now + _options.MaxTokenLifetime + _options.ClockSkew)
        {
            throw Unauthorized("token expiry too far ahead");
        }

        var candidates = await enrollments.ResolveAsync(request.SerialNumber, cancellationToken);
        if (candidates.Count == 0)
        {
            // As much work as a known serial with a wrong signature, so the answer's timing says nothing.
            Span<byte> decoy = stackalloc byte[32];
            RandomNumberGenerator.Fill(decoy);
            _ = token.IsSignedWith(decoy);
            throw Unauthorized("unknown serial number");
        }

        DeviceEnrollment? matched = null;
        foreach (var candidate in candidates)
        {
            // Every candidate is tried even after a match, so the time does not depend on which one signed.
            if (token.IsSignedWith(candidate.DeviceSecret) && matched is null)
            {
                matched = candidate;
            }
        }

        if (matched is null)
        {
            throw Unauthorized("wrong signature");
        }

        if (await store.ReadAsync((session, ct) => session.DeviceEndpoint.IsSignatureUsedAsync(token.ReplayKey(), ct), cancellationToken))
        {
            throw Unauthorized("replayed token");
        }

        return (matched, token);
    }

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
            throw Refuse(ErrorCode.Forbidden, "The device's enrollment is disabled.", DeviceAttemptOutcome.Forbidden, "enrollment disabled");
        }

        var template = await templates.ResolveAsync(enrollment.TemplateName, cancellationToken);
        if (template is null || !template.Enabled || !string.Equals(template.TemplateType, "FLEET_PROVISIONING", StringComparison.Ordinal))
        {
            var why = template is null ? "does not exist" : !template.Enabled ? "is disabled" : $"is a {template.TemplateType} template";
            throw Refuse(ErrorCode.Forbidden, $"The device's provisioning template {enrollment.TemplateName} {why}.", DeviceAttemptOutcome.Forbidden, $"template {why}");
        }

        var parameters = Parameters(template, enrollment, request);
        var thingName = ThingOf(Evaluate(template.TemplateBody, parameters, PlaceholderCertificateId));

        // Refused re-registrations are answered before a key is spent; the transaction checks again.
        await store.ReadAsync((session, ct) => ExistingCertificatesAsync(session, thingName, request.SerialNumber, enrollment, now, ct), cancellationToken);

        // The certificate is named after the thing whatever the CSR asks (CertificateService.SubjectFor).
        IssuedCertificate issued;
        try
        {
            issued = await certificates.IssueForThingAsync(request.Csr, thingName, cancellationToken);
        }
        catch (ServiceException exception)
        {
            throw Refuse(ErrorCode.InvalidRequest, exception.Message, DeviceAttemptOutcome.Invalid, "bad CSR");
        }

        var plan = Evaluate(template.TemplateBody, parameters, issued.CertificateId);
        RegistrationService.PreparedRegistration prepared;
        try
        {
            prepared = registration.Prepare(plan, issued);
        }
        catch (ServiceException exception)
        {
            throw Refuse(RegistrationService.AsRegistrationFailure(exception), DeviceAttemptOutcome.Invalid, "template cannot be applied");
        }

        try
        {
            await store.WriteAsync(
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
            throw Refuse(RegistrationService.AsRegistrationFailure(exception), DeviceAttemptOutcome.Invalid, "template cannot be applied");
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
            throw Refuse(
                ErrorCode.Conflict,
                $"The device {serialNumber} already has an active certificate and its enrollment does not allow reprovisioning.",
                DeviceAttemptOutcome.Conflict,
                "already registered");
        }

        replaced.AddRange(active.Select(c => (c, false)));
        return (replaced, $"reprovisioned: deactivated {string.Join(", ", active.Select(c => c.CertificateId))}");
    }

    /// <summary>
    /// The template's parameters: what the device may supply (declared by the template, not reserved,
    /// not fixed by the enrollment), then the enrollment's fixed ones, then the endpoint's own.
    /// </summary>
    private static Dictionary<string, string> Parameters(ResolvedTemplate template, DeviceEnrollment enrollment, DeviceRegistrationRequest request)
    {
        var declared = TemplateEngine.DeclaredParameters(template.TemplateBody);
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        var refused = new List<string>();
        foreach (var (name, value) in request.Parameters ?? new Dictionary<string, string>())
        {
            if (!declared.Contains(name) || ReservedParameters.Contains(name, StringComparer.Ordinal)
                || name.StartsWith("AWS::", StringComparison.Ordinal) || enrollment.Parameters.ContainsKey(name))
            {
                refused.Add(name);
            }
            else
            {
                parameters[name] = value;
            }
        }

        if (refused.Count > 0)
        {
            var names = string.Join(", ", refused.Order(StringComparer.Ordinal));
            throw Refuse(
                ErrorCode.InvalidRequest,
                $"The device may not set the parameters {names}: a device sets only parameters its template declares and its enrollment does not fix.",
                DeviceAttemptOutcome.Invalid,
                "parameters not allowed: " + names);
        }

        foreach (var (name, value) in enrollment.Parameters)
        {
            parameters[name] = value;
        }

        parameters["SerialNumber"] = request.SerialNumber;
        parameters["ThingName"] = request.SerialNumber;
        return parameters;
    }

    private static ProvisioningPlan Evaluate(string templateBody, Dictionary<string, string> parameters, string certificateId)
    {
        var withCertificate = new Dictionary<string, string>(parameters, StringComparer.Ordinal)
        {
            [CertificateIdPseudoParameter] = certificateId,
            ["CertificateId"] = certificateId,
        };
        try
        {
            return RegistrationService.Evaluate(templateBody, withCertificate);
        }
        catch (ServiceException exception)
        {
            throw Refuse(exception, DeviceAttemptOutcome.Invalid, "template evaluation failed");
        }
    }

    private static string ThingOf(ProvisioningPlan plan) =>
        plan.Things.Count > 0
            ? plan.Things[0].ThingName
            : throw Refuse(ErrorCode.ResourceRegistrationFailure, "The device's provisioning template makes no thing.", DeviceAttemptOutcome.Invalid, "template makes no thing");

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
        await store.WriteAsync(
            async (session, ct) =>
            {
                await session.DeviceEndpoint.UpdateAttemptAsync(attemptId, outcome, Truncate(reason, MaxReasonLength), null, ct);
                return true;
            },
            cancellationToken);

    /// <summary>
    /// Records that a certificate connected (the MQTT broker calls this on every successful connect):
    /// from then on, a lost-answer re-registration no longer replaces it. Only the first call for a
    /// certificate the endpoint issued writes.
    /// </summary>
    public async Task RecordConnectionAsync(string certificateId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(certificateId);
        if (_connectionsRecorded.ContainsKey(certificateId))
        {
            return;
        }

        var registered = await store.ReadAsync((session, ct) => session.DeviceEndpoint.GetRegistrationAsync(certificateId, ct), cancellationToken);
        if (registered is { FirstConnectedAt: null })
        {
            var at = time.GetUtcNow();
            await store.WriteAsync((session, ct) => session.DeviceEndpoint.RecordConnectionAsync(certificateId, at, ct), cancellationToken);
        }

        if (_connectionsRecorded.Count >= MaxRecordedConnections)
        {
            _connectionsRecorded.Clear();
        }

        _connectionsRecorded.TryAdd(certificateId, 0);
    }

    /// <summary>Deletes used signatures past their expiry and audit rows past the retention; returns how many of each.</summary>
    public Task<(int Signatures, int Attempts)> PruneAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return store.WriteAsync(
            async (session, ct) => (
                await session.DeviceEndpoint.PruneSignaturesAsync(now, ct),
                await session.DeviceEndpoint.PruneAttemptsAsync(now - _options.AuditRetention, ct)),
            cancellationToken);
    }

    private static string? Bounded(string? text) =>
        text is null ? null : Truncate(text, NameRules.MaxNameLength);

    // A reason can quote the device's input (an unknown member's name): the audit keeps a bounded part.
    private const int MaxReasonLength = 512;
    private const int MaxLoggedReason = 200;

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

    private static RegistrationRefused Unauthorized(string reason) =>
        new(new ServiceException(ErrorCode.Unauthorized, UnauthorizedMessage), DeviceAttemptOutcome.Unauthorized, reason);

    private static RegistrationRefused Refuse(ErrorCode code, string message, string outcome, string reason) =>
        new(new ServiceException(code, message), outcome, reason);

    private static RegistrationRefused Refuse(ServiceException error, string outcome, string reason) =>
        new(error, outcome, reason + ": " + error.Message);

    [LoggerMessage(EventId = 700, EventName = "DeviceRegistered", Level = LogLevel.Information, Message = "Device {SerialNumber} registered as {ThingName} with certificate {CertificateId}")]
    private static partial void LogRegistered(ILogger logger, string serialNumber, string certificateId, string thingName);

    [LoggerMessage(EventId = 701, EventName = "DeviceRegistrationRefused", Level = LogLevel.Information, Message = "Device registration of {SerialNumber} from {SourceAddress} refused: {Outcome} ({Reason})")]
    private static partial void LogRefused(ILogger logger, string? serialNumber, string sourceAddress, string outcome, string reason);

    [LoggerMessage(EventId = 702, EventName = "DeviceRegistrationThrottled", Level = LogLevel.Information, Message = "Device registration of {SerialNumber} from {SourceAddress} throttled by the {Limit} rate")]
    private static partial void LogThrottled(ILogger logger, string? serialNumber, string sourceAddress, string limit);
}
