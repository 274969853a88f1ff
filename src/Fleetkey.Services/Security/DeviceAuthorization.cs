using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;
using Fleetkey.Policies;
using Fleetkey.Storage;

namespace Fleetkey.Services.Security;

/// <summary>The IoT actions a device connection is authorized for, and the resource ARNs they name.</summary>
public static class IotActions
{
    public const string Connect = "iot:Connect";
    public const string Publish = "iot:Publish";
    public const string Subscribe = "iot:Subscribe";
    public const string Receive = "iot:Receive";

    /// <summary>
    /// The region in the resource ARNs Fleetkey evaluates. Fleetkey is one region under any name (the
    /// control plane takes the region of each request), so the region of a policy's resource ARN is not
    /// compared: <see cref="CompiledPolicyCache"/> turns it into <c>*</c>.
    /// </summary>
    public const string EvaluationRegion = "fleetkey";

    public static string ClientResource(string accountId, string clientId) => Resource(accountId, "client", clientId);

    public static string TopicResource(string accountId, string topic) => Resource(accountId, "topic", topic);

    public static string TopicFilterResource(string accountId, string filter) => Resource(accountId, "topicfilter", filter);

    private static string Resource(string accountId, string kind, string name) =>
        string.Create(CultureInfo.InvariantCulture, $"arn:aws:iot:{EvaluationRegion}:{accountId}:{kind}/{name}");
}

/// <summary>A TestAuthorization question: may the principal do <paramref name="Action"/> (iot:Publish, …) on each resource ARN?</summary>
public sealed record AuthorizationCheck(string Action, IReadOnlyList<string> Resources);

/// <summary>The answer to an <see cref="AuthorizationCheck"/> and the policies behind it.</summary>
public sealed record AuthorizationOutcome(
    AuthorizationCheck Check, PolicyDecision Decision, IReadOnlyList<string> AllowedBy, IReadOnlyList<string> ExplicitlyDeniedBy, IReadOnlyList<string> ImplicitlyDeniedBy);

/// <summary>One policy version as the evaluator uses it, parsed once.</summary>
public sealed record CompiledPolicy(string Name, long VersionId, PolicyDocument Document);

/// <summary>
/// Parsed policy documents by policy name, generation and version: a version never changes once
/// written, and a policy deleted and created again under the same name has a new generation, so
/// entries never go stale; the cache only bounds its size.
/// </summary>
public sealed class CompiledPolicyCache
{
    private const int MaxEntries = 20_000;
    private readonly ConcurrentDictionary<(string Name, string Generation, long Version), CompiledPolicy> _entries = new();

    public CompiledPolicy Get(Policy policy, PolicyVersion version)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(version);
        var key = (policy.Name, policy.GenerationId, version.VersionId);
        if (_entries.TryGetValue(key, out var compiled))
        {
            return compiled;
        }

        if (_entries.Count >= MaxEntries)
        {
            _entries.Clear();
        }

        compiled = new CompiledPolicy(policy.Name, version.VersionId, Compile(version.Document));
        _entries[key] = compiled;
        return compiled;
    }

    // Stored documents were validated when written (against the limit then in force, hence no limit
    // here). Resource ARNs lose their region, see IotActions.EvaluationRegion.
    private static PolicyDocument Compile(string json) => PolicyRegions.AnyRegion(PolicyDocumentParser.Parse(json, int.MaxValue));
}

/// <summary>
/// Fleetkey is one region under any name: a policy's resource ARN matches whatever region a request names,
/// so that neither an IoT policy nor an access key's policy can be slipped past by naming another region.
/// </summary>
internal static class PolicyRegions
{
    /// <summary>The document with the region of every <c>arn:aws:iot:</c> resource (and NotResource) turned into <c>*</c>.</summary>
    public static PolicyDocument AnyRegion(PolicyDocument document) => document with
    {
        Statements = [.. document.Statements.Select(s => s with
        {
            Resources = [.. s.Resources.Select(AnyRegion)],
            NotResources = [.. s.NotResources.Select(AnyRegion)],
        })],
    };

