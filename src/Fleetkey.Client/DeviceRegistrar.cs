using System.Text.Json.Nodes;

namespace Fleetkey.Client;

/// <summary>
/// Registers and unregisters a device by its serial number, exactly as the seed's
/// <c>register-thing.js</c> does on the AWS JS SDK (programmatic provisioning from an internal
/// server): the thing is named after the serial number, so unregistering needs nothing else.
/// </summary>
/// <remarks>
/// The thing type, thing group and policy the template names (<c>NewDevice</c>, <c>NewDevices</c>
/// and <c>DefaultNewDevicePolicy</c> in the seed's template) must exist beforehand.
/// </remarks>
public sealed class DeviceRegistrar
{
    private readonly IIotClient _client;

    /// <summary>Creates a registrar that calls <paramref name="client"/>.</summary>
    /// <param name="client">The control-plane client.</param>
    /// <param name="options">The template to register with; the seed's when unset.</param>
    public DeviceRegistrar(IIotClient client, DeviceRegistrarOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        TemplateBody = options?.TemplateBody ?? SeedTemplateBody;
    }

    /// <summary>
    /// The seed's provisioning template (<c>register-thing-template-body.json</c>) as the seed sends
    /// it, <c>JSON.stringify</c>'d: a thing of type <c>NewDevice</c> named <c>ThingName</c> in group
    /// <c>NewDevices</c> with attribute <c>serialNumber</c>, the certificate <c>CertificateId</c>
    /// bound to it, and policy <c>DefaultNewDevicePolicy</c> attached to the certificate.
    /// </summary>
    public static string SeedTemplateBody { get; } = LoadSeedTemplate();

    /// <summary>The template this registrar sends to <c>RegisterThing</c>.</summary>
    public string TemplateBody { get; }

    /// <summary>
    /// The seed's <c>registerThing({ serialNumber })</c>: <c>CreateKeysAndCertificate</c> with
    /// <c>setAsActive</c>, then <c>RegisterThing</c> with the template and the parameters
    /// <c>ThingName</c> = <c>SerialNumber</c> = <paramref name="serialNumber"/> and <c>CertificateId</c>.
    /// </summary>
    /// <returns>The certificate, its key pair (returned once: store the private key on the device) and the ARNs of what the template made.</returns>
    /// <exception cref="IotServiceException">An error answer, e.g. <see cref="ResourceRegistrationFailureException"/> when the thing type, group or policy is missing.</exception>
    public async Task<DeviceRegistration> RegisterThingAsync(string serialNumber, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(serialNumber);

        var keys = await _client.CreateKeysAndCertificateAsync(new CreateKeysAndCertificateRequest { SetAsActive = true }, cancellationToken).ConfigureAwait(false);
        var certificateId = Required(keys.CertificateId, "certificateId");
        var registered = await _client.RegisterThingAsync(
            new RegisterThingRequest
            {
                TemplateBody = TemplateBody,
                Parameters = new Dictionary<string, string>
                {
                    ["ThingName"] = serialNumber,
                    ["SerialNumber"] = serialNumber,
                    ["CertificateId"] = certificateId,
                },
            },
            cancellationToken).ConfigureAwait(false);

        return new DeviceRegistration(
            Required(keys.CertificateArn, "certificateArn"),
            certificateId,
            Required(keys.CertificatePem, "certificatePem"),
            Required(keys.KeyPair?.PrivateKey, "keyPair.PrivateKey"),
            Required(keys.KeyPair?.PublicKey, "keyPair.PublicKey"),
            registered.ResourceArns ?? new Dictionary<string, string>());
    }

