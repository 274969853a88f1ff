using System.Security.Cryptography.X509Certificates;
using Fleetkey.Core.Naming;
using Fleetkey.Services.Registry;
using Fleetkey.Services.Security;
using Microsoft.Extensions.DependencyInjection;

namespace Fleetkey.Testing;

/// <summary>A device certificate with its private key, as a TLS client presents it.</summary>
public sealed record TestDevice(string CertificateId, string ThingName, X509Certificate2 Certificate);

/// <summary>Devices made through the application's services: a key and certificate, a thing, a policy.</summary>
public static class TestDevices
{
    /// <summary>A policy document allowing every IoT action on every resource.</summary>
    public const string AllowEverything = """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}""";

    /// <summary>
    /// CreateKeysAndCertificate, a thing of that name with the certificate attached, and a policy of
    /// <paramref name="policyDocument"/> attached to the certificate.
    /// </summary>
    public static async Task<TestDevice> CreateDeviceAsync(this FleetkeyTestHost host, string thingName, string policyDocument = AllowEverything, bool active = true)
    {
        var services = host.Services;
        var scope = new IotScope(FleetkeyTestHost.Region, "123456789012");
        var (certificate, issued) = await services.GetRequiredService<CertificateService>().CreateKeysAndCertificateAsync(active, CancellationToken.None);
        var arn = Arn.For(scope, ResourceKind.Certificate, certificate.CertificateId);
        await services.GetRequiredService<ThingService>().CreateAsync(thingName, null, null, null, CancellationToken.None);
        await services.GetRequiredService<PrincipalService>().AttachAsync(scope, thingName, arn, null, CancellationToken.None);
        await services.GetRequiredService<PolicyService>().CreateAsync(thingName + "-policy", policyDocument, null, CancellationToken.None);
        await services.GetRequiredService<PolicyService>().AttachAsync(scope, thingName + "-policy", arn, CancellationToken.None);
        using var withKey = X509Certificate2.CreateFromPem(issued.CertificatePem, issued.PrivateKeyPem ?? throw new InvalidOperationException("no key"));

        // SslStream wants a certificate whose key it can use on every platform: round-trip through PKCS#12.
        return new TestDevice(certificate.CertificateId, thingName, X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null));
    }
}