    private static string AnyRegion(string resource)
    {
        const string Prefix = "arn:aws:iot:";
        if (!resource.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return resource;
        }

        var end = resource.IndexOf(':', Prefix.Length);
        return end < 0 ? resource : string.Concat(Prefix, "*", resource.AsSpan(end));
    }
}

/// <summary>
/// What decides a device connection's rights: its certificate (and status), the thing the connection
/// stands for, the policies in force (the certificate's and those of the thing's groups and their
/// ancestors, default versions) and the values of the policy variables.
/// </summary>
public sealed class DeviceAuthorization
{
    internal DeviceAuthorization(
        Certificate certificate, Thing? thing, IReadOnlyList<CompiledPolicy> policies, IReadOnlyDictionary<string, string> variables, string accountId)
    {
        Certificate = certificate;
        Thing = thing;
        Policies = policies;
        Variables = variables;
        AccountId = accountId;
        _documents = [.. policies.Select(p => p.Document)];
    }

    private readonly PolicyDocument[] _documents;

    public Certificate Certificate { get; }

    /// <summary>The thing the connection stands for (see <see cref="DeviceAuthorizationService.LoadAsync"/>), or null.</summary>
    public Thing? Thing { get; }

    public IReadOnlyList<CompiledPolicy> Policies { get; }

    public IReadOnlyDictionary<string, string> Variables { get; }

    public string AccountId { get; }

    public bool IsActive => string.Equals(Certificate.Status, CertificateStatus.Active, StringComparison.Ordinal);

    public bool IsAllowed(string action, string resource) => PolicyEvaluator.IsAllowed(_documents, action, resource, Variables);

    /// <summary>
    /// One TestAuthorization check: an explicit Deny of any resource wins; allowed when every resource
    /// is allowed; each policy is named under the decision it took part in.
    /// </summary>
    public AuthorizationOutcome Test(AuthorizationCheck check)
    {
        ArgumentNullException.ThrowIfNull(check);
        var allowing = new HashSet<string>(StringComparer.Ordinal);
        var denying = new HashSet<string>(StringComparer.Ordinal);
        var allAllowed = check.Resources.Count > 0;
        foreach (var resource in check.Resources)
        {
            var anyAllows = false;
            foreach (var policy in Policies)
            {
                switch (PolicyEvaluator.Decide([policy.Document], check.Action, resource, Variables))
                {
                    case PolicyDecision.Allowed:
                        allowing.Add(policy.Name);
                        anyAllows = true;
                        break;
                    case PolicyDecision.ExplicitDeny:
                        denying.Add(policy.Name);
                        break;
                }
            }

            allAllowed &= anyAllows;
        }

        var decision = denying.Count > 0 ? PolicyDecision.ExplicitDeny : allAllowed ? PolicyDecision.Allowed : PolicyDecision.ImplicitDeny;
        return new AuthorizationOutcome(
            check,
            decision,
            decision == PolicyDecision.Allowed ? [.. allowing] : [],
            decision == PolicyDecision.ExplicitDeny ? [.. denying] : [],
            decision == PolicyDecision.ImplicitDeny ? [.. Policies.Select(p => p.Name)] : []);
    }

    public bool MayConnect(string clientId) => IsActive && IsAllowed(IotActions.Connect, IotActions.ClientResource(AccountId, clientId));

    public bool MayPublish(string topic) => IsAllowed(IotActions.Publish, IotActions.TopicResource(AccountId, topic));

    public bool MayReceive(string topic) => IsAllowed(IotActions.Receive, IotActions.TopicResource(AccountId, topic));

    public bool MaySubscribe(string topicFilter) => IsAllowed(IotActions.Subscribe, IotActions.TopicFilterResource(AccountId, topicFilter));
}