    /// <summary>
    /// The seed's <c>unregisterThing({ serialNumber })</c>: lists the thing's principals; for each
    /// certificate, detaches it, sets it <c>INACTIVE</c> and deletes it with <c>forceDelete</c>; then
    /// deletes the thing. A thing (or certificate) that is already gone counts as deleted.
    /// </summary>
    /// <remarks>The seed reads one page of principals; this reads every page, which differs only for a thing with more principals than a page holds.</remarks>
    /// <returns><c>Deleted</c> (always <see langword="true"/>) and the principals the thing had; none when it was already gone.</returns>
    public async Task<DeviceUnregistration> UnregisterThingAsync(string serialNumber, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(serialNumber);

        var thingName = serialNumber;
        try
        {
            var principals = new List<string>();
            await foreach (var principal in _client.ListAllThingPrincipalsAsync(new ListThingPrincipalsRequest { ThingName = thingName }, cancellationToken).ConfigureAwait(false))
            {
                principals.Add(principal);
            }

            foreach (var certificateArn in principals)
            {
                var certificateId = certificateArn.Split('/')[^1];
                await _client.DetachThingPrincipalAsync(new DetachThingPrincipalRequest { ThingName = thingName, Principal = certificateArn }, cancellationToken).ConfigureAwait(false);
                await _client.UpdateCertificateAsync(new UpdateCertificateRequest { CertificateId = certificateId, NewStatus = CertificateStatus.Inactive }, cancellationToken).ConfigureAwait(false);
                await _client.DeleteCertificateAsync(new DeleteCertificateRequest { CertificateId = certificateId, ForceDelete = true }, cancellationToken).ConfigureAwait(false);
            }

            await _client.DeleteThingAsync(new DeleteThingRequest { ThingName = thingName }, cancellationToken).ConfigureAwait(false);
            return new DeviceUnregistration(true, principals);
        }
        catch (ResourceNotFoundException)
        {
            // Already deleted (the seed's catch of err.code === 'ResourceNotFoundException').
            return new DeviceUnregistration(true, []);
        }
    }

    private static string Required(string? value, string member) =>
        value ?? throw new IotServiceException("InvalidResponse", $"The service's answer has no {member}.", System.Net.HttpStatusCode.OK);

    private static string LoadSeedTemplate()
    {
        using var stream = typeof(DeviceRegistrar).Assembly.GetManifestResourceStream("Fleetkey.Client.register-thing-template-body.json")
            ?? throw new InvalidOperationException("The embedded seed template is missing.");
        return JsonNode.Parse(stream)!.ToJsonString();
    }
}

/// <summary>Options of <see cref="DeviceRegistrar"/>.</summary>
public sealed class DeviceRegistrarOptions
{
    /// <summary>The provisioning template (JSON) to register with; <see cref="DeviceRegistrar.SeedTemplateBody"/> when unset. It receives the parameters <c>ThingName</c>, <c>SerialNumber</c> and <c>CertificateId</c>.</summary>
    public string? TemplateBody { get; set; }
}

/// <summary>What <see cref="DeviceRegistrar.RegisterThingAsync"/> made: the seed's <c>registerThing</c> result.</summary>
/// <param name="CertificateArn">The new certificate's ARN.</param>
/// <param name="CertificateId">The new certificate's id.</param>
/// <param name="CertificatePem">The certificate, PEM.</param>
/// <param name="PrivateKey">The private key, PEM; the service keeps no copy. Never printed by <see cref="ToString"/>.</param>
/// <param name="PublicKey">The public key, PEM.</param>
/// <param name="ResourceArns">The ARNs of what the template made, by its logical resource names (<c>thing</c>, <c>certificate</c>, <c>policy</c>).</param>
public sealed record DeviceRegistration(
    string CertificateArn,
    string CertificateId,
    string CertificatePem,
    string PrivateKey,
    string PublicKey,
    IReadOnlyDictionary<string, string> ResourceArns)
{
    /// <summary>The record without its private key, for logs.</summary>
    public override string ToString() => $"DeviceRegistration {{ CertificateArn = {CertificateArn}, CertificateId = {CertificateId}, PrivateKey = *** }}";
}

/// <summary>What <see cref="DeviceRegistrar.UnregisterThingAsync"/> did: the seed's <c>unregisterThing</c> result.</summary>
/// <param name="Deleted">Always <see langword="true"/>: the thing is gone, now or before.</param>
/// <param name="ThingPrincipals">The principals (certificate ARNs) the thing had and that were deleted; empty when the thing was already gone.</param>
public sealed record DeviceUnregistration(bool Deleted, IReadOnlyList<string> ThingPrincipals);