/// <summary>
/// Loads a device's <see cref="DeviceAuthorization"/> from the store in one read: the broker calls it
/// at CONNECT and whenever the store changed; TestAuthorization can call it for a certificate.
/// </summary>
public sealed class DeviceAuthorizationService(IFleetStore store, CompiledPolicyCache policies)
{
    /// <summary>The certificate ids of devices are the SHA-256 of their DER, lowercase hex.</summary>
    public static string CertificateId(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return Convert.ToHexStringLower(SHA256.HashData(certificate.RawDataMemory.Span));
    }

    /// <summary>
    /// The certificate's authorization for a connection with <paramref name="clientId"/>, or null when
    /// the certificate is unknown. The connection stands for the thing attached to the certificate
    /// whose name is the client id, or else the certificate's one exclusively attached thing, as AWS IoT
    /// associates things with connections.
    /// </summary>
    public Task<DeviceAuthorization?> LoadAsync(string certificateId, string clientId, string accountId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(certificateId);
        ArgumentNullException.ThrowIfNull(clientId);
        return store.ReadAsync((session, ct) => LoadInSessionAsync(session, certificateId, clientId, accountId, [], [], ct), cancellationToken);
    }

    /// <summary>
    /// TestAuthorization: how the certificate's policies (plus <paramref name="policyNamesToAdd"/>, less
    /// <paramref name="policyNamesToSkip"/>) decide each check, with the evaluator the broker uses.
    /// </summary>
    /// <param name="clientId">The client id of the connection to imagine; null leaves <c>iot:ClientId</c> unset.</param>
    public Task<IReadOnlyList<AuthorizationOutcome>> TestAsync(
        IotScope scope, string principal, string? clientId, IReadOnlyList<string> policyNamesToAdd, IReadOnlyList<string> policyNamesToSkip,
        IReadOnlyList<AuthorizationCheck> checks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(checks);
        var certificateId = Principals.CertificateIdFromArn(scope, principal);
        return store.ReadAsync<IReadOnlyList<AuthorizationOutcome>>(async (session, ct) =>
        {
            var authorization = await LoadInSessionAsync(session, certificateId, clientId, scope.AccountId, policyNamesToAdd, policyNamesToSkip, ct)
                ?? ThrowHelper.NotFound<DeviceAuthorization>(CertificateService.NotFoundMessage(certificateId));
            return [.. checks.Select(authorization.Test)];
        }, cancellationToken);
    }

    private async Task<DeviceAuthorization?> LoadInSessionAsync(
        IStoreSession session, string certificateId, string? clientId, string accountId,
        IReadOnlyList<string> policyNamesToAdd, IReadOnlyList<string> policyNamesToSkip, CancellationToken ct)
    {
        var certificate = await session.Certificates.GetAsync(certificateId, ct);
        if (certificate is null)
        {
            return null;
        }

        var attached = await session.ThingPrincipals.ListForPrincipalAsync(PolicyTarget.CertificateKind, certificateId, null, 100, ct);
        var principal = attached.FirstOrDefault(p => string.Equals(p.ThingName, clientId, StringComparison.Ordinal))
            ?? (attached is [{ PrincipalType: ThingPrincipalType.Exclusive } only] ? only : null);
        var thing = principal is null ? null : await session.Things.GetAsync(principal.ThingName, ct);

        var targets = new List<PolicyTarget> { new(PolicyTarget.CertificateKind, certificateId) };
        if (thing is not null)
        {
            targets.AddRange(await PolicyService.GroupTargetsAsync(session, thing.Name, ct));
        }

        var compiled = new List<CompiledPolicy>();
        foreach (var (policy, version) in await PolicyService.DefaultVersionsAsync(session, targets, ct))
        {
            if (!policyNamesToSkip.Contains(policy.Name, StringComparer.Ordinal))
            {
                compiled.Add(policies.Get(policy, version));
            }
        }

        foreach (var name in policyNamesToAdd.Distinct(StringComparer.Ordinal))
        {
            var policy = await PolicyService.RequireAsync(session, name, ct);
            if (!compiled.Any(c => string.Equals(c.Name, name, StringComparison.Ordinal)))
            {
                compiled.Add(policies.Get(policy, (await session.Policies.GetVersionAsync(name, policy.DefaultVersionId, ct))!));
            }
        }

        return new DeviceAuthorization(certificate, thing, compiled, Variables(certificate, thing, clientId), accountId);
    }

    /// <summary>Policy variables of a connection (names without <c>${}</c>), as AWS IoT documents them.</summary>
    internal static Dictionary<string, string> Variables(Certificate certificate, Thing? thing, string? clientId)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["iot:Connection.Thing.IsAttached"] = thing is null ? "false" : "true",
        };
        if (clientId is not null)
        {
            variables["iot:ClientId"] = clientId;
        }

        if (thing is not null)
        {
            variables["iot:Connection.Thing.ThingName"] = thing.Name;
            if (thing.TypeName is not null)
            {
                variables["iot:Connection.Thing.ThingTypeName"] = thing.TypeName;
            }

            foreach (var (name, value) in thing.Attributes)
            {
                variables[$"iot:Connection.Thing.Attributes[{name}]"] = value;
            }
        }

        var pem = PemEncoding.Find(certificate.Pem);
        using var x509 = X509CertificateLoader.LoadCertificate(Convert.FromBase64String(certificate.Pem[pem.Base64Data]));
        CertificateVariables.Add(variables, x509);
        return variables;
    }
}

/// <summary>
/// The X.509 certificate policy variables (iot:Certificate.*): subject and issuer attributes, serial
/// number, validity, and subject alternative names. A multi-valued attribute yields its first value.
/// </summary>
public static class CertificateVariables
{
    private static readonly (string Oid, string Name)[] DistinguishedNameAttributes =
    [
        ("2.5.4.3", "CommonName"),
        ("2.5.4.10", "Organization"),
        ("2.5.4.11", "OrganizationalUnit"),
        ("2.5.4.6", "Country"),
        ("2.5.4.8", "State"),
        ("2.5.4.7", "Locality"),
        ("2.5.4.5", "SerialNumber"),
        ("2.5.4.46", "DistinguishedNameQualifier"),
        ("2.5.4.12", "Title"),
        ("2.5.4.4", "Surname"),
        ("2.5.4.42", "GivenName"),
        ("2.5.4.43", "Initials"),
        ("2.5.4.65", "Pseudonym"),
        ("2.5.4.44", "GenerationQualifier"),
    ];

    public static void Add(IDictionary<string, string> variables, X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(variables);
        ArgumentNullException.ThrowIfNull(certificate);
        AddName(variables, "iot:Certificate.Subject.", certificate.SubjectName);
        AddName(variables, "iot:Certificate.Issuer.", certificate.IssuerName);
        variables["iot:Certificate.SerialNumber"] = certificate.SerialNumber;
        variables["iot:Certificate.Validity.NotBefore"] = certificate.NotBefore.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        variables["iot:Certificate.Validity.NotAfter"] = certificate.NotAfter.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        if (certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault() is { } san)
        {
            if (san.EnumerateDnsNames().FirstOrDefault() is { } dns)
            {
                variables["iot:Certificate.Subject.AlternativeName.DNS"] = dns;
            }

            if (san.EnumerateIPAddresses().FirstOrDefault() is { } ip)
            {
                variables["iot:Certificate.Subject.AlternativeName.IPAddress"] = ip.ToString();
            }
        }
    }

    private static void AddName(IDictionary<string, string> variables, string prefix, X500DistinguishedName name)
    {
        foreach (var rdn in name.EnumerateRelativeDistinguishedNames())
        {
            if (rdn.HasMultipleElements)
            {
                continue;
            }

            var oid = rdn.GetSingleElementType().Value;
            var attribute = Array.Find(DistinguishedNameAttributes, a => a.Oid == oid).Name;
            if (attribute is not null && rdn.GetSingleElementValue() is { } value)
            {
                variables.TryAdd(prefix + attribute, value);
            }
        }
    }
}
